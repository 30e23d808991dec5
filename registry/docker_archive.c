/*
 * Reading `docker save` archives without extracting them. The tar is read
 * twice with libarchive: a first pass lists its members (paths checked,
 * links resolved inside the archive) and reads manifest.json, so that the
 * image, its config and its layers are known to be there before anything
 * is written; a second pass streams the chosen members into the layout.
 * A tar cannot be read out of order, and two passes over a file cost less
 * than a copy of every layer to a temporary folder.
 */
#include "registry/docker_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "registry/reference.h"
#include "core/util/banned.h"

enum {
	MAX_MEMBERS = 100000,
	MAX_PATH = 4096,
	MAX_HOPS = 16,        /* links followed to reach a file */
	MANIFEST_LIMIT = 1 << 20,
	CHUNK = 1 << 20,
	TAR_BLOCK = 512,
};

enum member_type { M_FILE, M_LINK, M_OTHER };

struct member {
	char *path;   /* normalised: no "./", no "//" */
	char *target; /* M_LINK: the normalised path it leads to */
	enum member_type type;
};

/* What the first pass learns, and what the second needs. */
struct archive_plan {
	const char *file;
	int fd;
	struct member *m;
	size_t n, alloc;
	struct cnai_buf manifest;
	int has_manifest;
	/* the image chosen */
	size_t config;  /* member index */
	size_t *layers; /* member index per layer */
	size_t nlayers;
};

static int oom(void)
{
	return cnai_error_set(CNAI_ERROR, "out of memory");
}

/*
 * Appends `path` to `out` (which holds a folder, "" for the top),
 * component by component: "" and "." are dropped, ".." goes up when
 * `dotdot` allows it. CNAI_EINVALID when the path is absolute or would
 * leave the archive.
 */
static int join(struct cnai_buf *out, const char *path, int dotdot,
		const char *file, const char *what)
{
	const char *p = path;

	if (*path == '/' || strlen(path) > MAX_PATH)
		goto escapes;
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && !strncmp(p, "..", 2)) {
			char *slash;

			if (!dotdot || !out->len)
				goto escapes;
			slash = strrchr(out->buf, '/');
			cnai_buf_truncate(out, slash ? (size_t)(slash -
								out->buf)
						     : 0);
		} else if (len && !(len == 1 && *p == '.')) {
			if (out->len)
				cnai_buf_addch(out, '/');
			cnai_buf_add(out, p, len);
		}
		p += len + (p[len] == '/');
	}
	return cnai_buf_oom(out);
escapes:
	return cnai_error_set(CNAI_EINVALID, "'%s': %s '%s' escapes the "
			      "archive; refusing it", file, what, path);
}

static int add_member(struct archive_plan *p, struct archive_entry *e)
{
	struct cnai_buf path = CNAI_BUF_INIT, target = CNAI_BUF_INIT;
	const char *name = archive_entry_pathname(e);
	const char *sym = archive_entry_symlink(e);
	const char *hard = archive_entry_hardlink(e);
	struct member *m;
	int err;

	if (!name)
		return cnai_error_set(CNAI_EINVALID, "'%s': a member has no "
				      "name", p->file);
	if (p->n == MAX_MEMBERS)
		return cnai_error_set(CNAI_EINVALID, "'%s': more than %d "
				      "members", p->file, MAX_MEMBERS);
	if (p->n == p->alloc) {
		size_t alloc = p->alloc ? 2 * p->alloc : 64;

		if (!(m = realloc(p->m, alloc * sizeof(*m))))
			return oom();
		p->m = m;
		p->alloc = alloc;
	}
	if ((err = join(&path, name, 0, p->file, "member")) < 0)
		goto fail;
	/* A hard link names another member from the top; a symbolic link
	 * is relative to its own folder. Both must stay inside. */
	if (hard) {
		err = join(&target, hard, 0, p->file, "hard link target");
	} else if (sym) {
		const char *slash = strrchr(path.buf, '/');

		cnai_buf_add(&target, path.buf,
			     slash ? (size_t)(slash - path.buf) : 0);
		err = join(&target, sym, 1, p->file, "link target");
	}
	if (err < 0)
		goto fail;
	m = &p->m[p->n++];
	m->path = cnai_buf_detach(&path);
	m->target = hard || sym ? cnai_buf_detach(&target) : NULL;
	m->type = hard || sym ? M_LINK
		  : archive_entry_filetype(e) == AE_IFREG ? M_FILE
							  : M_OTHER;
	return 0;
fail:
	cnai_buf_release(&path);
	cnai_buf_release(&target);
	return err;
}

