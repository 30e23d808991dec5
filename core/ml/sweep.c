/*
 * Sweeps for 'cnai train' (see sweep.h). Children are forked rather than
 * threaded: each opens its own store connection and backend, so a crash
 * or a GPU error in one run cannot take the others down, and a SIGINT
 * reaches them all (same process group) to end each run KILLED.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/ml/sweep.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/banned.h"

/* Keys a sweep may change: those of the model and the optimisation. */
static int sweepable(int key)
{
	switch (key) {
	case CNAI_TK_HIDDEN: case CNAI_TK_ACTIVATION: case CNAI_TK_DROPOUT:
	case CNAI_TK_OPTIMIZER: case CNAI_TK_LR: case CNAI_TK_WD:
	case CNAI_TK_MOMENTUM: case CNAI_TK_EPOCHS: case CNAI_TK_BATCH:
	case CNAI_TK_SEED: case CNAI_TK_EARLY:
		return 1;
	default:
		return 0;
	}
}

/* Splits "V1,V2" (in place) into a->vals. */
static int split_values(struct cnai_sweep_axis *a, char *list)
{
	char *save = NULL, *tok;

	/* hidden sizes use 'x' inside one value: 64x32 */
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char **g = realloc(a->vals, (a->n + 1) * sizeof(*g));

		if (!g)
			return cnai_error_set(CNAI_ERROR, "out of memory");
		a->vals = g;
		a->vals[a->n++] = tok;
	}
	return 0;
}

int cnai_sweep_parse(struct cnai_sweep_axis *ax, size_t *nax,
		     char *const *specs, size_t nspecs,
		     struct cnai_train_strings *own)
{
	size_t i;
	int err;

	*nax = 0;
	if (nspecs > CNAI_SWEEP_MAX_AXES)
		return cnai_error_set(CNAI_EUSAGE, "--sweep: at most %d keys",
				      CNAI_SWEEP_MAX_AXES);
	for (i = 0; i < nspecs; i++) {
		char *dup = strdup(specs[i]), *eq;
		struct cnai_sweep_axis *a = &ax[(*nax)++];

		memset(a, 0, sizeof(*a));
		if (!dup || !cnai_train_strings_keep(own, dup))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		if (!(eq = strchr(dup, '=')) || eq == dup || !eq[1])
			return cnai_error_set(CNAI_EUSAGE,
					      "--sweep: '%s' is not "
					      "KEY=V1,V2,...", specs[i]);
		*eq = '\0';
		a->key = cnai_train_config_find_key(dup);
		if (!sweepable(a->key))
			return cnai_error_set(CNAI_EUSAGE,
					      "--sweep: '%s' is not one of "
					      "hidden, activation, dropout, "
					      "optimizer, lr, weight-decay, "
					      "momentum, epochs, batch-size, "
					      "seed, early-stopping", dup);
		if ((err = split_values(a, eq + 1)) < 0)
			return err;
	}
	return 0;
}

size_t cnai_sweep_size(const struct cnai_sweep_axis *ax, size_t nax)
{
	size_t total = 1, a;

	for (a = 0; a < nax; a++)
		total *= ax[a].n;
	return total;
}

int cnai_sweep_expand(struct cnai_train_config **out,
		      const struct cnai_train_config *base,
		      const struct cnai_sweep_axis *ax, size_t nax)
{
	size_t total = cnai_sweep_size(ax, nax), i, a;
	struct cnai_train_config *cfgs = calloc(total ? total : 1,
						sizeof(*cfgs));
	int err;

	*out = NULL;
	if (!cfgs)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < total; i++) {
		size_t rest = i;

		cfgs[i] = *base;
		for (a = nax; a-- > 0;) {
			cfgs[i].v[ax[a].key] = ax[a].vals[rest % ax[a].n];
			rest /= ax[a].n;
		}
		if ((err = cnai_train_config_resolve(&cfgs[i])) < 0) {
			free(cfgs);
			return err;
		}
	}
	*out = cfgs;
	return 0;
}

void cnai_sweep_child_name(char *out, size_t size, const char *parent,
			   const struct cnai_train_config *c,
			   const struct cnai_sweep_axis *ax, size_t nax)
{
	struct cnai_buf nb = CNAI_BUF_INIT;
	size_t a, k;

	cnai_buf_adds(&nb, parent ? parent : "sweep");
	for (a = 0; a < nax; a++)
		cnai_buf_addf(&nb, "-%s=%s", cnai_train_keys[ax[a].key].param,
			      c->v[ax[a].key]);
	snprintf(out, size, "%s", nb.buf);
	cnai_buf_release(&nb);
	for (k = 0; out[k]; k++)
		if (out[k] == '/')
			out[k] = '_';
}

json_t *cnai_sweep_params_json(const struct cnai_train_config *c,
			       const struct cnai_sweep_axis *ax, size_t nax)
{
	json_t *o = json_object();
	size_t a;

	for (a = 0; a < nax; a++)
		json_object_set_new(o, cnai_train_keys[ax[a].key].param,
				    json_string(c->v[ax[a].key]));
	return o;
}

int cnai_sweep_pool_run(size_t *started, size_t *failed, size_t total,
			int parallel, cnai_sweep_child_fn child,
			void *payload, const volatile sig_atomic_t *stop)
{
	size_t running = 0;

	*started = *failed = 0;
	while (*started < total || running) {
		int status;
		pid_t pid;

		while (!(stop && *stop) && *started < total &&
		       running < (size_t)parallel) {
			/* a child must not write the parent's buffers again */
			fflush(NULL);
			pid = fork();
			if (pid < 0)
				return cnai_error_set_errno(CNAI_ERROR, "fork");
			if (pid == 0) {
				int e = child(*started, payload);

				fflush(NULL);
				_exit(e < 0 ? 1 : 0);
			}
			(*started)++;
			running++;
		}
		if (!running)
			break;
		pid = wait(&status);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			(*failed)++;
	}
	return 0;
}

double cnai_sweep_loss(double val_loss, double train_loss)
{
	return isnan(val_loss) ? train_loss : val_loss;
}

long cnai_sweep_best(const double *loss, size_t n)
{
	double best_loss = INFINITY;
	long best = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if (loss[i] < best_loss) {
			best_loss = loss[i];
			best = (long)i;
		}
	return best;
}
