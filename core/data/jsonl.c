/*
 * The batch of `cnai track log --batch` (see jsonl.h). Errors name the
 * file and line; an error from the caller's function for an item is
 * reported the same way (as bad input), so that a key the run refuses
 * points at its line.
 */
#include "core/data/jsonl.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util/error.h"
#include "core/util/banned.h"

enum { BATCH_LINE_MAX = 2 * 1024 * 1024 };

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

/* A line jansson read: checked, then handed to `fn`. */
static int batch_line(cnai_jsonl_fn fn, void *data, json_t *o,
		      const char *file, size_t line)
{
	struct cnai_jsonl_item it = { 0 };
	json_t *metric = json_object_get(o, "metric"),
	       *param = json_object_get(o, "param"),
	       *tag = json_object_get(o, "tag"),
	       *value = json_object_get(o, "value"),
	       *step = json_object_get(o, "step"),
	       *ts = json_object_get(o, "timestamp");
	const char *k;
	char text[64], msg[300];
	json_t *v;
	int kinds = !!metric + !!param + !!tag;

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
	it.key = json_string_value(metric ? metric : param ? param : tag);
	if (!it.key)
		return batch_error(file, line, "the name must be a string");
	if (!value)
		return batch_error(file, line, "missing \"value\"");
	if (metric) {
		if (json_metric_value(&it.value, value) < 0)
			return batch_error(file, line,
					   "\"value\" must be a number, "
					   "\"NaN\", \"Infinity\" or "
					   "\"-Infinity\"");
		if ((step && !json_is_integer(step)) ||
		    (ts && !json_is_integer(ts)))
			return batch_error(file, line,
					   "\"step\" and \"timestamp\" must be "
					   "integers");
		it.kind = CNAI_JSONL_METRIC;
		it.step = step ? json_integer_value(step) : 0;
		it.has_timestamp = ts != NULL;
		it.timestamp = ts ? json_integer_value(ts) : 0;
	} else {
		const char *s = json_string_value(value);

		it.kind = param ? CNAI_JSONL_PARAM : CNAI_JSONL_TAG;
		if (step || ts)
			return batch_error(file, line,
					   "\"step\" and \"timestamp\" belong "
					   "to metrics");
		if (!s && json_is_integer(value)) {
			snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(value));
			s = text;
		} else if (!s && json_is_real(value)) {
			it.value = json_real_value(value);
		} else if (!s) {
			return batch_error(file, line,
					   "\"value\" must be a string");
		}
		it.text = s;
	}
	if (fn(&it, data) < 0)
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

/* 1: the line was a plain metric, handed to `fn`; 0: not one, use
 * jansson. */
static int batch_fast_line(cnai_jsonl_fn fn, void *data, char *line,
			   size_t len, const char *file, size_t lineno)
{
	struct fast_metric m = { 0 };
	struct cnai_jsonl_item it = { 0 };
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
	it.kind = CNAI_JSONL_METRIC;
	it.key = m.key;
	it.value = m.value;
	it.step = m.seen & FAST_STEP ? m.step : 0;
	it.has_timestamp = (m.seen & FAST_TS) != 0;
	it.timestamp = m.seen & FAST_TS ? m.ts : 0;
	if (fn(&it, data) < 0)
		return batch_error_last(file, lineno);
	return 1;
}

int cnai_jsonl_read(const char *file, cnai_jsonl_fn fn, void *data,
		    size_t *count)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	const char *name = strcmp(file, "-") ? file : "<stdin>";
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
		if ((err = batch_fast_line(fn, data, line, (size_t)len, name,
					   lineno)) < 0)
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
		err = batch_line(fn, data, o, name, lineno);
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