static int open_archive(struct archive **out, struct archive_plan *p)
{
	struct archive *a;

	*out = NULL;
	if (lseek(p->fd, 0, SEEK_SET) < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'",
					    p->file);
	if (!(a = archive_read_new()))
		return oom();
	/* tar only (ustar, pax, GNU), plain or gzipped: no other format
	 * or filter is asked for, so none of libarchive's other readers or
	 * external programs ever see the input. */
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(a) < ARCHIVE_WARN ||
	    archive_read_open_fd(a, p->fd, 65536) != ARCHIVE_OK) {
		int err = cnai_error_set(CNAI_EINVALID, "'%s' is not a tar "
					 "archive: %s", p->file,
					 archive_error_string(a));

		archive_read_free(a);
		return err;
	}
	*out = a;
	return 0;
}

/* The error of a header or data read; the first header says "not a tar". */
static int read_error(struct archive *a, const struct archive_plan *p,
		      int first)
{
	const char *msg = archive_error_string(a);

	if (first)
		return cnai_error_set(CNAI_EINVALID, "'%s' is not a tar "
				      "archive: %s", p->file,
				      msg ? msg : "unreadable");
	return cnai_error_set(CNAI_EINVALID, "'%s' is damaged: %s", p->file,
			      msg ? msg : "unreadable");
}

/* The current member's bytes into `out`, `limit` at most. */
static int read_small(struct cnai_buf *out, struct archive *a,
		      const struct archive_plan *p, const char *name,
		      size_t limit)
{
	char chunk[65536];
	la_ssize_t n;

	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)n > limit)
			return cnai_error_set(CNAI_EINVALID, "'%s': '%s' is "
					      "over %zu KiB", p->file, name,
					      limit >> 10);
		if (cnai_buf_add(out, chunk, (size_t)n) < 0)
			return cnai_buf_oom(out);
	}
	return n < 0 ? read_error(a, p, 0) : 0;
}

/* Pass one: every member listed and checked, manifest.json read. */
static int scan(struct archive_plan *p)
{
	struct archive *a;
	struct archive_entry *e;
	int rc, err;

	if ((err = open_archive(&a, p)) < 0)
		return err;
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
	       rc == ARCHIVE_WARN) {
		if ((err = add_member(p, e)) < 0)
			goto cleanup;
		if (p->m[p->n - 1].type == M_FILE &&
		    !strcmp(p->m[p->n - 1].path, "manifest.json")) {
			cnai_buf_reset(&p->manifest);
			if ((err = read_small(&p->manifest, a, p,
					      "manifest.json",
					      MANIFEST_LIMIT)) < 0)
				goto cleanup;
			p->has_manifest = 1;
		}
	}
	err = rc == ARCHIVE_EOF ? 0 : read_error(a, p, p->n == 0);
	if (!err && !p->has_manifest)
		err = cnai_error_set(CNAI_EINVALID, "'%s' has no "
				     "manifest.json: it is not a 'docker "
				     "save' archive", p->file);
cleanup:
	archive_read_free(a);
	return err;
}

/* The member a path of manifest.json leads to, links followed. */
static int resolve(size_t *out, const struct archive_plan *p,
		   const char *name)
{
	struct cnai_buf path = CNAI_BUF_INIT;
	const char *want;
	size_t i;
	int hops, err;

	if ((err = join(&path, name, 0, p->file, "manifest.json path")) < 0)
		goto cleanup;
	want = path.buf;
	for (hops = 0; hops <= MAX_HOPS; hops++) {
		/* the last member of a name wins, as when a tar is extracted */
		for (i = p->n; i-- > 0;)
			if (!strcmp(p->m[i].path, want))
				break;
		if (i == (size_t)-1) {
			err = cnai_error_set(CNAI_EINVALID, "'%s': "
					     "manifest.json names '%s', which "
					     "the archive does not hold",
					     p->file, name);
			goto cleanup;
		}
		if (p->m[i].type == M_FILE) {
			*out = i;
			goto cleanup;
		}
		if (p->m[i].type == M_OTHER) {
			err = cnai_error_set(CNAI_EINVALID, "'%s': '%s' is not "
					     "a file", p->file, name);
			goto cleanup;
		}
		want = p->m[i].target;
	}
	err = cnai_error_set(CNAI_EINVALID, "'%s': '%s': more than %d links "
			     "to follow", p->file, name, MAX_HOPS);
cleanup:
	cnai_buf_release(&path);
	return err;
}

