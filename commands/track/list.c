/*
 * track ls: runs matching a filter, as a table or JSON. Rows stream from
 * the query (cnai_runs_query calls back per run), so memory depends on
 * the limit, not on the number of runs in the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/track/track.h"
#include "core/util/banned.h"

static const char *const default_columns[] = {
	"id", "name", "experiment", "status", "start", "duration",
};
static const char *const attribute_columns[] = {
	"id", "name", "experiment", "status", "start", "end", "duration",
	"exit_code", "user", "git_commit",
};

struct ls_state {
	struct cnai_ctx *ctx;
	char **columns;
	size_t ncols;
	struct cnai_table table;
	int json;
	size_t printed; /* JSON rows written so far */
};

static int check_column(const char *c)
{
	size_t i;

	for (i = 0; i < sizeof(attribute_columns) / sizeof(*attribute_columns);
	     i++)
		if (!strcmp(c, attribute_columns[i]))
			return 0;
	if ((!strncmp(c, "metrics.", 8) && c[8]) ||
	    (!strncmp(c, "params.", 7) && c[7]) ||
	    (!strncmp(c, "tags.", 5) && c[5]))
		return 0;
	return cnai_error_set(CNAI_EUSAGE,
			      "--columns: unknown column '%s' (id, name, "
			      "experiment, status, start, end, duration, "
			      "exit_code, user, git_commit, metrics.<key>, "
			      "params.<key>, tags.<key>)", c);
}

