/*
 * Reproducible tar layers. libarchive writes the tar into a callback that
 * hashes it (diff_id) and hands it to the compressor; the compressor's
 * output is hashed (digest) and written to the caller's descriptor. One
 * pass over each source file, whatever the compression.
 *
 * gzip blocks (pigz's scheme): block k is raw-deflated with the last 32 KiB
 * of block k-1 as its dictionary and ends with Z_SYNC_FLUSH (the last with
 * Z_FINISH), so the concatenation is one deflate stream; the CRC-32 of each
 * block is joined with crc32_combine(). Workers take ready blocks from a
 * ring of slots; the producing thread (the one libarchive calls back on)
 * writes finished blocks in order, waiting only when the ring is full.
 */
#include "registry/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

enum {
	READ_CHUNK = 1 << 20,
	DICT = 32768,
	DEFAULT_BLOCK = 1 << 20,
	MAX_THREADS = 64,
	KEY_VERSION = 2, /* 2: incompressible blocks stored */
	PROBE = 16384,    /* bytes of each sample incompressible() tries */
};

/* ---- entries: normalise, add parents, sort ---- */

enum item_type { ITEM_FILE, ITEM_DIR, ITEM_LINK };

struct item {
	char *path;
	enum item_type type;
	unsigned mode;
	const char *src;
	const char *link;
	int implicit; /* a parent folder we added */
};

struct items {
	struct item *v;
	size_t n, alloc;
};

static void items_release(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		free(it->v[i].path);
	free(it->v);
	it->v = NULL;
	it->n = it->alloc = 0;
}

