/*
 * OCI image layouts: blobs, canonical JSON documents, and index.json with
 * its tags. Everything is written through a temporary file, fsynced and
 * renamed; index.json is rewritten under an flock(2) on the file, taken
 * again when another writer renamed a new file in meanwhile.
 */
#include "registry/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

enum { COPY_CHUNK = 1 << 20, MAX_DEPTH = 8 };

static const char layout_file[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
static const char empty_index[] =
	"{\"schemaVersion\":2,"
	"\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	"\"manifests\":[]}";

static int oom(void)
{
	return cnai_error_set(CNAI_ERROR, "out of memory");
}

static int copy_str(char *dst, size_t cap, const char *src, const char *what)
{
	size_t n = strlen(src);

	if (n >= cap)
		return cnai_error_set(CNAI_EINVALID, "%s '%.40s...' is too "
				      "long", what, src);
	memcpy(dst, src, n + 1);
	return 0;
}

/* ---- layouts and blobs ---- */

int cnai_oci_layout_init(const char *dir)
{
	struct cnai_buf p = CNAI_BUF_INIT;
	int err;

	if (cnai_buf_addf(&p, "%s/blobs/sha256", dir) < 0)
		return cnai_buf_oom(&p);
	if ((err = cnai_fs_mkdir_p(p.buf, 0755)) < 0)
		goto cleanup;
	cnai_buf_reset(&p);
	cnai_buf_addf(&p, "%s/oci-layout", dir);
	if ((err = cnai_buf_oom(&p)) < 0)
		goto cleanup;
	if (!cnai_fs_exists(p.buf) &&
	    (err = cnai_fs_write_atomic(p.buf, layout_file,
					strlen(layout_file), 0644)) < 0)
		goto cleanup;
	cnai_buf_reset(&p);
	cnai_buf_addf(&p, "%s/index.json", dir);
	if ((err = cnai_buf_oom(&p)) < 0)
		goto cleanup;
	if (!cnai_fs_exists(p.buf))
		err = cnai_fs_write_atomic(p.buf, empty_index,
					   strlen(empty_index), 0644);
cleanup:
	cnai_buf_release(&p);
	return err;
}

int cnai_oci_blob_path(struct cnai_buf *out, const char *dir,
		       const char *digest)
{
	if (!cnai_digest_is_valid(digest))
		return cnai_error_set(CNAI_EINVALID, "'%s' is not a sha256 "
				      "digest", digest);
	if (cnai_buf_addf(out, "%s/blobs/sha256/%s", dir, digest + 7) < 0)
		return cnai_buf_oom(out);
	return 0;
}

int cnai_oci_blob_exists(const char *dir, const char *digest)
{
	struct cnai_buf p = CNAI_BUF_INIT;
	int found = 0;

	if (cnai_oci_blob_path(&p, dir, digest) < 0)
		cnai_error_clear();
	else
		found = cnai_fs_exists(p.buf);
	cnai_buf_release(&p);
	return found;
}

int cnai_oci_blob_open(struct cnai_oci_blob_writer *w, const char *dir)
{
	int err;

	w->fd = -1;
	cnai_buf_init(&w->tmp);
	cnai_buf_init(&w->dir);
	if (cnai_buf_addf(&w->dir, "%s/blobs/sha256", dir) < 0)
		return cnai_buf_oom(&w->dir);
	if ((err = cnai_fs_tmpfile(&w->tmp, &w->fd, w->dir.buf)) < 0) {
		cnai_buf_release(&w->dir);
		return err;
	}
	return 0;
}

void cnai_oci_blob_abort(struct cnai_oci_blob_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp.len)
		unlink(w->tmp.buf);
	cnai_buf_release(&w->tmp);
	cnai_buf_release(&w->dir);
}

int cnai_oci_blob_commit(struct cnai_oci_blob_writer *w, const char *digest)
{
	struct cnai_buf dst = CNAI_BUF_INIT;
	int err;

	if (!cnai_digest_is_valid(digest)) {
		err = cnai_error_set(CNAI_EINVALID, "'%s' is not a sha256 "
				     "digest", digest);
		goto cleanup;
	}
	if (cnai_buf_addf(&dst, "%s/%s", w->dir.buf, digest + 7) < 0) {
		err = cnai_buf_oom(&dst);
		goto cleanup;
	}
	if (cnai_fs_exists(dst.buf)) {
		err = 0; /* the same bytes are there: keep them */
		goto cleanup;
	}
	if (fchmod(w->fd, 0444) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "chmod '%s'",
					   w->tmp.buf);
		goto cleanup;
	}
	if ((err = cnai_fs_fsync_close_rename(&w->fd, w->tmp.buf,
					      dst.buf)) < 0)
		goto cleanup;
	cnai_buf_reset(&w->tmp);
	err = cnai_fs_fsync_dir(w->dir.buf);
cleanup:
	cnai_buf_release(&dst);
	cnai_oci_blob_abort(w);
	return err;
}

int cnai_oci_blob_put(char digest[CNAI_DIGEST_LEN], const char *dir,
		      const void *data, size_t len)
{
	struct cnai_oci_blob_writer w;
	int err;

	if ((err = cnai_sha256_buffer(digest, data, len)) < 0)
		return err;
	if (cnai_oci_blob_exists(dir, digest))
		return 0;
	if ((err = cnai_oci_blob_open(&w, dir)) < 0)
		return err;
	if ((err = cnai_fs_write_all(w.fd, data, len)) < 0) {
		cnai_oci_blob_abort(&w);
		return err;
	}
	return cnai_oci_blob_commit(&w, digest);
}

int cnai_oci_blob_read(struct cnai_buf *out, const char *dir,
		       const char *digest, size_t limit)
{
	struct cnai_buf p = CNAI_BUF_INIT;
	char got[CNAI_DIGEST_LEN];
	size_t start = out->len;
	int err;

	if ((err = cnai_oci_blob_path(&p, dir, digest)) < 0)
		goto cleanup;
	if (!cnai_fs_exists(p.buf)) {
		err = cnai_error_set(CNAI_ENOTFOUND, "blob '%s' is not in "
				     "'%s'", digest, dir);
		goto cleanup;
	}
	if ((err = cnai_fs_read_file(out, p.buf, limit)) < 0 ||
	    (err = cnai_sha256_buffer(got, out->buf + start,
				      out->len - start)) < 0)
		goto cleanup;
	if (strcmp(got, digest)) {
		cnai_buf_truncate(out, start);
		err = cnai_error_set(CNAI_ECHECK, "blob '%s' is corrupt: its "
				     "content hashes to '%s'", digest, got);
	}
cleanup:
	cnai_buf_release(&p);
	return err;
}

