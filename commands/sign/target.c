/*
 * Signature storage: the store's OCI layout, or a registry through
 * registry/distribution (blobs go through a scratch layout, because the
 * client moves blobs between a layout and a registry). A reference names
 * the store when it has no "/" or is a tag there; otherwise a registry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands/sign/target.h"
#include "cli/output.h"
#include "core/store/store.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "registry/distribution.h"
#include "core/util/banned.h"

/*
 * A registry target: the client, and a scratch layout the client moves
 * blobs through (its push and pull work between a layout and a registry).
 */
struct remote {
	struct cnai_registry *client;
	char scratch[64];
};

static int remote_open(struct sign_target *t, const char *ref, int insecure)
{
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_buf body = CNAI_BUF_INIT;
	struct cnai_reference r;
	struct remote *rm;
	int err;

	if ((err = cnai_reference_parse(&r, ref)) < 0)
		return err;
	if (!(rm = calloc(1, sizeof(*rm))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	t->remote = rm;
	snprintf(rm->scratch, sizeof(rm->scratch), "/tmp/cnai-sign.XXXXXX");
	if (!mkdtemp(rm->scratch)) {
		rm->scratch[0] = '\0';
		return cnai_error_set_errno(CNAI_ERROR, "temporary folder");
	}
	t->dir = rm->scratch;
	if ((err = cnai_oci_layout_init(rm->scratch)) < 0)
		return err;
	o.insecure = insecure;
	if ((err = cnai_registry_open(&rm->client, &r, &o, 1)) < 0)
		return err;
	snprintf(t->repo, sizeof(t->repo), "%s/%s", r.registry, r.repository);
	snprintf(t->tag, sizeof(t->tag), "%s", r.tag);
	/* Resolve a tag once; from here on only the digest is used. */
	err = cnai_registry_manifest_get(rm->client, r.digest[0] ? r.digest
								  : r.tag,
					 &body, &t->image);
	cnai_buf_release(&body);
	return err;
}

static void remove_tree(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };
	pid_t pid;

	if (!dir[0] || strncmp(dir, "/tmp/cnai-sign.", 15))
		return;
	if ((pid = fork()) == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* Splits "repo:tag@digest" into repo and tag (either part optional). */
static void split_ref(struct sign_target *t, const char *ref)
{
	const char *at = strchr(ref, '@'), *slash, *colon;
	size_t n = at ? (size_t)(at - ref) : strlen(ref);

	snprintf(t->repo, sizeof(t->repo), "%.*s", (int)n, ref);
	slash = strrchr(t->repo, '/');
	colon = strrchr(t->repo, ':');
	t->tag[0] = '\0';
	if (colon && (!slash || colon > slash)) {
		snprintf(t->tag, sizeof(t->tag), "%s", colon + 1);
		t->repo[colon - t->repo] = '\0';
	}
}

int sign_target_open(struct sign_target *t, struct cnai_ctx *ctx,
		     const char *ref, int insecure)
{
	int err;

	(void)insecure;
	memset(t, 0, sizeof(*t));
	snprintf(t->ref, sizeof(t->ref), "%s", ref);
	split_ref(t, ref);
	if (ctx->store && !strchr(ref, '/')) {
		t->dir = cnai_store_oci(ctx->store);
		err = cnai_oci_resolve(&t->image, t->dir, ref);
		if (err == 0) {
			if (!t->repo[0] || !strncmp(ref, "sha256:", 7))
				return cnai_error_set(
					CNAI_EUSAGE,
					"'%s' names no repository to sign for; "
					"use its tag (NAME:TAG)", ref);
			return 0;
		}
		if (err != CNAI_ENOTFOUND)
			return err;
	}
	if (ctx->store &&
	    cnai_oci_resolve(&t->image, cnai_store_oci(ctx->store), ref) == 0) {
		t->dir = cnai_store_oci(ctx->store);
		return 0;
	}
	cnai_error_clear();
	if (!strchr(ref, '/'))
		return cnai_error_set(CNAI_ENOTFOUND,
				      "image '%s' not found in the store%s",
				      ref, ctx->store ? "" : " (no store here)");
	return remote_open(t, ref, insecure);
}

void sign_target_close(struct sign_target *t)
{
	struct remote *rm = t->remote;

	if (!rm)
		return;
	cnai_registry_free(rm->client);
	remove_tree(rm->scratch);
	free(rm);
	t->remote = NULL;
}

void sign_target_attachment_tag(char out[80], const struct sign_target *t,
				const char *suffix)
{
	snprintf(out, 80, "sha256-%.64s.%s", t->image.digest + 7, suffix);
}

int sign_target_get_tag(json_t **doc, struct cnai_oci_desc *d,
			struct sign_target *t, const char *tag)
{
	int err;

	*doc = NULL;
	if (t->remote) {
		struct remote *rm = t->remote;
		struct cnai_buf body = CNAI_BUF_INIT;
		json_error_t jerr;

		if ((err = cnai_registry_manifest_get(rm->client, tag, &body,
						      d)) == 0 &&
		    !(*doc = json_loadb(body.buf, body.len, 0, &jerr)))
			err = cnai_error_set(CNAI_EINVALID, "manifest '%s': %s",
					     tag, jerr.text);
		cnai_buf_release(&body);
		return err;
	}
	if ((err = cnai_oci_resolve(d, t->dir, tag)) < 0)
		return err;
	return cnai_oci_json_read(doc, t->dir, d->digest);
}

int sign_target_skip(json_t *skipped, const char *entry, int err)
{
	if (err != CNAI_EINVALID && err != CNAI_ECHECK)
		return err;
	json_array_append_new(skipped, json_pack("{s:s, s:s}", "entry", entry,
						 "reason",
						 cnai_error_last()->message));
	cnai_error_clear();
	return 0;
}

int sign_target_get_attachment(json_t **doc, json_t *skipped,
			       struct sign_target *t, const char *tag)
{
	struct cnai_oci_desc d;
	int err;

	err = sign_target_get_tag(doc, &d, t, tag);
	if (err == CNAI_ENOTFOUND) {
		cnai_error_clear();
		return 0;
	}
	/* Only the layer list as a whole: each layer is checked on its own,
	 * so that one malformed layer does not hide the signatures next to
	 * it. */
	if (err == 0 && !json_is_array(json_object_get(*doc, "layers")))
		err = cnai_error_set(CNAI_EINVALID, "manifest '%s': no "
				     "\"layers\" array", tag);
	else if (err == 0 && json_array_size(json_object_get(*doc, "layers")) >
				     CNAI_OCI_MAX_LAYERS)
		err = cnai_error_set(CNAI_EINVALID, "manifest '%s': lists "
				     "more than %d layers", tag,
				     CNAI_OCI_MAX_LAYERS);
	if (err < 0) {
		json_decref(*doc);
		*doc = NULL;
	}
	return err < 0 ? sign_target_skip(skipped, tag, err) : 0;
}

int sign_verify_finish(struct cnai_ctx *ctx, const char *what,
		       const char *ref, json_t *verified, json_t *skipped,
		       struct cnai_buf *why)
{
	json_t *s;
	size_t i;

	json_array_foreach(skipped, i, s) {
		const char *entry = json_string_value(json_object_get(s,
								      "entry"));
		const char *reason = json_string_value(json_object_get(
			s, "reason"));

		if (!json_array_size(verified))
			cnai_buf_addf(why, "%s%s: %s", why->len ? "; " : "",
				      entry, reason);
		else
			cnai_notice(ctx, "skipped %s: %s", entry, reason);
	}
	if (!json_array_size(verified))
		return cnai_error_set(CNAI_ECHECK, "no %s of %s verifies: %s",
				      what, ref, why->len ? why->buf
							  : "none found");
	return 0;
}

int sign_verify_print(struct cnai_ctx *ctx, json_t *verified)
{
	return cnai_json_print(json_incref(verified));
}

int sign_target_read_manifest(struct cnai_buf *out, struct sign_target *t,
			      const char *digest)
{
	struct cnai_oci_desc d;

	if (t->remote)
		return cnai_registry_manifest_get(
			((struct remote *)t->remote)->client, digest, out, &d);
	return cnai_oci_blob_read(out, t->dir, digest,
				  CNAI_OCI_MANIFEST_LIMIT);
}

int sign_target_read_blob(struct cnai_buf *out, struct sign_target *t,
			  const char *digest, size_t limit)
{
	if (t->remote && !cnai_oci_blob_exists(t->dir, digest)) {
		struct cnai_oci_desc d = { "", "", 0 };
		uint64_t size = 0;
		int err;

		snprintf(d.digest, sizeof(d.digest), "%s", digest);
		if (!cnai_registry_blob_exists(((struct remote *)t->remote)
						       ->client,
					       digest, &size))
			return cnai_error_set(CNAI_ENOTFOUND, "blob %s is "
					      "missing from the registry",
					      digest);
		if (limit && size > limit)
			return cnai_error_set(CNAI_EINVALID, "blob %s is over "
					      "%zu bytes", digest, limit);
		d.size = size;
		if ((err = cnai_registry_blob_pull(
			     ((struct remote *)t->remote)->client, t->dir,
			     &d)) < 0)
			return err;
	}
	return cnai_oci_blob_read(out, t->dir, digest, limit);
}

int sign_target_put_blob(struct cnai_oci_desc *d, struct sign_target *t,
			 const void *data, size_t len, const char *media_type)
{
	int err;

	if ((err = cnai_oci_blob_put(d->digest, t->dir, data, len)) < 0)
		return err;
	snprintf(d->media_type, sizeof(d->media_type), "%s", media_type);
	d->size = len;
	if (t->remote)
		return cnai_registry_blob_push(
			((struct remote *)t->remote)->client, t->dir, d);
	return 0;
}

int sign_target_put_manifest(struct cnai_oci_desc *d, struct sign_target *t,
			     json_t *manifest, const char *tag)
{
	struct cnai_buf bytes = CNAI_BUF_INIT;
	int err;

	if ((err = cnai_oci_json_put(d, t->dir, manifest, NULL)) < 0)
		return err;
	if (!t->remote)
		return cnai_oci_tag(t->dir, tag, d, NULL);
	/* The exact bytes stored, with their media type. */
	if ((err = cnai_oci_json_canonical(&bytes, manifest)) == 0)
		err = cnai_registry_manifest_put(
			((struct remote *)t->remote)->client, tag,
			d->media_type, bytes.buf, bytes.len, NULL);
	cnai_buf_release(&bytes);
	return err;
}

int sign_target_append_layer(struct sign_target *t, const char *tag,
			     json_t *layer)
{
	struct cnai_oci_desc old, cfg_d, man_d;
	json_t *doc = NULL, *layers, *diff_ids = json_array(), *cfg = NULL,
	       *man = NULL, *l;
	size_t i;
	int err;

	err = sign_target_get_tag(&doc, &old, t, tag);
	if (err == CNAI_ENOTFOUND) {
		cnai_error_clear();
		err = 0;
	}
	if (err < 0)
		goto cleanup;
	layers = doc ? json_deep_copy(json_object_get(doc, "layers"))
		     : json_array();
	if (!json_is_array(layers)) {
		json_decref(layers);
		layers = json_array();
	}
	json_array_append(layers, layer);
	json_array_foreach(layers, i, l)
		json_array_append(diff_ids, json_object_get(l, "digest"));
	/* cosign's signature config: an image config naming the layers. */
	cfg = json_pack("{s:s, s:s, s:[{s:s}], s:s, s:{s:s, s:O}, s:{}}",
			"architecture", "", "created", "0001-01-01T00:00:00Z",
			"history", "created", "0001-01-01T00:00:00Z", "os", "",
			"rootfs", "type", "layers", "diff_ids", diff_ids,
			"config");
	if (!cfg) {
		json_decref(layers);
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = cnai_oci_json_put(&cfg_d, t->dir, cfg,
				     CNAI_MEDIA_OCI_CONFIG)) < 0 ||
	    (t->remote &&
	     (err = cnai_registry_blob_push(
		      ((struct remote *)t->remote)->client, t->dir, &cfg_d)) <
		     0)) {
		json_decref(layers);
		goto cleanup;
	}
	man = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2,
			"mediaType", CNAI_MEDIA_OCI_MANIFEST, "config",
			cnai_oci_desc_json(&cfg_d), "layers", layers);
	err = sign_target_put_manifest(&man_d, t, man, tag);
cleanup:
	json_decref(doc);
	json_decref(diff_ids);
	json_decref(cfg);
	json_decref(man);
	json_decref(layer);
	return err;
}

/* "sha256-<hex>": the referrers tag schema's tag for the target. */
static void referrers_tag(char out[80], const struct sign_target *t)
{
	snprintf(out, 80, "sha256-%.64s", t->image.digest + 7);
}

/* The fallback tag's index, or a new empty one when there is none. */
static int fallback_index(json_t **index, struct sign_target *t)
{
	struct cnai_oci_desc d;
	char tag[80];
	int err;

	referrers_tag(tag, t);
	err = sign_target_get_tag(index, &d, t, tag);
	if (err == CNAI_ENOTFOUND) {
		cnai_error_clear();
		return cnai_oci_index_new(index);
	}
	if (err == 0 && !json_is_array(json_object_get(*index, "manifests"))) {
		json_decref(*index);
		*index = NULL;
		return cnai_error_set(CNAI_EINVALID, "tag '%s' is not an "
				      "image index", tag);
	}
	return err;
}

int sign_target_referrers(json_t **index, struct sign_target *t)
{
	int err;

	*index = NULL;
	if (t->remote) {
		err = cnai_registry_referrers(
			((struct remote *)t->remote)->client, t->image.digest,
			index);
		if (err != CNAI_ENOTFOUND)
			return err;
		cnai_error_clear();
	}
	return fallback_index(index, t);
}

/* True when the registry lists referrers itself (it then indexes a
 * manifest's subject as it is pushed). */
static int has_referrers_api(struct sign_target *t)
{
	json_t *index = NULL;
	int err;

	if (!t->remote)
		return 0;
	err = cnai_registry_referrers(((struct remote *)t->remote)->client,
				      t->image.digest, &index);
	json_decref(index);
	cnai_error_clear();
	return err == 0;
}

/* The index entry for a referrer: its descriptor plus what a client
 * filters on without fetching it. */
static json_t *referrer_entry(const struct cnai_oci_desc *d, json_t *manifest)
{
	json_t *e = cnai_oci_desc_json(d), *v;

	if ((v = json_object_get(manifest, "artifactType")))
		json_object_set(e, "artifactType", v);
	if ((v = json_object_get(manifest, "annotations")))
		json_object_set(e, "annotations", v);
	return e;
}

int sign_target_add_referrer(struct cnai_oci_desc *d, struct sign_target *t,
			     json_t *manifest)
{
	struct cnai_oci_desc id;
	json_t *index = NULL;
	char tag[80];
	int err;

	if ((err = cnai_oci_json_put(d, t->dir, manifest, NULL)) < 0)
		return err;
	if (t->remote) {
		struct cnai_buf bytes = CNAI_BUF_INIT;

		if ((err = cnai_oci_json_canonical(&bytes, manifest)) == 0)
			err = cnai_registry_manifest_put(
				((struct remote *)t->remote)->client,
				d->digest, d->media_type, bytes.buf,
				bytes.len, NULL);
		cnai_buf_release(&bytes);
		if (err < 0 || has_referrers_api(t))
			return err;
	}
	if ((err = fallback_index(&index, t)) < 0)
		return err;
	json_array_append_new(json_object_get(index, "manifests"),
			      referrer_entry(d, manifest));
	referrers_tag(tag, t);
	err = sign_target_put_manifest(&id, t, index, tag);
	json_decref(index);
	return err;
}

int sign_target_identity_matches(const struct sign_target *t,
				 const char *claimed)
{
	char with_tag[700];

	if (!strcmp(claimed, t->repo))
		return 1;
	/* A payload naming repo:tag is accepted for that tag only. */
	snprintf(with_tag, sizeof(with_tag), "%s:%s", t->repo, t->tag);
	return t->tag[0] && !strcmp(claimed, with_tag);
}

const char *sign_annotation_missing(json_t *want, json_t *have)
{
	const char *k;
	json_t *v;

	json_object_foreach(want, k, v) {
		json_t *h = json_object_get(have, k);

		if (!json_is_string(h) ||
		    strcmp(json_string_value(h), json_string_value(v)))
			return k;
	}
	return NULL;
}
