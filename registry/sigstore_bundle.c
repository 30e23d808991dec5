/*
 * Image signatures in cosign 3's form: a Sigstore bundle v0.3 holding a
 * DSSE envelope over an in-toto Statement (predicateType
 * https://sigstore.dev/cosign/sign/v1, the subject the image digest, the
 * -a annotations on the subject), stored as an OCI 1.1 artifact whose
 * subject is the image, found through the referrers API or the
 * "sha256-<hex>" tag index. `cnai sign image` writes this form for
 * --format bundle|both and `cnai sign verify` reads it beside the ".sig"
 * attachments.
 */
#include "registry/sigstore_bundle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util/error.h"
#include "registry/sigstore.h"
#include "core/util/banned.h"

enum { BUNDLE_LIMIT = 1 << 20 };

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

/* The artifact manifest around the bundle blob `b`, made at `created`
 * (RFC 3339). */
static json_t *bundle_manifest(const struct cnai_oci_desc *empty,
			       const struct cnai_oci_desc *b,
			       const struct cnai_sigstore_target *t,
			       const char *predicate_type, const char *created)
{
	char title[90];
	json_t *layer = cnai_oci_desc_json(b);

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
			 "dev.sigstore.bundle.predicateType", predicate_type,
			 "org.opencontainers.image.created", created);
}

int cnai_sigstore_bundle_created(char out[32])
{
	int64_t epoch;
	int err;

	/* SOURCE_DATE_EPOCH, for reproducible signing in CI, else now */
	if ((err = cnai_source_date_epoch(&epoch, (int64_t)time(NULL))) < 0)
		return err;
	cnai_oci_time(out, epoch);
	return 0;
}

int cnai_sigstore_bundle_attach_statement(
	struct cnai_sigstore_bundle_result *res, struct cnai_sigstore_target *t,
	const struct cnai_cosign_key *key, json_t *statement,
	const char *created)
{
	struct cnai_buf env = CNAI_BUF_INIT, bundle = CNAI_BUF_INIT,
			hint = CNAI_BUF_INIT, body = CNAI_BUF_INIT;
	struct cnai_oci_desc empty, bd;
	struct cnai_dsse parsed = { 0 };
	const char *pt = json_string_value(json_object_get(statement,
							   "predicateType"));
	json_t *man = NULL;
	int err;

	memset(res, 0, sizeof(*res));
	cnai_buf_init(&parsed.payload);
	if (!pt)
		return cnai_error_set(CNAI_EINVALID, "the statement has no "
				      "predicateType");
	if ((err = cnai_oci_json_canonical(&body, statement)) < 0 ||
	    (err = cnai_dsse_sign(&env, key, CNAI_INTOTO_PAYLOAD_TYPE, body.buf,
				  body.len, NULL)) < 0 ||
	    (err = cnai_sigstore_key_hint(&hint, key)) < 0 ||
	    (err = cnai_bundle_dsse(&bundle, env.buf, env.len, hint.buf)) < 0 ||
	    (err = cnai_dsse_parse(&parsed, env.buf, env.len)) < 0)
		goto cleanup;
	if ((err = cnai_sigstore_target_put_blob(&empty, t, "{}", 2,
						 CNAI_MEDIA_OCI_EMPTY)) < 0 ||
	    (err = cnai_sigstore_target_put_blob(&bd, t, bundle.buf, bundle.len,
						 CNAI_BUNDLE_MEDIA_TYPE)) < 0)
		goto cleanup;
	if (!(man = bundle_manifest(&empty, &bd, t, pt, created))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = cnai_sigstore_target_add_referrer(&res->manifest, t,
						     man)) < 0)
		goto cleanup;
	memcpy(res->bundle_digest, bd.digest, sizeof(bd.digest));
	snprintf(res->signature, sizeof(res->signature), "%s",
		 json_string_value(json_object_get(
			 json_array_get(parsed.signatures, 0), "sig")));
cleanup:
	cnai_dsse_release(&parsed);
	json_decref(man);
	cnai_buf_release(&env);
	cnai_buf_release(&bundle);
	cnai_buf_release(&hint);
	cnai_buf_release(&body);
	return err;
}

