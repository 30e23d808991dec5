/*
 * Tests for core/data/number.c: the fast decimal parser must give exactly
 * the double strtod() gives, bit for bit, and refuse exactly what strtod()
 * does not consume whole. Random strings of every shape the fast path
 * handles and of the shapes it hands to strtod.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/data/number.h"
#include "core/util/banned.h"

static uint64_t rng = 12345;

static uint64_t next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void digits(char *out, size_t *len, int n)
{
	int i;

	for (i = 0; i < n; i++)
		out[(*len)++] = (char)('0' + next() % 10);
}

/* A random decimal: sign, integer digits, fraction, exponent. */
static void random_number(char *buf)
{
	size_t len = 0;
	int r = (int)(next() % 8);

	if (next() % 4 == 0)
		buf[len++] = next() % 2 ? '-' : '+';
	digits(buf, &len, (int)(next() % (r == 0 ? 25 : 8)));
	if (next() % 3) {
		buf[len++] = '.';
		digits(buf, &len, (int)(next() % (r == 1 ? 30 : 9)));
	}
	if (next() % 3 == 0) {
		buf[len++] = next() % 2 ? 'e' : 'E';
		if (next() % 2)
			buf[len++] = next() % 2 ? '-' : '+';
		digits(buf, &len, (int)(next() % (r == 2 ? 4 : 3)));
	}
	buf[len] = '\0';
}

static void check(const char *s)
{
	char *end;
	double want = strtod(s, &end), got = 1234.5;
	/* a cell with leading space is not a number (strtod skips it) */
	int ok = *s && *s != ' ' && end == s + strlen(s);
	int rc = cnai_number_parse(&got, s, strlen(s));

	if (!ok) {
		if (rc != -1)
			fail_msg("'%s' accepted; strtod does not", s);
		return;
	}
	if (rc != 0)
		fail_msg("'%s' refused; strtod gives %.17g", s, want);
	if (memcmp(&want, &got, sizeof(double)))
		fail_msg("'%s': %.17g, strtod %.17g", s, got, want);
}

static void test_number__random_decimals_match_strtod(void **state)
{
	char buf[128];
	int i;

	for (i = 0; i < 1000000; i++) {
		random_number(buf);
		check(buf);
	}
}

static void test_number__random_doubles_round_trip(void **state)
{
	char buf[64];
	int i;

	for (i = 0; i < 200000; i++) {
		uint64_t bits = next();
		double d;

		memcpy(&d, &bits, sizeof(d));
		if (!isfinite(d))
			continue;
		snprintf(buf, sizeof(buf), "%.*g", (int)(next() % 17) + 1, d);
		check(buf);
	}
}

static void test_number__edge_cases(void **state)
{
	static const char *const cases[] = {
		"0", "-0", "+0", "0.0", "00", "007", ".5", "5.", "-.5", "1e0",
		"1e22", "1e23", "9007199254740993", "9007199254740992",
		"123456789012345678901234567890", "0.1", "0.3", "1e-22",
		"1e-23", "4.9406564584124654e-324", "1.7976931348623157e308",
		"1e309", "1e-400", "12e30", "0x10", "inf", "-Infinity", "nan",
		"", ".", "-", "+", "e5", "1e", "1e+", "1.2.3", " 1", "1 ",
		"1,5", "--1", "0.000000000000000000000000001", "1_000",
		"2.2250738585072011e-308", "17.5e-1", "000000000000000000001",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		check(cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number__random_decimals_match_strtod),
		cmocka_unit_test(test_number__random_doubles_round_trip),
		cmocka_unit_test(test_number__edge_cases),
	};

	return cmocka_run_group_tests_name("data-number", tests, NULL, NULL);
}