int cnai_oci_blob_verify(uint64_t *size_out, const char *dir,
			 const char *digest)
{
	struct cnai_buf p = CNAI_BUF_INIT;
	char got[CNAI_DIGEST_LEN];
	uint64_t size = 0;
	int err;

	if ((err = cnai_oci_blob_path(&p, dir, digest)) < 0)
		goto cleanup;
	if (!cnai_fs_exists(p.buf)) {
		err = cnai_error_set(CNAI_ENOTFOUND, "blob '%s' is not in "
				     "'%s'", digest, dir);
		goto cleanup;
	}
	if ((err = cnai_sha256_file(got, &size, p.buf)) < 0)
		goto cleanup;
	if (strcmp(got, digest))
		err = cnai_error_set(CNAI_ECHECK, "blob '%s' is corrupt: its "
				     "content hashes to '%s'", digest, got);
	else if (size_out)
		*size_out = size;
cleanup:
	cnai_buf_release(&p);
	return err;
}

int cnai_oci_layer_build(struct cnai_layer_info *out, const char *dir,
			 const struct cnai_layer_entry *entries, size_t n,
			 const struct cnai_layer_opts *opts)
{
	struct cnai_oci_blob_writer w;
	int err;

	if ((err = cnai_oci_blob_open(&w, dir)) < 0)
		return err;
	if ((err = cnai_layer_build(out, w.fd, entries, n, opts)) < 0) {
		cnai_oci_blob_abort(&w);
		return err;
	}
	return cnai_oci_blob_commit(&w, out->digest);
}

int cnai_oci_layer_raw(struct cnai_layer_info *out, const char *dir,
		       const char *src)
{
	struct cnai_oci_blob_writer w;
	int err;

	if ((err = cnai_oci_blob_open(&w, dir)) < 0)
		return err;
	if ((err = cnai_layer_raw(out, w.fd, src)) < 0) {
		cnai_oci_blob_abort(&w);
		return err;
	}
	return cnai_oci_blob_commit(&w, out->digest);
}

/* ---- JSON ---- */

static int dump_cb(const char *buffer, size_t size, void *data)
{
	return cnai_buf_add(data, buffer, size) < 0 ? -1 : 0;
}

int cnai_oci_json_canonical(struct cnai_buf *out, const json_t *doc)
{
	if (json_dump_callback(doc, dump_cb, out,
			       JSON_COMPACT | JSON_SORT_KEYS) < 0)
		return cnai_buf_oom(out) < 0 ? CNAI_ERROR :
			cnai_error_set(CNAI_ERROR, "cannot serialise JSON");
	return 0;
}

int cnai_oci_json_put(struct cnai_oci_desc *out, const char *dir,
		      const json_t *doc, const char *media_type)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	int err;

	if (!media_type)
		media_type = json_string_value(json_object_get(doc,
							       "mediaType"));
	if (!media_type)
		return cnai_error_set(CNAI_EINVALID, "JSON document has no "
				      "mediaType");
	if ((err = copy_str(out->media_type, sizeof(out->media_type),
			    media_type, "media type")) < 0 ||
	    (err = cnai_oci_json_canonical(&b, doc)) < 0 ||
	    (err = cnai_oci_blob_put(out->digest, dir, b.buf, b.len)) < 0)
		goto cleanup;
	out->size = b.len;
cleanup:
	cnai_buf_release(&b);
	return err;
}

int cnai_oci_json_read(json_t **out, const char *dir, const char *digest)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	json_error_t jerr;
	int err;

	if ((err = cnai_oci_blob_read(&b, dir, digest,
				      CNAI_OCI_MANIFEST_LIMIT)) < 0)
		goto cleanup;
	if (!(*out = json_loadb(b.buf, b.len, 0, &jerr)))
		err = cnai_error_set(CNAI_EINVALID, "blob '%s': line %d: %s",
				     digest, jerr.line, jerr.text);
cleanup:
	cnai_buf_release(&b);
	return err;
}

int cnai_oci_empty_put(struct cnai_oci_desc *out, const char *dir)
{
	int err;

	if ((err = cnai_oci_blob_put(out->digest, dir, "{}", 2)) < 0)
		return err;
	if (strcmp(out->digest, CNAI_OCI_EMPTY_DIGEST))
		CNAI_BUG("empty descriptor digest %s", out->digest);
	memcpy(out->media_type, CNAI_MEDIA_OCI_EMPTY,
	       sizeof(CNAI_MEDIA_OCI_EMPTY));
	out->size = 2;
	return 0;
}

json_t *cnai_oci_desc_json(const struct cnai_oci_desc *d)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type,
			 "digest", d->digest, "size", (json_int_t)d->size);
}

int cnai_oci_desc_parse(struct cnai_oci_desc *out, const json_t *j)
{
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	const char *dg = json_string_value(json_object_get(j, "digest"));
	json_t *sz = json_object_get(j, "size");

	if (!mt || !dg || !json_is_integer(sz))
		return cnai_error_set(CNAI_EINVALID, "descriptor without "
				      "mediaType, digest or size");
	if (json_integer_value(sz) < 0)
		return cnai_error_set(CNAI_EINVALID, "descriptor size %lld is "
				      "negative",
				      (long long)json_integer_value(sz));
	if (!cnai_digest_is_valid(dg))
		return cnai_error_set(CNAI_EINVALID, "descriptor digest '%s' "
				      "is not sha256", dg);
	memset(out, 0, sizeof(*out));
	if (copy_str(out->media_type, sizeof(out->media_type), mt,
		     "media type") < 0)
		return CNAI_EINVALID;
	memcpy(out->digest, dg, CNAI_DIGEST_LEN);
	out->size = (uint64_t)json_integer_value(sz);
	return 0;
}

