/*
 * Evaluation metrics: accuracy, per-class precision, recall and F1 and the
 * confusion matrix for classifiers; RMSE, MAE and R^2 for regression.
 */
#ifndef CNAI_CORE_ML_METRICS_H
#define CNAI_CORE_ML_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct cnai_ml_class_metrics {
	double precision, recall, f1;
	size_t support; /* true rows of the class */
};

struct cnai_ml_cls_report {
	size_t k, n;
	double accuracy, macro_f1;
	struct cnai_ml_class_metrics *per; /* k */
	size_t *confusion; /* k x k, [true][predicted] */
};

/* truth and pred are class indices < k. Release with _release. */
int cnai_ml_cls_report(struct cnai_ml_cls_report *out, const int32_t *truth,
		       const int32_t *pred, size_t n, size_t k);
void cnai_ml_cls_report_release(struct cnai_ml_cls_report *r);

struct cnai_ml_reg_report {
	size_t n;
	double rmse, mae, r2;
};

void cnai_ml_reg_report(struct cnai_ml_reg_report *out, const double *truth,
			const float *pred, size_t n);

/* Index of the largest of x[0, k), the first on ties. */
int32_t cnai_ml_argmax(const float *x, size_t k);

#endif
