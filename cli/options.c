/*
 * getopt_long with git-style errors. getopt's own messages are switched
 * off (opterr = 0) so that every error is one `cnai: error:` line and
 * an unknown long option gets the nearest valid name as a suggestion.
 */
#include "cli/options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/number.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/banned.h"

size_t cnai_levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp;

	if (lb >= sizeof(row) / sizeof(*row))
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;

			tmp = row[j];
			row[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
			prev = tmp;
		}
	}
	return row[lb];
}

int cnai_usage_print(const struct cnai_usage *u, int to_stdout)
{
	FILE *f = to_stdout ? stdout : stderr;
	size_t i;

	for (i = 0; u->synopsis[i]; i++)
		fprintf(f, "%s%s\n", i ? "   or: " : "usage: ", u->synopsis[i]);
	if (u->options && u->options[0]) {
		fputc('\n', f);
		for (i = 0; u->options[i]; i++)
			fprintf(f, "%s\n", u->options[i]);
	}
	return 0;
}

void cnai_getopt_reset(void)
{
	optind = 0; /* glibc: 0 also re-initialises its internal state */
}

const char *cnai_opt_suggest(const char *bad, const struct option *longopts)
{
	const char *best = NULL;
	size_t best_d = 3, d, i;

	for (i = 0; longopts[i].name; i++) {
		d = cnai_levenshtein(bad, longopts[i].name);
		if (d < best_d ||
		    (!strncmp(bad, longopts[i].name, strlen(bad)) && d < 6)) {
			best_d = d;
			best = longopts[i].name;
		}
	}
	return best;
}

int cnai_getopt(int argc, char **argv, const char *shortopts,
		const struct option *longopts, const struct cnai_usage *u,
		struct cnai_ctx *ctx)
{
	int c;

	opterr = 0;
	for (;;) {
		int prev = optind ? optind : 1;

		c = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (c == CNAI_OPT_JSON) {
			ctx->json = 1;
			continue;
		}
		if (c == CNAI_OPT_HELP) {
			cnai_usage_print(u, 1);
			return CNAI_OPT_HELP;
		}
		if (c == '?') {
			const char *arg = argv[optind - 1 >= prev ? optind - 1
								   : prev];
			char name[128];
			const char *s;

			if (optopt && optopt != '?') {
				/* "cnai track ls --help": a sub-command's
				 * argv[0] is its own name. */
				int sub = ctx->cmd_name &&
					  strcmp(argv[0], ctx->cmd_name);

				cnai_error_set(CNAI_EUSAGE,
					       "unknown option '-%c'; see 'cnai "
					       "%s%s%s --help'", optopt,
					       sub ? ctx->cmd_name : "",
					       sub ? " " : "", argv[0]);
				return '?';
			}
			snprintf(name, sizeof(name), "%s",
				 arg + (arg[0] == '-' && arg[1] == '-' ? 2 : 0));
			name[strcspn(name, "=")] = '\0';
			s = cnai_opt_suggest(name, longopts);
			cnai_error_set(CNAI_EUSAGE,
				       "unknown option '%s'%s%s%s", arg,
				       s ? "; did you mean '--" : "",
				       s ? s : "", s ? "'?" : "");
			return '?';
		}
		if (c == ':') {
			const char *arg = argv[optind - 1];

			if (optopt && !(arg[0] == '-' && arg[1] == '-'))
				cnai_error_set(CNAI_EUSAGE,
					       "option '-%c' needs a value",
					       optopt);
			else
				cnai_error_set(CNAI_EUSAGE,
					       "option '%s' needs a value", arg);
			return '?';
		}
		return c;
	}
}

int cnai_opt_keyvalue(char **dup, const char **key, const char **value,
		      const char *arg, const char *what)
{
	char *eq;

	*dup = strdup(arg);
	if (!*dup)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	eq = strchr(*dup, '=');
	if (!eq || eq == *dup) {
		free(*dup);
		*dup = NULL;
		return cnai_error_set(CNAI_EUSAGE,
				      "%s '%s' is not KEY=VALUE", what, arg);
	}
	*eq = '\0';
	*key = *dup;
	*value = eq + 1;
	return 0;
}

int cnai_opt_int_range(int64_t *out, const char *arg, const char *option,
		       int64_t min, int64_t max)
{
	return cnai_number_parse_int(out, arg, option, min, max);
}

int cnai_opt_int64(int64_t *out, const char *arg, const char *option)
{
	return cnai_opt_int_range(out, arg, option, INT64_MIN, INT64_MAX);
}

int cnai_opt_int_between(int64_t *out, const char *arg, const char *option,
			 int64_t min, int64_t max)
{
	int err;

	if ((err = cnai_opt_int64(out, arg, option)) < 0)
		return err;
	if (*out < min || *out > max)
		return cnai_error_set(CNAI_EUSAGE, "%s: %lld is not %lld to %lld",
				      option, (long long)*out, (long long)min,
				      (long long)max);
	return 0;
}

int cnai_opt_double(double *out, const char *arg, const char *option,
		    unsigned flags)
{
	int nonneg = (flags & CNAI_OPT_NONNEGATIVE) != 0;
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end ||
	    (nonneg ? !(v >= 0) || isinf(v)
		    : errno == ERANGE && !isinf(v)))
		return cnai_error_set(CNAI_EUSAGE, "%s: '%s' is not %s",
				      option, arg,
				      nonneg ? "a non-negative number"
					     : "a number");
	*out = v;
	return 0;
}

int cnai_unknown_subcommand(const char *cmd, const char *bad,
			    const void *table, size_t n, size_t stride)
{
	const char *best = NULL;
	size_t i, d, best_d = 3;

	for (i = 0; i < n; i++) {
		const char *name =
			*(const char *const *)((const char *)table + i * stride);

		d = cnai_levenshtein(bad, name);
		if (d < best_d) {
			best_d = d;
			best = name;
		}
	}
	if (best)
		return cnai_error_set(CNAI_EUSAGE,
				      "unknown '%s' sub-command '%s'; did you "
				      "mean '%s'?", cmd, bad, best);
	return cnai_error_set(CNAI_EUSAGE,
			      "unknown '%s' sub-command '%s'; see 'cnai %s "
			      "--help'", cmd, bad, cmd);
}
