/*
 * package ls / inspect / export: the store's images, read from its OCI
 * layout. Export writes either another OCI layout or a `docker save`
 * style archive (an OCI layout plus manifest.json, as Docker 25+ writes).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/package/package.h"
#include "core/store/store.h"
#include "core/util/fs.h"
#include "registry/oci.h"
#include "core/util/banned.h"

/* cosign's sha256-<hex>.sig/.att tags and the referrers tag schema's
 * sha256-<hex> index: about an image, not images. */
static int is_attachment(const char *tag)
{
	size_t n = strlen(tag);

	return !strncmp(tag, "sha256-", 7) &&
	       (n == 7 + 64 || (n > 4 && (!strcmp(tag + n - 4, ".sig") ||
					  !strcmp(tag + n - 4, ".att"))));
}

/* Sum of the config and layer sizes of an image manifest. */
static uint64_t image_size(json_t *man)
{
	uint64_t total = (uint64_t)json_integer_value(
		json_object_get(json_object_get(man, "config"), "size"));
	json_t *l;
	size_t i;

	json_array_foreach(json_object_get(man, "layers"), i, l)
		total += (uint64_t)json_integer_value(json_object_get(l, "size"));
	return total;
}

static const char *kind_of(json_t *man)
{
	const char *at = json_string_value(json_object_get(man, "artifactType"));
	json_t *ann = json_object_get(man, "annotations");
	size_t n = json_array_size(json_object_get(man, "layers"));

	if (at)
		return "artifact";
	if (!json_object_get(ann, "ai.cnai.model.name"))
		return "image";
	return n >= 2 ? "serve" : "modelcar";
}

int package_ls(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const char *const header[] = { "TAG", "DIGEST", "KIND", "MODEL",
					      "SIZE" };
	static const struct option longopts[] = { CNAI_OPTS_COMMON,
						   { NULL, 0, NULL, 0 } };
	struct cnai_table t = { 0 };
	json_t *index = NULL, *e, *out = json_array();
	size_t i;
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":h", longopts, package_usage("ls"),
				ctx)) != -1) {
		json_decref(out);
		return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	}
	if (optind < argc) {
		json_decref(out);
		return cnai_error_set(CNAI_EUSAGE, "'package ls' takes no "
				      "arguments");
	}
	if ((err = cnai_oci_index_read(&index, cnai_store_oci(ctx->store))) <
		    0 ||
	    (err = cnai_table_init(&t, 5, header)) < 0)
		goto cleanup;
	json_array_foreach(json_object_get(index, "manifests"), i, e) {
		const char *tag = json_string_value(json_object_get(
			json_object_get(e, "annotations"), CNAI_OCI_REF_NAME));
		const char *digest = json_string_value(
			json_object_get(e, "digest"));
		json_t *man = NULL, *ann;
		char model[300] = "-", size[32], short_d[32];
		const char *row[5] = { tag, short_d, NULL, model, size };

		if (!tag || !digest || is_attachment(tag))
			continue;
		if (cnai_oci_json_read(&man, cnai_store_oci(ctx->store),
				       digest) < 0) {
			cnai_error_clear();
			continue;
		}
		ann = json_object_get(man, "annotations");
		if (json_object_get(ann, "ai.cnai.model.name"))
			snprintf(model, sizeof(model), "%s@%s",
				 json_string_value(json_object_get(
					 ann, "ai.cnai.model.name")),
				 json_string_value(json_object_get(
					 ann, "ai.cnai.model.version")) ?: "?");
		snprintf(size, sizeof(size), "%llu",
			 (unsigned long long)image_size(man));
		snprintf(short_d, sizeof(short_d), "sha256:%.12s", digest + 7);
		row[2] = kind_of(man);
		err = cnai_table_add(&t, row);
		json_array_append_new(
			out, json_pack("{s:s, s:s, s:s, s:s, s:I}", "tag", tag,
				       "digest", digest, "kind", row[2],
				       "model", model, "size",
				       (json_int_t)image_size(man)));
		json_decref(man);
		if (err < 0)
			goto cleanup;
	}
	if (ctx->json)
		err = cnai_json_print(json_incref(out));
	else
		cnai_table_print(&t, ctx);
cleanup:
	json_decref(index);
	json_decref(out);
	cnai_table_release(&t);
	return err;
}

static void print_list(const char *label, json_t *arr)
{
	json_t *v;
	size_t i;

	if (!json_array_size(arr))
		return;
	printf("%-14s", label);
	json_array_foreach(arr, i, v)
		printf("%s%s", i ? " " : "", json_string_value(v));
	printf("\n");
}

