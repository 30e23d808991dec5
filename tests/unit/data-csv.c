/*
 * Tests for core/data/csv.c: RFC 4180 quoting, line ends, the byte order
 * mark, blank lines, the exact error messages, and records that straddle
 * the reader's 1 MiB window (at every offset around the edge) or are
 * larger than it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/data/csv.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

enum { WINDOW = 1 << 20 }; /* the reader's first window, csv.c */

/*
 * Reads the whole file and describes it, one record a line:
 * "LINE:field|field" with CR, LF, '|' and '\' escaped. The return code of
 * the last cnai_csv_next() goes to *rc (0 at a clean end).
 */
static char *dump(const char *path, size_t expect, int *rc)
{
	struct cnai_csv_reader *r = NULL;
	const struct cnai_csv_record *rec;
	struct cnai_buf out = CNAI_BUF_INIT;
	size_t i, j;

	*rc = cnai_csv_open(&r, path, ',');
	if (*rc < 0)
		return cnai_buf_detach(&out);
	while ((*rc = cnai_csv_next(r, &rec, expect)) == 1) {
		cnai_buf_addf(&out, "%llu:", (unsigned long long)rec->line);
		for (i = 0; i < rec->nfields; i++) {
			const struct cnai_csv_field *f = &rec->fields[i];

			if (i)
				cnai_buf_addch(&out, '|');
			assert_int_equal(f->ptr[f->len], '\0');
			for (j = 0; j < f->len; j++) {
				char c = f->ptr[j];

				if (c == '\n')
					cnai_buf_adds(&out, "\\n");
				else if (c == '\r')
					cnai_buf_adds(&out, "\\r");
				else if (c == '|' || c == '\\')
					cnai_buf_addf(&out, "\\%c", c);
				else
					cnai_buf_addch(&out, c);
			}
		}
		cnai_buf_addch(&out, '\n');
	}
	assert_int_equal(cnai_buf_oom(&out), 0);
	cnai_csv_close(r);
	return cnai_buf_detach(&out);
}

/* Writes `text` as file "in.csv" and dumps it. */
static char *dump_text(struct fixture *fx, const char *text, size_t len,
		       size_t expect, int *rc)
{
	assert_int_equal(fixture_write(fx, "in.csv", text, len), 0);
	return dump(fixture_path(fx, "in.csv"), expect, rc);
}

#define CHECK_CSV(fx, text, expect, want)                                 \
	do {                                                              \
		int rc_;                                                  \
		char *got_ = dump_text(fx, text, sizeof(text) - 1, expect, \
				       &rc_);                             \
		assert_int_equal(rc_, 0);                                 \
		assert_string_equal(got_, want);                          \
		free(got_);                                               \
	} while (0)

static void test_csv__plain_records(void **state)
{
	CHECK_CSV(*state, "a,b,c\n1,2,3\n", 3, "1:a|b|c\n2:1|2|3\n");
}

static void test_csv__quoted_commas_newlines_and_quotes(void **state)
{
	CHECK_CSV(*state,
		  "id,text\n"
		  "1,\"hello, world\"\n"
		  "2,\"two\nlines\"\n"
		  "3,\"say \"\"hi\"\"\"\n"
		  "4,\"\"\n"
		  "5,\"\"\"\"\n"
		  "6,\"a,\"\"b\"\",\r\nc\"\n"
		  "7,end\n",
		  2,
		  "1:id|text\n"
		  "2:1|hello, world\n"
		  "3:2|two\\nlines\n"
		  "5:3|say \"hi\"\n"
		  "6:4|\n"
		  "7:5|\"\n"
		  "8:6|a,\"b\",\\r\\nc\n"
		  "10:7|end\n");
}

static void test_csv__empty_fields(void **state)
{
	CHECK_CSV(*state, "a,,b\n,,\n,x,\n", 3,
		  "1:a||b\n2:||\n3:|x|\n");
}

static void test_csv__crlf_line_ends(void **state)
{
	CHECK_CSV(*state, "a,b\r\nc,d\r\n\"e\",\"f\"\r\n", 2,
		  "1:a|b\n2:c|d\n3:e|f\n");
}

static void test_csv__bare_cr_line_ends(void **state)
{
	CHECK_CSV(*state, "a,b\rc,d\r", 2, "1:a|b\n2:c|d\n");
}

static void test_csv__bare_cr_blank_lines_are_counted(void **state)
{
	CHECK_CSV(*state, "a,b\r\rc,d\r\r\n\re,f", 2,
		  "1:a|b\n3:c|d\n6:e|f\n");
}