static int items_push(struct items *it, const char *path, size_t len,
		      enum item_type type, unsigned mode, const char *src,
		      const char *link, int implicit)
{
	struct item *x;

	if (it->n == it->alloc) {
		size_t na = it->alloc ? it->alloc * 2 : 16;
		struct item *nv = realloc(it->v, na * sizeof(*nv));

		if (!nv)
			return cnai_error_set(CNAI_ERROR, "out of memory");
		it->v = nv;
		it->alloc = na;
	}
	x = &it->v[it->n];
	if (!(x->path = strndup(path, len)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	x->type = type;
	x->mode = mode;
	x->src = src;
	x->link = link;
	x->implicit = implicit;
	it->n++;
	return 0;
}

/* "/a//b/" -> "a/b"; refuses empty, "." and ".." components. */
static int normalise(struct cnai_buf *out, const char *path)
{
	const char *p = path, *e;
	size_t len;

	cnai_buf_reset(out);
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		len = e ? (size_t)(e - p) : strlen(p);
		if ((len == 1 && p[0] == '.') && out->len == 0 &&
		    p == path) {
			p += len; /* a leading "./" */
			continue;
		}
		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return cnai_error_set(CNAI_EINVALID,
					      "layer path '%s': '.' and '..' "
					      "are not allowed", path);
		if (out->len)
			cnai_buf_addch(out, '/');
		cnai_buf_add(out, p, len);
		p += len;
	}
	if (cnai_buf_oom(out) < 0)
		return CNAI_ERROR;
	if (!out->len)
		return cnai_error_set(CNAI_EINVALID, "layer path '%s' is empty",
				      path);
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	return x->implicit - y->implicit; /* explicit first */
}

static int collect(struct items *it, const struct cnai_layer_entry *entries,
		   size_t n)
{
	struct cnai_buf norm = CNAI_BUF_INIT;
	struct items all = { NULL, 0, 0 };
	size_t i, j, k;
	int err = 0;

	for (i = 0; i < n; i++) {
		const struct cnai_layer_entry *en = &entries[i];
		enum item_type t = en->link ? ITEM_LINK :
				   en->src ? ITEM_FILE : ITEM_DIR;

		if (!en->path) {
			err = cnai_error_set(CNAI_EINVALID,
					     "layer entry %zu has no path", i);
			goto cleanup;
		}
		if ((err = normalise(&norm, en->path)) < 0)
			goto cleanup;
		for (j = 0; j < norm.len; j++)
			if (norm.buf[j] == '/' &&
			    (err = items_push(&all, norm.buf, j, ITEM_DIR, 0755,
					      NULL, NULL, 1)) < 0)
				goto cleanup;
		if ((err = items_push(&all, norm.buf, norm.len, t,
				      en->mode & 07777, en->src, en->link,
				      0)) < 0)
			goto cleanup;
	}
	if (all.n)
		qsort(all.v, all.n, sizeof(*all.v), cmp_item);
	/* Drop duplicate implicit folders; refuse real clashes. */
	for (i = 0, k = 0; i < all.n; i++) {
		struct item *x = &all.v[i];

		if (k && !strcmp(it->v[k - 1].path, x->path)) {
			struct item *prev = &it->v[k - 1];

			if (x->implicit && prev->type == ITEM_DIR) {
				free(x->path);
				continue;
			}
			if (x->implicit)
				err = cnai_error_set(CNAI_EINVALID,
						     "layer path '%s' is both "
						     "a file and a folder",
						     x->path);
			else
				err = cnai_error_set(CNAI_EINVALID,
						     "layer path '%s' is given "
						     "twice", x->path);
			free(x->path);
			for (j = i + 1; j < all.n; j++)
				free(all.v[j].path);
			all.n = 0;
			goto cleanup;
		}
		if (k == it->alloc) {
			/* it->v sized to all.n up front below */
			CNAI_BUG("item array too small");
		}
		it->v[k++] = *x;
		it->n = k;
	}
	all.n = 0;
cleanup:
	cnai_buf_release(&norm);
	items_release(&all);
	return err;
}

static int collect_entries(struct items *it,
			   const struct cnai_layer_entry *entries, size_t n)
{
	size_t i, slots = 0;

	for (i = 0; i < n; i++) {
		const char *p = entries[i].path;

		slots++;
		for (; p && *p; p++)
			slots += *p == '/';
	}
	it->alloc = slots ? slots : 1;
	if (!(it->v = calloc(it->alloc, sizeof(*it->v))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	it->n = 0;
	return collect(it, entries, n);
}

/* ---- output: hash and write compressed bytes ---- */

struct gz;

struct sink {
	int fd;
	enum cnai_layer_compression comp;
	struct cnai_sha256 tar_hash, out_hash;
	uint64_t tar_size, out_size;
	struct gz *gz;
	ZSTD_CCtx *zc;
	unsigned char *zbuf;
	size_t zcap;
	int err;
};

static int emit(struct sink *s, const void *data, size_t len)
{
	int err;

	if (!len)
		return 0;
	if ((err = cnai_sha256_update(&s->out_hash, data, len)) < 0)
		return err;
	if ((err = cnai_fs_write_all(s->fd, data, len)) < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot write layer");
	s->out_size += len;
	return 0;
}

/* ---- parallel gzip ---- */

enum slot_state { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_DONE };

struct slot {
	unsigned char *in; /* dict_len bytes of dictionary, then input */
	size_t dict_len, in_len;
	unsigned char *out;
	size_t out_len, out_cap;
	uLong crc;
	int last;
	uint64_t seq;
	enum slot_state state;
	int err;
	char errmsg[256];
};

/*
 * A worker's zlib state: the stream that deflates blocks and a probe that
 * deflates samples of them (see incompressible()).
 */
struct deflater {
	z_stream z, probe;
	unsigned char *scratch;
	int level, ok;
};

struct gz {
	int level;
	size_t block;
	size_t nslots;
	struct slot *slots;
	int nthreads;
	pthread_t threads[MAX_THREADS];
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int shutdown;
	uint64_t fill_seq, emit_seq;
	uLong crc;
	uint64_t isize;
	struct deflater inline_d; /* threads == 1: compress in the producer */
};

static int z_init(z_stream *z, int level)
{
	memset(z, 0, sizeof(*z));
	return deflateInit2(z, level, Z_DEFLATED, -15, 8,
			    Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -1;
}

static void deflater_init(struct deflater *d, int level)
{
	memset(d, 0, sizeof(*d));
	d->level = level;
	if (z_init(&d->z, level) < 0)
		return;
	if (z_init(&d->probe, 1) < 0) {
		deflateEnd(&d->z);
		return;
	}
	if (!(d->scratch = malloc(2 * PROBE))) {
		deflateEnd(&d->z);
		deflateEnd(&d->probe);
		return;
	}
	d->ok = 1;
}

static void deflater_end(struct deflater *d)
{
	if (!d->ok)
		return;
	deflateEnd(&d->z);
	deflateEnd(&d->probe);
	free(d->scratch);
	d->ok = 0;
}

/*
 * Whether a block is not worth deflating. zlib's matcher spends as long
 * on random bytes (weights of full entropy, compressed files) as on text,
 * eight times longer than on text at level 1, only to emit stored blocks
 * in the end. Three samples (start, middle, end) are deflated alone at
 * level 1; when none shrinks by 1/64, the block is stored (level 0): the
 * same size within a few bytes per 64 KiB, in a fraction of the time. The
 * answer depends on the bytes alone, so the output stays reproducible.
 */
static int incompressible(struct deflater *d, const unsigned char *p,
			  size_t len)
{
	size_t i;

	if (len < 4 * PROBE)
		return 0;
	for (i = 0; i < 3; i++) {
		const unsigned char *at = p + i * ((len - PROBE) / 2);

		if (deflateReset(&d->probe) != Z_OK)
			return 0;
		d->probe.next_in = (unsigned char *)at;
		d->probe.avail_in = PROBE;
		d->probe.next_out = d->scratch;
		d->probe.avail_out = 2 * PROBE;
		if (deflate(&d->probe, Z_FINISH) != Z_STREAM_END ||
		    d->probe.total_out < PROBE - PROBE / 64)
			return 0;
	}
	return 1;
}

static int deflate_slot(struct deflater *d, struct slot *sl)
{
	const unsigned char *in = sl->in + sl->dict_len;
	z_stream *z = &d->z;
	int rc;

	sl->crc = crc32(0L, in, (uInt)sl->in_len);
	if (deflateReset(z) != Z_OK ||
	    deflateParams(z, incompressible(d, in, sl->in_len) ? 0 : d->level,
			  Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	if (sl->dict_len &&
	    deflateSetDictionary(z, sl->in, (uInt)sl->dict_len) != Z_OK)
		return -1;
	z->next_in = (unsigned char *)in;
	z->avail_in = (uInt)sl->in_len;
	z->next_out = sl->out;
	z->avail_out = (uInt)sl->out_cap;
	rc = deflate(z, sl->last ? Z_FINISH : Z_SYNC_FLUSH);
	if (sl->last ? rc != Z_STREAM_END : (rc != Z_OK || z->avail_in))
		return -1;
	if (!sl->last && z->avail_out == 0)
		return -1; /* the flush may be incomplete */
	sl->out_len = sl->out_cap - z->avail_out;
	return 0;
}

static void *gz_worker(void *arg)
{
	struct gz *g = arg;
	struct deflater d;

	deflater_init(&d, g->level);

	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct slot *pick = NULL;
		size_t i;

		for (i = 0; i < g->nslots; i++) {
			struct slot *sl = &g->slots[i];

			if (sl->state == SLOT_READY &&
			    (!pick || sl->seq < pick->seq))
				pick = sl;
		}
		if (!pick) {
			if (g->shutdown)
				break;
			pthread_cond_wait(&g->cond, &g->mu);
			continue;
		}
		pick->state = SLOT_BUSY;
		pthread_mutex_unlock(&g->mu);
		pick->err = !d.ok || deflate_slot(&d, pick) < 0;
		pthread_mutex_lock(&g->mu);
		pick->state = SLOT_DONE;
		pthread_cond_broadcast(&g->cond);
	}
	pthread_mutex_unlock(&g->mu);
	deflater_end(&d);
	return NULL;
}

static void gz_free(struct gz *g)
{
	size_t i;
	int t;

	if (!g)
		return;
	if (g->started) {
		pthread_mutex_lock(&g->mu);
		g->shutdown = 1;
		pthread_cond_broadcast(&g->cond);
		pthread_mutex_unlock(&g->mu);
		for (t = 0; t < g->started; t++)
			pthread_join(g->threads[t], NULL);
	}
	deflater_end(&g->inline_d);
	for (i = 0; i < g->nslots && g->slots; i++) {
		free(g->slots[i].in);
		free(g->slots[i].out);
	}
	free(g->slots);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cond);
	free(g);
}

static int gz_new(struct gz **out, int level, size_t block, int threads)
{
	struct gz *g = calloc(1, sizeof(*g));
	size_t i;

	if (!g)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->level = level;
	g->block = block;
	g->nthreads = threads;
	g->nslots = threads > 1 ? (size_t)threads * 2 : 1;
	g->crc = crc32(0L, Z_NULL, 0);
	if (!(g->slots = calloc(g->nslots, sizeof(*g->slots))))
		goto oom;
	for (i = 0; i < g->nslots; i++) {
		struct slot *sl = &g->slots[i];

		/* above deflateBound() for a raw stream, plus the flush */
		sl->out_cap = block + (block >> 8) + 1024;
		if (!(sl->in = malloc(DICT + block)) ||
		    !(sl->out = malloc(sl->out_cap)))
			goto oom;
	}
	if (threads <= 1) {
		deflater_init(&g->inline_d, level);
		if (!g->inline_d.ok) {
			gz_free(g);
			return cnai_error_set(CNAI_ERROR, "cannot start zlib");
		}
	} else {
		for (i = 0; i < (size_t)threads; i++) {
			if (pthread_create(&g->threads[i], NULL, gz_worker,
					   g) != 0) {
				gz_free(g);
				return cnai_error_set(
					CNAI_ERROR,
					"cannot start a compression thread");
			}
			g->started++;
		}
	}
	*out = g;
	return 0;
oom:
	gz_free(g);
	return cnai_error_set(CNAI_ERROR, "out of memory");
}

static int gz_emit_slot(struct sink *s, struct slot *sl)
{
	struct gz *g = s->gz;

	if (sl->err)
		return cnai_error_set(CNAI_ERROR, "gzip compression of a "
				      "layer block failed");
	g->crc = crc32_combine(g->crc, sl->crc, (z_off_t)sl->in_len);
	g->isize += sl->in_len;
	return emit(s, sl->out, sl->out_len);
}

/* Writes finished slots in order; with `wait_for` waits until that one is
 * free. Called with the mutex held. */
static int gz_drain(struct sink *s, struct slot *wait_for, int all)
{
	struct gz *g = s->gz;
	int err = 0;

	for (;;) {
		struct slot *head = &g->slots[g->emit_seq % g->nslots];

		if (g->emit_seq < g->fill_seq && head->state == SLOT_DONE) {
			pthread_mutex_unlock(&g->mu);
			err = gz_emit_slot(s, head);
			pthread_mutex_lock(&g->mu);
			head->state = SLOT_FREE;
			g->emit_seq++;
			if (err < 0)
				return err;
			continue;
		}
		if (all ? g->emit_seq == g->fill_seq :
			  (!wait_for || wait_for->state == SLOT_FREE))
			return 0;
		pthread_cond_wait(&g->cond, &g->mu);
	}
}

static struct slot *gz_current(struct gz *g)
{
	return &g->slots[g->fill_seq % g->nslots];
}

/* Hands the current slot to the workers and readies the next one. */
static int gz_dispatch(struct sink *s, int last)
{
	struct gz *g = s->gz;
	struct slot *sl = gz_current(g), *next;
	int err = 0;

	sl->last = last;
	sl->seq = g->fill_seq;
	if (g->nthreads <= 1) {
		sl->err = deflate_slot(&g->inline_d, sl) < 0;
		g->fill_seq++;
		if ((err = gz_emit_slot(s, sl)) < 0)
			return err;
		g->emit_seq++;
		/* one slot: the next block's dictionary is this one's tail */
		if (!last) {
			size_t total = sl->dict_len + sl->in_len;
			size_t keep = total < DICT ? total : DICT;

			memmove(sl->in, sl->in + total - keep, keep);
			sl->dict_len = keep;
			sl->in_len = 0;
		}
		return 0;
	}
	pthread_mutex_lock(&g->mu);
	sl->state = SLOT_READY;
	g->fill_seq++;
	pthread_cond_broadcast(&g->cond);
	if (!last) {
		next = gz_current(g);
		err = gz_drain(s, next, 0);
		if (err == 0) {
			size_t total = sl->dict_len + sl->in_len;
			size_t keep = total < DICT ? total : DICT;

			/* sl is READY or BUSY: workers only read its input */
			memcpy(next->in, sl->in + total - keep, keep);
			next->dict_len = keep;
			next->in_len = 0;
		}
	} else {
		err = gz_drain(s, NULL, 1);
	}
	pthread_mutex_unlock(&g->mu);
	return err;
}

static int gz_write(struct sink *s, const unsigned char *p, size_t len)
{
	struct gz *g = s->gz;
	int err;

	while (len) {
		struct slot *sl = gz_current(g);
		size_t room = g->block - sl->in_len;
		size_t n = len < room ? len : room;

		memcpy(sl->in + sl->dict_len + sl->in_len, p, n);
		sl->in_len += n;
		p += n;
		len -= n;
		if (sl->in_len == g->block && (err = gz_dispatch(s, 0)) < 0)
			return err;
	}
	return 0;
}

static int gz_write_header(struct sink *s, int level)
{
	/* magic, deflate, no flags, mtime 0, xfl, OS unix: no name, no time */
	unsigned char h[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

	h[8] = level == 1 ? 4 : level == 9 ? 2 : 0;
	return emit(s, h, sizeof(h));
}

static int gz_finish(struct sink *s)
{
	struct gz *g = s->gz;
	unsigned char t[8];
	int err, i;

	if ((err = gz_dispatch(s, 1)) < 0)
		return err;
	for (i = 0; i < 4; i++) {
		t[i] = (unsigned char)(g->crc >> (8 * i));
		t[4 + i] = (unsigned char)(g->isize >> (8 * i));
	}
	return emit(s, t, sizeof(t));
}

/* ---- zstd ---- */

static int zstd_run(struct sink *s, const void *data, size_t len,
		    ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { data, len, 0 };
	size_t rem;
	int err;

	for (;;) {
		ZSTD_outBuffer out = { s->zbuf, s->zcap, 0 };

		rem = ZSTD_compressStream2(s->zc, &out, &in, mode);
		if (ZSTD_isError(rem))
			return cnai_error_set(CNAI_ERROR, "zstd: %s",
					      ZSTD_getErrorName(rem));
		if ((err = emit(s, s->zbuf, out.pos)) < 0)
			return err;
		if (mode == ZSTD_e_continue ? in.pos == in.size : rem == 0)
			return 0;
	}
}

/* ---- the tar side ---- */

static int sink_input(struct sink *s, const void *data, size_t len)
{
	int err;

	if ((err = cnai_sha256_update(&s->tar_hash, data, len)) < 0)
		return err;
	s->tar_size += len;
	switch (s->comp) {
	case CNAI_LAYER_GZIP:
		return gz_write(s, data, len);
	case CNAI_LAYER_ZSTD:
		return zstd_run(s, data, len, ZSTD_e_continue);
	case CNAI_LAYER_NONE:
		return emit(s, data, len);
	}
	return 0;
}

static la_ssize_t tar_write_cb(struct archive *a, void *ctx, const void *buf,
			       size_t len)
{
	struct sink *s = ctx;

	if (s->err)
		return -1;
	if ((s->err = sink_input(s, buf, len)) < 0) {
		archive_set_error(a, EIO, "layer output failed");
		return -1;
	}
	return (la_ssize_t)len;
}

static int arch_error(struct archive *a, const char *what, const char *path,
		      struct sink *s)
{
	if (s->err < 0)
		return s->err; /* the real cause is already set */
	return cnai_error_set(CNAI_ERROR, "tar %s '%s': %s", what, path,
			      archive_error_string(a) ? archive_error_string(a)
						      : "unknown error");
}

static int add_file(struct archive *a, struct archive_entry *ae,
		    const struct item *x, unsigned char *buf, struct sink *s)
{
	struct stat st;
	uint64_t left;
	int fd, err = 0;
	unsigned mode = x->mode;

	fd = open(x->src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cnai_error_set_errno(errno == ENOENT ? CNAI_ENOTFOUND
							    : CNAI_ERROR,
					    "cannot read '%s'", x->src);
	if (fstat(fd, &st) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "stat '%s'", x->src);
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		err = cnai_error_set(CNAI_EINVALID, "'%s' is not a regular "
				     "file", x->src);
		goto cleanup;
	}
	if (!mode)
		mode = (st.st_mode & S_IXUSR) ? 0755 : 0644;
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, mode);
	archive_entry_set_size(ae, st.st_size);
	if (archive_write_header(a, ae) != ARCHIVE_OK) {
		err = arch_error(a, "header for", x->path, s);
		goto cleanup;
	}
	left = (uint64_t)st.st_size;
	while (left) {
		size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = cnai_error_set_errno(CNAI_ERROR, "cannot read "
						   "'%s'", x->src);
			goto cleanup;
		}
		if (n == 0) {
			err = cnai_error_set(CNAI_ERROR, "'%s' shrank while "
					     "being packed", x->src);
			goto cleanup;
		}
		if (archive_write_data(a, buf, (size_t)n) != n) {
			err = arch_error(a, "data of", x->path, s);
			goto cleanup;
		}
		left -= (uint64_t)n;
	}
	if (read(fd, buf, 1) > 0)
		err = cnai_error_set(CNAI_ERROR, "'%s' grew while being "
				     "packed", x->src);
cleanup:
	close(fd);
	return err;
}

static int write_tar(struct sink *s, const struct items *it, int64_t mtime)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = NULL;
	unsigned char *buf = malloc(READ_CHUNK);
	size_t i;
	int err = 0;

	if (!a || !buf) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 10240) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, s, NULL, tar_write_cb, NULL, NULL) !=
		    ARCHIVE_OK) {
		err = arch_error(a, "start of", "layer", s);
		goto cleanup;
	}
	for (i = 0; i < it->n; i++) {
		const struct item *x = &it->v[i];

		if (!ae)
			ae = archive_entry_new2(a);
		else
			archive_entry_clear(ae);
		if (!ae) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		archive_entry_set_pathname(ae, x->path);
		archive_entry_set_uid(ae, 0);
		archive_entry_set_gid(ae, 0);
		archive_entry_set_mtime(ae, (time_t)mtime, 0);
		switch (x->type) {
		case ITEM_FILE:
			err = add_file(a, ae, x, buf, s);
			break;
		case ITEM_DIR:
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, x->mode ? x->mode : 0755);
			if (archive_write_header(a, ae) != ARCHIVE_OK)
				err = arch_error(a, "header for", x->path, s);
			break;
		case ITEM_LINK:
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, x->mode ? x->mode : 0777);
			archive_entry_set_symlink(ae, x->link);
			if (archive_write_header(a, ae) != ARCHIVE_OK)
				err = arch_error(a, "header for", x->path, s);
			break;
		}
		if (err < 0)
			goto cleanup;
		if (archive_write_finish_entry(a) != ARCHIVE_OK) {
			err = arch_error(a, "entry", x->path, s);
			goto cleanup;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		err = arch_error(a, "end of", "layer", s);
cleanup:
	archive_entry_free(ae);
	if (a)
		archive_write_free(a);
	free(buf);
	return err;
}

