/*
 * Preprocessing learnt from the training rows: mean imputation and
 * standardisation of numeric columns, mode imputation and one-hot
 * encoding of string columns. Statistics are computed in double and kept
 * as float32, the precision the transform (here and in the ONNX graph)
 * works in.
 */
#include "core/ml/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

void cnai_ml_prep_release(struct cnai_ml_prep *p)
{
	size_t i, j;

	for (i = 0; p->f && i < p->n; i++) {
		free(p->f[i].name);
		for (j = 0; j < p->f[i].ncats; j++)
			free(p->f[i].cats[j]);
		free(p->f[i].cats);
	}
	free(p->f);
	memset(p, 0, sizeof(*p));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Means and standard deviations of every numeric feature in two passes
 * over the rows (row by row: the table is row-major, so this reads memory
 * in order, where a column at a time would stride through all of it).
 */
static int fit_numerics(struct cnai_ml_prep *p, const struct cnai_dtable *t,
			const size_t *cols, size_t ncols, const size_t *rows,
			size_t n)
{
	size_t k = p->nnumeric, i, j, m = 0;
	size_t *col = malloc((k ? k : 1) * sizeof(*col));
	size_t *cnt = calloc(k ? k : 1, sizeof(*cnt));
	double *sum = calloc(k ? k : 1, sizeof(*sum));
	double *sq = calloc(k ? k : 1, sizeof(*sq));
	int err = 0;

	if (!col || !cnt || !sum || !sq) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < ncols && m < k; i++)
		if (t->cols[cols[i]].type != CNAI_COL_STRING)
			col[m++] = cols[i];
	for (i = 0; i < n; i++) {
		const float *r = t->values + (rows ? rows[i] : i) * t->ncols;

		for (j = 0; j < k; j++) {
			float v = r[col[j]];

			if (!isnan(v)) {
				sum[j] += v;
				cnt[j]++;
			}
		}
	}
	for (j = 0; j < k; j++)
		sum[j] = cnt[j] ? sum[j] / (double)cnt[j] : 0.0;
	for (i = 0; i < n; i++) {
		const float *r = t->values + (rows ? rows[i] : i) * t->ncols;

		for (j = 0; j < k; j++) {
			float v = r[col[j]];

			if (!isnan(v))
				sq[j] += ((double)v - sum[j]) *
					 ((double)v - sum[j]);
		}
	}
	for (j = 0; j < k; j++) {
		struct cnai_ml_feature *f = &p->f[j];
		double var = cnt[j] ? sq[j] / (double)cnt[j] : 0.0;

		f->mean = (float)sum[j];
		f->fill = (float)sum[j];
		f->std = var > 1e-24 ? (float)sqrt(var) : 1.0f;
		if (!(f->std > 0) || !isfinite(f->std))
			f->std = 1.0f;
	}
cleanup:
	free(col);
	free(cnt);
	free(sum);
	free(sq);
	return err;
}

static int fit_categorical(struct cnai_ml_feature *f,
			   const struct cnai_dtable *t, size_t c,
			   const size_t *rows, size_t n)
{
	const struct cnai_col *col = &t->cols[c];
	size_t *count = calloc(col->ncats ? col->ncats : 1, sizeof(*count));
	size_t i, best = 0;
	long best_count = -1;

	if (!count)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < n; i++) {
		float v = t->values[(rows ? rows[i] : i) * t->ncols + c];

		if (!isnan(v))
			count[(size_t)v]++;
	}
	if (!(f->cats = calloc(col->ncats ? col->ncats : 1, sizeof(char *)))) {
		free(count);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	for (i = 0; i < col->ncats; i++)
		if (count[i] && !(f->cats[f->ncats++] = strdup(col->cats[i]))) {
			free(count);
			return cnai_error_set(CNAI_ERROR, "out of memory");
		}
	qsort(f->cats, f->ncats, sizeof(char *), cmp_str);
	/* the mode; ties go to the first in sorted order */
	for (i = 0; i < f->ncats; i++) {
		long k = cnai_dtable_cat(t, c, f->cats[i]);

		if (k >= 0 && (long)count[k] > best_count) {
			best_count = (long)count[k];
			best = i;
		}
	}
	f->mode = best;
	free(count);
	return 0;
}

