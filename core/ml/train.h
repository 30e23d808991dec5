/*
 * Mini-batch training of a struct cnai_ml_model on a backend: seeded
 * shuffles, forward and backward through the ops table, SGD, momentum,
 * Adam or AdamW, validation after each epoch, early stopping on the
 * validation loss keeping the best weights. On the CPU the result depends
 * only on the data, the options and the seed: same inputs, same bits.
 */
#ifndef CNAI_CORE_ML_TRAIN_H
#define CNAI_CORE_ML_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/ml/model.h"
#include "gpu/backend.h"

enum cnai_ml_optim {
	CNAI_OPTIM_SGD,
	CNAI_OPTIM_MOMENTUM,
	CNAI_OPTIM_ADAM,
	CNAI_OPTIM_ADAMW,
};
int cnai_ml_optim_parse(const char *s);
const char *cnai_ml_optim_name(enum cnai_ml_optim o);

struct cnai_ml_train_opts {
	enum cnai_ml_optim optimizer;
	float lr, weight_decay, momentum, beta1, beta2, eps;
	int epochs, batch_size;
	int patience; /* early stopping: epochs without improvement; 0 off */
	uint64_t seed;
};

/* Defaults: adam, lr 0.001, batch 32, 20 epochs, seed 0. */
void cnai_ml_train_opts_init(struct cnai_ml_train_opts *o);

/* Training data, already encoded. Row indices are int32. */
struct cnai_ml_data {
	const float *x;        /* n x model width */
	const int32_t *labels; /* classification: class indices */
	const float *y;        /* regression: standardised targets */
	size_t n;
	const int32_t *train;
	size_t ntrain;
	const int32_t *val; /* may be empty */
	size_t nval;
};

struct cnai_ml_epoch {
	int epoch; /* 1-based */
	double train_loss;
	int has_val;
	double val_loss, val_accuracy, val_rmse, val_r2;
	double seconds, samples_per_second;
	int best;    /* best validation loss so far */
	int stopped; /* early stopping ends training after this epoch */
};

/* Called after each epoch; a negative return stops training with it. */
typedef int (*cnai_ml_epoch_fn)(const struct cnai_ml_epoch *e, void *payload);
/*
 * Called after each batch (a progress bar, an interruption check); may be
 * NULL. A negative return stops training with it.
 */
typedef int (*cnai_ml_batch_fn)(int epoch, size_t done, size_t total,
				void *payload);

/*
 * Trains m (layers initialised) in place. *final gets the metrics of the
 * epoch whose weights m ends with (the best one under early stopping).
 */
int cnai_ml_train(struct cnai_ml_model *m, struct cnai_backend *be,
		  const struct cnai_ml_data *d,
		  const struct cnai_ml_train_opts *o, cnai_ml_epoch_fn on_epoch,
		  cnai_ml_batch_fn on_batch, void *payload,
		  struct cnai_ml_epoch *final);

/*
 * One forward and backward pass over rows [0, n) of x through the
 * trainer's own code: *loss gets the mean loss, grad (if not NULL) the
 * gradient of it for every parameter, layer by layer, weights then bias
 * (cnai_ml_model_nparams floats). With `dropout` the training mask of
 * seed `seed` is applied. For gradient checks by finite differences.
 */
int cnai_ml_batch_gradient(struct cnai_ml_model *m, struct cnai_backend *be,
			   const float *x, const int32_t *labels,
			   const float *y, size_t n, int dropout,
			   uint64_t seed, double *loss, float *grad);

#endif
