/* cnai drift: data drift between a reference and a current CSV file. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/drift/drift.h"
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

enum format { FMT_TEXT, FMT_JSON, FMT_HTML, FMT_PROM };

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

static int parse_fraction(double *out, const char *arg, const char *opt)
{
	char *end;
	double v = strtod(arg, &end);

	if (!*arg || *end || !(v >= 0) || isinf(v))
		return cnai_error_set(CNAI_EUSAGE,
				      "%s: '%s' is not a non-negative number",
				      opt, arg);
	*out = v;
	return 0;
}

static int parse_format(enum format *out, const char *s)
{
	static const char *const names[] = { "text", "json", "html",
					     "prometheus" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum format)i;
			return 0;
		}
	return cnai_error_set(CNAI_EUSAGE, "--format: unknown format '%s' "
			      "(text, json, html, prometheus)", s);
}

/* ---- text ----------------------------------------------------------- */

static void num(char *out, size_t size, double v)
{
	if (isnan(v))
		snprintf(out, size, "-");
	else if (isinf(v))
		snprintf(out, size, v > 0 ? "inf" : "-inf");
	else
		snprintf(out, size, "%.4g", v);
}

static void verdict(struct cnai_buf *b, const struct cnai_drift_report *r)
{
	char share[40], ds[40];

	snprintf(share, sizeof(share), "%.4g", r->share);
	snprintf(ds, sizeof(ds), "%.4g", r->drift_share);
	cnai_buf_addf(b, "%zu of %zu columns drifted (share %s); data set "
		      "drift: %s (drift share %s)\n", r->drifted, r->evaluated,
		      share, r->dataset_drift ? "yes" : "no", ds);
}

static int render_text(struct cnai_buf *b, const struct cnai_drift_report *r)
{
	enum { NC = 8 };
	static const char *const head[NC] = { "column",  "type",
					      "method",  "statistic",
					      "p-value", "score",
					      "threshold", "drift" };
	size_t *order = cnai_drift_severity_order(r), w[NC], i, k;
	char (*cells)[NC][64];

	if (!order)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (!(cells = calloc(r->ncols + 1, sizeof(*cells)))) {
		free(order);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	for (k = 0; k < NC; k++) {
		snprintf(cells[0][k], 64, "%s", head[k]);
		w[k] = strlen(head[k]);
	}
	for (i = 0; i < r->ncols; i++) {
		const struct cnai_drift_column *c = &r->cols[order[i]];
		char (*row)[64] = cells[i + 1];

		snprintf(row[0], 64, "%s", c->name);
		snprintf(row[1], 64, "%s",
			 c->type == CNAI_DRIFT_NUMERICAL ? "numerical"
							 : "categorical");
		snprintf(row[2], 64, "%s",
			 c->evaluated ? cnai_drift_method_name(c->method)
				      : "-");
		num(row[3], 64, c->statistic);
		num(row[4], 64, c->p_value);
		num(row[5], 64, c->score);
		num(row[6], 64, c->evaluated ? c->threshold : NAN);
		snprintf(row[7], 64, "%s",
			 !c->evaluated ? c->note
			 : c->drifted  ? "DRIFT"
				       : "no");
		for (k = 0; k < NC; k++)
			if (strlen(row[k]) > w[k])
				w[k] = strlen(row[k]);
	}
	cnai_buf_addf(b, "reference  %s  %lld rows\ncurrent    %s  %lld rows\n\n",
		      r->ref.path, (long long)r->ref.rows, r->cur.path,
		      (long long)r->cur.rows);
	for (i = 0; i <= r->ncols; i++) {
		for (k = 0; k < NC; k++) {
			if (k + 1 == NC) {
				cnai_buf_addf(b, "%s\n", cells[i][k]);
				break;
			}
			cnai_buf_addf(b, "%-*s  ", (int)w[k], cells[i][k]);
		}
	}
	cnai_buf_addch(b, '\n');
	verdict(b, r);
	free(cells);
	free(order);
	return cnai_buf_oom(b);
}

/* ---- the store ------------------------------------------------------ */

static void metric_key(char *out, size_t size, const char *col,
		       const char *stat)
{
	size_t i, n;

	n = (size_t)snprintf(out, size, "drift.%s.%s", col, stat);
	if (n >= size)
		n = size - 1;
	/* keys take MLflow's characters; others become '_' */
	for (i = 6; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.' || c == ' ' || c == '/' || c == ':'))
			out[i] = '_';
	}
}

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
		metric_key(key, sizeof(key), c->name, "score");
		if ((err = cnai_logger_metric(lg, key, c->score, 0, now)) < 0)
			return err;
		metric_key(key, sizeof(key), c->name, c->stat_name);
		if ((err = cnai_logger_metric(lg, key, c->statistic, 0, now)) <
		    0)
			return err;
		if (!isnan(c->p_value)) {
			metric_key(key, sizeof(key), c->name, "p_value");
			if ((err = cnai_logger_metric(lg, key, c->p_value, 0,
						      now)) < 0)
				return err;
		}
		metric_key(key, sizeof(key), c->name, "drifted");
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

/*
 * Prediction drift: the model predicts every row of both files (the same
 * code as `cnai predict`), the predictions become a one-column CSV each,
 * and that column, "prediction", is tested like any other and joins the
 * report (and the data-set rule). A class label is categorical, a
 * regression value numerical.
 */
static int write_predictions(char *path, size_t size,
			     const struct cnai_ml_model *m,
			     struct cnai_backend *be, const char *data)
{
	struct cnai_ml_batch b = { 0 };
	struct cnai_buf csv = CNAI_BUF_INIT;
	int npred = cnai_ml_model_npred(m), fd, err;
	size_t i;
	int k;

	if ((err = cnai_ml_predict_file(&b, m, be, data, ',', NULL)) < 0)
		return err;
	cnai_buf_adds(&csv, "prediction\n");
	for (i = 0; i < b.n; i++) {
		if (cnai_ml_model_is_classifier(m)) {
			int best = 0;

			for (k = 1; k < npred; k++)
				if (b.pred[i * npred + k] >
				    b.pred[i * npred + best])
					best = k;
			cnai_buf_addf(&csv, "\"%s\"\n", m->classes[best]);
		} else {
			cnai_buf_addf(&csv, "%.9g\n", b.pred[i * npred]);
		}
	}
	cnai_ml_batch_release(&b);
	if ((err = cnai_buf_oom(&csv)) < 0)
		goto cleanup;
	snprintf(path, size, "/tmp/cnai-pred.XXXXXX");
	if ((fd = mkstemp(path)) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "temporary file");
		path[0] = '\0';
		goto cleanup;
	}
	err = cnai_fs_write_all(fd, csv.buf, csv.len);
	close(fd);
cleanup:
	cnai_buf_release(&csv);
	return err;
}

