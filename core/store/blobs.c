/*
 * Blob storage. Copying and hashing happen in one pass over the source, so
 * a file is read once whatever its size.
 */
#include "core/store/blobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util/fs.h"
#include "core/store/store_impl.h"
#include "core/util/banned.h"

enum { CHUNK = 1 << 20 };

int cnai_blob_path(struct cnai_buf *out, const struct cnai_store *st,
		   const char *digest)
{
	if (!cnai_digest_is_valid(digest))
		return cnai_error_set(CNAI_EINVALID, "'%s' is not a sha256 "
				      "digest", digest);
	if (cnai_buf_addf(out, "%s/blobs/sha256/%s", st->oci, digest + 7) < 0)
		return cnai_buf_oom(out);
	return 0;
}

int cnai_blob_exists(const struct cnai_store *st, const char *digest)
{
	struct cnai_buf path = CNAI_BUF_INIT;
	int found;

	if (cnai_blob_path(&path, st, digest) < 0) {
		cnai_error_clear();
		return 0;
	}
	found = cnai_fs_exists(path.buf);
	cnai_buf_release(&path);
	return found;
}

/* Renames a finished temporary to its digest name, or drops it when an
 * identical blob is already there (the common case for a re-put). */
static int commit_blob(int *fd, struct cnai_buf *tmp,
		       const struct cnai_store *st, const char *digest)
{
	struct cnai_buf dst = CNAI_BUF_INIT, dir = CNAI_BUF_INIT;
	int err;

	if ((err = cnai_blob_path(&dst, st, digest)) < 0)
		goto cleanup;
	/* Already there: refresh its time instead, so that a gc running now
	 * (which spares recent blobs) cannot delete what was just stored. */
	if (cnai_fs_exists(dst.buf) && utimensat(AT_FDCWD, dst.buf, NULL, 0) == 0) {
		close(*fd);
		*fd = -1;
		unlink(tmp->buf);
		cnai_buf_reset(tmp);
		goto cleanup;
	}
	if (fchmod(*fd, 0444) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "chmod '%s'", tmp->buf);
		goto cleanup;
	}
	if ((err = cnai_fs_fsync_close_rename(fd, tmp->buf, dst.buf)) < 0)
		goto cleanup;
	cnai_buf_reset(tmp);
	if (cnai_buf_addf(&dir, "%s/blobs/sha256", st->oci) < 0) {
		err = cnai_buf_oom(&dir);
		goto cleanup;
	}
	err = cnai_fs_fsync_dir(dir.buf);
cleanup:
	cnai_buf_release(&dst);
	cnai_buf_release(&dir);
	return err;
}

static int open_tmp(struct cnai_buf *tmp, int *fd, const struct cnai_store *st)
{
	struct cnai_buf dir = CNAI_BUF_INIT;
	int err;

	if (cnai_buf_addf(&dir, "%s/blobs/sha256", st->oci) < 0)
		return cnai_buf_oom(&dir);
	err = cnai_fs_tmpfile(tmp, fd, dir.buf);
	cnai_buf_release(&dir);
	return err;
}

int cnai_blob_put_fd(char digest[CNAI_DIGEST_LEN], uint64_t *size_out,
		     struct cnai_store *st, int in, const char *name)
{
	struct cnai_buf tmp = CNAI_BUF_INIT;
	struct cnai_sha256 h = { NULL };
	unsigned char *chunk = NULL;
	uint64_t size = 0;
	int fd = -1, err;
	ssize_t n;

	if (!(chunk = malloc(CHUNK))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = open_tmp(&tmp, &fd, st)) < 0 ||
	    (err = cnai_sha256_init(&h)) < 0)
		goto cleanup;
	for (;;) {
		n = read(in, chunk, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = cnai_error_set_errno(errno == EISDIR
							   ? CNAI_EINVALID
							   : CNAI_ERROR,
						   "cannot read '%s'", name);
			goto cleanup;
		}
		if (n == 0)
			break;
		size += (uint64_t)n;
		if ((err = cnai_sha256_update(&h, chunk, (size_t)n)) < 0 ||
		    (err = cnai_fs_write_all(fd, chunk, (size_t)n)) < 0)
			goto cleanup;
	}
	if ((err = cnai_sha256_final(&h, digest)) < 0 ||
	    (err = commit_blob(&fd, &tmp, st, digest)) < 0)
		goto cleanup;
	if (size_out)
		*size_out = size;
cleanup:
	cnai_sha256_release(&h);
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.buf);
	cnai_buf_release(&tmp);
	free(chunk);
	return err;
}