int package_inspect(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = { CNAI_OPTS_COMMON,
						   { NULL, 0, NULL, 0 } };
	struct cnai_oci_desc d, cd;
	json_t *man = NULL, *cfg = NULL, *l, *v;
	const char *k;
	size_t i;
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":h", longopts,
				package_usage("inspect"), ctx)) != -1)
		return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	if (argc - optind != 1)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      package_usage("inspect")->synopsis[0]);
	if ((err = cnai_oci_resolve(&d, cnai_store_oci(ctx->store),
				    argv[optind])) < 0 ||
	    (err = cnai_oci_json_read(&man, cnai_store_oci(ctx->store),
				      d.digest)) < 0)
		goto cleanup;
	if (cnai_oci_desc_parse(&cd, json_object_get(man, "config")) == 0 &&
	    strstr(cd.media_type, "image.config") &&
	    (err = cnai_oci_json_read(&cfg, cnai_store_oci(ctx->store),
				      cd.digest)) < 0)
		goto cleanup;
	cnai_error_clear();
	if (ctx->json) {
		err = cnai_json_print(json_pack("{s:s, s:s, s:O, s:O?}",
						"digest", d.digest,
						"media_type", d.media_type,
						"manifest", man, "config",
						cfg));
		goto cleanup;
	}
	printf("%-14s%s\n%-14s%s\n", "digest", d.digest, "media type",
	       d.media_type);
	if (json_string_value(json_object_get(man, "artifactType")))
		printf("%-14s%s\n", "artifact type",
		       json_string_value(json_object_get(man, "artifactType")));
	if (cfg) {
		json_t *cc = json_object_get(cfg, "config");

		printf("%-14s%s/%s\n", "platform",
		       json_string_value(json_object_get(cfg, "os")) ?: "",
		       json_string_value(json_object_get(cfg, "architecture")) ?: "");
		printf("%-14s%s\n", "created",
		       json_string_value(json_object_get(cfg, "created")) ?: "-");
		print_list("entrypoint", json_object_get(cc, "Entrypoint"));
		print_list("env", json_object_get(cc, "Env"));
		if (json_string_value(json_object_get(cc, "User")))
			printf("%-14s%s\n", "user",
			       json_string_value(json_object_get(cc, "User")));
		json_object_foreach(json_object_get(cc, "ExposedPorts"), k, v)
			printf("%-14s%s\n", "port", k);
	}
	json_object_foreach(json_object_get(man, "annotations"), k, v)
		printf("%-14s%s=%s\n", "annotation", k, json_string_value(v));
	printf("\nlayers:\n");
	json_array_foreach(json_object_get(man, "layers"), i, l)
		printf("  %s  %10lld  %s\n",
		       json_string_value(json_object_get(l, "digest")),
		       (long long)json_integer_value(json_object_get(l, "size")),
		       json_string_value(json_object_get(l, "mediaType")));
	printf("\ntotal %llu bytes\n", (unsigned long long)image_size(man));
cleanup:
	json_decref(man);
	json_decref(cfg);
	return err;
}

/* ---- export ------------------------------------------------------------ */

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

int package_export(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "oci-layout", required_argument, NULL, 'o' },
		{ "docker-archive", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *layout = NULL, *archive = NULL;
	struct cnai_oci_desc d;
	struct copy_state cs;
	int c, err, force = 0;

	while ((c = cnai_getopt(argc, argv, ":fh", longopts,
				package_usage("export"), ctx)) != -1) {
		if (c == 'o')
			layout = optarg;
		else if (c == 'd')
			archive = optarg;
		else if (c == 'f')
			force = 1;
		else
			return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	}
	if (argc - optind != 1 || !layout == !archive)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      package_usage("export")->synopsis[0]);
	if (force && layout)
		return cnai_error_set(CNAI_EUSAGE, "--force: only with "
				      "--docker-archive (export adds to a "
				      "layout, it overwrites nothing there)");
	if ((err = cnai_oci_resolve(&d, cnai_store_oci(ctx->store),
				    argv[optind])) < 0)
		return err;
	if (archive) {
		if ((err = check_archive(archive, force)) == 0)
			err = export_archive(cnai_store_oci(ctx->store),
					     argv[optind], &d, archive);
	} else {
		cs.from = cnai_store_oci(ctx->store);
		cs.to = layout;
		if ((err = check_layout(layout)) == 0 &&
		    (err = cnai_oci_layout_init(layout)) == 0 &&
		    (err = cnai_oci_walk(cnai_store_oci(ctx->store), &d,
					 copy_blob, &cs)) == 0)
			err = cnai_oci_tag(layout, argv[optind], &d, NULL);
	}
	if (!err && !ctx->json)
		printf("exported %s %s to %s\n", argv[optind], d.digest,
		       archive ? archive : layout);
	else if (!err)
		err = cnai_json_print(json_pack("{s:s, s:s, s:s}", "ref",
						argv[optind], "digest",
						d.digest, "to",
						archive ? archive : layout));
	return err;
}
