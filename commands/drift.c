/* cnai drift: data drift between a reference and a current CSV file. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/drift/drift.h"
#include "core/drift/predictions.h"
#include "core/store/blobs.h"
#include "core/store/datasets.h"
#include "core/ml/infer.h"
#include "core/store/lineage.h"
#include "core/store/logger.h"
#include "core/store/models.h"
#include "core/store/runs.h"
#include "core/store/store.h"
#include "core/util/fs.h"
#include "gpu/backend.h"
#include "core/util/banned.h"

static const char *const synopsis[] = {
	"cnai drift [<options>] <reference> <current>",
	NULL,
};
static const char *const option_help[] = {
	"    <reference> <current>   CSV files; '-' reads one of them from stdin",
	"    --columns <a,b,...>     test only these columns",
	"    --ignore <a,b,...>      leave these columns out",
	"    --target <col>          the target column (tested like the others)",
	"    --model <model>         prediction drift: run the model on both "
	"files and test",
	"                            its predictions as a column 'prediction'",
	"    --categorical <col>     treat the column as categorical",
	"    --numerical <col>       treat the column as numerical",
	"    --method <method>       auto (Evidently's choice, default), ks, "
	"chisquare,",
	"                            chi2, z, psi, jensenshannon, wasserstein, "
	"kl_div,",
	"                            hellinger, anderson, cramer_von_mises, ed",
	"    --column-method <col>=<method>  the method for one column",
	"    --threshold <x>         drift threshold (default: the method's)",
	"    --drift-share <x>       data set drift when this share of columns "
	"drifts (0.5)",
	"    --format <f>            text (default), json, html, prometheus",
	"    -o, --output <file>     write the report to a file",
	"    --fail-on-drift         exit 1 when the data set drifted",
	"    --run <run>             log drift.<col>.<stat> metrics to a run "
	"(default:",
	"                            $CNAI_RUN_ID when set)",
	"    --exact-limit <n>       values per column kept exactly "
	"(1000000)",
	"    --max-categories <n>    categories kept by name (1000)",
	"    --threads <n>           worker threads (default: all cores)",
	"    --json                  the same as --format json",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

struct names {
	char **v;
	size_t n;
};

static int names_add_list(struct names *l, const char *arg, int split)
{
	const char *p = arg;

	for (;;) {
		const char *e = split ? strchr(p, ',') : NULL;
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char **g;

		if (len) {
			if (!(g = realloc(l->v, (l->n + 2) * sizeof(*g))) ||
			    !(g[l->n] = strndup(p, len))) {
				if (g)
					l->v = g;
				return cnai_error_set(CNAI_ERROR,
						      "out of memory");
			}
			l->v = g;
			l->n++;
		}
		if (!e)
			return 0;
		p = e + 1;
	}
}

static void names_release(struct names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- the store ------------------------------------------------------ */

static int log_metrics(struct cnai_logger *lg,
		       const struct cnai_drift_report *r)
{
	int64_t now = cnai_store_now_ms();
	char key[300];
	size_t i;
	int err;

	for (i = 0; i < r->ncols; i++) {
		const struct cnai_drift_column *c = &r->cols[i];

		if (!c->evaluated)
			continue;
		cnai_drift_metric_key(key, sizeof(key), c->name, "score");
		if ((err = cnai_logger_metric(lg, key, c->score, 0, now)) < 0)
			return err;
		cnai_drift_metric_key(key, sizeof(key), c->name, c->stat_name);
		if ((err = cnai_logger_metric(lg, key, c->statistic, 0, now)) <
		    0)
			return err;
		if (!isnan(c->p_value)) {
			cnai_drift_metric_key(key, sizeof(key), c->name, "p_value");
			if ((err = cnai_logger_metric(lg, key, c->p_value, 0,
						      now)) < 0)
				return err;
		}
		cnai_drift_metric_key(key, sizeof(key), c->name, "drifted");
		if ((err = cnai_logger_metric(lg, key, c->drifted, 0, now)) < 0)
			return err;
	}
	return cnai_logger_metric(lg, "drift.share", r->share, 0, now);
}

static int record_input(int64_t *entity, struct cnai_store *st,
			const struct cnai_drift_input *in)
{
	char path[PATH_MAX];
	struct cnai_store_dataset_row row = {
		in->digest,
		strcmp(in->path, "<stdin>") && realpath(in->path, path)
			? path
			: in->path,
		in->schema, in->size, in->rows, in->columns,
	};

	return cnai_store_dataset_record(entity, st, &row, 0);
}

