/*
 * Tests for core/drift/stats.c and the number reader and sort of
 * core/drift/read.c. The reference values of the distribution functions
 * live in data/drift-stats.txt (computed with scipy 1.10.1), read by
 * test_stats__scipy_values; this file holds the cases that need code.
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

#include "core/drift/read.h"
#include "core/drift/sort.h"
#include "core/drift/stats.h"
#include "core/util/banned.h"

static void data_path(char *out, size_t size, const char *name)
{
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__) : 1;

	snprintf(out, size, "%.*s/data/%s", dir, slash ? __FILE__ : ".",
		 name);
}

/* |got - want| within rel (relative) or abs_tol. */
static int near(double got, double want, double rel, double abs_tol)
{
	if (got == want)
		return 1;
	return fabs(got - want) <= fmax(rel * fabs(want), abs_tol);
}

static void test_stats__scipy_values(void **state)
{
	char path[4096], line[512], fn[32];
	int lineno = 0, cases = 0, failures = 0;
	FILE *fp;

	data_path(path, sizeof(path), "drift-stats.txt");
	if (!(fp = fopen(path, "r")))
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), fp)) {
		double x, want, got = NAN, rel = 1e-9;
		long long a, b, h;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%31s", fn) != 1)
			fail_msg("%s:%d: unreadable", path, lineno);
		if (!strcmp(fn, "kolmogn") &&
		    sscanf(line, "%*s %lld %lf %lf", &a, &x, &want) == 3) {
			got = cnai_stat_kolmogn_sf(a, x);
			rel = 1e-7; /* what the issue asks of p-values: 1% */
		} else if (!strcmp(fn, "smirnov") &&
			   sscanf(line, "%*s %lld %lf %lf", &a, &x, &want) == 3) {
			got = cnai_stat_smirnov(a, x);
			rel = 1e-10;
		} else if (!strcmp(fn, "ksexact") &&
			   sscanf(line, "%*s %lld %lld %lld %lf", &a, &b, &h,
				  &want) == 4) {
			got = cnai_stat_ks_exact_p(a, b, h);
			rel = 1e-12;
		} else if (!strcmp(fn, "chi2sf") &&
			   sscanf(line, "%*s %lf %lld %lf", &x, &a, &want) ==
				   3) {
			got = cnai_stat_chi2_sf(x, (double)a);
			rel = 1e-12;
		} else {
			fail_msg("%s:%d: unknown case", path, lineno);
		}
		cases++;
		if (!near(got, want, rel, 1e-300)) {
			print_error("%s:%d: %s: got %.17g, scipy %.17g\n", path,
				    lineno, fn, got, want);
			failures++;
		}
	}
	fclose(fp);
	assert_true(cases >= 40);
	assert_int_equal(failures, 0);
}

static void test_stats__ks_statistic(void **state)
{
	const double a[] = { 1, 2, 3, 4, 5 }, b[] = { 3, 4, 5, 6, 7, 8 };
	struct cnai_ks_result r;

	/* scipy: KstestResult(statistic=0.5, pvalue=0.35714285714285715) */
	assert_int_equal(cnai_stat_ks(&r, a, 5, b, 6), 0);
	assert_true(near(r.statistic, 0.5, 1e-15, 0));
	assert_true(near(r.p_value, 0.35714285714285715, 1e-12, 0));
	assert_int_equal(r.mode, CNAI_KS_EXACT);
	assert_int_equal(cnai_stat_ks(&r, a, 5, a, 5), 0);
	assert_true(r.statistic == 0 && r.p_value == 1);
}

static void test_stats__wasserstein_and_energy(void **state)
{
	const double a[] = { 0, 1, 3 }, b[] = { 5, 6, 8 };

	/* scipy: wasserstein_distance([0,1,3],[5,6,8]) = 5 */
	assert_true(near(cnai_stat_wasserstein(a, 3, b, 3), 5, 1e-15, 0));
	/* scipy: energy_distance([0,1,3],[5,6,8]) */
	assert_true(near(cnai_stat_energy(a, 3, b, 3), 2.7080128015453204,
			 1e-12, 0));
	assert_true(near(cnai_stat_std(a, 3), 1.247219128924647, 1e-15, 0));
}

