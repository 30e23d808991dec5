/*
 * File-system helpers that never leave a half-written file behind: writes
 * go to a temporary file in the target's folder, are fsynced and renamed.
 */
#ifndef CNAI_CORE_UTIL_FS_H
#define CNAI_CORE_UTIL_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "core/util/buf.h"

/* Creates `path` and its missing parents with `mode`. */
int cnai_fs_mkdir_p(const char *path, mode_t mode);
/* Writes `len` bytes to `path` atomically (temp file, fsync, rename). */
int cnai_fs_write_atomic(const char *path, const void *data, size_t len,
			 mode_t mode);
/*
 * The error for a read(2) of `path` that failed with errno: a directory
 * where a file belongs is bad input (CNAI_EINVALID, "'PATH' is a
 * directory"), anything else a runtime failure (CNAI_ERROR). Returns the
 * code, as cnai_error_set() does.
 */
int cnai_fs_read_error(const char *path);

/*
 * Appends the whole file to `out`; refuses files over `limit` bytes
 * (0 = none) with CNAI_EINVALID naming the file.
 */
int cnai_fs_read_file(struct cnai_buf *out, const char *path, size_t limit);
/* 1 if `path` exists (any type), 0 if not. */
int cnai_fs_exists(const char *path);
int cnai_fs_is_dir(const char *path);
/* fsyncs a folder so that a rename in it is durable. */
int cnai_fs_fsync_dir(const char *path);
/*
 * Opens a new temporary file in folder `dir` (mode 0600) and sets `path`
 * to its name. The caller closes, renames or unlinks it.
 */
int cnai_fs_tmpfile(struct cnai_buf *path, int *fd_out, const char *dir);
/* fsyncs and closes *fd (set to -1), then renames src to dst. */
int cnai_fs_fsync_close_rename(int *fd, const char *src, const char *dst);
/* Writes all of `len` bytes, retrying short writes and EINTR. */
int cnai_fs_write_all(int fd, const void *data, size_t len);
/*
 * Removes `path` and everything below it, without forking `rm -rf` and
 * without following a symbolic link: a link below `path` (or `path`
 * itself, when it is one) is removed, never what it points at. A missing
 * `path` is 0. CNAI_ERROR naming the first entry that could not go; what
 * could be removed before it is gone.
 */
int cnai_fs_remove_tree(const char *path);
/*
 * cnai_fs_remove_tree() as a cleanup on the way out, after success or an
 * error: whatever error the thread had set is kept as it was (a leftover
 * temporary folder must not replace the message saying what failed), and
 * a failure to remove is not reported.
 */
void cnai_fs_remove_tree_quietly(const char *path);
/* Absolute, symlink-free form of an existing path into `out`. */
int cnai_fs_realpath(struct cnai_buf *out, const char *path);

/*
 * Opens the folder `rel` ("" for `dirfd` itself) below the open folder
 * `dirfd` one component at a time with O_NOFOLLOW, so that no symbolic
 * link below `dirfd` is followed; with `create`, missing folders are made
 * (mode 0755). `shown` is dirfd's path as the user named it, for messages.
 * Sets *out to the folder's descriptor, the caller's to close.
 * Returns CNAI_EINVALID when a component is a symbolic link, not a folder
 * or "..", CNAI_ENOTFOUND when one is missing and `create` is 0.
 */
int cnai_fs_open_below(int *out, int dirfd, const char *rel, int create,
		       const char *shown);
/*
 * Like cnai_fs_tmpfile(), in the open folder `dirfd`: `name` is set to the
 * file's name in it (".tmp-XXXXXX"), made with O_EXCL | O_NOFOLLOW.
 * `shown` names the folder in messages.
 */
int cnai_fs_tmpfile_at(struct cnai_buf *name, int *fd_out, int dirfd,
		       const char *shown);

#endif
