/*
 * cnai eval: score a labelled CSV with a model: accuracy, per-class
 * precision, recall and F1 and the confusion matrix for classifiers;
 * RMSE, MAE and R^2 for regression.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "commands/scoring.h"
#include "core/ml/infer.h"
#include "core/ml/metrics.h"
#include "core/store/store.h"
#include "core/util/buf.h"
#include "core/util/banned.h"

static const char *const synopsis[] = {
	"cnai eval <model> --data <file> [--target <column>] "
	"[--delimiter <c>] [--device <d>] [--json]",
	NULL,
};
static const char *const option_help[] = {
	"    <model>             a model folder, or a registered model",
	"    --data <file>       labelled CSV",
	"    --target <column>   the true values (default: the model's "
	"target)",
	"    --delimiter <c>     field separator (default ',')",
	"    --device <d>        cpu (default), cuda, auto",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

static void fmt(char *out, size_t n, double v)
{
	snprintf(out, n, "%.4f", v);
}

static int report_cls(const struct cnai_ctx *ctx, const struct cnai_ml_model *m,
		      const struct cnai_ml_batch *bt, long tc)
{
	struct cnai_ml_cls_report r = { 0 };
	struct cnai_table t = { 0 };
	size_t i, k, K = m->nclasses;
	int err;

	if ((err = cnai_ml_batch_cls_report(&r, m, bt, (size_t)tc)) < 0)
		goto cleanup;
	if (ctx->json) {
		json_t *classes = json_array(), *conf = json_array();

		for (k = 0; k < K; k++) {
			json_t *row = json_array();

			json_array_append_new(
				classes,
				json_pack("{s:s, s:f, s:f, s:f, s:I}", "class",
					  m->classes[k], "precision",
					  r.per[k].precision, "recall",
					  r.per[k].recall, "f1", r.per[k].f1,
					  "support",
					  (json_int_t)r.per[k].support));
			for (i = 0; i < K; i++)
				json_array_append_new(
					row, json_integer((json_int_t)
							  r.confusion[k * K + i]));
			json_array_append_new(conf, row);
		}
		err = cnai_json_print(json_pack(
			"{s:s, s:I, s:f, s:f, s:o, s:o}", "task",
			"classification", "rows", (json_int_t)bt->n,
			"accuracy", r.accuracy, "macro_f1", r.macro_f1,
			"classes", classes, "confusion", conf));
		goto cleanup;
	}
	printf("accuracy  %.4f  (%zu rows)\nmacro F1  %.4f\n\n", r.accuracy,
	       bt->n, r.macro_f1);
	{
		const char *const head[] = { "class", "precision", "recall",
					     "f1", "support" };

		if ((err = cnai_table_init(&t, 5, head)) < 0)
			goto cleanup;
		for (k = 0; k < K; k++) {
			char p[32], rc[32], f[32], s[32];
			const char *cells[5] = { m->classes[k], p, rc, f, s };

			fmt(p, sizeof(p), r.per[k].precision);
			fmt(rc, sizeof(rc), r.per[k].recall);
			fmt(f, sizeof(f), r.per[k].f1);
			snprintf(s, sizeof(s), "%zu", r.per[k].support);
			if ((err = cnai_table_add(&t, cells)) < 0)
				goto cleanup;
		}
		cnai_table_print(&t, ctx);
		cnai_table_release(&t);
	}
	printf("\nconfusion matrix (rows: true class, columns: predicted)\n");
	{
		char **head = calloc(K + 1, sizeof(*head));
		char **cells = calloc(K + 1, sizeof(*cells));

		if (!head || !cells) {
			free(head);
			free(cells);
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		head[0] = "";
		for (k = 0; k < K; k++)
			head[k + 1] = m->classes[k];
		err = cnai_table_init(&t, K + 1, (const char *const *)head);
		for (k = 0; !err && k < K; k++) {
			cells[0] = m->classes[k];
			for (i = 0; i < K; i++)
				if (asprintf(&cells[i + 1], "%zu",
					     r.confusion[k * K + i]) < 0)
					cells[i + 1] = NULL;
			err = cnai_table_add(&t, (const char *const *)cells);
			for (i = 0; i < K; i++)
				free(cells[i + 1]);
		}
		if (!err)
			cnai_table_print(&t, ctx);
		free(head);
		free(cells);
	}
cleanup:
	cnai_table_release(&t);
	cnai_ml_cls_report_release(&r);
	return err;
}

static int report_reg(const struct cnai_ctx *ctx, const struct cnai_ml_batch *bt,
		      long tc)
{
	struct cnai_ml_reg_report r;
	int err;

	if ((err = cnai_ml_batch_reg_report(&r, bt, (size_t)tc)) < 0)
		return err;
	if (ctx->json)
		return cnai_json_print(json_pack("{s:s, s:I, s:f, s:f, s:f}",
						 "task", "regression", "rows",
						 (json_int_t)bt->n, "rmse",
						 r.rmse, "mae", r.mae, "r2",
						 r.r2));
	printf("rmse  %.6g\nmae   %.6g\nr2    %.4f\nrows  %zu\n", r.rmse,
	       r.mae, r.r2, bt->n);
	return 0;
}

int cmd_eval(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "target", required_argument, NULL, 't' },
		{ "delimiter", required_argument, NULL, 'D' },
		{ "device", required_argument, NULL, 'v' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct scoring sc = SCORING_INIT;
	const char *target = NULL;
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":h", longopts, &usage, ctx)) !=
	       -1) {
		switch (c) {
		case 'd':
			sc.data = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'D':
			sc.delims = optarg;
			break;
		case 'v':
			sc.device = optarg;
			break;
		default:
			return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
		}
	}
	/* "" keeps the model's own target column */
	if ((err = scoring_run(&sc, ctx, argc, argv, synopsis[0],
			       target ? target : "")) == 0) {
		long tc = cnai_dtable_find(sc.bt.t, target ? target
							   : sc.m->target);

		err = cnai_ml_model_is_classifier(sc.m)
			      ? report_cls(ctx, sc.m, &sc.bt, tc)
			      : report_reg(ctx, &sc.bt, tc);
	}
	scoring_release(&sc);
	return err;
}