/* ---- public ---- */

const char *cnai_layer_media_type(enum cnai_layer_compression c)
{
	switch (c) {
	case CNAI_LAYER_GZIP:
		return CNAI_MEDIA_LAYER_GZIP;
	case CNAI_LAYER_ZSTD:
		return CNAI_MEDIA_LAYER_ZSTD;
	case CNAI_LAYER_NONE:
		return CNAI_MEDIA_LAYER_TAR;
	}
	return NULL;
}

int cnai_layer_compression_parse(enum cnai_layer_compression *out,
				 const char *name)
{
	if (!strcmp(name, "gzip"))
		*out = CNAI_LAYER_GZIP;
	else if (!strcmp(name, "zstd"))
		*out = CNAI_LAYER_ZSTD;
	else if (!strcmp(name, "none"))
		*out = CNAI_LAYER_NONE;
	else
		return cnai_error_set(CNAI_EINVALID, "compression '%s': "
				      "expected gzip, zstd or none", name);
	return 0;
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* Sets up `s` to compress into `fd` as `opts` say. */
static int sink_open(struct sink *s, int fd,
		     const struct cnai_layer_opts *opts)
{
	static const struct cnai_layer_opts defaults = CNAI_LAYER_OPTS_INIT;
	int err, threads, level;
	size_t block;

	if (!opts)
		opts = &defaults;
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->comp = opts->compression;
	threads = opts->threads > 0 ? opts->threads : online_cpus();
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	block = opts->block_size ? opts->block_size : DEFAULT_BLOCK;
	if (block < 4096 || block > (1u << 30))
		return cnai_error_set(CNAI_EINVALID, "gzip block size %zu: "
				      "expected 4 KiB to 1 GiB", block);
	if ((err = cnai_sha256_init(&s->tar_hash)) < 0 ||
	    (err = cnai_sha256_init(&s->out_hash)) < 0)
		return err;
	switch (s->comp) {
	case CNAI_LAYER_GZIP:
		level = opts->level ? opts->level : 1;
		if (level < 1 || level > 9)
			return cnai_error_set(CNAI_EINVALID, "gzip level %d: "
					      "expected 1 to 9", level);
		if ((err = gz_new(&s->gz, level, block, threads)) < 0 ||
		    (err = gz_write_header(s, level)) < 0)
			return err;
		break;
	case CNAI_LAYER_ZSTD:
		level = opts->level ? opts->level : 3;
		if (level < 1 || level > ZSTD_maxCLevel())
			return cnai_error_set(CNAI_EINVALID, "zstd level %d: "
					      "expected 1 to %d", level,
					      ZSTD_maxCLevel());
		s->zcap = ZSTD_CStreamOutSize();
		if (!(s->zc = ZSTD_createCCtx()) ||
		    !(s->zbuf = malloc(s->zcap)))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, level);
		ZSTD_CCtx_setParameter(s->zc, ZSTD_c_checksumFlag, 1);
		/* >= 1 worker: output independent of the count */
		if (ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_nbWorkers,
							threads)))
			return cnai_error_set(CNAI_ERROR, "libzstd was built "
					      "without threads");
		break;
	case CNAI_LAYER_NONE:
		break;
	}
	return 0;
}

