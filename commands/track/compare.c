/*
 * track compare: runs side by side, one row per param and metric key, one
 * column per run, the rows whose values differ marked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/track/track.h"
#include "core/util/banned.h"

struct cmp_run {
	struct cnai_run *run;
	struct cnai_kv *params;
	struct cnai_metric_point *metrics;
	size_t np, nm;
};

static const char *cmp_value(char *buf, size_t size, const struct cmp_run *c,
			     const char *key, int metric)
{
	size_t i;

	if (!metric) {
		for (i = 0; i < c->np; i++)
			if (!strcmp(c->params[i].key, key))
				return c->params[i].value;
		return NULL;
	}
	for (i = 0; i < c->nm; i++)
		if (!strcmp(c->metrics[i].key, key)) {
			cnai_format_double(buf, size, c->metrics[i].value);
			return buf;
		}
	return NULL;
}

/* Adds k to the set `keys` and, the first time, to the list `names`. */
static void add_key(json_t *keys, const char **names, size_t *n,
		    const char *k)
{
	if (json_object_get(keys, k))
		return;
	json_object_set_new(keys, k, json_true());
	names[(*n)++] = k;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int compare_rows(struct cnai_table *t, json_t *out, struct cmp_run *c,
			size_t n, int metric)
{
	json_t *keys = json_object(), *section = json_object();
	const char **names, *key;
	size_t i, j, total = 0, nnames = 0, k;
	int err = 0;

	for (i = 0; i < n; i++)
		total += metric ? c[i].nm : c[i].np;
	if (!(names = calloc(total + 1, sizeof(*names)))) {
		json_decref(keys);
		json_decref(section);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (metric)
			for (j = 0; j < c[i].nm; j++)
				add_key(keys, names, &nnames,
					c[i].metrics[j].key);
		else
			for (j = 0; j < c[i].np; j++)
				add_key(keys, names, &nnames,
					c[i].params[j].key);
	}
	/* Rows in key order, whichever run a key first appears in. */
	qsort(names, nnames, sizeof(*names), cmp_names);
	for (k = 0; k < nnames; k++) {
		const char **cells = calloc(n + 2, sizeof(*cells));
		char (*bufs)[64] = calloc(n, sizeof(*bufs));
		json_t *vals = json_array();
		char label[300];
		int differs = 0;

		key = names[k];
		if (!cells || !bufs) {
			free(cells);
			free(bufs);
			json_decref(vals);
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		for (i = 0; i < n; i++) {
			cells[i + 2] = cmp_value(bufs[i], sizeof(bufs[i]),
						 &c[i], key, metric);
			if (i && (!cells[i + 2] != !cells[2] ||
				  (cells[2] && cells[i + 2] &&
				   strcmp(cells[2], cells[i + 2]))))
				differs = 1;
			json_array_append_new(
				vals, cnai_json_string_or_null(cells[i + 2]));
		}
		snprintf(label, sizeof(label), "%s.%s",
			 metric ? "metrics" : "params", key);
		cells[0] = differs ? "*" : " ";
		cells[1] = label;
		err = cnai_table_add(t, cells);
		json_object_set_new(section, key,
				    json_pack("{s:o, s:b}", "values", vals,
					      "differs", differs));
		free(cells);
		free(bufs);
		if (err < 0)
			break;
	}
	json_object_set_new(out, metric ? "metrics" : "params", section);
	json_decref(keys);
	free(names);
	return err;
}

int track_compare(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct cmp_run *c = NULL;
	struct cnai_table t = { 0 };
	json_t *out = json_object(), *ids = json_array();
	const char **header = NULL;
	size_t n, i;
	int err;

	if ((err = track_common_opts(argc, argv, "compare", ctx, NULL)) != 0) {
		json_decref(out);
		json_decref(ids);
		return err > 0 ? 0 : err;
	}
	n = (size_t)(argc - optind);
	if ((err = track_want_args((int)n, 2, -1, "compare")) < 0)
		goto cleanup;
	c = calloc(n, sizeof(*c));
	header = calloc(n + 2, sizeof(*header));
	if (!c || !header) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	header[0] = " ";
	header[1] = "KEY";
	for (i = 0; i < n; i++) {
		if ((err = cnai_run_lookup(&c[i].run, ctx->store,
					   argv[optind + i])) < 0 ||
		    (err = cnai_run_params(&c[i].params, &c[i].np, ctx->store,
					   c[i].run->id)) < 0 ||
		    (err = cnai_run_latest_metrics(&c[i].metrics, &c[i].nm,
						   ctx->store,
						   c[i].run->id)) < 0)
			goto cleanup;
		header[i + 2] = c[i].run->name ? c[i].run->name : c[i].run->uuid;
		json_array_append_new(ids, json_string(c[i].run->uuid));
	}
	if ((err = cnai_table_init(&t, n + 2, header)) < 0 ||
	    (err = compare_rows(&t, out, c, n, 0)) < 0 ||
	    (err = compare_rows(&t, out, c, n, 1)) < 0)
		goto cleanup;
	if (ctx->json) {
		json_object_set(out, "runs", ids);
		err = cnai_json_print(json_incref(out));
	} else {
		cnai_table_print(&t, ctx);
	}
cleanup:
	for (i = 0; c && i < n; i++) {
		cnai_run_free(c[i].run);
		cnai_kv_free_array(c[i].params, c[i].np);
		cnai_metric_free_array(c[i].metrics, c[i].nm);
	}
	free(c);
	free(header);
	cnai_table_release(&t);
	json_decref(out);
	json_decref(ids);
	return err;
}
