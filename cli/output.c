/*
 * Terminal and JSON output. Tables are built in memory (listings are
 * limited or small) so that columns can be aligned.
 */
#include "cli/output.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util/error.h"
#include "core/util/banned.h"

int cnai_table_init(struct cnai_table *t, size_t ncols,
		    const char *const *header)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	if (!(t->width = calloc(ncols, sizeof(*t->width))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	return cnai_table_add(t, header);
}

/* Display width: counts UTF-8 code points, not bytes. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

int cnai_table_add(struct cnai_table *t, const char *const *cells)
{
	size_t i, w;
	char **g;

	if (t->nrows == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 16;
		g = realloc(t->cells, t->alloc * t->ncols * sizeof(*g));
		if (!g)
			return cnai_error_set(CNAI_ERROR, "out of memory");
		t->cells = g;
	}
	for (i = 0; i < t->ncols; i++) {
		const char *c = cells[i] ? cells[i] : "-";
		char *d = strdup(c), *p;

		if (!d)
			return cnai_error_set(CNAI_ERROR, "out of memory");
		/* One row per line whatever the value holds. */
		for (p = d; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		t->cells[t->nrows * t->ncols + i] = d;
		w = text_width(d);
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
	return 0;
}

void cnai_table_print(const struct cnai_table *t, const struct cnai_ctx *ctx)
{
	size_t r, i, pad;

	for (r = 0; r < t->nrows; r++) {
		if (r == 0 && ctx->color)
			fputs("\033[1m", stdout);
		for (i = 0; i < t->ncols; i++) {
			const char *c = t->cells[r * t->ncols + i];

			fputs(c, stdout);
			if (i + 1 == t->ncols)
				break;
			for (pad = text_width(c); pad < t->width[i] + 2; pad++)
				fputc(' ', stdout);
		}
		if (r == 0 && ctx->color)
			fputs("\033[0m", stdout);
		fputc('\n', stdout);
	}
}

void cnai_table_release(struct cnai_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	memset(t, 0, sizeof(*t));
}

int cnai_json_print(json_t *v)
{
	int rc;

	if (!v)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
	json_decref(v);
	return rc < 0 ? cnai_error_set(CNAI_ERROR, "writing JSON") : 0;
}

void cnai_format_time(char *out, size_t size, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms || !localtime_r(&t, &tm)) {
		snprintf(out, size, "-");
		return;
	}
	strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
}

void cnai_format_time_iso(char *out, size_t size, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char base[32];

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, size, "-");
		return;
	}
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%03dZ", base, (int)(ms % 1000));
}

void cnai_format_duration(char *out, size_t size, int64_t ms)
{
	if (ms < 0)
		snprintf(out, size, "-");
	else if (ms < 60000)
		snprintf(out, size, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(out, size, "%dm%02ds", (int)(ms / 60000),
			 (int)(ms / 1000 % 60));
	else
		snprintf(out, size, "%dh%02dm", (int)(ms / 3600000),
			 (int)(ms / 60000 % 60));
}

void cnai_format_double(char *out, size_t size, double v)
{
	int prec;

	if (isnan(v)) {
		snprintf(out, size, "nan");
		return;
	}
	if (isinf(v)) {
		snprintf(out, size, v > 0 ? "inf" : "-inf");
		return;
	}
	/* The shortest form that reads back as the same double. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

json_t *cnai_json_double(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

json_t *cnai_json_string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

void cnai_notice(const struct cnai_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet)
		return;
	fputs("cnai: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