/* A reference as docker normalises it ("docker.io/library/x:latest");
 * text that is not a reference stays as it is. */
static void normalise_ref(struct cnai_buf *out, const char *s)
{
	struct cnai_reference r;

	cnai_buf_reset(out);
	if (cnai_reference_parse(&r, s) == 0 &&
	    cnai_reference_format(out, &r) == 0)
		return;
	cnai_error_clear();
	cnai_buf_reset(out);
	cnai_buf_adds(out, s);
}

/* "a:1, b:2, @2" for a message: what the archive holds. */
static void list_images(struct cnai_buf *out, json_t *items)
{
	json_t *item, *t;
	size_t i, j;

	json_array_foreach(items, i, item) {
		json_t *tags = json_object_get(item, "RepoTags");

		if (!json_array_size(tags))
			cnai_buf_addf(out, "%s@%zu", out->len ? ", " : "", i);
		json_array_foreach(tags, j, t) {
			const char *tag = json_string_value(t);

			cnai_buf_addf(out, "%s%s", out->len ? ", " : "",
				      tag ? tag : "?");
		}
	}
}

static int pick_image(json_t **out, json_t *items,
		      const struct archive_plan *p, const char *image)
{
	struct cnai_buf want = CNAI_BUF_INIT, have = CNAI_BUF_INIT,
			list = CNAI_BUF_INIT;
	json_t *item, *t;
	size_t i, j, n = json_array_size(items);
	int err = 0;

	*out = NULL;
	if (!image && n == 1) {
		*out = json_array_get(items, 0);
		return 0;
	}
	if (image && image[0] == '@' && image[1] >= '0' && image[1] <= '9' &&
	    strspn(image + 1, "0123456789") == strlen(image + 1) &&
	    strlen(image) < 8) {
		i = (size_t)strtoul(image + 1, NULL, 10);
		*out = json_array_get(items, i);
	} else if (image) {
		normalise_ref(&want, image);
		json_array_foreach(items, i, item) {
			json_array_foreach(json_object_get(item, "RepoTags"), j,
					   t) {
				if (!json_string_value(t))
					continue;
				normalise_ref(&have, json_string_value(t));
				if (!strcmp(have.buf, want.buf))
					*out = item;
			}
			if (*out)
				break;
		}
	}
	if (*out)
		goto cleanup;
	list_images(&list, items);
	if (image)
		err = cnai_error_set(CNAI_ENOTFOUND, "'%s' has no image '%s' "
				     "(it has: %s)", p->file, image,
				     list.len ? list.buf : "none");
	else
		err = cnai_error_set(CNAI_EINVALID, "'%s' holds %zu images; "
				     "name one as docker-archive:%s:<repo>:"
				     "<tag> (it has: %s)", p->file, n,
				     p->file, list.len ? list.buf : "none");
cleanup:
	cnai_buf_release(&want);
	cnai_buf_release(&have);
	cnai_buf_release(&list);
	return err;
}

