/*
 * cnai predict: score a CSV with a model folder or a registered model,
 * writing one prediction per input row, in the input's order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "commands/scoring.h"
#include "core/data/csv.h"
#include "core/ml/infer.h"
#include "core/ml/metrics.h"
#include "core/store/store.h"
#include "core/util/buf.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

static const char *const synopsis[] = {
	"cnai predict <model> --data <file> [-o <file>] [--proba] "
	"[--delimiter <c>] [--device <d>] [--json]",
	NULL,
};
static const char *const option_help[] = {
	"    <model>             a model folder, or a registered model "
	"(name, name@version,",
	"                        name@alias, digest)",
	"    --data <file>       CSV with the model's feature columns "
	"(others are ignored)",
	"    -o, --output <file> write the predictions there (default: "
	"stdout)",
	"    --proba             add a probability column per class",
	"    --delimiter <c>     field separator (default ',')",
	"    --device <d>        cpu (default), cuda, auto",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

static void add_value(struct cnai_buf *b, double v)
{
	cnai_buf_addf(b, "%.9g", v);
}

static int write_csv(struct cnai_buf *b, const struct cnai_ml_model *m,
		     const struct cnai_ml_batch *bt, int proba, char delim)
{
	size_t i, k;
	int cls = cnai_ml_model_is_classifier(m);

	cnai_csv_add_field(b, m->target ? m->target : "prediction", delim);
	if (cls && proba)
		for (k = 0; k < m->nclasses; k++) {
			char name[512];

			cnai_buf_addch(b, delim);
			snprintf(name, sizeof(name), "p_%s", m->classes[k]);
			cnai_csv_add_field(b, name, delim);
		}
	cnai_buf_addch(b, '\n');
	for (i = 0; i < bt->n; i++) {
		const float *p = bt->pred + i * bt->npred;

		if (cls)
			cnai_csv_add_field(b,
				  m->classes[cnai_ml_argmax(p, m->nclasses)],
				  delim);
		else
			add_value(b, p[0]);
		if (cls && proba)
			for (k = 0; k < m->nclasses; k++) {
				cnai_buf_addch(b, delim);
				add_value(b, p[k]);
			}
		cnai_buf_addch(b, '\n');
	}
	return cnai_buf_oom(b);
}

static json_t *predictions_json(const struct cnai_ml_model *m,
				const struct cnai_ml_batch *bt, int proba)
{
	json_t *a = json_array();
	size_t i, k;

	for (i = 0; i < bt->n; i++) {
		const float *p = bt->pred + i * bt->npred;

		if (!cnai_ml_model_is_classifier(m)) {
			json_array_append_new(a, json_real(p[0]));
			continue;
		}
		if (!proba) {
			json_array_append_new(
				a, json_string(m->classes[cnai_ml_argmax(
					   p, m->nclasses)]));
			continue;
		}
		{
			json_t *o = json_object(), *pr = json_object();

			for (k = 0; k < m->nclasses; k++)
				json_object_set_new(pr, m->classes[k],
						    json_real(p[k]));
			json_object_set_new(
				o, "label",
				json_string(m->classes[cnai_ml_argmax(
					p, m->nclasses)]));
			json_object_set_new(o, "probabilities", pr);
			json_array_append_new(a, o);
		}
	}
	return a;
}

int cmd_predict(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "proba", no_argument, NULL, 'p' },
		{ "delimiter", required_argument, NULL, 'D' },
		{ "device", required_argument, NULL, 'v' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct scoring sc = SCORING_INIT;
	const char *output = NULL;
	struct cnai_buf out = CNAI_BUF_INIT;
	int c, proba = 0, err;

	while ((c = cnai_getopt(argc, argv, ":o:h", longopts, &usage, ctx)) !=
	       -1) {
		switch (c) {
		case 'd':
			sc.data = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'p':
			proba = 1;
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
	if ((err = scoring_run(&sc, ctx, argc, argv, synopsis[0], NULL)) < 0)
		goto cleanup;
	if (ctx->json && !output) {
		err = cnai_json_print(json_pack(
			"{s:I, s:I, s:I, s:o}", "rows", (json_int_t)sc.bt.n,
			"imputed", (json_int_t)sc.bt.stats.imputed, "unknown",
			(json_int_t)sc.bt.stats.unknown, "predictions",
			predictions_json(sc.m, &sc.bt, proba)));
		goto cleanup;
	}
	if ((err = write_csv(&out, sc.m, &sc.bt, proba, sc.delims[0])) < 0)
		goto cleanup;
	if (output) {
		if ((err = cnai_fs_write_atomic(output, out.buf, out.len,
						0644)) < 0)
			goto cleanup;
		if (ctx->json)
			err = cnai_json_print(json_pack(
				"{s:I, s:I, s:I, s:s}", "rows",
				(json_int_t)sc.bt.n, "imputed",
				(json_int_t)sc.bt.stats.imputed, "unknown",
				(json_int_t)sc.bt.stats.unknown, "output",
				output));
		else
			cnai_notice(ctx, "%zu predictions written to %s",
				    sc.bt.n, output);
	} else {
		fwrite(out.buf, 1, out.len, stdout);
	}
cleanup:
	cnai_buf_release(&out);
	scoring_release(&sc);
	return err;
}
