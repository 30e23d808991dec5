/*
 * libFuzzer target: the registry client's parsers of what a registry
 * answers (registry/response.h, registry/auth.h), each fed the whole
 * input: a manifest or index body (media type, then what a pull would
 * fetch, with and without a platform), a token server's answer, a
 * WWW-Authenticate header, and a Location and a Link header resolved
 * against an upload URL. Besides not crashing, what each accepts must be
 * safe to use: a token or media type without control characters (they
 * become headers), an http(s) URL whose origin equals itself.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "registry/auth.h"
#include "registry/response.h"

static const char base[] = "https://registry.example:5000/v2/r/x/blobs/"
			   "uploads/abc?_state=1";

static int no_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int count_ref(const struct cnai_oci_desc *d, int is_manifest,
		     void *payload)
{
	assert(memchr(d->media_type, '\0', sizeof(d->media_type)));
	assert(!strncmp(d->digest, "sha256:", 7));
	(*(size_t *)payload)++;
	return 0;
}

static void manifest(const char *s, size_t len)
{
	static const struct cnai_oci_platform amd64 = { "linux", "amd64", "" };
	char mt[160];
	json_t *doc;
	size_t n = 0;

	if (cnai_registry_manifest_media_type(mt, sizeof(mt), s, len,
					      CNAI_MEDIA_OCI_MANIFEST,
					      "manifest") < 0)
		return;
	assert(no_control(mt));
	if (!(doc = json_loadb(s, len, 0, NULL)))
		return;
	(void)cnai_registry_manifest_refs(doc, mt, NULL, count_ref, &n);
	cnai_error_clear();
	(void)cnai_registry_manifest_refs(doc, mt, &amd64, count_ref, &n);
	json_decref(doc);
}

static void urls(const char *s)
{
	char out[4096], link[4096];

	if (cnai_registry_url_resolve(out, sizeof(out), base, s, "digest="
				      "sha256:0") == 0) {
		assert(!strncmp(out, "http://", 7) ||
		       !strncmp(out, "https://", 8));
		assert(cnai_registry_origin_same(out, out));
	}
	cnai_error_clear();
	(void)cnai_registry_origin_same(s, base);
	if (cnai_registry_link_next(link, sizeof(link), s)) {
		assert(link[0]);
		(void)cnai_registry_url_resolve(out, sizeof(out), base, link,
						NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cnai_auth_challenge ch;
	char *s, *tok = NULL;

	if (!(s = malloc(size + 1)))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	manifest(s, size);
	cnai_error_clear();
	if (cnai_registry_token_parse(&tok, s, size, "realm") == 0) {
		assert(tok[0] && no_control(tok));
		free(tok);
	}
	cnai_error_clear();
	if (cnai_auth_challenge_parse(&ch, s) == 0)
		cnai_auth_challenge_release(&ch);
	cnai_error_clear();
	urls(s);
	cnai_error_clear();
	free(s);
	return 0;
}