/* A file of 64 MiB and more of NUL bytes (sparse: nothing is written) is
 * one record over the limit. */
static void test_csv__record_over_the_limit(void **state)
{
	struct fixture *fx = *state;
	char want[700];
	int fd, rc;
	char *got;

	assert_int_equal(fixture_write(fx, "huge.csv", "a,b\n", 4), 0);
	fd = open(fx->path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 + (off_t)CNAI_CSV_MAX_RECORD + 10),
			 0);
	close(fd);
	got = dump(fx->path, 0, &rc);
	assert_int_equal(rc, CNAI_EINVALID);
	snprintf(want, sizeof(want),
		 "%s:2: record longer than the limit of %u bytes", fx->path,
		 CNAI_CSV_MAX_RECORD);
	assert_string_equal(fixture_errmsg(), want);
	assert_string_equal(got, "1:a|b\n");
	free(got);
}

static void test_csv__byte_order_mark_is_skipped(void **state)
{
	CHECK_CSV(*state, "\xEF\xBB\xBFname,v\nx,\xEF\xBB\xBF\n", 2,
		  "1:name|v\n2:x|\xEF\xBB\xBF\n");
}

static void test_csv__only_a_byte_order_mark(void **state)
{
	CHECK_CSV(*state, "\xEF\xBB\xBF", 0, "");
}

static void test_csv__empty_file(void **state)
{
	CHECK_CSV(*state, "", 0, "");
}

static void test_csv__tiny_files(void **state)
{
	CHECK_CSV(*state, "a", 0, "1:a\n");
	CHECK_CSV(*state, "ab", 0, "1:ab\n");
	CHECK_CSV(*state, "\n", 0, "");
	CHECK_CSV(*state, "\"\"", 0, "1:\n");
}

static void test_csv__blank_lines_are_skipped_but_counted(void **state)
{
	CHECK_CSV(*state, "\n\na,b\n\r\n\nc,d\n\n", 2, "3:a|b\n6:c|d\n");
}

static void test_csv__missing_final_newline(void **state)
{
	CHECK_CSV(*state, "a,b\nc,d", 2, "1:a|b\n2:c|d\n");
	CHECK_CSV(*state, "a,b\nc,\"d\"", 2, "1:a|b\n2:c|d\n");
	CHECK_CSV(*state, "a,b\nc,", 2, "1:a|b\n2:c|\n");
	CHECK_CSV(*state, "a,b\r", 2, "1:a|b\n");
}

static void test_csv__field_count_error_message(void **state)
{
	struct fixture *fx = *state;
	static const char text[] = "a,b\n\"x\ny\",z\nc\nd,e\n";
	char want[700];
	int rc;
	char *got = dump_text(fx, text, sizeof(text) - 1, 2, &rc);

	assert_int_equal(rc, CNAI_EINVALID);
	snprintf(want, sizeof(want), "%s:4: expected 2 fields, found 1",
		 fx->path);
	assert_string_equal(fixture_errmsg(), want);
	assert_string_equal(got, "1:a|b\n2:x\\ny|z\n");
	free(got);

	got = dump_text(fx, "a,b\nc,d,e\n", 10, 2, &rc);
	assert_int_equal(rc, CNAI_EINVALID);
	snprintf(want, sizeof(want), "%s:2: expected 2 fields, found 3",
		 fx->path);
	assert_string_equal(fixture_errmsg(), want);
	free(got);
}

static void test_csv__unterminated_quote_error(void **state)
{
	struct fixture *fx = *state;
	static const char text[] = "a,b\n\n\"open,c\nmore\n";
	char want[700];
	int rc;
	char *got = dump_text(fx, text, sizeof(text) - 1, 0, &rc);

	assert_int_equal(rc, CNAI_EINVALID);
	snprintf(want, sizeof(want), "%s:3: unterminated quoted field",
		 fx->path);
	assert_string_equal(fixture_errmsg(), want);
	assert_string_equal(got, "1:a|b\n");
	free(got);
}

static void test_csv__text_after_closing_quote_error(void **state)
{
	struct fixture *fx = *state;
	char want[700];
	int rc;
	char *got = dump_text(fx, "x\n\"a\"b,c\n", 9, 0, &rc);

	assert_int_equal(rc, CNAI_EINVALID);
	snprintf(want, sizeof(want),
		 "%s:2: unexpected character after a quoted field", fx->path);
	assert_string_equal(fixture_errmsg(), want);
	free(got);
}

