/*
 * The model registry. Registering stores every file as a blob first (so a
 * failure leaves at most unreferenced blobs, which gc removes), then builds
 * the version's manifest and records everything in one write transaction.
 *
 * The manifest follows CNCF ModelPack: an OCI image manifest with
 * artifactType application/vnd.cncf.model.manifest.v1+json, a model config
 * blob, and one raw layer per file annotated with its path. It depends only
 * on the model's name, flavor and files, so registering the same content
 * again finds the same digest and reports the existing version.
 */
#include "core/store/models.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/store/blobs.h"
#include "core/store/lineage.h"
#include "core/store/origin.h"
#include "core/store/runs.h"
#include "core/util/fs.h"
#include "core/util/hash.h"
#include "core/store/store_impl.h"
#include "core/util/banned.h"

enum { MAX_FILES = 100000, MAX_DEPTH = 32 };

#define VERSION_COLUMNS                                                    \
	"v.id, m.name, v.version, v.manifest, v.flavor, v.description, "  \
	"v.run, v.created, v.created_by"

int cnai_model_name_is_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 128)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

static int alias_is_valid(const char *a)
{
	size_t i, n = strlen(a);

	if (n == 0 || n > 64 || !(a[0] >= 'a' && a[0] <= 'z') ||
	    !strcmp(a, "latest"))
		return 0;
	for (i = 1; i < n; i++)
		if (!((a[i] >= 'a' && a[i] <= 'z') ||
		      (a[i] >= '0' && a[i] <= '9') || a[i] == '_' ||
		      a[i] == '-'))
			return 0;
	return 1;
}

void cnai_model_version_free(struct cnai_model_version *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->nfiles; i++) {
		free(v->files[i].path);
		free(v->files[i].media_type);
	}
	for (i = 0; i < v->naliases; i++)
		free(v->aliases[i]);
	free(v->files);
	free(v->aliases);
	free(v->name);
	free(v->flavor);
	free(v->description);
	free(v->run);
	free(v->created_by);
	free(v);
}

void cnai_model_version_free_array(struct cnai_model_version **a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cnai_model_version_free(a[i]);
	free(a);
}

/* ---- collecting files ------------------------------------------------ */

/*
 * A model folder is untrusted input: it may come from an archive or a
 * repository, and a symbolic link in it such as "weights -> /etc/passwd"
 * or "etc -> /etc" would copy files from outside it into the store, and
 * from there into every image built from the version. So:
 *
 * - a folder is walked through descriptors (fstatat() that does not
 *   follow links, openat() with O_NOFOLLOW), never by path;
 * - a link in it is kept, as the file or folder it points to, only when
 *   realpath() puts its target inside the folder (realpath sees through
 *   ".." and chains of links); the target is then reached again from the
 *   folder's descriptor one component at a time without following links,
 *   so what is checked is what is read. A link out of the folder, to
 *   nothing, in a loop, or to a folder it is already in is refused, named;
 * - each file's device and inode are kept, and the file opened to copy it
 *   must be that one, so renaming things while it runs brings in nothing
 *   else.
 *
 * A path named on the command line is followed, link or not, as cp and
 * git do for the arguments they are given.
 */

struct file_entry {
	struct cnai_model_file f;
	char *src; /* the local file it comes from */
	dev_t dev; /* and what the walk found there */
	ino_t ino;
};

struct file_list {
	struct file_entry *e;
	size_t n, alloc;
};

static void file_list_release(struct file_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->e[i].f.path);
		free(l->e[i].f.media_type);
		free(l->e[i].src);
	}
	free(l->e);
	memset(l, 0, sizeof(*l));
}

static int file_list_add(struct file_list *l, const char *rel,
			 const char *src, const struct stat *sb)
{
	if (l->n >= MAX_FILES)
		return cnai_error_set(CNAI_EINVALID,
				      "a model may hold at most %d files",
				      MAX_FILES);
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 16;
		void *g = realloc(l->e, na * sizeof(*l->e));

		if (!g)
			return cnai_error_set(CNAI_ERROR, "out of memory");
		l->e = g;
		l->alloc = na;
	}
	memset(&l->e[l->n], 0, sizeof(l->e[l->n]));
	l->e[l->n].f.path = strdup(rel);
	l->e[l->n].src = strdup(src);
	l->e[l->n].dev = sb->st_dev;
	l->e[l->n].ino = sb->st_ino;
	if (!l->e[l->n].f.path || !l->e[l->n].src)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	l->n++;
	return 0;
}

/* One folder named on the command line, being walked. */
struct walk {
	struct file_list *l;
	const char *top;  /* as named */
	char *root;       /* its real path */
	int rootfd;
	struct stat open[MAX_DEPTH + 2]; /* the folders being walked */
	int depth;
};

static int walk_dir(struct walk *w, int fd, const char *src, const char *rel,
		    const char *link);

/*
 * The link at `src` (found in the walk, so `sb` says it is a link): its
 * target if inside the folder, as a descriptor `*fd` (folders, opened) or
 * a stat `sb` (anything else), reached below w->rootfd without following
 * links.
 */
static int follow_link(int *fd, struct stat *sb, struct walk *w,
		       const char *src)
{
	struct cnai_buf folder = CNAI_BUF_INIT;
	size_t n = strlen(w->root);
	const char *inside = NULL, *base;
	char *real = realpath(src, NULL);
	int pfd = -1, err = 0;

	*fd = -1;
	if (!real && (errno == ENOENT || errno == ENOTDIR))
		return cnai_error_set(CNAI_EINVALID, "symbolic link '%s' "
				      "points to nothing", src);
	if (!real && errno == ELOOP)
		return cnai_error_set(CNAI_EINVALID, "symbolic link '%s' is a "
				      "loop", src);
	if (!real)
		return cnai_error_set_errno(CNAI_ERROR, "cannot resolve '%s'",
					    src);
	if (!strcmp(real, w->root))
		inside = "";
	else if (!strncmp(real, w->root, n) &&
		 (real[n] == '/' || (n == 1 && real[0] == '/')))
		inside = real + n + (real[n] == '/');
	if (!inside) {
		err = cnai_error_set(CNAI_EINVALID, "symbolic link '%s' points "
				     "outside '%s' (to '%s')", src, w->top,
				     real);
		goto cleanup;
	}
	base = strrchr(inside, '/');
	cnai_buf_add(&folder, inside, base ? (size_t)(base - inside) : 0);
	base = base ? base + 1 : inside;
	if ((err = cnai_buf_oom(&folder)) < 0 ||
	    (err = cnai_fs_open_below(&pfd, w->rootfd, folder.buf, 0,
				      w->top)) < 0)
		goto cleanup;
	if (!*base) { /* the folder itself */
		*fd = fcntl(pfd, F_DUPFD_CLOEXEC, 0);
	} else if (fstatat(pfd, base, sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		   S_ISLNK(sb->st_mode)) {
		/* realpath() saw no link there a moment ago */
		err = cnai_error_set(CNAI_ERROR, "'%s' changed while it was "
				     "being read", src);
		goto cleanup;
	} else if (S_ISDIR(sb->st_mode)) {
		*fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC);
	} else {
		goto cleanup; /* a file: *sb says which */
	}
	if (*fd < 0)
		err = cnai_error_set_errno(CNAI_ERROR, "cannot open '%s'", src);
cleanup:
	if (pfd >= 0)
		close(pfd);
	cnai_buf_release(&folder);
	free(real);
	return err;
}

