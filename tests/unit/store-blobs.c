/*
 * Tests for core/store/blobs.c: content addressing (the digest is the
 * sha256 of the bytes), de-duplication, read-only blob files, verification
 * of modified and missing blobs, and that no temporary file is ever left
 * in oci/blobs/sha256, whether a put succeeds or fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/store/blobs.h"
#include "core/store/store.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/hash.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

#define ABC_SHA256                                                        \
	"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_SHA256                                                      \
	"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char *blob_dir(struct fixture *fx)
{
	return fixture_path(fx, ".cnai/oci/blobs/sha256");
}

static void test_blobs__put_buffer_names_blob_by_sha256(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf path = CNAI_BUF_INIT, b = CNAI_BUF_INIT;
	char digest[CNAI_DIGEST_LEN];
	char want[700];
	struct stat sb;

	assert_int_equal(cnai_blob_put_buffer(digest, fx->st, "abc", 3), 0);
	assert_string_equal(digest, ABC_SHA256);
	assert_int_equal(cnai_blob_path(&path, fx->st, digest), 0);
	snprintf(want, sizeof(want), "%s/%s", blob_dir(fx), ABC_SHA256 + 7);
	assert_string_equal(path.buf, want);
	assert_int_equal(stat(path.buf, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0444);
	assert_int_equal(cnai_fs_read_file(&b, path.buf, 0), 0);
	assert_string_equal(b.buf, "abc");
	assert_true(cnai_blob_exists(fx->st, digest));
	assert_int_equal(fixture_count_entries(blob_dir(fx)), 1);
	cnai_buf_release(&path);
	cnai_buf_release(&b);
}

static void test_blobs__put_file_gives_digest_and_size(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf path = CNAI_BUF_INIT;
	char digest[CNAI_DIGEST_LEN], direct[CNAI_DIGEST_LEN];
	enum { SIZE = 2 * (1 << 20) + 7 }; /* over two copy chunks */
	unsigned char *data = malloc(SIZE);
	uint64_t size = 0;
	struct stat sb;
	size_t i;

	assert_non_null(data);
	for (i = 0; i < SIZE; i++)
		data[i] = (unsigned char)(i * 31 + (i >> 9));
	assert_int_equal(fixture_write(fx, "model.bin", data, SIZE), 0);
	assert_int_equal(cnai_blob_put_file(digest, &size, fx->st,
					    fixture_path(fx, "model.bin")),
			 0);
	assert_int_equal(cnai_sha256_buffer(direct, data, SIZE), 0);
	assert_string_equal(digest, direct);
	assert_int_equal(size, SIZE);
	assert_int_equal(cnai_blob_path(&path, fx->st, digest), 0);
	assert_int_equal(stat(path.buf, &sb), 0);
	assert_int_equal(sb.st_size, SIZE);
	assert_int_equal(sb.st_mode & 07777, 0444);
	assert_int_equal(cnai_blob_verify(fx->st, digest), 0);
	assert_int_equal(fixture_count_prefixed(blob_dir(fx), ".tmp-"), 0);
	cnai_buf_release(&path);
	free(data);
}

static void test_blobs__same_content_twice_is_one_file(void **state)
{
	struct fixture *fx = *state;
	char d1[CNAI_DIGEST_LEN], d2[CNAI_DIGEST_LEN], d3[CNAI_DIGEST_LEN];
	uint64_t size = 0;

	assert_int_equal(fixture_write(fx, "a.txt", "same bytes", 10), 0);
	assert_int_equal(cnai_blob_put_file(d1, &size, fx->st,
					    fixture_path(fx, "a.txt")),
			 0);
	assert_int_equal(cnai_blob_put_file(d2, NULL, fx->st,
					    fixture_path(fx, "a.txt")),
			 0);
	assert_int_equal(cnai_blob_put_buffer(d3, fx->st, "same bytes", 10),
			 0);
	assert_string_equal(d1, d2);
	assert_string_equal(d1, d3);
	assert_int_equal(size, 10);
	assert_int_equal(fixture_count_entries(blob_dir(fx)), 1);
	assert_int_equal(cnai_blob_put_buffer(d3, fx->st, "other", 5), 0);
	assert_string_not_equal(d1, d3);
	assert_int_equal(fixture_count_entries(blob_dir(fx)), 2);
}

static void test_blobs__empty_blob(void **state)
{
	struct fixture *fx = *state;
	char digest[CNAI_DIGEST_LEN];
	struct cnai_buf b = CNAI_BUF_INIT;

	assert_int_equal(cnai_blob_put_buffer(digest, fx->st, "", 0), 0);
	assert_string_equal(digest, EMPTY_SHA256);
	assert_int_equal(cnai_blob_verify(fx->st, digest), 0);
	assert_int_equal(cnai_blob_read(&b, fx->st, digest, 0), 0);
	assert_int_equal(b.len, 0);
	cnai_buf_release(&b);
}

static void test_blobs__verify_detects_a_modified_blob(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf path = CNAI_BUF_INIT;
	char digest[CNAI_DIGEST_LEN], want[300];
	FILE *f;

	assert_int_equal(cnai_blob_put_buffer(digest, fx->st, "abc", 3), 0);
	assert_int_equal(cnai_blob_verify(fx->st, digest), 0);
	assert_int_equal(cnai_blob_path(&path, fx->st, digest), 0);
	assert_int_equal(chmod(path.buf, 0644), 0);
	assert_non_null(f = fopen(path.buf, "wb"));
	fputs("abd", f);
	fclose(f);
	assert_int_equal(cnai_blob_verify(fx->st, digest), CNAI_ECHECK);
	/* sha256("abd") */
	snprintf(want, sizeof(want),
		 "blob %s is corrupt: its content hashes to sha256:"
		 "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9",
		 digest);
	assert_string_equal(fixture_errmsg(), want);
	cnai_buf_release(&path);
}