/* Ends the compressed stream and fills `out`. */
static int sink_finish(struct cnai_layer_info *out, struct sink *s)
{
	int err;

	if (s->comp == CNAI_LAYER_GZIP && (err = gz_finish(s)) < 0)
		return err;
	if (s->comp == CNAI_LAYER_ZSTD &&
	    (err = zstd_run(s, NULL, 0, ZSTD_e_end)) < 0)
		return err;
	memset(out, 0, sizeof(*out));
	if ((err = cnai_sha256_final(&s->tar_hash, out->diff_id)) < 0 ||
	    (err = cnai_sha256_final(&s->out_hash, out->digest)) < 0)
		return err;
	out->size = s->out_size;
	out->tar_size = s->tar_size;
	out->media_type = cnai_layer_media_type(s->comp);
	return 0;
}

static void sink_release(struct sink *s)
{
	cnai_sha256_release(&s->tar_hash);
	cnai_sha256_release(&s->out_hash);
	gz_free(s->gz);
	ZSTD_freeCCtx(s->zc);
	free(s->zbuf);
}

int cnai_layer_build(struct cnai_layer_info *out, int fd,
		     const struct cnai_layer_entry *entries, size_t n,
		     const struct cnai_layer_opts *opts)
{
	struct items it = { NULL, 0, 0 };
	struct sink s;
	int err;

	if ((err = sink_open(&s, fd, opts)) < 0 ||
	    (err = collect_entries(&it, entries, n)) < 0 ||
	    (err = write_tar(&s, &it, opts ? opts->mtime : 0)) < 0)
		goto cleanup;
	err = sink_finish(out, &s);
cleanup:
	sink_release(&s);
	items_release(&it);
	return err;
}

