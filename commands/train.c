/*
 * cnai train: train a built-in model on a CSV file inside a tracked run,
 * and write (and optionally register) the model folder.
 *
 * Parses the options (each a key of core/ml/train_config.h, from the
 * command line, else the -f YAML file, else the default), loads the data
 * (core/ml/trainset.h: every check before a run exists, so bad input
 * leaves nothing behind), trains one run (core/ml/train_job.h) or a
 * --sweep grid of child runs (core/ml/sweep_job.h), and prints. The
 * progress bar and the signal flag live here: the library gets them as a
 * callback and a pointer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/ml/sweep_job.h"
#include "core/ml/train_config.h"
#include "core/ml/train_job.h"
#include "core/ml/trainset.h"
#include "core/store/models.h"
#include "core/store/runs.h"
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
 * Set by SIGINT/SIGTERM while training: the library's batch callback
 * stops the loop, and the run is ended KILLED instead of being left
 * RUNNING. The one piece of mutable state here, because a signal handler
 * can reach no other.
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

/* ---- the progress bar (stderr, a terminal only) ---- */

/* cnai_train_progress_fn: cli/output's bar, "epoch E/N [====  ]  42%", with
 * the last epoch's loss and speed once there is one; `payload` is the
 * display. */
static void draw_bar(const struct cnai_train_job *j, int epoch, size_t done,
		     size_t total, const struct cnai_ml_epoch *e,
		     void *payload)
{
	char label[64], suffix[96];

	snprintf(label, sizeof(label), "epoch %d/%d", epoch, j->c->t.epochs);
	if (j->last_speed > 0)
		snprintf(suffix, sizeof(suffix), "loss %.4f  %.0f rows/s",
			 j->last_loss, j->last_speed);
	cnai_progress_bar(payload, label, done, total,
			  j->last_speed > 0 ? suffix : NULL);
}

/* ---- one run ---- */

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

