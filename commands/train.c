/*
 * cnai train: train a built-in model on a CSV file inside a tracked run,
 * and write (and optionally register) the model folder.
 *
 * Every option is a key (core/ml/train_config.h) with a string value, from
 * the command line, else the -f YAML file, else the default; --sweep grids
 * override keys per child run (core/ml/sweep.h). The data is loaded and
 * checked (core/ml/trainset.h) before a run is created, so bad input
 * leaves nothing behind. This file records the run in the store, draws the
 * progress bar and prints.
 */
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/ml/evaluate.h"
#include "core/ml/io.h"
#include "core/ml/sweep.h"
#include "core/ml/train_config.h"
#include "core/ml/trainset.h"
#include "core/store/blobs.h"
#include "core/store/datasets.h"
#include "core/store/lineage.h"
#include "core/store/logger.h"
#include "core/store/models.h"
#include "core/store/runs.h"
#include "core/util/git.h"
#include "core/util/hash.h"
#include "gpu/backend.h"
#include "core/util/banned.h"

static const char *const synopsis[] = {
	"cnai train --data <file> --target <column> [-o <dir>] "
	"[--register <name>] [<options>]",
	"cnai train -f <config.yaml> [<options>]",
	NULL,
};
static const char *const option_help[] = {
	"options (each also a key of the YAML file):",
	"    --data <file>          training CSV (header row)",
	"    --target <column>      the column to predict",
	"    -o, --output <dir>     write model.onnx, model.safetensors, "
	"cnai-model.json",
	"    --register <name>      also register a new version of model <name>",
	"    --model <m>            auto (default: from the target), linear, "
	"logistic, softmax, mlp",
	"    --hidden <n,...>       hidden layer widths (mlp; default 100)",
	"    --activation <a>       relu (default), tanh, gelu",
	"    --dropout <p>          dropout on hidden layers (default 0)",
	"    --optimizer <o>        adam (default), adamw, sgd, momentum",
	"    --lr <rate>            learning rate (default 0.001)",
	"    --weight-decay <w>     L2 (decoupled for adamw; default 0)",
	"    --momentum <m>         for momentum (default 0.9)",
	"    --epochs <n>           passes over the data (default 20)",
	"    --batch-size <n>       rows per step (default 32)",
	"    --seed <n>             shuffles and initial weights (default 0)",
	"    --early-stopping <n>   stop after n epochs without a better "
	"validation loss",
	"    --valid <file>         validation CSV (else --valid-split of --data)",
	"    --valid-split <f>      fraction held out for validation "
	"(default 0.2; 0: none)",
	"    --test <file>          evaluated once at the end",
	"    --features <a,b>       feature columns (default: all but the "
	"target)",
	"    --drop <a,b>           columns to leave out",
	"    --delimiter <c>        field separator (default ',')",
	"    --device <d>           auto (default), cpu, cuda",
	"    --threads <n>          CPU threads (default: all)",
	"    --experiment, --name   the run's experiment and name",
	"    --json                 the result as JSON",
	"    -f <config.yaml>       options as YAML keys (the command line wins)",
	"    --sweep <k>=<v1>,...   a child run per combination (repeatable)",
	"    --parallel <n>         sweep runs at once (default 1)",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

#define V(c, k) ((c)->v[CNAI_TK_##k])

/*
 * Set by SIGINT/SIGTERM while training: the batch callback stops the
 * loop, and the run is ended KILLED instead of being left RUNNING. The
 * one piece of mutable state here, because a signal handler can reach no
 * other.
 */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static void catch_signals(struct sigaction *old_int,
			  struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static void restore_signals(const struct sigaction *old_int,
			    const struct sigaction *old_term)
{
	sigaction(SIGINT, old_int, NULL);
	sigaction(SIGTERM, old_term, NULL);
}

struct job {
	struct cnai_ctx *ctx;
	struct cnai_store *st;
	struct cnai_train_config *c;
	struct cnai_trainset *d;
	struct cnai_run *run;
	int own_run; /* created here: ended here */
	struct cnai_backend *be;
	/* progress bar */
	int bar;
	double last_draw;
	double last_loss, last_speed;
	int64_t parent;
	int last_epoch; /* epochs run (early stopping may end sooner) */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int create_run(struct job *j)
{
	struct cnai_git_info git;
	struct cnai_run_spec spec = { 0 };
	struct passwd pw, *pwp = NULL;
	char host[256] = "", pwbuf[1024];
	char *cwd = getcwd(NULL, 0);
	const char *env = getenv("CNAI_RUN_ID");
	int err;

	if (env && *env && !j->parent) {
		j->own_run = 0;
		free(cwd);
		return cnai_run_lookup(&j->run, j->st, env);
	}
	j->own_run = 1;
	cnai_git_info_read(&git, cwd ? cwd : ".");
	gethostname(host, sizeof(host) - 1);
	getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &pwp);
	spec.experiment = V(j->c, EXPERIMENT);
	spec.name = V(j->c, NAME);
	spec.command = "cnai train";
	spec.cwd = cwd;
	spec.host = host[0] ? host : NULL;
	spec.user = pwp ? pwp->pw_name : getenv("USER");
	spec.git_commit = git.commit;
	spec.git_branch = git.branch;
	spec.git_remote = git.remote;
	spec.git_dirty = git.dirty;
	spec.parent = j->parent;
	err = cnai_run_create(&j->run, j->st, &spec);
	cnai_git_info_release(&git);
	free(cwd);
	return err;
}

static int record_dataset(struct cnai_store *st, int64_t run_entity,
			  const char *path, const char *digest, uint64_t size,
			  const char *schema, const struct cnai_dtable *t)
{
	char real[PATH_MAX];
	struct cnai_dataset_row row = {
		digest, realpath(path, real) ? real : path, schema, size,
		t ? (int64_t)t->nrows : -1, t ? (int64_t)t->ncols : -1,
	};

	return cnai_dataset_record(NULL, &st->db, &row, run_entity);
}

/* The params of the run (with what auto chose) into an open logger. */
static int log_params(struct cnai_logger *lg, const struct job *j)
{
	char buf[64];
	size_t i;
	int err = 0;

	for (i = 0; i < CNAI_TK_COUNT && !err; i++)
		if (cnai_train_keys[i].param && j->c->v[i])
			err = cnai_logger_param(lg, cnai_train_keys[i].param,
						j->c->v[i]);
	if (!err)
		err = cnai_logger_param(lg, "model_kind",
					cnai_ml_kind_name(j->d->m->kind));
	snprintf(buf, sizeof(buf), "%zu", j->d->m->prep.width);
	if (!err)
		err = cnai_logger_param(lg, "input_width", buf);
	if (!err)
		err = cnai_logger_param(lg, "backend", j->be->name);
	return err;
}

/* Params and input datasets, in one transaction. */
static int record_setup(struct job *j)
{
	struct cnai_store *st = j->st;
	struct cnai_trainset *d = j->d;
	struct cnai_logger *lg = NULL;
	int64_t run_entity;
	int err;

	if ((err = cnai_logger_begin(&lg, st, j->run->id)) < 0)
		return err;
	if ((err = log_params(lg, j)) < 0 ||
	    (err = cnai_lineage_entity(&run_entity, &st->db, CNAI_ENTITY_RUN,
				       j->run->uuid, j->run->name)) < 0 ||
	    (err = record_dataset(st, run_entity, V(j->c, DATA), d->digest,
				  d->size, d->schema, d->t)) < 0 ||
	    (d->vt && (err = record_dataset(st, run_entity, V(j->c, VALID),
					    d->vdigest, d->vsize, d->vschema,
					    d->vt)) < 0) ||
	    (V(j->c, TEST) &&
	     (err = record_dataset(st, run_entity, V(j->c, TEST), d->tdigest,
				   d->tsize, NULL, NULL)) < 0)) {
		cnai_logger_abort(lg);
		return err;
	}
	return cnai_logger_commit(lg);
}

/* Metrics p[0, n) at `step`, in one transaction. */
static int log_points(const struct job *j,
		      const struct cnai_evaluate_point *p, size_t n, int step)
{
	struct cnai_logger *lg = NULL;
	int64_t ts = (int64_t)time(NULL) * 1000;
	size_t i;
	int err;

	if ((err = cnai_logger_begin(&lg, j->st, j->run->id)) < 0)
		return err;
	for (i = 0; i < n && !err; i++)
		err = cnai_logger_metric(lg, p[i].key, p[i].value, step, ts);
	if (err) {
		cnai_logger_abort(lg);
		return err;
	}
	return cnai_logger_commit(lg);
}

static void draw_bar(struct job *j, int epoch, size_t done, size_t total)
{
	int width = 24, fill = total ? (int)(width * done / total) : 0;
	char bar[32];

	memset(bar, '=', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(width - fill));
	bar[width] = '\0';
	fprintf(stderr, "\repoch %d/%d [%s] %3d%%", epoch, j->c->t.epochs, bar,
		total ? (int)(100 * done / total) : 0);
	if (j->last_speed > 0)
		fprintf(stderr, "  loss %.4f  %.0f rows/s", j->last_loss,
			j->last_speed);
	fprintf(stderr, "\033[K");
}

static int on_batch(int epoch, size_t done, size_t total, void *payload)
{
	struct job *j = payload;
	double t;

	if (interrupted)
		return cnai_error_set(CNAI_ERROR, "interrupted at epoch %d",
				      epoch);
	if (!j->bar)
		return 0;
	t = now_s();
	if (t - j->last_draw < 0.1 && done < total)
		return 0;
	j->last_draw = t;
	draw_bar(j, epoch, done, total);
	return 0;
}

static int on_epoch(const struct cnai_ml_epoch *e, void *payload)
{
	struct job *j = payload;
	struct cnai_evaluate_point p[CNAI_EVALUATE_MAX_POINTS];
	size_t n = cnai_evaluate_epoch(
		p, e, cnai_ml_model_is_classifier(j->d->m), 1);

	j->last_epoch = e->epoch;
	j->last_loss = e->train_loss;
	j->last_speed = e->samples_per_second;
	if (j->bar)
		draw_bar(j, e->epoch, 1, 1);
	return log_points(j, p, n, e->epoch);
}

/* Test-set metrics into `metrics`, and as run metrics at `step`. */
static int evaluate_test(struct job *j, json_t *metrics, int step)
{
	struct cnai_evaluate_point p[CNAI_EVALUATE_MAX_POINTS];
	const char *k;
	json_t *v;
	size_t n = 0;
	int err;

	if ((err = cnai_evaluate_test(metrics, j->d->m, j->be, V(j->c, TEST),
				      j->c->delim)) < 0)
		return err;
	json_object_foreach(metrics, k, v)
		if (!strncmp(k, "test_", 5) && n < CNAI_EVALUATE_MAX_POINTS)
			p[n++] = (struct cnai_evaluate_point){
				k, json_number_value(v)
			};
	return log_points(j, p, n, step);
}

static const char *const model_files[] = { CNAI_MODEL_ONNX,
					   CNAI_MODEL_SAFETENSORS,
					   CNAI_MODEL_JSON };

/* The model's files as run artifacts ("model/model.onnx", ...). */
static int log_model_artifacts(struct job *j, const char *dir)
{
	struct cnai_logger *lg = NULL;
	char path[PATH_MAX], name[64], digest[CNAI_DIGEST_LEN];
	uint64_t size;
	size_t i;
	int err;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, model_files[i]);
		if ((err = cnai_blob_put_file(digest, &size, j->st, path)) < 0)
			return err;
	}
	if ((err = cnai_logger_begin(&lg, j->st, j->run->id)) < 0)
		return err;
	for (i = 0; i < 3 && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, model_files[i]);
		snprintf(name, sizeof(name), "model/%s", model_files[i]);
		if ((err = cnai_sha256_file(digest, &size, path)) == 0)
			err = cnai_logger_artifact(lg, name, digest, size);
	}
	if (err) {
		cnai_logger_abort(lg);
		return err;
	}
	return cnai_logger_commit(lg);
}

