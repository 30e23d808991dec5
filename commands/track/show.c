/*
 * track show / metrics / artifacts / cat / rm: reading one run, and
 * removing runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/track/track.h"
#include "core/store/blobs.h"
#include "core/util/banned.h"

static void field(const char *label, const char *value)
{
	if (value)
		printf("%-12s%s\n", label, value);
}

static int show_human(struct cnai_store *st, const struct cnai_run *r)
{
	struct cnai_kv *params = NULL, *tags = NULL;
	struct cnai_metric_point *m = NULL;
	struct cnai_artifact *a = NULL;
	struct cnai_run_input *in = NULL;
	size_t np = 0, nt = 0, nm = 0, na = 0, ni = 0, i;
	char buf[256], num[64];
	int err;

	if ((err = cnai_run_params(&params, &np, st, r->id)) < 0 ||
	    (err = cnai_run_tags(&tags, &nt, st, r->id)) < 0 ||
	    (err = cnai_run_latest_metrics(&m, &nm, st, r->id)) < 0 ||
	    (err = cnai_run_artifacts(&a, &na, st, r->id)) < 0 ||
	    (err = cnai_run_inputs(&in, &ni, st, r)) < 0)
		goto cleanup;
	field("run", r->uuid);
	field("name", r->name);
	field("experiment", r->experiment);
	if (r->has_exit_code)
		snprintf(buf, sizeof(buf), "%s (exit %d)",
			 cnai_run_status_name(r->status),
			 r->exit_code);
	else
		snprintf(buf, sizeof(buf), "%s",
			 cnai_run_status_name(r->status));
	field("status", buf);
	cnai_format_time(buf, sizeof(buf), r->start_time);
	field("start", buf);
	if (r->end_time) {
		cnai_format_time(buf, sizeof(buf), r->end_time);
		field("end", buf);
		cnai_format_duration(buf, sizeof(buf),
				     r->end_time - r->start_time);
		field("duration", buf);
	}
	field("command", r->command);
	field("cwd", r->cwd);
	field("host", r->host);
	field("user", r->user);
	if (r->git_commit) {
		snprintf(buf, sizeof(buf), "%.12s%s%s%s%s", r->git_commit,
			 r->git_branch ? " on " : "",
			 r->git_branch ? r->git_branch : "",
			 r->git_dirty > 0 ? " (dirty)" : "",
			 r->git_remote ? "" : "");
		field("git", buf);
		field("git remote", r->git_remote);
	}
	field("parent", r->parent);
	if (np)
		printf("\nparams:\n");
	for (i = 0; i < np; i++)
		printf("  %s = %s\n", params[i].key, params[i].value);
	if (nm)
		printf("\nmetrics (latest):\n");
	for (i = 0; i < nm; i++) {
		cnai_format_double(num, sizeof(num), m[i].value);
		printf("  %s = %s (step %lld)\n", m[i].key, num,
		       (long long)m[i].step);
	}
	if (nt)
		printf("\ntags:\n");
	for (i = 0; i < nt; i++)
		printf("  %s = %s\n", tags[i].key, tags[i].value);
	if (ni)
		printf("\ninputs:\n");
	for (i = 0; i < ni; i++) {
		if (in[i].rows >= 0)
			printf("  %s  %s  %lld rows x %lld columns\n",
			       in[i].digest, in[i].path, (long long)in[i].rows,
			       (long long)in[i].columns);
		else
			printf("  %s  %s  %llu bytes\n", in[i].digest,
			       in[i].path, (unsigned long long)in[i].size);
	}
	if (na)
		printf("\nartifacts:\n");
	for (i = 0; i < na; i++)
		printf("  %-20s %10llu  %s\n", a[i].name,
		       (unsigned long long)a[i].size, a[i].digest);
cleanup:
	cnai_kv_free_array(params, np);
	cnai_kv_free_array(tags, nt);
	cnai_metric_free_array(m, nm);
	cnai_artifact_free_array(a, na);
	cnai_run_input_free_array(in, ni);
	return err;
}

static json_t *artifacts_json(struct cnai_artifact *a, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:I, s:I}", "name",
				       a[i].name, "digest", a[i].digest, "size",
				       (json_int_t)a[i].size, "created",
				       (json_int_t)a[i].created));
	return arr;
}

static int show_json(struct cnai_store *st, const struct cnai_run *r)
{
	struct cnai_artifact *a = NULL;
	struct cnai_run_input *in = NULL;
	size_t na = 0, ni = 0, i;
	json_t *o = track_run_json(st, r, 1), *inputs = json_array();
	int err;

	if ((err = cnai_run_artifacts(&a, &na, st, r->id)) < 0 ||
	    (err = cnai_run_inputs(&in, &ni, st, r)) < 0) {
		json_decref(o);
		json_decref(inputs);
		goto cleanup;
	}
	json_object_set_new(o, "artifacts", artifacts_json(a, na));
	for (i = 0; i < ni; i++)
		json_array_append_new(
			inputs,
			json_pack("{s:s, s:s, s:I, s:o, s:o}", "digest",
				  in[i].digest, "path", in[i].path, "size",
				  (json_int_t)in[i].size, "rows",
				  in[i].rows >= 0 ? json_integer(in[i].rows)
						  : json_null(),
				  "columns",
				  in[i].columns >= 0
					  ? json_integer(in[i].columns)
					  : json_null()));
	json_object_set_new(o, "inputs", inputs);
	err = cnai_json_print(o);
cleanup:
	cnai_artifact_free_array(a, na);
	cnai_run_input_free_array(in, ni);
	return err;
}

int track_show(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct cnai_run *run = NULL;
	int err;

	if ((err = track_common_opts(argc, argv, "show", ctx, NULL)) != 0)
		return err > 0 ? 0 : err;
	if ((err = track_want_args(argc - optind, 0, 1, "show")) < 0 ||
	    (err = track_resolve_run(&run, ctx->store,
				     optind < argc ? argv[optind] : NULL)) < 0)
		return err;
	err = ctx->json ? show_json(ctx->store, run)
			: show_human(ctx->store, run);
	cnai_run_free(run);
	return err;
}

/*
 * A terminal line chart of one metric's history: 64 x 12 cells, values
 * scaled between their min and max, NaN and infinities left out.
 */