/* manifest.json parsed, the image chosen, its members found. */
static int plan_image(struct archive_plan *p, const char *image)
{
	json_t *items, *item, *layers, *l;
	json_error_t jerr;
	size_t i;
	int err;

	items = json_loadb(p->manifest.buf, p->manifest.len, 0, &jerr);
	if (!json_is_array(items)) {
		err = cnai_error_set(CNAI_EINVALID, "'%s': manifest.json is "
				     "not a JSON array", p->file);
		goto cleanup;
	}
	if ((err = pick_image(&item, items, p, image)) < 0)
		goto cleanup;
	layers = json_object_get(item, "Layers");
	if (!json_is_string(json_object_get(item, "Config")) ||
	    !json_is_array(layers) ||
	    json_array_size(layers) > CNAI_OCI_MAX_LAYERS) {
		err = cnai_error_set(CNAI_EINVALID, "'%s': manifest.json: an "
				     "image needs \"Config\" and at most %d "
				     "\"Layers\"", p->file,
				     CNAI_OCI_MAX_LAYERS);
		goto cleanup;
	}
	if ((err = resolve(&p->config, p, json_string_value(json_object_get(
						  item, "Config")))) < 0)
		goto cleanup;
	p->layers = calloc(json_array_size(layers) + 1, sizeof(*p->layers));
	if (!p->layers) {
		err = oom();
		goto cleanup;
	}
	json_array_foreach(layers, i, l) {
		if (!json_is_string(l)) {
			err = cnai_error_set(CNAI_EINVALID, "'%s': "
					     "manifest.json: a layer is not a "
					     "path", p->file);
			goto cleanup;
		}
		if ((err = resolve(&p->layers[i], p, json_string_value(l))) < 0)
			goto cleanup;
		p->nlayers = i + 1;
	}
cleanup:
	json_decref(items);
	return err;
}

/* ---- pass two: the layers into the layout ---- */

/*
 * A gzip layer kept as it is: its bytes hashed (digest) and written, and
 * inflated only to hash the tar inside (diff_id). Several members one
 * after another are one gzip file, as gunzip reads them.
 */
struct gz_pass {
	z_stream z;
	int init, ended;
	unsigned char *out;
	struct cnai_sha256 tar;
	uint64_t tar_size;
};

