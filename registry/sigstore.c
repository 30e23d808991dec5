/*
 * Sigstore documents. Every JSON we sign is produced with keys in a fixed
 * order and compact form, and verification always checks the exact bytes
 * that were stored (never a re-serialisation), as cosign does.
 */
#include "registry/sigstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

enum { PAYLOAD_LIMIT = 4 * 1024 * 1024 };

int cnai_simplesign_payload(struct cnai_buf *out, const char *docker_ref,
			    const char *manifest_digest, json_t *optional)
{
	json_t *doc = json_object(), *crit = json_object();
	char *text;

	/* Field order as cosign writes it (Go struct order). */
	json_object_set_new(crit, "identity",
			    json_pack("{s:s}", "docker-reference", docker_ref));
	json_object_set_new(crit, "image",
			    json_pack("{s:s}", "docker-manifest-digest",
				      manifest_digest));
	json_object_set_new(crit, "type", json_string(CNAI_SIMPLESIGN_TYPE));
	json_object_set_new(doc, "critical", crit);
	json_object_set(doc, "optional", optional ? optional : json_null());
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!text)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (cnai_buf_adds(out, text) < 0) {
		free(text);
		return cnai_buf_oom(out);
	}
	free(text);
	return 0;
}

static int only_keys(json_t *obj, const char *const *keys, size_t n,
		     const char *where)
{
	const char *k;
	json_t *v;
	size_t i;

	if (!json_is_object(obj))
		return cnai_error_set(CNAI_EINVALID, "payload: %s is not an "
				      "object", where);
	json_object_foreach(obj, k, v) {
		for (i = 0; i < n && strcmp(k, keys[i]); i++)
			;
		if (i == n)
			return cnai_error_set(CNAI_EINVALID,
					      "payload: unexpected field '%s' "
					      "in %s", k, where);
	}
	for (i = 0; i < n; i++)
		if (!json_object_get(obj, keys[i]))
			return cnai_error_set(CNAI_EINVALID,
					      "payload: %s has no '%s'", where,
					      keys[i]);
	return 0;
}

int cnai_simplesign_parse(struct cnai_simplesign *out, const char *payload,
			  size_t len)
{
	static const char *const top[] = { "critical", "optional" };
	static const char *const crit_keys[] = { "identity", "image", "type" };
	static const char *const id_keys[] = { "docker-reference" };
	static const char *const img_keys[] = { "docker-manifest-digest" };
	json_t *doc, *crit, *opt;
	json_error_t jerr;
	const char *ref, *dig, *type;
	int err;

	memset(out, 0, sizeof(*out));
	if (len > PAYLOAD_LIMIT)
		return cnai_error_set(CNAI_EINVALID, "payload: larger than "
				      "%d bytes", PAYLOAD_LIMIT);
	if (!(doc = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr)))
		return cnai_error_set(CNAI_EINVALID, "payload: invalid JSON: %s",
				      jerr.text);
	crit = json_object_get(doc, "critical");
	opt = json_object_get(doc, "optional");
	if ((err = only_keys(doc, top, 2, "the payload")) < 0 ||
	    (err = only_keys(crit, crit_keys, 3, "critical")) < 0 ||
	    (err = only_keys(json_object_get(crit, "identity"), id_keys, 1,
			     "critical.identity")) < 0 ||
	    (err = only_keys(json_object_get(crit, "image"), img_keys, 1,
			     "critical.image")) < 0)
		goto cleanup;
	ref = json_string_value(json_object_get(json_object_get(crit,
								"identity"),
						"docker-reference"));
	dig = json_string_value(json_object_get(json_object_get(crit, "image"),
						"docker-manifest-digest"));
	type = json_string_value(json_object_get(crit, "type"));
	if (!ref || !dig || !type) {
		err = cnai_error_set(CNAI_EINVALID, "payload: critical fields "
				     "must be strings");
		goto cleanup;
	}
	if (strcmp(type, CNAI_SIMPLESIGN_TYPE)) {
		err = cnai_error_set(CNAI_EINVALID, "payload: type '%s' is not "
				     "'%s'", type, CNAI_SIMPLESIGN_TYPE);
		goto cleanup;
	}
	if (!json_is_null(opt) && !json_is_object(opt)) {
		err = cnai_error_set(CNAI_EINVALID, "payload: optional must be "
				     "null or an object");
		goto cleanup;
	}
	out->docker_ref = strdup(ref);
	out->manifest_digest = strdup(dig);
	out->optional = json_is_object(opt) ? json_incref(opt) : NULL;