static int prediction_drift(struct cnai_drift_report *r,
			    const struct cnai_drift_options *base,
			    struct cnai_ctx *ctx, const char *ref,
			    char model_digest[CNAI_DIGEST_LEN])
{
	static const char *const pred_col[] = { "prediction" };
	struct cnai_drift_options o = *base;
	struct cnai_drift_report *pr = NULL;
	struct cnai_ml_model *m = NULL;
	struct cnai_backend *be = NULL;
	struct cnai_model_version *v = NULL;
	struct cnai_drift_column *g;
	char rp[64] = "", cp[64] = "";
	size_t i;
	int err;

	if (!strcmp(base->ref_path, "-") || !strcmp(base->cur_path, "-"))
		return cnai_error_set(CNAI_EUSAGE, "--model needs both data "
				      "sets as files (the model reads them "
				      "again)");
	if ((err = cnai_ml_model_open(&m, NULL, ctx->store, ref)) < 0 ||
	    (err = cnai_backend_cpu_open(&be, 0)) < 0 ||
	    (err = write_predictions(rp, sizeof(rp), m, be,
				     base->ref_path)) < 0 ||
	    (err = write_predictions(cp, sizeof(cp), m, be,
				     base->cur_path)) < 0)
		goto cleanup;
	if (!cnai_ml_is_model_dir(ref) && ctx->store &&
	    cnai_model_resolve(&v, ctx->store, ref) == 0)
		snprintf(model_digest, CNAI_DIGEST_LEN, "%s",
			 v->manifest_digest);
	cnai_error_clear();
	o.ref_path = rp;
	o.cur_path = cp;
	o.columns = NULL;
	o.ncolumns = 0;
	o.ignore = NULL;
	o.nignore = 0;
	o.numerical = NULL;
	o.nnumerical = 0;
	o.categorical = cnai_ml_model_is_classifier(m) ? pred_col : NULL;
	o.ncategorical = cnai_ml_model_is_classifier(m) ? 1 : 0;
	o.column_methods = NULL;
	o.ncolumn_methods = 0;
	for (i = 0; i < base->ncolumn_methods; i++)
		if (!strcmp(base->column_methods[i].column, "prediction")) {
			o.column_methods = &base->column_methods[i];
			o.ncolumn_methods = 1;
		}
	if ((err = cnai_drift_run(&pr, &o)) < 0)
		goto cleanup;
	if (!(g = realloc(r->cols, (r->ncols + pr->ncols) * sizeof(*g)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	r->cols = g;
	/* move the column over; the report it came from keeps none */
	memcpy(r->cols + r->ncols, pr->cols, pr->ncols * sizeof(*g));
	r->ncols += pr->ncols;
	for (i = 0; i < pr->ncols; i++) {
		r->evaluated += pr->cols[i].evaluated;
		r->drifted += pr->cols[i].evaluated && pr->cols[i].drifted;
	}
	pr->ncols = 0;
	r->share = r->evaluated ? (double)r->drifted / (double)r->evaluated
				: 0;
	r->dataset_drift = r->evaluated && r->share >= r->drift_share;
cleanup:
	cnai_drift_report_free(pr);
	cnai_model_version_free(v);
	cnai_ml_model_free(m);
	if (be)
		be->close(be);
	if (rp[0])
		unlink(rp);
	if (cp[0])
		unlink(cp);
	return err;
}

struct opts {
	struct names columns, ignore, categorical, numerical, methods_raw;
	struct cnai_drift_column_method *methods;
	enum format fmt;
	const char *output, *run, *target, *model;
	int fail_on_drift, fmt_set;
};

static int parse_column_methods(struct opts *op)
{
	size_t i;
	int err;

	if (!op->methods_raw.n)
		return 0;
	if (!(op->methods = calloc(op->methods_raw.n, sizeof(*op->methods))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < op->methods_raw.n; i++) {
		char *eq = strchr(op->methods_raw.v[i], '=');

		if (!eq || eq == op->methods_raw.v[i])
			return cnai_error_set(CNAI_EUSAGE,
					      "--column-method: expected "
					      "<column>=<method>, got '%s'",
					      op->methods_raw.v[i]);
		*eq = '\0';
		op->methods[i].column = op->methods_raw.v[i];
		if ((err = cnai_drift_method_parse(&op->methods[i].method,
						   eq + 1)) < 0)
			return err;
	}
	return 0;
}

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
	verdict(&v, r);
	fputs(v.buf, stdout);
	cnai_buf_release(&v);
	return 0;
}

int cmd_drift(int argc, char **argv, struct cnai_ctx *ctx)
{
	char model_digest[CNAI_DIGEST_LEN] = "";
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
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	struct opts op;
	struct cnai_buf out = CNAI_BUF_INIT;
	char *json = NULL;
	json_t *jr = NULL;
	int64_t n;
	int c, err = 0;

	memset(&op, 0, sizeof(op));
	cnai_drift_options_init(&o);
	while ((c = cnai_getopt(argc, argv, ":ho:", longopts, &usage, ctx)) !=
	       -1) {
		switch (c) {
		case O_COLUMNS:
			err = names_add_list(&op.columns, optarg, 1);
			break;
		case O_IGNORE:
			err = names_add_list(&op.ignore, optarg, 1);
			break;
		case O_TARGET:
			op.target = optarg;
			break;
		case O_CAT:
			err = names_add_list(&op.categorical, optarg, 1);
			break;
		case O_NUM:
			err = names_add_list(&op.numerical, optarg, 1);
			break;
		case O_METHOD:
			err = cnai_drift_method_parse(&o.method, optarg);
			break;
		case O_CMETHOD:
			err = names_add_list(&op.methods_raw, optarg, 0);
			break;
		case O_THRESHOLD:
			err = parse_fraction(&o.threshold, optarg,
					     "--threshold");
			break;
		case O_SHARE:
			err = parse_fraction(&o.drift_share, optarg,
					     "--drift-share");
			if (!err && o.drift_share > 1)
				err = cnai_error_set(CNAI_EUSAGE,
						     "--drift-share: must be "
						     "between 0 and 1");
			break;
		case O_FORMAT:
			err = parse_format(&op.fmt, optarg);
			op.fmt_set = 1;
			break;
		case 'o':
			op.output = optarg;
			break;
		case O_FAIL:
			op.fail_on_drift = 1;
			break;
		case O_RUN:
			op.run = optarg;
			break;
		case O_MODEL:
			op.model = optarg;
			break;
		case O_EXACT:
			if (!(err = cnai_opt_int64(&n, optarg,
						   "--exact-limit")) &&
			    n < 1)
				err = cnai_error_set(CNAI_EUSAGE,
						     "--exact-limit: must be "
						     "at least 1");
			o.exact_limit = (uint64_t)n;
			break;
		case O_MAXCAT:
			if (!(err = cnai_opt_int64(&n, optarg,
						   "--max-categories")) &&
			    n < 1)
				err = cnai_error_set(CNAI_EUSAGE,
						     "--max-categories: must be "
						     "at least 1");
			o.max_categories = (size_t)n;
			break;
		case O_THREADS:
			if (!(err = cnai_opt_int64(&n, optarg, "--threads")) &&
			    (n < 1 || n > 1024))
				err = cnai_error_set(CNAI_EUSAGE,
						     "--threads: must be 1 to "
						     "1024");
			o.threads = (int)n;
			break;
		case CNAI_OPT_HELP:
			goto cleanup;
		default:
			err = CNAI_EUSAGE;
			break;
		}
		if (err < 0)
			goto cleanup;
	}
	if (argc - optind != 2) {
		err = cnai_error_set(CNAI_EUSAGE, "%s; usage: cnai drift "
				     "<reference> <current> [<options>]",
				     argc - optind < 2 ? "two files needed"
						       : "too many arguments");
		goto cleanup;
	}
	if (ctx->json && !op.fmt_set)
		op.fmt = FMT_JSON;
	if (op.target && op.columns.n &&
	    (err = names_add_list(&op.columns, op.target, 0)) < 0)
		goto cleanup;
	if ((err = parse_column_methods(&op)) < 0)
		goto cleanup;
	if (!op.run)
		op.run = getenv("CNAI_RUN_ID");
	if (op.run && !*op.run)
		op.run = NULL;
	o.ref_path = argv[optind];
	o.cur_path = argv[optind + 1];
	o.columns = op.columns.n ? (const char *const *)op.columns.v : NULL;
	o.ncolumns = op.columns.n;
	o.ignore = (const char *const *)op.ignore.v;
	o.nignore = op.ignore.n;
	o.categorical = (const char *const *)op.categorical.v;
	o.ncategorical = op.categorical.n;
	o.numerical = (const char *const *)op.numerical.v;
	o.nnumerical = op.numerical.n;
	o.column_methods = op.methods;
	o.ncolumn_methods = op.methods_raw.n;
	if (op.target) {
		const char *t = op.target;

		if ((err = cnai_drift_run(&r, &o)) < 0)
			goto cleanup;
		for (size_t i = 0; i < r->ncols; i++)
			if (!strcmp(r->cols[i].name, t))
				t = NULL;
		if (t) {
			err = cnai_error_set(CNAI_EUSAGE,
					     "--target: no column '%s' to test",
					     t);
			goto cleanup;
		}
	} else if ((err = cnai_drift_run(&r, &o)) < 0) {
		goto cleanup;
	}
	if (op.model &&
	    (err = prediction_drift(r, &o, ctx, op.model, model_digest)) < 0)
		goto cleanup;
	if (!(jr = cnai_drift_report_json(r)) ||
	    !(json = json_dumps(jr, JSON_COMPACT))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	switch (op.fmt) {
	case FMT_TEXT:
		err = render_text(&out, r);
		break;
	case FMT_JSON: {
		char *pretty = json_dumps(jr, JSON_INDENT(2));

		if (!pretty) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		cnai_buf_adds(&out, pretty);
		cnai_buf_addch(&out, '\n');
		free(pretty);
		err = cnai_buf_oom(&out);
		break;
	}
	case FMT_HTML:
		err = cnai_drift_render_html(&out, r);
		break;
	case FMT_PROM:
		err = cnai_drift_render_prometheus(&out, r);
		break;
	}
	if (err < 0 || (err = record(ctx->store, r, json, op.run,
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
