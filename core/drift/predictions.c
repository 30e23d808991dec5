/*
 * Prediction drift (see predictions.h). The predictions go through a
 * temporary CSV file rather than memory so that they are read, typed and
 * tested by exactly the code that tests every other column.
 */
#include "core/drift/predictions.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ml/model.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "gpu/backend.h"
#include "core/util/banned.h"

/* Writes the predictions of `m` for `data` to a new temporary file whose
 * name goes to `path` (empty when no file was made). */
static int write_predictions(char *path, size_t size,
			     const struct cnai_ml_model *m,
			     struct cnai_backend *be, const char *data)
{
	struct cnai_ml_batch b = { 0 };
	struct cnai_buf csv = CNAI_BUF_INIT;
	int npred = cnai_ml_model_npred(m), fd, err;
	size_t i;
	int k;

	if ((err = cnai_ml_predict_file(&b, m, be, data, ',', NULL)) < 0)
		return err;
	cnai_buf_adds(&csv, "prediction\n");
	for (i = 0; i < b.n; i++) {
		if (cnai_ml_model_is_classifier(m)) {
			int best = 0;

			for (k = 1; k < npred; k++)
				if (b.pred[i * npred + k] >
				    b.pred[i * npred + best])
					best = k;
			cnai_buf_addf(&csv, "\"%s\"\n", m->classes[best]);
		} else {
			cnai_buf_addf(&csv, "%.9g\n", b.pred[i * npred]);
		}
	}
	cnai_ml_batch_release(&b);
	if ((err = cnai_buf_oom(&csv)) < 0)
		goto cleanup;
	snprintf(path, size, "/tmp/cnai-pred.XXXXXX");
	if ((fd = mkstemp(path)) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "temporary file");
		path[0] = '\0';
		goto cleanup;
	}
	err = cnai_fs_write_all(fd, csv.buf, csv.len);
	close(fd);
cleanup:
	cnai_buf_release(&csv);
	return err;
}

int cnai_drift_add_predictions(struct cnai_drift_report *r,
			       const struct cnai_drift_options *base,
			       const struct cnai_ml_model *m,
			       struct cnai_backend *be)
{
	static const char *const pred_col[] = { "prediction" };
	struct cnai_drift_options o = *base;
	struct cnai_drift_report *pr = NULL;
	char rp[64] = "", cp[64] = "";
	size_t i;
	int err;

	assert(strcmp(base->ref_path, "-") && strcmp(base->cur_path, "-"));
	if ((err = write_predictions(rp, sizeof(rp), m, be,
				     base->ref_path)) < 0 ||
	    (err = write_predictions(cp, sizeof(cp), m, be,
				     base->cur_path)) < 0)
		goto cleanup;
	o.ref_path = rp;
	o.cur_path = cp;
	o.columns = NULL;
	o.ncolumns = 0;
	o.ignore = NULL;
	o.nignore = 0;
	o.numerical = NULL;
	o.nnumerical = 0;
	o.categorical = cnai_ml_model_is_classifier(m) ? pred_col : NULL;
	o.ncategorical = cnai_ml_model_is_classifier(m) ? 1 : 0;
	o.column_methods = NULL;
	o.ncolumn_methods = 0;
	for (i = 0; i < base->ncolumn_methods; i++)
		if (!strcmp(base->column_methods[i].column, "prediction")) {
			o.column_methods = &base->column_methods[i];
			o.ncolumn_methods = 1;
		}
	if ((err = cnai_drift_run(&pr, &o)) < 0)
		goto cleanup;
	err = cnai_drift_report_merge(r, pr);
cleanup:
	cnai_drift_report_free(pr);
	if (rp[0])
		unlink(rp);
	if (cp[0])
		unlink(cp);
	return err;
}