int cnai_ml_prep_fit(struct cnai_ml_prep *p, const struct cnai_dtable *t,
		     const size_t *cols, size_t ncols, const size_t *rows,
		     size_t n)
{
	size_t i, k = 0, pass;
	int err;

	memset(p, 0, sizeof(*p));
	if (!(p->f = calloc(ncols ? ncols : 1, sizeof(*p->f))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	/* numeric first, then categorical, each in the order given */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < ncols; i++) {
			const struct cnai_col *col = &t->cols[cols[i]];
			int cat = col->type == CNAI_COL_STRING;
			struct cnai_ml_feature *f;

			if (cat != (int)pass)
				continue;
			f = &p->f[k++];
			p->n = k;
			f->categorical = cat;
			if (!(f->name = strdup(col->name)))
				return cnai_error_set(CNAI_ERROR,
						      "out of memory");
			err = cat ? fit_categorical(f, t, cols[i], rows, n)
				  : 0; /* numeric: below, all at once */
			if (err < 0)
				return err;
			if (!cat)
				p->nnumeric++;
			p->width += cat ? f->ncats : 1;
		}
	if (!p->width)
		return cnai_error_set(CNAI_EINVALID,
				      "%s: no feature columns", t->path);
	return fit_numerics(p, t, cols, ncols, rows, n);
}

int cnai_ml_prep_table_opts(const struct cnai_ml_prep *p, const char ***names,
			    enum cnai_col_type **types)
{
	size_t i;

	*names = calloc(p->n ? p->n : 1, sizeof(**names));
	*types = calloc(p->n ? p->n : 1, sizeof(**types));
	if (!*names || !*types) {
		free(*names);
		free(*types);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	for (i = 0; i < p->n; i++) {
		(*names)[i] = p->f[i].name;
		(*types)[i] = p->f[i].categorical ? CNAI_COL_STRING
						  : CNAI_COL_NUMBER;
	}
	return 0;
}

int cnai_ml_prep_transform(const struct cnai_ml_prep *p,
			   const struct cnai_dtable *t, const size_t *rows,
			   size_t n, float *out,
			   struct cnai_ml_prep_stats *stats)
{
	size_t i, j, off = 0;
	int err = 0;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	for (j = 0; j < p->n; j++) {
		const struct cnai_ml_feature *f = &p->f[j];
		long c = cnai_dtable_find(t, f->name);

		if (c < 0)
			return cnai_error_set(CNAI_EINVALID,
					      "%s: no column '%s' (a feature "
					      "of the model)", t->path,
					      f->name);
		if (f->categorical != (t->cols[c].type == CNAI_COL_STRING))
			return cnai_error_set(CNAI_EINVALID,
					      "%s: column '%s' should hold %s",
					      t->path, f->name,
					      f->categorical ? "strings"
							     : "numbers");
		if (!f->categorical) {
			for (i = 0; i < n; i++) {
				size_t r = rows ? rows[i] : i;
				float v = t->values[r * t->ncols + c];

				if (isnan(v)) {
					v = f->fill;
					if (stats)
						stats->imputed++;
				}
				out[i * p->width + off] = (v - f->mean) / f->std;
			}
			off++;
		} else {
			/* table category index -> model category index */
			const struct cnai_col *col = &t->cols[c];
			long *map = malloc((col->ncats ? col->ncats : 1) *
					   sizeof(*map));
			size_t k;

			if (!map)
				return cnai_error_set(CNAI_ERROR,
						      "out of memory");
			for (k = 0; k < col->ncats; k++) {
				char *const *hit = bsearch(
					&col->cats[k], f->cats, f->ncats,
					sizeof(char *), cmp_str);

				map[k] = hit ? hit - f->cats : -1;
			}
			for (i = 0; i < n; i++) {
				size_t r = rows ? rows[i] : i;
				float v = t->values[r * t->ncols + c];
				float *o = out + i * p->width + off;
				long m;

				memset(o, 0, f->ncats * sizeof(float));
				if (isnan(v)) {
					m = (long)f->mode;
					if (stats)
						stats->imputed++;
				} else if ((m = map[(size_t)v]) < 0) {
					if (stats)
						stats->unknown++;
					continue;
				}
				o[m] = 1.0f;
			}
			free(map);
			off += f->ncats;
		}
	}
	return err;
}

int cnai_ml_prep_transform_inplace(float **out, const struct cnai_ml_prep *p,
				   struct cnai_dtable *t,
				   struct cnai_ml_prep_stats *stats)
{
	size_t *col = malloc((p->n ? p->n : 1) * sizeof(*col));
	float *row = malloc(t->ncols * sizeof(*row)), *shrunk;
	size_t i, j;

	*out = NULL;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (!col || !row) {
		free(col);
		free(row);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	for (j = 0; j < p->n; j++) {
		long c = cnai_dtable_find(t, p->f[j].name);

		if (c < 0 || p->f[j].categorical ||
		    t->cols[c].type == CNAI_COL_STRING || p->width > t->ncols) {
			free(col);
			free(row);
			return cnai_error_set(CNAI_EINVALID,
					      "%s: column '%s' cannot be "
					      "encoded in place", t->path,
					      p->f[j].name);
		}
		col[j] = (size_t)c;
	}
	/* Row r's output ends at or before row r+1's input starts. */
	for (i = 0; i < t->nrows; i++) {
		float *o = t->values + i * p->width;

		memcpy(row, t->values + i * t->ncols, t->ncols * sizeof(float));
		for (j = 0; j < p->n; j++) {
			const struct cnai_ml_feature *f = &p->f[j];
			float v = row[col[j]];

			if (isnan(v)) {
				v = f->fill;
				if (stats)
					stats->imputed++;
			}
			o[j] = (v - f->mean) / f->std;
		}
	}
	free(col);
	free(row);
	shrunk = realloc(t->values,
			 (t->nrows ? t->nrows : 1) * p->width * sizeof(float));
	*out = shrunk ? shrunk : t->values;
	t->values = NULL;
	return 0;
}
