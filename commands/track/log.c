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

static int batch_error(const char *file, size_t line, const char *msg)
{
	return cnai_error_set(CNAI_EINVALID, "%s:%zu: %s", file, line, msg);
}

/* The last error, prefixed with the line. Copied first: the message lives
 * in the buffer that cnai_error_set() writes. */
static int batch_error_last(const char *file, size_t line)
{
	const struct cnai_error *e = cnai_error_last();
	char msg[sizeof(e->message)];

	snprintf(msg, sizeof(msg), "%s", e ? e->message : "error");
	return batch_error(file, line, msg);
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
		return batch_error_last(file, line);
	return 0;
}

/*
 * The fast path for the common batch line, {"metric":"k","value":n,
 * "step":i} (fields in any order, "step" and "timestamp" optional): read
 * here without building a JSON tree, which was most of the cost of a large
 * batch. It accepts only lines jansson reads to the very same values:
 * printable ASCII names without escapes, numbers in JSON's grammar,
 * integers of at most 18 digits. Anything else (a param, a tag, "NaN",
 * an escape, a stray byte, a duplicate field) is left to jansson and
 * batch_line(), so every message for a bad line stays as it was.
 */
struct fast_metric {
	const char *key;
	char *key_end; /* the closing quote, made the key's NUL on success */
	double value;
	int64_t step, ts;
	unsigned seen; /* FAST_* bits */
};

enum {
	FAST_METRIC = 1 << 0,
	FAST_VALUE = 1 << 1,
	FAST_STEP = 1 << 2,
	FAST_TS = 1 << 3,
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char *fast_ws(char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* A string without escapes or control and non-ASCII bytes; NULL if not. */
static char *fast_string(char **close, char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end && *p != '"'; p++)
		if (*p == '\\' || (unsigned char)*p < 0x20 ||
		    (unsigned char)*p > 0x7e)
			return NULL;
	if (p >= end)
		return NULL;
	*close = p;
	return p + 1;
}

/* -?(0|[1-9][0-9]*), at most 18 digits so it cannot overflow. */
static char *fast_int(int64_t *out, char *p, const char *end)
{
	int64_t v = 0;
	int neg = 0, n = 0;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= end || !is_digit(*p))
		return NULL;
	if (*p == '0') {
		p++;
	} else {
		for (; p < end && is_digit(*p); p++, n++) {
			if (n == 18)
				return NULL;
			v = v * 10 + (*p - '0');
		}
	}
	if (p < end && is_digit(*p))
		return NULL; /* a leading zero: not JSON */
	*out = neg ? -v : v;
	return p;
}

/*
 * A JSON number as jansson reads it: an integer (converted to double, as
 * json_number_value() does) or a real parsed by strtod. Out-of-range
 * reals go to jansson, which has its own message for them.
 */
static char *fast_number(double *out, char *p, const char *end)
{
	char *start = p, *q, *e;
	int64_t i;
	double d;

	if (p < end && *p == '-')
		p++;
	if (p >= end || !is_digit(*p))
		return NULL;
	if (*p == '0' && p + 1 < end && is_digit(p[1]))
		return NULL;
	while (p < end && is_digit(*p))
		p++;
	if (p >= end || (*p != '.' && *p != 'e' && *p != 'E')) {
		if (!(q = fast_int(&i, start, end)) || q != p)
			return NULL;
		*out = (double)i;
		return p;
	}
	if (*p == '.') {
		if (++p >= end || !is_digit(*p))
			return NULL;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return NULL;
		while (p < end && is_digit(*p))
			p++;
	}
	/* The line is NUL-terminated, so strtod stops at its end. */
	errno = 0;
	d = strtod(start, &e);
	if (e != p || errno == ERANGE)
		return NULL;
	*out = d;
	return p;
}

static char *fast_field(struct fast_metric *m, char *p, const char *end)
{
	char *name, *close;
	size_t n;
	unsigned bit;

	name = p + 1;
	if (!(p = fast_string(&close, p, end)))
		return NULL;
	n = (size_t)(close - name);
	p = fast_ws(p, end);
	if (p >= end || *p != ':')
		return NULL;
	p = fast_ws(p + 1, end);
	if (n == 6 && !memcmp(name, "metric", 6)) {
		bit = FAST_METRIC;
		m->key = p + 1;
		p = fast_string(&m->key_end, p, end);
	} else if (n == 5 && !memcmp(name, "value", 5)) {
		bit = FAST_VALUE;
		p = fast_number(&m->value, p, end);
	} else if (n == 4 && !memcmp(name, "step", 4)) {
		bit = FAST_STEP;
		p = fast_int(&m->step, p, end);
	} else if (n == 9 && !memcmp(name, "timestamp", 9)) {
		bit = FAST_TS;
		p = fast_int(&m->ts, p, end);
	} else {
		return NULL;
	}
	if (!p || (m->seen & bit))
		return NULL;
	m->seen |= bit;
	return p;
}

/* 1: the line was a plain metric and is logged; 0: not one, use jansson. */
static int batch_fast_line(struct cnai_logger *lg, char *line, size_t len,
			   const char *file, size_t lineno, int64_t now)
{
	struct fast_metric m = { 0 };
	const char *end = line + len;
	char *p = fast_ws(line, end);

	if (p >= end || *p != '{')
		return 0;
	for (p = fast_ws(p + 1, end);; p = fast_ws(p + 1, end)) {
		if (!(p = fast_field(&m, p, end)))
			return 0;
		p = fast_ws(p, end);
		if (p < end && *p == '}')
			break;
		if (p >= end || *p != ',')
			return 0;
	}
	if (fast_ws(p + 1, end) != end ||
	    (m.seen & (FAST_METRIC | FAST_VALUE)) != (FAST_METRIC | FAST_VALUE))
		return 0;
	*m.key_end = '\0';
	if (cnai_logger_metric(lg, m.key, m.value,
			       m.seen & FAST_STEP ? m.step : 0,
			       m.seen & FAST_TS ? m.ts : now) < 0)
		return batch_error_last(file, lineno);
	return 1;
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
		if ((err = batch_fast_line(lg, line, (size_t)len, name, lineno,
					   now)) < 0)
			break;
		if (err) {
			err = 0;
			(*count)++;
			continue;
		}
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