cleanup:
	json_decref(doc);
	return err;
}

void cnai_simplesign_release(struct cnai_simplesign *s)
{
	free(s->docker_ref);
	free(s->manifest_digest);
	json_decref(s->optional);
	memset(s, 0, sizeof(*s));
}

int cnai_dsse_pae(struct cnai_buf *out, const char *payload_type,
		  const void *body, size_t len)
{
	cnai_buf_addf(out, "DSSEv1 %zu %s %zu ", strlen(payload_type),
		      payload_type, len);
	cnai_buf_add(out, body, len);
	return cnai_buf_oom(out);
}

int cnai_dsse_sign(struct cnai_buf *envelope, const struct cnai_cosign_key *key,
		   const char *payload_type, const void *body, size_t len,
		   const char *keyid)
{
	struct cnai_buf pae = CNAI_BUF_INIT, sig = CNAI_BUF_INIT,
			b_sig = CNAI_BUF_INIT, b_body = CNAI_BUF_INIT;
	json_t *doc = NULL;
	char *text = NULL;
	int err;

	if ((err = cnai_dsse_pae(&pae, payload_type, body, len)) < 0 ||
	    (err = cnai_cosign_sign(&sig, key, pae.buf, pae.len)) < 0 ||
	    (err = cnai_base64_encode(&b_sig, sig.buf, sig.len)) < 0 ||
	    (err = cnai_base64_encode(&b_body, body, len)) < 0)
		goto cleanup;
	doc = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payloadType",
			payload_type, "payload", b_body.buf, "signatures",
			"keyid", keyid ? keyid : "", "sig", b_sig.buf);
	if (!doc || !(text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)) ||
	    cnai_buf_adds(envelope, text) < 0)
		err = cnai_error_set(CNAI_ERROR, "out of memory");
cleanup:
	json_decref(doc);
	free(text);
	cnai_buf_release(&pae);
	cnai_buf_release(&sig);
	cnai_buf_release(&b_sig);
	cnai_buf_release(&b_body);
	return err;
}

int cnai_dsse_parse(struct cnai_dsse *out, const char *text, size_t len)
{
	json_t *doc, *sigs, *s;
	json_error_t jerr;
	const char *type, *payload;
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	cnai_buf_init(&out->payload);
	if (len > PAYLOAD_LIMIT)
		return cnai_error_set(CNAI_EINVALID, "envelope: larger than "
				      "%d bytes", PAYLOAD_LIMIT);
	if (!(doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)))
		return cnai_error_set(CNAI_EINVALID,
				      "envelope: invalid JSON: %s", jerr.text);
	type = json_string_value(json_object_get(doc, "payloadType"));
	payload = json_string_value(json_object_get(doc, "payload"));
	sigs = json_object_get(doc, "signatures");
	if (!type || !payload || !json_is_array(sigs) ||
	    !json_array_size(sigs)) {
		err = cnai_error_set(CNAI_EINVALID,
				     "envelope: needs payloadType, payload and "
				     "at least one signature");
		goto cleanup;
	}
	json_array_foreach(sigs, i, s)
		if (!json_string_value(json_object_get(s, "sig"))) {
			err = cnai_error_set(CNAI_EINVALID,
					     "envelope: signature %zu has no "
					     "'sig'", i);
			goto cleanup;
		}
	if (cnai_base64_decode(&out->payload, payload, strlen(payload)) < 0) {
		err = cnai_error_set(CNAI_EINVALID,
				     "envelope: payload is not base64");
		goto cleanup;
	}
	out->payload_type = strdup(type);
	out->signatures = json_incref(sigs);
cleanup:
	json_decref(doc);
	if (err < 0)
		cnai_dsse_release(out);
	return err;
}