struct cnai_layer_writer {
	struct sink s;
};

int cnai_layer_writer_new(struct cnai_layer_writer **out, int fd,
			  const struct cnai_layer_opts *opts)
{
	struct cnai_layer_writer *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (!w)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if ((err = sink_open(&w->s, fd, opts)) < 0) {
		cnai_layer_writer_free(w);
		return err;
	}
	*out = w;
	return 0;
}

int cnai_layer_writer_add(struct cnai_layer_writer *w, const void *tar,
			  size_t len)
{
	return sink_input(&w->s, tar, len);
}

int cnai_layer_writer_finish(struct cnai_layer_info *out,
			     struct cnai_layer_writer *w)
{
	return sink_finish(out, &w->s);
}

void cnai_layer_writer_free(struct cnai_layer_writer *w)
{
	if (!w)
		return;
	sink_release(&w->s);
	free(w);
}

int cnai_layer_raw(struct cnai_layer_info *out, int fd, const char *src)
{
	struct cnai_sha256 h = { NULL };
	unsigned char *buf = NULL;
	uint64_t size = 0;
	int in, err = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return cnai_error_set_errno(errno == ENOENT ? CNAI_ENOTFOUND
							    : CNAI_ERROR,
					    "cannot read '%s'", src);
	if (!(buf = malloc(READ_CHUNK))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = cnai_sha256_init(&h)) < 0)
		goto cleanup;
	for (;;) {
		n = read(in, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = cnai_error_set_errno(CNAI_ERROR, "cannot read "
						   "'%s'", src);
			goto cleanup;
		}
		if (n == 0)
			break;
		if ((err = cnai_sha256_update(&h, buf, (size_t)n)) < 0)
			goto cleanup;
		if (fd >= 0 &&
		    (err = cnai_fs_write_all(fd, buf, (size_t)n)) < 0)
			goto cleanup;
		size += (uint64_t)n;
	}
	memset(out, 0, sizeof(*out));
	if ((err = cnai_sha256_final(&h, out->digest)) < 0)
		goto cleanup;
	memcpy(out->diff_id, out->digest, CNAI_DIGEST_LEN);
	out->size = out->tar_size = size;
