/*
 * Tests for core/util/buf.c: the invariants (never NULL, always
 * NUL-terminated), growth, formatted appends, the sticky failure flag and
 * the optional size limit for data from outside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/banned.h"

static void test_buf__init_is_empty_and_terminated(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	struct cnai_buf c;

	assert_non_null(b.buf);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.buf, "");
	cnai_buf_init(&c);
	assert_non_null(c.buf);
	assert_string_equal(c.buf, "");
	assert_int_equal(cnai_buf_oom(&b), 0);
	cnai_buf_release(&b);
	cnai_buf_release(&c);
	assert_string_equal(b.buf, "");
}

static void test_buf__add_appends_binary_data(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;

	assert_int_equal(cnai_buf_add(&b, "ab\0cd", 5), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.buf, "ab\0cd", 6); /* and the NUL after */
	assert_int_equal(cnai_buf_adds(&b, "ef"), 0);
	assert_int_equal(cnai_buf_addch(&b, 'g'), 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.buf, "ab\0cdefg", 9);
	assert_int_equal(cnai_buf_add(&b, NULL, 0), 0);
	assert_int_equal(b.len, 8);
	cnai_buf_release(&b);
}

static void test_buf__grows_past_many_reallocations(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	size_t i;

	for (i = 0; i < 100000; i++)
		cnai_buf_addch(&b, (char)('a' + i % 26));
	assert_int_equal(cnai_buf_oom(&b), 0);
	assert_int_equal(b.len, 100000);
	assert_true(b.alloc > b.len);
	assert_int_equal(b.buf[b.len], '\0');
	for (i = 0; i < 100000; i++)
		if (b.buf[i] != (char)('a' + i % 26))
			fail_msg("byte %zu is wrong", i);
	cnai_buf_release(&b);
}

static void test_buf__addf_formats_short_and_long(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	char big[1000];

	assert_int_equal(cnai_buf_addf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal(b.buf, "42-x");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* Longer than the first guess: formatted twice, once grown. */
	assert_int_equal(cnai_buf_addf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 4 + 2 + 999);
	assert_int_equal(b.buf[4], '[');
	assert_int_equal(b.buf[b.len - 1], ']');
	assert_int_equal(b.buf[b.len], '\0');
	assert_int_equal(cnai_buf_addf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 1005);
	cnai_buf_release(&b);
}

static void test_buf__reset_keeps_memory(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	char *mem;

	cnai_buf_adds(&b, "hello world");
	mem = b.buf;
	cnai_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.buf, "");
	assert_ptr_equal(b.buf, mem);
	cnai_buf_adds(&b, "again");
	assert_string_equal(b.buf, "again");
	/* Reset on a never-grown buffer must not write the shared empty. */
	cnai_buf_release(&b);
	cnai_buf_reset(&b);
	assert_string_equal(b.buf, "");
}

static void test_buf__truncate_shortens_only(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;

	cnai_buf_adds(&b, "abcdef");
	cnai_buf_truncate(&b, 3);
	assert_string_equal(b.buf, "abc");
	assert_int_equal(b.len, 3);
	cnai_buf_truncate(&b, 10);
	assert_string_equal(b.buf, "abc");
	assert_int_equal(b.len, 3);
	cnai_buf_release(&b);
}

static void test_buf__detach_hands_over_memory(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	char *s;

	cnai_buf_adds(&b, "mine");
	s = cnai_buf_detach(&b);
	assert_string_equal(s, "mine");
	assert_int_equal(b.len, 0);
	assert_string_equal(b.buf, "");
	free(s);
	/* An untouched buffer detaches to a freeable empty string. */
	s = cnai_buf_detach(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void test_buf__limit_refuses_and_is_sticky(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;

	b.limit = 8;
	assert_int_equal(cnai_buf_adds(&b, "12345678"), 0);
	assert_int_equal(b.len, 8);
	assert_int_equal(cnai_buf_addch(&b, '9'), CNAI_ERROR);
	assert_string_equal(b.buf, "12345678");
	/* Sticky: even an append that would fit fails until a reset. */
	assert_int_equal(cnai_buf_add(&b, "", 0), CNAI_ERROR);
	assert_int_equal(cnai_buf_oom(&b), CNAI_EINVALID);
	assert_string_equal(cnai_error_last()->message,
			    "input exceeds the limit of 8 bytes");
	cnai_buf_reset(&b);
	assert_int_equal(cnai_buf_oom(&b), 0);
	assert_int_equal(cnai_buf_adds(&b, "ok"), 0);
	assert_string_equal(b.buf, "ok");
	cnai_buf_release(&b);
	assert_int_equal(b.limit, 8); /* release keeps the limit */
}

static void test_buf__limit_applies_to_addf(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;

	b.limit = 10;
	/* Short enough to fit although under the first 64-byte guess. */
	assert_int_equal(cnai_buf_addf(&b, "%d", 12345), 0);
	assert_string_equal(b.buf, "12345");
	assert_int_equal(cnai_buf_addf(&b, "%s", "67890"), 0);
	assert_string_equal(b.buf, "1234567890");
	/* Too long: refused, and the content is left as it was. */
	assert_int_equal(cnai_buf_addf(&b, "%s", "x"), CNAI_ERROR);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.buf, "1234567890");
	cnai_buf_release(&b);

	b.limit = 10;
	cnai_buf_adds(&b, "abc");
	assert_int_equal(cnai_buf_addf(&b, "%s", "0123456789"), CNAI_ERROR);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.buf, "abc");
	cnai_buf_release(&b);
}

static void test_buf__overflowing_grow_fails(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;

	cnai_buf_adds(&b, "x");
	assert_int_equal(cnai_buf_grow(&b, SIZE_MAX), CNAI_ERROR);
	assert_int_equal(cnai_buf_oom(&b), CNAI_ERROR);
	assert_string_equal(cnai_error_last()->message, "out of memory");
	assert_string_equal(b.buf, "x");
	cnai_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__init_is_empty_and_terminated),
		cmocka_unit_test(test_buf__add_appends_binary_data),
		cmocka_unit_test(test_buf__grows_past_many_reallocations),
		cmocka_unit_test(test_buf__addf_formats_short_and_long),
		cmocka_unit_test(test_buf__reset_keeps_memory),
		cmocka_unit_test(test_buf__truncate_shortens_only),
		cmocka_unit_test(test_buf__detach_hands_over_memory),
		cmocka_unit_test(test_buf__limit_refuses_and_is_sticky),
		cmocka_unit_test(test_buf__limit_applies_to_addf),
		cmocka_unit_test(test_buf__overflowing_grow_fails),
	};

	return cmocka_run_group_tests_name("util-buf", tests, NULL, NULL);
}
