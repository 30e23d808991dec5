/*
 * Prediction on files: open a model (a folder, or a registry reference
 * exported from the store), load a CSV with the column types the model
 * needs, encode it and run the network; and turning a table's target
 * column into class indices or numbers, shared by train and eval.
 */
#ifndef CNAI_CORE_ML_INFER_H
#define CNAI_CORE_ML_INFER_H

#include <jansson.h>

#include "core/data/table.h"
#include "core/ml/metrics.h"
#include "core/ml/model.h"
#include "core/store/store.h"
#include "gpu/backend.h"

/*
 * Opens the model `ref`: a folder, which must hold cnai-model.json, else,
 * when `st` is not NULL, a registry reference (NAME, NAME@VERSION,
 * NAME@ALIAS, digest) whose files are exported to a temporary folder.
 * *json_out (optional) gets cnai-model.json. CNAI_ENOTFOUND names ref.
 */
int cnai_ml_model_open(struct cnai_ml_model **out, json_t **json_out,
		       struct cnai_store *st, const char *ref);

/* 1 if `ref` is a folder with a cnai-model.json. */
int cnai_ml_is_model_dir(const char *ref);

struct cnai_ml_batch {
	struct cnai_dtable *t;
	float *pred; /* n x npred: probabilities or values */
	size_t n;
	int npred;
	struct cnai_ml_prep_stats stats;
};

/*
 * Loads `path` (features typed as the model wants, `target` if not NULL
 * as a string column for classifiers, a number column for regression),
 * and predicts every row. Release with cnai_ml_batch_release.
 */
int cnai_ml_predict_file(struct cnai_ml_batch *out,
			 const struct cnai_ml_model *m, struct cnai_backend *be,
			 const char *path, char delim, const char *target);
void cnai_ml_batch_release(struct cnai_ml_batch *b);

/*
 * The class index of every row's target (column `col`, a string column):
 * an empty cell or a class the model does not know is CNAI_EINVALID
 * naming file and line.
 */
int cnai_ml_labels(int32_t *out, const struct cnai_ml_model *m,
		   const struct cnai_dtable *t, size_t col);
/* Numeric targets of column `col` (empty is an error). */
int cnai_ml_targets(double *out, const struct cnai_dtable *t, size_t col);

/*
 * The classification report of a scored batch: each row's target (column
 * `col`, as cnai_ml_labels reads it) against its most probable class.
 * Errors as cnai_ml_labels returns them; release with
 * cnai_ml_cls_report_release.
 */
int cnai_ml_batch_cls_report(struct cnai_ml_cls_report *out,
			     const struct cnai_ml_model *m,
			     const struct cnai_ml_batch *b, size_t col);
/* The regression report of a scored batch against column `col`. */
int cnai_ml_batch_reg_report(struct cnai_ml_reg_report *out,
			     const struct cnai_ml_batch *b, size_t col);

#endif