cleanup:
	cnai_sha256_release(&h);
	free(buf);
	close(in);
	return err;
}

int cnai_layer_key(char out[CNAI_DIGEST_LEN],
		   const struct cnai_layer_entry *entries, size_t n,
		   const struct cnai_layer_opts *opts)
{
	static const struct cnai_layer_opts defaults = CNAI_LAYER_OPTS_INIT;
	struct items it = { NULL, 0, 0 };
	struct cnai_buf b = CNAI_BUF_INIT;
	size_t i;
	int err;

	if (!opts)
		opts = &defaults;
	if ((err = collect_entries(&it, entries, n)) < 0)
		goto cleanup;
	cnai_buf_addf(&b, "cnai-layer-key %d %d %d %lld %zu\n", KEY_VERSION,
		      (int)opts->compression, opts->level,
		      (long long)opts->mtime, opts->block_size);
	for (i = 0; i < it.n; i++) {
		const struct item *x = &it.v[i];
		struct stat st;

		cnai_buf_addf(&b, "%d %o %zu:%s", (int)x->type, x->mode,
			      strlen(x->path), x->path);
		if (x->link)
			cnai_buf_addf(&b, " %zu:%s", strlen(x->link), x->link);
		if (x->src) {
			if (stat(x->src, &st) < 0) {
				err = cnai_error_set_errno(
					errno == ENOENT ? CNAI_ENOTFOUND
							: CNAI_ERROR,
					"cannot read '%s'", x->src);
				goto cleanup;
			}
			cnai_buf_addf(&b, " %llu %lld.%09ld %llu %llu %o",
				      (unsigned long long)st.st_size,
				      (long long)st.st_mtim.tv_sec,
				      st.st_mtim.tv_nsec,
				      (unsigned long long)st.st_ino,
				      (unsigned long long)st.st_dev,
				      (unsigned)(st.st_mode & 07777));
		}
		cnai_buf_addch(&b, '\n');
	}
	if ((err = cnai_buf_oom(&b)) < 0)
		goto cleanup;
	err = cnai_sha256_buffer(out, b.buf, b.len);
cleanup:
	cnai_buf_release(&b);
	items_release(&it);
	return err;
}
