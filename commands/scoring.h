/*
 * What `cnai predict` and `cnai eval` share: after their options are
 * parsed, one model reference and a CSV file the model scores.
 */
#ifndef CNAI_COMMANDS_SCORING_H
#define CNAI_COMMANDS_SCORING_H

#include "cli/ctx.h"
#include "core/ml/infer.h"
#include "gpu/backend.h"

struct scoring {
	/* set by the caller's options */
	const char *data, *delims, *device;
	/* set by scoring_run */
	struct cnai_ml_model *m;
	struct cnai_backend *be;
	struct cnai_ml_batch bt;
};

#define SCORING_INIT { NULL, ",", "cpu", NULL, NULL, { 0 } }

/*
 * Checks what the options left (exactly one model in argv after optind,
 * --data given, a one-character --delimiter; CNAI_EUSAGE with
 * `synopsis` otherwise), opens the model and the backend and scores
 * --data, keeping the column `keep` too when not NULL ("" for the
 * model's own target). Says on stderr how many cells were imputed or
 * held unseen categories.
 */
int scoring_run(struct scoring *s, struct cnai_ctx *ctx, int argc,
		char **argv, const char *synopsis, const char *keep);
void scoring_release(struct scoring *s);

#endif
