/*
 * Copies of an image out of an OCI layout: into another OCI layout (its
 * blobs added, the image tagged), or into a `docker save` style archive
 * (an OCI layout plus manifest.json, as Docker 25+ writes) that `docker
 * load` and skopeo read.
 */
#include "registry/image_export.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

/*
 * The destination is the user's, and may hold symbolic links someone
 * else put there. Nothing is written through one: the archive is written
 * to a temporary file beside it and renamed over it (replacing a link,
 * never following it), and a layout whose folders or files are links is
 * refused before anything is copied into it.
 */

struct copy_state {
	const char *from, *to;
};

/* Refuses a layout `dir` with a symbolic link where export would write. */
static int check_layout(const char *dir)
{
	static const char *const files[] = { "oci-layout", "index.json" };
	struct stat sb;
	size_t i;
	int root, fd = -1, err = 0;

	if ((root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0; /* made from scratch */
		if (errno == ENOTDIR)
			return cnai_error_set(CNAI_EINVALID, "'%s' is not a "
					      "folder", dir);
		return cnai_error_set_errno(CNAI_ERROR, "cannot open '%s'",
					    dir);
	}
	err = cnai_fs_open_below(&fd, root, "blobs/sha256", 0, dir);
	if (err == CNAI_ENOTFOUND) {
		cnai_error_clear();
		err = 0;
	}
	for (i = 0; !err && i < sizeof(files) / sizeof(*files); i++)
		if (fstatat(root, files[i], &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(sb.st_mode))
			err = cnai_error_set(CNAI_EINVALID, "'%s/%s' is a "
					     "symbolic link (not followed "
					     "below '%s')", dir, files[i], dir);
	if (fd >= 0)
		close(fd);
	close(root);
	return err;
}

static int copy_blob(const struct cnai_oci_desc *d, int is_manifest,
		     void *payload)
{
	struct copy_state *c = payload;
	struct cnai_buf data = CNAI_BUF_INIT;
	char digest[CNAI_DIGEST_LEN];
	struct stat sb;
	int err;

	(void)is_manifest;
	if ((err = cnai_oci_blob_path(&data, c->to, d->digest)) < 0)
		goto cleanup;
	if (lstat(data.buf, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		err = cnai_error_set(CNAI_EINVALID, "'%s' is a symbolic link "
				     "(not followed below '%s')", data.buf,
				     c->to);
		goto cleanup;
	}
	cnai_buf_reset(&data);
	if (cnai_oci_blob_exists(c->to, d->digest))
		goto cleanup;
	if ((err = cnai_oci_blob_read(&data, c->from, d->digest, 0)) == 0)
		err = cnai_oci_blob_put(digest, c->to, data.buf, data.len);
cleanup:
	cnai_buf_release(&data);
	return err;
}

struct tar_state {
	struct archive *a;
	const char *from;
	json_t *layers;
	char config[CNAI_DIGEST_LEN];
	int err;
};

static int tar_file(struct archive *a, const char *name, const char *src,
		    const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	struct stat sb;
	char chunk[65536];
	FILE *f = NULL;
	size_t n;
	int err = 0;

	if (src && (stat(src, &sb) < 0 || !(f = fopen(src, "rb")))) {
		archive_entry_free(e);
		return cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'", src);
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, src ? sb.st_size : (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, 0, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		err = cnai_error_set(CNAI_ERROR, "tar: %s",
				     archive_error_string(a));
	else if (!src && archive_write_data(a, data, len) < 0)
		err = cnai_error_set(CNAI_ERROR, "tar: %s",
				     archive_error_string(a));
	while (!err && f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (archive_write_data(a, chunk, n) < 0)
			err = cnai_error_set(CNAI_ERROR, "tar: %s",
					     archive_error_string(a));
	if (f)
		fclose(f);
	archive_entry_free(e);
	return err;
}

static int tar_blob(const struct cnai_oci_desc *d, int is_manifest,
		    void *payload)
{
	struct tar_state *t = payload;
	struct cnai_buf src = CNAI_BUF_INIT;
	char name[100];
	int err;

	(void)is_manifest;
	snprintf(name, sizeof(name), "blobs/sha256/%.64s", d->digest + 7);
	if ((err = cnai_oci_blob_path(&src, t->from, d->digest)) == 0)
		err = tar_file(t->a, name, src.buf, NULL, 0);
	cnai_buf_release(&src);
	return err;
}

static la_ssize_t archive_write_fd(struct archive *a, void *payload,
				   const void *buf, size_t len)
{
	if (cnai_fs_write_all(*(int *)payload, buf, len) < 0) {
		archive_set_error(a, errno, "%s", cnai_error_last()->message);
		return -1;
	}
	return (la_ssize_t)len;
}

/*
 * Refuses an archive path that is a folder, or that exists (a file or a
 * symbolic link, dangling or not) unless `force`.
 */
static int check_archive(const char *file, int force)
{
	struct stat sb;

	if (lstat(file, &sb) < 0)
		return 0;
	if (S_ISDIR(sb.st_mode))
		return cnai_error_set(CNAI_EINVALID, "'%s' is a folder", file);
	if (!force)
		return cnai_error_set(CNAI_EEXISTS, "'%s' exists; use --force "
				      "to overwrite", file);
	return 0;
}

static int export_archive(const char *dir, const char *ref,
			  const struct cnai_oci_desc *d, const char *file)
{
	struct tar_state t = { archive_write_new(), dir, json_array(), "", 0 };
	struct cnai_buf tmp = CNAI_BUF_INIT, folder = CNAI_BUF_INIT;
	json_t *man = NULL, *l, *dm, *index;
	const char *slash = strrchr(file, '/');
	char *text = NULL;
	size_t i;
	int fd = -1, err;

	if ((err = cnai_oci_json_read(&man, dir, d->digest)) < 0)
		goto cleanup;
	if (!json_object_get(man, "layers") ||
	    json_string_value(json_object_get(man, "artifactType"))) {
		err = cnai_error_set(CNAI_EINVALID,
				     "'%s' is not a single-platform image; "
				     "docker archives hold images only", ref);
		goto cleanup;
	}
	/* A temporary beside `file`, renamed over it once complete. */
	if (!slash)
		cnai_buf_adds(&folder, ".");
	else
		cnai_buf_add(&folder, file, slash == file ? 1 :
				      (size_t)(slash - file));
	if ((err = cnai_buf_oom(&folder)) < 0 ||
	    (err = cnai_fs_tmpfile(&tmp, &fd, folder.buf)) < 0)
		goto cleanup;
	/* One 10240-byte block size, the last block unpadded, as
	 * archive_write_open_filename() writes a regular file. */
	archive_write_set_format_pax_restricted(t.a);
	if (archive_write_set_bytes_per_block(t.a, 10240) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t.a, 1) != ARCHIVE_OK ||
	    archive_write_open2(t.a, &fd, NULL, archive_write_fd, NULL, NULL) !=
		    ARCHIVE_OK) {
		err = cnai_error_set(CNAI_ERROR, "cannot write '%s': %s", file,
				     archive_error_string(t.a));
		goto cleanup;
	}
	if ((err = cnai_oci_walk(dir, d, tar_blob, &t)) < 0)
		goto cleanup;
	json_array_foreach(json_object_get(man, "layers"), i, l)
		json_array_append_new(
			t.layers,
			json_sprintf("blobs/sha256/%s",
				     json_string_value(
					     json_object_get(l, "digest")) + 7));
	dm = json_pack("[{s:s+, s:[s], s:O}]", "Config", "blobs/sha256/",
		       json_string_value(json_object_get(
			       json_object_get(man, "config"), "digest")) + 7,
		       "RepoTags", ref, "Layers", t.layers);
	text = json_dumps(dm, JSON_COMPACT);
	json_decref(dm);
	if ((err = tar_file(t.a, "manifest.json", NULL, text, strlen(text))) < 0)
		goto cleanup;
	free(text);
	index = json_pack("{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s}}]}",
			  "schemaVersion", 2, "mediaType", CNAI_MEDIA_OCI_INDEX,
			  "manifests", "mediaType", d->media_type, "digest",
			  d->digest, "size", (json_int_t)d->size,
			  "annotations", CNAI_OCI_REF_NAME, ref);
	text = json_dumps(index, JSON_COMPACT);
	json_decref(index);
	if ((err = tar_file(t.a, "index.json", NULL, text, strlen(text))) < 0 ||
	    (err = tar_file(t.a, "oci-layout", NULL,
			    "{\"imageLayoutVersion\":\"1.0.0\"}", 30)) < 0)
		goto cleanup;
	if (archive_write_close(t.a) != ARCHIVE_OK) {
		err = cnai_error_set(CNAI_ERROR, "writing '%s': %s", file,
				     archive_error_string(t.a));
		goto cleanup;
	}
	if (fchmod(fd, 0644) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "chmod '%s'", tmp.buf);
		goto cleanup;
	}
	/* rename() replaces a symbolic link at `file`, never its target. */
	if ((err = cnai_fs_fsync_close_rename(&fd, tmp.buf, file)) == 0)
		cnai_buf_reset(&tmp);
cleanup:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.buf);
	cnai_buf_release(&tmp);
	cnai_buf_release(&folder);
	free(text);
	json_decref(man);
	json_decref(t.layers);
	archive_write_free(t.a);
	return err;
}

int cnai_image_export_layout(const char *from, const struct cnai_oci_desc *d,
			     const char *ref, const char *to)
{
	struct copy_state cs = { from, to };
	int err;

	if ((err = check_layout(to)) < 0 ||
	    (err = cnai_oci_layout_init(to)) < 0 ||
	    (err = cnai_oci_walk(from, d, copy_blob, &cs)) < 0)
		return err;
	return cnai_oci_tag(to, ref, d, NULL);
}

int cnai_image_export_archive(const char *from, const struct cnai_oci_desc *d,
			      const char *ref, const char *file, int force)
{
	int err;

	if ((err = check_archive(file, force)) < 0)
		return err;
	return export_archive(from, ref, d, file);
}
