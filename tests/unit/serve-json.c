/*
 * Tests for core/serve/json.c: floats written as jansson's
 * JSON_REAL_PRECISION(9) writes them (the answers' bytes did not change
 * when the server stopped building jansson trees), and read back as the
 * same float; strings as jansson writes them, or \u00XX for bytes that
 * are not UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>

#include "core/serve/json.h"
#include "core/util/banned.h"

/* jansson's text for v, the reference. */
static void expect_as_jansson(float v)
{
	json_t *j = json_real(v);
	char *want = json_dumps(j, JSON_ENCODE_ANY | JSON_REAL_PRECISION(9));
	char got[CNAI_SERVE_JSON_FLOAT_MAX];
	int len = cnai_serve_json_float(got, v);

	assert_non_null(want);
	if (strcmp(got, want))
		fail_msg("%a: got %s, jansson %s", (double)v, got, want);
	assert_int_equal(len, (int)strlen(got));
	/* 9 digits give the float back */
	assert_true(strtof(got, NULL) == v);
	free(want);
	json_decref(j);
}

static float from_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static void test_json__floats_at_the_edges_match_jansson(void **state)
{
	static const float cases[] = {
		0.0f, -0.0f, 1.0f, -1.0f, 0.1f, 0.5f, 1e-5f, 1.5e-5f, 1e-4f,
		0.000123456789f, 1e8f, 123456789.0f, 1e9f, 1e10f, 3.4028235e38f,
		1.17549435e-38f, 1.4e-45f, 999999999.0f, 99999999.0f,
		9.99999999e-5f, 0.99999999f, 16777216.0f, 33554432.0f,
		2.5e-10f, 7.0e22f, 1e23f, 8.589973e9f,
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		expect_as_jansson(cases[i]);
		expect_as_jansson(-cases[i]);
	}
}

/* Every exponent, random mantissas: a million floats (fixed seed). */
static void test_json__random_floats_match_jansson(void **state)
{
	uint64_t x = 88172645463325252ull;
	int i;

	for (i = 0; i < 1000000; i++) {
		float f;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		f = from_bits((uint32_t)x);
		if (isfinite(f))
			expect_as_jansson(f);
	}
}

/* Probabilities: the values a softmax answers with. */
static void test_json__unit_interval_matches_jansson(void **state)
{
	uint32_t u;

	for (u = 0; u < 0x3f800000u; u += 997)
		expect_as_jansson(from_bits(u));
}

static void test_json__strings_as_jansson_or_latin1(void **state)
{
	struct cnai_buf b = CNAI_BUF_INIT;

	assert_int_equal(cnai_serve_json_add_string(&b, "iris"), 0);
	cnai_buf_addch(&b, ' ');
	cnai_serve_json_add_string(&b, "a\"b\\c\n\x01/é");
	cnai_buf_addch(&b, ' ');
	cnai_serve_json_add_string(&b, "\xff\x01");
	assert_string_equal(b.buf, "\"iris\" \"a\\\"b\\\\c\\n\\u0001/é\" "
				   "\"\\u00ff\\u0001\"");
	cnai_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json__floats_at_the_edges_match_jansson),
		cmocka_unit_test(test_json__random_floats_match_jansson),
		cmocka_unit_test(test_json__unit_interval_matches_jansson),
		cmocka_unit_test(test_json__strings_as_jansson_or_latin1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