static void remove_model_dir(const char *dir)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, model_files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/*
 * Writes the model to `out` (read back as predict will) and records its
 * files in the run. Only what the data, options and seed decide goes in
 * the folder (no run id, no time), so the same training gives the same
 * bytes, version and image digests; the run is recorded in the store.
 */
static int write_model(struct job *j, const char *out, json_t *metrics,
		       int best_epoch)
{
	json_t *extra;
	int err;

	extra = json_pack("{s:o, s:o, s:o, s:i, s:i, s:s}", "metrics",
			  json_deep_copy(metrics), "datasets",
			  cnai_trainset_datasets_json(j->d, j->c), "training",
			  cnai_train_config_params_json(j->c),
			  "epochs_trained", j->last_epoch, "best_epoch",
			  best_epoch, "device", j->be->name);
	if (!extra)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if ((err = cnai_ml_model_save(j->d->m, out, extra)) < 0 ||
	    (err = cnai_ml_model_check_saved(j->d->m, out)) < 0)
		goto cleanup;
	err = log_model_artifacts(j, out);
cleanup:
	json_decref(extra);
	return err;
}

/* The summary of a trained run, for print_result and --json. */
static json_t *result_json(const struct job *j, json_t *metrics,
			   double seconds, const char *dir,
			   const struct cnai_model_version *v, int created)
{
	const struct cnai_ml_model *m = j->d->m;
	json_t *r;

	r = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:f, s:O, s:s}", "run",
		      j->run->uuid, "model", cnai_ml_kind_name(m->kind),
		      "task",
		      cnai_ml_model_is_classifier(m) ? "classification"
						     : "regression",
		      "epochs", j->last_epoch, "train_rows",
		      (json_int_t)j->d->ntrain, "parameters",
		      (json_int_t)cnai_ml_model_nparams(m), "seconds", seconds,
		      "metrics", metrics, "device", j->be->device);
	json_object_set_new(r, "read_seconds", json_real(j->d->read_seconds));
	if (dir)
		json_object_set_new(r, "output", json_string(dir));
	if (v)
		json_object_set_new(r, "registered",
				    json_pack("{s:s, s:I, s:s, s:b}", "name",
					      v->name, "version",
					      (json_int_t)v->version, "digest",
					      v->manifest_digest, "created",
					      created));
	return r;
}

