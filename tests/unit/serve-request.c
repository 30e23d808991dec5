/*
 * Tests for core/serve/request.c's skeleton parser: it accepts exactly
 * the bodies jansson accepts (with jansson's quirk of a NUL after a
 * number), keeps in its small tree only what the decoder reads, and
 * gives each input's data as a span whose values read as jansson reads
 * them, without a tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/serve/request.h"
#include "core/util/banned.h"

static int parse(struct cnai_serve_skeleton *sk, const char *body,
		 size_t len)
{
	return cnai_serve_skeleton_parse(sk, body, len);
}

static void test_skeleton__accepts_what_jansson_accepts(void **state)
{
	static const char *const bodies[] = {
		"{}", "[]", " {\"inputs\": []} \n", "", " ", "{", "}", "[1,]",
		"{\"a\":1,}", "{\"a\" 1}", "{\"\\u0061\" 1}", "{1:2}",
		"[1 2]", "[01]", "[1.]",
		"[.5]", "[-]", "[1e]", "[1e+]", "[1E-7]", "[-0.0e0]",
		"[9223372036854775807]", "[9223372036854775808]",
		"[-9223372036854775808]", "[-9223372036854775809]",
		"[123456789012345678901234567890]", "[1e308]", "[1e309]",
		"[1e-400]", "[tru]", "[true]", "[nulls]", "[null1]", "[NaN]",
		"[\"a\\u0000b\"]", "[\"\\ud800\"]", "[\"\\ud83d\\ude00\"]",
		"[\"\\x\"]", "[\"a\tb\"]", "[\"\xc3\xa9\"]", "[\"\xff\"]",
		"[\xc3\xa9]", "{\"d\\u0061ta\":[1]}",
		"{\"inputs\":[{\"data\":[1,2",
		"{}x", "{} {}", "[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]",
		"{\"inputs\":[{\"shape\":[1,2,3,4,5,{\"a\":[]}],\"data\":{}}]}",
	};
	struct cnai_serve_skeleton sk;
	size_t i;
	json_t *j;
	int rc;

	for (i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
		j = json_loadb(bodies[i], strlen(bodies[i]), 0, NULL);
		rc = parse(&sk, bodies[i], strlen(bodies[i]));
		if ((rc == 0) != (j != NULL))
			fail_msg("'%s': skeleton %d, jansson %s", bodies[i], rc,
				 j ? "accepts" : "refuses");
		cnai_serve_skeleton_release(&sk);
		json_decref(j);
	}
}

static void test_skeleton__nesting_limit_and_nul_are_jansson_s(void **state)
{
	static const char nul[] = "[1\0,true\0,{\"a\":2\0}]";
	static const char two_nuls[] = "[1\0\0]";
	struct cnai_serve_skeleton sk;
	char deep[2 * 2049];
	size_t d;

	for (d = 2047; d <= 2049; d++) {
		memset(deep, '[', d);
		memset(deep + d, ']', d);
		assert_int_equal(parse(&sk, deep, 2 * d), d > 2048);
		if (d > 2048)
			assert_string_equal(sk.text,
					    "maximum parsing depth reached");
		cnai_serve_skeleton_release(&sk);
	}
	assert_int_equal(parse(&sk, nul, sizeof(nul) - 1), 0);
	cnai_serve_skeleton_release(&sk);
	assert_int_equal(parse(&sk, two_nuls, sizeof(two_nuls) - 1), 1);
	cnai_serve_skeleton_release(&sk);
}

static void test_skeleton__keeps_what_the_decoder_reads(void **state)
{
	static const char body[] =
		"{\"parameters\":{\"x\":[1,2,3]},\"id\":\"r\\u0031\","
		"\"inputs\":[{\"name\":\"a\",\"shape\":[2,1,7,8],"
		"\"datatype\":\"FP32\",\"data\":[[1],[2]],\"p\":{}},"
		"5,{\"name\":3,\"shape\":[\"2\"],\"datatype\":\"INT32\","
		"\"data\":1}]}";
	struct cnai_serve_skeleton sk;
	char *text;

	assert_int_equal(parse(&sk, body, sizeof(body) - 1), 0);
	text = json_dumps(sk.doc, JSON_COMPACT);
	assert_string_equal(text,
			    "{\"id\":\"r1\",\"inputs\":[{\"name\":\"a\","
			    "\"shape\":[2,1,7],\"datatype\":\"FP32\","
			    "\"data\":0},0,{\"name\":0,\"shape\":[null],"
			    "\"datatype\":\"INT32\",\"data\":0}]}");
	free(text);
	assert_int_equal(sk.nspans, 3);
	assert_int_equal(sk.spans[0].count, 2);
	assert_null(sk.spans[1].p);
	assert_int_equal(sk.spans[2].count, 1);
	cnai_serve_skeleton_release(&sk);
}

static void test_skeleton__values_read_as_jansson_reads_them(void **state)
{
	static const char body[] =
		"{\"inputs\":[{\"data\":[[9223372036854775807, -0.5e1],"
		"[null, \"a\\nb\", \"plain\"], {\"k\":\"]\"}, false,"
		"123456789012345678, 0.1]}]}";
	struct cnai_serve_skeleton sk;
	struct cnai_serve_values it;
	struct cnai_serve_value v;
	json_t *s;

	assert_int_equal(parse(&sk, body, sizeof(body) - 1), 0);
	assert_int_equal(sk.spans[0].count, 9);
	assert_int_equal(sk.spans[0].too_deep, 0);
	cnai_serve_values_init(&it, &sk.spans[0]);
	assert_true(cnai_serve_values_next(&v, &it));
	assert_int_equal(v.kind, CNAI_SERVE_INTEGER);
	assert_true(v.integer == INT64_MAX);
	assert_true(cnai_serve_values_next(&v, &it));
	assert_int_equal(v.kind, CNAI_SERVE_REAL);
	assert_true(v.number == -5.0);
	assert_true(cnai_serve_values_next(&v, &it));
	assert_int_equal(v.kind, CNAI_SERVE_NULL);
	assert_true(cnai_serve_values_next(&v, &it));
	assert_int_equal(v.kind, CNAI_SERVE_STRING);
	assert_true(v.escaped);
	s = json_loadb(v.text, v.len, JSON_DECODE_ANY, NULL);
	assert_string_equal(json_string_value(s), "a\nb");
	json_decref(s);
	assert_true(cnai_serve_values_next(&v, &it));
	assert_false(v.escaped);
	assert_int_equal(v.len, 5);
	assert_memory_equal(v.text, "plain", 5);
	assert_true(cnai_serve_values_next(&v, &it));
	assert_int_equal(v.kind, CNAI_SERVE_OTHER);
	assert_true(cnai_serve_values_next(&v, &it));
	assert_int_equal(v.kind, CNAI_SERVE_OTHER);
	assert_true(cnai_serve_values_next(&v, &it));
	assert_true(v.integer == 123456789012345678LL);
	assert_true(cnai_serve_values_next(&v, &it));
	assert_true(v.number == 0.1);
	assert_false(cnai_serve_values_next(&v, &it));
	cnai_serve_skeleton_release(&sk);
}

static void test_skeleton__nesting_past_the_decoder_s_limit(void **state)
{
	static const char ok[] = "{\"inputs\":[{\"data\":[[[[[[[[1]]]]]]]]}]}";
	static const char deep[] =
		"{\"inputs\":[{\"data\":[[[[[[[[[1]]]]]]]]]}]}";
	struct cnai_serve_skeleton sk;

	assert_int_equal(parse(&sk, ok, sizeof(ok) - 1), 0);
	assert_int_equal(sk.spans[0].too_deep, 0);
	cnai_serve_skeleton_release(&sk);
	assert_int_equal(parse(&sk, deep, sizeof(deep) - 1), 0);
	assert_int_equal(sk.spans[0].too_deep, 1);
	cnai_serve_skeleton_release(&sk);
}

static void test_skeleton__syntax_error_line_and_column(void **state)
{
	static const char body[] = "{\"inputs\": [\n  {\"data\": [1, 2, x]}]}";
	struct cnai_serve_skeleton sk;

	assert_int_equal(parse(&sk, body, sizeof(body) - 1), 1);
	assert_null(sk.doc);
	assert_int_equal(sk.line, 2);
	assert_int_equal(sk.column, 19);
	assert_string_equal(sk.text, "invalid token");
	cnai_serve_skeleton_release(&sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skeleton__accepts_what_jansson_accepts),
		cmocka_unit_test(test_skeleton__nesting_limit_and_nul_are_jansson_s),
		cmocka_unit_test(test_skeleton__keeps_what_the_decoder_reads),
		cmocka_unit_test(test_skeleton__values_read_as_jansson_reads_them),
		cmocka_unit_test(test_skeleton__nesting_past_the_decoder_s_limit),
		cmocka_unit_test(test_skeleton__syntax_error_line_and_column),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
