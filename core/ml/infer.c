/*
 * Model opening and file prediction. A registry reference is exported to
 * a fresh temporary folder, loaded, and the folder removed: the model
 * files are small next to the data they score.
 */
#include "core/ml/infer.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/number.h"
#include "core/ml/io.h"
#include "core/store/models.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/banned.h"


int cnai_ml_is_model_dir(const char *ref)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/cnai-model.json", ref);
	return cnai_fs_is_dir(ref) && cnai_fs_exists(path);
}

int cnai_ml_model_open(struct cnai_ml_model **out, json_t **json_out,
		       struct cnai_store *st, const char *ref)
{
	struct cnai_model_version *v = NULL;
	char tmpl[] = "/tmp/cnai-model.XXXXXX";
	int err;

	*out = NULL;
	/* A folder is read as a model folder, never looked up by name: a
	 * folder that is not one is named as such, not as a missing model. */
	if (cnai_fs_is_dir(ref))
		return cnai_ml_model_load(out, json_out, ref);
	if (!st)
		return cnai_error_set(CNAI_ENOTFOUND,
				      "'%s' is not a model folder, and there "
				      "is no store to look it up in", ref);
	if ((err = cnai_model_resolve(&v, st, ref)) < 0)
		return err;
	if (!mkdtemp(tmpl)) {
		cnai_model_version_free(v);
		return cnai_error_set_errno(CNAI_ERROR,
					    "cannot create a temporary folder");
	}
	if ((err = cnai_model_export(st, v, tmpl, 1)) == 0)
		err = cnai_ml_model_load(out, json_out, tmpl);
	cnai_fs_remove_tree_quietly(tmpl);
	cnai_model_version_free(v);
	return err;
}

void cnai_ml_batch_release(struct cnai_ml_batch *b)
{
	cnai_dtable_free(b->t);
	free(b->pred);
	memset(b, 0, sizeof(*b));
}

int cnai_ml_predict_file(struct cnai_ml_batch *out,
			 const struct cnai_ml_model *m, struct cnai_backend *be,
			 const char *path, char delim, const char *target)
{
	struct cnai_dtable_opts o = { 0 };
	const char **names = NULL;
	enum cnai_col_type *types = NULL;
	float *x = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = cnai_ml_prep_table_opts(&m->prep, &names, &types)) < 0)
		return err;
	if (target) {
		/* one more entry: the target, loaded as text */
		const char **n2 = realloc(names, (m->prep.n + 1) * sizeof(*n2));
		enum cnai_col_type *t2;

		if (!n2) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		names = n2;
		if (!(t2 = realloc(types, (m->prep.n + 1) * sizeof(*t2)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		types = t2;
		names[m->prep.n] = target;
		types[m->prep.n] = CNAI_COL_STRING;
	}
	o.delim = delim;
	o.names = names;
	o.types = types;
	o.ntypes = m->prep.n + (target ? 1 : 0);
	o.other = CNAI_COL_SKIP;
	if ((err = cnai_dtable_load(&out->t, path, &o)) < 0)
		goto cleanup;
	if (target && cnai_dtable_find(out->t, target) < 0) {
		err = cnai_error_set(CNAI_EINVALID,
				     "%s: no column '%s' (--target)", path,
				     target);
		goto cleanup;
	}
	out->n = out->t->nrows;
	out->npred = cnai_ml_model_npred(m);
	x = malloc(out->n * m->prep.width * sizeof(float));
	out->pred = malloc(out->n * (size_t)out->npred * sizeof(float));
	if (!x || !out->pred) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = cnai_ml_prep_transform(&m->prep, out->t, NULL, out->n, x,
					  &out->stats)) < 0)
		goto cleanup;
	err = cnai_ml_model_predict(m, be, x, out->n, out->pred);
cleanup:
	free(x);
	free(names);
	free(types);
	if (err < 0)
		cnai_ml_batch_release(out);
	return err;
}

int cnai_ml_labels(int32_t *out, const struct cnai_ml_model *m,
		   const struct cnai_dtable *t, size_t col)
{
	const struct cnai_col *c = &t->cols[col];
	int32_t *map = malloc((c->ncats ? c->ncats : 1) * sizeof(*map));
	size_t i, k;

	if (!map)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < c->ncats; i++) {
		map[i] = -1;
		for (k = 0; k < m->nclasses; k++)
			if (!strcmp(c->cats[i], m->classes[k]))
				map[i] = (int32_t)k;
	}
	for (i = 0; i < t->nrows; i++) {
		float v = t->values[i * t->ncols + col];

		if (isnan(v) || map[(size_t)v] < 0) {
			int err = cnai_error_set(
				CNAI_EINVALID,
				isnan(v) ? "%s:%llu: column '%s': empty target"
					   "%s"
					 : "%s:%llu: column '%s': class '%s' "
					   "was not seen in training",
				t->path, (unsigned long long)t->lines[i],
				c->name,
				isnan(v) ? "" : c->cats[(size_t)v]);

			free(map);
			return err;
		}
		out[i] = map[(size_t)v];
	}
	free(map);
	return 0;
}

int cnai_ml_targets(double *out, const struct cnai_dtable *t, size_t col)
{
	const struct cnai_col *c = &t->cols[col];
	size_t i;

	for (i = 0; i < t->nrows; i++) {
		float v = t->values[i * t->ncols + col];
		double d;

		if (isnan(v))
			return cnai_error_set(CNAI_EINVALID,
					      "%s:%llu: column '%s': empty "
					      "target", t->path,
					      (unsigned long long)t->lines[i],
					      c->name);
		if (c->type == CNAI_COL_STRING) {
			const char *s = c->cats[(size_t)v];

			if (cnai_number_parse(&d, s, strlen(s)) < 0 ||
			    !isfinite(d))
				return cnai_error_set(
					CNAI_EINVALID,
					"%s:%llu: column '%s': '%s' is not a "
					"number", t->path,
					(unsigned long long)t->lines[i],
					c->name, s);
			out[i] = d;
		} else {
			out[i] = v;
		}
	}
	return 0;
}

int cnai_ml_batch_cls_report(struct cnai_ml_cls_report *out,
			     const struct cnai_ml_model *m,
			     const struct cnai_ml_batch *b, size_t col)
{
	int32_t *truth = malloc(b->n * sizeof(*truth) + 1);
	int32_t *pred = malloc(b->n * sizeof(*pred) + 1);
	size_t i;
	int err;

	if (!truth || !pred) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = cnai_ml_labels(truth, m, b->t, col)) < 0)
		goto cleanup;
	for (i = 0; i < b->n; i++)
		pred[i] = cnai_ml_argmax(b->pred + i * b->npred,
					 m->nclasses);
	err = cnai_ml_cls_report(out, truth, pred, b->n, m->nclasses);
cleanup:
	free(truth);
	free(pred);
	return err;
}

int cnai_ml_batch_reg_report(struct cnai_ml_reg_report *out,
			     const struct cnai_ml_batch *b, size_t col)
{
	double *truth = malloc(b->n * sizeof(*truth) + 1);
	int err;

	if (!truth)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if ((err = cnai_ml_targets(truth, b->t, col)) == 0)
		cnai_ml_reg_report(out, truth, b->pred, b->n);
	free(truth);
	return err;
}
