/*
 * Tests for registry/layer.c: the tar is reproducible (same bytes for the
 * same inputs, whatever the thread count), its entries are sorted with
 * their parents, owned by 0:0 with the given mtime; diff_id and digest are
 * the sha256 of the tar and of the compressed stream; bad paths are
 * refused by name; raw layers hash the file as it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>
#include <zstd.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/hash.h"
#include "registry/layer.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

/* Fills the fixture with a.txt, run.sh (executable) and w.bin (~300 KB
 * of float-like bytes, so blocks and dictionaries matter). */
static void make_inputs(struct fixture *fx)
{
	unsigned char *w = malloc(300000);
	uint32_t x = 12345;
	size_t i;

	assert_non_null(w);
	for (i = 0; i < 300000; i++) {
		x = x * 1103515245u + 12345u;
		w[i] = (unsigned char)((i % 4 == 3) ? 0x3f : (x >> 16));
	}
	assert_int_equal(fixture_write(fx, "a.txt", "hello\n", 6), 0);
	assert_int_equal(fixture_write(fx, "run.sh", "#!/bin/sh\n", 10), 0);
	assert_int_equal(chmod(fixture_path(fx, "run.sh"), 0700), 0);
	assert_int_equal(fixture_write(fx, "w.bin", w, 300000), 0);
	free(w);
}

struct built {
	struct cnai_layer_info info;
	struct cnai_buf bytes;
};