int cnai_dsse_verify(const struct cnai_dsse *env,
		     const struct cnai_cosign_key *key)
{
	struct cnai_buf pae = CNAI_BUF_INIT, sig = CNAI_BUF_INIT;
	json_t *s;
	size_t i;
	int err;

	if ((err = cnai_dsse_pae(&pae, env->payload_type, env->payload.buf,
				 env->payload.len)) < 0)
		return err;
	err = cnai_error_set(CNAI_ECHECK, "no signature in the envelope "
			     "verifies with this key");
	json_array_foreach(env->signatures, i, s) {
		const char *b64 = json_string_value(json_object_get(s, "sig"));

		cnai_buf_reset(&sig);
		if (cnai_base64_decode(&sig, b64, strlen(b64)) < 0)
			continue;
		if (cnai_cosign_verify(key, pae.buf, pae.len, sig.buf,
				       sig.len) == 0) {
			cnai_error_clear();
			err = 0;
			break;
		}
	}
	if (err)
		err = cnai_error_set(CNAI_ECHECK, "no signature in the "
				     "envelope verifies with this key");
	cnai_buf_release(&pae);
	cnai_buf_release(&sig);
	return err;
}

void cnai_dsse_release(struct cnai_dsse *env)
{
	free(env->payload_type);
	cnai_buf_release(&env->payload);
	json_decref(env->signatures);
	memset(env, 0, sizeof(*env));
	cnai_buf_init(&env->payload);
}

json_t *cnai_intoto_statement(const char *subject_name,
			      const char *sha256_hex,
			      const char *predicate_type, json_t *predicate)
{
	return json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s, s:O}", "_type",
			 CNAI_INTOTO_STATEMENT_V1, "subject", "name",
			 subject_name, "digest", "sha256", sha256_hex,
			 "predicateType", predicate_type, "predicate",
			 predicate);
}

int cnai_bundle_blob(struct cnai_buf *out, const unsigned char digest[32],
		     const void *sig, size_t sig_len, const char *key_hint)
{
	struct cnai_buf b_dig = CNAI_BUF_INIT, b_sig = CNAI_BUF_INIT;
	json_t *doc = NULL;
	char *text = NULL;
	int err;

	if ((err = cnai_base64_encode(&b_dig, digest, 32)) < 0 ||
	    (err = cnai_base64_encode(&b_sig, sig, sig_len)) < 0)
		goto cleanup;
	doc = json_pack("{s:s, s:{s:{s:s}}, s:{s:{s:s, s:s}, s:s}}",
			"mediaType", CNAI_BUNDLE_MEDIA_TYPE,
			"verificationMaterial", "publicKey", "hint", key_hint,
			"messageSignature", "messageDigest", "algorithm",
			"SHA2_256", "digest", b_dig.buf, "signature",
			b_sig.buf);
	if (!doc || !(text = json_dumps(doc, JSON_INDENT(2) |
						     JSON_PRESERVE_ORDER)) ||
	    cnai_buf_adds(out, text) < 0 || cnai_buf_addch(out, '\n') < 0)
		err = cnai_error_set(CNAI_ERROR, "out of memory");
cleanup:
	json_decref(doc);
	free(text);
	cnai_buf_release(&b_dig);
	cnai_buf_release(&b_sig);
	return err;
}

int cnai_bundle_blob_parse(unsigned char digest[32], struct cnai_buf *sig,
			   const char *text, size_t len)
{
	struct cnai_buf d = CNAI_BUF_INIT;
	json_t *doc, *ms;
	json_error_t jerr;
	const char *mt, *alg, *b64d, *b64s;
	int err = 0;

	if (!(doc = json_loadb(text, len, 0, &jerr)))
		return cnai_error_set(CNAI_EINVALID, "bundle: invalid JSON: %s",
				      jerr.text);
	mt = json_string_value(json_object_get(doc, "mediaType"));
	ms = json_object_get(doc, "messageSignature");
	alg = json_string_value(json_object_get(
		json_object_get(ms, "messageDigest"), "algorithm"));
	b64d = json_string_value(json_object_get(
		json_object_get(ms, "messageDigest"), "digest"));
	b64s = json_string_value(json_object_get(ms, "signature"));
	if (!mt || strncmp(mt, "application/vnd.dev.sigstore.bundle", 35))
		err = cnai_error_set(CNAI_EINVALID, "bundle: not a Sigstore "
				     "bundle (mediaType '%s')", mt ? mt : "");
	else if (!alg || strcmp(alg, "SHA2_256") || !b64d || !b64s)
		err = cnai_error_set(CNAI_EINVALID,
				     "bundle: no SHA2_256 messageSignature");
	else if (cnai_base64_decode(&d, b64d, strlen(b64d)) < 0 ||
		 d.len != 32)
		err = cnai_error_set(CNAI_EINVALID,
				     "bundle: the message digest is not 32 "
				     "bytes of base64");
	else if (cnai_base64_decode(sig, b64s, strlen(b64s)) < 0)
		err = cnai_error_set(CNAI_EINVALID,
				     "bundle: the signature is not base64");
	else
		memcpy(digest, d.buf, 32);
	cnai_buf_release(&d);
	json_decref(doc);
	return err;
}