static void test_csv__missing_file_is_not_found(void **state)
{
	struct fixture *fx = *state;
	struct cnai_csv_reader *r = (struct cnai_csv_reader *)1;

	assert_int_equal(cnai_csv_open(&r, fixture_path(fx, "none.csv"), ','),
			 CNAI_ENOTFOUND);
	assert_null(r);
	assert_non_null(strstr(fixture_errmsg(), "none.csv"));
}

static void test_csv__other_delimiter_and_offset(void **state)
{
	struct fixture *fx = *state;
	struct cnai_csv_reader *r = NULL;
	const struct cnai_csv_record *rec;
	static const char text[] = "a\tb,c\n\"x\ty\"\tz\n";

	assert_int_equal(fixture_write(fx, "in.tsv", text, sizeof(text) - 1),
			 0);
	assert_int_equal(cnai_csv_open(&r, fixture_path(fx, "in.tsv"), '\t'),
			 0);
	assert_string_equal(cnai_csv_path(r), fx->path);
	assert_int_equal(cnai_csv_next(r, &rec, 2), 1);
	assert_string_equal(rec->fields[1].ptr, "b,c");
	assert_int_equal(cnai_csv_next(r, &rec, 2), 1);
	assert_string_equal(rec->fields[0].ptr, "x\ty");
	assert_int_equal(cnai_csv_next(r, &rec, 2), 0);
	assert_int_equal(cnai_csv_offset(r), sizeof(text) - 1);
	/* at the end it stays at the end */
	assert_int_equal(cnai_csv_next(r, &rec, 2), 0);
	cnai_csv_close(r);
	cnai_csv_close(NULL);
}

/*
 * Fills exactly `len` bytes with 2-field one-line records and returns how
 * many lines that took.
 */
static size_t add_filler(struct cnai_buf *b, size_t len)
{
	size_t lines = 0;

	while (len - b->len >= 32) {
		cnai_buf_addf(b, "%07zu,abcdefghij\n", lines); /* 19 bytes */
		lines++;
	}
	/* the last line: "f," + 'y' * k + "\n" */
	cnai_buf_adds(b, "f,");
	while (b->len < len - 1)
		cnai_buf_addch(b, 'y');
	cnai_buf_addch(b, '\n');
	return lines + 1;
}

/*
 * A record with a doubled quote, an embedded CRLF and a CRLF end, moved
 * across the window's edge one byte at a time, so that each of its
 * characters is, once, the last byte of the first read.
 */
static void test_csv__record_across_the_read_window(void **state)
{
	struct fixture *fx = *state;
	static const char tail[] = "\"a\"\"b\",\"c\r\nd\"\r\nend,1\n";
	long shift;

	for (shift = -(long)sizeof(tail); shift <= 2; shift++) {
		struct cnai_buf b = CNAI_BUF_INIT, want = CNAI_BUF_INIT;
		size_t lines = add_filler(&b, (size_t)(WINDOW + shift));
		char *got, *last;
		int rc;

		cnai_buf_adds(&b, tail);
		assert_int_equal(cnai_buf_oom(&b), 0);
		assert_int_equal(fixture_write(fx, "w.csv", b.buf, b.len), 0);
		got = dump(fixture_path(fx, "w.csv"), 2, &rc);
		assert_int_equal(rc, 0);
		/* the last two records, after the filler */
		last = got + strlen(got);
		last -= 2; /* skip the final '\n' */
		while (last > got && last[-1] != '\n')
			last--;
		last--;
		while (last > got && last[-1] != '\n')
			last--;
		cnai_buf_addf(&want, "%zu:a\"b|c\\r\\nd\n%zu:end|1\n",
			      lines + 1, lines + 3);
		if (strcmp(last, want.buf))
			fail_msg("shift %ld: got '%s', want '%s'", shift, last,
				 want.buf);
		cnai_buf_release(&b);
		cnai_buf_release(&want);
		free(got);
	}
}

