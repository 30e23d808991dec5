/*
 * Prediction drift: a model predicts every row of the reference and the
 * current file (the same code as `cnai predict`), each side's predictions
 * become a one-column CSV file, and that column, "prediction", is tested
 * like any other column and joins a drift report (and its data-set
 * verdict). A class label is categorical, a regression value numerical.
 */
#ifndef CNAI_CORE_DRIFT_PREDICTIONS_H
#define CNAI_CORE_DRIFT_PREDICTIONS_H

#include "core/drift/drift.h"
#include "core/ml/infer.h"

struct cnai_backend;

/*
 * Runs `m` on base->ref_path and base->cur_path (files, not "-": the model
 * reads them again after the data drift pass: the caller checks), tests the predictions with
 * `base`'s method, threshold, drift share and limits (and a --column-method
 * for "prediction", if `base` has one) and merges the column into `r`
 * (cnai_drift_report_merge). The temporary files are removed before it
 * returns. The model's and the data's errors as cnai_ml_predict_file and cnai_drift_run return them.
 */
int cnai_drift_add_predictions(struct cnai_drift_report *r,
			       const struct cnai_drift_options *base,
			       const struct cnai_ml_model *m,
			       struct cnai_backend *be);

#endif