static void test_stats__shares(void **state)
{
	double p[] = { 0.5, 0.5, 0 }, q[] = { 0.25, 0.25, 0.5 };

	/* scipy.spatial.distance.jensenshannon([.5,.5,0],[.25,.25,.5]) */
	assert_true(near(cnai_stat_jensenshannon(p, q, 3), 0.46450140402245893,
			 1e-14, 0));
	cnai_stat_fill_zeroes(p, 3);
	assert_true(p[2] == 0.0001);
	p[2] = 0;
	p[0] = 0.00005;
	cnai_stat_fill_zeroes(p, 3);
	assert_true(p[2] == 0.00005 / 1e6);
}

static void test_stats__sturges_like_numpy(void **state)
{
	double e[130];
	size_t nb;

	/* numpy.histogram_bin_edges(range(0, 101), bins="sturges") has 8
	 * bins: ceil(log2(101) + 1) */
	cnai_stat_sturges_edges(e, &nb, 0, 100, 101);
	assert_int_equal(nb, 8);
	assert_true(e[0] == 0 && e[8] == 100 && e[1] == 12.5);
	assert_int_equal(cnai_stat_hist_bin(e, nb, 12.5), 1);
	assert_int_equal(cnai_stat_hist_bin(e, nb, 12.499999), 0);
	assert_int_equal(cnai_stat_hist_bin(e, nb, 100), 7);
	/* one value: the range widens by 0.5 each way, one bin */
	cnai_stat_sturges_edges(e, &nb, 3, 3, 10);
	assert_int_equal(nb, 1);
	assert_true(e[0] == 2.5 && e[1] == 3.5);
}

static void test_stats__ztest(void **state)
{
	double z, p;

	cnai_stat_ztest(&z, &p, 30, 100, 30, 100, 0);
	assert_true(z == 0 && p == 1);
	cnai_stat_ztest(&z, &p, 0, 10, 0, 10, 1);
	assert_true(p == 1);
	/* p1 = 0.3, p2 = 0.5, as Evidently computes it with scipy */
	cnai_stat_ztest(&z, &p, 30, 100, 50, 100, 0);
	assert_true(near(z, -2.886751345948129, 1e-12, 0));
	assert_true(near(p, 0.0038924171227785465, 1e-9, 0));
}

/* strtod's reading of the cell, -0 made 0 as the reader makes it. */
static double strtod_nz(const char *buf)
{
	double want = strtod(buf, NULL);

	return want == 0 ? 0.0 : want;
}

/* Appends "e<exp>" to the cell of len bytes in buf; its new length. */
static int add_exponent(char *buf, size_t size, int len, int exp)
{
	return len + snprintf(buf + len, size - (size_t)len, "e%d", exp);
}