static void plot(const struct cnai_metric_point *m, size_t n, const char *key)
{
	enum { W = 64, H = 12 };
	char grid[H][W + 1];
	double lo = INFINITY, hi = -INFINITY;
	int64_t s0 = 0, s1 = 0;
	size_t i, used = 0;
	char a[64], b[64];
	int x, y;

	for (i = 0; i < n; i++) {
		if (!isfinite(m[i].value))
			continue;
		if (!used++) {
			s0 = s1 = m[i].step;
		}
		lo = m[i].value < lo ? m[i].value : lo;
		hi = m[i].value > hi ? m[i].value : hi;
		s0 = m[i].step < s0 ? m[i].step : s0;
		s1 = m[i].step > s1 ? m[i].step : s1;
	}
	printf("%s\n", key);
	if (!used) {
		printf("  (no finite values)\n");
		return;
	}
	memset(grid, ' ', sizeof(grid));
	for (y = 0; y < H; y++)
		grid[y][W] = '\0';
	for (i = 0; i < n; i++) {
		if (!isfinite(m[i].value))
			continue;
		x = s1 > s0 ? (int)((double)(m[i].step - s0) * (W - 1) /
				    (double)(s1 - s0))
			    : 0;
		y = hi > lo ? (int)((m[i].value - lo) * (H - 1) / (hi - lo))
			    : 0;
		grid[H - 1 - y][x] = '*';
	}
	cnai_format_double(a, sizeof(a), hi);
	cnai_format_double(b, sizeof(b), lo);
	for (y = 0; y < H; y++)
		printf("%12s |%s\n", y == 0 ? a : y == H - 1 ? b : "",
		       grid[y]);
	printf("%12s +", "");
	for (x = 0; x < W; x++)
		putchar('-');
	printf("\n%14sstep %lld%*sstep %lld\n", "", (long long)s0, W - 18,
	       "", (long long)s1);
}

int track_metrics(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct cnai_metric_point *m = NULL;
	struct cnai_run *run = NULL;
	struct cnai_table t = { 0 };
	const char *key;
	size_t n = 0, i, start;
	int err, want_plot = 0;

	if ((err = track_common_opts(argc, argv, "metrics", ctx, &want_plot)) != 0)
		return err > 0 ? 0 : err;
	if ((err = track_want_args(argc - optind, 1, 2, "metrics")) < 0 ||
	    (err = cnai_run_lookup(&run, ctx->store, argv[optind])) < 0)
		return err;
	key = optind + 1 < argc ? argv[optind + 1] : NULL;
	if ((err = cnai_run_metric_history(&m, &n, ctx->store, run->id,
					   key)) < 0)
		goto cleanup;
	if (key && !n) {
		err = cnai_error_set(CNAI_ENOTFOUND,
				     "run %.12s has no metric '%s'", run->uuid,
				     key);
		goto cleanup;
	}
	if (ctx->json) {
		json_t *arr = json_array();

		for (i = 0; i < n; i++)
			json_array_append_new(
				arr, json_pack("{s:s, s:o, s:I, s:I}", "key",
					       m[i].key, "value",
					       cnai_json_double(m[i].value),
					       "step", (json_int_t)m[i].step,
					       "timestamp",
					       (json_int_t)m[i].timestamp));
		err = cnai_json_print(arr);
	} else if (want_plot) {
		for (i = 0; i < n; i = start) {
			for (start = i; start < n &&
					!strcmp(m[start].key, m[i].key);
			     start++)
				;
			plot(m + i, start - i, m[i].key);
		}
	} else {
		static const char *const header[] = { "KEY", "STEP", "VALUE",
						      "TIME" };
		char step[32], value[64], time[64];

		if ((err = cnai_table_init(&t, 4, header)) < 0)
			goto cleanup;
		for (i = 0; i < n && !err; i++) {
			const char *row[4] = { m[i].key, step, value, time };

			snprintf(step, sizeof(step), "%lld",
				 (long long)m[i].step);
			cnai_format_double(value, sizeof(value), m[i].value);
			cnai_format_time_iso(time, sizeof(time),
					     m[i].timestamp);
			err = cnai_table_add(&t, row);
		}
		if (!err)
			cnai_table_print(&t, ctx);
	}
cleanup:
	cnai_table_release(&t);
	cnai_metric_free_array(m, n);
	cnai_run_free(run);
	return err;
}