/*
 * Trains one model in the job's run and writes it to `dir` (and
 * registers it); *result gets the summary JSON.
 */
static int train_one(struct job *j, const char *dir, json_t **result)
{
	struct cnai_ml_epoch fin;
	struct cnai_evaluate_point p[CNAI_EVALUATE_MAX_POINTS];
	struct cnai_model_version *v = NULL;
	json_t *metrics = json_object();
	char tmpl[] = "/tmp/cnai-train.XXXXXX";
	const char *out = dir;
	int err, created = 0;
	size_t i, n;
	double t0 = now_s();

	*result = NULL;
	j->bar = j->ctx->stderr_tty && !j->ctx->quiet && !j->parent;
	err = cnai_trainset_fit(&fin, j->d, j->c, j->be, on_epoch, on_batch,
				j);
	if (j->bar)
		fputs("\r\033[K", stderr);
	if (err < 0)
		goto cleanup;
	n = cnai_evaluate_epoch(p, &fin,
				cnai_ml_model_is_classifier(j->d->m), 0);
	for (i = 0; i < n; i++)
		json_object_set_new(metrics, p[i].key, json_real(p[i].value));
	if (V(j->c, TEST) && (err = evaluate_test(j, metrics, fin.epoch)) < 0)
		goto cleanup;
	if (!out) {
		if (!mkdtemp(tmpl)) {
			err = cnai_error_set_errno(CNAI_ERROR,
						   "cannot create a temporary "
						   "folder");
			goto cleanup;
		}
		out = tmpl;
	}
	if ((err = write_model(j, out, metrics, fin.epoch)) < 0)
		goto cleanup;
	if (V(j->c, REGISTER) && !j->parent) {
		struct cnai_model_register_opts ro = { 0 };
		const char *paths[1] = { out };

		ro.run = j->run->uuid;
		ro.description = "trained by cnai train";
		if ((err = cnai_model_register(&v, &created, j->st,
					       V(j->c, REGISTER), paths, 1,
					       &ro)) < 0)
			goto cleanup;
	}
	*result = result_json(j, metrics, now_s() - t0, dir, v, created);
cleanup:
	if (out == tmpl)
		remove_model_dir(tmpl);
	cnai_model_version_free(v);
	json_decref(metrics);
	return err;
}