int cnai_sigstore_key_hint(struct cnai_buf *out,
			   const struct cnai_cosign_key *key)
{
	char fp[65];
	unsigned char raw[32];
	size_t i;
	int err;

	if ((err = cnai_cosign_key_fingerprint(fp, key)) < 0)
		return err;
	for (i = 0; i < 32; i++) {
		unsigned v;

		sscanf(fp + 2 * i, "%2x", &v);
		raw[i] = (unsigned char)v;
	}
	return cnai_base64_encode(out, raw, 32);
}

/* Protobuf's JSON form leaves empty strings out: an unnamed key's "keyid"
 * goes. */
static void drop_empty_keyids(json_t *envelope)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(envelope, "signatures"), i, s) {
		const char *id = json_string_value(json_object_get(s, "keyid"));

		if (id && !*id)
			json_object_del(s, "keyid");
	}
}

int cnai_bundle_dsse(struct cnai_buf *out, const char *envelope, size_t len,
		     const char *key_hint)
{
	json_t *env, *doc = NULL;
	char *text = NULL;
	int err = 0;

	if (!(env = json_loadb(envelope, len, 0, NULL)))
		return cnai_error_set(CNAI_EINVALID, "bundle: the envelope is "
				      "not JSON");
	drop_empty_keyids(env);
	doc = json_pack("{s:s, s:{s:{s:s}}, s:o}", "mediaType",
			CNAI_BUNDLE_MEDIA_TYPE, "verificationMaterial",
			"publicKey", "hint", key_hint, "dsseEnvelope", env);
	if (!doc || !(text = json_dumps(doc, JSON_COMPACT |
						     JSON_PRESERVE_ORDER)) ||
	    cnai_buf_adds(out, text) < 0)
		err = cnai_error_set(CNAI_ERROR, "out of memory");
	json_decref(doc);
	free(text);
	return err;
}

int cnai_bundle_dsse_parse(struct cnai_dsse *out, const char *text,
			   size_t len)
{
	json_t *doc, *env;
	json_error_t jerr;
	const char *mt;
	char *env_text = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	cnai_buf_init(&out->payload);
	if (len > PAYLOAD_LIMIT)
		return cnai_error_set(CNAI_EINVALID, "bundle: larger than %d "
				      "bytes", PAYLOAD_LIMIT);
	if (!(doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)))
		return cnai_error_set(CNAI_EINVALID, "bundle: invalid JSON: %s",
				      jerr.text);
	mt = json_string_value(json_object_get(doc, "mediaType"));
	env = json_object_get(doc, "dsseEnvelope");
	if (!mt || strncmp(mt, "application/vnd.dev.sigstore.bundle", 35))
		err = cnai_error_set(CNAI_EINVALID, "bundle: not a Sigstore "
				     "bundle (mediaType '%s')", mt ? mt : "");
	else if (!json_is_object(env))
		err = cnai_error_set(CNAI_EINVALID, "bundle: no dsseEnvelope "
				     "(a %s bundle)",
				     json_object_get(doc, "messageSignature")
					     ? "messageSignature"
					     : "malformed");
	else if (!(env_text = json_dumps(env, JSON_COMPACT)))
		err = cnai_error_set(CNAI_ERROR, "out of memory");
	else
		err = cnai_dsse_parse(out, env_text, strlen(env_text));
	free(env_text);
	json_decref(doc);
	return err;
}
