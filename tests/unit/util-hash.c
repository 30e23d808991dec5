/*
 * Tests for core/util/hash.c: SHA-256 against the FIPS 180-2 vectors, in
 * one piece and streamed, files (smaller and larger than the read chunk)
 * against known digests, and digest syntax.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/util/error.h"
#include "core/util/hash.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

#define EMPTY_SHA256                                                      \
	"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_SHA256                                                        \
	"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define TWO_BLOCK_MSG                                                     \
	"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define TWO_BLOCK_SHA256                                                  \
	"sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
/* One million 'a'. */
#define MILLION_A_SHA256                                                  \
	"sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void test_hash__known_vectors(void **state)
{
	char out[CNAI_DIGEST_LEN];

	assert_int_equal(cnai_sha256_buffer(out, "", 0), 0);
	assert_string_equal(out, EMPTY_SHA256);
	assert_int_equal(cnai_sha256_buffer(out, "abc", 3), 0);
	assert_string_equal(out, ABC_SHA256);
	assert_int_equal(cnai_sha256_buffer(out, TWO_BLOCK_MSG,
					    strlen(TWO_BLOCK_MSG)), 0);
	assert_string_equal(out, TWO_BLOCK_SHA256);
	assert_int_equal(strlen(out), CNAI_DIGEST_LEN - 1);
}

static void test_hash__million_a_streamed_in_odd_pieces(void **state)
{
	struct cnai_sha256 h;
	char out[CNAI_DIGEST_LEN];
	char piece[997];
	size_t left = 1000000;

	memset(piece, 'a', sizeof(piece));
	assert_int_equal(cnai_sha256_init(&h), 0);
	while (left) {
		size_t n = left < sizeof(piece) ? left : sizeof(piece);

		assert_int_equal(cnai_sha256_update(&h, piece, n), 0);
		left -= n;
	}
	assert_int_equal(cnai_sha256_final(&h, out), 0);
	assert_string_equal(out, MILLION_A_SHA256);
	/* final released the context; releasing again is safe */
	assert_null(h.evp);
	cnai_sha256_release(&h);
}

static void test_hash__release_without_final(void **state)
{
	struct cnai_sha256 h;

	assert_int_equal(cnai_sha256_init(&h), 0);
	assert_int_equal(cnai_sha256_update(&h, "x", 1), 0);
	cnai_sha256_release(&h);
	assert_null(h.evp);
	cnai_sha256_release(&h);
}

static void test_hash__file_matches_known_digest(void **state)
{
	struct fixture *fx = *state;
	char out[CNAI_DIGEST_LEN];
	uint64_t size = 0;
	char *a = malloc(1000000);

	assert_non_null(a);
	memset(a, 'a', 1000000);
	assert_int_equal(fixture_write(fx, "million", a, 1000000), 0);
	assert_int_equal(cnai_sha256_file(out, &size,
					  fixture_path(fx, "million")), 0);
	assert_string_equal(out, MILLION_A_SHA256);
	assert_int_equal(size, 1000000);

	assert_int_equal(fixture_write(fx, "abc", "abc", 3), 0);
	assert_int_equal(cnai_sha256_file(out, NULL, fixture_path(fx, "abc")),
			 0);
	assert_string_equal(out, ABC_SHA256);

	assert_int_equal(fixture_write(fx, "empty", "", 0), 0);
	assert_int_equal(cnai_sha256_file(out, &size,
					  fixture_path(fx, "empty")), 0);
	assert_string_equal(out, EMPTY_SHA256);
	assert_int_equal(size, 0);
	free(a);
}

static void test_hash__file_larger_than_a_read_chunk(void **state)
{
	struct fixture *fx = *state;
	enum { SIZE = 3 * (1 << 20) + 12345 };
	char from_file[CNAI_DIGEST_LEN], from_buffer[CNAI_DIGEST_LEN];
	unsigned char *data = malloc(SIZE);
	uint64_t size = 0;
	size_t i;

	assert_non_null(data);
	for (i = 0; i < SIZE; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	assert_int_equal(fixture_write(fx, "big", data, SIZE), 0);
	assert_int_equal(cnai_sha256_file(from_file, &size,
					  fixture_path(fx, "big")), 0);
	assert_int_equal(cnai_sha256_buffer(from_buffer, data, SIZE), 0);
	assert_string_equal(from_file, from_buffer);
	assert_int_equal(size, SIZE);
	free(data);
}

static void test_hash__missing_file_is_not_found(void **state)
{
	struct fixture *fx = *state;
	char out[CNAI_DIGEST_LEN];

	assert_int_equal(cnai_sha256_file(out, NULL,
					  fixture_path(fx, "missing")),
			 CNAI_ENOTFOUND);
	assert_non_null(strstr(fixture_errmsg(), "cannot read '"));
	/* A folder where a file belongs is bad input, named as a folder. */
	assert_int_equal(cnai_sha256_file(out, NULL, fx->dir), CNAI_EINVALID);
	assert_non_null(strstr(fixture_errmsg(), "' is a directory"));
}

static void test_hash__digest_syntax(void **state)
{
	assert_true(cnai_digest_is_valid(ABC_SHA256));
	assert_true(cnai_digest_is_valid(EMPTY_SHA256));
	/* upper case hex */
	assert_false(cnai_digest_is_valid(
		"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	/* one digit short, one too many */
	assert_false(cnai_digest_is_valid(
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"));
	assert_false(cnai_digest_is_valid(ABC_SHA256 "0"));
	assert_false(cnai_digest_is_valid(
		"sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(cnai_digest_is_valid(
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(cnai_digest_is_valid(
		"sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(cnai_digest_is_valid(""));
	assert_false(cnai_digest_is_valid("sha256:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash__known_vectors),
		cmocka_unit_test(test_hash__million_a_streamed_in_odd_pieces),
		cmocka_unit_test(test_hash__release_without_final),
		cmocka_unit_test_setup_teardown(
			test_hash__file_matches_known_digest,
			fixture_setup_dir, fixture_teardown),
		cmocka_unit_test_setup_teardown(
			test_hash__file_larger_than_a_read_chunk,
			fixture_setup_dir, fixture_teardown),
		cmocka_unit_test_setup_teardown(
			test_hash__missing_file_is_not_found,
			fixture_setup_dir, fixture_teardown),
		cmocka_unit_test(test_hash__digest_syntax),
	};

	return cmocka_run_group_tests_name("util-hash", tests, NULL, NULL);
}
