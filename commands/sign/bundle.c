/*
 * Image signatures in cosign 3's form: a Sigstore bundle v0.3 holding a
 * DSSE envelope over an in-toto Statement (predicateType
 * https://sigstore.dev/cosign/sign/v1, the subject the image digest, the
 * -a annotations on the subject), stored as an OCI 1.1 artifact whose
 * subject is the image, found through the referrers API or the
 * "sha256-<hex>" tag index. image.c writes this form for --format
 * bundle|both and verify reads it beside the ".sig" attachments.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands/sign/bundle.h"
#include "registry/sigstore.h"
#include "core/util/banned.h"

enum { BUNDLE_LIMIT = 1 << 20 };

/* RFC 3339 creation time: SOURCE_DATE_EPOCH when set, for reproducible
 * signing in CI, else now. */
static void created_now(char out[32])
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v = s && *s ? strtoll(s, &end, 10) : -1;

	cnai_oci_time(out, v >= 0 && s && !*end ? (int64_t)v
						: (int64_t)time(NULL));
}

/* The statement cosign 3 signs for an image. */
static json_t *sign_statement(const char *identity, const char *digest,
			      json_t *annotations)
{
	json_t *predicate = json_object(),
	       *st = cnai_intoto_statement(identity, digest + 7,
					   CNAI_COSIGN_SIGN_PREDICATE,
					   predicate);

	json_decref(predicate); /* the statement holds its own reference */

	if (st && json_object_size(annotations))
		json_object_set(json_array_get(json_object_get(st, "subject"),
					       0),
				"annotations", annotations);
	return st;
}

/* The artifact manifest around the bundle blob `b`. */
static json_t *bundle_manifest(const struct cnai_oci_desc *empty,
			       const struct cnai_oci_desc *b,
			       const struct sign_target *t)
{
	char created[32], title[90];
	json_t *layer = cnai_oci_desc_json(b);

	created_now(created);
	snprintf(title, sizeof(title), "sha256-%.64s.sigstore.json",
		 b->digest + 7);
	json_object_set_new(layer, "annotations",
			    json_pack("{s:s}", "org.opencontainers.image.title",
				      title));
	return json_pack("{s:i, s:s, s:s, s:o, s:[o], s:o, s:{s:s, s:s, s:s}}",
			 "schemaVersion", 2, "mediaType",
			 CNAI_MEDIA_OCI_MANIFEST, "artifactType",
			 CNAI_BUNDLE_MEDIA_TYPE, "config",
			 cnai_oci_desc_json(empty), "layers", layer, "subject",
			 cnai_oci_desc_json(&t->image), "annotations",
			 "dev.sigstore.bundle.content", "dsse-envelope",
			 "dev.sigstore.bundle.predicateType",
			 CNAI_COSIGN_SIGN_PREDICATE,
			 "org.opencontainers.image.created", created);
}

int sign_bundle_attach(struct sign_bundle_result *res, struct sign_target *t,
		       const struct cnai_cosign_key *key, const char *identity,
		       json_t *annotations)
{
	struct cnai_buf env = CNAI_BUF_INIT, bundle = CNAI_BUF_INIT,
			hint = CNAI_BUF_INIT, body = CNAI_BUF_INIT;
	struct cnai_oci_desc empty, bd;
	struct cnai_dsse parsed = { 0 };
	json_t *st = sign_statement(identity, t->image.digest, annotations),
	       *man = NULL;
	int err;

	memset(res, 0, sizeof(*res));
	if (!st || (err = cnai_oci_json_canonical(&body, st)) < 0) {
		err = st ? err : cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = cnai_dsse_sign(&env, key, CNAI_INTOTO_PAYLOAD_TYPE,
				  body.buf, body.len, NULL)) < 0 ||
	    (err = cnai_sigstore_key_hint(&hint, key)) < 0 ||
	    (err = cnai_bundle_dsse(&bundle, env.buf, env.len, hint.buf)) < 0 ||
	    (err = cnai_dsse_parse(&parsed, env.buf, env.len)) < 0)
		goto cleanup;
	if ((err = sign_target_put_blob(&empty, t, "{}", 2,
					CNAI_MEDIA_OCI_EMPTY)) < 0 ||
	    (err = sign_target_put_blob(&bd, t, bundle.buf, bundle.len,
					CNAI_BUNDLE_MEDIA_TYPE)) < 0)
		goto cleanup;
	if (!(man = bundle_manifest(&empty, &bd, t))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = sign_target_add_referrer(&res->manifest, t, man)) < 0)
		goto cleanup;
	memcpy(res->bundle_digest, bd.digest, sizeof(bd.digest));
	snprintf(res->signature, sizeof(res->signature), "%s",
		 json_string_value(json_object_get(
			 json_array_get(parsed.signatures, 0), "sig")));
cleanup:
	cnai_dsse_release(&parsed);
	json_decref(st);
	json_decref(man);
	cnai_buf_release(&env);
	cnai_buf_release(&bundle);
	cnai_buf_release(&hint);
	cnai_buf_release(&body);
	return err;
}

/* ---- verification ---- */

/* Is this referrer (an index entry) possibly a bundle? Entries without an
 * artifactType, or with the empty type some writers put there
 * (kyverno#16664), are fetched to find out. */
static int maybe_bundle(json_t *entry)
{
	const char *at = json_string_value(json_object_get(entry,
							   "artifactType"));

	return !at || !*at || !strcmp(at, CNAI_BUNDLE_MEDIA_TYPE) ||
	       !strcmp(at, CNAI_MEDIA_OCI_EMPTY);
}

