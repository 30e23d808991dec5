/*
 * How commands print: aligned tables for people, JSON for machines,
 * notices on stderr (silenced by -q), colour only on a terminal without
 * NO_COLOR, and consistent number and time formats.
 */
#ifndef CNAI_CLI_OUTPUT_H
#define CNAI_CLI_OUTPUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/ctx.h"
#include "core/util/buf.h"

struct cnai_table {
	size_t ncols, nrows, alloc;
	char **cells; /* nrows * ncols, row-major; row 0 is the header */
	size_t *width;
};

int cnai_table_init(struct cnai_table *t, size_t ncols,
		    const char *const *header);
/* Adds a row of ncols strings (copied; NULL prints as "-"). */
int cnai_table_add(struct cnai_table *t, const char *const *cells);
/* Prints with two spaces between columns; header bold on a colour TTY. */
void cnai_table_print(const struct cnai_table *t, const struct cnai_ctx *ctx);
void cnai_table_release(struct cnai_table *t);

/* Prints a JSON value on stdout (2-space indent) and a newline; takes
 * ownership of `v` (decref). */
int cnai_json_print(json_t *v);

/* "2026-11-29 14:05:44" in local time, from ms since the epoch. */
void cnai_format_time(char *out, size_t size, int64_t ms);
/* ISO 8601 UTC with milliseconds: "2026-11-29T14:05:44.123Z". */
void cnai_format_time_iso(char *out, size_t size, int64_t ms);
/* "1.2s", "3m04s", "2h05m". */
void cnai_format_duration(char *out, size_t size, int64_t ms);
/* Shortest exact text of a double; "nan", "inf", "-inf" as they are. */
void cnai_format_double(char *out, size_t size, double v);
/* JSON for a double: a number when finite, else "NaN", "Infinity",
 * "-Infinity" as strings (JSON has no such numbers). */
json_t *cnai_json_double(double v);
/* A JSON string, or null for NULL. */
json_t *cnai_json_string_or_null(const char *s);

/* Notice on stderr unless -q: "cnai: ..." */
void cnai_notice(const struct cnai_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Progress on stderr (cli/progress.c): transfer lines for push and pull,
 * one per blob in flight, "sha256:0123456789ab  12.3 MiB / 64.0 MiB
 * 45.6 MiB/s", redrawn in place at most ten times a second (a finished
 * blob's line is written once more, final, above those still moving); or
 * one bar redrawn in place, "LABEL [=====   ]  42%  SUFFIX".
 */
struct cnai_progress;

/*
 * A display for `ctx`, or NULL when there is to be none: stderr is not a
 * terminal, or -q or --json was given (or there is no memory for one: a
 * display is never worth failing the work it shows). Every function below
 * takes NULL as "no display" and does nothing.
 */
struct cnai_progress *cnai_progress_new(const struct cnai_ctx *ctx);

/*
 * The registry's progress callback (cnai_registry_progress_fn), with the
 * display as `p`; safe to call from several threads at once.
 */
void cnai_progress_transfer(void *p, const char *digest, uint64_t done,
			    uint64_t total);

/*
 * Redraws the single bar: `done` of `total`, `label` before it and
 * `suffix` (may be NULL) after. At most ten redraws a second, except the
 * one where `done` reaches `total`. One thread only.
 */
void cnai_progress_bar(struct cnai_progress *p, const char *label,
		       size_t done, size_t total, const char *suffix);

/*
 * Ends the display: transfer lines are drawn in their last state, a bar
 * is cleared from its line. Frees `p`.
 */
void cnai_progress_free(struct cnai_progress *p);

#endif
