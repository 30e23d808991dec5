/*
 * Tests for core/data/jsonl.c: the items a batch hands back (from the fast
 * path for plain metric lines and from jansson alike), blank lines, the
 * FILE:LINE messages for bad lines, and an error from the caller's
 * function stopping the batch at its line.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/data/jsonl.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

/* Describes each item on a line of its own: "m key value step ts". */
static int describe(const struct cnai_jsonl_item *it, void *data)
{
	struct cnai_buf *out = data;

	if (it->kind == CNAI_JSONL_METRIC)
		cnai_buf_addf(out, "m %s %g %lld %s\n", it->key, it->value,
			      (long long)it->step,
			      it->has_timestamp ? "ts" : "-");
	else
		cnai_buf_addf(out, "%c %s %s\n",
			      it->kind == CNAI_JSONL_PARAM ? 'p' : 't', it->key,
			      it->text ? it->text : "(real)");
	return 0;
}

static int refuse_tags(const struct cnai_jsonl_item *it, void *data)
{
	(void)data;
	if (it->kind == CNAI_JSONL_TAG)
		return cnai_error_set(CNAI_EINVALID, "no tags here");
	return 0;
}

static int read_text(struct fixture *fx, const char *text,
		     struct cnai_buf *out, size_t *count)
{
	assert_int_equal(fixture_write(fx, "b.jsonl", text, strlen(text)), 0);
	*count = 0;
	return cnai_jsonl_read(fixture_path(fx, "b.jsonl"), describe, out,
			       count);
}

static void test_jsonl__items_from_both_paths(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf out = CNAI_BUF_INIT;
	size_t count;

	assert_int_equal(
		read_text(fx,
			  "{\"metric\":\"loss\",\"value\":0.5,\"step\":3}\n"
			  "\n"
			  "  \t\n"
			  "{\"value\": 2, \"metric\": \"acc\", "
			  "\"timestamp\": 17}\r\n"
			  "{\"metric\":\"x\",\"value\":\"NaN\"}\n"
			  "{\"param\":\"lr\",\"value\":\"0.01\"}\n"
			  "{\"param\":\"layers\",\"value\":3}\n"
			  "{\"tag\":\"w\",\"value\":0.25}\n",
			  &out, &count),
		0);
	assert_int_equal(count, 6);
	assert_string_equal(out.buf, "m loss 0.5 3 -\n"
				     "m acc 2 0 ts\n"
				     "m x nan 0 -\n"
				     "p lr 0.01\n"
				     "p layers 3\n"
				     "t w (real)\n");
	cnai_buf_release(&out);
}

static void test_jsonl__bad_lines_name_file_and_line(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf out = CNAI_BUF_INIT;
	size_t count;
	char expect[600];

	assert_int_equal(read_text(fx,
				   "{\"metric\":\"a\",\"value\":1}\n"
				   "{\"metric\":\"a\",\"tag\":\"b\","
				   "\"value\":1}\n",
				   &out, &count),
			 CNAI_EINVALID);
	snprintf(expect, sizeof(expect), "%s:2: expected exactly one of "
		 "\"metric\", \"param\", \"tag\"", fixture_path(fx, "b.jsonl"));
	assert_string_equal(fixture_errmsg(), expect);
	assert_int_equal(count, 1);
	cnai_buf_reset(&out);
	assert_int_equal(read_text(fx, "{\"param\":\"p\",\"value\":1,"
				   "\"step\":2}\n", &out, &count),
			 CNAI_EINVALID);
	snprintf(expect, sizeof(expect), "%s:1: \"step\" and \"timestamp\" "
		 "belong to metrics", fixture_path(fx, "b.jsonl"));
	assert_string_equal(fixture_errmsg(), expect);
	cnai_buf_release(&out);
}

static void test_jsonl__an_error_from_the_caller_stops_at_its_line(
	void **state)
{
	struct fixture *fx = *state;
	const char *text = "{\"param\":\"p\",\"value\":\"v\"}\n"
			   "{\"tag\":\"t\",\"value\":\"v\"}\n"
			   "{\"param\":\"q\",\"value\":\"v\"}\n";
	size_t count = 0;
	char expect[600];

	assert_int_equal(fixture_write(fx, "b.jsonl", text, strlen(text)), 0);
	assert_int_equal(cnai_jsonl_read(fixture_path(fx, "b.jsonl"),
					 refuse_tags, NULL, &count),
			 CNAI_EINVALID);
	snprintf(expect, sizeof(expect), "%s:2: no tags here",
		 fixture_path(fx, "b.jsonl"));
	assert_string_equal(fixture_errmsg(), expect);
	assert_int_equal(count, 1);
}

static void test_jsonl__missing_file_is_not_found(void **state)
{
	struct fixture *fx = *state;
	size_t count = 0;

	assert_int_equal(cnai_jsonl_read(fixture_path(fx, "none.jsonl"),
					 describe, NULL, &count),
			 CNAI_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_dir, \
						fixture_teardown)
		T(test_jsonl__items_from_both_paths),
		T(test_jsonl__bad_lines_name_file_and_line),
		T(test_jsonl__an_error_from_the_caller_stops_at_its_line),
		T(test_jsonl__missing_file_is_not_found),
#undef T
	};

	return cmocka_run_group_tests_name("data-jsonl", tests, NULL, NULL);
}
