#include "commands/scoring.h"

#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "core/util/error.h"
#include "core/util/banned.h"

int scoring_run(struct scoring *s, struct cnai_ctx *ctx, int argc,
		char **argv, const char *synopsis, const char *keep)
{
	char notice[512];
	int err;

	if (optind + 1 != argc)
		return cnai_error_set(CNAI_EUSAGE,
				      optind >= argc
					      ? "no model given; usage: %s"
					      : "one model only; usage: %s",
				      synopsis);
	if (!s->data)
		return cnai_error_set(CNAI_EUSAGE, "--data is required");
	if (strlen(s->delims) != 1)
		return cnai_error_set(CNAI_EUSAGE,
				      "--delimiter: one character, not '%s'",
				      s->delims);
	if ((err = cnai_ml_model_open(&s->m, NULL, ctx->store,
				      argv[optind])) < 0 ||
	    (err = cnai_backend_open(&s->be, s->device, 0, notice,
				     sizeof(notice))) < 0)
		return err;
	if (keep && !*keep)
		keep = s->m->target;
	if ((err = cnai_ml_predict_file(&s->bt, s->m, s->be, s->data,
					s->delims[0], keep)) < 0)
		return err;
	if (s->bt.stats.imputed)
		cnai_notice(ctx, "%zu empty cells imputed with training "
			    "means or modes", s->bt.stats.imputed);
	if (s->bt.stats.unknown)
		cnai_notice(ctx, "%zu cells held categories unseen in "
			    "training (encoded as all zeros)",
			    s->bt.stats.unknown);
	return 0;
}

void scoring_release(struct scoring *s)
{
	cnai_ml_batch_release(&s->bt);
	if (s->be)
		s->be->close(s->be);
	cnai_ml_model_free(s->m);
	s->be = NULL;
	s->m = NULL;
}