static int walk_entry(struct walk *w, int dfd, const char *name,
		      const char *src, const char *rel)
{
	struct stat sb;
	int fd = -1, err;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'",
					    src);
	if (S_ISLNK(sb.st_mode)) {
		if ((err = follow_link(&fd, &sb, w, src)) < 0)
			return err;
		if (fd >= 0)
			return walk_dir(w, fd, src, rel, src);
	} else if (S_ISDIR(sb.st_mode)) {
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				       O_CLOEXEC);
		if (fd < 0)
			return cnai_error_set_errno(CNAI_ERROR, "cannot open "
						    "'%s'", src);
		return walk_dir(w, fd, src, rel, NULL);
	}
	/* Sockets, FIFOs and devices are not model files. */
	return S_ISREG(sb.st_mode) ? file_list_add(w->l, rel, src, &sb) : 0;
}

/*
 * Adds the files of the folder open as `fd` (taken: closed here), shown
 * as `src`, named `rel` in the model; `link` is the symbolic link that
 * led here, if one did, to name in a loop.
 */
static int walk_dir(struct walk *w, int fd, const char *src, const char *rel,
		    const char *link)
{
	struct cnai_buf sub = CNAI_BUF_INIT, subrel = CNAI_BUF_INIT;
	struct dirent *de;
	struct stat *here = &w->open[w->depth];
	DIR *d = NULL;
	int i, err = 0;

	if (w->depth > MAX_DEPTH) {
		close(fd);
		return cnai_error_set(CNAI_EINVALID, "'%s': folders nested "
				      "deeper than %d", src, MAX_DEPTH);
	}
	if (fstat(fd, here) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'", src);
		close(fd);
		return err;
	}
	for (i = 0; i < w->depth; i++)
		if (w->open[i].st_dev == here->st_dev &&
		    w->open[i].st_ino == here->st_ino) {
			close(fd);
			if (!link) /* a bind mount */
				return cnai_error_set(CNAI_EINVALID, "'%s' is "
						      "a folder it is in",
						      src);
			return cnai_error_set(CNAI_EINVALID, "symbolic link "
					      "'%s' is a loop (it leads to a "
					      "folder it is in)", link);
		}
	if (!(d = fdopendir(fd))) {
		err = cnai_error_set_errno(CNAI_ERROR, "cannot open '%s'", src);
		close(fd);
		return err;
	}
	w->depth++;
	while (!err && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cnai_buf_reset(&sub);
		cnai_buf_reset(&subrel);
		cnai_buf_addf(&sub, "%s%s%s", src,
			      src[strlen(src) - 1] == '/' ? "" : "/",
			      de->d_name);
		cnai_buf_addf(&subrel, "%s%s%s", rel, *rel ? "/" : "",
			      de->d_name);
		if ((err = cnai_buf_oom(&sub)) < 0 ||
		    (err = cnai_buf_oom(&subrel)) < 0)
			break;
		err = walk_entry(w, dirfd(d), de->d_name, sub.buf, subrel.buf);
	}
	if (!err && errno)
		err = cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'", src);
	w->depth--;
	closedir(d);
	cnai_buf_release(&sub);
	cnai_buf_release(&subrel);
	return err;
}

static int collect_dir(struct file_list *l, const char *dir)
{
	struct walk w = { l, dir, NULL, -1, { { 0 } }, 0 };
	int fd, err;

	if (!(w.root = realpath(dir, NULL)))
		return cnai_error_set_errno(CNAI_ERROR, "cannot resolve '%s'",
					    dir);
	if ((w.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (fd = fcntl(w.rootfd, F_DUPFD_CLOEXEC, 0)) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "cannot open '%s'", dir);
		goto cleanup;
	}
	err = walk_dir(&w, fd, dir, "", NULL);
cleanup:
	if (w.rootfd >= 0)
		close(w.rootfd);
	free(w.root);
	return err;
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct file_entry *)a)->f.path,
		      ((const struct file_entry *)b)->f.path);
}

static int collect(struct file_list *l, const char *const *paths, size_t n)
{
	struct stat sb;
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		if (stat(paths[i], &sb) < 0)
			return cnai_error_set_errno(
				errno == ENOENT ? CNAI_ENOTFOUND : CNAI_ERROR,
				"cannot read '%s'", paths[i]);
		if (S_ISDIR(sb.st_mode)) {
			if ((err = collect_dir(l, paths[i])) < 0)
				return err;
		} else if (!S_ISREG(sb.st_mode)) {
			/* A FIFO or a device would block or never end. */
			return cnai_error_set(CNAI_EINVALID,
					      "'%s' is not a file or a folder",
					      paths[i]);
		} else {
			const char *base = strrchr(paths[i], '/');

			if ((err = file_list_add(l, base ? base + 1 : paths[i],
						 paths[i], &sb)) < 0)
				return err;
		}
	}
	if (l->n == 0)
		return cnai_error_set(CNAI_EINVALID, "no files to register");
	return 0;
}

/*
 * Copies one collected file into the store, refusing it if the file now
 * at its path is not the one the walk checked. O_NONBLOCK: a FIFO put in
 * its place must not hang the open.
 */
static int put_file(struct cnai_store *st, struct file_entry *e)
{
	struct stat sb;
	int fd, err;

	fd = open(e->src, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'",
					    e->src);
	if (fstat(fd, &sb) < 0)
		err = cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'",
					   e->src);
	else if (!S_ISREG(sb.st_mode) || sb.st_dev != e->dev ||
		 sb.st_ino != e->ino)
		err = cnai_error_set(CNAI_ERROR, "'%s' changed while it was "
				     "being read", e->src);
	else
		err = cnai_blob_put_fd(e->f.digest, &e->f.size, st, fd,
				       e->src);
	close(fd);
	return err;
}

/* ModelPack layer media types by what a file is. */
static const char *media_type_for(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');

	if (!strncasecmp(base, "README", 6) || !strncasecmp(base, "LICENSE", 7) ||
	    (dot && (!strcasecmp(dot, ".md") || !strcasecmp(dot, ".txt"))))
		return "application/vnd.cncf.model.doc.v1.raw";
	if (dot && (!strcasecmp(dot, ".json") || !strcasecmp(dot, ".yaml") ||
		    !strcasecmp(dot, ".yml") || !strcasecmp(dot, ".toml")))
		return "application/vnd.cncf.model.weight.config.v1.raw";
	if (dot && (!strcasecmp(dot, ".py") || !strcasecmp(dot, ".sh")))
		return "application/vnd.cncf.model.code.v1.raw";
	if (dot && (!strcasecmp(dot, ".csv") || !strcasecmp(dot, ".parquet")))
		return "application/vnd.cncf.model.dataset.v1.raw";
	return "application/vnd.cncf.model.weight.v1.raw";
}