int cnai_oci_annotate(json_t *doc, const char *key, const char *value)
{
	json_t *a = json_object_get(doc, "annotations");

	if (!a) {
		if (!(a = json_object()) ||
		    json_object_set_new(doc, "annotations", a) < 0)
			return oom();
	}
	if (json_object_set_new(a, key, json_string(value)) < 0)
		return cnai_error_set(CNAI_EINVALID, "annotation '%s': value "
				      "is not UTF-8", key);
	return 0;
}

void cnai_oci_time(char out[32], int64_t epoch)
{
	struct tm tm;
	time_t t = (time_t)epoch;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

int cnai_source_date_epoch(int64_t *out, int64_t fallback)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	*out = fallback;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return cnai_error_set(CNAI_EUSAGE, "SOURCE_DATE_EPOCH '%s' is "
				      "not a number of seconds", s);
	*out = v;
	return 0;
}

/* ---- configs ---- */

static json_t *str_array(const char *const *v)
{
	json_t *a = json_array();

	for (; a && v && *v; v++)
		if (json_array_append_new(a, json_string(*v)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int set_str(json_t *obj, const char *key, const char *v)
{
	if (!v)
		return 0;
	if (json_object_set_new(obj, key, json_string(v)) < 0)
		return cnai_error_set(CNAI_EINVALID, "config '%s': value is "
				      "not UTF-8", key);
	return 0;
}

static int set_list(json_t *obj, const char *key, const char *const *v)
{
	json_t *a;

	if (!v)
		return 0;
	if (!(a = str_array(v)) || json_object_set_new(obj, key, a) < 0)
		return cnai_error_set(CNAI_EINVALID, "config '%s': a value "
				      "is not UTF-8", key);
	return 0;
}

/* Env "K=V": replaces the entry of the same K. */
static int merge_env(json_t *cfg, const char *const *env)
{
	json_t *a = json_object_get(cfg, "Env");

	if (!env)
		return 0;
	if (!json_is_array(a)) {
		if (!(a = json_array()) ||
		    json_object_set_new(cfg, "Env", a) < 0)
			return oom();
	}
	for (; *env; env++) {
		const char *eq = strchr(*env, '=');
		size_t klen = eq ? (size_t)(eq - *env) : strlen(*env);
		size_t i;
		json_t *v, *s = json_string(*env);

		if (!s)
			return cnai_error_set(CNAI_EINVALID, "env '%s' is not "
					      "UTF-8", *env);
		json_array_foreach(a, i, v) {
			const char *old = json_string_value(v);

			if (old && !strncmp(old, *env, klen) &&
			    (old[klen] == '=' || !old[klen]))
				break;
		}
		if (i < json_array_size(a))
			json_array_set_new(a, i, s);
		else if (json_array_append_new(a, s) < 0)
			return oom();
	}
	return 0;
}

static int merge_labels(json_t *cfg, const char *const *labels)
{
	json_t *o = json_object_get(cfg, "Labels");

	if (!labels)
		return 0;
	if (!json_is_object(o)) {
		if (!(o = json_object()) ||
		    json_object_set_new(cfg, "Labels", o) < 0)
			return oom();
	}
	for (; *labels; labels++) {
		const char *eq = strchr(*labels, '=');
		char *k;
		int rc;

		if (!eq || eq == *labels)
			return cnai_error_set(CNAI_EINVALID, "label '%s': "
					      "expected KEY=VALUE", *labels);
		if (!(k = strndup(*labels, (size_t)(eq - *labels))))
			return oom();
		rc = json_object_set_new(o, k, json_string(eq + 1));
		free(k);
		if (rc < 0)
			return cnai_error_set(CNAI_EINVALID, "label '%s' is "
					      "not UTF-8", *labels);
	}
	return 0;
}

static int merge_ports(json_t *cfg, const char *const *ports)
{
	json_t *o = json_object_get(cfg, "ExposedPorts");
	char key[64];

	if (!ports)
		return 0;
	if (!json_is_object(o)) {
		if (!(o = json_object()) ||
		    json_object_set_new(cfg, "ExposedPorts", o) < 0)
			return oom();
	}
	for (; *ports; ports++) {
		const char *p = *ports;
		size_t digits = strspn(p, "0123456789");

		if (!digits || digits > 5 ||
		    (p[digits] && strcmp(p + digits, "/tcp") &&
		     strcmp(p + digits, "/udp") && strcmp(p + digits, "/sctp")))
			return cnai_error_set(CNAI_EINVALID, "port '%s': "
					      "expected PORT[/tcp|/udp]", p);
		snprintf(key, sizeof(key), "%s%s", p, p[digits] ? "" : "/tcp");
		if (json_object_set_new(o, key, json_object()) < 0)
			return oom();
	}
	return 0;
}

int cnai_oci_config_set(json_t *config, const struct cnai_oci_image_opts *o)
{
	json_t *cfg = json_object_get(config, "config");
	int err;

	if (!json_is_object(cfg)) {
		if (!(cfg = json_object()) ||
		    json_object_set_new(config, "config", cfg) < 0)
			return oom();
	}
	if ((err = set_str(config, "os", o->os)) < 0 ||
	    (err = set_str(config, "architecture", o->architecture)) < 0 ||
	    (err = set_str(config, "variant", o->variant)) < 0 ||
	    (err = set_str(config, "created", o->created)) < 0 ||
	    (err = set_str(config, "author", o->author)) < 0 ||
	    (err = set_list(cfg, "Entrypoint", o->entrypoint)) < 0 ||
	    (err = set_list(cfg, "Cmd", o->cmd)) < 0 ||
	    (err = merge_env(cfg, o->env)) < 0 ||
	    (err = set_str(cfg, "User", o->user)) < 0 ||
	    (err = set_str(cfg, "WorkingDir", o->working_dir)) < 0 ||
	    (err = merge_ports(cfg, o->exposed_ports)) < 0 ||
	    (err = merge_labels(cfg, o->labels)) < 0)
		return err;
	return 0;
}

int cnai_oci_config_new(json_t **out, const struct cnai_oci_image_opts *o)
{
	static const struct cnai_oci_image_opts none = { NULL };
	json_t *c;
	int err;

	if (!o)
		o = &none;
	c = json_pack("{s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}",
		      "architecture",
		      o->architecture ? o->architecture : "amd64",
		      "os", o->os ? o->os : "linux", "config", "rootfs",
		      "type", "layers", "diff_ids", "history");
	if (!c)
		return cnai_error_set(CNAI_EINVALID, "image config: os or "
				      "architecture is not UTF-8");
	if ((err = cnai_oci_config_set(c, o)) < 0) {
		json_decref(c);
		return err;
	}
	*out = c;
	return 0;
}

static int add_history(json_t *config, const char *created,
		       const char *created_by, const char *comment, int empty)
{
	json_t *h = json_object_get(config, "history"), *e;

	if (!created || !created_by)
		return cnai_error_set(CNAI_EINVALID, "history entry needs "
				      "created and created_by");
	if (!json_is_array(h)) {
		if (!(h = json_array()) ||
		    json_object_set_new(config, "history", h) < 0)
			return oom();
	}
	if (!(e = json_pack("{s:s, s:s}", "created", created, "created_by",
			    created_by)))
		return cnai_error_set(CNAI_EINVALID, "history entry is not "
				      "UTF-8");
	if ((comment && json_object_set_new(e, "comment",
					    json_string(comment)) < 0) ||
	    (empty && json_object_set_new(e, "empty_layer", json_true()) < 0) ||
	    json_array_append_new(h, e) < 0)
		return oom();
	return 0;
}

int cnai_oci_config_add_layer(json_t *config, const char *diff_id,
			      const char *created, const char *created_by,
			      const char *comment)
{
	json_t *rootfs = json_object_get(config, "rootfs"), *ids;

	if (!cnai_digest_is_valid(diff_id))
		return cnai_error_set(CNAI_EINVALID, "diff_id '%s' is not a "
				      "sha256 digest", diff_id);
	if (!json_is_object(rootfs)) {
		if (!(rootfs = json_pack("{s:s, s:[]}", "type", "layers",
					 "diff_ids")) ||
		    json_object_set_new(config, "rootfs", rootfs) < 0)
			return oom();
	}
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(ids)) {
		if (!(ids = json_array()) ||
		    json_object_set_new(rootfs, "diff_ids", ids) < 0)
			return oom();
	}
	if (json_array_append_new(ids, json_string(diff_id)) < 0)
		return oom();
	return add_history(config, created, created_by, comment, 0);
}

int cnai_oci_config_add_history(json_t *config, const char *created,
				const char *created_by, const char *comment)
{
	return add_history(config, created, created_by, comment, 1);
}

/* ---- manifests and indexes ---- */

int cnai_oci_manifest_new(json_t **out, const struct cnai_oci_desc *config,
			  const char *artifact_type)
{
	json_t *m = json_pack("{s:i, s:s, s:o, s:[]}", "schemaVersion", 2,
			      "mediaType", CNAI_MEDIA_OCI_MANIFEST, "config",
			      cnai_oci_desc_json(config), "layers");

	if (!m)
		return oom();
	if (artifact_type &&
	    json_object_set_new(m, "artifactType",
				json_string(artifact_type)) < 0) {
		json_decref(m);
		return cnai_error_set(CNAI_EINVALID, "artifact type is not "
				      "UTF-8");
	}
	*out = m;
	return 0;
}

int cnai_oci_manifest_add_layer(json_t *manifest,
				const struct cnai_oci_desc *layer,
				json_t *annotations)
{
	json_t *layers = json_object_get(manifest, "layers");
	json_t *d = cnai_oci_desc_json(layer);

	if (!d || !json_is_array(layers) ||
	    (annotations && json_object_set(d, "annotations",
					     annotations) < 0) ||
	    json_array_append_new(layers, d) < 0) {
		json_decref(annotations);
		return oom();
	}
	json_decref(annotations);
	return 0;
}

int cnai_oci_index_new(json_t **out)
{
	if (!(*out = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2,
			       "mediaType", CNAI_MEDIA_OCI_INDEX,
			       "manifests")))
		return oom();
	return 0;
}

static json_t *platform_json(const struct cnai_oci_platform *p)
{
	json_t *j = json_pack("{s:s, s:s}", "os", p->os, "architecture",
			      p->architecture);

	if (j && p->variant[0] &&
	    json_object_set_new(j, "variant", json_string(p->variant)) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int cnai_oci_index_add(json_t *index, const struct cnai_oci_desc *d,
		       const struct cnai_oci_platform *p, json_t *annotations)
{
	json_t *ms = json_object_get(index, "manifests");
	json_t *j = cnai_oci_desc_json(d);
	int bad = !j || !json_is_array(ms);

	if (!bad && p)
		bad = json_object_set_new(j, "platform", platform_json(p)) < 0;
	if (!bad && annotations)
		bad = json_object_set(j, "annotations", annotations) < 0;
	if (!bad)
		bad = json_array_append(ms, j) < 0;
	json_decref(j);
	json_decref(annotations);
	return bad ? oom() : 0;
}

int cnai_oci_platform_parse(struct cnai_oci_platform *out, const char *s)
{
	const char *a = strchr(s, '/'), *v;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!a)
		goto bad;
	v = strchr(a + 1, '/');
	n = (size_t)(a - s);
	if (!n || n >= sizeof(out->os))
		goto bad;
	memcpy(out->os, s, n);
	n = v ? (size_t)(v - a - 1) : strlen(a + 1);
	if (!n || n >= sizeof(out->architecture))
		goto bad;
	memcpy(out->architecture, a + 1, n);
	if (v) {
		n = strlen(v + 1);
		if (!n || n >= sizeof(out->variant) || strchr(v + 1, '/'))
			goto bad;
		memcpy(out->variant, v + 1, n);
	}
	return 0;
bad:
	return cnai_error_set(CNAI_EINVALID, "platform '%s': expected "
			      "OS/ARCH[/VARIANT], e.g. linux/amd64", s);
}

int cnai_oci_platform_match(const struct cnai_oci_platform *want,
			    const struct cnai_oci_platform *have)
{
	if (strcmp(want->os, have->os) ||
	    strcmp(want->architecture, have->architecture))
		return 0;
	if (!want->variant[0] || !strcmp(want->variant, have->variant))
		return 1;
	/* arm64's only variant is v8: an absent one means it */
	return !have->variant[0] && !strcmp(want->architecture, "arm64") &&
	       !strcmp(want->variant, "v8");
}

void cnai_oci_platform_read(struct cnai_oci_platform *out, const json_t *j)
{
	const char *os = json_string_value(json_object_get(j, "os"));
	const char *ar = json_string_value(json_object_get(j, "architecture"));
	const char *va = json_string_value(json_object_get(j, "variant"));

	memset(out, 0, sizeof(*out));
	snprintf(out->os, sizeof(out->os), "%s", os ? os : "");
	snprintf(out->architecture, sizeof(out->architecture), "%s",
		 ar ? ar : "");
	snprintf(out->variant, sizeof(out->variant), "%s", va ? va : "");
}

/* ---- index.json ---- */

static int index_path(struct cnai_buf *p, const char *dir)
{
	if (cnai_buf_addf(p, "%s/index.json", dir) < 0)
		return cnai_buf_oom(p);
	return 0;
}

static int parse_index(json_t **out, const struct cnai_buf *data,
		       const char *path)
{
	json_error_t jerr;

	if (!(*out = json_loadb(data->buf, data->len, 0, &jerr)))
		return cnai_error_set(CNAI_EINVALID, "%s:%d: %s", path,
				      jerr.line, jerr.text);
	if (!json_is_array(json_object_get(*out, "manifests"))) {
		json_decref(*out);
		*out = NULL;
		return cnai_error_set(CNAI_EINVALID, "%s: no \"manifests\" "
				      "array", path);
	}
	return 0;
}

int cnai_oci_index_read(json_t **out, const char *dir)
{
	struct cnai_buf p = CNAI_BUF_INIT, data = CNAI_BUF_INIT;
	int err;

	if ((err = index_path(&p, dir)) < 0)
		goto cleanup;
	if (!cnai_fs_exists(p.buf)) {
		err = cnai_error_set(CNAI_ENOTFOUND, "'%s' is not an OCI "
				     "image layout: no index.json", dir);
		goto cleanup;
	}
	if ((err = cnai_fs_read_file(&data, p.buf,
				     16 * CNAI_OCI_MANIFEST_LIMIT)) < 0)
		goto cleanup;
	err = parse_index(out, &data, p.buf);
cleanup:
	cnai_buf_release(&p);
	cnai_buf_release(&data);
	return err;
}

/*
 * Opens and locks index.json; retried when the file was replaced between
 * open and lock (the lock would then be on a file nobody reads).
 */
static int lock_index(int *fd_out, const char *path)
{
	struct stat a, b;
	int fd, tries;

	for (tries = 0; tries < 100; tries++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return cnai_error_set_errno(errno == ENOENT ?
						    CNAI_ENOTFOUND : CNAI_ERROR,
						    "cannot open '%s'", path);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				close(fd);
				return cnai_error_set_errno(CNAI_ERROR,
							    "cannot lock '%s'",
							    path);
			}
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			*fd_out = fd;
			return 0;
		}
		close(fd);
	}
	return cnai_error_set(CNAI_ERROR, "cannot lock '%s': it keeps "
			      "changing", path);
}