/* Every number the reader accepts equals strtod's reading, bit for bit. */
static void test_read__numbers_like_strtod(void **state)
{
	static const char *const ok[] = {
		"0", "-0", "1", "+7", "12345678901234567890", "3.14159",
		".5", "5.", "1e10", "1E-5", "-2.5e+3", "0.1", "0.3",
		"9007199254740993", "123456789012345678901234567890e-10",
		"1e22", "1e23", "4.9e-324", "1.7976931348623157e308",
		"2.2250738585072014e-308", "11.18881", "0.000123",
		"inf", "-Infinity",
	};
	static const char *const bad[] = { "", "abc", "1.2.3", "1e", "e5",
					   "--1", "0x10", "1 ", " 1", "nan",
					   ".", "+", "1e+" };
	unsigned long long seed = 42;
	char buf[64];
	size_t i;
	int isint;
	double v;

	for (i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		double want = strtod(ok[i], NULL);

		assert_true(cnai_drift__parse_number(&v, &isint, ok[i],
						     strlen(ok[i])));
		if (want == 0)
			want = 0.0;
		assert_memory_equal(&v, &want, sizeof(v));
	}
	assert_true(cnai_drift__parse_number(&v, &isint, "42", 2) && isint);
	assert_true(cnai_drift__parse_number(&v, &isint, "4e2", 3) && !isint);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_false(cnai_drift__parse_number(&v, &isint, bad[i],
						      strlen(bad[i])));
	/* random decimals of every length */
	for (i = 0; i < 200000; i++) {
		int len, k;
		double want;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = snprintf(buf, sizeof(buf), "%llu",
			       (seed >> 11) % 100000000000000000ULL);
		k = (int)((seed >> 3) % 25);
		if (k < len) {
			memmove(buf + len - k + 1, buf + len - k,
				(size_t)k + 1);
			buf[len - k] = '.';
			len++;
		}
		if (seed & 1)
			len = add_exponent(buf, sizeof(buf), len,
					   (int)((seed >> 40) % 80) - 40);
		want = strtod(buf, NULL);
		assert_true(cnai_drift__parse_number(&v, &isint, buf,
						     (size_t)len));
		if (v != want)
			fail_msg("'%s': %.17g, strtod %.17g", buf, v, want);
	}
	/* zeros before and after the first significant digit, and more
	 * digits than a significand keeps (19) */
	for (i = 0; i < 100000; i++) {
		int len, k, nz, nd;
		double want;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		nz = (int)((seed >> 8) % 26);
		nd = 1 + (int)((seed >> 16) % 25);
		len = snprintf(buf, sizeof(buf), "%s", seed & 2 ? "0." : "");
		for (k = 0; k < nz; k++)
			buf[len++] = '0';
		for (k = 0; k < nd; k++)
			buf[len++] = (char)('0' + (seed >> (24 + k % 36)) % 10);
		buf[len] = '\0';
		if (seed & 1)
			len = add_exponent(buf, sizeof(buf), len,
					   (int)((seed >> 50) % 60) - 30);
		want = strtod_nz(buf);
		assert_true(cnai_drift__parse_number(&v, &isint, buf,
						     (size_t)len));
		if (memcmp(&v, &want, sizeof(v)))
			fail_msg("'%s': %.17g, strtod %.17g", buf, v, want);
	}
}

static int cmp(const void *a, const void *b);

/* Short decimals get 32-bit keys that give back the very same double. */
static void test_read__short_decimal_keys(void **state)
{
	unsigned long long seed = 99;
	char buf[64];
	size_t i, packed = 0;

	for (i = 0; i < 200000; i++) {
		double v, want;
		uint32_t key;
		int isint, len, k;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = snprintf(buf, sizeof(buf), "%s%llu", seed & 2 ? "-" : "",
			       (seed >> 20) % (i % 2 ? 10000000ULL : 100ULL));
		k = (int)((seed >> 5) % 9);
		if (k > 0 && k < len - 1 && buf[len - k - 1] != '-') {
			memmove(buf + len - k + 1, buf + len - k,
				(size_t)k + 1);
			buf[len - k] = '.';
			len++;
		}
		if (seed & 4)
			len = add_exponent(buf, sizeof(buf), len,
					   (int)((seed >> 40) % 30) - 15);
		want = strtod_nz(buf);
		assert_true(cnai_drift__parse_number_key(&v, &isint, &key,
							 buf, (size_t)len));
		assert_memory_equal(&v, &want, sizeof(v));
		if (key != CNAI_DRIFT_NOKEY) {
			double d = cnai_drift__key_value(key);

			packed++;
			if (memcmp(&d, &want, sizeof(d)))
				fail_msg("'%s': decodes to %.17g", buf, d);
		}
	}
	assert_true(packed > 100000);
	{
		double v;
		uint32_t key;
		int isint;

		cnai_drift__parse_number_key(&v, &isint, &key, "16777216", 8);
		assert_int_equal(key, CNAI_DRIFT_NOKEY); /* 2^24: too long */
		cnai_drift__parse_number_key(&v, &isint, &key, "0.1", 3);
		assert_true(key != CNAI_DRIFT_NOKEY &&
			    cnai_drift__key_value(key) == 0.1);
	}
	{
		/* one value, one key, however it is written */
		static const char *const spellings[] = { "1.50", "15e-1",
							 "0.15e1", "1.5" };
		uint32_t key, first = CNAI_DRIFT_NOKEY;
		double v;
		int isint;

		for (i = 0; i < sizeof(spellings) / sizeof(*spellings); i++) {
			assert_true(cnai_drift__parse_number_key(
				&v, &isint, &key, spellings[i],
				strlen(spellings[i])));
			if (i == 0)
				first = key;
			assert_int_equal(key, first);
		}
	}
	{
		/* the ends of the range: seven digits, powers -22 and 22 */
		static const char *const ends[] = {
			"1e-22", "-1e-22", "8388607e-22", "15e-22", "1e22",
			"-8388607e22", "0.0000000000000000000012",
		};

		for (i = 0; i < sizeof(ends) / sizeof(*ends); i++) {
			double v, want = strtod(ends[i], NULL), d;
			uint32_t key;
			int isint;

			cnai_drift__parse_number_key(&v, &isint, &key, ends[i],
						     strlen(ends[i]));
			assert_true(key != CNAI_DRIFT_NOKEY);
			d = cnai_drift__key_value(key);
			assert_memory_equal(&d, &want, sizeof(d));
		}
	}
}

