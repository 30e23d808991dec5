/*
 * The quantile sketch of core/drift/sketch.h: a compactor hierarchy with
 * a self-computed rank error bound, plus exact side statistics.
 */
#include "core/drift/sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/drift/sort.h"
#include "core/util/error.h"
#include "core/util/banned.h"

int cnai_drift__sketch_new(struct cnai_drift__sketch **out, size_t B)
{
	struct cnai_drift__sketch *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	s->B = B < 2 ? 2 : B + (B & 1);
	s->min = INFINITY;
	s->max = -INFINITY;
	*out = s;
	return 0;
}

void cnai_drift__sketch_free(struct cnai_drift__sketch *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < CNAI_SKETCH_LEVELS; i++)
		free(s->lev[i]);
	free(s);
}

static int ensure_level(struct cnai_drift__sketch *s, size_t h)
{
	if (h >= CNAI_SKETCH_LEVELS)
		return cnai_error_set(CNAI_ERROR, "quantile sketch is full");
	if (!s->lev[h] && !(s->lev[h] = malloc(s->B * sizeof(double))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (h + 1 > s->nlev)
		s->nlev = h + 1;
	return 0;
}

/* Halves full level h into level h + 1, cascading. */
static int compact(struct cnai_drift__sketch *s, size_t h)
{
	for (;;) {
		size_t i, off, half = s->B / 2;
		double *src = s->lev[h], *dst;
		int err;

		if ((err = cnai_drift__sort(src, s->len[h])) < 0 ||
		    (err = ensure_level(s, h + 1)) < 0)
			return err;
		off = s->parity++ & 1;
		dst = s->lev[h + 1] + s->len[h + 1];
		for (i = 0; i < half; i++)
			dst[i] = src[2 * i + off];
		s->len[h + 1] += half;
		s->len[h] = 0;
		s->err += ldexp(1.0, (int)h);
		if (s->len[h + 1] < s->B)
			return 0;
		h++;
	}
}

static void small_add(struct cnai_drift__sketch *s, double v)
{
	size_t i;

	if (s->small_overflow)
		return;
	for (i = 0; i < s->nsmall; i++)
		if (s->small[i] == v) {
			s->small_count[i]++;
			return;
		}
	if (s->nsmall == CNAI_SKETCH_SMALL) {
		s->small_overflow = 1;
		return;
	}
	s->small[s->nsmall] = v;
	s->small_count[s->nsmall++] = 1;
}

int cnai_drift__sketch_add(struct cnai_drift__sketch *s, double v)
{
	long double d;
	int err;

	s->n++;
	d = v - s->mean;
	s->mean += d / s->n;
	s->m2 += d * (v - s->mean);
	if (v < s->min)
		s->min = v;
	if (v > s->max)
		s->max = v;
	small_add(s, v);
	if (!s->lev[0] && (err = ensure_level(s, 0)) < 0)
		return err;
	s->lev[0][s->len[0]++] = v;
	if (s->len[0] == s->B)
		return compact(s, 0);
	return 0;
}

double cnai_drift__sketch_eps(const struct cnai_drift__sketch *s)
{
	return s->n ? s->err / (double)s->n : 0;
}

struct vw {
	double v, w;
};

static int cmp_vw(const void *a, const void *b)
{
	double x = ((const struct vw *)a)->v, y = ((const struct vw *)b)->v;

	return (x > y) - (x < y);
}

int cnai_drift__sketch_sample(double **vout, double **wout, size_t *nout,
			      const struct cnai_drift__sketch *s)
{
	size_t total = 0, h, i, k = 0, m = 0;
	struct vw *all;
	double *v, *w;

	for (h = 0; h < s->nlev; h++)
		total += s->len[h];
	if (!(all = malloc((total + 1) * sizeof(*all))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (h = 0; h < s->nlev; h++)
		for (i = 0; i < s->len[h]; i++) {
			all[k].v = s->lev[h][i];
			all[k++].w = ldexp(1.0, (int)h);
		}
	qsort(all, total, sizeof(*all), cmp_vw);
	v = malloc((total + 1) * sizeof(*v));
	w = malloc((total + 1) * sizeof(*w));
	if (!v || !w) {
		free(all);
		free(v);
		free(w);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	for (i = 0; i < total; i++) {
		if (m && v[m - 1] == all[i].v) {
			w[m - 1] += all[i].w;
			continue;
		}
		v[m] = all[i].v;
		w[m++] = all[i].w;
	}
	free(all);
	*vout = v;
	*wout = w;
	*nout = m;
	return 0;
}
