/*
 * track log: params, metrics, tags and artifacts for a run, from options
 * or from a JSON-lines batch. Either way everything goes through one
 * logger, i.e. one transaction: a bad item rejects the whole call.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/track/track.h"
#include "core/store/blobs.h"
#include "core/store/lineage.h"
#include "core/store/logger.h"
#include "core/util/banned.h"

enum { BATCH_LINE_MAX = 2 * 1024 * 1024 };

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
	if ((err = track_parse_double(&value, v, "--metric")) < 0)
		goto cleanup;
	err = cnai_logger_metric(lg, k, value, step, now);
cleanup:
	free(dup);
	return err;
}

/* "path[:name]": the name defaults to the file's base name. */
static int log_artifact_arg(struct cnai_logger *lg, struct cnai_store *st,
			    const struct cnai_run *run, const char *arg)
{
	char digest[CNAI_DIGEST_LEN];
	char *dup = strdup(arg), *colon, *name;
	uint64_t size;
	int64_t run_e, art_e;
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
	if ((err = cnai_blob_put_file(digest, &size, st, dup)) < 0 ||
	    (err = cnai_logger_artifact(lg, name, digest, size)) < 0 ||
	    (err = cnai_lineage_entity(&run_e, &st->db, CNAI_ENTITY_RUN,
				       run->uuid, run->name)) < 0 ||
	    (err = cnai_lineage_entity(&art_e, &st->db, CNAI_ENTITY_ARTIFACT,
				       digest, name)) < 0)
		goto cleanup;
	err = cnai_lineage_edge(&st->db, run_e, art_e, "logged");
cleanup:
	free(dup);
	return err;
}

static int batch_error(const char *file, size_t line, const char *msg)
{
	return cnai_error_set(CNAI_EINVALID, "%s:%zu: %s", file, line, msg);
}

/* A metric value in JSON: a number, or "NaN", "Infinity", "-Infinity". */
static int json_metric_value(double *out, json_t *v)
{
	const char *s = json_string_value(v);

	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (s && (!strcmp(s, "NaN") || !strcasecmp(s, "nan")))
		*out = NAN;
	else if (s && (!strcmp(s, "Infinity") || !strcasecmp(s, "inf")))
		*out = INFINITY;
	else if (s && (!strcmp(s, "-Infinity") || !strcasecmp(s, "-inf")))
		*out = -INFINITY;
	else
		return -1;
	return 0;
}

static int batch_line(struct cnai_logger *lg, json_t *o, const char *file,
		      size_t line, int64_t now)
{
	json_t *metric = json_object_get(o, "metric"),
	       *param = json_object_get(o, "param"),
	       *tag = json_object_get(o, "tag"),
	       *value = json_object_get(o, "value"),
	       *step = json_object_get(o, "step"),
	       *ts = json_object_get(o, "timestamp");
	const char *key, *k;
	char text[64], msg[300];
	json_t *v;
	double d;
	int err, kinds = !!metric + !!param + !!tag;

	if (!json_is_object(o))
		return batch_error(file, line, "expected a JSON object");
	if (kinds != 1)
		return batch_error(file, line,
				   "expected exactly one of \"metric\", "
				   "\"param\", \"tag\"");
	json_object_foreach(o, k, v) {
		if (strcmp(k, "metric") && strcmp(k, "param") &&
		    strcmp(k, "tag") && strcmp(k, "value") &&
		    strcmp(k, "step") && strcmp(k, "timestamp")) {
			snprintf(msg, sizeof(msg), "unknown field \"%.200s\"",
				 k);
			return batch_error(file, line, msg);
		}
	}
	key = json_string_value(metric ? metric : param ? param : tag);
	if (!key)
		return batch_error(file, line, "the name must be a string");
	if (!value)
		return batch_error(file, line, "missing \"value\"");
	if (metric) {
		if (json_metric_value(&d, value) < 0)
			return batch_error(file, line,
					   "\"value\" must be a number, "
					   "\"NaN\", \"Infinity\" or "
					   "\"-Infinity\"");
		if ((step && !json_is_integer(step)) ||
		    (ts && !json_is_integer(ts)))
			return batch_error(file, line,
					   "\"step\" and \"timestamp\" must be "
					   "integers");
		err = cnai_logger_metric(lg, key, d,
					 step ? json_integer_value(step) : 0,
					 ts ? json_integer_value(ts) : now);
	} else {
		const char *s = json_string_value(value);

		if (step || ts)
			return batch_error(file, line,
					   "\"step\" and \"timestamp\" belong "
					   "to metrics");
		if (!s && json_is_integer(value)) {
			snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(value));
			s = text;
		} else if (!s && json_is_real(value)) {
			cnai_format_double(text, sizeof(text),
					   json_real_value(value));
			s = text;
		} else if (!s) {
			return batch_error(file, line,
					   "\"value\" must be a string");
		}
		err = param ? cnai_logger_param(lg, key, s)
			    : cnai_logger_tag(lg, key, s);
	}
	if (err < 0)
		return batch_error(file, line, cnai_error_last()->message);
	return 0;
}

static int log_batch(struct cnai_logger *lg, const char *file, size_t *count)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	const char *name = strcmp(file, "-") ? file : "<stdin>";
	int64_t now = cnai_db_now_ms();
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int err = 0;

	if (!f)
		return cnai_error_set_errno(errno == ENOENT ? CNAI_ENOTFOUND
							    : CNAI_ERROR,
					    "cannot read '%s'", file);
	while ((len = getline(&line, &cap, f)) >= 0) {
		json_error_t jerr;
		json_t *o;

		lineno++;
		if ((size_t)len > BATCH_LINE_MAX) {
			err = batch_error(name, lineno,
					  "line longer than 2 MiB");
			break;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (strspn(line, " \t") == (size_t)len)
			continue;
		if (!(o = json_loadb(line, (size_t)len, 0, &jerr))) {
			char msg[300];

			snprintf(msg, sizeof(msg), "column %d: %s",
				 jerr.column, jerr.text);
			err = batch_error(name, lineno, msg);
			break;
		}
		err = batch_line(lg, o, name, lineno, now);
		json_decref(o);
		if (err < 0)
			break;
		(*count)++;
	}
	if (!err && ferror(f))
		err = cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'", name);
	free(line);
	if (f != stdin)
		fclose(f);
	return err;
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
	int64_t now = cnai_db_now_ms();
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
			err = log_artifact_arg(lg, ctx->store, run,
					       items[i].arg);
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
	if (!err && batch)
		err = log_batch(lg, batch, &count);
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