static int parse_columns(struct ls_state *s, const char *list)
{
	char *dup, *p, *save = NULL, *tok;
	int err = 0;

	if (!list) {
		size_t i, n = sizeof(default_columns) / sizeof(*default_columns);

		s->columns = calloc(n, sizeof(*s->columns));
		for (i = 0; s->columns && i < n; i++)
			s->columns[i] = strdup(default_columns[i]);
		s->ncols = s->columns ? n : 0;
		return s->columns ? 0
				  : cnai_error_set(CNAI_ERROR, "out of memory");
	}
	if (!(dup = strdup(list)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (p = dup; (tok = strtok_r(p, ",", &save)); p = NULL) {
		char **g;

		while (*tok == ' ')
			tok++;
		if ((err = check_column(tok)) < 0)
			break;
		if (!(g = realloc(s->columns, (s->ncols + 1) * sizeof(*g)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		s->columns = g;
		s->columns[s->ncols++] = strdup(tok);
	}
	free(dup);
	if (!err && !s->ncols)
		err = cnai_error_set(CNAI_EUSAGE, "--columns: no columns");
	return err;
}

static const char *lookup_kv(struct cnai_kv *a, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(a[i].key, key))
			return a[i].value;
	return NULL;
}

/* Formats one cell of a run; `buf` holds the text when it is computed. */
static const char *cell(char *buf, size_t size, const char *col,
			const struct cnai_run *r, struct cnai_kv *params,
			size_t np, struct cnai_kv *tags, size_t nt,
			struct cnai_metric_point *m, size_t nm)
{
	size_t i;

	if (!strcmp(col, "id"))
		return snprintf(buf, size, "%.12s", r->uuid), buf;
	if (!strcmp(col, "name"))
		return r->name;
	if (!strcmp(col, "experiment"))
		return r->experiment;
	if (!strcmp(col, "status"))
		return cnai_run_status_name(r->status);
	if (!strcmp(col, "start"))
		return cnai_format_time(buf, size, r->start_time), buf;
	if (!strcmp(col, "end"))
		return r->end_time ? (cnai_format_time(buf, size, r->end_time),
				      buf)
				   : NULL;
	if (!strcmp(col, "duration"))
		return r->end_time ? (cnai_format_duration(buf, size,
							   r->end_time -
								   r->start_time),
				      buf)
				   : NULL;
	if (!strcmp(col, "exit_code"))
		return r->has_exit_code
			       ? (snprintf(buf, size, "%d", r->exit_code), buf)
			       : NULL;
	if (!strcmp(col, "user"))
		return r->user;
	if (!strcmp(col, "git_commit"))
		return r->git_commit
			       ? (snprintf(buf, size, "%.12s", r->git_commit),
				  buf)
			       : NULL;
	if (!strncmp(col, "params.", 7))
		return lookup_kv(params, np, col + 7);
	if (!strncmp(col, "tags.", 5))
		return lookup_kv(tags, nt, col + 5);
	for (i = 0; i < nm; i++)
		if (!strcmp(m[i].key, col + 8))
			return cnai_format_double(buf, size, m[i].value), buf;
	return NULL;
}

static int add_row(const struct cnai_run *r, void *payload)
{
	struct ls_state *s = payload;
	struct cnai_kv *params = NULL, *tags = NULL;
	struct cnai_metric_point *m = NULL;
	size_t np = 0, nt = 0, nm = 0, i;
	const char **cells = NULL;
	char (*bufs)[64] = NULL;
	int err = 0;

	if (s->json) {
		json_t *o = track_run_json(s->ctx->store, r, 0);

		if (!o)
			return cnai_error_set(CNAI_ERROR, "out of memory");
		/* Print as we go: memory stays flat however many runs. */
		fputs(s->printed++ ? ",\n" : "[\n", stdout);
		json_dumpf(o, stdout, JSON_INDENT(2));
		json_decref(o);
		return 0;
	}
	if ((err = cnai_run_params(&params, &np, s->ctx->store, r->id)) < 0 ||
	    (err = cnai_run_tags(&tags, &nt, s->ctx->store, r->id)) < 0 ||
	    (err = cnai_run_latest_metrics(&m, &nm, s->ctx->store, r->id)) < 0)
		goto cleanup;
	cells = calloc(s->ncols, sizeof(*cells));
	bufs = calloc(s->ncols, sizeof(*bufs));
	if (!cells || !bufs) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < s->ncols; i++)
		cells[i] = cell(bufs[i], sizeof(bufs[i]), s->columns[i], r,
				params, np, tags, nt, m, nm);
	err = cnai_table_add(&s->table, cells);
cleanup:
	free(cells);
	free(bufs);
	cnai_kv_free_array(params, np);
	cnai_kv_free_array(tags, nt);
	cnai_metric_free_array(m, nm);
	return err;
}

int track_ls(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "experiment", required_argument, NULL, 'e' },
		{ "filter", required_argument, NULL, 'f' },
		{ "order-by", required_argument, NULL, 'o' },
		{ "limit", required_argument, NULL, 'l' },
		{ "columns", required_argument, NULL, 'c' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct cnai_run_query q = { 0 };
	struct ls_state s = { ctx, NULL, 0, { 0 }, 0, 0 };
	const char **order = NULL, **g;
	const char *columns = NULL;
	size_t norder = 0, i;
	int c, err = 0;

	while ((c = cnai_getopt(argc, argv, ":h", longopts, track_usage("ls"),
				ctx)) != -1) {
		switch (c) {
		case 'e':
			q.experiment = optarg;
			break;
		case 'f':
			q.filter = optarg;
			break;
		case 'o':
			if (!(g = realloc(order, (norder + 1) * sizeof(*g)))) {
				err = cnai_error_set(CNAI_ERROR,
						     "out of memory");
				goto cleanup;
			}
			order = g;
			order[norder++] = optarg;
			break;
		case 'l':
			if ((err = cnai_opt_int64(&q.limit, optarg,
						  "--limit")) < 0)
				goto cleanup;
			if (q.limit < 1) {
				err = cnai_error_set(CNAI_EUSAGE,
						     "--limit: must be at least "
						     "1");
				goto cleanup;
			}
			break;
		case 'c':
			columns = optarg;
			break;
		case CNAI_OPT_HELP:
			goto cleanup;
		default:
			err = CNAI_EUSAGE;
			goto cleanup;
		}
	}
	if ((err = track_want_args(argc - optind, 0, 0, "ls")) < 0 ||
	    (err = parse_columns(&s, columns)) < 0)
		goto cleanup;
	q.order_by = order;
	q.norder = norder;
	if (ctx->json) {
		s.json = 1;
		err = cnai_runs_query(ctx->store, &q, add_row, &s);
		if (err == 0 || s.printed)
			fputs(s.printed ? "\n]\n" : "[]\n", stdout);
		goto cleanup;
	}
	{
		const char **header = calloc(s.ncols, sizeof(*header));
		char **upper = calloc(s.ncols, sizeof(*upper));

		for (i = 0; header && upper && i < s.ncols; i++) {
			char *p;

			upper[i] = strdup(s.columns[i]);
			/* attributes in capitals, keys as the user wrote them */
			for (p = upper[i]; p && *p && !strchr(s.columns[i], '.');
			     p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			header[i] = upper[i];
		}
		err = header && upper ? cnai_table_init(&s.table, s.ncols,
							header)
				      : cnai_error_set(CNAI_ERROR,
						       "out of memory");
		for (i = 0; upper && i < s.ncols; i++)
			free(upper[i]);
		free(upper);
		free(header);
	}
	if (err < 0 || (err = cnai_runs_query(ctx->store, &q, add_row, &s)) < 0)
		goto cleanup;
	cnai_table_print(&s.table, ctx);
cleanup:
	for (i = 0; i < s.ncols; i++)
		free(s.columns[i]);
	free(s.columns);
	cnai_table_release(&s.table);
	free(order);
	return err;
}