/* A short decimal of random length, power and sign; some written with
 * trailing zeros, so that equal values come in other spellings. */
static int random_short_decimal(char *buf, size_t size,
				unsigned long long *seed)
{
	unsigned long long s;
	int len;

	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	s = *seed;
	len = snprintf(buf, size, "%s%llu%se%d", s & 1 ? "-" : "",
		       (s >> 8) % (s & 2 ? 838860 : 1000), s & 4 ? ".0" : "",
		       (int)((s >> 40) % (s & 8 ? 44 : 5)) - (s & 8 ? 21 : 2));
	return len;
}

/*
 * Values pushed past a few chunks are packed into sorted runs and come
 * back sorted, as the very doubles the parser made; one value that is no
 * short decimal turns the column into doubles on the way, losing none.
 */
static void check_pushed_sorted(size_t n, size_t wide_at)
{
	struct cnai_drift__col c;
	struct cnai_drift__scratch sc = { NULL, NULL };
	double *want = malloc(n * sizeof(double));
	unsigned long long seed = 11;
	char buf[64];
	size_t i;

	assert_non_null(want);
	memset(&c, 0, sizeof(c));
	for (i = 0; i < n; i++) {
		uint32_t key;
		int isint, len = random_short_decimal(buf, sizeof(buf), &seed);

		if (i == wide_at)
			len = snprintf(buf, sizeof(buf), "0.12345678901");
		assert_true(cnai_drift__parse_number_key(&want[i], &isint,
							 &key, buf,
							 (size_t)len));
		assert_true((key == CNAI_DRIFT_NOKEY) == (i == wide_at));
		assert_int_equal(cnai_drift__col_push(&c, &sc, want[i], key,
						      UINT64_MAX),
				 0);
		if (i + 1 == 2 * CNAI_DRIFT_CHUNK + 1 && wide_at > i) {
			assert_int_equal(c.nrun, 2 * CNAI_DRIFT_CHUNK);
			assert_true(c.runs_len < 4 * c.nrun);
		}
	}
	assert_int_equal(cnai_drift__col_sorted(&c), 0);
	qsort(want, n, sizeof(double), cmp);
	assert_int_equal(c.n, n);
	assert_memory_equal(c.v, want, n * sizeof(double));
	cnai_drift__col_free_values(&c);
	cnai_drift__scratch_release(&sc);
	free(want);
}

