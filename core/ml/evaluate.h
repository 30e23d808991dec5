/*
 * The numbers a training reports: an epoch's metrics by name (what a run
 * logs and the model folder keeps), and the metrics of a held-out test
 * file scored once at the end.
 */
#ifndef CNAI_CORE_ML_EVALUATE_H
#define CNAI_CORE_ML_EVALUATE_H

#include <jansson.h>
#include <stddef.h>

#include "core/ml/model.h"
#include "core/ml/train.h"
#include "gpu/backend.h"

/* One named metric value. */
struct cnai_evaluate_point {
	const char *key; /* a static string */
	double value;
};

#define CNAI_EVALUATE_MAX_POINTS 7

/*
 * The metrics of epoch `e` into out[0, return value): train_loss, then
 * with validation val_loss and val_accuracy (classifier, `cls`) or
 * val_rmse and val_r2, then with `timing` samples_per_second and
 * epoch_seconds. out has room for CNAI_EVALUATE_MAX_POINTS.
 */
size_t cnai_evaluate_epoch(struct cnai_evaluate_point *out,
			   const struct cnai_ml_epoch *e, int cls, int timing);

/*
 * Predicts the CSV `path` (target column m->target) with m on `be` and
 * sets test_accuracy and test_macro_f1 (classifier) or test_rmse,
 * test_mae and test_r2 on the object `metrics` (borrowed). CNAI_EINVALID
 * on bad input naming file and line, CNAI_ERROR on a runtime failure.
 */
int cnai_evaluate_test(json_t *metrics, const struct cnai_ml_model *m,
		       struct cnai_backend *be, const char *path, char delim);

#endif
