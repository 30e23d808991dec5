/*
 * Loading the data of one 'cnai train' (see trainset.h): read, choose the
 * features, plan the task, split, encode, hash. The preprocessing is fit
 * on the training rows only, so validation scores are honest; a numeric
 * file without --valid is encoded in place to halve the peak memory of a
 * large file.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/data/csv.h"
#include "core/ml/infer.h"
#include "core/ml/split.h"
#include "core/ml/task.h"
#include "core/ml/trainset.h"
#include "core/util/error.h"
#include "core/util/banned.h"

#define V(k) (c->v[CNAI_TK_##k])

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void cnai_trainset_release(struct cnai_trainset *d)
{
	cnai_dtable_free(d->t);
	cnai_dtable_free(d->vt);
	cnai_ml_model_free(d->m);
	free(d->x);
	free(d->y);
	free(d->labels);
	free(d->train);
	free(d->val);
	free(d->schema);
	free(d->vschema);
	memset(d, 0, sizeof(*d));
}

/* Reads `path` with the target as a string column; *tcol gets it. */
static int read_table(struct cnai_dtable **t, size_t *tcol, const char *path,
		      const char *target, char delim)
{
	struct cnai_dtable_opts o = { 0 };
	const char *tname[1] = { target };
	enum cnai_col_type ttype[1] = { CNAI_COL_STRING };
	long col;
	int err;

	o.delim = delim;
	o.names = tname;
	o.types = ttype;
	o.ntypes = 1;
	o.other = CNAI_COL_AUTO;
	if ((err = cnai_dtable_load(t, path, &o)) < 0)
		return err;
	if ((col = cnai_dtable_find(*t, target)) < 0)
		return cnai_error_set(CNAI_EINVALID,
				      "%s: no column '%s' (--target)", path,
				      target);
	*tcol = (size_t)col;
	return 0;
}

/*
 * Sets keep[c] = `mark` for each column c named in the comma list; every
 * name must be a column. One hash lookup a name, so a long list over a
 * wide file stays linear.
 */
static int mark_columns(unsigned char *keep, const struct cnai_dtable *t,
			const char *list, const char *opt, unsigned char mark)
{
	char *dup = list ? strdup(list) : NULL, *save = NULL, *tok;
	long col;
	int err = 0;

	if (list && !dup)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (tok = dup ? strtok_r(dup, ",", &save) : NULL; tok && !err;
	     tok = strtok_r(NULL, ",", &save))
		if ((col = cnai_dtable_find(t, tok)) < 0)
			err = cnai_error_set(CNAI_EINVALID,
					     "%s: no column '%s' (%s)", t->path,
					     tok, opt);
		else
			keep[col] = mark;
	free(dup);
	return err;
}

/* The feature columns (--features, less --drop, never the target). */
static int select_features(size_t *cols, size_t *ncols,
			   const struct cnai_dtable *t, size_t tcol,
			   const struct cnai_train_config *c)
{
	unsigned char *keep = malloc(t->ncols ? t->ncols : 1);
	size_t i;
	int err;

	*ncols = 0;
	if (!keep)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	memset(keep, !V(FEATURES), t->ncols);
	if ((err = mark_columns(keep, t, V(FEATURES), "--features", 1)) < 0 ||
	    (err = mark_columns(keep, t, V(DROP), "--drop", 0)) < 0)
		goto cleanup;
	for (i = 0; i < t->ncols; i++)
		if (i != tcol && keep[i])
			cols[(*ncols)++] = i;
	if (!*ncols)
		err = cnai_error_set(CNAI_EINVALID, "%s: no feature columns",
				     V(DATA));
cleanup:
	free(keep);
	return err;
}

