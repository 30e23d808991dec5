/*
 * Durable file writes and small file-system helpers. Every file cnai keeps
 * is written through cnai_fs_tmpfile() + cnai_fs_fsync_close_rename(), so a
 * crash leaves either the old file or the complete new one.
 */
#include "core/util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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

int cnai_fs_read_error(const char *path)
{
	if (errno == EISDIR)
		return cnai_error_set(CNAI_EINVALID, "'%s' is a directory",
				      path);
	return cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'", path);
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
			err = cnai_fs_read_error(path);
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

/*
 * Destinations cnai writes into may hold symbolic links put there by
 * someone else (an unpacked archive, a shared folder); a path such as
 * "out/sub/model.onnx" with "sub -> /etc" would write outside "out". So
 * below the folder the user named, each component is opened with
 * O_NOFOLLOW from the one before it, never resolved as a path.
 */
int cnai_fs_open_below(int *out, int dirfd, const char *rel, int create,
		       const char *shown)
{
	struct cnai_buf comp = CNAI_BUF_INIT, seen = CNAI_BUF_INIT;
	const char *p = rel, *slash;
	int fd, next, err = 0;

	*out = -1;
	if ((fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0)) < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot open '%s'",
					    shown);
	cnai_buf_adds(&seen, shown);
	while (*p) {
		slash = strchr(p, '/');
		cnai_buf_reset(&comp);
		cnai_buf_add(&comp, p, slash ? (size_t)(slash - p) : strlen(p));
		p = slash ? slash + 1 : p + strlen(p);
		if (seen.len && seen.buf[seen.len - 1] != '/')
			cnai_buf_addch(&seen, '/');
		cnai_buf_adds(&seen, comp.buf);
		if ((err = cnai_buf_oom(&comp)) < 0 ||
		    (err = cnai_buf_oom(&seen)) < 0)
			break;
		if (!comp.len || !strcmp(comp.buf, "."))
			continue;
		if (!strcmp(comp.buf, "..")) {
			err = cnai_error_set(CNAI_EINVALID, "'%s' leaves '%s'",
					     seen.buf, shown);
			break;
		}
		next = openat(fd, comp.buf, O_RDONLY | O_DIRECTORY |
					    O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp.buf, 0755) < 0 &&
			    errno != EEXIST) {
				err = cnai_error_set_errno(CNAI_ERROR,
							   "cannot create "
							   "'%s'", seen.buf);
				break;
			}
			next = openat(fd, comp.buf, O_RDONLY | O_DIRECTORY |
						    O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			struct stat sb;
			int e = errno;

			if (e == ENOENT)
				err = cnai_error_set(CNAI_ENOTFOUND, "'%s' "
						     "does not exist",
						     seen.buf);
			else if (fstatat(fd, comp.buf, &sb,
					 AT_SYMLINK_NOFOLLOW) == 0 &&
				 S_ISLNK(sb.st_mode))
				err = cnai_error_set(CNAI_EINVALID, "'%s' is a "
						     "symbolic link (not "
						     "followed below '%s')",
						     seen.buf, shown);
			else if (e == ENOTDIR)
				err = cnai_error_set(CNAI_EINVALID, "'%s' is "
						     "not a folder", seen.buf);
			else
				err = cnai_error_set(CNAI_ERROR, "cannot open "
						     "'%s': %s", seen.buf,
						     strerror(e));
			break;
		}
		close(fd);
		fd = next;
	}
	if (err < 0)
		close(fd);
	else
		*out = fd;
	cnai_buf_release(&comp);
	cnai_buf_release(&seen);
	return err;
}

int cnai_fs_tmpfile_at(struct cnai_buf *name, int *fd_out, int dirfd,
		       const char *shown)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[6];
	int tries, fd = -1;
	size_t i;

	for (tries = 0; tries < 100; tries++) {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return cnai_error_set_errno(CNAI_ERROR, "getrandom");
		cnai_buf_reset(name);
		cnai_buf_adds(name, ".tmp-");
		for (i = 0; i < sizeof(r); i++)
			cnai_buf_addch(name, set[r[i] % (sizeof(set) - 1)]);
		if (cnai_buf_oom(name) < 0)
			return CNAI_ERROR;
		fd = openat(dirfd, name->buf, O_RDWR | O_CREAT | O_EXCL |
					      O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		int err = cnai_error_set_errno(CNAI_ERROR, "cannot create a "
					       "file in '%s'", shown);

		cnai_buf_reset(name);
		return err;
	}
	*fd_out = fd;
	return 0;
}

/*
 * Empties the open folder `fd` (closed here), entry by entry through
 * unlinkat()/openat() with O_NOFOLLOW, so that the walk never leaves the
 * tree through a symbolic link. `shown` names the folder in messages.
 */
static int remove_below(int fd, const char *shown)
{
	struct dirent *e;
	struct stat sb;
	DIR *d;
	int sub, err = 0;

	if (!(d = fdopendir(fd))) {
		close(fd);
		return cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'",
					    shown);
	}
	while (!err && (errno = 0, e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				err = cnai_error_set_errno(
					CNAI_ERROR, "cannot remove '%s/%s'",
					shown, e->d_name);
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			sub = openat(dirfd(d), e->d_name, O_RDONLY |
				     O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0 || (err = remove_below(sub, shown)) < 0) {
				if (sub < 0)
					err = cnai_error_set_errno(
						CNAI_ERROR, "cannot remove "
						"'%s/%s'", shown, e->d_name);
				break;
			}
		}
		if (unlinkat(dirfd(d), e->d_name,
			     S_ISDIR(sb.st_mode) ? AT_REMOVEDIR : 0) < 0 &&
		    errno != ENOENT)
			err = cnai_error_set_errno(CNAI_ERROR, "cannot remove "
						   "'%s/%s'", shown, e->d_name);
	}
	if (!err && errno)
		err = cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'",
					   shown);
	closedir(d);
	return err;
}

int cnai_fs_remove_tree(const char *path)
{
	struct stat sb;
	int fd, err;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0
				       : cnai_error_set_errno(CNAI_ERROR,
							      "cannot remove "
							      "'%s'", path);
	if (!S_ISDIR(sb.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return cnai_error_set_errno(CNAI_ERROR, "cannot remove "
						    "'%s'", path);
		return 0;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot remove '%s'",
					    path);
	if ((err = remove_below(fd, path)) < 0)
		return err;
	if (rmdir(path) < 0 && errno != ENOENT)
		return cnai_error_set_errno(CNAI_ERROR, "cannot remove '%s'",
					    path);
	return 0;
}

void cnai_fs_remove_tree_quietly(const char *path)
{
	const struct cnai_error *last = cnai_error_last();
	struct cnai_error saved = { 0 };

	if (last)
		saved = *last;
	if (cnai_fs_remove_tree(path) == 0)
		return;
	cnai_error_clear();
	if (last)
		cnai_error_set(saved.code, "%s", saved.message);
}