/*
 * Stores the JSON report as a blob and records, in one write transaction,
 * both data sets, the report as a lineage entity (ref = the report's
 * digest) with edges from each data set, and with a run its metrics.
 */
static int record(struct cnai_store *st, const struct cnai_drift_report *r,
		  const char *json, const char *run_ref, const char *model_digest)
{
	struct cnai_run *run = NULL;
	struct cnai_logger *lg = NULL;
	char digest[CNAI_DIGEST_LEN], name[600];
	const char *rb = strrchr(r->ref.path, '/'), *cb = strrchr(r->cur.path,
								 '/');
	int64_t ref_e, cur_e, rep_e, run_e;
	int err;

	if (run_ref && (err = cnai_run_lookup(&run, st, run_ref)) < 0)
		return err;
	if ((err = cnai_blob_put_buffer(digest, st, json, strlen(json))) < 0)
		goto done;
	err = run ? cnai_logger_begin(&lg, st, run->id)
		  : cnai_store_begin_write(st);
	if (err < 0)
		goto done;
	snprintf(name, sizeof(name), "drift %s -> %s", rb ? rb + 1 : r->ref.path,
		 cb ? cb + 1 : r->cur.path);
	if ((err = record_input(&ref_e, st, &r->ref)) < 0 ||
	    (err = record_input(&cur_e, st, &r->cur)) < 0 ||
	    (err = cnai_lineage_entity(&rep_e, st, CNAI_ENTITY_DRIFT, digest,
				       name)) < 0 ||
	    (err = cnai_lineage_edge(st, ref_e, rep_e, "reference")) < 0 ||
	    (err = cnai_lineage_edge(st, cur_e, rep_e, "current")) < 0)
		goto fail;
	if (model_digest) {
		int64_t model_e;

		if ((err = cnai_lineage_entity(&model_e, st, CNAI_ENTITY_MODEL,
					       model_digest, NULL)) < 0 ||
		    (err = cnai_lineage_edge(st, model_e, rep_e,
					     "predictions")) < 0)
			goto fail;
	}
	if (run) {
		if ((err = cnai_lineage_entity(&run_e, st, CNAI_ENTITY_RUN,
					       run->uuid, NULL)) < 0 ||
		    (err = cnai_lineage_edge(st, rep_e, run_e, "metrics")) <
			    0 ||
		    (err = log_metrics(lg, r)) < 0)
			goto fail;
		err = cnai_logger_commit(lg);
		lg = NULL;
	} else {
		err = cnai_store_commit(st);
	}
	if (err < 0)
		goto fail;
	goto done;
fail:
	if (lg)
		cnai_logger_abort(lg);
	else
		cnai_store_rollback(st);
done:
	cnai_run_free(run);
	return err;
}

/* ---- the command ----------------------------------------------------- */

/* Prediction drift (core/drift/predictions.h) with the model `ref` names;
 * `model_digest` gets its manifest digest when the store has it. */
static int prediction_drift(struct cnai_drift_report *r,
			    const struct cnai_drift_options *base,
			    struct cnai_ctx *ctx, const char *ref,
			    char model_digest[CNAI_DIGEST_LEN])
{
	struct cnai_ml_model *m = NULL;
	struct cnai_backend *be = NULL;
	struct cnai_model_version *v = NULL;
	int err;

	if (!strcmp(base->ref_path, "-") || !strcmp(base->cur_path, "-"))
		return cnai_error_set(CNAI_EUSAGE, "--model needs both data "
				      "sets as files (the model reads them "
				      "again)");
	if ((err = cnai_ml_model_open(&m, NULL, ctx->store, ref)) < 0 ||
	    (err = cnai_backend_cpu_open(&be, 0)) < 0)
		goto cleanup;
	if (!cnai_ml_is_model_dir(ref) && ctx->store &&
	    cnai_model_resolve(&v, ctx->store, ref) == 0)
		snprintf(model_digest, CNAI_DIGEST_LEN, "%s",
			 v->manifest_digest);
	cnai_error_clear();
	err = cnai_drift_add_predictions(r, base, m, be);
cleanup:
	cnai_model_version_free(v);
	cnai_ml_model_free(m);
	if (be)
		be->close(be);
	return err;
}

struct opts {
	struct names columns, ignore, categorical, numerical, methods_raw;
	struct cnai_drift_column_method *methods;
	enum cnai_drift_format fmt;
	const char *output, *run, *target, *model;
	int fail_on_drift, fmt_set;
};

