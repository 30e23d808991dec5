/*
 * The signed documents of the sigstore ecosystem, built and parsed exactly
 * as cosign and containers/image expect:
 *  - simple signing payloads (cosign's ".sig" attachments), parsed as
 *    strictly as containers/image parses them;
 *  - DSSE envelopes with PAE signing, carrying in-toto Statement v1;
 *  - Sigstore bundle v0.3 JSON: blob signatures (messageSignature) and,
 *    as cosign 3 signs images, DSSE envelopes over an in-toto Statement.
 */
#ifndef CNAI_REGISTRY_SIGSTORE_H
#define CNAI_REGISTRY_SIGSTORE_H

#include <jansson.h>
#include <stddef.h>

#include "core/util/buf.h"
#include "registry/cosign_key.h"

#define CNAI_SIMPLESIGN_TYPE "cosign container image signature"
#define CNAI_SIMPLESIGN_MEDIA_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define CNAI_COSIGN_SIG_ANNOTATION "dev.cosignproject.cosign/signature"
#define CNAI_DSSE_MEDIA_TYPE "application/vnd.dsse.envelope.v1+json"
#define CNAI_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define CNAI_INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"
#define CNAI_BUNDLE_MEDIA_TYPE "application/vnd.dev.sigstore.bundle.v0.3+json"
/* The predicate type of a cosign 3 image signature (in a bundle). */
#define CNAI_COSIGN_SIGN_PREDICATE "https://sigstore.dev/cosign/sign/v1"

/*
 * The payload bytes that get signed: {"critical":{"identity":
 * {"docker-reference":REF},"image":{"docker-manifest-digest":DIGEST},
 * "type":"cosign container image signature"},"optional":OPTIONAL}.
 * optional: an object of annotations, or NULL for null (borrowed).
 */
int cnai_simplesign_payload(struct cnai_buf *out, const char *docker_ref,
			    const char *manifest_digest, json_t *optional);

struct cnai_simplesign {
	char *docker_ref;
	char *manifest_digest;
	json_t *optional; /* object or NULL (owned) */
};

/*
 * Parses a payload strictly: exactly the keys critical and optional;
 * critical holds exactly identity, image and type; type must be the cosign
 * type. CNAI_EINVALID naming the first violation.
 */
int cnai_simplesign_parse(struct cnai_simplesign *out, const char *payload,
			  size_t len);
void cnai_simplesign_release(struct cnai_simplesign *s);

/* DSSE pre-authentication encoding of (type, body). */
int cnai_dsse_pae(struct cnai_buf *out, const char *payload_type,
		  const void *body, size_t len);
/* Signs body into a DSSE envelope (compact JSON) with one signature. */
int cnai_dsse_sign(struct cnai_buf *envelope, const struct cnai_cosign_key *key,
		   const char *payload_type, const void *body, size_t len,
		   const char *keyid);

struct cnai_dsse {
	char *payload_type;
	struct cnai_buf payload; /* decoded */
	json_t *signatures;      /* array of {keyid, sig} (owned) */
};
/* Parses an envelope; CNAI_EINVALID naming what is malformed. */
int cnai_dsse_parse(struct cnai_dsse *out, const char *json, size_t len);
/* 0 if any signature verifies under key, CNAI_ECHECK if none. */
int cnai_dsse_verify(const struct cnai_dsse *env,
		     const struct cnai_cosign_key *key);
void cnai_dsse_release(struct cnai_dsse *env);

/* An in-toto Statement v1 about one subject (name, sha256 hex digest);
 * takes a reference to predicate. */
json_t *cnai_intoto_statement(const char *subject_name,
			      const char *sha256_hex,
			      const char *predicate_type, json_t *predicate);

/* A Sigstore bundle v0.3 for a blob signature (no transparency log). */
int cnai_bundle_blob(struct cnai_buf *out, const unsigned char digest[32],
		     const void *sig, size_t sig_len, const char *key_hint);
/*
 * Reads a blob bundle: the message digest (32 bytes) and the signature.
 * CNAI_EINVALID when it is not a v0.x bundle with a messageSignature.
 */
int cnai_bundle_blob_parse(unsigned char digest[32], struct cnai_buf *sig,
			   const char *json, size_t len);

/* cosign's key hint: base64 of the sha256 of the DER public key. */
int cnai_sigstore_key_hint(struct cnai_buf *out,
			   const struct cnai_cosign_key *key);

/*
 * A Sigstore bundle v0.3 around a DSSE envelope (the JSON cnai_dsse_sign
 * wrote), with the key hint as its verification material.
 */
int cnai_bundle_dsse(struct cnai_buf *out, const char *envelope, size_t len,
		     const char *key_hint);
/*
 * The DSSE envelope of a bundle. CNAI_EINVALID when it is not a Sigstore
 * bundle or holds no dsseEnvelope (a messageSignature bundle, say).
 */
int cnai_bundle_dsse_parse(struct cnai_dsse *out, const char *json,
			   size_t len);

#endif