static void print_result(const struct cnai_ctx *ctx, json_t *r)
{
	json_t *m = json_object_get(r, "metrics"), *reg;
	const char *k;
	json_t *v;
	char num[64];

	if (ctx->json) {
		cnai_json_print(json_incref(r));
		return;
	}
	printf("run %s: %s %s, %lld epochs on %lld rows in %.1fs (%s)\n",
	       json_string_value(json_object_get(r, "run")),
	       json_string_value(json_object_get(r, "model")),
	       json_string_value(json_object_get(r, "task")),
	       (long long)json_integer_value(json_object_get(r, "epochs")),
	       (long long)json_integer_value(json_object_get(r, "train_rows")),
	       json_real_value(json_object_get(r, "seconds")),
	       json_string_value(json_object_get(r, "device")));
	json_object_foreach(m, k, v) {
		snprintf(num, sizeof(num), "%.6g", json_number_value(v));
		printf("  %-14s %s\n", k, num);
	}
	if (json_object_get(r, "output"))
		printf("model written to %s\n",
		       json_string_value(json_object_get(r, "output")));
	if ((reg = json_object_get(r, "registered")))
		printf("registered %s version %lld\n",
		       json_string_value(json_object_get(reg, "name")),
		       (long long)json_integer_value(
			       json_object_get(reg, "version")));
}