typedef int (*index_edit_fn)(json_t *manifests, void *payload);

static int edit_index(const char *dir, index_edit_fn fn, void *payload)
{
	struct cnai_buf p = CNAI_BUF_INIT, data = CNAI_BUF_INIT;
	struct cnai_buf out = CNAI_BUF_INIT;
	json_t *index = NULL;
	int fd = -1, err;

	if ((err = index_path(&p, dir)) < 0 ||
	    (err = lock_index(&fd, p.buf)) < 0 ||
	    (err = cnai_fs_read_file(&data, p.buf,
				     16 * CNAI_OCI_MANIFEST_LIMIT)) < 0 ||
	    (err = parse_index(&index, &data, p.buf)) < 0)
		goto cleanup;
	if ((err = fn(json_object_get(index, "manifests"), payload)) != 0) {
		if (err > 0) /* nothing to change */
			err = 0;
		goto cleanup;
	}
	if ((err = cnai_oci_json_canonical(&out, index)) < 0)
		goto cleanup;
	err = cnai_fs_write_atomic(p.buf, out.buf, out.len, 0644);
cleanup:
	if (fd >= 0)
		close(fd); /* releases the lock, after the rename */
	json_decref(index);
	cnai_buf_release(&p);
	cnai_buf_release(&data);
	cnai_buf_release(&out);
	return err;
}