int track_artifacts(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const char *const header[] = { "NAME", "SIZE", "DIGEST",
					      "CREATED" };
	struct cnai_artifact *a = NULL;
	struct cnai_run *run = NULL;
	struct cnai_table t = { 0 };
	size_t n = 0, i;
	int err;

	if ((err = track_common_opts(argc, argv, "artifacts", ctx, NULL)) != 0)
		return err > 0 ? 0 : err;
	if ((err = track_want_args(argc - optind, 1, 1, "artifacts")) < 0 ||
	    (err = cnai_run_lookup(&run, ctx->store, argv[optind])) < 0 ||
	    (err = cnai_run_artifacts(&a, &n, ctx->store, run->id)) < 0)
		goto cleanup;
	if (ctx->json) {
		err = cnai_json_print(artifacts_json(a, n));
		goto cleanup;
	}
	if ((err = cnai_table_init(&t, 4, header)) < 0)
		goto cleanup;
	for (i = 0; i < n && !err; i++) {
		char size[32], created[64];
		const char *row[4] = { a[i].name, size, a[i].digest, created };

		snprintf(size, sizeof(size), "%llu",
			 (unsigned long long)a[i].size);
		cnai_format_time(created, sizeof(created), a[i].created);
		err = cnai_table_add(&t, row);
	}
	if (!err)
		cnai_table_print(&t, ctx);
cleanup:
	cnai_table_release(&t);
	cnai_artifact_free_array(a, n);
	cnai_run_free(run);
	return err;
}

int track_cat(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct cnai_artifact a = { 0 };
	struct cnai_run *run = NULL;
	struct cnai_buf path = CNAI_BUF_INIT;
	FILE *f = NULL;
	char chunk[65536];
	size_t n;
	int err;

	if ((err = track_common_opts(argc, argv, "cat", ctx, NULL)) != 0)
		return err > 0 ? 0 : err;
	if ((err = track_want_args(argc - optind, 2, 2, "cat")) < 0 ||
	    (err = cnai_run_lookup(&run, ctx->store, argv[optind])) < 0 ||
	    (err = cnai_run_artifact(&a, ctx->store, run,
				     argv[optind + 1])) < 0 ||
	    (err = cnai_blob_path(&path, ctx->store, a.digest)) < 0)
		goto cleanup;
	if (!(f = fopen(path.buf, "rb"))) {
		err = cnai_error_set_errno(CNAI_ERROR,
					   "blob %s of artifact '%s'", a.digest,
					   a.name);
		goto cleanup;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (fwrite(chunk, 1, n, stdout) != n)
			break;
	if (ferror(f))
		err = cnai_error_set_errno(CNAI_ERROR, "reading '%s'",
					   path.buf);
cleanup:
	if (f)
		fclose(f);
	free(a.name);
	cnai_buf_release(&path);
	cnai_run_free(run);
	return err;
}

int track_rm(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct cnai_run **runs = NULL;
	json_t *removed = json_array();
	int err, i, n;

	if ((err = track_common_opts(argc, argv, "rm", ctx, NULL)) != 0) {
		json_decref(removed);
		return err > 0 ? 0 : err;
	}
	n = argc - optind;
	if ((err = track_want_args(n, 1, -1, "rm")) < 0)
		goto cleanup;
	if (!(runs = calloc((size_t)n, sizeof(*runs)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	/* Resolve all first: one bad reference removes nothing. */
	for (i = 0; i < n; i++)
		if ((err = cnai_run_lookup(&runs[i], ctx->store,
					   argv[optind + i])) < 0)
			goto cleanup;
	for (i = 0; i < n; i++) {
		if ((err = cnai_run_remove(ctx->store, runs[i]->id)) < 0)
			goto cleanup;
		json_array_append_new(removed, json_string(runs[i]->uuid));
		if (!ctx->json)
			printf("removed run %s\n", runs[i]->uuid);
	}
	if (ctx->json)
		err = cnai_json_print(json_pack("{s:O}", "removed", removed));
cleanup:
	for (i = 0; runs && i < n; i++)
		cnai_run_free(runs[i]);
	free(runs);
	json_decref(removed);
	return err;
}