/* A field larger than the window: the window has to grow. */
static void test_csv__field_larger_than_the_window(void **state)
{
	struct fixture *fx = *state;
	struct cnai_csv_reader *r = NULL;
	const struct cnai_csv_record *rec;
	struct cnai_buf b = CNAI_BUF_INIT;
	size_t i, n = 5 * WINDOW / 2, quotes = 0, newlines = 0;

	cnai_buf_adds(&b, "k,v\nbig,\"");
	for (i = 0; i < n; i++) {
		if (i % 1000 == 999) {
			cnai_buf_adds(&b, "\"\"");
			quotes++;
		} else if (i % 1000 == 500) {
			cnai_buf_addch(&b, '\n');
			newlines++;
		} else {
			cnai_buf_addch(&b, (char)('a' + i % 26));
		}
	}
	cnai_buf_adds(&b, "\"\nlast,2\n");
	assert_int_equal(cnai_buf_oom(&b), 0);
	assert_int_equal(fixture_write(fx, "big.csv", b.buf, b.len), 0);
	assert_int_equal(cnai_csv_open(&r, fixture_path(fx, "big.csv"), ','),
			 0);
	assert_int_equal(cnai_csv_next(r, &rec, 2), 1);
	assert_int_equal(cnai_csv_next(r, &rec, 2), 1);
	assert_int_equal(rec->line, 2);
	assert_string_equal(rec->fields[0].ptr, "big");
	assert_int_equal(rec->fields[1].len, n);
	for (i = 0; i < n; i++) {
		char want = i % 1000 == 999   ? '"'
			    : i % 1000 == 500 ? '\n'
					      : (char)('a' + i % 26);

		if (rec->fields[1].ptr[i] != want)
			fail_msg("byte %zu: got %d, want %d", i,
				 rec->fields[1].ptr[i], want);
	}
	assert_int_equal(cnai_csv_next(r, &rec, 2), 1);
	assert_int_equal(rec->line, 3 + newlines);
	assert_string_equal(rec->fields[0].ptr, "last");
	assert_int_equal(cnai_csv_next(r, &rec, 2), 0);
	assert_int_equal(cnai_csv_offset(r), b.len);
	assert_true(quotes > 0);
	cnai_csv_close(r);
	cnai_buf_release(&b);
}

/* Many multi-line records over several windows: every one read back. */
static void test_csv__many_records_over_several_windows(void **state)
{
	struct fixture *fx = *state;
	struct cnai_csv_reader *r = NULL;
	const struct cnai_csv_record *rec;
	struct cnai_buf b = CNAI_BUF_INIT, want = CNAI_BUF_INIT;
	size_t i, count = 100000, line = 1;
	int rc;

	for (i = 0; i < count; i++)
		cnai_buf_addf(&b, "%zu,\"v%zu, \"\"q\"\"%s\",%s%zu\r\n", i, i,
			      i % 7 == 0 ? "\nx" : "", i % 5 ? "" : "-", i * 3);
	assert_int_equal(cnai_buf_oom(&b), 0);
	assert_true(b.len > 2 * WINDOW);
	assert_int_equal(fixture_write(fx, "many.csv", b.buf, b.len), 0);
	assert_int_equal(cnai_csv_open(&r, fixture_path(fx, "many.csv"), ','),
			 0);
	for (i = 0; (rc = cnai_csv_next(r, &rec, 3)) == 1; i++) {
		char f0[32], f2[32];

		cnai_buf_reset(&want);
		cnai_buf_addf(&want, "v%zu, \"q\"%s", i, i % 7 == 0 ? "\nx" : "");
		snprintf(f0, sizeof(f0), "%zu", i);
		snprintf(f2, sizeof(f2), "%s%zu", i % 5 ? "" : "-", i * 3);
		if (rec->line != line || strcmp(rec->fields[0].ptr, f0) ||
		    strcmp(rec->fields[1].ptr, want.buf) ||
		    strcmp(rec->fields[2].ptr, f2))
			fail_msg("record %zu (line %llu) is wrong", i,
				 (unsigned long long)rec->line);
		line += i % 7 == 0 ? 2 : 1;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(i, count);
	cnai_csv_close(r);
	cnai_buf_release(&b);
	cnai_buf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_dir, \
						fixture_teardown)
		T(test_csv__plain_records),
		T(test_csv__quoted_commas_newlines_and_quotes),
		T(test_csv__empty_fields),
		T(test_csv__crlf_line_ends),
		T(test_csv__bare_cr_line_ends),
		T(test_csv__bare_cr_blank_lines_are_counted),
		T(test_csv__byte_order_mark_is_skipped),
		T(test_csv__only_a_byte_order_mark),
		T(test_csv__empty_file),
		T(test_csv__tiny_files),
		T(test_csv__blank_lines_are_skipped_but_counted),
		T(test_csv__missing_final_newline),
		T(test_csv__field_count_error_message),
		T(test_csv__unterminated_quote_error),
		T(test_csv__text_after_closing_quote_error),
		T(test_csv__missing_file_is_not_found),
		T(test_csv__other_delimiter_and_offset),
		T(test_csv__record_across_the_read_window),
		T(test_csv__field_larger_than_the_window),
		T(test_csv__record_over_the_limit),
		T(test_csv__many_records_over_several_windows),
#undef T
	};

	return cmocka_run_group_tests_name("data-csv", tests, NULL, NULL);
}