static int emit(const struct opts *op, const struct cnai_buf *out,
		const struct cnai_drift_report *r, struct cnai_ctx *ctx)
{
	struct cnai_buf v = CNAI_BUF_INIT;
	int err;

	if (!op->output) {
		fwrite(out->buf, 1, out->len, stdout);
		return 0;
	}
	if ((err = cnai_fs_write_atomic(op->output, out->buf, out->len,
					0644)) < 0)
		return err;
	if ((err = cnai_drift_render_verdict(&v, r)) == 0)
		fputs(v.buf, stdout);
	cnai_buf_release(&v);
	return err;
}

enum {
	O_COLUMNS = 0x100, O_IGNORE, O_TARGET, O_CAT, O_NUM, O_METHOD,
	O_CMETHOD, O_THRESHOLD, O_SHARE, O_FORMAT, O_FAIL, O_RUN, O_MODEL,
	O_EXACT, O_MAXCAT, O_THREADS,
};
static const struct option longopts[] = {
	{ "columns", required_argument, NULL, O_COLUMNS },
	{ "ignore", required_argument, NULL, O_IGNORE },
	{ "target", required_argument, NULL, O_TARGET },
	{ "categorical", required_argument, NULL, O_CAT },
	{ "numerical", required_argument, NULL, O_NUM },
	{ "method", required_argument, NULL, O_METHOD },
	{ "column-method", required_argument, NULL, O_CMETHOD },
	{ "threshold", required_argument, NULL, O_THRESHOLD },
	{ "drift-share", required_argument, NULL, O_SHARE },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "fail-on-drift", no_argument, NULL, O_FAIL },
	{ "run", required_argument, NULL, O_RUN },
	{ "model", required_argument, NULL, O_MODEL },
	{ "exact-limit", required_argument, NULL, O_EXACT },
	{ "max-categories", required_argument, NULL, O_MAXCAT },
	{ "threads", required_argument, NULL, O_THREADS },
	CNAI_OPTS_COMMON,
	{ NULL, 0, NULL, 0 },
};

/* One option into `op` or `o`. */
static int parse_option(struct opts *op, struct cnai_drift_options *o, int c,
			const char *arg)
{
	int64_t n;
	int err;

	switch (c) {
	case O_COLUMNS: return names_add_list(&op->columns, arg, 1);
	case O_IGNORE: return names_add_list(&op->ignore, arg, 1);
	case O_TARGET: op->target = arg; return 0;
	case O_CAT: return names_add_list(&op->categorical, arg, 1);
	case O_NUM: return names_add_list(&op->numerical, arg, 1);
	case O_METHOD: return cnai_drift_method_parse(&o->method, arg);
	case O_CMETHOD: return names_add_list(&op->methods_raw, arg, 0);
	case O_THRESHOLD:
		return cnai_opt_double(&o->threshold, arg, "--threshold",
				       CNAI_OPT_NONNEGATIVE);
	case O_SHARE:
		if ((err = cnai_opt_double(&o->drift_share, arg,
					   "--drift-share",
					   CNAI_OPT_NONNEGATIVE)) < 0)
			return err;
		if (o->drift_share > 1)
			return cnai_error_set(CNAI_EUSAGE, "--drift-share: must "
					      "be between 0 and 1");
		return 0;
	case O_FORMAT:
		op->fmt_set = 1;
		return cnai_drift_format_parse(&op->fmt, arg);
	case 'o': op->output = arg; return 0;
	case O_FAIL: op->fail_on_drift = 1; return 0;
	case O_RUN: op->run = arg; return 0;
	case O_MODEL: op->model = arg; return 0;
	case O_EXACT:
		if ((err = cnai_opt_int64(&n, arg, "--exact-limit")) < 0)
			return err;
		if (n < 1)
			return cnai_error_set(CNAI_EUSAGE, "--exact-limit: must "
					      "be at least 1");
		o->exact_limit = (uint64_t)n;
		return 0;
	case O_MAXCAT:
		if ((err = cnai_opt_int64(&n, arg, "--max-categories")) < 0)
			return err;
		if (n < 1)
			return cnai_error_set(CNAI_EUSAGE, "--max-categories: "
					      "must be at least 1");
		o->max_categories = (size_t)n;
		return 0;
	case O_THREADS:
		if ((err = cnai_opt_int64(&n, arg, "--threads")) < 0)
			return err;
		if (n < 1 || n > 1024)
			return cnai_error_set(CNAI_EUSAGE, "--threads: must be 1 "
					      "to 1024");
		o->threads = (int)n;
		return 0;
	}
	return CNAI_EUSAGE;
}

