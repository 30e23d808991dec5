/*
 * The drift engine: reads both sides in parallel (core/drift/read.c),
 * types each column, picks its test the way Evidently does, runs the
 * tests on all cores, and applies the data-set rule. The rules and their
 * sources are written down in shared/research/drift-reference.md; each
 * rule below names the Evidently function it reproduces.
 */
#include "core/drift/drift.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/drift/read.h"
#include "core/drift/stats.h"
#include "core/util/error.h"
#include "core/util/banned.h"

static const struct {
	const char *name;
	enum cnai_drift_method m;
} method_names[] = {
	{ "auto", CNAI_DRIFT_AUTO },
	{ "ks", CNAI_DRIFT_KS },
	{ "chisquare", CNAI_DRIFT_CHISQUARE },
	{ "chi2", CNAI_DRIFT_CHI2 },
	{ "z", CNAI_DRIFT_Z },
	{ "psi", CNAI_DRIFT_PSI },
	{ "jensenshannon", CNAI_DRIFT_JS },
	{ "wasserstein", CNAI_DRIFT_WASSERSTEIN },
	{ "kl_div", CNAI_DRIFT_KL },
	{ "hellinger", CNAI_DRIFT_HELLINGER },
	{ "anderson", CNAI_DRIFT_ANDERSON },
	{ "cramer_von_mises", CNAI_DRIFT_CVM },
	{ "ed", CNAI_DRIFT_ENERGY },
	/* aliases */
	{ "js", CNAI_DRIFT_JS },
	{ "kl", CNAI_DRIFT_KL },
	{ "cvm", CNAI_DRIFT_CVM },
	{ "energy", CNAI_DRIFT_ENERGY },
	{ "ztest", CNAI_DRIFT_Z },
};

int cnai_drift_method_parse(enum cnai_drift_method *out, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(method_names) / sizeof(*method_names); i++)
		if (!strcmp(name, method_names[i].name)) {
			*out = method_names[i].m;
			return 0;
		}
	return cnai_error_set(CNAI_EUSAGE,
			      "unknown drift method '%s' (auto, ks, chisquare, "
			      "chi2, z, psi, jensenshannon, wasserstein, kl_div, "
			      "hellinger, anderson, cramer_von_mises, ed)",
			      name);
}

const char *cnai_drift_method_name(enum cnai_drift_method m)
{
	size_t i;

	for (i = 0; i < sizeof(method_names) / sizeof(*method_names); i++)
		if (method_names[i].m == m)
			return method_names[i].name;
	return "?";
}

int cnai_drift_method_is_pvalue(enum cnai_drift_method m)
{
	switch (m) {
	case CNAI_DRIFT_KS:
	case CNAI_DRIFT_CHISQUARE:
	case CNAI_DRIFT_CHI2:
	case CNAI_DRIFT_Z:
	case CNAI_DRIFT_ANDERSON:
	case CNAI_DRIFT_CVM:
		return 1;
	default:
		return 0;
	}
}

/* StatTest.default_threshold of each Evidently test */
double cnai_drift_method_threshold(enum cnai_drift_method m)
{
	switch (m) {
	case CNAI_DRIFT_KS:
	case CNAI_DRIFT_CHISQUARE:
	case CNAI_DRIFT_CHI2:
	case CNAI_DRIFT_Z:
		return 0.05;
	default:
		return 0.1;
	}
}

static int numeric_only(enum cnai_drift_method m)
{
	return m == CNAI_DRIFT_KS || m == CNAI_DRIFT_WASSERSTEIN ||
	       m == CNAI_DRIFT_ANDERSON || m == CNAI_DRIFT_CVM ||
	       m == CNAI_DRIFT_ENERGY;
}

int cnai_drift_column_method_parse(struct cnai_drift_column_method *out,
				   char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		return cnai_error_set(CNAI_EUSAGE, "--column-method: expected "
				      "<column>=<method>, got '%s'", arg);
	*eq = '\0';
	out->column = arg;
	return cnai_drift_method_parse(&out->method, eq + 1);
}

void cnai_drift_metric_key(char *out, size_t size, const char *col,
			   const char *stat)
{
	size_t i, n;

	n = (size_t)snprintf(out, size, "drift.%s.%s", col, stat);
	if (n >= size)
		n = size - 1;
	/* keys take MLflow's characters; others become '_' */
	for (i = 6; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.' || c == ' ' || c == '/' || c == ':'))
			out[i] = '_';
	}
}

void cnai_drift_options_init(struct cnai_drift_options *o)
{
	memset(o, 0, sizeof(*o));
	o->threshold = NAN;
	o->drift_share = 0.5;
	o->exact_limit = 1000000;
	o->max_categories = 1000;
}

double cnai_drift_severity(const struct cnai_drift_column *c)
{
	if (!c->evaluated || isnan(c->score))
		return -1;
	if (cnai_drift_method_is_pvalue(c->method)) {
		if (c->score <= 0)
			return INFINITY;
		if (c->threshold <= 0 || c->threshold >= 1)
			return c->score <= c->threshold ? 2 : 0;
		return log(c->score) / log(c->threshold);
	}
	if (c->threshold <= 0)
		return c->score > 0 ? INFINITY : 0;
	return c->score / c->threshold;
}

size_t *cnai_drift_severity_order(const struct cnai_drift_report *r)
{
	size_t *order = malloc((r->ncols + 1) * sizeof(*order)), i;

	if (!order)
		return NULL;
	for (i = 0; i < r->ncols; i++)
		order[i] = i;
	/* insertion sort: stable, and reports have tens of columns */
	for (i = 1; i < r->ncols; i++) {
		size_t j = i, t = order[i];

		while (j > 0 && cnai_drift_severity(&r->cols[order[j - 1]]) <
					cnai_drift_severity(&r->cols[t])) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = t;
	}
	return order;
}

