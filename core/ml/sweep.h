/*
 * Hyper-parameter sweeps for 'cnai train': the --sweep KEY=V1,V2 axes, the
 * grid of their combinations (each a resolved config, checked before any
 * run exists), a pool of forked children that trains them N at a time,
 * and the choice of the best run by its final loss.
 */
#ifndef CNAI_CORE_ML_SWEEP_H
#define CNAI_CORE_ML_SWEEP_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

#include "core/ml/train_config.h"

#define CNAI_SWEEP_MAX_AXES 8

/* One swept key and its values (pointers into strings a list owns). */
struct cnai_sweep_axis {
	int key; /* enum cnai_train_key */
	char **vals;
	size_t n;
};

/*
 * Parses `nspecs` specs "KEY=V1,V2,..." into ax[0, *nax) (ax has room for
 * CNAI_SWEEP_MAX_AXES). The values point into copies that `own` keeps;
 * each ax[i].vals is malloc'd: free it (also after an error, for every
 * axis up to *nax). CNAI_EUSAGE on a malformed spec, a key that cannot be
 * swept or too many keys.
 */
int cnai_sweep_parse(struct cnai_sweep_axis *ax, size_t *nax,
		     char *const *specs, size_t nspecs,
		     struct cnai_train_strings *own);

/* Number of combinations of the axes (their sizes multiplied). */
size_t cnai_sweep_size(const struct cnai_sweep_axis *ax, size_t nax);

/*
 * *out gets cnai_sweep_size() configs (malloc'd, the caller frees), each
 * `base` (unresolved strings) with one combination applied, the last axis
 * changing fastest, and resolved. The first error stops it: CNAI_EUSAGE
 * naming the bad option, CNAI_ERROR when memory runs out.
 */
int cnai_sweep_expand(struct cnai_train_config **out,
		      const struct cnai_train_config *base,
		      const struct cnai_sweep_axis *ax, size_t nax);

/*
 * A child run's name into out[0, size): `parent` (or "sweep") then
 * "-PARAM=VALUE" for each axis, cut to size, '/' made '_'.
 */
void cnai_sweep_child_name(char *out, size_t size, const char *parent,
			   const struct cnai_train_config *c,
			   const struct cnai_sweep_axis *ax, size_t nax);

/* {PARAM: VALUE} of c's swept keys; a new reference, the caller's. */
json_t *cnai_sweep_params_json(const struct cnai_train_config *c,
			       const struct cnai_sweep_axis *ax, size_t nax);

/*
 * A child's work: runs in a forked process, for combination `i`; it exits
 * with status 1 when this returns a negative code, else 0.
 */
typedef int (*cnai_sweep_child_fn)(size_t i, void *payload);

/*
 * Runs child(0) .. child(total - 1), each in a forked process, at most
 * `parallel` at once, and waits for them. No new child starts once *stop
 * is set (a signal handler's flag; may be NULL). *started gets how many
 * were started, *failed how many ended other than with status 0.
 * CNAI_ERROR when fork fails (children already running are left to end
 * on their own).
 */
int cnai_sweep_pool_run(size_t *started, size_t *failed, size_t total,
			int parallel, cnai_sweep_child_fn child,
			void *payload, const volatile sig_atomic_t *stop);

/*
 * A run's loss for the choice: its final validation loss, else (NaN) its
 * training loss.
 */
double cnai_sweep_loss(double val_loss, double train_loss);

/* Index of the lowest of loss[0, n) (NaN never), -1 when there is none. */
long cnai_sweep_best(const double *loss, size_t n);

#endif
