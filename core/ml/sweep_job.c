/*
 * Sweeps recorded in the store (see sweep_job.h). Every child run exists
 * before the first fork, so a sweep cut short shows each combination,
 * ended KILLED if it never started; a child opens its own store
 * connection, since a SQLite handle must not cross a fork.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ml/sweep_job.h"
#include "core/store/logger.h"
#include "core/util/error.h"
#include "core/util/banned.h"

/* The parent run, tagged with the sweep's size. */
static int create_parent(struct cnai_sweep_job *s)
{
	struct cnai_train_job *base = s->base;
	struct cnai_logger *lg = NULL;
	char buf[32];
	int err;

	if ((err = cnai_train_job_create_run(base)) < 0)
		return err;
	s->parent = base->run;
	base->run = NULL;
	base->own_run = 1;
	snprintf(buf, sizeof(buf), "%zu", s->total);
	if ((err = cnai_logger_begin(&lg, base->st, s->parent->id)) < 0)
		return err;
	if ((err = cnai_logger_tag(lg, "sweep.size", buf)) < 0 ||
	    (err = cnai_logger_commit(lg)) < 0) {
		cnai_logger_abort(lg);
		return err;
	}
	return 0;
}

/* A run a child, named after its values; its output folder. */
static int create_kids(struct cnai_sweep_job *s)
{
	const char *out = s->base->c->v[CNAI_TK_OUTPUT];
	char name[300];
	size_t i;
	int err;

	for (i = 0; i < s->total; i++) {
		struct cnai_train_job j = *s->base;
		struct cnai_train_config tmp = s->cfgs[i];

		cnai_sweep_child_name(name, sizeof(name), s->parent->name,
				      &s->cfgs[i], s->ax, s->nax);
		s->cfgs[i].v[CNAI_TK_NAME] = NULL;
		tmp.v[CNAI_TK_NAME] = name;
		j.c = &tmp;
		j.parent = s->parent->id;
		j.run = NULL;
		if ((err = cnai_train_job_create_run(&j)) < 0)
			return err;
		s->kids[i] = j.run;
		if (out && asprintf(&s->dirs[i], "%s/%s", out, j.run->uuid) < 0)
			return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	return 0;
}

static void end_failed(struct cnai_sweep_job *s)
{
	size_t i;

	if (s->parent)
		cnai_run_end(s->base->st, s->parent->id, CNAI_RUN_FAILED, 0, 0);
	for (i = 0; s->kids && i < s->total; i++)
		if (s->kids[i])
			cnai_run_end(s->base->st, s->kids[i]->id, CNAI_RUN_FAILED, 0,
				     0);
}

int cnai_sweep_job_start(struct cnai_sweep_job *s,
			 struct cnai_train_job *base,
			 const struct cnai_sweep_axis *ax, size_t nax,
			 cnai_sweep_error_fn on_error, void *payload)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->base = base;
	s->ax = ax;
	s->nax = nax;
	s->total = cnai_sweep_size(ax, nax);
	s->on_error = on_error;
	s->payload = payload;
	/* every combination resolves before any run exists */
	if ((err = cnai_sweep_expand(&s->cfgs, base->c, ax, nax)) < 0)
		return err;
	s->kids = calloc(s->total + 1, sizeof(*s->kids));
	s->dirs = calloc(s->total + 1, sizeof(*s->dirs));
	if (!s->kids || !s->dirs)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if ((err = create_parent(s)) < 0 || (err = create_kids(s)) < 0)
		end_failed(s);
	return err;
}

/* Trains child i (in the forked process) and ends its run. */
static int run_child(size_t i, void *payload)
{
	struct cnai_sweep_job *s = payload;
	struct cnai_train_job j = *s->base;
	struct cnai_store *st = NULL;
	char notice[512];
	json_t *r = NULL;
	int e;

	j.c = &s->cfgs[i];
	j.run = s->kids[i];
	j.parent = s->parent->id;
	j.be = NULL;
	j.progress = NULL; /* children draw no bar */
	/* a GPU notice is the parent's to give, once, not each child's */
	if ((e = cnai_store_open(&st, cnai_store_root(s->base->st))) == 0) {
		j.st = st;
		if ((e = cnai_backend_open(&j.be, j.c->v[CNAI_TK_DEVICE],
					   j.c->threads, notice,
					   sizeof(notice))) == 0 &&
		    (e = cnai_train_job_record_setup(&j)) == 0)
			e = cnai_train_job_fit(&r, &j, s->dirs[i]);
	}
	if (e < 0 && s->on_error)
		s->on_error(s->kids[i]->uuid, cnai_error_last()->message,
			    s->payload);
	if (st)
		cnai_run_end(st, s->kids[i]->id,
			     j.stop && *j.stop ? CNAI_RUN_KILLED
			     : e < 0	       ? CNAI_RUN_FAILED
					       : CNAI_RUN_FINISHED,
			     0, 0);
	json_decref(r);
	if (j.be)
		j.be->close(j.be);
	cnai_store_free(st);
	return e;
}

int cnai_sweep_job_run(struct cnai_sweep_job *s, int parallel)
{
	const volatile sig_atomic_t *stop = s->base->stop;
	size_t i;
	int err;

	if ((err = cnai_sweep_pool_run(&s->started, &s->failed, s->total,
				       parallel, run_child, s, stop)) < 0) {
		end_failed(s);
		return err;
	}
	for (i = s->started; i < s->total; i++) /* never started */
		cnai_run_end(s->base->st, s->kids[i]->id, CNAI_RUN_KILLED, 0, 0);
	return cnai_run_end(s->base->st, s->parent->id,
			    stop && *stop	       ? CNAI_RUN_KILLED
			    : s->failed == s->total ? CNAI_RUN_FAILED
						    : CNAI_RUN_FINISHED,
			    0, 0);
}

int cnai_sweep_job_loss(double *out, const struct cnai_sweep_job *s,
			size_t i)
{
	struct cnai_metric_point *pts = NULL;
	double vl = NAN, tl = NAN;
	size_t k, np = 0;

	*out = NAN;
	if (cnai_run_latest_metrics(&pts, &np, s->base->st, s->kids[i]->id) <
	    0) {
		cnai_error_clear();
		return -1;
	}
	for (k = 0; k < np; k++) {
		if (!strcmp(pts[k].key, "val_loss"))
			vl = pts[k].value;
		if (!strcmp(pts[k].key, "train_loss"))
			tl = pts[k].value;
	}
	cnai_metric_free_array(pts, np);
	*out = cnai_sweep_loss(vl, tl);
	return 0;
}

void cnai_sweep_job_release(struct cnai_sweep_job *s)
{
	size_t i;

	for (i = 0; s->kids && i < s->total; i++) {
		cnai_run_free(s->kids[i]);
		free(s->dirs[i]);
	}
	cnai_run_free(s->parent);
	free(s->cfgs);
	free(s->kids);
	free(s->dirs);
	memset(s, 0, sizeof(*s));
}