int cnai_blob_put_file(char digest[CNAI_DIGEST_LEN], uint64_t *size_out,
		       struct cnai_store *st, const char *path)
{
	int in = open(path, O_RDONLY | O_CLOEXEC), err;

	if (in < 0)
		return cnai_error_set_errno(errno == ENOENT ? CNAI_ENOTFOUND
							    : CNAI_ERROR,
					    "cannot read '%s'", path);
	err = cnai_blob_put_fd(digest, size_out, st, in, path);
	close(in);
	return err;
}

/* 1 if the blob exists (its time refreshed, see commit_blob), else 0. */
static int touch_existing(const struct cnai_store *st, const char *digest)
{
	struct cnai_buf path = CNAI_BUF_INIT;
	int found = 0;

	if (cnai_blob_path(&path, st, digest) == 0)
		found = utimensat(AT_FDCWD, path.buf, NULL, 0) == 0;
	cnai_error_clear();
	cnai_buf_release(&path);
	return found;
}

int cnai_blob_put_buffer(char digest[CNAI_DIGEST_LEN], struct cnai_store *st,
			 const void *data, size_t len)
{
	struct cnai_buf tmp = CNAI_BUF_INIT;
	int fd = -1, err;

	if ((err = cnai_sha256_buffer(digest, data, len)) < 0)
		return err;
	if (touch_existing(st, digest))
		return 0;
	if ((err = open_tmp(&tmp, &fd, st)) < 0 ||
	    (err = cnai_fs_write_all(fd, data, len)) < 0)
		goto cleanup;
	err = commit_blob(&fd, &tmp, st, digest);
cleanup:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.buf);
	cnai_buf_release(&tmp);
	return err;
}

int cnai_blob_verify(const struct cnai_store *st, const char *digest)
{
	struct cnai_buf path = CNAI_BUF_INIT;
	char actual[CNAI_DIGEST_LEN];
	int err;

	if ((err = cnai_blob_path(&path, st, digest)) < 0)
		goto cleanup;
	if ((err = cnai_sha256_file(actual, NULL, path.buf)) < 0) {
		if (err == CNAI_ENOTFOUND)
			cnai_error_set(CNAI_ENOTFOUND, "blob %s is missing",
				       digest);
		goto cleanup;
	}
	if (strcmp(actual, digest) != 0)
		err = cnai_error_set(CNAI_ECHECK,
				     "blob %s is corrupt: its content hashes "
				     "to %s", digest, actual);
cleanup:
	cnai_buf_release(&path);
	return err;
}

int cnai_blob_read(struct cnai_buf *out, const struct cnai_store *st,
		   const char *digest, size_t limit)
{
	struct cnai_buf path = CNAI_BUF_INIT;
	int err;

	if ((err = cnai_blob_path(&path, st, digest)) == 0)
		err = cnai_fs_read_file(out, path.buf, limit);
	if (err == CNAI_ENOTFOUND)
		err = cnai_error_set(CNAI_ENOTFOUND, "blob %s is missing",
				     digest);
	cnai_buf_release(&path);
	return err;
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

int cnai_blob_foreach(const struct cnai_store *st, cnai_blob_fn fn,
		      void *payload)
{
	struct cnai_buf dir = CNAI_BUF_INIT, path = CNAI_BUF_INIT;
	char digest[CNAI_DIGEST_LEN];
	struct dirent *de;
	struct stat sb;
	DIR *d = NULL;
	time_t now = time(NULL);
	int err = 0;

	if (cnai_buf_addf(&dir, "%s/blobs/sha256", st->oci) < 0) {
		err = cnai_buf_oom(&dir);
		goto cleanup;
	}
	if (!(d = opendir(dir.buf))) {
		err = cnai_error_set_errno(CNAI_ERROR, "cannot open '%s'",
					   dir.buf);
		goto cleanup;
	}
	while ((de = readdir(d))) {
		int named;

		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		cnai_buf_reset(&path);
		if (cnai_buf_addf(&path, "%s/%s", dir.buf, de->d_name) < 0) {
			err = cnai_buf_oom(&path);
			break;
		}
		if (lstat(path.buf, &sb) < 0)
			continue;
		named = is_hex64(de->d_name);
		if (named)
			snprintf(digest, sizeof(digest), "sha256:%.64s",
				 de->d_name);
		if ((err = fn(named ? digest : NULL, path.buf,
			      difftime(now, sb.st_mtime), payload)) < 0)
			break;
	}
cleanup:
	if (d)
		closedir(d);
	cnai_buf_release(&dir);
	cnai_buf_release(&path);
	return err;
}