int cnai_sigstore_bundle_attach(struct cnai_sigstore_bundle_result *res,
				struct cnai_sigstore_target *t,
				const struct cnai_cosign_key *key,
				const char *identity, json_t *annotations,
				const char *created)
{
	json_t *st = sign_statement(identity, t->image.digest, annotations);
	int err;

	if (!st)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	err = cnai_sigstore_bundle_attach_statement(res, t, key, st, created);
	json_decref(st);
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

/*
 * What one kind of bundle must claim beyond a verified in-toto Statement
 * about the target: `accept` returns 1 with the claim to report, or 0
 * with the reason in `why`; `predicate` (may be NULL) is the predicate
 * type wanted, and index entries annotated with another are skipped.
 */
struct claim_kind {
	int (*accept)(json_t **claim, char *why, size_t size, json_t *st,
		      const struct cnai_sigstore_target *t,
		      const struct claim_kind *k);
	const char *predicate;
	int signature; /* 1: cosign's sign/v1; 0: any other predicate */
	json_t *want;  /* signatures: the -a annotations required */
};

/* A signature: cosign's predicate, one subject, its identity and the
 * annotations asked for; reported as cosign 3 reports it. */
static int accept_signature(json_t **claim, char *why, size_t size, json_t *st,
			    const struct cnai_sigstore_target *t,
			    const struct claim_kind *k)
{
	json_t *subject = json_array_get(json_object_get(st, "subject"), 0),
	       *ann = json_object_get(subject, "annotations");
	const char *pt = json_string_value(json_object_get(st, "predicateType")),
		   *name = json_string_value(json_object_get(subject, "name")),
		   *missing;

	if (!pt || strcmp(pt, CNAI_COSIGN_SIGN_PREDICATE)) {
		fail(why, size, "predicate type '%.200s' is not a cosign "
		     "image signature", pt ? pt : "");
		return 0;
	}
	if (json_array_size(json_object_get(st, "subject")) != 1) {
		fail(why, size, "the statement's subject is not %s",
		     t->image.digest);
		return 0;
	}
	if (name && !cnai_sigstore_target_identity_matches(t, name)) {
		fail(why, size, "identity '%.300s' does not match", name);
		return 0;
	}
	if ((missing = cnai_sigstore_annotation_missing(k->want, ann))) {
		fail(why, size, "required annotation '%.200s' is not in the "
		     "statement", missing);
		return 0;
	}
	*claim = json_pack("{s:{s:{s:s}, s:{s:s}, s:s}, s:O}", "critical",
			   "identity", "docker-reference",
			   name ? name : t->repo, "image",
			   "docker-manifest-digest", t->image.digest, "type",
			   CNAI_COSIGN_SIGN_PREDICATE, "optional",
			   json_is_object(ann) ? ann : json_null());
	return 1;
}

/* An attestation: any predicate but a signature's (or the one asked
 * for); reported as the statement itself, as for ".att". */
static int accept_attestation(json_t **claim, char *why, size_t size,
			      json_t *st, const struct cnai_sigstore_target *t,
			      const struct claim_kind *k)
{
	const char *pt = json_string_value(json_object_get(st, "predicateType"));

	(void)t;
	if (!pt || !strcmp(pt, CNAI_COSIGN_SIGN_PREDICATE) ||
	    (k->predicate && strcmp(pt, k->predicate))) {
		fail(why, size, "predicateType '%.200s'", pt ? pt : "");
		return 0;
	}
	*claim = json_incref(st);
	return 1;
}

/* Whether any of the statement's subjects is the target's digest. */
static int about_target(json_t *st, const struct cnai_sigstore_target *t)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(st, "subject"), i, s) {
		const char *hex = json_string_value(json_object_get(
			json_object_get(s, "digest"), "sha256"));

		if (hex && !strcmp(hex, t->image.digest + 7))
			return 1;
	}
	return 0;
}

/* A verified envelope's statement, checked for `k`. */
static int check_statement(json_t **claim, char *why, size_t size,
			   const struct cnai_dsse *env,
			   const struct cnai_sigstore_target *t,
			   const struct claim_kind *k)
{
	json_t *st = json_loadb(env->payload.buf, env->payload.len, 0, NULL);
	const char *type = json_string_value(json_object_get(st, "_type"));
	int ok = 0;

	if (strcmp(env->payload_type, CNAI_INTOTO_PAYLOAD_TYPE))
		fail(why, size, "payload type '%.200s' is not in-toto",
		     env->payload_type);
	else if (!type || strncmp(type, "https://in-toto.io/Statement/", 29))
		fail(why, size, "%s", "the payload is not an in-toto Statement");
	else if (!about_target(st, t))
		fail(why, size, "the statement's subject is not %s",
		     t->image.digest);
	else
		ok = k->accept(claim, why, size, st, t, k);
	json_decref(st);
	return ok;
}

/* One referrer manifest: 1 verified (its claim appended), 0 not (the
 * reason in `why`), -1 not a bundle at all. */