static int open_backend(struct job *j)
{
	char notice[512];
	int err;

	if ((err = cnai_backend_open(&j->be, V(j->c, DEVICE), j->c->threads,
				     notice, sizeof(notice))) < 0)
		return err;
	if (notice[0] && !j->parent)
		cnai_notice(j->ctx, "cannot use the GPU (%s); training on the "
			    "CPU", notice);
	return 0;
}

/* ---- sweeps ---- */

struct sweep {
	struct job *base;
	const struct cnai_sweep_axis *ax;
	size_t nax, total;
	struct cnai_train_config *cfgs;
	struct cnai_run *parent, **kids;
	char **dirs;
};

/* A sweep child, after fork: its own store connection and backend. */
static int sweep_child(size_t i, void *payload)
{
	struct sweep *s = payload;
	struct job j = *s->base;
	struct cnai_store *st = NULL;
	json_t *r = NULL;
	int e;

	j.c = &s->cfgs[i];
	j.run = s->kids[i];
	j.parent = s->parent->id;
	j.be = NULL;
	if ((e = cnai_store_open(&st, s->base->st->root)) == 0) {
		j.st = st;
		if ((e = open_backend(&j)) == 0 &&
		    (e = record_setup(&j)) == 0)
			e = train_one(&j, s->dirs[i], &r);
	}
	if (e < 0 && !j.ctx->quiet)
		fprintf(stderr, "cnai: error: run %s: %s\n", s->kids[i]->uuid,
			cnai_error_last()->message);
	if (st)
		cnai_run_end(st, s->kids[i]->id,
			     interrupted ? "KILLED"
			     : e < 0     ? "FAILED"
					 : "FINISHED",
			     0, 0);
	json_decref(r);
	if (j.be)
		j.be->close(j.be);
	cnai_store_free(st);
	return e;
}