static void test_read__packed_runs(void **state)
{
	check_pushed_sorted(3 * CNAI_DRIFT_CHUNK + 12345, SIZE_MAX);
	check_pushed_sorted(2 * CNAI_DRIFT_CHUNK + 100, 2 * CNAI_DRIFT_CHUNK + 7);
}

/* A column of short decimals sorts by its keys and gives back the very
 * doubles the parser made, in order. */
static void test_read__sorted_keys(void **state)
{
	struct cnai_drift__col c;
	size_t n = 50000, i;
	double *want = malloc(n * sizeof(double));
	unsigned long long seed = 5;
	char buf[64];

	assert_non_null(want);
	memset(&c, 0, sizeof(c));
	c.key = malloc(n * sizeof(uint32_t));
	assert_non_null(c.key);
	for (i = 0; i < n; i++) {
		int isint, len;
		uint32_t key;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		/* x.xxxxx and integers up to 5e6: eleven decades apart */
		len = snprintf(buf, sizeof(buf), "%s%llu.%05llu",
			       seed & 1 ? "-" : "", (seed >> 40) % 10,
			       (seed >> 8) % 100000);
		if (seed & 2)
			len = snprintf(buf, sizeof(buf), "%llu",
				       (seed >> 20) % 5000000);
		assert_true(cnai_drift__parse_number_key(&want[i], &isint,
							 &key, buf,
							 (size_t)len));
		assert_true(key != CNAI_DRIFT_NOKEY);
		c.key[i] = key;
	}
	c.n = c.cap = n;
	assert_int_equal(cnai_drift__col_sorted(&c), 0);
	qsort(want, n, sizeof(double), cmp);
	assert_true(c.wide);
	assert_memory_equal(c.v, want, n * sizeof(double));
	free(c.v);
	free(want);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void test_read__radix_sort(void **state)
{
	size_t n = 100000, i;
	double *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
	unsigned long long seed = 7;

	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		a[i] = ((double)(seed >> 11) / 9007199254740992.0 - 0.5) *
		       (i % 3 ? 1e6 : 1e-6);
		if (i % 17 == 0)
			a[i] = (double)(long)(a[i] / 1000); /* ties */
		if (a[i] == 0)
			a[i] = 0.0;
	}
	memcpy(b, a, n * sizeof(*a));
	assert_int_equal(cnai_drift__sort(a, n), 0);
	qsort(b, n, sizeof(*b), cmp);
	assert_memory_equal(a, b, n * sizeof(*a));
	free(a);
	free(b);
}

/* pandas' default na_values, and cells that look like them but are not */
static void test_read__missing_cells(void **state)
{
	static const char *const na[] = {
		"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN",
		"-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN",
		"None", "n/a", "nan", "null",
	};
	static const char *const not_na[] = {
		"na", "0", "1", "1.5", "-1", "-1.5", "-N", "-Na", "1.#", "<N",
		"Nan", "NONE", "none", "#", "-", "nul", "#N/A N/A ",
	};
	size_t i;

	for (i = 0; i < sizeof(na) / sizeof(*na); i++)
		if (!cnai_drift__is_na(na[i], strlen(na[i])))
			fail_msg("'%s' should be missing", na[i]);
	for (i = 0; i < sizeof(not_na) / sizeof(*not_na); i++)
		if (cnai_drift__is_na(not_na[i], strlen(not_na[i])))
			fail_msg("'%s' should not be missing", not_na[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats__scipy_values),
		cmocka_unit_test(test_stats__ks_statistic),
		cmocka_unit_test(test_stats__wasserstein_and_energy),
		cmocka_unit_test(test_stats__shares),
		cmocka_unit_test(test_stats__sturges_like_numpy),
		cmocka_unit_test(test_stats__ztest),
		cmocka_unit_test(test_read__numbers_like_strtod),
		cmocka_unit_test(test_read__short_decimal_keys),
		cmocka_unit_test(test_read__sorted_keys),
		cmocka_unit_test(test_read__packed_runs),
		cmocka_unit_test(test_read__radix_sort),
		cmocka_unit_test(test_read__missing_cells),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