static const char *tag_of(const json_t *entry)
{
	return json_string_value(json_object_get(
		json_object_get(entry, "annotations"), CNAI_OCI_REF_NAME));
}

struct tag_edit {
	const char *tag;
	const struct cnai_oci_desc *d;
	const struct cnai_oci_platform *p;
	int found;
};

static int tag_fn(json_t *ms, void *payload)
{
	struct tag_edit *t = payload;
	json_t *e, *j;
	size_t i;

	/* Drop the tag's old entry and untagged entries of this digest. */
	for (i = json_array_size(ms); i-- > 0;) {
		const char *tg, *dg;

		e = json_array_get(ms, i);
		tg = tag_of(e);
		dg = json_string_value(json_object_get(e, "digest"));
		if ((tg && !strcmp(tg, t->tag)) ||
		    (!tg && dg && !strcmp(dg, t->d->digest)))
			json_array_remove(ms, i);
	}
	if (!(j = cnai_oci_desc_json(t->d)))
		return oom();
	if ((t->p && json_object_set_new(j, "platform",
					 platform_json(t->p)) < 0) ||
	    cnai_oci_annotate(j, CNAI_OCI_REF_NAME, t->tag) < 0 ||
	    json_array_append_new(ms, j) < 0)
		return oom();
	return 0;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/*
 * image-spec's ref.name grammar (image-layout.md): components separated by
 * "/", each alphanumerics joined by one of - . _ : @ + (or "--"). Wider
 * than a registry tag on purpose: "digits:3" and "registry/team/x:1" are
 * valid names in a layout, as skopeo's oci:DIR:NAME expects.
 */
static int valid_tag(const char *tag)
{
	size_t i, n = strlen(tag);

	if (!n || n > 255 || !is_alnum(tag[0]) || !is_alnum(tag[n - 1]))
		return 0;
	for (i = 1; i < n; i++) {
		char c = tag[i], prev = tag[i - 1];

		if (is_alnum(c))
			continue;
		if (!strchr("-._:@+/", c))
			return 0;
		/* a separator follows an alphanumeric, except "--" */
		if (!is_alnum(prev) && !(c == '-' && prev == '-' &&
					 i >= 2 && is_alnum(tag[i - 2])))
			return 0;
	}
	return 1;
}

int cnai_oci_tag_check(const char *tag)
{
	if (!valid_tag(tag))
		return cnai_error_set(CNAI_EINVALID, "tag '%s': expected "
				      "alphanumerics joined by - . _ : @ + or "
				      "/ (image-spec ref.name), at most 255",
				      tag);
	return 0;
}

int cnai_oci_tag(const char *dir, const char *tag,
		 const struct cnai_oci_desc *d,
		 const struct cnai_oci_platform *p)
{
	struct tag_edit t = { tag, d, p, 0 };
	int err;

	if ((err = cnai_oci_tag_check(tag)) < 0)
		return err;
	if (!cnai_digest_is_valid(d->digest))
		return cnai_error_set(CNAI_EINVALID, "'%s' is not a sha256 "
				      "digest", d->digest);
	return edit_index(dir, tag_fn, &t);
}

static int put_fn(json_t *ms, void *payload)
{
	const struct cnai_oci_desc *d = payload;
	json_t *e;
	size_t i;

	json_array_foreach(ms, i, e) {
		const char *dg = json_string_value(json_object_get(e,
								   "digest"));

		if (dg && !strcmp(dg, d->digest))
			return 1;
	}
	if (json_array_append_new(ms, cnai_oci_desc_json(d)) < 0)
		return oom();
	return 0;
}

int cnai_oci_index_put(const char *dir, const struct cnai_oci_desc *d)
{
	return edit_index(dir, put_fn, (void *)d);
}

static int untag_fn(json_t *ms, void *payload)
{
	struct tag_edit *t = payload;
	size_t i;

	for (i = json_array_size(ms); i-- > 0;) {
		const char *tg = tag_of(json_array_get(ms, i));

		if (tg && !strcmp(tg, t->tag)) {
			json_array_remove(ms, i);
			t->found = 1;
		}
	}
	return t->found ? 0 : 1;
}

int cnai_oci_untag(const char *dir, const char *tag)
{
	struct tag_edit t = { tag, NULL, NULL, 0 };
	int err = edit_index(dir, untag_fn, &t);

	if (!err && !t.found)
		return cnai_error_set(CNAI_ENOTFOUND, "no tag '%s' in '%s'",
				      tag, dir);
	return err;
}

int cnai_oci_resolve(struct cnai_oci_desc *out, const char *dir,
		     const char *ref)
{
	json_t *index = NULL, *doc = NULL, *e;
	int is_digest = !strncmp(ref, "sha256:", 7), err;
	size_t i;

	if (is_digest && !cnai_digest_is_valid(ref))
		return cnai_error_set(CNAI_EINVALID, "'%s' is not a sha256 "
				      "digest", ref);
	if ((err = cnai_oci_index_read(&index, dir)) < 0)
		return err;
	json_array_foreach(json_object_get(index, "manifests"), i, e) {
		const char *key = is_digest ?
			json_string_value(json_object_get(e, "digest")) :
			tag_of(e);

		if (key && !strcmp(key, ref)) {
			err = cnai_oci_desc_parse(out, e);
			goto cleanup;
		}
	}
	if (!is_digest || !cnai_oci_blob_exists(dir, ref)) {
		err = cnai_error_set(CNAI_ENOTFOUND, "no image '%s' in '%s'",
				     ref, dir);
		goto cleanup;
	}
	{
		const char *mt;

		if ((err = cnai_oci_json_read(&doc, dir, ref)) < 0)
			goto cleanup;
		mt = json_string_value(json_object_get(doc, "mediaType"));
		if (!mt) {
			err = cnai_error_set(CNAI_EINVALID, "blob '%s' is not "
					     "a manifest: no mediaType", ref);
			goto cleanup;
		}
		memset(out, 0, sizeof(*out));
		if ((err = copy_str(out->media_type, sizeof(out->media_type),
				    mt, "media type")) < 0 ||
		    (err = cnai_oci_blob_verify(&out->size, dir, ref)) < 0)
			goto cleanup;
		memcpy(out->digest, ref, CNAI_DIGEST_LEN);
	}
cleanup:
	json_decref(index);
	json_decref(doc);
	return err;
}

static int is_index_type(const char *mt)
{
	return !strcmp(mt, CNAI_MEDIA_OCI_INDEX) ||
	       !strcmp(mt, CNAI_MEDIA_DOCKER_LIST);
}

static int resolve_platform(struct cnai_oci_desc *out, const char *dir,
			    const struct cnai_oci_desc *in,
			    const struct cnai_oci_platform *want, int depth,
			    struct cnai_buf *seen)
{
	json_t *doc = NULL, *e;
	size_t i;
	int err;

	if (!is_index_type(in->media_type)) {
		*out = *in;
		return 0;
	}
	if (depth > MAX_DEPTH)
		return cnai_error_set(CNAI_EINVALID, "index '%s' nests too "
				      "deep", in->digest);
	if ((err = cnai_oci_json_read(&doc, dir, in->digest)) < 0)
		return err;
	err = 1;
	json_array_foreach(json_object_get(doc, "manifests"), i, e) {
		struct cnai_oci_platform have;
		struct cnai_oci_desc d;
		json_t *pj = json_object_get(e, "platform");

		if ((err = cnai_oci_desc_parse(&d, e)) < 0)
			goto cleanup;
		if (is_index_type(d.media_type)) {
			err = resolve_platform(out, dir, &d, want, depth + 1,
					       seen);
			if (err != CNAI_ENOTFOUND)
				goto cleanup;
			cnai_error_clear();
			continue;
		}
		if (!pj)
			continue;
		cnai_oci_platform_read(&have, pj);
		cnai_buf_addf(seen, "%s%s/%s%s%s", seen->len ? ", " : "",
			      have.os, have.architecture,
			      have.variant[0] ? "/" : "", have.variant);
		if (cnai_oci_platform_match(want, &have)) {
			*out = d;
			err = 0;
			goto cleanup;
		}
	}
	err = CNAI_ENOTFOUND;
cleanup:
	json_decref(doc);
	return err;
}

int cnai_oci_resolve_platform(struct cnai_oci_desc *out, const char *dir,
			      const struct cnai_oci_desc *in,
			      const struct cnai_oci_platform *want)
{
	static const struct cnai_oci_platform amd64 = { "linux", "amd64", "" };
	struct cnai_buf seen = CNAI_BUF_INIT;
	int err;

	if (!want)
		want = &amd64;
	err = resolve_platform(out, dir, in, want, 0, &seen);
	if (err == CNAI_ENOTFOUND)
		err = cnai_error_set(CNAI_ENOTFOUND, "index '%s' has no "
				     "image for %s/%s%s%s (it has: %s)",
				     in->digest, want->os, want->architecture,
				     want->variant[0] ? "/" : "", want->variant,
				     seen.len ? seen.buf : "none");
	cnai_buf_release(&seen);
	return err;
}

static int walk(const char *dir, const struct cnai_oci_desc *d,
		cnai_oci_blob_fn fn, void *payload, int depth)
{
	static const char *const arrays[] = { "manifests", "layers" };
	struct cnai_oci_desc c;
	json_t *doc = NULL, *e;
	size_t i, k;
	int err;

	if (depth > MAX_DEPTH)
		return cnai_error_set(CNAI_EINVALID, "'%s' nests too deep",
				      d->digest);
	if ((err = cnai_oci_json_read(&doc, dir, d->digest)) < 0)
		return err;
	if ((e = json_object_get(doc, "config"))) {
		if ((err = cnai_oci_desc_parse(&c, e)) < 0 ||
		    (err = fn(&c, 0, payload)) < 0)
			goto cleanup;
	}
	for (k = 0; k < 2; k++) {
		json_array_foreach(json_object_get(doc, arrays[k]), i, e) {
			if ((err = cnai_oci_desc_parse(&c, e)) < 0)
				goto cleanup;
			if (k == 0)
				err = walk(dir, &c, fn, payload, depth + 1);
			else
				err = fn(&c, 0, payload);
			if (err < 0)
				goto cleanup;
		}
	}
	err = fn(d, 1, payload);
cleanup:
	json_decref(doc);
	return err;
}

int cnai_oci_walk(const char *dir, const struct cnai_oci_desc *root,
		  cnai_oci_blob_fn fn, void *payload)
{
	return walk(dir, root, fn, payload, 0);
}

const char *cnai_oci_media_type_oci(const char *mt)
{
	static const char *const map[][2] = {
		{ CNAI_MEDIA_DOCKER_MANIFEST, CNAI_MEDIA_OCI_MANIFEST },
		{ CNAI_MEDIA_DOCKER_LIST, CNAI_MEDIA_OCI_INDEX },
		{ CNAI_MEDIA_DOCKER_CONFIG, CNAI_MEDIA_OCI_CONFIG },
		{ CNAI_MEDIA_DOCKER_LAYER_GZIP, CNAI_MEDIA_LAYER_GZIP },
		{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
		  "application/vnd.oci.image.layer.nondistributable.v1.tar+"
		  "gzip" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (!strcmp(mt, map[i][0]))
			return map[i][1];
	return mt;
}

/* ---- manifests and indexes from outside ---- */

/* RFC 6838 restricted-name: an alphanumeric, then up to 126 of these. */
static size_t media_name_len(const char *s)
{
	size_t n;

	if (!is_alnum(*s))
		return 0;
	for (n = 1; n < 127 && s[n] &&
		    (is_alnum(s[n]) || strchr("!#$&-^_.+", s[n]));
	     n++)
		;
	return n;
}

/* "type/subtype", nothing more (no parameters). */
static int media_type_ok(const char *mt)
{
	size_t n = media_name_len(mt), m;

	if (!n || mt[n] != '/')
		return 0;
	m = media_name_len(mt + n + 1);
	return m && !mt[n + 1 + m] &&
	       n + 1 + m < sizeof(((struct cnai_oci_desc *)0)->media_type);
}

static int check_desc(const json_t *d, const char *name, const char *field,
		      size_t i, int indexed)
{
	const char *mt = json_string_value(json_object_get(d, "mediaType"));
	const char *dg = json_string_value(json_object_get(d, "digest"));
	const json_t *sz = json_object_get(d, "size");
	char at[64];

	if (indexed)
		snprintf(at, sizeof(at), "%s[%zu]", field, i);
	else
		snprintf(at, sizeof(at), "%s", field);
	if (!json_is_object(d))
		return cnai_error_set(CNAI_EINVALID, "%s: %s is not a "
				      "descriptor", name, at);
	if (!mt || !media_type_ok(mt))
		return cnai_error_set(CNAI_EINVALID, "%s: %s: media type "
				      "'%.200s' is not type/subtype", name, at,
				      mt ? mt : "");
	if (!dg || !cnai_digest_is_valid(dg))
		return cnai_error_set(CNAI_EINVALID, "%s: %s: digest '%.200s' "
				      "is not sha256:<64 hex digits>", name, at,
				      dg ? dg : "");
	if (!json_is_integer(sz))
		return cnai_error_set(CNAI_EINVALID, "%s: %s: no integer "
				      "size", name, at);
	if (json_integer_value(sz) < 0)
		return cnai_error_set(CNAI_EINVALID, "%s: %s: size %lld is "
				      "negative", name, at,
				      (long long)json_integer_value(sz));
	return 0;
}

/* Each descriptor of doc[field], an array of at most `cap`; `need` the
 * fewest it may hold. */
static int check_list(const json_t *doc, const char *name, const char *field,
		      size_t need, size_t cap)
{
	const json_t *a = json_object_get(doc, field), *e;
	size_t i;
	int err;

	if (!json_is_array(a))
		return cnai_error_set(CNAI_EINVALID, "%s: no \"%s\" array",
				      name, field);
	if (json_array_size(a) > cap)
		return cnai_error_set(CNAI_EINVALID, "%s: lists %zu %s, more "
				      "than %zu", name, json_array_size(a),
				      field, cap);
	if (json_array_size(a) < need)
		return cnai_error_set(CNAI_EINVALID, "%s: an image needs at "
				      "least one of \"%s\"", name, field);
	json_array_foreach(a, i, e)
		if ((err = check_desc(e, name, field, i, 1)) < 0)
			return err;
	return 0;
}

/* Whether a manifest is an image's (not an artifact's): no artifactType,
 * and an image config. */
static int is_image(const json_t *doc)
{
	const char *cmt = json_string_value(json_object_get(
		json_object_get(doc, "config"), "mediaType"));

	return !json_object_get(doc, "artifactType") && cmt &&
	       !strcmp(cnai_oci_media_type_oci(cmt), CNAI_MEDIA_OCI_CONFIG);
}

int cnai_oci_manifest_check(const json_t *doc, const char *media_type,
			    const char *name)
{
	const char *mt = json_string_value(json_object_get(doc, "mediaType"));
	const json_t *v, *sv = json_object_get(doc, "schemaVersion");
	int err, index;

	if (!json_is_object(doc))
		return cnai_error_set(CNAI_EINVALID, "%s is not a JSON object",
				      name);
	if (json_object_get(doc, "mediaType") && !mt)
		return cnai_error_set(CNAI_EINVALID, "%s: \"mediaType\" is "
				      "not a string", name);
	if (mt && media_type && *media_type &&
	    strcmp(cnai_oci_media_type_oci(mt),
		   cnai_oci_media_type_oci(media_type)))
		return cnai_error_set(CNAI_EINVALID, "%s says it is '%.200s' "
				      "but came as '%.200s'", name, mt,
				      media_type);
	if (!mt && media_type && *media_type)
		mt = media_type;
	if (mt) {
		mt = cnai_oci_media_type_oci(mt);
		if (strcmp(mt, CNAI_MEDIA_OCI_MANIFEST) &&
		    strcmp(mt, CNAI_MEDIA_OCI_INDEX))
			return cnai_error_set(CNAI_EINVALID, "%s: media type "
					      "'%.200s' is not an image "
					      "manifest or index", name, mt);
		index = !strcmp(mt, CNAI_MEDIA_OCI_INDEX);
	} else {
		index = json_object_get(doc, "manifests") != NULL;
	}
	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		return cnai_error_set(CNAI_EINVALID, "%s: \"schemaVersion\" is "
				      "not 2", name);
	if ((v = json_object_get(doc, "artifactType")) &&
	    (!json_is_string(v) || !media_type_ok(json_string_value(v))))
		return cnai_error_set(CNAI_EINVALID, "%s: \"artifactType\" is "
				      "not type/subtype", name);
	if ((v = json_object_get(doc, "subject")) &&
	    (err = check_desc(v, name, "subject", 0, 0)) < 0)
		return err;
	if (index) {
		/* A walker that follows both arrays must not find layers. */
		if (json_object_get(doc, "config") ||
		    json_object_get(doc, "layers"))
			return cnai_error_set(CNAI_EINVALID, "%s: an index "
					      "with \"config\" or \"layers\"",
					      name);
		return check_list(doc, name, "manifests", 0,
				  CNAI_OCI_MAX_MANIFESTS);
	}
	if (json_object_get(doc, "manifests"))
		return cnai_error_set(CNAI_EINVALID, "%s: a manifest with "
				      "\"manifests\"", name);
	if (!(v = json_object_get(doc, "config")))
		return cnai_error_set(CNAI_EINVALID, "%s: no \"config\"", name);
	if ((err = check_desc(v, name, "config", 0, 0)) < 0)
		return err;
	return check_list(doc, name, "layers", is_image(doc) ? 1 : 0,
			  CNAI_OCI_MAX_LAYERS);
}

int cnai_oci_manifest_parse(json_t **out, const void *data, size_t len,
			    const char *media_type, const char *name)
{
	json_error_t jerr;
	json_t *doc;
	int err;

	if (out)
		*out = NULL;
	if (len > CNAI_OCI_MANIFEST_LIMIT)
		return cnai_error_set(CNAI_EINVALID, "%s is over 4 MiB", name);
	if (!(doc = json_loadb(data, len, 0, &jerr)))
		return cnai_error_set(CNAI_EINVALID, "%s is not JSON: %s", name,
				      jerr.text);
	if ((err = cnai_oci_manifest_check(doc, media_type, name)) < 0 ||
	    !out)
		json_decref(doc);
	else
		*out = doc;
	return err;
}

struct copy_ctx {
	const char *dst, *src;
};

static int copy_blob(const struct cnai_oci_desc *d, int is_manifest,
		     void *payload)
{
	struct copy_ctx *c = payload;
	struct cnai_buf from = CNAI_BUF_INIT, to = CNAI_BUF_INIT;
	struct cnai_oci_blob_writer w;
	struct cnai_layer_info li;
	int err;

	if (cnai_oci_blob_exists(c->dst, d->digest))
		return 0;
	if ((err = cnai_oci_blob_path(&from, c->src, d->digest)) < 0 ||
	    (err = cnai_oci_blob_path(&to, c->dst, d->digest)) < 0)
		goto cleanup;
	if (!cnai_fs_exists(from.buf)) {
		err = cnai_error_set(CNAI_ENOTFOUND, "blob '%s' is not in "
				     "'%s'", d->digest, c->src);
		goto cleanup;
	}
	/* a link shares the bytes; the source layout vouches for them */
	if (link(from.buf, to.buf) == 0 || errno == EEXIST)
		goto cleanup;
	if ((err = cnai_oci_blob_open(&w, c->dst)) < 0)
		goto cleanup;
	if ((err = cnai_layer_raw(&li, w.fd, from.buf)) < 0) {
		cnai_oci_blob_abort(&w);
		goto cleanup;
	}
	if (strcmp(li.digest, d->digest) || li.size != d->size) {
		cnai_oci_blob_abort(&w);
		err = cnai_error_set(CNAI_ECHECK, "blob '%s' in '%s' is "
				     "corrupt: its content hashes to '%s'",
				     d->digest, c->src, li.digest);
		goto cleanup;
	}
	err = cnai_oci_blob_commit(&w, d->digest);
cleanup:
	cnai_buf_release(&from);
	cnai_buf_release(&to);
	return err;
}

int cnai_oci_copy_image(const char *dst, const char *src,
			const struct cnai_oci_desc *root, const char *tag)
{
	struct copy_ctx c = { dst, src };
	int err;

	if ((err = cnai_oci_layout_init(dst)) < 0 ||
	    (err = cnai_oci_walk(src, root, copy_blob, &c)) < 0)
		return err;
	return tag ? cnai_oci_tag(dst, tag, root, NULL) :
		     cnai_oci_index_put(dst, root);
}
