/*
 * Reference enumeration for fsck and gc. Database references come from
 * one UNION query (add new digest-holding tables to it); OCI references by
 * following index.json into manifests and nested indexes.
 */
#include "core/store/refs.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/store/blobs.h"
#include "core/util/fs.h"
#include "core/store/store_impl.h"
#include "core/util/banned.h"

/* Manifests and indexes are small; a larger "manifest" is not one. */
enum { MANIFEST_LIMIT = 4 * 1024 * 1024, MAX_NESTING = 8 };

static const char db_refs_sql[] =
	"SELECT digest, 'artifact ' || name || ' of run ' || "
	"substr((SELECT uuid FROM runs WHERE id = run), 1, 12) FROM artifacts "
	"UNION ALL SELECT v.manifest, 'manifest of model ' || m.name || '@' || "
	"v.version FROM model_versions v JOIN models m ON m.id = v.model "
	"UNION ALL SELECT v.config, 'config of model ' || m.name || '@' || "
	"v.version FROM model_versions v JOIN models m ON m.id = v.model "
	"UNION ALL SELECT f.digest, 'file ' || f.path || ' of model ' || "
	"m.name || '@' || v.version FROM model_files f JOIN model_versions v "
	"ON v.id = f.version JOIN models m ON m.id = v.model "
	"UNION ALL SELECT ref, 'deployment ' || coalesce(name, '') FROM "
	"entities WHERE kind = 'deployment' "
	"UNION ALL SELECT ref, 'drift report ' || coalesce(name, '') FROM "
	"entities WHERE kind = 'drift_report'";

static int db_refs(struct cnai_store *st, cnai_ref_fn fn, void *payload)
{
	sqlite3_stmt *s = NULL;
	int err, rc;

	if ((err = cnai_db_prepare(&s, &st->db, db_refs_sql)) < 0)
		return err;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((err = fn((const char *)sqlite3_column_text(s, 0),
			      (const char *)sqlite3_column_text(s, 1),
			      payload)) < 0)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = cnai_db_error(&st->db, "reading references");
	sqlite3_finalize(s);
	return err;
}

static int walk_json(struct cnai_store *st, json_t *doc, const char *where,
		     cnai_ref_fn fn, void *payload, int depth);

/* Reports a descriptor's digest and follows it if it is a manifest. */
static int descriptor(struct cnai_store *st, json_t *desc, const char *where,
		      cnai_ref_fn fn, void *payload, int depth)
{
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	const char *mt = json_string_value(json_object_get(desc, "mediaType"));
	struct cnai_buf data = CNAI_BUF_INIT;
	json_t *doc;
	int err;

	if (!digest)
		return 0;
	if ((err = fn(digest, where, payload)) < 0)
		return err;
	if (!mt || !(strstr(mt, "manifest") || strstr(mt, "index")) ||
	    depth >= MAX_NESTING || !cnai_blob_exists(st, digest))
		return 0;
	if (cnai_blob_read(&data, st, digest, MANIFEST_LIMIT) < 0) {
		cnai_error_clear();
		cnai_buf_release(&data);
		return 0;
	}
	doc = json_loadb(data.buf, data.len, 0, NULL);
	cnai_buf_release(&data);
	if (!doc)
		return 0; /* fsck's re-hash reports a damaged blob */
	err = walk_json(st, doc, digest, fn, payload, depth + 1);
	json_decref(doc);
	return err;
}

static int walk_json(struct cnai_store *st, json_t *doc, const char *where,
		     cnai_ref_fn fn, void *payload, int depth)
{
	static const char *const arrays[] = { "manifests", "layers", "blobs" };
	json_t *v;
	size_t i, k;
	int err;

	if ((v = json_object_get(doc, "config")) &&
	    (err = descriptor(st, v, where, fn, payload, depth)) < 0)
		return err;
	if ((v = json_object_get(doc, "subject")) &&
	    (err = descriptor(st, v, where, fn, payload, depth)) < 0)
		return err;
	for (k = 0; k < sizeof(arrays) / sizeof(*arrays); k++) {
		json_t *a = json_object_get(doc, arrays[k]);

		json_array_foreach(a, i, v)
			if ((err = descriptor(st, v, where, fn, payload,
					      depth)) < 0)
				return err;
	}
	return 0;
}

static int oci_refs(struct cnai_store *st, cnai_ref_fn fn, void *payload)
{
	struct cnai_buf path = CNAI_BUF_INIT, data = CNAI_BUF_INIT;
	json_error_t jerr;
	json_t *index = NULL;
	int err;

	if (cnai_buf_addf(&path, "%s/index.json", st->oci) < 0)
		return cnai_buf_oom(&path);
	if ((err = cnai_fs_read_file(&data, path.buf, MANIFEST_LIMIT)) < 0)
		goto cleanup;
	if (!(index = json_loadb(data.buf, data.len, 0, &jerr))) {
		err = cnai_error_set(CNAI_EINVALID, "%s:%d: %s", path.buf,
				     jerr.line, jerr.text);
		goto cleanup;
	}
	err = walk_json(st, index, "oci index", fn, payload, 0);
cleanup:
	json_decref(index);
	cnai_buf_release(&path);
	cnai_buf_release(&data);
	return err;
}

int cnai_refs_foreach(struct cnai_store *st, cnai_ref_fn fn, void *payload)
{
	int err;

	if ((err = db_refs(st, fn, payload)) < 0)
		return err;
	return oci_refs(st, fn, payload);
}