static int gz_pass_add(struct gz_pass *g, const unsigned char *data,
		       size_t len, const struct archive_plan *p,
		       const char *name)
{
	int rc, err;

	g->z.next_in = (unsigned char *)data;
	g->z.avail_in = (uInt)len;
	while (g->z.avail_in) {
		if (g->ended) {
			if (inflateReset(&g->z) != Z_OK)
				return oom();
			g->ended = 0;
		}
		g->z.next_out = g->out;
		g->z.avail_out = CHUNK;
		rc = inflate(&g->z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			return cnai_error_set(CNAI_EINVALID, "'%s': layer '%s' "
					      "is not valid gzip: %s", p->file,
					      name,
					      g->z.msg ? g->z.msg : "bad data");
		if ((err = cnai_sha256_update(&g->tar, g->out,
					      CHUNK - g->z.avail_out)) < 0)
			return err;
		g->tar_size += CHUNK - g->z.avail_out;
		g->ended = rc == Z_STREAM_END;
		if (rc == Z_BUF_ERROR && !g->z.avail_in)
			break;
	}
	return 0;
}

/* Enough of the tar's first block to say it is one: ustar magic, or the
 * zeros of an empty tar. */
static int looks_like_tar(const unsigned char *b, size_t len)
{
	size_t i;

	if (len < TAR_BLOCK)
		return 0;
	if (!memcmp(b + 257, "ustar", 5))
		return 1;
	for (i = 0; i < TAR_BLOCK; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Reads up to `want` bytes of the current member (fewer only at its end). */
static la_ssize_t read_some(struct archive *a, unsigned char *buf,
			    size_t want)
{
	size_t got = 0;
	la_ssize_t n = 0;

	while (got < want &&
	       (n = archive_read_data(a, buf + got, want - got)) > 0)
		got += (size_t)n;
	return n < 0 ? n : (la_ssize_t)got;
}

/* The current member, a layer, into a blob of `dir`. */
static int import_layer(struct cnai_layer_info *out, struct archive *a,
			const struct archive_plan *p, const char *dir,
			const char *name, const struct cnai_layer_opts *lo)
{
	struct cnai_oci_blob_writer w;
	struct cnai_layer_writer *lw = NULL;
	struct gz_pass g;
	struct cnai_sha256 raw = { NULL };
	unsigned char *buf = malloc(CHUNK);
	uint64_t raw_size = 0;
	la_ssize_t n;
	int gzip, opened = 0, err;

	memset(&g, 0, sizeof(g));
	if (!buf)
		return oom();
	if ((n = read_some(a, buf, CHUNK)) < 0) {
		err = read_error(a, p, 0);
		goto cleanup;
	}
	gzip = n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
	if (!gzip && !looks_like_tar(buf, (size_t)n)) {
		err = cnai_error_set(CNAI_EINVALID, "'%s': layer '%s' is "
				     "neither a tar nor gzip", p->file, name);
		goto cleanup;
	}
	if ((err = cnai_oci_blob_open(&w, dir)) < 0)
		goto cleanup;
	opened = 1;
	if (gzip) {
		if (!(g.out = malloc(CHUNK)) ||
		    inflateInit2(&g.z, 16 + MAX_WBITS) != Z_OK) {
			err = oom();
			goto cleanup;
		}
		g.init = 1;
		if ((err = cnai_sha256_init(&g.tar)) < 0 ||
		    (err = cnai_sha256_init(&raw)) < 0)
			goto cleanup;
	} else if ((err = cnai_layer_writer_new(&lw, w.fd, lo)) < 0) {
		goto cleanup;
	}
	while (n > 0) {
		if (!gzip)
			err = cnai_layer_writer_add(lw, buf, (size_t)n);
		else if ((err = cnai_sha256_update(&raw, buf,
						   (size_t)n)) == 0 &&
			 cnai_fs_write_all(w.fd, buf, (size_t)n) < 0)
			err = cnai_error_set_errno(CNAI_ERROR, "cannot write a "
						   "blob in '%s'", dir);
		else if (err == 0)
			err = gz_pass_add(&g, buf, (size_t)n, p, name);
		if (err < 0)
			goto cleanup;
		raw_size += (uint64_t)n;
		if ((n = read_some(a, buf, CHUNK)) < 0) {
			err = read_error(a, p, 0);
			goto cleanup;
		}
	}
	if (!gzip) {
		err = cnai_layer_writer_finish(out, lw);
	} else if (!g.ended) {
		err = cnai_error_set(CNAI_EINVALID, "'%s': layer '%s' is "
				     "truncated gzip", p->file, name);
	} else {
		memset(out, 0, sizeof(*out));
		if ((err = cnai_sha256_final(&raw, out->digest)) == 0)
			err = cnai_sha256_final(&g.tar, out->diff_id);
		out->size = raw_size;
		out->tar_size = g.tar_size;
		out->media_type = CNAI_MEDIA_LAYER_GZIP;
	}
	if (err == 0) {
		opened = 0; /* commit releases the writer, whatever happens */
		err = cnai_oci_blob_commit(&w, out->digest);
	}
cleanup:
	if (opened)
		cnai_oci_blob_abort(&w);
	cnai_layer_writer_free(lw);
	if (g.init)
		inflateEnd(&g.z);
	free(g.out);
	cnai_sha256_release(&g.tar);
	cnai_sha256_release(&raw);
	free(buf);
	return err;
}

/* Pass two: the config read, each layer stored (a member named twice
 * is read once). */
static int read_image(struct cnai_buf *config, struct cnai_layer_info *info,
		      struct archive_plan *p, const char *dir,
		      const struct cnai_layer_opts *lo)
{
	struct archive *a;
	struct archive_entry *e;
	size_t i = 0, k, first;
	int rc, err = 0;

	if ((err = open_archive(&a, p)) < 0)
		return err;
	while (!err && ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
			rc == ARCHIVE_WARN)) {
		if (i == p->config)
			err = read_small(config, a, p, p->m[i].path,
					 CNAI_OCI_MANIFEST_LIMIT);
		first = p->nlayers; /* none yet */
		for (k = 0; !err && k < p->nlayers; k++) {
			if (p->layers[k] != i)
				continue;
			if (first < p->nlayers) {
				info[k] = info[first];
				continue;
			}
			err = import_layer(&info[k], a, p, dir, p->m[i].path,
					   lo);
			first = k;
		}
		i++;
	}
	if (!err && rc != ARCHIVE_EOF)
		err = read_error(a, p, 0);
	archive_read_free(a);
	return err;
}

/* Every layer's diff_id is the config's, in order. */
static int check_diff_ids(json_t *config, const struct cnai_layer_info *info,
			  const struct archive_plan *p)
{
	json_t *ids = json_object_get(json_object_get(config, "rootfs"),
				      "diff_ids");
	size_t i;

	if (json_array_size(ids) != p->nlayers)
		return cnai_error_set(CNAI_EINVALID, "'%s': the config lists "
				      "%zu layers, manifest.json %zu", p->file,
				      json_array_size(ids), p->nlayers);
	for (i = 0; i < p->nlayers; i++) {
		const char *want = json_string_value(json_array_get(ids, i));

		if (!want || strcmp(want, info[i].diff_id))
			return cnai_error_set(CNAI_EINVALID, "'%s': layer '%s' "
					      "has diff_id '%s', the config "
					      "says '%s'", p->file,
					      p->m[p->layers[i]].path,
					      info[i].diff_id,
					      want ? want : "nothing");
	}
	return 0;
}

/* The config blob and a manifest naming it and the layers. */
static int store_image(struct cnai_oci_desc *out, const char *dir,
		       const char *file, const struct cnai_buf *config_bytes,
		       const struct cnai_layer_info *info, size_t n)
{
	struct cnai_oci_desc cfg, l;
	json_t *man = NULL;
	char name[4200];
	size_t i;
	int err;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.media_type, sizeof(cfg.media_type), "%s",
		 CNAI_MEDIA_OCI_CONFIG);
	cfg.size = config_bytes->len;
	if ((err = cnai_sha256_buffer(cfg.digest, config_bytes->buf,
				      config_bytes->len)) < 0 ||
	    (err = cnai_oci_manifest_new(&man, &cfg, NULL)) < 0)
		goto cleanup;
	for (i = 0; i < n; i++) {
		memset(&l, 0, sizeof(l));
		snprintf(l.media_type, sizeof(l.media_type), "%s",
			 info[i].media_type);
		snprintf(l.digest, sizeof(l.digest), "%s", info[i].digest);
		l.size = info[i].size;
		if ((err = cnai_oci_manifest_add_layer(man, &l, NULL)) < 0)
			goto cleanup;
	}
	/* Held to what pull accepts from a registry, before the config is
	 * stored. */
	snprintf(name, sizeof(name), "'%.4096s': the image's manifest", file);
	if ((err = cnai_oci_manifest_check(man, NULL, name)) < 0 ||
	    (err = cnai_oci_blob_put(cfg.digest, dir, config_bytes->buf,
				     config_bytes->len)) < 0 ||
	    (err = cnai_oci_json_put(out, dir, man, NULL)) < 0)
		goto cleanup;
	err = cnai_oci_index_put(dir, out);
cleanup:
	json_decref(man);
	return err;
}

int cnai_docker_archive_import(struct cnai_oci_desc *out, const char *dir,
			       const char *file, const char *image,
			       const struct cnai_layer_opts *lo)
{
	struct archive_plan p;
	struct cnai_buf config_bytes = CNAI_BUF_INIT;
	struct cnai_layer_info *info = NULL;
	json_t *config = NULL;
	struct stat st;
	size_t i;
	int err;

	memset(&p, 0, sizeof(p));
	p.file = file;
	cnai_buf_init(&p.manifest);
	p.fd = open(file, O_RDONLY | O_CLOEXEC);
	if (p.fd < 0) {
		err = cnai_error_set_errno(errno == ENOENT ? CNAI_ENOTFOUND
							   : CNAI_ERROR,
					   "cannot open '%s'", file);
		goto cleanup;
	}
	if (fstat(p.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = cnai_error_set(CNAI_EINVALID, "'%s' is not a file", file);
		goto cleanup;
	}
	if ((err = scan(&p)) < 0 || (err = plan_image(&p, image)) < 0)
		goto cleanup;
	if (!(info = calloc(p.nlayers + 1, sizeof(*info)))) {
		err = oom();
		goto cleanup;
	}
	if ((err = read_image(&config_bytes, info, &p, dir, lo)) < 0)
		goto cleanup;
	config = json_loadb(config_bytes.buf, config_bytes.len, 0, NULL);
	if (!json_is_object(config)) {
		err = cnai_error_set(CNAI_EINVALID, "'%s': config '%s' is not "
				     "a JSON object", file,
				     p.m[p.config].path);
		goto cleanup;
	}
	if ((err = check_diff_ids(config, info, &p)) == 0)
		err = store_image(out, dir, file, &config_bytes, info,
				  p.nlayers);
cleanup:
	json_decref(config);
	free(info);
	for (i = 0; i < p.n; i++) {
		free(p.m[i].path);
		free(p.m[i].target);
	}
	free(p.m);
	free(p.layers);
	cnai_buf_release(&p.manifest);
	cnai_buf_release(&config_bytes);
	if (p.fd >= 0)
		close(p.fd);
	return err;
}
