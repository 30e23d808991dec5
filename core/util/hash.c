/*
 * SHA-256 for blobs, datasets and artifacts. One context per stream; files
 * are hashed with large reads so that hashing runs near memory speed.
 */
#include "core/util/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

int cnai_sha256_init(struct cnai_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	h->evp = ctx;
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		cnai_sha256_release(h);
		return cnai_error_set(CNAI_ERROR, "sha256: cannot initialise");
	}
	return 0;
}

int cnai_sha256_update(struct cnai_sha256 *h, const void *data, size_t len)
{
	if (EVP_DigestUpdate(h->evp, data, len) != 1)
		return cnai_error_set(CNAI_ERROR, "sha256: update failed");
	return 0;
}

int cnai_sha256_final(struct cnai_sha256 *h, char out[CNAI_DIGEST_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 0, i;

	if (EVP_DigestFinal_ex(h->evp, md, &n) != 1 || n != 32) {
		cnai_sha256_release(h);
		return cnai_error_set(CNAI_ERROR, "sha256: final failed");
	}
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[7 + 64] = '\0';
	cnai_sha256_release(h);
	return 0;
}

void cnai_sha256_release(struct cnai_sha256 *h)
{
	EVP_MD_CTX_free(h->evp);
	h->evp = NULL;
}

int cnai_sha256_buffer(char out[CNAI_DIGEST_LEN], const void *data,
		       size_t len)
{
	struct cnai_sha256 h;
	int err;

	if ((err = cnai_sha256_init(&h)) < 0)
		return err;
	if ((err = cnai_sha256_update(&h, data, len)) < 0) {
		cnai_sha256_release(&h);
		return err;
	}
	return cnai_sha256_final(&h, out);
}

int cnai_sha256_file(char out[CNAI_DIGEST_LEN], uint64_t *size_out,
		     const char *path)
{
	enum { CHUNK = 1 << 20 };
	struct cnai_sha256 h = { NULL };
	unsigned char *chunk = NULL;
	uint64_t size = 0;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cnai_error_set_errno(errno == ENOENT ? CNAI_ENOTFOUND
							    : CNAI_ERROR,
					    "cannot read '%s'", path);
	if (!(chunk = malloc(CHUNK))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = cnai_sha256_init(&h)) < 0)
		goto cleanup;
	for (;;) {
		n = read(fd, chunk, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = cnai_fs_read_error(path);
			goto cleanup;
		}
		if (n == 0)
			break;
		size += (uint64_t)n;
		if ((err = cnai_sha256_update(&h, chunk, (size_t)n)) < 0)
			goto cleanup;
	}
	err = cnai_sha256_final(&h, out);
	if (size_out)
		*size_out = size;
cleanup:
	cnai_sha256_release(&h);
	free(chunk);
	close(fd);
	return err;
}

int cnai_digest_is_valid(const char *s)
{
	size_t i;

	if (strncmp(s, "sha256:", 7) != 0)
		return 0;
	for (i = 0; i < 64; i++) {
		char c = s[7 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return s[71] == '\0';
}
