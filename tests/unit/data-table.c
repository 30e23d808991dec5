/*
 * Tests for core/data/table.c and the text checks of core/data/csv.c:
 * what counts as text (UTF-8 as JSON takes it, no NUL), where a bad byte
 * is reported (line and byte column through quotes and multi-line
 * fields), column lookup by name in a wide table, typing columns by name,
 * and the duplicate name check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/data/csv.h"
#include "core/data/table.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

#define TEXT_LEN(s) cnai_csv_text_len(s, sizeof(s) - 1)

static void test_text__utf8_as_json_takes_it(void **state)
{
	assert_int_equal(TEXT_LEN(""), 0);
	assert_int_equal(TEXT_LEN("plain"), 5);
	assert_int_equal(TEXT_LEN("Z\xc3\xbcrich"), 7);         /* ü */
	assert_int_equal(TEXT_LEN("\xe6\x97\xa5\xe6\x9c\xac"), 6); /* 日本 */
	assert_int_equal(TEXT_LEN("\xf0\x9f\x98\x80!"), 5);      /* U+1F600 */
	assert_int_equal(TEXT_LEN("\xf4\x8f\xbf\xbf"), 4);       /* U+10FFFF */
	assert_int_equal(TEXT_LEN("ab\xff"), 2);
	assert_int_equal(TEXT_LEN("a\x80"), 1);           /* lone continuation */
	assert_int_equal(TEXT_LEN("a\xc0\xaf"), 1);       /* overlong '/' */
	assert_int_equal(TEXT_LEN("a\xe0\x80\xaf"), 1);   /* overlong, 3 bytes */
	assert_int_equal(TEXT_LEN("a\xed\xa0\x80"), 1);   /* a surrogate */
	assert_int_equal(TEXT_LEN("a\xf4\x90\x80\x80"), 1); /* past U+10FFFF */
	assert_int_equal(TEXT_LEN("a\xe6\x97"), 1);       /* cut short */
	assert_int_equal(TEXT_LEN("a\xc3("), 1);
	assert_int_equal(TEXT_LEN("a\0b"), 1);
}

/* Loads `text` as in.csv; returns the error code, message in `msg`. */
static int load(struct fixture *fx, struct cnai_dtable **t, const char *text,
		size_t len, const struct cnai_dtable_opts *o)
{
	assert_int_equal(fixture_write(fx, "in.csv", text, len), 0);
	return cnai_dtable_load(t, fixture_path(fx, "in.csv"), o);
}

static void expect_error(struct fixture *fx, const char *text, size_t len,
			 const char *want)
{
	struct cnai_dtable *t = NULL;
	char full[700];

	assert_int_equal(load(fx, &t, text, len, NULL), CNAI_EINVALID);
	assert_null(t);
	snprintf(full, sizeof(full), "%s/in.csv%s", fx->dir, want);
	assert_string_equal(fixture_errmsg(), full);
}

#define EXPECT_ERROR(fx, text, want) expect_error(fx, text, sizeof(text) - 1, want)

static void test_table__bad_text_is_located(void **state)
{
	struct fixture *fx = *state;

	EXPECT_ERROR(fx, "a,\xff\n1,2\n",
		     ":1:3: the name of column 2 is not valid UTF-8");
	EXPECT_ERROR(fx, "\xef\xbb\xbf" "a,b\xff\n1,2\n", /* after a BOM */
		     ":1:4: the name of column 2 is not valid UTF-8");
	EXPECT_ERROR(fx, "\"x,\"\"y\xfe\",b\n1,2\n",
		     ":1:7: the name of column 1 is not valid UTF-8");
	EXPECT_ERROR(fx, "a,b\r\n1,x\r\n2,\"p\r\nq\nr\xc3\"\r\n",
		     ":5:2: column 'b': the value is not valid UTF-8");
	EXPECT_ERROR(fx, "a,b\n1,x\n2,y\0z\n",
		     ":3:4: column 'b': the value holds a NUL byte");
	/* a known category, then a NUL: the lookup once read past "x" */
	EXPECT_ERROR(fx, "a,b\n1,x\n2,x\0z\n",
		     ":3:4: column 'b': the value holds a NUL byte");
}