static int build(struct fixture *fx, struct built *out,
		 const struct cnai_layer_entry *e, size_t n,
		 const struct cnai_layer_opts *o)
{
	char path[600];
	int fd, err;

	snprintf(path, sizeof(path), "%s/out.layer", fx->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	err = cnai_layer_build(&out->info, fd, e, n, o);
	close(fd);
	cnai_buf_init(&out->bytes);
	if (err == 0)
		assert_int_equal(cnai_fs_read_file(&out->bytes, path, 0), 0);
	return err;
}

/* The three inputs under models/m/ and bin/, in a scrambled order. */
static void entries_for(struct fixture *fx, struct cnai_layer_entry e[3],
			char paths[3][600])
{
	snprintf(paths[0], 600, "%s/w.bin", fx->dir);
	snprintf(paths[1], 600, "%s/a.txt", fx->dir);
	snprintf(paths[2], 600, "%s/run.sh", fx->dir);
	memset(e, 0, 3 * sizeof(*e));
	e[0].src = paths[0];
	e[0].path = "/models/m/w.bin";
	e[1].src = paths[1];
	e[1].path = "models/m/a.txt";
	e[2].src = paths[2];
	e[2].path = "./bin/run.sh";
}

static void gunzip(struct cnai_buf *out, const struct cnai_buf *in)
{
	z_stream z;
	unsigned char chunk[65536];
	int rc;

	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
	z.next_in = (unsigned char *)in->buf;
	z.avail_in = (uInt)in->len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = inflate(&z, Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
		cnai_buf_add(out, chunk, sizeof(chunk) - z.avail_out);
	} while (rc != Z_STREAM_END);
	assert_int_equal(z.avail_in, 0); /* one member, nothing after it */
	inflateEnd(&z);
}

static void test_layer__same_bytes_for_any_thread_count(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts o = CNAI_LAYER_OPTS_INIT;
	struct cnai_layer_entry e[3];
	char paths[3][600];
	struct built a, b;
	int t;

	make_inputs(fx);
	entries_for(fx, e, paths);
	o.block_size = 65536; /* several blocks */
	o.threads = 1;
	assert_int_equal(build(fx, &a, e, 3, &o), 0);
	for (t = 2; t <= 5; t++) {
		o.threads = t;
		assert_int_equal(build(fx, &b, e, 3, &o), 0);
		assert_string_equal(a.info.digest, b.info.digest);
		assert_int_equal(a.bytes.len, b.bytes.len);
		assert_memory_equal(a.bytes.buf, b.bytes.buf, a.bytes.len);
		cnai_buf_release(&b.bytes);
	}
	assert_string_equal(a.info.media_type, CNAI_MEDIA_LAYER_GZIP);
	cnai_buf_release(&a.bytes);
}

static void test_layer__digests_are_of_tar_and_of_stream(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts o = CNAI_LAYER_OPTS_INIT;
	struct cnai_layer_entry e[3];
	char paths[3][600], d[CNAI_DIGEST_LEN];
	struct cnai_buf tar = CNAI_BUF_INIT;
	struct built gz, plain;

	make_inputs(fx);
	entries_for(fx, e, paths);
	o.block_size = 4096; /* dictionaries carry across many blocks */
	o.threads = 3;
	assert_int_equal(build(fx, &gz, e, 3, &o), 0);
	assert_int_equal(cnai_sha256_buffer(d, gz.bytes.buf, gz.bytes.len), 0);
	assert_string_equal(d, gz.info.digest);
	assert_int_equal(gz.info.size, gz.bytes.len);
	/* gzip header: no name, mtime 0 */
	assert_int_equal((unsigned char)gz.bytes.buf[3], 0);
	assert_memory_equal(gz.bytes.buf + 4, "\0\0\0\0", 4);
	gunzip(&tar, &gz.bytes);
	assert_int_equal(tar.len, gz.info.tar_size);
	assert_int_equal(cnai_sha256_buffer(d, tar.buf, tar.len), 0);
	assert_string_equal(d, gz.info.diff_id);

	o.compression = CNAI_LAYER_NONE;
	assert_int_equal(build(fx, &plain, e, 3, &o), 0);
	assert_string_equal(plain.info.digest, gz.info.diff_id);
	assert_string_equal(plain.info.diff_id, gz.info.diff_id);
	assert_string_equal(plain.info.media_type, CNAI_MEDIA_LAYER_TAR);
	cnai_buf_release(&tar);
	cnai_buf_release(&gz.bytes);
	cnai_buf_release(&plain.bytes);
}

/*
 * Random bytes (model weights, often) are stored, not deflated: their
 * bytes appear verbatim in the stream. The layer still decodes to its
 * diff_id, with compressed blocks after stored ones using the dictionary,
 * and is the same for any thread count.
 */
static void test_layer__stored_and_deflated_blocks_mix(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts o = CNAI_LAYER_OPTS_INIT;
	struct cnai_layer_entry e[4];
	char paths[3][600], rnd[600], d[CNAI_DIGEST_LEN];
	struct cnai_buf tar = CNAI_BUF_INIT;
	unsigned char *r = malloc(512 * 1024);
	uint32_t x = 99;
	struct built a, b;
	size_t i;

	assert_non_null(r);
	for (i = 0; i < 512 * 1024; i++) {
		x = x * 1664525u + 1013904223u;
		r[i] = (unsigned char)(x >> 24);
	}
	make_inputs(fx);
	assert_int_equal(fixture_write(fx, "r.bin", r, 512 * 1024), 0);
	entries_for(fx, e, paths);
	snprintf(rnd, sizeof(rnd), "%s/r.bin", fx->dir);
	memset(&e[3], 0, sizeof(e[3]));
	e[3].src = rnd;
	e[3].path = "models/m/r.bin"; /* sorted before w.bin: stored, then not */
	o.block_size = 65536;
	o.threads = 1;
	assert_int_equal(build(fx, &a, e, 4, &o), 0);
	assert_non_null(memmem(a.bytes.buf, a.bytes.len, r + 300000, 256));
	gunzip(&tar, &a.bytes);
	assert_int_equal(cnai_sha256_buffer(d, tar.buf, tar.len), 0);
	assert_string_equal(d, a.info.diff_id);
	/* the compressible file still shrinks */
	assert_true(a.bytes.len < tar.len - 30000);
	o.threads = 3;
	assert_int_equal(build(fx, &b, e, 4, &o), 0);
	assert_string_equal(a.info.digest, b.info.digest);
	cnai_buf_release(&tar);
	cnai_buf_release(&a.bytes);
	cnai_buf_release(&b.bytes);
	free(r);
}

static void test_layer__zstd_is_reproducible_and_decodes(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts o = CNAI_LAYER_OPTS_INIT;
	struct cnai_layer_entry e[3];
	char paths[3][600], d[CNAI_DIGEST_LEN];
	struct built a, b;
	unsigned long long n;
	void *raw;

	make_inputs(fx);
	entries_for(fx, e, paths);
	o.compression = CNAI_LAYER_ZSTD;
	o.threads = 1;
	assert_int_equal(build(fx, &a, e, 3, &o), 0);
	o.threads = 4;
	assert_int_equal(build(fx, &b, e, 3, &o), 0);
	assert_string_equal(a.info.digest, b.info.digest);
	assert_string_equal(a.info.media_type, CNAI_MEDIA_LAYER_ZSTD);
	n = a.info.tar_size;
	raw = malloc(n);
	assert_non_null(raw);
	assert_int_equal(ZSTD_decompress(raw, n, a.bytes.buf, a.bytes.len), n);
	assert_int_equal(cnai_sha256_buffer(d, raw, n), 0);
	assert_string_equal(d, a.info.diff_id);
	free(raw);
	cnai_buf_release(&a.bytes);
	cnai_buf_release(&b.bytes);
}

static void test_layer__entries_sorted_with_parents_owner_and_mtime(
	void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts o = CNAI_LAYER_OPTS_INIT;
	struct cnai_layer_entry e[4];
	char paths[3][600];
	struct built b;
	struct archive *a;
	struct archive_entry *ae;
	static const char *const want[] = {
		"bin/", "bin/run.sh", "lib/", "lib/ld.so", "models/",
		"models/m/", "models/m/a.txt", "models/m/w.bin",
	};
	static const unsigned want_mode[] = {
		0755, 0755, 0755, 0777, 0755, 0755, 0644, 0600,
	};
	size_t i = 0;

	make_inputs(fx);
	entries_for(fx, e, paths);
	e[0].mode = 0600;
	memset(&e[3], 0, sizeof(e[3]));
	e[3].path = "lib/ld.so";
	e[3].link = "/lib/x86_64-linux-gnu/ld.so";
	o.mtime = 1700000000;
	assert_int_equal(build(fx, &b, e, 4, &o), 0);
	a = archive_read_new();
	archive_read_support_format_all(a);
	archive_read_support_filter_all(a);
	assert_int_equal(archive_read_open_memory(a, b.bytes.buf, b.bytes.len),
			 ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		assert_true(i < sizeof(want) / sizeof(*want));
		assert_string_equal(archive_entry_pathname(ae), want[i]);
		assert_int_equal(archive_entry_perm(ae), want_mode[i]);
		assert_int_equal(archive_entry_uid(ae), 0);
		assert_int_equal(archive_entry_gid(ae), 0);
		assert_true(!archive_entry_uname(ae) ||
			    !*archive_entry_uname(ae));
		assert_true(!archive_entry_gname(ae) ||
			    !*archive_entry_gname(ae));
		assert_int_equal(archive_entry_mtime(ae), 1700000000);
		if (i == 3)
			assert_string_equal(archive_entry_symlink(ae),
					    "/lib/x86_64-linux-gnu/ld.so");
		i++;
	}
	assert_int_equal(i, sizeof(want) / sizeof(*want));
	archive_read_free(a);
	cnai_buf_release(&b.bytes);
}

static void test_layer__long_paths_reproducible_across_processes(
	void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_entry e[1];
	char path[600], name[300];
	struct built a, b;

	/* over 100 bytes: a pax record, whose header name must not hold a
	 * process id */
	memset(name, 'n', sizeof(name));
	memcpy(name, "models/", 7);
	name[250] = '\0';
	make_inputs(fx);
	snprintf(path, sizeof(path), "%s/a.txt", fx->dir);
	memset(e, 0, sizeof(e));
	e[0].src = path;
	e[0].path = name;
	assert_int_equal(build(fx, &a, e, 1, NULL), 0);
	assert_int_equal(build(fx, &b, e, 1, NULL), 0);
	assert_string_equal(a.info.digest, b.info.digest);
	assert_null(memmem(a.bytes.buf, a.bytes.len, "PaxHeader.", 10));
	cnai_buf_release(&a.bytes);
	cnai_buf_release(&b.bytes);
}

static void test_layer__bad_paths_are_refused_by_name(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_entry e[2];
	char path[600];
	struct built b;

	make_inputs(fx);
	snprintf(path, sizeof(path), "%s/a.txt", fx->dir);
	memset(e, 0, sizeof(e));
	e[0].src = e[1].src = path;
	e[0].path = "x/a";
	e[1].path = "/x/a";
	assert_int_equal(build(fx, &b, e, 2, NULL), CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(),
			    "layer path 'x/a' is given twice");
	e[1].path = "x/a/b";
	assert_int_equal(build(fx, &b, e, 2, NULL), CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(),
			    "layer path 'x/a' is both a file and a folder");
	e[1].path = "x/../etc/passwd";
	assert_int_equal(build(fx, &b, e, 2, NULL), CNAI_EINVALID);
	assert_non_null(strstr(fixture_errmsg(), "'x/../etc/passwd'"));
	e[1].path = "//";
	assert_int_equal(build(fx, &b, e, 2, NULL), CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(), "layer path '//' is empty");
	e[1].path = "y";
	e[1].src = "/nonexistent/file";
	assert_int_equal(build(fx, &b, e, 2, NULL), CNAI_ENOTFOUND);
	assert_non_null(strstr(fixture_errmsg(), "'/nonexistent/file'"));
}

static void test_layer__empty_layer_is_a_valid_tar(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf tar = CNAI_BUF_INIT;
	struct built b;
	size_t i;

	assert_int_equal(build(fx, &b, NULL, 0, NULL), 0);
	gunzip(&tar, &b.bytes);
	assert_int_equal(tar.len, 1024); /* two zero records, no padding */
	for (i = 0; i < tar.len; i++)
		assert_int_equal(tar.buf[i], 0);
	cnai_buf_release(&tar);
	cnai_buf_release(&b.bytes);
}

static void test_layer__raw_hashes_the_file(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_info li;
	char d[CNAI_DIGEST_LEN];
	uint64_t size;

	make_inputs(fx);
	assert_int_equal(cnai_layer_raw(&li, -1, fixture_path(fx, "w.bin")),
			 0);
	assert_int_equal(cnai_sha256_file(d, &size,
					  fixture_path(fx, "w.bin")), 0);
	assert_string_equal(li.digest, d);
	assert_string_equal(li.diff_id, d);
	assert_int_equal(li.size, size);
	assert_null(li.media_type);
}

static void test_layer__key_follows_inputs(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_entry e[3];
	struct cnai_layer_opts o = CNAI_LAYER_OPTS_INIT;
	char paths[3][600], k1[CNAI_DIGEST_LEN], k2[CNAI_DIGEST_LEN];
	struct timespec ts[2] = { { 0, 0 }, { 1000, 0 } };

	make_inputs(fx);
	entries_for(fx, e, paths);
	assert_int_equal(cnai_layer_key(k1, e, 3, &o), 0);
	assert_int_equal(cnai_layer_key(k2, e, 3, &o), 0);
	assert_string_equal(k1, k2);
	o.level = 6;
	assert_int_equal(cnai_layer_key(k2, e, 3, &o), 0);
	assert_string_not_equal(k1, k2);
	o.level = 0;
	assert_int_equal(utimensat(AT_FDCWD, paths[1], ts, 0), 0);
	assert_int_equal(cnai_layer_key(k2, e, 3, &o), 0);
	assert_string_not_equal(k1, k2);
}

/* Bytes deflate cannot shrink are stored, not searched for matches (as
 * the framing shows), decode to the tar, and are the same bytes for any
 * thread count. */
static void test_layer__random_bytes_are_stored(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts o = CNAI_LAYER_OPTS_INIT;
	struct cnai_layer_entry e = { NULL, "r.bin", 0, NULL };
	struct cnai_buf tar = CNAI_BUF_INIT;
	unsigned char *r = malloc(3 << 20);
	char path[600], d[CNAI_DIGEST_LEN];
	struct built one, three;
	uint64_t x = 88172645463325252ULL;
	size_t i;

	assert_non_null(r);
	for (i = 0; i < (size_t)3 << 20; i++) { /* xorshift64 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r[i] = (unsigned char)(x >> 32);
	}
	assert_int_equal(fixture_write(fx, "r.bin", r, 3 << 20), 0);
	free(r);
	snprintf(path, sizeof(path), "%s/r.bin", fx->dir);
	e.src = path;
	o.threads = 1;
	assert_int_equal(build(fx, &one, &e, 1, &o), 0);
	o.threads = 3;
	assert_int_equal(build(fx, &three, &e, 1, &o), 0);
	assert_string_equal(one.info.digest, three.info.digest);
	/* Stored at level 0, each 1 MiB block is framed in 64 KiB pieces of
	 * 5 bytes; deflate at level 1 ends in stored blocks of 16 KiB, four
	 * times the framing: 3 MiB come out about 470 bytes larger (the tar's
	 * headers and end compress either way). */
	assert_true(one.info.size + 600 < one.info.tar_size);
	gunzip(&tar, &one.bytes);
	assert_int_equal(tar.len, one.info.tar_size);
	assert_int_equal(cnai_sha256_buffer(d, tar.buf, tar.len), 0);
	assert_string_equal(d, one.info.diff_id);
	cnai_buf_release(&tar);
	cnai_buf_release(&one.bytes);
	cnai_buf_release(&three.bytes);
}

/* A tar fed to a writer in odd pieces gives the layer cnai_layer_build
 * gives for the same tar: same digest, same diff_id, same bytes. */
static void test_layer__writer_compresses_a_tar_as_build_does(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts o = CNAI_LAYER_OPTS_INIT;
	struct cnai_layer_writer *w = NULL;
	struct cnai_layer_entry e[3];
	struct cnai_layer_info info;
	struct cnai_buf got = CNAI_BUF_INIT;
	char paths[3][600], path[700];
	struct built gz, plain;
	size_t off, piece;
	int fd;

	make_inputs(fx);
	entries_for(fx, e, paths);
	o.block_size = 65536;
	assert_int_equal(build(fx, &gz, e, 3, &o), 0);
	o.compression = CNAI_LAYER_NONE;
	assert_int_equal(build(fx, &plain, e, 3, &o), 0);
	o.compression = CNAI_LAYER_GZIP;
	o.threads = 2;
	snprintf(path, sizeof(path), "%s/w.layer", fx->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(cnai_layer_writer_new(&w, fd, &o), 0);
	for (off = 0; off < plain.bytes.len; off += piece) {
		piece = plain.bytes.len - off < 7777 ? plain.bytes.len - off
						     : 7777;
		assert_int_equal(cnai_layer_writer_add(
					 w, plain.bytes.buf + off, piece), 0);
	}
	assert_int_equal(cnai_layer_writer_finish(&info, w), 0);
	cnai_layer_writer_free(w);
	close(fd);
	assert_string_equal(info.digest, gz.info.digest);
	assert_string_equal(info.diff_id, gz.info.diff_id);
	assert_int_equal(info.size, gz.info.size);
	assert_int_equal(info.tar_size, plain.bytes.len);
	assert_string_equal(info.media_type, CNAI_MEDIA_LAYER_GZIP);
	assert_int_equal(cnai_fs_read_file(&got, path, 0), 0);
	assert_memory_equal(got.buf, gz.bytes.buf, gz.bytes.len);
	cnai_buf_release(&got);
	cnai_buf_release(&gz.bytes);
	cnai_buf_release(&plain.bytes);
}

static void test_layer__compression_names(void **state)
{
	enum cnai_layer_compression c;

	assert_int_equal(cnai_layer_compression_parse(&c, "zstd"), 0);
	assert_int_equal(c, CNAI_LAYER_ZSTD);
	assert_int_equal(cnai_layer_compression_parse(&c, "lz4"),
			 CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(), "compression 'lz4': expected "
			    "gzip, zstd or none");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_dir, \
						fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_layer__same_bytes_for_any_thread_count),
		T(test_layer__digests_are_of_tar_and_of_stream),
		T(test_layer__stored_and_deflated_blocks_mix),
		T(test_layer__zstd_is_reproducible_and_decodes),
		T(test_layer__entries_sorted_with_parents_owner_and_mtime),
		T(test_layer__long_paths_reproducible_across_processes),
		T(test_layer__bad_paths_are_refused_by_name),
		T(test_layer__empty_layer_is_a_valid_tar),
		T(test_layer__raw_hashes_the_file),
		T(test_layer__key_follows_inputs),
		T(test_layer__random_bytes_are_stored),
		T(test_layer__writer_compresses_a_tar_as_build_does),
		T(test_layer__compression_names),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
