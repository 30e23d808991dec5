/*
 * Module-internal (core/drift): a deterministic quantile sketch for columns
 * with more values than --exact-limit. It is the compactor hierarchy of
 * Manku-Rajagopalan-Lindsay / KLL with equal buffers: level h holds up to
 * B values of weight 2^h; a full level is sorted and every other value
 * (alternating the offset) moves up one level with twice the weight. The
 * total weight stays exactly n, and each compaction at level h moves the
 * rank of any point by at most 2^h, so the sketch knows a hard bound on
 * its own rank error: `err` / n, at most (log2(n / B) + 1) / B (each level
 * sees at most n / (B 2^h) compactions of weight 2^h; with B = 65536 and
 * n = 5e7, 1.6e-4). Memory is B values per level, about log2(n / B)
 * levels.
 *
 * Next to it the column keeps exact counts of its first 64 distinct
 * values (so a low-cardinality column stays exact), its exact minimum and
 * maximum, and its mean and variance (Welford, long double).
 */
#ifndef CNAI_CORE_DRIFT_SKETCH_H
#define CNAI_CORE_DRIFT_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define CNAI_SKETCH_LEVELS 48
#define CNAI_SKETCH_SMALL 64

struct cnai_drift__sketch {
	size_t B;                              /* values per level */
	double *lev[CNAI_SKETCH_LEVELS];
	size_t len[CNAI_SKETCH_LEVELS];
	size_t nlev;
	unsigned parity;   /* alternating compaction offsets */
	uint64_t n;        /* values inserted */
	double err;        /* bound on the rank error, in values */
	double min, max;
	long double mean, m2;
	/* exact counts while the column has at most 64 distinct values */
	double small[CNAI_SKETCH_SMALL];
	int64_t small_count[CNAI_SKETCH_SMALL];
	size_t nsmall;
	int small_overflow;
};

/* A sketch with levels of `B` values (>= 2, even). */
int cnai_drift__sketch_new(struct cnai_drift__sketch **out, size_t B);
int cnai_drift__sketch_add(struct cnai_drift__sketch *s, double v);
void cnai_drift__sketch_free(struct cnai_drift__sketch *s);

/*
 * The sketch as a weighted sample sorted by value: `v` and `w` (malloc'd,
 * the caller frees) hold `n` distinct values and their weights, which sum
 * to the number of values inserted.
 */
int cnai_drift__sketch_sample(double **v, double **w, size_t *n,
			      const struct cnai_drift__sketch *s);
/* The rank error bound as a share of the values: err / n. */
double cnai_drift__sketch_eps(const struct cnai_drift__sketch *s);

#endif