/* The model without layers: target, activation, dropout, the task. */
static int plan_model(struct cnai_trainset *d,
		      const struct cnai_train_config *c, size_t tcol)
{
	if (!(d->m = calloc(1, sizeof(*d->m))) ||
	    !(d->m->target = strdup(V(TARGET))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	d->m->act = c->act;
	d->m->dropout = c->dropout;
	return cnai_task_plan(d->m, d->t, tcol, c->kind);
}

/* Training and validation row indices: --valid's rows follow --data's. */
static int split_rows(struct cnai_trainset *d,
		      const struct cnai_train_config *c)
{
	size_t i;

	d->n = d->t->nrows;
	if (d->vt) {
		d->ntrain = d->n;
		d->nval = d->vt->nrows;
	} else {
		d->nval = cnai_split_count(d->n, c->valid_split);
		if (d->nval >= d->n)
			return cnai_error_set(CNAI_EINVALID,
					      "%s: %zu rows leave none to "
					      "train on after --valid-split %s",
					      V(DATA), d->n, V(VALID_SPLIT));
		d->ntrain = d->n - d->nval;
	}
	d->train = malloc((d->ntrain ? d->ntrain : 1) * sizeof(int32_t));
	d->val = malloc((d->nval ? d->nval : 1) * sizeof(int32_t));
	if (!d->train || !d->val || d->n + d->nval > INT32_MAX)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (!d->vt)
		return cnai_split_shuffle(d->train, d->val, d->n, d->nval,
					  c->t.seed);
	for (i = 0; i < d->ntrain; i++)
		d->train[i] = (int32_t)i;
	for (i = 0; i < d->nval; i++)
		d->val[i] = (int32_t)(d->n + i);
	return 0;
}

/* Targets of table t (column tcol) into labels or ybuf at row `at`. */
static int fill_targets(struct cnai_trainset *d, const struct cnai_dtable *t,
			size_t tcol, size_t at, double *ybuf)
{
	if (cnai_ml_model_is_classifier(d->m))
		return cnai_ml_labels(d->labels + at, d->m, t, tcol);
	return cnai_ml_targets(ybuf + at, t, tcol);
}

/* Fits the preprocessing on the training rows. */
static int fit_prep(struct cnai_trainset *d, const size_t *cols,
		    size_t ncols)
{
	size_t *rows = malloc((d->ntrain ? d->ntrain : 1) * sizeof(size_t));
	size_t i;
	int err;

	if (!rows)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < d->ntrain; i++)
		rows[i] = (size_t)d->train[i];
	err = cnai_ml_prep_fit(&d->m->prep, d->t, cols, ncols, rows,
			       d->ntrain);
	free(rows);
	return err;
}

/* Encodes --data rows, then --valid rows, features and targets. */
static int encode(struct cnai_trainset *d, size_t tcol, size_t vtcol)
{
	size_t total = d->n + (d->vt ? d->nval : 0);
	size_t w = d->m->prep.width;
	struct cnai_ml_prep_stats vs;
	/* all numeric and one file: encode in place (less memory) */
	int inplace = !d->vt && d->m->prep.nnumeric == d->m->prep.n;
	double *ybuf = NULL;
	int err;

	d->x = inplace ? NULL : malloc(total * w * sizeof(float));
	if (cnai_ml_model_is_classifier(d->m))
		d->labels = malloc(total * sizeof(int32_t));
	else
		ybuf = malloc(total * sizeof(double));
	d->y = malloc(total * sizeof(float));
	if ((!inplace && !d->x) || (!d->labels && !ybuf) || !d->y) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = fill_targets(d, d->t, tcol, 0, ybuf)) < 0 ||
	    (d->vt && (err = fill_targets(d, d->vt, vtcol, d->n, ybuf)) < 0) ||
	    (inplace && (err = cnai_ml_prep_transform_inplace(
				 &d->x, &d->m->prep, d->t, &d->stats)) < 0) ||
	    (!inplace &&
	     (err = cnai_ml_prep_transform(&d->m->prep, d->t, NULL, d->n,
					   d->x, &d->stats)) < 0) ||
	    (d->vt && (err = cnai_ml_prep_transform(&d->m->prep, d->vt, NULL,
						    d->nval, d->x + d->n * w,
						    &vs)) < 0))
		goto cleanup;
	if (ybuf)
		cnai_split_standardize(d->y, &d->m->y_mean, &d->m->y_std, ybuf,
				       total, d->train, d->ntrain);
cleanup:
	free(ybuf);
	return err;
}