static int check_referrer(json_t *verified, char *why, size_t size,
			  const char *digest, struct cnai_sigstore_target *t,
			  const struct cnai_cosign_key *key,
			  const struct claim_kind *k)
{
	struct cnai_buf mbytes = CNAI_BUF_INIT, bbytes = CNAI_BUF_INIT;
	struct cnai_dsse env = { 0 };
	json_t *man = NULL, *layer, *claim = NULL;
	const char *subj, *lmt, *ldig;
	int ok = 0;

	cnai_buf_init(&env.payload);
	if (cnai_sigstore_target_read_manifest(&mbytes, t, digest) < 0 ||
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
		ok = -1; /* another kind of referrer */
		goto cleanup;
	}
	if (cnai_oci_manifest_check(man, NULL, "bundle manifest") < 0) {
		fail(why, size, "%s", cnai_error_last()->message);
		goto cleanup;
	}
	if (!subj || strcmp(subj, t->image.digest)) {
		fail(why, size, "bundle manifest's subject is not %s",
		     t->image.digest);
		goto cleanup;
	}
	if (!ldig ||
	    cnai_sigstore_target_read_blob(&bbytes, t, ldig,
					   BUNDLE_LIMIT) < 0 ||
	    cnai_bundle_dsse_parse(&env, bbytes.buf, bbytes.len) < 0) {
		fail(why, size, "%s", cnai_error_last()->message);
		goto cleanup;
	}
	if (cnai_dsse_verify(&env, key) < 0) {
		fail(why, size, "%s", "bundle signature does not verify with "
		     "this key");
		goto cleanup;
	}
	if ((ok = check_statement(&claim, why, size, &env, t, k)))
		json_array_append_new(verified, claim);
cleanup:
	cnai_error_clear();
	cnai_dsse_release(&env);
	json_decref(man);
	cnai_buf_release(&mbytes);
	cnai_buf_release(&bbytes);
	return ok;
}

/* Whether an index entry may hold a bundle of kind `k`: writers that
 * annotate the predicate type (cnai, cosign) let the others be skipped
 * unread. */
static int wanted(json_t *entry, const struct claim_kind *k)
{
	const char *pt = json_string_value(json_object_get(
		json_object_get(entry, "annotations"),
		"dev.sigstore.bundle.predicateType"));

	if (!maybe_bundle(entry))
		return 0;
	if (!pt)
		return 1;
	if (k->signature)
		return !strcmp(pt, CNAI_COSIGN_SIGN_PREDICATE);
	return strcmp(pt, CNAI_COSIGN_SIGN_PREDICATE) &&
	       (!k->predicate || !strcmp(pt, k->predicate));
}

static int verify_kind(size_t *found, json_t *verified, json_t *reasons,
		       json_t *skipped, struct cnai_sigstore_target *t,
		       const struct cnai_cosign_key *key,
		       const struct claim_kind *k)
{
	json_t *index = NULL, *e;
	char entry[100];
	size_t i;
	int err;

	*found = 0;
	snprintf(entry, sizeof(entry), "referrers of %s", t->image.digest);
	if ((err = cnai_sigstore_target_referrers(&index, t)) == 0 &&
	    (err = cnai_oci_manifest_check(index, NULL, entry)) < 0) {
		json_decref(index);
		index = NULL;
	}
	if (err < 0)
		return cnai_sigstore_skip(skipped, entry, err);
	json_array_foreach(json_object_get(index, "manifests"), i, e) {
		const char *digest = json_string_value(json_object_get(e,
								       "digest"));
		char why[1100], line[1200];
		int ok;

		if (!digest || !wanted(e, k))
			continue;
		why[0] = '\0';
		ok = check_referrer(verified, why, sizeof(why), digest, t, key,
				    k);
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

int cnai_sigstore_bundle_verify(size_t *found, json_t *verified,
				json_t *reasons, json_t *skipped,
				struct cnai_sigstore_target *t,
				const struct cnai_cosign_key *key, json_t *want)
{
	struct claim_kind k = { accept_signature, CNAI_COSIGN_SIGN_PREDICATE,
				1, want };

	return verify_kind(found, verified, reasons, skipped, t, key, &k);
}

int cnai_sigstore_bundle_verify_attestations(size_t *found, json_t *statements,
					     json_t *reasons, json_t *skipped,
					     struct cnai_sigstore_target *t,
					     const struct cnai_cosign_key *key,
					     const char *predicate_type)
{
	struct claim_kind k = { accept_attestation, predicate_type, 0, NULL };

	return verify_kind(found, statements, reasons, skipped, t, key, &k);
}
