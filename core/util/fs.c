/*
 * Durable file writes and small file-system helpers. Every file cnai keeps
 * is written through cnai_fs_tmpfile() + cnai_fs_fsync_close_rename(), so a
 * crash leaves either the old file or the complete new one.
 */
#include "core/util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util/banned.h"

int cnai_fs_mkdir_p(const char *path, mode_t mode)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	size_t i;
	int err = 0;

	if (cnai_buf_adds(&b, path) < 0)
		return cnai_buf_oom(&b);
	for (i = 1; i <= b.len; i++) {
		if (b.buf[i] != '/' && b.buf[i] != '\0')
			continue;
		b.buf[i] = '\0';
		/* EEXIST from a file in the way is still an error */
		if (mkdir(b.buf, mode) < 0 &&
		    (errno != EEXIST || !cnai_fs_is_dir(b.buf))) {
			errno = errno == EEXIST ? ENOTDIR : errno;
			err = cnai_error_set_errno(CNAI_ERROR,
						   "cannot create '%s'", b.buf);
			break;
		}
		if (i < b.len)
			b.buf[i] = '/';
	}
	cnai_buf_release(&b);
	return err;
}

int cnai_fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cnai_error_set_errno(CNAI_ERROR, "write");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cnai_fs_tmpfile(struct cnai_buf *path, int *fd_out, const char *dir)
{
	int fd;

	cnai_buf_reset(path);
	if (cnai_buf_addf(path, "%s/.tmp-XXXXXX", dir) < 0)
		return cnai_buf_oom(path);
	fd = mkstemp(path->buf);
	if (fd < 0) {
		int err = cnai_error_set_errno(CNAI_ERROR,
					       "cannot create a file in '%s'",
					       dir);
		cnai_buf_reset(path);
		return err;
	}
	*fd_out = fd;
	return 0;
}

int cnai_fs_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot open '%s'",
					    path);
	if (fsync(fd) < 0 && errno != EINVAL) {
		close(fd);
		return cnai_error_set_errno(CNAI_ERROR, "fsync '%s'", path);
	}
	close(fd);
	return 0;
}

int cnai_fs_fsync_close_rename(int *fd, const char *src, const char *dst)
{
	int f = *fd;

	*fd = -1;
	if (fsync(f) < 0) {
		close(f);
		return cnai_error_set_errno(CNAI_ERROR, "fsync '%s'", src);
	}
	if (close(f) < 0)
		return cnai_error_set_errno(CNAI_ERROR, "close '%s'", src);
	if (rename(src, dst) < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot rename to '%s'",
					    dst);
	return 0;
}

static int dirname_of(struct cnai_buf *out, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return cnai_buf_adds(out, ".");
	if (slash == path)
		return cnai_buf_adds(out, "/");
	return cnai_buf_add(out, path, (size_t)(slash - path));
}

int cnai_fs_write_atomic(const char *path, const void *data, size_t len,
			 mode_t mode)
{
	struct cnai_buf dir = CNAI_BUF_INIT, tmp = CNAI_BUF_INIT;
	int fd = -1, err;

	if (dirname_of(&dir, path) < 0) {
		err = cnai_buf_oom(&dir);
		goto cleanup;
	}
	if ((err = cnai_fs_tmpfile(&tmp, &fd, dir.buf)) < 0)
		goto cleanup;
	if (fchmod(fd, mode) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "chmod '%s'", path);
		goto cleanup;
	}
	if ((err = cnai_fs_write_all(fd, data, len)) < 0 ||
	    (err = cnai_fs_fsync_close_rename(&fd, tmp.buf, path)) < 0)
		goto cleanup;
	err = cnai_fs_fsync_dir(dir.buf);
cleanup:
	if (fd >= 0)
		close(fd);
	if (err < 0 && tmp.len)
		unlink(tmp.buf);
	cnai_buf_release(&dir);
	cnai_buf_release(&tmp);
	return err;
}

int cnai_fs_read_file(struct cnai_buf *out, const char *path, size_t limit)
{
	char chunk[65536];
	size_t total = 0;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cnai_error_set_errno(errno == ENOENT ? CNAI_ENOTFOUND
							    : CNAI_ERROR,
					    "cannot read '%s'", path);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = cnai_error_set_errno(CNAI_ERROR,
						   "cannot read '%s'", path);
			break;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (limit && total > limit) {
			err = cnai_error_set(CNAI_EINVALID,
					     "%s: larger than the limit of %zu "
					     "bytes", path, limit);
			break;
		}
		if (cnai_buf_add(out, chunk, (size_t)n) < 0) {
			err = cnai_buf_oom(out);
			break;
		}
	}
	close(fd);
	return err;
}

int cnai_fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int cnai_fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cnai_fs_realpath(struct cnai_buf *out, const char *path)
{
	char *p = realpath(path, NULL);
	int err;

	if (!p)
		return cnai_error_set_errno(CNAI_ERROR, "cannot resolve '%s'",
					    path);
	err = cnai_buf_adds(out, p);
	free(p);
	return err < 0 ? cnai_buf_oom(out) : 0;
}