__attribute__((format(printf, 3, 4))) static void
fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* The statement's claim about the target: subject digest, identity. */
static int check_statement(json_t **payload, char *why, size_t size,
			   const struct cnai_dsse *env,
			   const struct sign_target *t, json_t *want)
{
	json_t *st = json_loadb(env->payload.buf, env->payload.len, 0, NULL),
	       *subject = json_array_get(json_object_get(st, "subject"), 0),
	       *ann;
	const char *type = json_string_value(json_object_get(st, "_type")),
		   *pt = json_string_value(json_object_get(st, "predicateType")),
		   *hex = json_string_value(json_object_get(
			   json_object_get(subject, "digest"), "sha256")),
		   *name = json_string_value(json_object_get(subject, "name")),
		   *missing;
	int ok = 0;

	if (strcmp(env->payload_type, CNAI_INTOTO_PAYLOAD_TYPE))
		fail(why, size, "payload type '%.200s' is not in-toto",
		     env->payload_type);
	else if (!type || strncmp(type, "https://in-toto.io/Statement/", 29))
		fail(why, size, "%s", "the payload is not an in-toto Statement");
	else if (!pt || strcmp(pt, CNAI_COSIGN_SIGN_PREDICATE))
		fail(why, size, "predicate type '%.200s' is not a cosign "
		     "image signature", pt ? pt : "");
	else if (json_array_size(json_object_get(st, "subject")) != 1 || !hex ||
		 strcmp(hex, t->image.digest + 7))
		fail(why, size, "the statement's subject is not %s",
		     t->image.digest);
	else if (name && !sign_target_identity_matches(t, name))
		fail(why, size, "identity '%.300s' does not match", name);
	else if ((ann = json_object_get(subject, "annotations"),
		  missing = sign_annotation_missing(want, ann)))
		fail(why, size, "required annotation '%.200s' is not in the "
		     "statement", missing);
	else {
		ann = json_object_get(subject, "annotations");
		/* Reported as cosign 3 reports it: critical/optional. */
		*payload = json_pack("{s:{s:{s:s}, s:{s:s}, s:s}, s:O}",
				     "critical", "identity", "docker-reference",
				     name ? name : t->repo, "image",
				     "docker-manifest-digest", t->image.digest,
				     "type", CNAI_COSIGN_SIGN_PREDICATE,
				     "optional",
				     json_is_object(ann) ? ann : json_null());
		ok = 1;
	}
	json_decref(st);
	return ok;
}

/* One referrer manifest: 1 verified (payload appended), 0 not, with the
 * reason in `why`. */
static int check_referrer(json_t *verified, char *why, size_t size,
			  const char *digest, struct sign_target *t,
			  const struct cnai_cosign_key *key, json_t *want)
{
	struct cnai_buf mbytes = CNAI_BUF_INIT, bbytes = CNAI_BUF_INIT;
	struct cnai_dsse env = { 0 };
	json_t *man = NULL, *layer, *payload = NULL;
	const char *subj, *lmt, *ldig;
	int ok = 0;

	cnai_buf_init(&env.payload);
	if (sign_target_read_manifest(&mbytes, t, digest) < 0 ||
	    !(man = json_loadb(mbytes.buf, mbytes.len, 0, NULL))) {
		fail(why, size, "manifest %s cannot be read", digest);
		goto cleanup;
	}
	layer = json_array_get(json_object_get(man, "layers"), 0);
	subj = json_string_value(json_object_get(json_object_get(man, "subject"),
						 "digest"));
	lmt = json_string_value(json_object_get(layer, "mediaType"));
	ldig = json_string_value(json_object_get(layer, "digest"));
	if (!lmt || strncmp(lmt, "application/vnd.dev.sigstore.bundle", 35)) {
		ok = -1; /* another kind of referrer: not a signature */
		goto cleanup;
	}
	if (!subj || strcmp(subj, t->image.digest)) {
		fail(why, size, "bundle manifest's subject is not %s",
		     t->image.digest);
		goto cleanup;
	}
	if (!ldig || sign_target_read_blob(&bbytes, t, ldig, BUNDLE_LIMIT) < 0 ||
	    cnai_bundle_dsse_parse(&env, bbytes.buf, bbytes.len) < 0) {
		fail(why, size, "%s", cnai_error_last()->message);
		goto cleanup;
	}
	if (cnai_dsse_verify(&env, key) < 0) {
		fail(why, size, "%s", "bundle signature does not verify with "
		     "this key");
		goto cleanup;
	}
	if ((ok = check_statement(&payload, why, size, &env, t, want)))
		json_array_append_new(verified, payload);
cleanup:
	cnai_error_clear();
	cnai_dsse_release(&env);
	json_decref(man);
	cnai_buf_release(&mbytes);
	cnai_buf_release(&bbytes);
	return ok;
}

int sign_bundle_verify(size_t *found, json_t *verified, json_t *reasons,
		       struct sign_target *t, const struct cnai_cosign_key *key,
		       json_t *want)
{
	json_t *index = NULL, *e;
	size_t i;
	int err;

	*found = 0;
	if ((err = sign_target_referrers(&index, t)) < 0)
		return err;
	json_array_foreach(json_object_get(index, "manifests"), i, e) {
		const char *digest = json_string_value(json_object_get(e,
								       "digest"));
		char why[1100], line[1200];
		int ok;

		if (!digest || !maybe_bundle(e))
			continue;
		why[0] = '\0';
		ok = check_referrer(verified, why, sizeof(why), digest, t, key,
				    want);
		if (ok < 0)
			continue;
		++*found;
		if (!ok) {
			snprintf(line, sizeof(line), "bundle %s: %s",
				 digest, why);
			json_array_append_new(reasons, json_string(line));
		}
	}
	json_decref(index);
	return 0;
}
