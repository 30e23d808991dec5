/*
 * Metrics of a training (see evaluate.h). The names are the ones MLflow's
 * autologging and scikit-learn's scorers use where they exist, so runs
 * compare across tools; each list lives here once, for the run's metrics
 * and the model folder's alike.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ml/evaluate.h"
#include "core/ml/infer.h"
#include "core/ml/metrics.h"
#include "core/util/error.h"
#include "core/util/banned.h"

size_t cnai_evaluate_epoch(struct cnai_evaluate_point *out,
			   const struct cnai_ml_epoch *e, int cls, int timing)
{
	size_t n = 0;

	out[n++] = (struct cnai_evaluate_point){ "train_loss", e->train_loss };
	if (e->has_val) {
		out[n++] = (struct cnai_evaluate_point){ "val_loss",
							 e->val_loss };
		if (cls) {
			out[n++] = (struct cnai_evaluate_point){
				"val_accuracy", e->val_accuracy
			};
		} else {
			out[n++] = (struct cnai_evaluate_point){ "val_rmse",
								 e->val_rmse };
			out[n++] = (struct cnai_evaluate_point){ "val_r2",
								 e->val_r2 };
		}
	}
	if (timing) {
		out[n++] = (struct cnai_evaluate_point){
			"samples_per_second", e->samples_per_second
		};
		out[n++] = (struct cnai_evaluate_point){ "epoch_seconds",
							 e->seconds };
	}
	return n;
}

static int score_classifier(json_t *metrics, const struct cnai_ml_model *m,
			    const struct cnai_ml_batch *b, size_t tc)
{
	int32_t *truth = malloc((b->n ? b->n : 1) * sizeof(*truth));
	int32_t *pred = malloc((b->n ? b->n : 1) * sizeof(*pred));
	struct cnai_ml_cls_report r;
	size_t i;
	int err;

	if (!truth || !pred) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = cnai_ml_labels(truth, m, b->t, tc)) < 0)
		goto cleanup;
	for (i = 0; i < b->n; i++)
		pred[i] = cnai_ml_argmax(b->pred + i * b->npred,
					 (size_t)b->npred);
	if ((err = cnai_ml_cls_report(&r, truth, pred, b->n,
				      m->nclasses)) < 0)
		goto cleanup;
	json_object_set_new(metrics, "test_accuracy", json_real(r.accuracy));
	json_object_set_new(metrics, "test_macro_f1", json_real(r.macro_f1));
	cnai_ml_cls_report_release(&r);
cleanup:
	free(truth);
	free(pred);
	return err;
}

static int score_regression(json_t *metrics, const struct cnai_ml_batch *b,
			    size_t tc)
{
	double *truth = malloc((b->n ? b->n : 1) * sizeof(*truth));
	struct cnai_ml_reg_report r;
	int err;

	if (!truth)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if ((err = cnai_ml_targets(truth, b->t, tc)) < 0) {
		free(truth);
		return err;
	}
	cnai_ml_reg_report(&r, truth, b->pred, b->n);
	free(truth);
	json_object_set_new(metrics, "test_rmse", json_real(r.rmse));
	json_object_set_new(metrics, "test_mae", json_real(r.mae));
	json_object_set_new(metrics, "test_r2", json_real(r.r2));
	return 0;
}

int cnai_evaluate_test(json_t *metrics, const struct cnai_ml_model *m,
		       struct cnai_backend *be, const char *path, char delim)
{
	struct cnai_ml_batch b;
	long tc;
	int err;

	if ((err = cnai_ml_predict_file(&b, m, be, path, delim, m->target)) <
	    0)
		return err;
	tc = cnai_dtable_find(b.t, m->target);
	if (cnai_ml_model_is_classifier(m))
		err = score_classifier(metrics, m, &b, (size_t)tc);
	else
		err = score_regression(metrics, &b, (size_t)tc);
	cnai_ml_batch_release(&b);
	return err;
}
