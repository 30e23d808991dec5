/*
 * One training recorded as a run in the store: the run created with its
 * origin (or the one CNAI_RUN_ID names), its params and input datasets
 * with lineage, a metric a row each epoch, the test scores, the model
 * folder written, its files logged as artifacts, and the model optionally
 * registered. Progress (a bar) goes through a callback the command gives,
 * so nothing here prints.
 */
#ifndef CNAI_CORE_ML_TRAIN_JOB_H
#define CNAI_CORE_ML_TRAIN_JOB_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "core/ml/train.h"
#include "core/ml/train_config.h"
#include "core/ml/trainset.h"
#include "core/store/runs.h"
#include "core/store/store.h"
#include "gpu/backend.h"

struct cnai_train_job;

/*
 * Progress of a training: after a batch (`e` NULL; done of total rows of
 * epoch `epoch`) and after an epoch (`e` its metrics, done == total).
 */
typedef void (*cnai_train_progress_fn)(const struct cnai_train_job *j,
				       int epoch, size_t done, size_t total,
				       const struct cnai_ml_epoch *e,
				       void *payload);

struct cnai_train_job {
	struct cnai_store *st;                /* borrowed */
	const struct cnai_train_config *c;    /* borrowed, resolved */
	struct cnai_trainset *d;              /* borrowed, loaded */
	struct cnai_backend *be;              /* borrowed, open */
	struct cnai_run *run;                 /* the caller frees */
	int own_run;                          /* created here: ended by us */
	int64_t parent;                       /* a sweep's run id, else 0 */
	const volatile sig_atomic_t *stop;    /* set: stop (may be NULL) */
	cnai_train_progress_fn progress;      /* may be NULL */
	void *payload;                        /* for progress */
	int last_epoch; /* epochs run (early stopping may end sooner) */
	double last_loss, last_speed; /* of the last epoch (0: none yet) */
};

/*
 * Creates j->run (command "cnai train", the config's experiment and name,
 * this process's origin, child of j->parent), or, outside a sweep, looks
 * up the run CNAI_RUN_ID names and leaves it to its owner (j->own_run 0).
 * Errors: the store's.
 */
int cnai_train_job_create_run(struct cnai_train_job *j);

/*
 * Logs the run's params (with what auto chose) and records its input
 * datasets, in one transaction. Errors: the store's.
 */
int cnai_train_job_record_setup(struct cnai_train_job *j);

/*
 * Trains j->d's model in j->run and writes the folder `dir` (NULL: a
 * temporary one, removed after), registers it as --register names
 * (outside a sweep), and sets *result to the summary (run, model, task,
 * epochs, train_rows, parameters, seconds, metrics, device, read_seconds,
 * output, registered), a new reference, the caller's. An interruption
 * (j->stop) is CNAI_ERROR "interrupted at epoch N".
 */
int cnai_train_job_fit(json_t **result, struct cnai_train_job *j,
		       const char *dir);

#endif
