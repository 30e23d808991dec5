/*
 * track log: params, metrics, tags and artifacts for a run, from options
 * or from a JSON-lines batch (core/data/jsonl.h). Either way everything
 * goes through one logger, i.e. one transaction: a bad item rejects the
 * whole call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/track/track.h"
#include "core/data/jsonl.h"
#include "core/store/blobs.h"
#include "core/store/lineage.h"
#include "core/store/logger.h"
#include "core/util/banned.h"

struct log_item {
	int kind; /* 'p', 'm', 't', 'a' */
	const char *arg;
};

/* "k=v[@step]": splits off the step after the last '@' of the value. */
static int log_metric_arg(struct cnai_logger *lg, const char *arg,
			  int64_t now)
{
	char *dup, *at;
	const char *k, *v;
	double value;
	int64_t step = 0;
	int err;

	if ((err = cnai_opt_keyvalue(&dup, &k, &v, arg, "--metric")) < 0)
		return err;
	if ((at = strrchr(v, '@'))) {
		*at = '\0';
		if ((err = cnai_opt_int64(&step, at + 1, "--metric step")) < 0)
			goto cleanup;
	}
	if ((err = cnai_opt_double(&value, v, "--metric", 0)) < 0)
		goto cleanup;
	err = cnai_logger_metric(lg, k, value, step, now);
cleanup:
	free(dup);
	return err;
}

/* "path[:name]": the name defaults to the file's base name. */
static int log_artifact_arg(struct cnai_logger *lg, struct cnai_store *st,
			    const char *arg)
{
	char digest[CNAI_DIGEST_LEN];
	char *dup = strdup(arg), *colon, *name;
	uint64_t size;
	int err;

	if (!dup)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	colon = strrchr(dup, ':');
	if (colon && colon != dup) {
		*colon = '\0';
		name = colon + 1;
	} else {
		name = strrchr(dup, '/') ? strrchr(dup, '/') + 1 : dup;
	}
	/* the logger records the lineage edge run -> artifact too */
	if ((err = cnai_blob_put_file(digest, &size, st, dup)) == 0)
		err = cnai_logger_artifact(lg, name, digest, size);
	free(dup);
	return err;
}

struct batch {
	struct cnai_logger *lg;
	int64_t now;
};

/* One item of a --batch file into the run's logger. */
static int log_batch_item(const struct cnai_jsonl_item *it, void *data)
{
	struct batch *b = data;
	char text[64];
	const char *s = it->text;

	if (it->kind == CNAI_JSONL_METRIC)
		return cnai_logger_metric(b->lg, it->key, it->value, it->step,
					  it->has_timestamp ? it->timestamp
							    : b->now);
	if (!s) {
		/* a JSON real, written as the rest of cnai writes one */
		cnai_format_double(text, sizeof(text), it->value);
		s = text;
	}
	if (it->kind == CNAI_JSONL_PARAM)
		return cnai_logger_param(b->lg, it->key, s);
	return cnai_logger_tag(b->lg, it->key, s);
}

int track_log(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "param", required_argument, NULL, 'p' },
		{ "metric", required_argument, NULL, 'm' },
		{ "tag", required_argument, NULL, 't' },
		{ "artifact", required_argument, NULL, 'a' },
		{ "batch", required_argument, NULL, 'b' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct log_item *items = NULL, *g;
	struct cnai_logger *lg = NULL;
	struct cnai_run *run = NULL;
	const char *run_ref = NULL, *batch = NULL;
	size_t nitems = 0, i, count = 0;
	int64_t now = cnai_store_now_ms();
	int c, err = 0;

	while ((c = cnai_getopt(argc, argv, ":h", longopts,
				track_usage("log"), ctx)) != -1) {
		switch (c) {
		case 'r':
			run_ref = optarg;
			break;
		case 'b':
			batch = optarg;
			break;
		case 'p':
		case 'm':
		case 't':
		case 'a':
			if (!(g = realloc(items, (nitems + 1) * sizeof(*g)))) {
				err = cnai_error_set(CNAI_ERROR,
						     "out of memory");
				goto cleanup;
			}
			items = g;
			items[nitems].kind = c;
			items[nitems++].arg = optarg;
			break;
		case CNAI_OPT_HELP:
			goto cleanup;
		default:
			err = CNAI_EUSAGE;
			goto cleanup;
		}
	}
	if (optind < argc) {
		err = cnai_error_set(CNAI_EUSAGE, "'track log': unexpected "
				     "argument '%s'", argv[optind]);
		goto cleanup;
	}
	if (!nitems && !batch) {
		err = cnai_error_set(CNAI_EUSAGE,
				     "nothing to log: give --param, --metric, "
				     "--tag, --artifact or --batch");
		goto cleanup;
	}
	if ((err = track_resolve_run(&run, ctx->store, run_ref)) < 0 ||
	    (err = cnai_logger_begin(&lg, ctx->store, run->id)) < 0)
		goto cleanup;
	for (i = 0; i < nitems && !err; i++) {
		char *dup = NULL;
		const char *k, *v;

		switch (items[i].kind) {
		case 'm':
			err = log_metric_arg(lg, items[i].arg, now);
			break;
		case 'a':
			err = log_artifact_arg(lg, ctx->store, items[i].arg);
			break;
		default:
			err = cnai_opt_keyvalue(&dup, &k, &v, items[i].arg,
						items[i].kind == 'p' ? "--param"
								     : "--tag");
			if (!err)
				err = items[i].kind == 'p'
					      ? cnai_logger_param(lg, k, v)
					      : cnai_logger_tag(lg, k, v);
			free(dup);
		}
		count++;
	}
	if (!err && batch) {
		struct batch b = { lg, cnai_store_now_ms() };

		err = cnai_jsonl_read(batch, log_batch_item, &b, &count);
	}
	if (err < 0)
		goto cleanup;
	err = cnai_logger_commit(lg);
	lg = NULL;
	if (!err && ctx->json)
		err = cnai_json_print(json_pack("{s:s, s:I}", "run_id",
						run->uuid, "logged",
						(json_int_t)count));
cleanup:
	cnai_logger_abort(lg);
	cnai_run_free(run);
	free(items);
	return err;
}