/* Schemas for lineage, --test checked, the files' digests. */
static int describe_files(struct cnai_trainset *d,
			  const struct cnai_train_config *c)
{
	int err;

	if (!(d->schema = cnai_dtable_schema(d->t)) ||
	    (d->vt && !(d->vschema = cnai_dtable_schema(d->vt))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	/* --test is read at the end; a file that cannot be (a directory)
	 * is refused now, before the run exists */
	if (V(TEST)) {
		struct cnai_csv_reader *tr = NULL;

		if ((err = cnai_csv_open(&tr, V(TEST), c->delim)) < 0)
			return err;
		cnai_csv_close(tr);
	}
	if ((err = cnai_sha256_file(d->digest, &d->size, V(DATA))) < 0 ||
	    (d->vt && (err = cnai_sha256_file(d->vdigest, &d->vsize,
					      V(VALID))) < 0) ||
	    (V(TEST) &&
	     (err = cnai_sha256_file(d->tdigest, &d->tsize, V(TEST))) < 0))
		return err;
	return 0;
}

int cnai_trainset_load(struct cnai_trainset *d,
		       const struct cnai_train_config *c)
{
	size_t *cols = NULL, ncols = 0, tcol, vtcol = 0;
	int err;

	memset(d, 0, sizeof(*d));
	d->read_seconds = now_s();
	if ((err = read_table(&d->t, &tcol, V(DATA), V(TARGET), c->delim)) < 0)
		return err;
	d->read_seconds = now_s() - d->read_seconds;
	if (!(cols = calloc(d->t->ncols, sizeof(*cols))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if ((err = select_features(cols, &ncols, d->t, tcol, c)) < 0 ||
	    (err = plan_model(d, c, tcol)) < 0 ||
	    (V(VALID) && (err = read_table(&d->vt, &vtcol, V(VALID),
					   V(TARGET), c->delim)) < 0) ||
	    (err = split_rows(d, c)) < 0 ||
	    (err = fit_prep(d, cols, ncols)) < 0 ||
	    (err = encode(d, tcol, vtcol)) < 0)
		goto cleanup;
	err = describe_files(d, c);
cleanup:
	free(cols);
	return err;
}

void cnai_trainset_ml_data(struct cnai_ml_data *out,
			   const struct cnai_trainset *d)
{
	out->x = d->x;
	out->labels = d->labels;
	out->y = d->y;
	out->n = d->n + (d->vt ? d->nval : 0);
	out->train = d->train;
	out->ntrain = d->ntrain;
	out->val = d->val;
	out->nval = d->nval;
}

json_t *cnai_trainset_datasets_json(const struct cnai_trainset *d,
				    const struct cnai_train_config *c)
{
	json_t *a = json_array();

	json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "role",
					   "train", "path", V(DATA), "digest",
					   d->digest, "rows",
					   (json_int_t)d->t->nrows));
	if (d->vt)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}",
						   "role", "valid", "path",
						   V(VALID), "digest",
						   d->vdigest, "rows",
						   (json_int_t)d->vt->nrows));
	if (V(TEST))
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "role",
						   "test", "path", V(TEST),
						   "digest", d->tdigest));
	return a;
}

int cnai_trainset_fit(struct cnai_ml_epoch *final, struct cnai_trainset *d,
		      const struct cnai_train_config *c,
		      struct cnai_backend *be, cnai_ml_epoch_fn on_epoch,
		      cnai_ml_batch_fn on_batch, void *payload)
{
	struct cnai_ml_model *m = d->m;
	struct cnai_ml_data md;
	size_t i;
	int err;

	m->act = c->act;
	m->dropout = c->dropout;
	if (c->nhidden)
		m->kind = CNAI_ML_MLP;
	/* a sweep child refits the model its parent planned */
	for (i = 0; i < m->nlayers; i++) {
		free(m->layers[i].w);
		free(m->layers[i].b);
	}
	free(m->layers);
	m->layers = NULL;
	m->nlayers = 0;
	if ((err = cnai_ml_model_init_layers(m, c->hidden, c->nhidden,
					     c->t.seed)) < 0)
		return err;
	cnai_trainset_ml_data(&md, d);
	return cnai_ml_train(m, be, &md, &c->t, on_epoch, on_batch, payload,
			     final);
}