/* The parent run (tagged with the sweep's size) and a run a child. */
static int sweep_create_runs(struct sweep *s)
{
	struct job *base = s->base;
	struct cnai_logger *lg = NULL;
	char buf[32], name[300];
	size_t i;
	int err;

	if ((err = create_run(base)) < 0)
		return err;
	s->parent = base->run;
	base->own_run = 1;
	snprintf(buf, sizeof(buf), "%zu", s->total);
	if ((err = cnai_logger_begin(&lg, base->st, s->parent->id)) < 0)
		return err;
	if ((err = cnai_logger_tag(lg, "sweep.size", buf)) < 0 ||
	    (err = cnai_logger_commit(lg)) < 0) {
		cnai_logger_abort(lg);
		return err;
	}
	for (i = 0; i < s->total; i++) {
		struct job j = *base;
		struct cnai_train_config tmp = s->cfgs[i];

		cnai_sweep_child_name(name, sizeof(name), s->parent->name,
				      &s->cfgs[i], s->ax, s->nax);
		s->cfgs[i].v[CNAI_TK_NAME] = NULL;
		tmp.v[CNAI_TK_NAME] = name;
		j.c = &tmp;
		j.parent = s->parent->id;
		j.run = NULL;
		if ((err = create_run(&j)) < 0)
			return err;
		s->kids[i] = j.run;
		if (V(base->c, OUTPUT) &&
		    asprintf(&s->dirs[i], "%s/%s", V(base->c, OUTPUT),
			     j.run->uuid) < 0)
			return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	return 0;
}

/* Each child's row {run, params, loss[, output]}; *best the lowest. */
static json_t *sweep_rows(const struct sweep *s, long *best)
{
	json_t *out = json_array();
	double *loss = malloc(s->total * sizeof(*loss) + 1);
	size_t i, k, np;

	for (i = 0; i < s->total && loss; i++) {
		struct cnai_metric_point *pts = NULL;
		double vl = NAN, tl = NAN;
		json_t *row;

		loss[i] = NAN;
		if (cnai_run_latest_metrics(&pts, &np, s->base->st,
					    s->kids[i]->id) < 0) {
			cnai_error_clear();
			continue;
		}
		for (k = 0; k < np; k++) {
			if (!strcmp(pts[k].key, "val_loss"))
				vl = pts[k].value;
			if (!strcmp(pts[k].key, "train_loss"))
				tl = pts[k].value;
		}
		cnai_metric_free_array(pts, np);
		loss[i] = cnai_sweep_loss(vl, tl);
		row = json_pack("{s:s, s:o, s:o}", "run", s->kids[i]->uuid,
				"params",
				cnai_sweep_params_json(&s->cfgs[i], s->ax,
						       s->nax),
				"loss", cnai_json_double(loss[i]));
		if (s->dirs[i])
			json_object_set_new(row, "output",
					    json_string(s->dirs[i]));
		json_array_append_new(out, row);
	}
	*best = loss ? cnai_sweep_best(loss, s->total) : -1;
	free(loss);
	return out;
}

static void sweep_print(const struct sweep *s, json_t *rows, long best,
			size_t failed)
{
	const char *best_uuid = best >= 0 ? s->kids[best]->uuid : NULL;
	size_t i;

	if (s->base->ctx->json) {
		cnai_json_print(json_pack("{s:s, s:O, s:s?}", "parent",
					  s->parent->uuid, "runs", rows, "best",
					  best_uuid));
		return;
	}
	printf("sweep %s: %zu runs, %zu failed\n", s->parent->uuid, s->total,
	       failed);
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i), *pv;
		const char *run = json_string_value(json_object_get(row, "run"));
		const char *k;

		printf("%s %s ", !strcmp(run, best_uuid ? best_uuid : "") ? "*"
									  : " ",
		       run);
		json_object_foreach(json_object_get(row, "params"), k, pv)
			printf(" %s=%s", k, json_string_value(pv));
		printf("  loss %.6g\n",
		       json_number_value(json_object_get(row, "loss")));
	}
}

/* Ends the runs, registers the best and prints; the sweep's result. */
static int sweep_finish(struct sweep *s, size_t started, size_t failed)
{
	struct job *base = s->base;
	json_t *rows;
	long best;
	size_t i;
	int err;

	rows = sweep_rows(s, &best);
	for (i = started; i < s->total; i++) /* never started */
		cnai_run_end(base->st, s->kids[i]->id, "KILLED", 0, 0);
	err = cnai_run_end(base->st, s->parent->id,
			   interrupted	       ? "KILLED"
			   : failed == s->total ? "FAILED"
						: "FINISHED",
			   0, 0);
	if (err == 0 && best >= 0 && V(base->c, REGISTER) && s->dirs[best]) {
		struct cnai_model_register_opts ro = { 0 };
		struct cnai_model_version *v = NULL;
		const char *paths[1] = { s->dirs[best] };
		int created;

		ro.run = s->kids[best]->uuid;
		ro.description = "best of a cnai train sweep";
		err = cnai_model_register(&v, &created, base->st,
					  V(base->c, REGISTER), paths, 1, &ro);
		if (err == 0 && !base->ctx->json)
			printf("registered %s version %lld (run %s)\n", v->name,
			       (long long)v->version, s->kids[best]->uuid);
		cnai_model_version_free(v);
	}
	if (err == 0)
		sweep_print(s, rows, best, failed);
	json_decref(rows);
	if (err < 0)
		return err;
	if (interrupted)
		return CNAI_CMD_EXIT(128 + interrupted);
	if (failed == s->total)
		return cnai_error_set(CNAI_ERROR,
				      "every run of the sweep failed");
	return 0;
}

