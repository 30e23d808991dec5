/*
 * cosign key files. A private key is PKCS#8 DER sealed with NaCl secretbox
 * under a key derived by scrypt from a passphrase, in a JSON document
 * (go-securesystemslib's "encrypted" format), PEM-wrapped as
 * "ENCRYPTED SIGSTORE PRIVATE KEY" (older cosign: "ENCRYPTED COSIGN
 * PRIVATE KEY"). A public key is PEM "PUBLIC KEY" (PKIX).
 */
#ifndef CNAI_REGISTRY_COSIGN_KEY_H
#define CNAI_REGISTRY_COSIGN_KEY_H

#include <stddef.h>

#include "core/util/buf.h"

#define CNAI_COSIGN_PEM_TYPE "ENCRYPTED SIGSTORE PRIVATE KEY"
#define CNAI_COSIGN_PEM_TYPE_LEGACY "ENCRYPTED COSIGN PRIVATE KEY"
/* scrypt N that every cosign reads; newer ones also read 65536, 131072. */
#define CNAI_COSIGN_SCRYPT_N 32768
/* Refused above this: a hostile key file must not exhaust memory. The
 * fuzzers (make fuzz) lower it so that each input stays quick. */
#ifdef CNAI_FUZZING
#define CNAI_COSIGN_SCRYPT_N_MAX (1 << 10)
#else
#define CNAI_COSIGN_SCRYPT_N_MAX (1 << 20)
#endif

struct cnai_cosign_key; /* an EVP_PKEY, private or public */

/* A new ECDSA P-256 key pair. */
int cnai_cosign_key_generate(struct cnai_cosign_key **out);
/*
 * The private key as an encrypted PEM file body. legacy != 0 writes the
 * older "ENCRYPTED COSIGN PRIVATE KEY" type. scrypt_n 0 = the default.
 */
int cnai_cosign_key_encrypt(struct cnai_buf *pem,
			    const struct cnai_cosign_key *key,
			    const char *passphrase, size_t pass_len,
			    long scrypt_n, int legacy);
/*
 * Reads an encrypted private key file's text. A wrong passphrase is
 * CNAI_EINVALID "incorrect passphrase for NAME" (name: the file, for the
 * message); malformed files are CNAI_EINVALID naming what is wrong.
 */
int cnai_cosign_key_decrypt(struct cnai_cosign_key **out, const char *pem,
			    size_t len, const char *passphrase,
			    size_t pass_len, const char *name);
/* Reads a plain PEM private key (PKCS#8, SEC1 EC, or PKCS#1 RSA). */
int cnai_cosign_key_import(struct cnai_cosign_key **out, const char *pem,
			   size_t len, const char *name);
/* Reads a "PUBLIC KEY" PEM. */
int cnai_cosign_key_read_public(struct cnai_cosign_key **out, const char *pem,
				size_t len, const char *name);
/* The public half as PEM "PUBLIC KEY". */
int cnai_cosign_key_public_pem(struct cnai_buf *pem,
			       const struct cnai_cosign_key *key);
/* sha256 of the DER public key, hex: a fingerprint to show users. */
int cnai_cosign_key_fingerprint(char out[65], const struct cnai_cosign_key *key);
void cnai_cosign_key_free(struct cnai_cosign_key *key);

/* Signs sha256(data) (ECDSA: ASN.1 DER; RSA: PKCS#1 v1.5). */
int cnai_cosign_sign(struct cnai_buf *sig, const struct cnai_cosign_key *key,
		     const void *data, size_t len);
/* Signs a precomputed sha256 digest (32 bytes). */
int cnai_cosign_sign_digest(struct cnai_buf *sig,
			    const struct cnai_cosign_key *key,
			    const unsigned char digest[32]);
/* 0 if sig is a valid signature of data by key, CNAI_ECHECK if not. */
int cnai_cosign_verify(const struct cnai_cosign_key *key, const void *data,
		       size_t len, const void *sig, size_t sig_len);
int cnai_cosign_verify_digest(const struct cnai_cosign_key *key,
			      const unsigned char digest[32], const void *sig,
			      size_t sig_len);

/* Standard, padded base64 (what cosign writes) into/out of a buffer. */
int cnai_base64_encode(struct cnai_buf *out, const void *data, size_t len);
int cnai_base64_decode(struct cnai_buf *out, const char *text, size_t len);

#endif