static void test_blobs__verify_detects_a_missing_blob(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf path = CNAI_BUF_INIT, b = CNAI_BUF_INIT;
	char digest[CNAI_DIGEST_LEN], want[300];

	assert_int_equal(cnai_blob_put_buffer(digest, fx->st, "abc", 3), 0);
	assert_int_equal(cnai_blob_path(&path, fx->st, digest), 0);
	assert_int_equal(unlink(path.buf), 0);
	assert_false(cnai_blob_exists(fx->st, digest));
	assert_int_equal(cnai_blob_verify(fx->st, digest), CNAI_ENOTFOUND);
	snprintf(want, sizeof(want), "blob %s is missing", digest);
	assert_string_equal(fixture_errmsg(), want);
	assert_int_equal(cnai_blob_read(&b, fx->st, digest, 0),
			 CNAI_ENOTFOUND);
	assert_string_equal(fixture_errmsg(), want);
	/* Putting it again restores it. */
	assert_int_equal(cnai_blob_put_buffer(digest, fx->st, "abc", 3), 0);
	assert_int_equal(cnai_blob_verify(fx->st, digest), 0);
	cnai_buf_release(&path);
	cnai_buf_release(&b);
}

static void test_blobs__bad_digests_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf path = CNAI_BUF_INIT;

	assert_int_equal(cnai_blob_path(&path, fx->st, "sha256:abc"),
			 CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(),
			    "'sha256:abc' is not a sha256 digest");
	assert_int_equal(path.len, 0);
	assert_false(cnai_blob_exists(fx->st, "sha256:../../cnai.db"));
	assert_null(cnai_error_last()); /* exists clears what it handled */
	assert_int_equal(cnai_blob_verify(fx->st, "md5:00"), CNAI_EINVALID);
	cnai_buf_release(&path);
}

static void test_blobs__read_with_limit(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf b = CNAI_BUF_INIT;
	char digest[CNAI_DIGEST_LEN];

	assert_int_equal(cnai_blob_put_buffer(digest, fx->st, "0123456789",
					      10), 0);
	assert_int_equal(cnai_blob_read(&b, fx->st, digest, 10), 0);
	assert_string_equal(b.buf, "0123456789");
	cnai_buf_reset(&b);
	assert_int_equal(cnai_blob_read(&b, fx->st, digest, 9),
			 CNAI_EINVALID);
	cnai_buf_release(&b);
}

static void test_blobs__failed_put_leaves_no_temp(void **state)
{
	struct fixture *fx = *state;
	char digest[CNAI_DIGEST_LEN];

	/* a missing source: nothing created */
	assert_int_equal(cnai_blob_put_file(digest, NULL, fx->st,
					    fixture_path(fx, "missing")),
			 CNAI_ENOTFOUND);
	/* a folder as source: opens, then the read fails (EISDIR, bad
	 * input) after the temporary was made */
	assert_int_equal(mkdir(fixture_path(fx, "adir"), 0755), 0);
	assert_int_equal(cnai_blob_put_file(digest, NULL, fx->st,
					    fixture_path(fx, "adir")),
			 CNAI_EINVALID);
	assert_int_equal(fixture_count_entries(blob_dir(fx)), 0);
}

struct seen {
	int named, temporaries;
	char digest[CNAI_DIGEST_LEN];
};

static int count_blob(const char *digest, const char *path, double age,
		      void *payload)
{
	struct seen *s = payload;

	if (digest) {
		s->named++;
		snprintf(s->digest, sizeof(s->digest), "%s", digest);
	} else {
		s->temporaries++;
	}
	assert_true(age >= -5); /* clocks: only that it is set */
	assert_true(cnai_fs_exists(path));
	return 0;
}

static int stop_walk(const char *digest, const char *path, double age,
		     void *payload)
{
	return cnai_error_set(CNAI_ECHECK, "stop");
}

static void test_blobs__foreach_reports_blobs_and_temporaries(void **state)
{
	struct fixture *fx = *state;
	struct seen s = { 0 };
	char digest[CNAI_DIGEST_LEN];

	assert_int_equal(cnai_blob_put_buffer(digest, fx->st, "abc", 3), 0);
	assert_int_equal(fixture_write(fx, ".cnai/oci/blobs/sha256/.tmp-x1y2z3",
				       "partial", 7), 0);
	assert_int_equal(cnai_blob_foreach(fx->st, count_blob, &s), 0);
	assert_int_equal(s.named, 1);
	assert_int_equal(s.temporaries, 1);
	assert_string_equal(s.digest, ABC_SHA256);
	assert_int_equal(cnai_blob_foreach(fx->st, stop_walk, NULL),
			 CNAI_ECHECK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_store, \
						fixture_teardown)
		T(test_blobs__put_buffer_names_blob_by_sha256),
		T(test_blobs__put_file_gives_digest_and_size),
		T(test_blobs__same_content_twice_is_one_file),
		T(test_blobs__empty_blob),
		T(test_blobs__verify_detects_a_modified_blob),
		T(test_blobs__verify_detects_a_missing_blob),
		T(test_blobs__bad_digests_are_refused),
		T(test_blobs__read_with_limit),
		T(test_blobs__failed_put_leaves_no_temp),
		T(test_blobs__foreach_reports_blobs_and_temporaries),
#undef T
	};

	return cmocka_run_group_tests_name("store-blobs", tests, NULL, NULL);
}
