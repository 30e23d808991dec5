/*
 * A sweep recorded in the store: a parent run tagged with the sweep's
 * size, a child run per combination (named after its values), the
 * children trained in forked processes N at a time, each ending its own
 * run, then the parent ended and each child's final loss read back.
 * Choosing (cnai_sweep_best), registering and printing the best are the
 * caller's.
 */
#ifndef CNAI_CORE_ML_SWEEP_JOB_H
#define CNAI_CORE_ML_SWEEP_JOB_H

#include <jansson.h>
#include <stddef.h>

#include "core/ml/sweep.h"
#include "core/ml/train_job.h"

/* A child's failure: its run's uuid and the error message. */
typedef void (*cnai_sweep_error_fn)(const char *run, const char *message,
				    void *payload);

struct cnai_sweep_job {
	struct cnai_train_job *base; /* borrowed; base->c unresolved */
	const struct cnai_sweep_axis *ax;
	size_t nax, total;
	struct cnai_train_config *cfgs; /* total, resolved */
	struct cnai_run *parent;        /* owned */
	struct cnai_run **kids;         /* total, owned */
	char **dirs; /* total: OUTPUT/RUN_UUID, or NULL without -o */
	size_t started, failed;
	cnai_sweep_error_fn on_error; /* may be NULL */
	void *payload;
};

/*
 * Fills *s (zeroed first; release with cnai_sweep_job_release, also after
 * an error), resolves every combination of `ax` over base->c and creates
 * the parent and child runs. A bad combination is CNAI_EUSAGE before any
 * run exists; a store error after ends the runs made so far FAILED.
 */
int cnai_sweep_job_start(struct cnai_sweep_job *s,
			 struct cnai_train_job *base,
			 const struct cnai_sweep_axis *ax, size_t nax,
			 cnai_sweep_error_fn on_error, void *payload);

/*
 * Trains the children, `parallel` at once, each in a forked process with
 * its own store connection and backend, until done or base->stop is set;
 * then ends the runs never started KILLED and the parent KILLED (stopped),
 * FAILED (every child failed) or FINISHED. s->started and s->failed count
 * the children. CNAI_ERROR when fork fails (the runs are ended FAILED);
 * else the store's error from ending the parent.
 */
int cnai_sweep_job_run(struct cnai_sweep_job *s, int parallel);

/*
 * Child i's final loss into *out: its last validation loss, else its
 * last training loss, else NaN. -1 (*out NaN, the error cleared) when its
 * metrics cannot be read: the child has no row in the result.
 */
int cnai_sweep_job_loss(double *out, const struct cnai_sweep_job *s,
			size_t i);

/* Frees what s holds (not base). */
void cnai_sweep_job_release(struct cnai_sweep_job *s);

#endif