/* One run (no sweep): train, end the run, print. */
static int train_single(struct cnai_train_job *j, struct cnai_ctx *ctx)
{
	struct sigaction old_int, old_term;
	struct cnai_progress *bar;
	json_t *result = NULL;
	char notice[512];
	int err;

	if ((err = cnai_backend_open(&j->be, V(j->c, DEVICE), j->c->threads,
				     notice, sizeof(notice))) < 0)
		return err;
	if (notice[0])
		cnai_notice(ctx, "cannot use the GPU (%s); training on the "
			    "CPU", notice);
	if ((err = cnai_train_job_create_run(j)) < 0)
		return err;
	if ((bar = cnai_progress_new(ctx))) {
		j->progress = draw_bar;
		j->payload = bar;
	}
	catch_signals(&old_int, &old_term);
	err = cnai_train_job_record_setup(j);
	if (err == 0)
		err = cnai_train_job_fit(&result, j, V(j->c, OUTPUT));
	cnai_progress_free(bar); /* clears the bar's line */
	j->progress = NULL;
	j->payload = NULL;
	if (err < 0)
		goto failed;
	if (j->d->stats.imputed || j->d->stats.unknown)
		cnai_notice(ctx, "%zu empty cells imputed",
			    j->d->stats.imputed);
	if (j->own_run &&
	    (err = cnai_run_end(j->st, j->run->id, CNAI_RUN_FINISHED, 0, 0)) < 0)
		goto cleanup;
	print_result(ctx, result);
	goto cleanup;
failed:
	if (j->own_run)
		cnai_run_end(j->st, j->run->id,
			     interrupted ? CNAI_RUN_KILLED : CNAI_RUN_FAILED, 0, 0);
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

/* ---- sweeps ---- */

/* cnai_sweep_error_fn: a child says why its run failed. */
static void child_error(const char *run, const char *message, void *payload)
{
	const struct cnai_ctx *ctx = payload;

	if (!ctx->quiet)
		fprintf(stderr, "cnai: error: run %s: %s\n", run, message);
}

/* Each child's row {run, params, loss[, output]}; *best the lowest. */
static json_t *sweep_rows(const struct cnai_sweep_job *s, long *best)
{
	json_t *out = json_array(), *row;
	double *loss = calloc(s->total + 1, sizeof(*loss));
	size_t i;

	for (i = 0; loss && i < s->total; i++) {
		if (cnai_sweep_job_loss(&loss[i], s, i) < 0)
			continue;
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

static void sweep_print(const struct cnai_ctx *ctx,
			const struct cnai_sweep_job *s, json_t *rows,
			const char *best)
{
	size_t i;

	if (ctx->json) {
		cnai_json_print(json_pack("{s:s, s:O, s:s?}", "parent",
					  s->parent->uuid, "runs", rows, "best",
					  best));
		return;
	}
	printf("sweep %s: %zu runs, %zu failed\n", s->parent->uuid, s->total,
	       s->failed);
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i), *pv;
		const char *k, *run;

		run = json_string_value(json_object_get(row, "run"));
		printf("%s %s ", !strcmp(run, best ? best : "") ? "*" : " ",
		       run);
		json_object_foreach(json_object_get(row, "params"), k, pv)
			printf(" %s=%s", k, json_string_value(pv));
		printf("  loss %.6g\n",
		       json_number_value(json_object_get(row, "loss")));
	}
}

/* Registers child `best`'s folder as --register names. */
static int register_best(const struct cnai_ctx *ctx,
			 const struct cnai_sweep_job *s, long best)
{
	struct cnai_model_register_opts ro = { 0 };
	struct cnai_model_version *v = NULL;
	const char *paths[1] = { s->dirs[best] };
	int created, err;

	ro.run = s->kids[best]->uuid;
	ro.description = "best of a cnai train sweep";
	if ((err = cnai_model_register(&v, &created, s->base->st,
				       V(s->base->c, REGISTER), paths, 1,
				       &ro)) < 0)
		return err;
	if (!ctx->json)
		printf("registered %s version %lld (run %s)\n", v->name,
		       (long long)v->version, s->kids[best]->uuid);
	cnai_model_version_free(v);
	return 0;
}

static int train_sweep(struct cnai_train_job *base, struct cnai_ctx *ctx,
		       const struct cnai_sweep_axis *ax, size_t nax,
		       int parallel)
{
	struct cnai_sweep_job s;
	struct sigaction old_int, old_term;
	json_t *rows = NULL;
	long best = -1;
	int err;

	if ((err = cnai_sweep_job_start(&s, base, ax, nax, child_error,
					ctx)) < 0)
		goto cleanup;
	/* a SIGINT reaches the children too (same process group), and
	 * each ends its run KILLED */
	catch_signals(&old_int, &old_term);
	err = cnai_sweep_job_run(&s, parallel);
	restore_signals(&old_int, &old_term);
	if (err < 0)
		goto cleanup;
	rows = sweep_rows(&s, &best);
	if (best >= 0 && V(base->c, REGISTER) && s.dirs[best] &&
	    (err = register_best(ctx, &s, best)) < 0)
		goto cleanup;
	sweep_print(ctx, &s, rows, best >= 0 ? s.kids[best]->uuid : NULL);
	if (interrupted)
		err = CNAI_CMD_EXIT(128 + interrupted);
	else if (s.failed == s.total)
		err = cnai_error_set(CNAI_ERROR,
				     "every run of the sweep failed");
cleanup:
	json_decref(rows);
	cnai_sweep_job_release(&s);
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

	for (i = 0; i < CNAI_TK_COUNT; i++) {
		int val = i == CNAI_TK_OUTPUT ? 'o' : OPT_KEY + (int)i;

		o[i] = (struct option){ cnai_train_keys[i].name,
					required_argument, NULL, val };
	}
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

int cmd_train(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct args a = { .parallel = 1 };
	struct cnai_sweep_axis ax[CNAI_SWEEP_MAX_AXES];
	struct cnai_train_strings own = { 0 };
	struct cnai_train_config c, probe;
	struct cnai_trainset d;
	struct cnai_train_job j;
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
	j.st = ctx->store;
	j.c = &c;
	j.d = &d;
	j.stop = &interrupted;
	if (nax) {
		merge_args(&c, &a); /* children re-resolve defaults */
		err = train_sweep(&j, ctx, ax, nax, a.parallel);
	} else {
		err = train_single(&j, ctx);
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