static const char *guess_flavor(const struct file_list *l)
{
	size_t i;
	int onnx = 0, st = 0;

	for (i = 0; i < l->n; i++) {
		const char *p = l->e[i].f.path, *dot = strrchr(p, '.');

		if (!strcmp(p, "cnai-model.json"))
			return "cnai";
		onnx |= dot && !strcmp(dot, ".onnx");
		st |= dot && !strcmp(dot, ".safetensors");
	}
	return onnx ? "onnx" : st ? "safetensors" : "files";
}

/* ---- manifest ---------------------------------------------------------- */

static json_t *descriptor(const char *media_type, const char *digest,
			  uint64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest",
			 digest, "size", (json_int_t)size);
}

/* Canonical JSON: compact, keys sorted, so equal content = equal bytes. */
static int put_json(char digest[CNAI_DIGEST_LEN], uint64_t *size,
		    struct cnai_store *st, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	int err;

	if (!text)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	*size = strlen(text);
	err = cnai_blob_put_buffer(digest, st, text, *size);
	free(text);
	return err;
}

static int build_manifest(char manifest[CNAI_DIGEST_LEN],
			  char config[CNAI_DIGEST_LEN], struct cnai_store *st,
			  const char *name, const char *flavor,
			  const struct file_list *l)
{
	json_t *diff_ids = json_array(), *layers = json_array(), *cfg, *man;
	uint64_t cfg_size, man_size;
	size_t i;
	int err;

	for (i = 0; i < l->n; i++) {
		const struct cnai_model_file *f = &l->e[i].f;
		json_t *d = descriptor(f->media_type, f->digest, f->size);

		json_object_set_new(d, "annotations",
				    json_pack("{s:s}", "org.cncf.model.filepath",
					      f->path));
		json_array_append_new(layers, d);
		json_array_append_new(diff_ids, json_string(f->digest));
	}
	cfg = json_pack("{s:{s:s}, s:{s:s}, s:{s:s, s:o}}", "descriptor",
			"name", name, "config", "format", flavor, "modelfs",
			"type", "layers", "diffIds", diff_ids);
	if (!cfg) {
		json_decref(layers);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	if ((err = put_json(config, &cfg_size, st, cfg)) < 0) {
		json_decref(cfg);
		json_decref(layers);
		return err;
	}
	json_decref(cfg);
	man = json_pack("{s:i, s:s, s:s, s:o, s:o, s:{s:s}}", "schemaVersion",
			2, "mediaType",
			"application/vnd.oci.image.manifest.v1+json",
			"artifactType", CNAI_MODEL_ARTIFACT_TYPE, "config",
			descriptor(CNAI_MODEL_CONFIG_TYPE, config, cfg_size),
			"layers", layers, "annotations",
			"org.opencontainers.image.title", name);
	if (!man)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	err = put_json(manifest, &man_size, st, man);
	json_decref(man);
	return err;
}

/* ---- reading versions -------------------------------------------------- */

static int read_version(struct cnai_model_version **out, sqlite3_stmt *s)
{
	struct cnai_model_version *v = calloc(1, sizeof(*v));
	const unsigned char *d;

	if (!v)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	v->id = sqlite3_column_int64(s, 0);
	v->name = cnai_db_column_strdup(s, 1);
	v->version = sqlite3_column_int64(s, 2);
	d = sqlite3_column_text(s, 3);
	snprintf(v->manifest_digest, sizeof(v->manifest_digest), "%s",
		 d ? (const char *)d : "");
	v->flavor = cnai_db_column_strdup(s, 4);
	v->description = cnai_db_column_strdup(s, 5);
	v->run = cnai_db_column_strdup(s, 6);
	v->created = sqlite3_column_int64(s, 7);
	v->created_by = cnai_db_column_strdup(s, 8);
	*out = v;
	return 0;
}

static int load_details(struct cnai_model_version *v, struct cnai_db *db)
{
	sqlite3_stmt *s = NULL;
	void *g;
	int err, rc;

	if ((err = cnai_db_prepare(&s, db,
				   "SELECT path, digest, size, media_type FROM "
				   "model_files WHERE version = ? ORDER BY "
				   "path")) < 0)
		return err;
	sqlite3_bind_int64(s, 1, v->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cnai_model_file *f;

		if (!(g = realloc(v->files, (v->nfiles + 1) * sizeof(*f)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		v->files = g;
		f = &v->files[v->nfiles++];
		f->path = cnai_db_column_strdup(s, 0);
		snprintf(f->digest, sizeof(f->digest), "%s",
			 (const char *)sqlite3_column_text(s, 1));
		f->size = (uint64_t)sqlite3_column_int64(s, 2);
		f->media_type = cnai_db_column_strdup(s, 3);
	}
	sqlite3_finalize(s);
	if (err < 0)
		return err;
	if ((err = cnai_db_prepare(&s, db,
				   "SELECT a.alias FROM aliases a JOIN "
				   "model_versions v ON v.model = a.model AND "
				   "v.version = a.version WHERE v.id = ? ORDER "
				   "BY a.alias")) < 0)
		return err;
	sqlite3_bind_int64(s, 1, v->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!(g = realloc(v->aliases,
				  (v->naliases + 1) * sizeof(char *)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		v->aliases = g;
		v->aliases[v->naliases++] = cnai_db_column_strdup(s, 0);
	}
	sqlite3_finalize(s);
	return err;
}

/* One version matching `where`, with ?1 = a, ?2 = b, ?3 = c bound. */
static int fetch_one(struct cnai_model_version **out, struct cnai_db *db,
		     const char *where, const char *a, int64_t b,
		     const char *c)
{
	struct cnai_buf sql = CNAI_BUF_INIT;
	sqlite3_stmt *s = NULL;
	int err, rc;

	*out = NULL;
	cnai_buf_addf(&sql, "SELECT " VERSION_COLUMNS " FROM model_versions "
		      "v JOIN models m ON m.id = v.model WHERE %s", where);
	if ((err = cnai_buf_oom(&sql)) < 0 ||
	    (err = cnai_db_prepare(&s, db, sql.buf)) < 0)
		goto cleanup;
	cnai_db_bind_text(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	cnai_db_bind_text(s, 3, c);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		err = read_version(out, s);
	else if (rc != SQLITE_DONE)
		err = cnai_db_error(db, "reading the model registry");
	else
		err = CNAI_ENOTFOUND; /* the caller words the message */
	if (*out && (err = load_details(*out, db)) < 0) {
		cnai_model_version_free(*out);
		*out = NULL;
	}
cleanup:
	sqlite3_finalize(s);
	cnai_buf_release(&sql);
	return err;
}

static int model_exists(struct cnai_db *db, const char *name)
{
	sqlite3_stmt *s = NULL;
	int found = 0;

	if (cnai_db_prepare(&s, db, "SELECT 1 FROM models WHERE name = ?") <
	    0)
		return 0;
	cnai_db_bind_text(s, 1, name);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return found;
}

static int resolve_digest(struct cnai_model_version **out,
			  struct cnai_store *st, const char *ref)
{
	struct cnai_buf hi = CNAI_BUF_INIT, names = CNAI_BUF_INIT;
	sqlite3_stmt *s = NULL;
	int64_t ids[11];
	size_t n = 0, i;
	int err, rc;

	if (strlen(ref) < 7 + 4)
		return cnai_error_set(CNAI_EINVALID,
				      "digest prefix '%s' is too short (4 hex "
				      "digits at least)", ref);
	for (i = 7; ref[i]; i++)
		if (!((ref[i] >= '0' && ref[i] <= '9') ||
		      (ref[i] >= 'a' && ref[i] <= 'f')))
			return cnai_error_set(CNAI_EINVALID,
					      "'%s' is not a sha256 digest",
					      ref);
	cnai_buf_addf(&hi, "%sg", ref);
	if ((err = cnai_buf_oom(&hi)) < 0 ||
	    (err = cnai_db_prepare(&s, &st->db,
				   "SELECT v.id, m.name, v.version FROM "
				   "model_versions v JOIN models m ON m.id = "
				   "v.model WHERE v.manifest >= ? AND "
				   "v.manifest < ? ORDER BY v.id LIMIT 11")) < 0)
		goto cleanup;
	cnai_db_bind_text(s, 1, ref);
	cnai_db_bind_text(s, 2, hi.buf);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ids[n++] = sqlite3_column_int64(s, 0);
		cnai_buf_addf(&names, "%s%s@%lld", n > 1 ? ", " : "",
			      (const char *)sqlite3_column_text(s, 1),
			      (long long)sqlite3_column_int64(s, 2));
	}
	if (n == 0)
		err = cnai_error_set(CNAI_ENOTFOUND,
				     "no model version has digest '%s'", ref);
	else if (n > 1)
		err = cnai_error_set(CNAI_EAMBIGUOUS,
				     "digest '%s' is ambiguous: %s%s", ref,
				     names.buf, n > 10 ? ", ..." : "");
	else if ((err = fetch_one(out, &st->db, "v.id = ?2", NULL, ids[0], NULL)) ==
		 CNAI_ENOTFOUND)
		err = cnai_error_set(CNAI_ENOTFOUND, "model version vanished");
cleanup:
	sqlite3_finalize(s);
	cnai_buf_release(&hi);
	cnai_buf_release(&names);
	return err;
}

static int parse_version_number(int64_t *out, const char *s)
{
	char *end;
	long long v;

	if (!*s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 1)
		return 0;
	*out = v;
	return 1;
}

int cnai_model_resolve(struct cnai_model_version **out, struct cnai_store *st,
		       const char *ref)
{
	const char *at = strchr(ref, '@');
	char name[160];
	const char *sel;
	int64_t number;
	int err;

	*out = NULL;
	if (!strncmp(ref, "sha256:", 7))
		return resolve_digest(out, st, ref);
	if (at == ref || (at && !at[1]) || !*ref)
		return cnai_error_set(CNAI_EINVALID,
				      "'%s' is not a model reference (NAME, "
				      "NAME@VERSION, NAME@ALIAS or sha256:...)",
				      ref);
	snprintf(name, sizeof(name), "%.*s",
		 (int)(at ? (size_t)(at - ref) : strlen(ref)), ref);
	sel = at ? at + 1 : "latest";
	if (!cnai_model_name_is_valid(name))
		return cnai_error_set(CNAI_EINVALID,
				      "'%s' is not a valid model name", name);
	if (!model_exists(&st->db, name))
		return cnai_error_set(CNAI_ENOTFOUND, "model '%s' not found",
				      name);
	if (!strcmp(sel, "latest")) {
		err = fetch_one(out, &st->db,
				"m.name = ?1 ORDER BY v.version DESC LIMIT 1",
				name, 0, NULL);
		if (err == CNAI_ENOTFOUND)
			err = cnai_error_set(CNAI_ENOTFOUND,
					     "model '%s' has no versions", name);
	} else if (parse_version_number(&number, sel)) {
		err = fetch_one(out, &st->db, "m.name = ?1 AND v.version = ?2",
				name, number, NULL);
		if (err == CNAI_ENOTFOUND)
			err = cnai_error_set(CNAI_ENOTFOUND,
					     "model '%s' has no version %lld",
					     name, (long long)number);
	} else {
		err = fetch_one(out, &st->db,
				"m.name = ?1 AND v.version = (SELECT "
				"a.version FROM aliases a WHERE a.model = "
				"m.id AND a.alias = ?3)",
				name, 0, sel);
		if (err == CNAI_ENOTFOUND)
			err = cnai_error_set(CNAI_ENOTFOUND,
					     "model '%s' has no alias '%s'",
					     name, sel);
	}
	return err;
}

/* ---- registering ------------------------------------------------------- */

static char *current_user(void)
{
	char name[256];

	cnai_origin_user(name, sizeof(name));
	return name[0] ? strdup(name) : NULL;
}

static int model_id(int64_t *out, struct cnai_db *db, const char *name)
{
	sqlite3_stmt *s = NULL;
	int err;

	if ((err = cnai_db_prepare(&s, db,
				   "INSERT INTO models(name, created) VALUES "
				   "(?, ?) ON CONFLICT(name) DO UPDATE SET name "
				   "= name RETURNING id")) < 0)
		return err;
	cnai_db_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, cnai_db_now_ms());
	if (sqlite3_step(s) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else
		err = cnai_db_error(db, "registering the model");
	sqlite3_finalize(s);
	return err;
}

static int step_once(struct cnai_db *db, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0
						     : cnai_db_error(db, what);
}

/* Rows for the version, its files and tags, and its lineage. */
static int insert_version(int64_t *version_out, int64_t *vid_out,
			  struct cnai_store *st, int64_t model,
			  const char *name, const char *manifest,
			  const char *config, const char *flavor,
			  const struct cnai_model_register_opts *o,
			  const struct cnai_run *run, const struct file_list *l)
{
	struct cnai_db *db = &st->db;
	sqlite3_stmt *s = NULL;
	char *user = current_user(), label[200];
	int64_t version = 0, vid, ent, run_ent;
	size_t i;
	int err;

	if ((err = cnai_db_prepare(&s, db,
				   "UPDATE models SET next_version = "
				   "next_version + 1 WHERE id = ? RETURNING "
				   "next_version - 1")) < 0)
		goto cleanup;
	sqlite3_bind_int64(s, 1, model);
	if (sqlite3_step(s) != SQLITE_ROW) {
		err = cnai_db_error(db, "numbering the version");
		goto cleanup;
	}
	version = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if ((err = cnai_db_prepare(
		     &s, db,
		     "INSERT INTO model_versions(model, version, manifest, "
		     "config, flavor, description, run, created, created_by) "
		     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) < 0)
		goto cleanup;
	sqlite3_bind_int64(s, 1, model);
	sqlite3_bind_int64(s, 2, version);
	cnai_db_bind_text(s, 3, manifest);
	cnai_db_bind_text(s, 4, config);
	cnai_db_bind_text(s, 5, flavor);
	cnai_db_bind_text(s, 6, o->description);
	cnai_db_bind_text(s, 7, run ? run->uuid : NULL);
	sqlite3_bind_int64(s, 8, cnai_db_now_ms());
	cnai_db_bind_text(s, 9, user);
	if ((err = step_once(db, s, "recording the version")) < 0)
		goto cleanup;
	vid = sqlite3_last_insert_rowid(db->h);
	sqlite3_finalize(s);
	if ((err = cnai_db_prepare(&s, db,
				   "INSERT INTO model_files(version, path, "
				   "digest, size, media_type) VALUES (?, ?, ?, "
				   "?, ?)")) < 0)
		goto cleanup;
	for (i = 0; i < l->n && !err; i++) {
		sqlite3_bind_int64(s, 1, vid);
		cnai_db_bind_text(s, 2, l->e[i].f.path);
		cnai_db_bind_text(s, 3, l->e[i].f.digest);
		sqlite3_bind_int64(s, 4, (int64_t)l->e[i].f.size);
		cnai_db_bind_text(s, 5, l->e[i].f.media_type);
		err = step_once(db, s, "recording model files");
	}
	sqlite3_finalize(s);
	s = NULL;
	if (err < 0 || (err = cnai_db_prepare(&s, db,
					      "INSERT INTO model_version_tags"
					      "(version, key, value) VALUES "
					      "(?, ?, ?) ON CONFLICT DO UPDATE "
					      "SET value = excluded.value")) < 0)
		goto cleanup;
	for (i = 0; i < o->ntags && !err; i++) {
		const char *eq = strchr(o->tags[i], '='); /* checked before */

		sqlite3_bind_int64(s, 1, vid);
		sqlite3_bind_text(s, 2, o->tags[i], (int)(eq - o->tags[i]),
				  SQLITE_TRANSIENT);
		cnai_db_bind_text(s, 3, eq + 1);
		err = step_once(db, s, "recording tags");
	}
	if (err < 0)
		goto cleanup;
	snprintf(label, sizeof(label), "%s@%lld", name, (long long)version);
	if ((err = cnai_lineage_entity(&ent, st, CNAI_ENTITY_MODEL, manifest,
				       label)) < 0)
		goto cleanup;
	if (run &&
	    ((err = cnai_lineage_entity(&run_ent, st, CNAI_ENTITY_RUN,
					run->uuid, run->name)) < 0 ||
	     (err = cnai_lineage_edge(st, run_ent, ent, "produced")) < 0))
		goto cleanup;
	*version_out = version;
	*vid_out = vid;
cleanup:
	sqlite3_finalize(s);
	free(user);
	return err;
}

static int check_paths(const struct file_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const char *p = l->e[i].f.path;

		if (!*p || p[0] == '/' || !strcmp(p, "..") ||
		    !strncmp(p, "../", 3) || strstr(p, "/../") ||
		    (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/..")))
			return cnai_error_set(CNAI_EINVALID,
					      "file path '%s' escapes the model",
					      p);
		if (i && !strcmp(l->e[i - 1].f.path, p))
			return cnai_error_set(CNAI_EINVALID,
					      "two files would both be '%s' in "
					      "the model", p);
	}
	return 0;
}

/* The edge run -> model version "produced", for a version that exists. */
static int link_producer(struct cnai_store *st, const struct cnai_run *run,
			 const char *manifest)
{
	int64_t ent, run_ent;
	int err;

	if ((err = cnai_lineage_entity(&ent, st, CNAI_ENTITY_MODEL, manifest,
				       NULL)) < 0 ||
	    (err = cnai_lineage_entity(&run_ent, st, CNAI_ENTITY_RUN,
				       run->uuid, run->name)) < 0)
		return err;
	return cnai_lineage_edge(st, run_ent, ent, "produced");
}

int cnai_model_register(struct cnai_model_version **out, int *created,
			struct cnai_store *st, const char *name,
			const char *const *paths, size_t npaths,
			const struct cnai_model_register_opts *o)
{
	static const struct cnai_model_register_opts none = { 0 };
	struct file_list l = { 0 };
	struct cnai_run *run = NULL;
	char manifest[CNAI_DIGEST_LEN], config[CNAI_DIGEST_LEN];
	const char *flavor;
	int64_t model = 0, version = 0, vid = 0;
	size_t i;
	int err;

	*out = NULL;
	*created = 0;
	if (!o)
		o = &none;
	if (!cnai_model_name_is_valid(name))
		return cnai_error_set(CNAI_EINVALID,
				      "'%s' is not a valid model name (lowercase "
				      "letters, digits, '.', '_', '-'; at most "
				      "128)", name);
	if (o->flavor && strcmp(o->flavor, "onnx") &&
	    strcmp(o->flavor, "safetensors") && strcmp(o->flavor, "cnai") &&
	    strcmp(o->flavor, "files"))
		return cnai_error_set(CNAI_EUSAGE,
				      "--flavor: '%s' is not onnx, safetensors, "
				      "cnai or files", o->flavor);
	/* Everything that can fail on input fails before any write. */
	for (i = 0; i < o->ntags; i++) {
		const char *eq = strchr(o->tags[i], '=');

		if (!eq || eq == o->tags[i])
			return cnai_error_set(CNAI_EUSAGE,
					      "--tag '%s' is not KEY=VALUE",
					      o->tags[i]);
	}
	if (o->run && (err = cnai_run_lookup(&run, st, o->run)) < 0)
		return err;
	if ((err = collect(&l, paths, npaths)) < 0)
		goto cleanup;
	qsort(l.e, l.n, sizeof(*l.e), cmp_files);
	if ((err = check_paths(&l)) < 0)
		goto cleanup;
	for (i = 0; i < l.n; i++) {
		l.e[i].f.media_type = strdup(media_type_for(l.e[i].f.path));
		if (!l.e[i].f.media_type) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
	}
	for (i = 0; i < l.n; i++)
		if ((err = put_file(st, &l.e[i])) < 0)
			goto cleanup;
	flavor = o->flavor ? o->flavor : guess_flavor(&l);
	if ((err = build_manifest(manifest, config, st, name, flavor, &l)) < 0)
		goto cleanup;
	if ((err = cnai_store_begin_write(st)) < 0)
		goto cleanup;
	if ((err = model_id(&model, &st->db, name)) < 0)
		goto rollback;
	err = fetch_one(out, &st->db, "m.name = ?1 AND v.manifest = ?3", name,
			0, manifest);
	if (err == 0) {
		/* Identical content: the existing version. A run that made the
		 * same bytes again (same data, options and seed) produced it
		 * too, and the lineage says so. */
		if ((run && (err = link_producer(st, run, manifest)) < 0) ||
		    (err = cnai_store_commit(st)) < 0) {
			cnai_model_version_free(*out);
			*out = NULL;
			goto rollback;
		}
		goto cleanup;
	}
	if (err != CNAI_ENOTFOUND)
		goto rollback;
	if ((err = insert_version(&version, &vid, st, model, name,
				  manifest, config, flavor, o, run, &l)) < 0 ||
	    (err = cnai_store_commit(st)) < 0)
		goto rollback;
	*created = 1;
	err = fetch_one(out, &st->db, "v.id = ?2", NULL, vid, NULL);
	goto cleanup;
rollback:
	cnai_store_rollback(st);
cleanup:
	cnai_run_free(run);
	file_list_release(&l);
	return err;
}

/* ---- listing ----------------------------------------------------------- */

void cnai_model_summary_free_array(struct cnai_model_summary *a, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		free(a[i].name);
		for (j = 0; j < a[i].naliases; j++)
			free(a[i].aliases[j]);
		free(a[i].aliases);
	}
	free(a);
}

int cnai_model_list(struct cnai_model_summary **out, size_t *n,
		    struct cnai_store *st)
{
	struct cnai_model_summary *a = NULL, *g;
	sqlite3_stmt *s = NULL, *al = NULL;
	size_t count = 0;
	int err, rc;

	*out = NULL;
	*n = 0;
	if ((err = cnai_db_prepare(&s, &st->db,
				   "SELECT m.id, m.name, m.created, (SELECT "
				   "count(*) FROM model_versions v WHERE "
				   "v.model = m.id), (SELECT max(version) FROM "
				   "model_versions v WHERE v.model = m.id) FROM "
				   "models m ORDER BY m.name")) < 0 ||
	    (err = cnai_db_prepare(&al, &st->db,
				   "SELECT alias || '=' || version FROM aliases "
				   "WHERE model = ? ORDER BY alias")) < 0)
		goto cleanup;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cnai_model_summary *m;

		if (!(g = realloc(a, (count + 1) * sizeof(*a)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		a = g;
		m = &a[count++];
		memset(m, 0, sizeof(*m));
		m->name = cnai_db_column_strdup(s, 1);
		m->created = sqlite3_column_int64(s, 2);
		m->versions = sqlite3_column_int64(s, 3);
		m->latest = sqlite3_column_int64(s, 4);
		sqlite3_bind_int64(al, 1, sqlite3_column_int64(s, 0));
		while (sqlite3_step(al) == SQLITE_ROW) {
			char **ga = realloc(m->aliases,
					    (m->naliases + 1) * sizeof(char *));

			if (!ga)
				break;
			m->aliases = ga;
			m->aliases[m->naliases++] = cnai_db_column_strdup(al, 0);
		}
		sqlite3_reset(al);
	}
cleanup:
	sqlite3_finalize(s);
	sqlite3_finalize(al);
	*out = a;
	*n = count;
	return err;
}

int cnai_model_versions(struct cnai_model_version ***out, size_t *n,
			struct cnai_store *st, const char *name)
{
	struct cnai_model_version **a = NULL, **g;
	sqlite3_stmt *s = NULL;
	size_t count = 0;
	int err, rc;

	*out = NULL;
	*n = 0;
	if (!model_exists(&st->db, name))
		return cnai_error_set(CNAI_ENOTFOUND, "model '%s' not found",
				      name);
	if ((err = cnai_db_prepare(&s, &st->db,
				   "SELECT " VERSION_COLUMNS " FROM "
				   "model_versions v JOIN models m ON m.id = "
				   "v.model WHERE m.name = ? ORDER BY "
				   "v.version DESC")) < 0)
		return err;
	cnai_db_bind_text(s, 1, name);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!(g = realloc(a, (count + 1) * sizeof(*a)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		a = g;
		if ((err = read_version(&a[count], s)) < 0)
			break;
		count++;
		if ((err = load_details(a[count - 1], &st->db)) < 0)
			break;
	}
	sqlite3_finalize(s);
	*out = a;
	*n = count;
	return err;
}

int cnai_model_version_tags(char ***keys, char ***values, size_t *n,
			    struct cnai_store *st,
			    const struct cnai_model_version *v)
{
	sqlite3_stmt *s = NULL;
	char **k = NULL, **val = NULL;
	size_t count = 0;
	int err;

	*keys = *values = NULL;
	*n = 0;
	if ((err = cnai_db_prepare(&s, &st->db,
				   "SELECT key, value FROM model_version_tags "
				   "WHERE version = ? ORDER BY key")) < 0)
		return err;
	sqlite3_bind_int64(s, 1, v->id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		char **gk = realloc(k, (count + 1) * sizeof(char *));
		char **gv = gk ? realloc(val, (count + 1) * sizeof(char *))
			       : NULL;

		if (gk)
			k = gk;
		if (!gk || !gv) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		val = gv;
		k[count] = cnai_db_column_strdup(s, 0);
		val[count] = cnai_db_column_strdup(s, 1);
		count++;
	}
	sqlite3_finalize(s);
	*keys = k;
	*values = val;
	*n = count;
	return err;
}

/* ---- aliases ----------------------------------------------------------- */

static int record_alias_event(struct cnai_db *db, int64_t model,
			      const char *alias, int64_t version)
{
	sqlite3_stmt *s = NULL;
	char *user = current_user();
	int err;

	if ((err = cnai_db_prepare(&s, db,
				   "INSERT INTO alias_history(model, alias, "
				   "version, user, time) VALUES (?, ?, ?, ?, "
				   "?)")) == 0) {
		sqlite3_bind_int64(s, 1, model);
		cnai_db_bind_text(s, 2, alias);
		if (version > 0)
			sqlite3_bind_int64(s, 3, version);
		cnai_db_bind_text(s, 4, user);
		sqlite3_bind_int64(s, 5, cnai_db_now_ms());
		err = step_once(db, s, "recording alias history");
	}
	sqlite3_finalize(s);
	free(user);
	return err;
}

static int lookup_model_id(int64_t *out, struct cnai_db *db, const char *name)
{
	sqlite3_stmt *s = NULL;
	int err;

	if ((err = cnai_db_prepare(&s, db,
				   "SELECT id FROM models WHERE name = ?")) < 0)
		return err;
	cnai_db_bind_text(s, 1, name);
	if (sqlite3_step(s) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else
		err = cnai_error_set(CNAI_ENOTFOUND, "model '%s' not found",
				     name);
	sqlite3_finalize(s);
	return err;
}

int cnai_model_alias_set(struct cnai_store *st, const char *name,
			 const char *alias, int64_t version)
{
	struct cnai_db *db = &st->db;
	sqlite3_stmt *s = NULL;
	int64_t model = 0;
	int err;

	if (!alias_is_valid(alias))
		return cnai_error_set(CNAI_EINVALID,
				      "'%s' is not a valid alias (a lowercase "
				      "letter, then letters, digits, '_', '-'; "
				      "not 'latest')", alias);
	if ((err = cnai_store_begin_write(st)) < 0)
		return err;
	if ((err = lookup_model_id(&model, db, name)) < 0)
		goto fail;
	if ((err = cnai_db_prepare(&s, db,
				   "SELECT 1 FROM model_versions WHERE model = "
				   "? AND version = ?")) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, model);
	sqlite3_bind_int64(s, 2, version);
	if (sqlite3_step(s) != SQLITE_ROW) {
		err = cnai_error_set(CNAI_ENOTFOUND,
				     "model '%s' has no version %lld", name,
				     (long long)version);
		goto fail;
	}
	sqlite3_finalize(s);
	if ((err = cnai_db_prepare(&s, db,
				   "INSERT INTO aliases(model, alias, version) "
				   "VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET "
				   "version = excluded.version")) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, model);
	cnai_db_bind_text(s, 2, alias);
	sqlite3_bind_int64(s, 3, version);
	if ((err = step_once(db, s, "setting the alias")) < 0 ||
	    (err = record_alias_event(db, model, alias, version)) < 0)
		goto fail;
	sqlite3_finalize(s);
	return cnai_store_commit(st);
fail:
	sqlite3_finalize(s);
	cnai_store_rollback(st);
	return err;
}

int cnai_model_alias_remove(struct cnai_store *st, const char *name,
			    const char *alias)
{
	struct cnai_db *db = &st->db;
	sqlite3_stmt *s = NULL;
	int64_t model = 0;
	int err;

	if ((err = cnai_store_begin_write(st)) < 0)
		return err;
	if ((err = lookup_model_id(&model, db, name)) < 0 ||
	    (err = cnai_db_prepare(&s, db,
				   "DELETE FROM aliases WHERE model = ? AND "
				   "alias = ?")) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, model);
	cnai_db_bind_text(s, 2, alias);
	if ((err = step_once(db, s, "removing the alias")) < 0)
		goto fail;
	if (sqlite3_changes(db->h) == 0) {
		err = cnai_error_set(CNAI_ENOTFOUND,
				     "model '%s' has no alias '%s'", name,
				     alias);
		goto fail;
	}
	if ((err = record_alias_event(db, model, alias, 0)) < 0)
		goto fail;
	sqlite3_finalize(s);
	return cnai_store_commit(st);
fail:
	sqlite3_finalize(s);
	cnai_store_rollback(st);
	return err;
}

void cnai_alias_event_free_array(struct cnai_alias_event *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].alias);
		free(a[i].user);
	}
	free(a);
}

int cnai_model_alias_history(struct cnai_alias_event **out, size_t *n,
			     struct cnai_store *st, const char *name)
{
	struct cnai_alias_event *a = NULL, *g;
	sqlite3_stmt *s = NULL;
	size_t count = 0;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = cnai_db_prepare(&s, &st->db,
				   "SELECT h.alias, h.version, h.user, h.time "
				   "FROM alias_history h JOIN models m ON m.id "
				   "= h.model WHERE m.name = ? ORDER BY h.id")) <
	    0)
		return err;
	cnai_db_bind_text(s, 1, name);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (!(g = realloc(a, (count + 1) * sizeof(*a)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		a = g;
		a[count].alias = cnai_db_column_strdup(s, 0);
		a[count].version = sqlite3_column_int64(s, 1);
		a[count].user = cnai_db_column_strdup(s, 2);
		a[count].time = sqlite3_column_int64(s, 3);
		count++;
	}
	sqlite3_finalize(s);
	*out = a;
	*n = count;
	return err;
}

/* ---- removing and exporting -------------------------------------------- */

int cnai_model_version_remove(struct cnai_store *st,
			      const struct cnai_model_version *v, int force)
{
	static const char *const sql[] = {
		"DELETE FROM model_files WHERE version = ?1",
		"DELETE FROM model_version_tags WHERE version = ?1",
		"DELETE FROM edges WHERE src IN (SELECT id FROM entities WHERE "
		"kind = 'model_version' AND ref = ?2) OR dst IN (SELECT id "
		"FROM entities WHERE kind = 'model_version' AND ref = ?2)",
		"DELETE FROM entities WHERE kind = 'model_version' AND ref = ?2",
		"DELETE FROM model_versions WHERE id = ?1",
	};
	struct cnai_db *db = &st->db;
	struct cnai_buf names = CNAI_BUF_INIT;
	sqlite3_stmt *s = NULL;
	int64_t model = 0;
	size_t i;
	int err;

	if ((err = cnai_store_begin_write(st)) < 0)
		return err;
	if ((err = lookup_model_id(&model, db, v->name)) < 0 ||
	    (err = cnai_db_prepare(&s, db,
				   "SELECT alias FROM aliases WHERE model = ? "
				   "AND version = ? ORDER BY alias")) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, model);
	sqlite3_bind_int64(s, 2, v->version);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *alias = (const char *)sqlite3_column_text(s, 0);

		cnai_buf_addf(&names, "%s%s", names.len ? ", " : "", alias);
		if (force && (err = record_alias_event(db, model, alias, 0)) < 0)
			goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (names.len && !force) {
		err = cnai_error_set(CNAI_EINVALID,
				     "%s@%lld is aliased (%s); move the alias "
				     "or use --force", v->name,
				     (long long)v->version, names.buf);
		goto fail;
	}
	if (names.len && (err = cnai_db_prepare(&s, db,
						"DELETE FROM aliases WHERE "
						"model = ? AND version = ?")) ==
				 0) {
		sqlite3_bind_int64(s, 1, model);
		sqlite3_bind_int64(s, 2, v->version);
		err = step_once(db, s, "removing aliases");
		sqlite3_finalize(s);
		s = NULL;
	}
	for (i = 0; !err && i < sizeof(sql) / sizeof(*sql); i++) {
		if ((err = cnai_db_prepare(&s, db, sql[i])) < 0)
			break;
		sqlite3_bind_int64(s, 1, v->id);
		cnai_db_bind_text(s, 2, v->manifest_digest);
		err = step_once(db, s, "removing the version");
		sqlite3_finalize(s);
		s = NULL;
	}
	if (err < 0)
		goto fail;
	cnai_buf_release(&names);
	return cnai_store_commit(st);
fail:
	sqlite3_finalize(s);
	cnai_store_rollback(st);
	cnai_buf_release(&names);
	return err;
}

/*
 * Export writes below a folder that may already hold symbolic links (an
 * earlier export someone tampered with, an unpacked archive): it never
 * follows one below `dir`. Each file's folder is opened component by
 * component with O_NOFOLLOW (cnai_fs_open_below), its temporary is made
 * in that folder with O_EXCL | O_NOFOLLOW and renamed over the target
 * with renameat(), which replaces a link itself, never what it points to.
 * `dir` itself is followed: the user named it, as cp follows a named
 * destination.
 */

/* Splits a model path into its folder ("" at the top) and base name. */
static const char *split_path(struct cnai_buf *folder, const char *path)
{
	const char *slash = strrchr(path, '/');

	cnai_buf_reset(folder);
	if (slash)
		cnai_buf_add(folder, path, (size_t)(slash - path));
	return slash ? slash + 1 : path;
}

/*
 * Fails unless `f` can be written under the open folder `root`: no
 * symbolic link or file on the way to it, and no file already at its path
 * unless `force` (never a folder).
 */
static int export_check(int root, const char *dir,
			const struct cnai_model_file *f, int force)
{
	struct cnai_buf folder = CNAI_BUF_INIT;
	const char *base = split_path(&folder, f->path);
	struct stat sb;
	int fd = -1, err;

	if ((err = cnai_buf_oom(&folder)) < 0)
		goto cleanup;
	err = cnai_fs_open_below(&fd, root, folder.buf, 0, dir);
	if (err == CNAI_ENOTFOUND) { /* created later: nothing in the way */
		cnai_error_clear();
		err = 0;
		goto cleanup;
	}
	if (err < 0)
		goto cleanup;
	if (fstatat(fd, base, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			err = cnai_error_set_errno(CNAI_ERROR, "cannot read "
						   "'%s/%s'", dir, f->path);
	} else if (S_ISDIR(sb.st_mode)) {
		err = cnai_error_set(CNAI_EINVALID, "'%s/%s' is a folder", dir,
				     f->path);
	} else if (!force) {
		err = cnai_error_set(CNAI_EEXISTS, "'%s/%s' exists; use "
				     "--force to overwrite", dir, f->path);
	}
cleanup:
	if (fd >= 0)
		close(fd);
	cnai_buf_release(&folder);
	return err;
}

/*
 * Copies a blob into a temporary file in the folder of `f` below `root`
 * (made if missing), checking its digest; *tmp is set to the fsynced
 * file's path relative to `root`, which export_rename() moves into place.
 */
static int export_file(struct cnai_buf *tmp, struct cnai_store *st,
		       const struct cnai_model_file *f, int root,
		       const char *dir)
{
	struct cnai_buf src = CNAI_BUF_INIT, folder = CNAI_BUF_INIT,
			name = CNAI_BUF_INIT;
	struct cnai_sha256 h = { NULL };
	char chunk[65536], actual[CNAI_DIGEST_LEN];
	int in = -1, fd = -1, dfd = -1, err;
	ssize_t n;

	split_path(&folder, f->path);
	if ((err = cnai_buf_oom(&folder)) < 0 ||
	    (err = cnai_fs_open_below(&dfd, root, folder.buf, 1, dir)) < 0 ||
	    (err = cnai_blob_path(&src, st, f->digest)) < 0)
		goto cleanup;
	if ((in = open(src.buf, O_RDONLY | O_CLOEXEC)) < 0) {
		err = cnai_error_set(CNAI_ENOTFOUND, "blob %s of '%s' is "
				     "missing; run 'cnai fsck'", f->digest,
				     f->path);
		goto cleanup;
	}
	if ((err = cnai_fs_tmpfile_at(&name, &fd, dfd, dir)) < 0)
		goto cleanup;
	cnai_buf_reset(tmp);
	cnai_buf_addf(tmp, "%s%s%s", folder.buf, folder.len ? "/" : "",
		      name.buf);
	if ((err = cnai_buf_oom(tmp)) < 0 ||
	    (err = cnai_sha256_init(&h)) < 0)
		goto cleanup;
	while ((n = read(in, chunk, sizeof(chunk))) > 0)
		if ((err = cnai_sha256_update(&h, chunk, (size_t)n)) < 0 ||
		    (err = cnai_fs_write_all(fd, chunk, (size_t)n)) < 0)
			goto cleanup;
	if (n < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "reading '%s'", src.buf);
		goto cleanup;
	}
	if ((err = cnai_sha256_final(&h, actual)) < 0)
		goto cleanup;
	if (strcmp(actual, f->digest)) {
		err = cnai_error_set(CNAI_ECHECK,
				     "'%s': blob %s is corrupt (its content "
				     "hashes to %s); nothing exported",
				     f->path, f->digest, actual);
		goto cleanup;
	}
	fchmod(fd, 0644);
	if (fsync(fd) < 0)
		err = cnai_error_set_errno(CNAI_ERROR, "fsync '%s/%s'", dir,
					   tmp->buf);
	else if (close(fd) < 0)
		err = cnai_error_set_errno(CNAI_ERROR, "close '%s/%s'", dir,
					   tmp->buf);
	fd = -1;
cleanup:
	cnai_sha256_release(&h);
	if (in >= 0)
		close(in);
	if (fd >= 0)
		close(fd);
	if (err < 0 && name.len)
		unlinkat(dfd, name.buf, 0);
	if (err < 0)
		cnai_buf_reset(tmp);
	if (dfd >= 0)
		close(dfd);
	cnai_buf_release(&src);
	cnai_buf_release(&folder);
	cnai_buf_release(&name);
	return err;
}

/*
 * Renames the temporary `tmp` (relative to `root`) to `path` in the same
 * folder, reopened without following links, as everywhere below `root`.
 */
static int export_rename(int root, const char *dir, const char *tmp,
			 const char *path)
{
	struct cnai_buf folder = CNAI_BUF_INIT;
	const char *tbase = split_path(&folder, tmp);
	int dfd = -1, err;

	if ((err = cnai_buf_oom(&folder)) < 0 ||
	    (err = cnai_fs_open_below(&dfd, root, folder.buf, 0, dir)) < 0)
		goto cleanup;
	if (renameat(dfd, tbase, dfd, strrchr(path, '/') ?
		     strrchr(path, '/') + 1 : path) < 0)
		err = cnai_error_set_errno(CNAI_ERROR, "cannot rename to "
					   "'%s/%s'", dir, path);
cleanup:
	if (dfd >= 0)
		close(dfd);
	cnai_buf_release(&folder);
	return err;
}

int cnai_model_export(struct cnai_store *st,
		      const struct cnai_model_version *v, const char *dir,
		      int force)
{
	struct cnai_buf *tmps;
	size_t i;
	int root, err = 0;

	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 && errno == ENOTDIR)
		return cnai_error_set(CNAI_EINVALID, "'%s' is not a folder",
				      dir);
	if (root < 0 && errno != ENOENT)
		return cnai_error_set_errno(CNAI_ERROR, "cannot open '%s'",
					    dir);
	if (!(tmps = calloc(v->nfiles ? v->nfiles : 1, sizeof(*tmps)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < v->nfiles; i++)
		cnai_buf_init(&tmps[i]);
	/* Check every target first: export writes all files or none new. */
	for (i = 0; root >= 0 && i < v->nfiles && !err; i++)
		err = export_check(root, dir, &v->files[i], force);
	if (!err && root < 0) {
		if ((err = cnai_fs_mkdir_p(dir, 0755)) < 0)
			goto cleanup;
		root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root < 0) {
			err = cnai_error_set_errno(CNAI_ERROR, "cannot open "
						   "'%s'", dir);
			goto cleanup;
		}
	}
	/* Then every file into a temporary beside its target, verified... */
	for (i = 0; i < v->nfiles && !err; i++)
		err = export_file(&tmps[i], st, &v->files[i], root, dir);
	/* ...and only when all are good, each renamed into place. */
	for (i = 0; i < v->nfiles && !err; i++)
		if ((err = export_rename(root, dir, tmps[i].buf,
					 v->files[i].path)) == 0)
			cnai_buf_reset(&tmps[i]);
cleanup:
	/*
	 * By path, so that no message replaces the one that stopped the
	 * export; a temporary's random name is what makes this safe.
	 */
	for (i = 0; tmps && i < v->nfiles; i++) {
		if (tmps[i].len)
			unlinkat(root, tmps[i].buf, 0);
		cnai_buf_release(&tmps[i]);
	}
	free(tmps);
	if (root >= 0)
		close(root);
	return err;
}