static int cmd_sweep(struct job *base, const struct cnai_sweep_axis *ax,
		     size_t nax, int parallel)
{
	struct sweep s = { base, ax, nax, cnai_sweep_size(ax, nax) };
	struct sigaction old_int, old_term;
	size_t i, started = 0, failed = 0;
	int err;

	/* every combination resolves before any run exists */
	if ((err = cnai_sweep_expand(&s.cfgs, base->c, ax, nax)) < 0)
		return err;
	s.kids = calloc(s.total + 1, sizeof(*s.kids));
	s.dirs = calloc(s.total + 1, sizeof(*s.dirs));
	if (!s.kids || !s.dirs) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = sweep_create_runs(&s)) < 0)
		goto fail;
	/* a SIGINT reaches the children too (same process group), and
	 * each ends its run KILLED */
	catch_signals(&old_int, &old_term);
	err = cnai_sweep_pool_run(&started, &failed, s.total, parallel,
				  sweep_child, &s, &interrupted);
	restore_signals(&old_int, &old_term);
	if (err < 0)
		goto fail;
	err = sweep_finish(&s, started, failed);
	goto cleanup;
fail:
	if (s.parent)
		cnai_run_end(base->st, s.parent->id, "FAILED", 0, 0);
	for (i = 0; i < s.total; i++)
		if (s.kids[i])
			cnai_run_end(base->st, s.kids[i]->id, "FAILED", 0, 0);
cleanup:
	for (i = 0; s.kids && i < s.total; i++) {
		cnai_run_free(s.kids[i]);
		free(s.dirs[i]);
	}
	base->run = NULL;
	cnai_run_free(s.parent);
	free(s.cfgs);
	free(s.kids);
	free(s.dirs);
	return err;
}

/* ---- the command ---- */

enum { OPT_KEY = 0x100, OPT_SWEEP = 0x200, OPT_PARALLEL };

/* A long option a key (its name), then the options that are not keys. */
static void build_longopts(struct option *o)
{
	static const struct option rest[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "sweep", required_argument, NULL, OPT_SWEEP },
		{ "parallel", required_argument, NULL, OPT_PARALLEL },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	size_t i;

	for (i = 0; i < CNAI_TK_COUNT; i++)
		o[i] = (struct option){ cnai_train_keys[i].name,
					required_argument, NULL,
					i == CNAI_TK_OUTPUT ? 'o'
							    : OPT_KEY + (int)i };
	memcpy(o + CNAI_TK_COUNT, rest, sizeof(rest));
}

/* Options of the command line and the -f file, before resolving. */
struct args {
	const char *cli_v[CNAI_TK_COUNT], *file_v[CNAI_TK_COUNT];
	const char *config;
	char **sweeps;
	size_t nsweeps;
	int parallel;
};

/* 1 when the command should stop (help, or an error in *err). */
static int parse_args(struct args *a, int argc, char **argv,
		      struct cnai_ctx *ctx, int *err)
{
	struct option longopts[CNAI_TK_COUNT + 6];
	int opt;

