/*
 * Tests for core/drift/sketch.c: the weights add up to the count, the
 * rank of every point is within the bound the sketch reports, and that
 * bound is within log2(n / B) / B of n; a column's packed values enter
 * it as they would have in reading order.
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
#include "core/drift/sketch.h"
#include "core/drift/sort.h"
#include "core/util/banned.h"

static double next_value(unsigned long long *seed, int kind)
{
	double u;

	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	u = (double)(*seed >> 11) / 9007199254740992.0;
	switch (kind) {
	case 0:
		return u;
	case 1:
		return -log(u + 1e-300) * 1000; /* skewed */
	default:
		return floor(u * 5000); /* ties */
	}
}

static void check_bound(size_t n, size_t B, int kind)
{
	struct cnai_drift__sketch *s;
	double *all = malloc(n * sizeof(double)), *v, *w, total = 0, worst = 0;
	unsigned long long seed = 12345 + (unsigned long long)kind;
	size_t i, m, q;

	assert_non_null(all);
	assert_int_equal(cnai_drift__sketch_new(&s, B), 0);
	for (i = 0; i < n; i++) {
		all[i] = next_value(&seed, kind);
		assert_int_equal(cnai_drift__sketch_add(s, all[i]), 0);
	}
	assert_int_equal(cnai_drift__sort(all, n), 0);
	assert_int_equal(cnai_drift__sketch_sample(&v, &w, &m, s), 0);
	for (i = 0; i < m; i++)
		total += w[i];
	assert_true(total == (double)n);
	assert_true(s->min == all[0] && s->max == all[n - 1]);
	/* rank(x) = #values <= x, at every sample value and between them */
	for (q = 0, i = 0; q < m; q++) {
		double cum = 0, x = v[q];
		size_t k;

		for (k = 0; k <= q; k++)
			cum += w[k];
		while (i < n && all[i] <= x)
			i++;
		worst = fmax(worst, fabs(cum - (double)i));
		if (q > 200 && q + 200 < m)
			q += m / 200; /* a spread of points is enough */
	}
	assert_true(worst <= s->err);
	assert_true(s->err <= (double)n *
				      fmax(0, log2((double)n / (double)B) + 1) /
				      (double)B);
	free(v);
	free(w);
	free(all);
	cnai_drift__sketch_free(s);
}

static void test_sketch__rank_error_within_bound(void **state)
{
	check_bound(200000, 256, 0);
	check_bound(200000, 1000, 1);
	check_bound(100000, 64, 2);
	check_bound(1000, 4096, 0); /* never compacted: exact */
}

static void test_sketch__exact_small_counts(void **state)
{
	struct cnai_drift__sketch *s;
	int i;

	assert_int_equal(cnai_drift__sketch_new(&s, 64), 0);
	for (i = 0; i < 10000; i++)
		assert_int_equal(cnai_drift__sketch_add(s, i % 7), 0);
	assert_false(s->small_overflow);
	assert_int_equal(s->nsmall, 7);
	assert_int_equal(s->small_count[0] + s->small_count[6], 1429 + 1428);
	for (i = 0; i < 100; i++)
		assert_int_equal(cnai_drift__sketch_add(s, 100 + i), 0);
	assert_true(s->small_overflow);
	cnai_drift__sketch_free(s);
}

/*
 * A column that outgrows --exact-limit after it packed runs hands them to
 * its sketch, each sorted: each run fills level 0 once, so every level
 * ends up as it would with the values in reading order. Only the mean
 * and variance, summed in another order, may differ in their last bits.
 */
static void test_sketch__from_packed_runs(void **state)
{
	const size_t n = 3 * CNAI_DRIFT_CHUNK + 5000,
		     limit = 2 * CNAI_DRIFT_CHUNK + 100;
	struct cnai_drift__scratch sc = { NULL, NULL, NULL };
	struct cnai_drift__sketch *s, *t;
	struct cnai_drift__col c;
	unsigned long long seed = 3;
	size_t i, h;

	memset(&c, 0, sizeof(c));
	assert_int_equal(cnai_drift__sketch_new(&s, CNAI_DRIFT_CHUNK), 0);
	for (i = 0; i < n; i++) {
		char buf[32];
		double v;
		uint32_t key;
		int isint, len;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = snprintf(buf, sizeof(buf), "%llu.%03llu",
			       (seed >> 20) % 1000, (seed >> 40) % 1000);
		assert_true(cnai_drift__parse_number_key(&v, &isint, &key, buf,
							 (size_t)len));
		assert_int_equal(cnai_drift__col_push(&c, &sc, v, key, limit),
				 0);
		assert_int_equal(cnai_drift__sketch_add(s, v), 0);
	}
	t = c.sk;
	assert_non_null(t);
	assert_true(t->n == s->n && t->nlev == s->nlev && t->err == s->err);
	assert_true(t->min == s->min && t->max == s->max);
	assert_int_equal(t->small_overflow, s->small_overflow);
	for (h = 0; h < s->nlev; h++) {
		assert_int_equal(t->len[h], s->len[h]);
		assert_memory_equal(t->lev[h], s->lev[h],
				    s->len[h] * sizeof(double));
	}
	assert_true(fabsl(t->mean - s->mean) <= 1e-12L * fabsl(s->mean));
	assert_true(fabsl(t->m2 - s->m2) <= 1e-12L * s->m2);
	cnai_drift__col_free_values(&c);
	cnai_drift__scratch_release(&sc);
	cnai_drift__sketch_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sketch__rank_error_within_bound),
		cmocka_unit_test(test_sketch__exact_small_counts),
		cmocka_unit_test(test_sketch__from_packed_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
