/*
 * libFuzzer target: the manifest and index validator (registry/oci.c,
 * cnai_oci_manifest_parse) that package pull, the docker-archive importer
 * and signature verification hold outside documents to. The first byte
 * picks the media type the document "came as"; the rest is the document.
 * Besides never crashing, leaking or reading out of bounds, a document it
 * accepts must be one the code after it can use: every descriptor parses
 * with cnai_oci_desc_parse() (what pull and the walkers call next) and the
 * lists are within their caps; otherwise the target aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/util/error.h"
#include "registry/oci.h"

static const char *const types[] = {
	NULL,
	"",
	CNAI_MEDIA_OCI_MANIFEST,
	CNAI_MEDIA_OCI_INDEX,
	CNAI_MEDIA_DOCKER_MANIFEST,
	CNAI_MEDIA_DOCKER_LIST,
	"application/json",
};

/* Each descriptor of doc[field] parses; at most `cap` of them. */
static void descriptors_parse(const json_t *doc, const char *field,
			      size_t cap)
{
	struct cnai_oci_desc d;
	const json_t *a = json_object_get(doc, field), *e;
	size_t i;

	if (json_array_size(a) > cap)
		abort();
	json_array_foreach(a, i, e)
		if (cnai_oci_desc_parse(&d, e) < 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cnai_oci_desc d;
	const json_t *v;
	json_t *doc = NULL;

	if (size < 1)
		return 0;
	if (cnai_oci_manifest_parse(&doc, data + 1, size - 1,
				    types[data[0] % (sizeof(types) /
						     sizeof(*types))],
				    "fuzz") == 0) {
		if (!json_is_object(doc))
			abort();
		if (json_object_get(doc, "manifests")) {
			if (json_object_get(doc, "layers") ||
			    json_object_get(doc, "config"))
				abort();
			descriptors_parse(doc, "manifests",
					  CNAI_OCI_MAX_MANIFESTS);
		} else {
			if (cnai_oci_desc_parse(&d, json_object_get(doc,
								    "config")) <
			    0)
				abort();
			descriptors_parse(doc, "layers", CNAI_OCI_MAX_LAYERS);
		}
		if ((v = json_object_get(doc, "subject")) &&
		    cnai_oci_desc_parse(&d, v) < 0)
			abort();
	} else if (doc) {
		abort(); /* refused, yet a document handed out */
	}
	json_decref(doc);
	cnai_error_clear();
	return 0;
}