/* ---- samples ---------------------------------------------------------- */

/*
 * One side of a numeric column: sorted values with weights. Exact: every
 * value, w NULL (each weighs 1). Past --exact-limit: the distinct values
 * and exact counts while the column has at most 64 of them, else the
 * quantile sketch's weighted sample (`approx`, rank error <= eps).
 */
struct sample {
	double *v, *w;
	size_t n;
	int64_t count;    /* number of values */
	int64_t distinct; /* -1: more than 64 (sketch) */
	int approx;
	double eps;
	double min, max, mean, std;
	int owned; /* v and w are ours to free */
};

static int64_t distinct_sorted(const double *v, size_t n)
{
	int64_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (i == 0 || v[i] != v[i - 1])
			d++;
	return d;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int make_sample(struct sample *s, struct cnai_drift__col *c)
{
	const struct cnai_drift__sketch *sk = c->sk;
	long double sum = 0, ss = 0, m;
	size_t i;
	int err;

	memset(s, 0, sizeof(*s));
	if (!sk) {
		if ((err = cnai_drift__col_sorted(c)) < 0)
			return err;
		s->v = c->v;
		s->n = c->n;
		s->count = (int64_t)c->n;
		s->distinct = distinct_sorted(c->v, c->n);
		if (c->n) {
			s->min = c->v[0];
			s->max = c->v[c->n - 1];
		}
		for (i = 0; i < c->n; i++)
			sum += c->v[i];
		s->mean = c->n ? (double)(sum / c->n) : NAN;
		s->std = cnai_stat_std(c->v, c->n);
		return 0;
	}
	s->count = (int64_t)sk->n;
	s->min = sk->min;
	s->max = sk->max;
	s->owned = 1;
	if (!sk->small_overflow) {
		double vals[CNAI_SKETCH_SMALL];

		s->v = malloc(CNAI_SKETCH_SMALL * sizeof(double));
		s->w = malloc(CNAI_SKETCH_SMALL * sizeof(double));
		if (!s->v || !s->w)
			return cnai_error_set(CNAI_ERROR, "out of memory");
		memcpy(vals, sk->small, sk->nsmall * sizeof(double));
		qsort(vals, sk->nsmall, sizeof(double), cmp_double);
		for (i = 0; i < sk->nsmall; i++) {
			size_t k;

			for (k = 0; sk->small[k] != vals[i]; k++)
				;
			s->v[i] = vals[i];
			s->w[i] = (double)sk->small_count[k];
			sum += (long double)s->w[i] * s->v[i];
		}
		s->n = sk->nsmall;
		s->distinct = (int64_t)sk->nsmall;
		m = sum / s->count;
		for (i = 0; i < s->n; i++)
			ss += s->w[i] * (s->v[i] - m) * (s->v[i] - m);
		s->mean = (double)m;
		s->std = (double)sqrtl(ss / s->count);
		return 0;
	}
	if ((err = cnai_drift__sketch_sample(&s->v, &s->w, &s->n, sk)) < 0)
		return err;
	s->approx = 1;
	s->eps = cnai_drift__sketch_eps(sk);
	s->distinct = -1;
	s->mean = (double)sk->mean;
	s->std = (double)sqrtl(sk->m2 / sk->n);
	return 0;
}

static void sample_release(struct sample *s)
{
	if (s->owned) {
		free(s->v);
		free(s->w);
	}
	memset(s, 0, sizeof(*s));
}

/* Distinct values of two exact sorted samples together. */
static int64_t union_distinct(const struct sample *a, const struct sample *b)
{
	size_t i = 0, j = 0;
	int64_t d = 0;

	while (i < a->n || j < b->n) {
		double v = (j >= b->n || (i < a->n && a->v[i] <= b->v[j]))
				   ? a->v[i]
				   : b->v[j];

		d++;
		while (i < a->n && a->v[i] == v)
			i++;
		while (j < b->n && b->v[j] == v)
			j++;
	}
	return d;
}

static double weight_at(const struct sample *s, size_t i)
{
	return s->w ? s->w[i] : 1.0;
}

/* ---- categories ------------------------------------------------------ */

struct cat {
	const char *label; /* string key, or NULL for numeric */
	double key;
	int64_t ref, cur;
};

struct catset {
	struct cat *c;
	size_t n;
};

static int cmp_cat_str(const void *a, const void *b)
{
	return strcmp(((const struct cat *)a)->label,
		      ((const struct cat *)b)->label);
}

/* Categories of two exact numeric samples: one per distinct value. */
static int cats_from_samples(struct catset *cs, const struct sample *a,
			     const struct sample *b)
{
	size_t i = 0, j = 0, cap = 16;

	cs->n = 0;
	if (!(cs->c = malloc(cap * sizeof(*cs->c))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	while (i < a->n || j < b->n) {
		double v = (j >= b->n || (i < a->n && a->v[i] <= b->v[j]))
				   ? a->v[i]
				   : b->v[j];
		struct cat *c;

		if (cs->n == cap) {
			struct cat *g = realloc(cs->c, 2 * cap * sizeof(*g));

			if (!g)
				return cnai_error_set(CNAI_ERROR,
						      "out of memory");
			cs->c = g;
			cap *= 2;
		}
		c = &cs->c[cs->n++];
		c->label = NULL;
		c->key = v;
		c->ref = c->cur = 0;
		while (i < a->n && a->v[i] == v)
			c->ref += (int64_t)weight_at(a, i++);
		while (j < b->n && b->v[j] == v)
			c->cur += (int64_t)weight_at(b, j++);
	}
	return 0;
}

static int map_from_numbers(struct cnai_drift__map *m, const double *v,
			    size_t n)
{
	char buf[40];
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		cnai_drift__format(buf, sizeof(buf), v[i]);
		if ((err = cnai_drift__map_add(m, buf, strlen(buf), 1)) < 0)
			return err;
	}
	return 0;
}

static int cats_from_maps(struct catset *cs, const struct cnai_drift__map *r,
			  const struct cnai_drift__map *c)
{
	size_t i, k = 0;

	if (!(cs->c = calloc(r->n + c->n + 1, sizeof(*cs->c))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < r->cap; i++) {
		const struct cnai_drift__entry *e = &r->e[i], *o;

		if (!e->key)
			continue;
		o = cnai_drift__map_get(c, e->key, e->len);
		cs->c[k].label = e->key;
		cs->c[k].ref = e->count;
		cs->c[k].cur = o ? o->count : 0;
		k++;
	}
	for (i = 0; i < c->cap; i++) {
		const struct cnai_drift__entry *e = &c->e[i];

		if (!e->key || cnai_drift__map_get(r, e->key, e->len))
			continue;
		cs->c[k].label = e->key;
		cs->c[k].cur = e->count;
		k++;
	}
	cs->n = k;
	qsort(cs->c, k, sizeof(*cs->c), cmp_cat_str);
	return 0;
}

static void cat_label(char *out, size_t size, const struct cat *c)
{
	if (c->label)
		snprintf(out, size, "%s", c->label);
	else
		cnai_drift__format(out, size, c->key);
}

static int cmp_cat_total(const void *x, const void *y)
{
	const struct cat *a = x, *b = y;
	int64_t ta = a->ref + a->cur, tb = b->ref + b->cur;

	if (ta != tb)
		return (ta < tb) - (ta > tb);
	if (a->label && b->label)
		return strcmp(a->label, b->label);
	return (a->key > b->key) - (a->key < b->key);
}

/*
 * More than `max` categories: the `max` most frequent (both files
 * together) are kept by name, the rest are counted as one "(other)".
 */
static void fold_categories(struct catset *cs, size_t max)
{
	int64_t oref = 0, ocur = 0;
	size_t i;

	if (cs->n <= max)
		return;
	qsort(cs->c, cs->n, sizeof(*cs->c), cmp_cat_total);
	for (i = max; i < cs->n; i++) {
		oref += cs->c[i].ref;
		ocur += cs->c[i].cur;
	}
	cs->c[max].label = "(other)";
	cs->c[max].ref = oref;
	cs->c[max].cur = ocur;
	cs->n = max + 1;
}

/* ---- one column ------------------------------------------------------ */

struct job {
	const struct cnai_drift_options *o;
	struct cnai_drift__col *r, *c; /* reference, current */
	struct cnai_drift_column *out;
	enum cnai_drift_method want; /* AUTO unless asked */
	int want_strict;             /* asked per column: wrong type = error */
	int force_cat;
	const char *ref_name, *cur_name;
	int err;
	char errmsg[1024];
};

static int set_note(struct cnai_drift_column *out, const char *file)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "no values in %s", file);
	if (!(out->note = strdup(buf)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	return 0;
}

static int add_bar(struct cnai_drift_column *out, const char *label,
		   double lo, double hi, double ref, double cur)
{
	struct cnai_drift_bar *g =
		realloc(out->bars, (out->nbars + 1) * sizeof(*g));

	if (!g)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	out->bars = g;
	g[out->nbars].label = label ? strdup(label) : NULL;
	g[out->nbars].lo = lo;
	g[out->nbars].hi = hi;
	g[out->nbars].ref = ref;
	g[out->nbars].cur = cur;
	out->nbars++;
	return 0;
}

/* Values below x in a sorted sample (lower bound). */
static size_t count_below(const struct sample *s, double x)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Counts per bin as numpy.histogram gives them: bin i holds
 * edges[i] <= x < edges[i + 1], the last bin also its right edge (numpy's
 * index arithmetic with its two corrections comes to exactly these
 * comparisons). A sorted sample needs a binary search per edge only.
 */
static void bin_counts(double *out, const double *edges, size_t nb,
		       const struct sample *s)
{
	size_t i, k;

	memset(out, 0, nb * sizeof(*out));
	if (s->w) {
		for (i = 0; i < s->n; i++)
			out[cnai_stat_hist_bin(edges, nb, s->v[i])] += s->w[i];
		return;
	}
	for (k = 0; k < nb; k++) {
		size_t from = count_below(s, edges[k]),
		       to = k + 1 < nb ? count_below(s, edges[k + 1]) : s->n;

		out[k] = (double)(to - from);
	}
}

/* Equal-width bins over the combined range (numpy's Sturges rule for
 * `n_for_rule` values); counts weighted. */
static void sturges_counts(double *edges, size_t *nb, double *rc, double *cc,
			   const struct sample *a, const struct sample *b,
			   size_t n_for_rule)
{
	double lo = fmin(a->min, b->min), hi = fmax(a->max, b->max);

	cnai_stat_sturges_edges(edges, nb, lo, hi, n_for_rule);
	bin_counts(rc, edges, *nb, a);
	bin_counts(cc, edges, *nb, b);
}

static int chart_numeric(struct cnai_drift_column *out, const struct sample *a,
			 const struct sample *b)
{
	double edges[130], rc[130], cc[130];
	size_t k, i;
	int err;

	sturges_counts(edges, &k, rc, cc, a, b,
		       (size_t)(a->count + b->count));
	out->numeric_bars = 1;
	for (i = 0; i < k; i++)
		if ((err = add_bar(out, NULL, edges[i], edges[i + 1],
				   rc[i] / (double)a->count,
				   cc[i] / (double)b->count)) < 0)
			return err;
	return 0;
}

static int chart_categories(struct cnai_drift_column *out,
			    const struct catset *cs, int64_t nref, int64_t ncur)
{
	struct cat *c = malloc((cs->n + 1) * sizeof(*c));
	int64_t oref = 0, ocur = 0;
	char label[64];
	size_t i;
	int err = 0;

	if (!c)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	memcpy(c, cs->c, cs->n * sizeof(*c));
	if (cs->n > 20)
		qsort(c, cs->n, sizeof(*c), cmp_cat_total);
	for (i = 0; i < cs->n && err == 0; i++) {
		if (i >= 20) {
			oref += c[i].ref;
			ocur += c[i].cur;
			continue;
		}
		cat_label(label, sizeof(label), &c[i]);
		err = add_bar(out, label, 0, 0, (double)c[i].ref / (double)nref,
			      (double)c[i].cur / (double)ncur);
	}
	if (err == 0 && cs->n > 20)
		err = add_bar(out, "(more)", 0, 0, (double)oref / (double)nref,
			      (double)ocur / (double)ncur);
	free(c);
	return err;
}

/*
 * Shares per bin for psi/jensenshannon/kl_div (Evidently's
 * utils.get_binned_data): Sturges bins over both samples for a numerical
 * column whose reference has more than 20 distinct values, else one bin
 * per distinct value of either sample.
 */
static int binned_shares(double **p_out, double **q_out, size_t *k_out,
			 int sturges, const struct sample *a,
			 const struct sample *b, const struct catset *cs,
			 int64_t nref, int64_t ncur)
{
	double *p = NULL, *q = NULL, edges[130], rc[130], cc[130];
	size_t k, i;

	if (sturges) {
		sturges_counts(edges, &k, rc, cc, a, b,
			       (size_t)(a->count + b->count));
		p = malloc(k * sizeof(*p));
		q = malloc(k * sizeof(*q));
		if (!p || !q)
			goto oom;
		for (i = 0; i < k; i++) {
			p[i] = rc[i] / (double)a->count;
			q[i] = cc[i] / (double)b->count;
		}
	} else {
		k = cs->n;
		p = malloc((k + 1) * sizeof(*p));
		q = malloc((k + 1) * sizeof(*q));
		if (!p || !q)
			goto oom;
		for (i = 0; i < k; i++) {
			p[i] = (double)cs->c[i].ref / (double)nref;
			q[i] = (double)cs->c[i].cur / (double)ncur;
		}
	}
	*p_out = p;
	*q_out = q;
	*k_out = k;
	return 0;
oom:
	free(p);
	free(q);
	return cnai_error_set(CNAI_ERROR, "out of memory");
}

/* Hellinger distance (hellinger_distance.py): numerical columns over
 * Sturges bins of the distinct values, densities times the mean width. */
static double hellinger_numeric(const struct sample *a, const struct sample *b,
				size_t n_keys)
{
	double edges[130], rc[130], cc[130], w;
	long double s = 0;
	size_t nb, i;

	sturges_counts(edges, &nb, rc, cc, a, b, n_keys);
	w = (edges[nb] - edges[0]) / (double)nb;
	for (i = 0; i < nb; i++) {
		double db = edges[i + 1] - edges[i];
		double h1 = rc[i] / db / (double)a->count,
		       h2 = cc[i] / db / (double)b->count;

		s += sqrtl((long double)h1 * h2) * w;
	}
	s = s < 0 ? 0 : s > 1 ? 1 : s;
	return sqrt((double)(1 - s));
}

/* What the test of one column works on (run_job and its helpers). */
struct colwork {
	struct sample sa, sb;
	struct catset cs;
	struct cnai_drift__map rm, cm;
	int64_t nref, ncur, ref_distinct, cur_distinct, u;
	int numerical, have_cats, approx;
	double *p, *q; /* binned shares */
	size_t k;
};

/*
 * Both sides of a column: as samples when both are numbers, else as
 * counts per category (numbers as their text), with their sizes and
 * distinct values.
 */
static int load_sides(struct colwork *w, const struct job *j)
{
	struct cnai_drift__col *r = j->r, *c = j->c;
	struct cnai_drift_column *out = j->out;
	int err;

	if (r->numeric && c->numeric) {
		if ((err = make_sample(&w->sa, r)) < 0 ||
		    (err = make_sample(&w->sb, c)) < 0)
			return err;
		w->nref = w->sa.count;
		w->ncur = w->sb.count;
		w->ref_distinct =
			w->sa.distinct < 0 ? INT64_MAX : w->sa.distinct;
		w->cur_distinct =
			w->sb.distinct < 0 ? INT64_MAX : w->sb.distinct;
		out->ref_mean = w->sa.mean;
		out->cur_mean = w->sb.mean;
		out->ref_std = w->sa.std;
		out->cur_std = w->sb.std;
	} else {
		const struct cnai_drift__map *mr, *mc;
		size_t i;

		if ((r->numeric &&
		     ((err = cnai_drift__col_widen(r)) < 0 ||
		      (err = map_from_numbers(&w->rm, r->v, r->n)) < 0)) ||
		    (c->numeric &&
		     ((err = cnai_drift__col_widen(c)) < 0 ||
		      (err = map_from_numbers(&w->cm, c->v, c->n)) < 0)))
			return err;
		mr = r->numeric ? &w->rm : &r->map;
		mc = c->numeric ? &w->cm : &c->map;
		for (i = 0; i < mr->cap; i++)
			if (mr->e[i].key)
				w->nref += mr->e[i].count;
		for (i = 0; i < mc->cap; i++)
			if (mc->e[i].key)
				w->ncur += mc->e[i].count;
		w->ref_distinct = (int64_t)mr->n;
		w->cur_distinct = (int64_t)mc->n;
		if ((err = cats_from_maps(&w->cs, mr, mc)) < 0)
			return err;
		w->have_cats = 1;
	}
	return 0;
}

/*
 * The test for a column (legacy/calculations/stattests/registry.py,
 * _get_default_stattest): the one asked for, else Evidently's choice by
 * type, size and distinct values.
 */
static int choose_method(enum cnai_drift_method *out_m, const struct job *j,
			 const struct colwork *w)
{
	const struct cnai_drift_options *o = j->o;
	const struct cnai_drift_column *out = j->out;
	enum cnai_drift_method m;
	int err;

	m = j->want;
	if (m != CNAI_DRIFT_AUTO && !w->numerical && numeric_only(m)) {
		if (j->want_strict) {
			err = cnai_error_set(CNAI_EUSAGE,
					     "--column-method %s=%s: '%s' needs a "
					     "numerical column; '%s' is "
					     "categorical", out->name,
					     cnai_drift_method_name(m),
					     cnai_drift_method_name(m), out->name);
			return err;
		}
		m = CNAI_DRIFT_AUTO;
	}
	if (m == CNAI_DRIFT_AUTO) {
		if (w->nref <= 1000) {
			if (w->numerical)
				m = w->u < 0 || w->u > 5 ? CNAI_DRIFT_KS
				    : w->u > 2 ? CNAI_DRIFT_CHISQUARE
					       : CNAI_DRIFT_Z;
			else
				m = w->u > 2 ? CNAI_DRIFT_CHISQUARE
					     : CNAI_DRIFT_Z;
		} else {
			m = w->numerical && (w->u < 0 || w->u > 5)
				    ? CNAI_DRIFT_WASSERSTEIN
				    : CNAI_DRIFT_JS;
		}
	}
	if ((m == CNAI_DRIFT_ANDERSON || m == CNAI_DRIFT_CVM) &&
	    (w->sa.w || w->sb.w)) {
		err = cnai_error_set(CNAI_EUSAGE,
				     "column '%s': '%s' needs every value, and "
				     "the column has more than --exact-limit "
				     "(%llu); raise --exact-limit", out->name,
				     cnai_drift_method_name(m),
				     (unsigned long long)o->exact_limit);
		return err;
	}
	*out_m = m;
	return 0;
}

/* The chi-square tests, on counts per category. */
static int counts_test(struct cnai_drift_column *out, enum cnai_drift_method m,
		       const struct catset *cs)
{
	int64_t *rc = malloc(cs->n * sizeof(*rc)),
		*cc = malloc(cs->n * sizeof(*cc));
	size_t i;

	if (!rc || !cc) {
		free(rc);
		free(cc);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	for (i = 0; i < cs->n; i++) {
		rc[i] = cs->c[i].ref;
		cc[i] = cs->c[i].cur;
	}
	if (m == CNAI_DRIFT_CHISQUARE)
		cnai_stat_chisquare_gof(&out->statistic, &out->p_value,
					rc, cc, cs->n);
	else
		cnai_stat_chi2_contingency(&out->statistic,
					   &out->p_value, rc, cc, cs->n);
	free(rc);
	free(cc);
	out->stat_name = "chi2";
	out->score = out->p_value;
	out->drifted = out->score < out->threshold;
	return 0;
}

/* Runs test `m` on the column's data into `out`. */
static int run_test(struct cnai_drift_column *out, enum cnai_drift_method m,
		    struct colwork *w)
{
	int err;

	switch (m) {
	case CNAI_DRIFT_AUTO:
	case CNAI_DRIFT_NMETHODS:
		CNAI_BUG("no method chosen");
	case CNAI_DRIFT_KS: {
		struct cnai_ks_result ks;

		if ((err = cnai_stat_ks_weighted(&ks, w->sa.v, w->sa.w,
						 w->sa.n, w->nref, w->sb.v,
						 w->sb.w, w->sb.n,
						 w->ncur)) < 0)
			return err;
		out->stat_name = "ks_d";
		out->statistic = ks.statistic;
		out->p_value = out->score = ks.p_value;
		out->ks_mode = ks.mode == CNAI_KS_EXACT ? "exact" : "asymp";
		out->drifted = out->score <= out->threshold;
		break;
	}
	case CNAI_DRIFT_CHISQUARE:
	case CNAI_DRIFT_CHI2:
		return counts_test(out, m, &w->cs);
	case CNAI_DRIFT_Z:
		/* the smallest value is coded 0, the other 1 (z_stattest.py) */
		cnai_stat_ztest(&out->statistic, &out->p_value,
				w->nref - w->cs.c[0].ref, w->nref,
				w->ncur - w->cs.c[0].cur, w->ncur,
				w->cs.n == 1);
		out->stat_name = "z";
		out->score = out->p_value;
		out->drifted = out->score < out->threshold;
		break;
	case CNAI_DRIFT_PSI:
	case CNAI_DRIFT_JS:
	case CNAI_DRIFT_KL:
		if ((err = binned_shares(&w->p, &w->q, &w->k,
					 w->numerical && w->ref_distinct > 20,
					 &w->sa, &w->sb, &w->cs, w->nref,
					 w->ncur)) < 0)
			return err;
		if (m == CNAI_DRIFT_JS) {
			out->statistic =
				cnai_stat_jensenshannon(w->p, w->q, w->k);
			out->stat_name = "jensenshannon";
		} else {
			cnai_stat_fill_zeroes(w->p, w->k);
			cnai_stat_fill_zeroes(w->q, w->k);
			out->statistic =
				m == CNAI_DRIFT_PSI
					? cnai_stat_psi(w->p, w->q, w->k)
					: cnai_stat_kl(w->p, w->q, w->k);
			out->stat_name = m == CNAI_DRIFT_PSI ? "psi" : "kl_div";
		}
		out->score = out->statistic;
		out->drifted = out->score >= out->threshold;
		break;
	case CNAI_DRIFT_HELLINGER:
		if (w->numerical) {
			size_t keys = w->u >= 0 ? (size_t)w->u
						: w->sa.n + w->sb.n;

			out->statistic =
				hellinger_numeric(&w->sa, &w->sb, keys);
		} else {
			size_t i;
			long double s = 0;

			for (i = 0; i < w->cs.n; i++) {
				long double a = (long double)w->cs.c[i].ref,
					    b = (long double)w->cs.c[i].cur;

				s += sqrtl(a / w->nref * (b / w->ncur));
			}
			s = s < 0 ? 0 : s > 1 ? 1 : s;
			out->statistic = sqrt((double)(1 - s));
		}
		out->stat_name = "hellinger";
		out->score = out->statistic;
		out->drifted = out->score >= out->threshold;
		break;
	case CNAI_DRIFT_WASSERSTEIN: {
		double d = cnai_stat_wasserstein_weighted(
			w->sa.v, w->sa.w, w->sa.n, (double)w->nref, w->sb.v,
			w->sb.w, w->sb.n, (double)w->ncur);

		out->stat_name = "wasserstein";
		out->statistic = d;
		out->score = d / fmax(w->sa.std, 0.001);
		out->drifted = out->score >= out->threshold;
		break;
	}
	case CNAI_DRIFT_ENERGY:
		out->stat_name = "energy_distance";
		out->statistic = out->score = cnai_stat_energy_weighted(
			w->sa.v, w->sa.w, w->sa.n, (double)w->nref, w->sb.v,
			w->sb.w, w->sb.n, (double)w->ncur);
		out->drifted = out->score > out->threshold;
		break;
	case CNAI_DRIFT_ANDERSON:
		cnai_stat_anderson(&out->statistic, &out->p_value, w->sa.v,
				   w->sa.n, w->sb.v, w->sb.n);
		out->stat_name = "anderson_darling";
		out->score = out->p_value;
		out->drifted = out->score < out->threshold;
		break;
	case CNAI_DRIFT_CVM:
		cnai_stat_cvm(&out->statistic, &out->p_value, w->sa.v, w->sa.n,
			      w->sb.v, w->sb.n);
		out->stat_name = "cramer_von_mises";
		out->score = out->p_value;
		out->drifted = out->score <= out->threshold;
		break;
	}
	return 0;
}

static int run_job(struct job *j)
{
	const struct cnai_drift_options *o = j->o;
	struct cnai_drift__col *r = j->r, *c = j->c;
	struct cnai_drift_column *out = j->out;
	struct colwork w;
	enum cnai_drift_method m = CNAI_DRIFT_AUTO;
	int err = 0, from_numbers;

	memset(&w, 0, sizeof(w));
	out->ref_missing = r->missing;
	out->cur_missing = c->missing;
	out->p_value = NAN;
	out->statistic = NAN;
	out->score = NAN;
	out->ref_mean = out->cur_mean = out->ref_std = out->cur_std = NAN;
	/* types must agree: a numeric side against one with text is an
	 * error unless the column is declared categorical */
	if (!j->force_cat && r->numeric != c->numeric &&
	    ((r->numeric && (r->n || r->sk)) || (c->numeric && (c->n || c->sk)))) {
		struct cnai_drift__col *bad = r->numeric ? c : r;

		return cnai_error_set(
			CNAI_EINVALID,
			"%s:%llu: column '%s': '%s' is not a number (the column "
			"is numerical in %s; --categorical %s compares it as "
			"categories)", r->numeric ? j->cur_name : j->ref_name,
			(unsigned long long)bad->bad_line, out->name,
			bad->bad_value ? bad->bad_value : "",
			r->numeric ? j->ref_name : j->cur_name, out->name);
	}
	from_numbers = r->numeric && c->numeric;
	if ((err = load_sides(&w, j)) < 0)
		goto cleanup;
	w.approx = w.sa.approx || w.sb.approx;
	out->ref_count = w.nref;
	out->cur_count = w.ncur;
	/*
	 * Column type (Evidently >= 0.7, core/datasets.py infer_column_type,
	 * on the current data set): floats are numerical; a column pandas
	 * reads as integers with at most 10 distinct values is categorical;
	 * strings are categorical.
	 */
	w.numerical = from_numbers && !j->force_cat;
	if (w.numerical && c->isint && c->missing == 0 &&
	    w.cur_distinct <= 10 && !r->force_numeric)
		w.numerical = 0;
	out->type = w.numerical ? CNAI_DRIFT_NUMERICAL : CNAI_DRIFT_CATEGORICAL;
	if (w.nref == 0 || w.ncur == 0) {
		err = set_note(out, w.nref == 0 ? j->ref_name : j->cur_name);
		goto cleanup;
	}
	/* distinct values of both sides; -1: more than 64 on a sketched
	 * side, so many */
	w.u = w.have_cats ? (int64_t)w.cs.n
	      : w.approx  ? -1
			  : union_distinct(&w.sa, &w.sb);
	out->n_unique = w.u;
	if (w.have_cats && !w.numerical)
		fold_categories(&w.cs, o->max_categories);
	out->sketch = w.approx;
	out->rank_error = w.sa.eps + w.sb.eps;
	if ((err = choose_method(&m, j, &w)) < 0)
		goto cleanup;
	/* counts per value, for the tests and bins that take them */
	if (!w.have_cats && !w.approx &&
	    (!w.numerical || m == CNAI_DRIFT_CHISQUARE ||
	     m == CNAI_DRIFT_CHI2 || m == CNAI_DRIFT_Z || w.u <= 20 ||
	     ((m == CNAI_DRIFT_PSI || m == CNAI_DRIFT_JS ||
	       m == CNAI_DRIFT_KL) && w.ref_distinct <= 20))) {
		if ((err = cats_from_samples(&w.cs, &w.sa, &w.sb)) < 0)
			goto cleanup;
		w.have_cats = 1;
		if (!w.numerical)
			fold_categories(&w.cs, o->max_categories);
	}
	if (!w.have_cats && (m == CNAI_DRIFT_CHISQUARE ||
			     m == CNAI_DRIFT_CHI2 || m == CNAI_DRIFT_Z)) {
		err = cnai_error_set(CNAI_EUSAGE,
				     "column '%s': '%s' needs counts per value, "
				     "and the column has more distinct values "
				     "than the sketch counts (64); raise "
				     "--exact-limit", out->name,
				     cnai_drift_method_name(m));
		goto cleanup;
	}
	if (m == CNAI_DRIFT_Z && w.cs.n > 2) {
		err = cnai_error_set(CNAI_EUSAGE,
				     "column '%s': the Z-test needs at most two "
				     "distinct values, found %zu", out->name,
				     w.cs.n);
		goto cleanup;
	}
	out->method = m;
	out->threshold = isnan(o->threshold) ? cnai_drift_method_threshold(m)
					     : o->threshold;
	out->evaluated = 1;
	if ((err = run_test(out, m, &w)) < 0)
		goto cleanup;
	/* the chart */
	if (w.numerical && (w.u < 0 || w.u > 20))
		err = chart_numeric(out, &w.sa, &w.sb);
	else
		err = chart_categories(out, &w.cs, w.nref, w.ncur);
cleanup:
	free(w.p);
	free(w.q);
	free(w.cs.c);
	sample_release(&w.sa);
	sample_release(&w.sb);
	cnai_drift__map_release(&w.rm);
	cnai_drift__map_release(&w.cm);
	/* the values are no longer needed: free them early */
	cnai_drift__col_free_values(r);
	cnai_drift__col_free_values(c);
	return err;
}

struct pool {
	struct job *jobs;
	size_t n;
	atomic_size_t next;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n) {
		struct job *j = &p->jobs[i];
		int err = run_job(j);

		if (err < 0) {
			const struct cnai_error *e = cnai_error_last();

			j->err = err;
			snprintf(j->errmsg, sizeof(j->errmsg), "%s",
				 e ? e->message : cnai_strerror(err));
		}
	}
	return NULL;
}

static int pass_error(int err, const char *msg)
{
	return cnai_error_set(err, "%s", msg);
}

static int input_from_side(struct cnai_drift_input *in,
			   const struct cnai_drift__side *s)
{
	json_t *schema = json_array();
	size_t i;

	if (!(in->path = strdup(s->display)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	memcpy(in->digest, s->digest, sizeof(in->digest));
	in->size = s->size;
	in->rows = s->rows;
	in->columns = (int64_t)s->nheader;
	for (i = 0; i < s->nheader; i++) {
		int numeric = s->colof[i] == SIZE_MAX ||
			      s->cols[s->colof[i]].numeric;

		json_array_append_new(schema,
				      json_pack("{s:s, s:s}", "name",
						s->header[i], "type",
						numeric ? "number" : "string"));
	}
	in->schema = json_dumps(schema, JSON_COMPACT);
	json_decref(schema);
	return 0;
}

static int in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return 1;
	return 0;
}

static int header_has(const struct cnai_drift__side *s, const char *name)
{
	return cnai_drift__map_get(&s->names, name, strlen(name)) != NULL;
}

static struct cnai_drift__col *side_col(struct cnai_drift__side *s,
					const char *name)
{
	const struct cnai_drift__entry *e =
		cnai_drift__map_get(&s->names, name, strlen(name));
	size_t c;

	if (!e || (c = s->colof[e->count - 1]) == SIZE_MAX)
		return NULL;
	return &s->cols[c];
}

/* Names given in options must be columns of both files. */
static int check_names(struct cnai_drift__side *r, struct cnai_drift__side *c,
		       const char *what, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *name = list[i];

		if (!header_has(r, name) && !header_has(c, name))
			return cnai_error_set(CNAI_EUSAGE,
					      "%s: no column '%s' in %s or %s",
					      what, name, r->display,
					      c->display);
	}
	return 0;
}

/*
 * The data set's verdict (legacy/calculations/data_drift.py,
 * get_dataset_drift): the share of drifted columns among the evaluated
 * ones, and drift when it reaches drift_share. Counted afresh from the
 * columns, so a report that gains columns gets it right again.
 */
static void tally(struct cnai_drift_report *r)
{
	size_t i;

	r->evaluated = 0;
	r->drifted = 0;
	for (i = 0; i < r->ncols; i++) {
		r->evaluated += r->cols[i].evaluated;
		r->drifted += r->cols[i].evaluated && r->cols[i].drifted;
	}
	r->share = r->evaluated ? (double)r->drifted / (double)r->evaluated
				: 0;
	r->dataset_drift = r->evaluated > 0 && r->share >= r->drift_share;
}

int cnai_drift_report_merge(struct cnai_drift_report *r,
			    struct cnai_drift_report *from)
{
	struct cnai_drift_column *g;

	if (!from->ncols)
		return 0;
	if (!(g = realloc(r->cols, (r->ncols + from->ncols) * sizeof(*g))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	r->cols = g;
	memcpy(r->cols + r->ncols, from->cols, from->ncols * sizeof(*g));
	r->ncols += from->ncols;
	/* the columns moved: the report they came from keeps none */
	from->ncols = 0;
	tally(r);
	return 0;
}

/*
 * Reads both files, each in a thread of its own, into `sides` (released
 * by the caller either way), and checks the options' column names against
 * them: every selected column must be in both files.
 */
static int read_sides(struct cnai_drift__side sides[2],
		      const struct cnai_drift_options *o)
{
	pthread_t th[2];
	size_t i;
	int err = 0, started = 0;

	memset(sides, 0, 2 * sizeof(*sides));
	sides[0].path = o->ref_path;
	sides[1].path = o->cur_path;
	sides[0].o = sides[1].o = o;
	for (i = 0; i < 2; i++) {
		if (pthread_create(&th[i], NULL, cnai_drift__read_side,
				   &sides[i])) {
			err = cnai_error_set(CNAI_ERROR,
					     "cannot start a thread");
			break;
		}
		started++;
	}
	for (i = 0; i < (size_t)started; i++)
		pthread_join(th[i], NULL);
	if (err < 0)
		return err;
	for (i = 0; i < 2; i++)
		if (sides[i].err)
			return pass_error(sides[i].err, sides[i].errmsg);
	if ((err = check_names(&sides[0], &sides[1], "--columns", o->columns,
			       o->ncolumns)) < 0 ||
	    (err = check_names(&sides[0], &sides[1], "--categorical",
			       o->categorical, o->ncategorical)) < 0 ||
	    (err = check_names(&sides[0], &sides[1], "--numerical",
			       o->numerical, o->nnumerical)) < 0)
		return err;
	for (i = 0; i < o->ncolumn_methods; i++)
		if ((err = check_names(&sides[0], &sides[1], "--column-method",
				       &o->column_methods[i].column, 1)) < 0)
			return err;
	/* every selected column must be in both files */
	for (i = 0; i < 2; i++) {
		struct cnai_drift__side *s = &sides[i], *t = &sides[1 - i];
		size_t c;

		for (c = 0; c < s->ncols; c++)
			if (!side_col(t, s->cols[c].name))
				return cnai_error_set(
					CNAI_EINVALID,
					"column '%s' is in %s but not in %s",
					s->cols[c].name, s->display,
					t->display);
	}
	return 0;
}

/*
 * Runs the `n` jobs on up to `threads` workers (0: one a core, never more
 * than jobs); a pool that cannot start a thread runs them here.
 */
static int run_pool(struct job *jobs, size_t n, int threads)
{
	pthread_t *workers = NULL;
	struct pool pool;
	size_t i, nw;
	long ncpu;

	ncpu = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	nw = (size_t)ncpu < n ? (size_t)ncpu : n;
	pool.jobs = jobs;
	pool.n = n;
	atomic_init(&pool.next, 0);
	if (nw <= 1) {
		worker(&pool);
	} else {
		size_t started_w = 0;

		if (!(workers = calloc(nw, sizeof(*workers))))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		for (i = 0; i < nw; i++)
			if (!pthread_create(&workers[i], NULL, worker, &pool))
				started_w++;
			else
				break;
		if (started_w == 0)
			worker(&pool);
		for (i = 0; i < started_w; i++)
			pthread_join(workers[i], NULL);
	}
	free(workers);
	return 0;
}

int cnai_drift_run(struct cnai_drift_report **out,
		   const struct cnai_drift_options *o)
{
	struct cnai_drift__side sides[2];
	struct cnai_drift_report *rep = NULL;
	struct job *jobs = NULL;
	size_t i, nj = 0;
	int err = 0;

	*out = NULL;
	if (!strcmp(o->ref_path, "-") && !strcmp(o->cur_path, "-"))
		return cnai_error_set(CNAI_EUSAGE,
				      "only one side can be read from stdin "
				      "('-')");
	if ((err = read_sides(sides, o)) < 0)
		goto cleanup;
	if (!(rep = calloc(1, sizeof(*rep))) ||
	    !(rep->cols = calloc(sides[0].ncols + 1, sizeof(*rep->cols))) ||
	    !(jobs = calloc(sides[0].ncols + 1, sizeof(*jobs)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	rep->drift_share = o->drift_share;
	rep->exact_limit = o->exact_limit;
	if ((err = input_from_side(&rep->ref, &sides[0])) < 0 ||
	    (err = input_from_side(&rep->cur, &sides[1])) < 0)
		goto cleanup;
	for (i = 0; i < sides[0].ncols; i++) {
		struct job *j = &jobs[nj];
		const char *name = sides[0].cols[i].name;
		size_t k;

		j->o = o;
		j->r = &sides[0].cols[i];
		j->c = side_col(&sides[1], name);
		j->out = &rep->cols[nj];
		j->ref_name = sides[0].display;
		j->cur_name = sides[1].display;
		j->force_cat = in_list(name, o->categorical, o->ncategorical);
		j->want = o->method;
		for (k = 0; k < o->ncolumn_methods; k++)
			if (!strcmp(o->column_methods[k].column, name)) {
				j->want = o->column_methods[k].method;
				j->want_strict = 1;
			}
		if (!(j->out->name = strdup(name))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		rep->ncols = ++nj;
	}
	if ((err = run_pool(jobs, nj, o->threads)) < 0)
		goto cleanup;
	/* the first failing column, in column order, decides the error */
	for (i = 0; i < nj; i++)
		if (jobs[i].err) {
			err = pass_error(jobs[i].err, jobs[i].errmsg);
			goto cleanup;
		}
	tally(rep);
cleanup:
	free(jobs);
	cnai_drift__side_release(&sides[0]);
	cnai_drift__side_release(&sides[1]);
	if (err < 0) {
		cnai_drift_report_free(rep);
		return err;
	}
	*out = rep;
	return 0;
}

void cnai_drift_report_free(struct cnai_drift_report *r)
{
	size_t i, b;

	if (!r)
		return;
	for (i = 0; i < r->ncols; i++) {
		free(r->cols[i].name);
		free(r->cols[i].note);
		for (b = 0; b < r->cols[i].nbars; b++)
			free(r->cols[i].bars[b].label);
		free(r->cols[i].bars);
	}
	free(r->cols);
	free(r->ref.path);
	free(r->cur.path);
	free(r->ref.schema);
	free(r->cur.schema);
	free(r);
}
