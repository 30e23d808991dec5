/*
 * Option parsing shared by every command: getopt_long with our error
 * messages (unknown option with a "did you mean", missing argument), the
 * options every command takes (-h/--help, --json), and usage printing.
 */
#ifndef CNAI_CLI_OPTIONS_H
#define CNAI_CLI_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/ctx.h"

/* Option values for the common options; keep clear of other shorts. */
enum { CNAI_OPT_JSON = 0x1000, CNAI_OPT_HELP = 'h' };

#define CNAI_OPTS_COMMON                                                   \
	{ "json", no_argument, NULL, CNAI_OPT_JSON },                      \
	{ "help", no_argument, NULL, CNAI_OPT_HELP }

/* A command's help: usage lines (the man SYNOPSIS) and option lines. */
struct cnai_usage {
	const char *const *synopsis; /* NULL-terminated, "cnai x [..]" */
	const char *const *options;  /* NULL-terminated, "  --x  what" */
};

/* Prints usage to stdout (help asked) or stderr; returns 0. */
int cnai_usage_print(const struct cnai_usage *u, int to_stdout);

/*
 * Wraps getopt_long: returns the next option like getopt_long, handles
 * --json and -h/--help itself (help: prints usage and returns
 * CNAI_OPT_HELP so the caller returns 0), and for an unknown option or a
 * missing argument sets the error and returns '?'. shortopts must begin
 * with ':' ("+:" to stop at the first operand).
 */
int cnai_getopt(int argc, char **argv, const char *shortopts,
		const struct option *longopts, const struct cnai_usage *u,
		struct cnai_ctx *ctx);
/* Resets getopt for a new parse (sub-commands). */
void cnai_getopt_reset(void);

/* Splits "KEY=VALUE": key and value point into a copy in *dup. */
int cnai_opt_keyvalue(char **dup, const char **key, const char **value,
		      const char *arg, const char *what);
/*
 * Parses a whole number in [min, max] ("--batch-size 32"); CNAI_EUSAGE
 * naming the option: "OPTION: 'x' is not a whole number", "OPTION: must
 * be at least MIN, not N", "OPTION: 'N' is too large (at most MAX)",
 * whatever the value's size (a number past int64 included).
 */
int cnai_opt_int_range(int64_t *out, const char *arg, const char *option,
		       int64_t min, int64_t max);
/* cnai_opt_int_range over all of int64 ("--limit 10"). */
int cnai_opt_int64(int64_t *out, const char *arg, const char *option);
/*
 * cnai_opt_int64, then a bound that names both ends ("--port 80"):
 * CNAI_EUSAGE "OPTION: N is not MIN to MAX" outside [min, max]; *out is
 * set either way.
 */
int cnai_opt_int_between(int64_t *out, const char *arg, const char *option,
			 int64_t min, int64_t max);

enum cnai_opt_double_flags {
	/* only finite numbers >= 0 ("--threshold 0.05") */
	CNAI_OPT_NONNEGATIVE = (1 << 0),
};

/*
 * Parses a real number, the whole of `arg`, as strtod reads it ("0.5",
 * "1e-3", "nan", "-inf" in any case); a value past the range of a double
 * is infinite, one too small to keep is not a number. With
 * CNAI_OPT_NONNEGATIVE only finite values >= 0 (a too small one is 0).
 * CNAI_EUSAGE naming the option: "OPTION: 'x' is not a number" (or "a
 * non-negative number").
 */
int cnai_opt_double(double *out, const char *arg, const char *option,
		    unsigned flags);

/*
 * The long option nearest to `bad` (a name without its dashes) for a "did
 * you mean", or NULL when none is close.
 */
const char *cnai_opt_suggest(const char *bad, const struct option *longopts);
/*
 * The error for an unknown sub-command of `cmd`, suggesting the nearest
 * name in `table`: n entries of `stride` bytes whose first member is the
 * name (a const char *), as every command's sub-command table is laid out.
 * Returns CNAI_EUSAGE.
 */
int cnai_unknown_subcommand(const char *cmd, const char *bad,
			    const void *table, size_t n, size_t stride);

/* Edit distance for "did you mean" suggestions. */
size_t cnai_levenshtein(const char *a, const char *b);

#endif