static void test_table__duplicate_names_are_refused(void **state)
{
	struct fixture *fx = *state;

	EXPECT_ERROR(fx, "a,b,c,b\n1,2,3,4\n", ":1: column 'b' appears twice");
	EXPECT_ERROR(fx, "x,,\n1,2,3\n", ":1: column '' appears twice");
}

/* A table of n numeric columns c0..c{n-1}, one row. */
static void wide(struct fixture *fx, struct cnai_dtable **t, size_t n,
		 const struct cnai_dtable_opts *o)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		cnai_buf_addf(&b, "%sc%zu", i ? "," : "", i);
	cnai_buf_addch(&b, '\n');
	for (i = 0; i < n; i++)
		cnai_buf_addf(&b, "%s%zu", i ? "," : "", i % 10);
	cnai_buf_addch(&b, '\n');
	assert_int_equal(cnai_buf_oom(&b), 0);
	assert_int_equal(load(fx, t, b.buf, b.len, o), 0);
	cnai_buf_release(&b);
}

static void test_table__wide_lookup_and_typing_by_name(void **state)
{
	struct fixture *fx = *state;
	enum { N = 20000 };
	static const char *names[N];
	static enum cnai_col_type types[N];
	static char namebuf[N][16];
	struct cnai_dtable_opts o = { 0 };
	struct cnai_dtable *t = NULL;
	size_t i;

	/* every other column typed by name, the rest skipped */
	for (i = 0; i < N / 2; i++) {
		snprintf(namebuf[i], sizeof(namebuf[i]), "c%zu", 2 * i);
		names[i] = namebuf[i];
		types[i] = CNAI_COL_STRING;
	}
	names[N / 2] = "no-such-column"; /* ignored */
	types[N / 2] = CNAI_COL_NUMBER;
	o.names = names;
	o.types = types;
	o.ntypes = N / 2 + 1;
	o.other = CNAI_COL_SKIP;
	wide(fx, &t, N, &o);
	assert_int_equal(t->ncols, N);
	for (i = 0; i < N; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%zu", i);
		assert_int_equal(cnai_dtable_find(t, name), (long)i);
		assert_int_equal(t->cols[i].type,
				 i % 2 ? CNAI_COL_SKIP : CNAI_COL_STRING);
	}
	assert_int_equal(cnai_dtable_find(t, "c"), -1);
	assert_int_equal(cnai_dtable_find(t, "no-such-column"), -1);
	assert_string_equal(cnai_dtable_str(t, 0, 4), "4");
	assert_int_equal(cnai_dtable_cat(t, 4, "4"), 0);
	cnai_dtable_free(t);
}

static void test_table__past_the_field_limit_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct cnai_dtable *t = NULL;
	struct cnai_buf b = CNAI_BUF_INIT;
	char want[600];
	size_t i;

	for (i = 0; i <= CNAI_CSV_MAX_FIELDS; i++)
		cnai_buf_adds(&b, i ? ",c" : "c");
	cnai_buf_addch(&b, '\n');
	assert_int_equal(cnai_buf_oom(&b), 0);
	assert_int_equal(load(fx, &t, b.buf, b.len, NULL), CNAI_EINVALID);
	snprintf(want, sizeof(want), "%s: more than %u fields, the limit",
		 fixture_path(fx, "in.csv:1"), CNAI_CSV_MAX_FIELDS);
	assert_string_equal(fixture_errmsg(), want);
	cnai_buf_release(&b);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_dir, \
						 fixture_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text__utf8_as_json_takes_it),
		T(test_table__bad_text_is_located),
		T(test_table__duplicate_names_are_refused),
		T(test_table__wide_lookup_and_typing_by_name),
		T(test_table__past_the_field_limit_is_refused),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