/* The command line into `op` and `o`; 1 when help was printed. */
static int parse_args(struct opts *op, struct cnai_drift_options *o,
		      int argc, char **argv, struct cnai_ctx *ctx)
{
	size_t i;
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":ho:", longopts, &usage, ctx)) !=
	       -1) {
		if (c == CNAI_OPT_HELP)
			return 1;
		if ((err = parse_option(op, o, c, optarg)) < 0)
			return err;
	}
	if (argc - optind != 2)
		return cnai_error_set(CNAI_EUSAGE, "%s; usage: cnai drift "
				      "<reference> <current> [<options>]",
				      argc - optind < 2 ? "two files needed"
							: "too many arguments");
	if (ctx->json && !op->fmt_set)
		op->fmt = CNAI_DRIFT_FORMAT_JSON;
	if (op->target && op->columns.n &&
	    (err = names_add_list(&op->columns, op->target, 0)) < 0)
		return err;
	if (op->methods_raw.n &&
	    !(op->methods = calloc(op->methods_raw.n, sizeof(*op->methods))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < op->methods_raw.n; i++)
		if ((err = cnai_drift_column_method_parse(
			     &op->methods[i], op->methods_raw.v[i])) < 0)
			return err;
	if (!op->run)
		op->run = getenv("CNAI_RUN_ID");
	if (op->run && !*op->run)
		op->run = NULL;
	o->ref_path = argv[optind];
	o->cur_path = argv[optind + 1];
	o->columns = op->columns.n ? (const char *const *)op->columns.v : NULL;
	o->ncolumns = op->columns.n;
	o->ignore = (const char *const *)op->ignore.v;
	o->nignore = op->ignore.n;
	o->categorical = (const char *const *)op->categorical.v;
	o->ncategorical = op->categorical.n;
	o->numerical = (const char *const *)op->numerical.v;
	o->nnumerical = op->numerical.n;
	o->column_methods = op->methods;
	o->ncolumn_methods = op->methods_raw.n;
	return 0;
}

/* The report: the data drift, the --target check, prediction drift. */
static int run(struct cnai_drift_report **out, const struct opts *op,
	       const struct cnai_drift_options *o, struct cnai_ctx *ctx,
	       char model_digest[CNAI_DIGEST_LEN])
{
	struct cnai_drift_report *r = NULL;
	size_t i;
	int err, found = 0;

	if ((err = cnai_drift_run(&r, o)) < 0)
		return err;
	for (i = 0; op->target && i < r->ncols; i++)
		found |= !strcmp(r->cols[i].name, op->target);
	if (op->target && !found)
		err = cnai_error_set(CNAI_EUSAGE,
				     "--target: no column '%s' to test",
				     op->target);
	else if (op->model)
		err = prediction_drift(r, o, ctx, op->model, model_digest);
	if (err < 0) {
		cnai_drift_report_free(r);
		return err;
	}
	*out = r;
	return 0;
}

int cmd_drift(int argc, char **argv, struct cnai_ctx *ctx)
{
	char model_digest[CNAI_DIGEST_LEN] = "";
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	struct opts op;
	struct cnai_buf out = CNAI_BUF_INIT;
	char *json = NULL;
	json_t *jr = NULL;
	int err;

	memset(&op, 0, sizeof(op));
	cnai_drift_options_init(&o);
	if ((err = parse_args(&op, &o, argc, argv, ctx)) != 0) {
		err = err > 0 ? 0 : err; /* help */
		goto cleanup;
	}
	if ((err = run(&r, &op, &o, ctx, model_digest)) < 0)
		goto cleanup;
	if (!(jr = cnai_drift_report_json(r)) ||
	    !(json = json_dumps(jr, JSON_COMPACT))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = cnai_drift_render(&out, op.fmt, r)) < 0 ||
	    (err = record(ctx->store, r, json, op.run,
			  model_digest[0] ? model_digest : NULL)) < 0 ||
	    (err = emit(&op, &out, r, ctx)) < 0)
		goto cleanup;
	if (op.fail_on_drift && r->dataset_drift)
		err = CNAI_CMD_EXIT(1);
cleanup:
	json_decref(jr);
	free(json);
	cnai_buf_release(&out);
	cnai_drift_report_free(r);
	names_release(&op.columns);
	names_release(&op.ignore);
	names_release(&op.categorical);
	names_release(&op.numerical);
	names_release(&op.methods_raw);
	free(op.methods);
	return err;
}