	build_longopts(longopts);
	while ((opt = cnai_getopt(argc, argv, ":o:f:h", longopts, &usage,
				  ctx)) != -1) {
		if (opt >= OPT_KEY && opt < OPT_KEY + CNAI_TK_COUNT) {
			a->cli_v[opt - OPT_KEY] = optarg;
		} else if (opt == 'o') {
			a->cli_v[CNAI_TK_OUTPUT] = optarg;
		} else if (opt == 'f') {
			a->config = optarg;
		} else if (opt == OPT_SWEEP) {
			char **g = realloc(a->sweeps,
					   (a->nsweeps + 1) * sizeof(*g));

			if (!g)
				return (*err = cnai_error_set(CNAI_ERROR,
							      "out of memory")),
				       1;
			a->sweeps = g;
			a->sweeps[a->nsweeps++] = optarg;
		} else if (opt == OPT_PARALLEL) {
			if ((*err = cnai_train_config_parse_int(
				     &a->parallel, optarg, "parallel", 1)) < 0)
				return 1;
		} else {
			*err = opt == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
			return 1;
		}
	}
	if (optind < argc) {
		*err = cnai_error_set(CNAI_EUSAGE,
				      "unexpected argument '%s'; see 'cnai "
				      "train --help'", argv[optind]);
		return 1;
	}
	return 0;
}

/* The command line wins over the -f file. */
static void merge_args(struct cnai_train_config *c, const struct args *a)
{
	size_t i;

	for (i = 0; i < CNAI_TK_COUNT; i++)
		c->v[i] = a->cli_v[i] ? a->cli_v[i] : a->file_v[i];
}

/* One run (no sweep): train, record, print. */
static int train_single(struct job *j)
{
	struct sigaction old_int, old_term;
	json_t *result = NULL;
	int err;

	if ((err = open_backend(j)) < 0 || (err = create_run(j)) < 0)
		return err;
	catch_signals(&old_int, &old_term);
	if ((err = record_setup(j)) < 0 ||
	    (err = train_one(j, V(j->c, OUTPUT), &result)) < 0)
		goto failed;
	if (j->d->stats.imputed || j->d->stats.unknown)
		cnai_notice(j->ctx, "%zu empty cells imputed",
			    j->d->stats.imputed);
	if (j->own_run &&
	    (err = cnai_run_end(j->st, j->run->id, "FINISHED", 0, 0)) < 0)
		goto cleanup;
	print_result(j->ctx, result);
	goto cleanup;
failed:
	if (j->own_run)
		cnai_run_end(j->st, j->run->id,
			     interrupted ? "KILLED" : "FAILED", 0, 0);
	if (interrupted) {
		fprintf(stderr, "cnai: %s; run %s %s\n",
			cnai_error_last()->message, j->run->uuid,
			j->own_run ? "marked KILLED" : "left to its owner");
		err = CNAI_CMD_EXIT(128 + interrupted);
	}
cleanup:
	restore_signals(&old_int, &old_term);
	json_decref(result);
	return err;
}

int cmd_train(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct args a = { .parallel = 1 };
	struct cnai_sweep_axis ax[CNAI_SWEEP_MAX_AXES];
	struct cnai_train_strings own = { 0 };
	struct cnai_train_config c, probe;
	struct cnai_trainset d;
	struct job j;
	size_t i, nax = 0;
	int err = 0;

	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	memset(&j, 0, sizeof(j));
	memset(ax, 0, sizeof(ax));
	if (parse_args(&a, argc, argv, ctx, &err) ||
	    (a.config && (err = cnai_train_config_load_yaml(
				  a.config, a.file_v, &own, &a.sweeps,
				  &a.nsweeps)) < 0))
		goto cleanup;
	merge_args(&c, &a);
	if ((err = cnai_sweep_parse(ax, &nax, a.sweeps, a.nsweeps, &own)) < 0)
		goto cleanup;
	/* sweep keys need not resolve alone; check the base */
	probe = c;
	if ((err = cnai_train_config_resolve(&probe)) < 0)
		goto cleanup;
	c = probe;
	if ((err = cnai_trainset_load(&d, &c)) < 0)
		goto cleanup;
	j.ctx = ctx;
	j.st = ctx->store;
	j.c = &c;
	j.d = &d;
	if (nax) {
		merge_args(&c, &a); /* children re-resolve defaults */
		err = cmd_sweep(&j, ax, nax, a.parallel);
	} else {
		err = train_single(&j);
	}
cleanup:
	for (i = 0; i < nax; i++)
		free(ax[i].vals);
	if (j.be)
		j.be->close(j.be);
	cnai_run_free(j.run);
	cnai_trainset_release(&d);
	cnai_train_strings_release(&own);
	free(a.sweeps);
	return err;
}
