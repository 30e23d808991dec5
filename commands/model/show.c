/*
 * cnai model show and diff: one version with its run, lineage, aliases and
 * signatures; two versions' files, params and metrics side by side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/model/model.h"
#include "core/store/lineage.h"
#include "core/store/models.h"
#include "core/store/runs.h"
#include "core/store/signatures.h"
#include "core/util/banned.h"

/* The run's params and latest metrics, as JSON (null if removed). */
static json_t *run_summary(struct cnai_store *st, const char *uuid)
{
	struct cnai_run *run = NULL;
	struct cnai_kv *p = NULL;
	struct cnai_metric_point *m = NULL;
	size_t np = 0, nm = 0, i;
	json_t *o, *params, *metrics;

	if (!uuid || cnai_run_lookup(&run, st, uuid) < 0) {
		cnai_error_clear();
		return json_null();
	}
	params = json_object();
	metrics = json_object();
	if (cnai_run_params(&p, &np, st, run->id) == 0)
		for (i = 0; i < np; i++)
			json_object_set_new(params, p[i].key,
					    json_string(p[i].value));
	if (cnai_run_latest_metrics(&m, &nm, st, run->id) == 0)
		for (i = 0; i < nm; i++)
			json_object_set_new(metrics, m[i].key,
					    cnai_json_double(m[i].value));
	o = json_pack("{s:s, s:o, s:s, s:o, s:o}", "run_id", run->uuid, "name",
		      cnai_json_string_or_null(run->name), "status",
		      cnai_run_status_name(run->status), "params", params,
		      "metrics", metrics);
	cnai_kv_free_array(p, np);
	cnai_metric_free_array(m, nm);
	cnai_run_free(run);
	return o;
}

static json_t *lineage_summary(struct cnai_store *st,
			       const struct cnai_model_version *v)
{
	struct cnai_lineage_graph *g = NULL;
	json_t *up = json_array(), *down = json_array();
	int64_t id;
	size_t i;

	if (cnai_lineage_resolve(&id, st, v->manifest_digest) == 0 &&
	    cnai_lineage_walk(&g, st, id, CNAI_LINEAGE_BOTH, 0) == 0) {
		for (i = 1; i < g->nnodes; i++)
			json_array_append_new(
				g->nodes[i].depth < 0 ? up : down,
				json_pack("{s:s, s:s, s:o, s:i}", "kind",
					  g->nodes[i].kind, "ref",
					  g->nodes[i].ref, "name",
					  cnai_json_string_or_null(
						  g->nodes[i].name),
					  "depth", g->nodes[i].depth));
	}
	cnai_error_clear();
	cnai_lineage_graph_free(g);
	return json_pack("{s:o, s:o}", "upstream", up, "downstream", down);
}

static void print_show(const json_t *o, const json_t *history)
{
	const char *k;
	json_t *v, *run = json_object_get(o, "run"), *lin;
	size_t i;

	printf("%-12s%s@%lld\n", "model",
	       json_string_value(json_object_get(o, "name")),
	       (long long)json_integer_value(json_object_get(o, "version")));
	printf("%-12s%s\n", "digest",
	       json_string_value(json_object_get(o, "digest")));
	printf("%-12s%s\n", "flavor",
	       json_string_value(json_object_get(o, "flavor")));
	if (json_string_value(json_object_get(o, "description")))
		printf("%-12s%s\n", "description",
		       json_string_value(json_object_get(o, "description")));
	if (json_array_size(json_object_get(o, "aliases"))) {
		printf("%-12s", "aliases");
		json_array_foreach(json_object_get(o, "aliases"), i, v)
			printf("%s%s", i ? " " : "", json_string_value(v));
		printf("\n");
	}
	json_object_foreach(json_object_get(o, "tags"), k, v)
		printf("%-12s%s=%s\n", "tag", k, json_string_value(v));
	printf("\nfiles:\n");
	json_array_foreach(json_object_get(o, "files"), i, v)
		printf("  %-24s %10lld  %s\n",
		       json_string_value(json_object_get(v, "path")),
		       (long long)json_integer_value(json_object_get(v, "size")),
		       json_string_value(json_object_get(v, "digest")));
	if (json_is_object(run)) {
		printf("\nrun %s (%s)\n",
		       json_string_value(json_object_get(run, "run_id")),
		       json_string_value(json_object_get(run, "status")));
		json_object_foreach(json_object_get(run, "params"), k, v)
			printf("  params.%s = %s\n", k, json_string_value(v));
		json_object_foreach(json_object_get(run, "metrics"), k, v) {
			char num[64];

			if (json_is_number(v))
				cnai_format_double(num, sizeof(num),
						   json_number_value(v));
			else
				snprintf(num, sizeof(num), "%s",
					 json_string_value(v));
			printf("  metrics.%s = %s\n", k, num);
		}
	} else if (json_string_value(json_object_get(o, "run_id"))) {
		printf("\nrun %s (removed)\n",
		       json_string_value(json_object_get(o, "run_id")));
	}
	if (json_array_size(history)) {
		printf("\nalias history:\n");
		json_array_foreach(history, i, v) {
			char when[64];

			cnai_format_time(when, sizeof(when),
					 json_integer_value(
						 json_object_get(v, "time")));
			if (json_is_integer(json_object_get(v, "version")))
				printf("  %s  %s -> %lld  by %s\n", when,
				       json_string_value(
					       json_object_get(v, "alias")),
				       (long long)json_integer_value(
					       json_object_get(v, "version")),
				       json_string_value(json_object_get(
					       v, "user")) ?: "-");
			else
				printf("  %s  %s removed  by %s\n", when,
				       json_string_value(
					       json_object_get(v, "alias")),
				       json_string_value(json_object_get(
					       v, "user")) ?: "-");
		}
	}
	if (json_array_size(json_object_get(o, "signatures"))) {
		printf("\nsigned:\n");
		json_array_foreach(json_object_get(o, "signatures"), i, v)
			printf("  %s by key %s\n",
			       json_string_value(json_object_get(v, "kind")),
			       json_string_value(
				       json_object_get(v, "key_fingerprint")));
	} else {
		printf("\nsigned:     no (cnai sign model %s@%lld)\n",
		       json_string_value(json_object_get(o, "name")),
		       (long long)json_integer_value(
			       json_object_get(o, "version")));
	}
	lin = json_object_get(o, "lineage");
	printf("\nlineage: %zu upstream, %zu downstream (cnai lineage %s)\n",
	       json_array_size(json_object_get(lin, "upstream")),
	       json_array_size(json_object_get(lin, "downstream")),
	       json_string_value(json_object_get(o, "digest")));
}

/* Who signed this version (cnai sign model): kind and key fingerprint. */
static json_t *signatures_json(struct cnai_store *st,
			       const struct cnai_model_version *v)
{
	struct cnai_signature_info *sig = NULL;
	json_t *arr = json_array();
	size_t n = 0, i;

	if (cnai_signature_list(&sig, &n, st, v->manifest_digest) < 0)
		cnai_error_clear();
	for (i = 0; i < n; i++)
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:o, s:I}", "kind",
				       sig[i].kind, "key_fingerprint",
				       sig[i].key_fingerprint, "identity",
				       cnai_json_string_or_null(sig[i].identity),
				       "created", (json_int_t)sig[i].created));
	cnai_signature_info_free_array(sig, n);
	return arr;
}

int model_show(int argc, char **argv, struct cnai_ctx *ctx,
	       const struct cnai_usage *u)
{
	struct cnai_model_version *v = NULL;
	struct cnai_alias_event *h = NULL;
	json_t *o = NULL, *history;
	size_t nh = 0, i;
	int err;

	if ((err = model_simple_opts(argc, argv, u, ctx, NULL)) != 0)
		return err > 0 ? 0 : err;
	if ((err = model_want(argc - optind, 1, 1, u)) < 0 ||
	    (err = cnai_model_resolve(&v, ctx->store, argv[optind])) < 0 ||
	    (err = cnai_model_alias_history(&h, &nh, ctx->store, v->name)) < 0)
		goto cleanup;
	o = model_version_json(ctx->store, v);
	json_object_set_new(o, "run", run_summary(ctx->store, v->run));
	history = json_array();
	for (i = 0; i < nh; i++)
		json_array_append_new(
			history,
			json_pack("{s:s, s:o, s:o, s:I}", "alias", h[i].alias,
				  "version",
				  h[i].version ? json_integer(h[i].version)
					       : json_null(),
				  "user", cnai_json_string_or_null(h[i].user),
				  "time", (json_int_t)h[i].time));
	json_object_set_new(o, "alias_history", history);
	json_object_set_new(o, "lineage", lineage_summary(ctx->store, v));
	json_object_set_new(o, "signatures", signatures_json(ctx->store, v));
	if (ctx->json)
		err = cnai_json_print(json_incref(o));
	else
		print_show(o, history);
cleanup:
	json_decref(o);
	cnai_alias_event_free_array(h, nh);
	cnai_model_version_free(v);
	return err;
}

/* Numbers in their shortest exact form, strings as they are. */
static char *value_text(json_t *v)
{
	char num[64];

	if (json_is_real(v)) {
		cnai_format_double(num, sizeof(num), json_real_value(v));
		return strdup(num);
	}
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* diff: which side has what, compared as text, keys in sorted order. */
static void diff_objects(json_t *out, const char *section, json_t *a,
			 json_t *b, int human)
{
	json_t *keys = json_object(), *res = json_object(), *x, *y, *u;
	const char *k, **sorted;
	size_t n = 0, i;

	json_object_foreach(a, k, u) json_object_set(keys, k, json_true());
	json_object_foreach(b, k, u) json_object_set(keys, k, json_true());
	sorted = malloc((json_object_size(keys) + 1) * sizeof(*sorted));
	if (sorted) {
		json_object_foreach(keys, k, u) sorted[n++] = k;
		qsort(sorted, n, sizeof(*sorted), cmp_str);
	}
	for (i = 0; i < n; i++) {
		char *sa, *sb;

		k = sorted[i];
		x = json_object_get(a, k);
		y = json_object_get(b, k);
		sa = x ? value_text(x) : NULL;
		sb = y ? value_text(y) : NULL;
		if (!sa || !sb || strcmp(sa, sb)) {
			json_object_set_new(res, k,
					    json_pack("{s:O?, s:O?}", "a", x,
						      "b", y));
			if (human)
				printf("%s %s.%s: %s -> %s\n",
				       !x ? "+" : !y ? "-" : "~", section, k,
				       sa ? sa : "(none)", sb ? sb : "(none)");
		}
		free(sa);
		free(sb);
	}
	free(sorted);
	json_object_set_new(out, section, res);
	json_decref(keys);
}

static json_t *files_object(const struct cnai_model_version *v)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < v->nfiles; i++)
		json_object_set_new(o, v->files[i].path,
				    json_string(v->files[i].digest));
	return o;
}

int model_diff(int argc, char **argv, struct cnai_ctx *ctx,
	       const struct cnai_usage *u)
{
	struct cnai_model_version *a = NULL, *b = NULL;
	json_t *out = json_object(), *ra = NULL, *rb = NULL, *fa, *fb;
	int err;

	if ((err = model_simple_opts(argc, argv, u, ctx, NULL)) != 0) {
		json_decref(out);
		return err > 0 ? 0 : err;
	}
	if ((err = model_want(argc - optind, 2, 2, u)) < 0 ||
	    (err = cnai_model_resolve(&a, ctx->store, argv[optind])) < 0 ||
	    (err = cnai_model_resolve(&b, ctx->store, argv[optind + 1])) < 0)
		goto cleanup;
	ra = run_summary(ctx->store, a->run);
	rb = run_summary(ctx->store, b->run);
	fa = files_object(a);
	fb = files_object(b);
	if (!ctx->json)
		printf("--- %s@%lld\n+++ %s@%lld\n", a->name,
		       (long long)a->version, b->name, (long long)b->version);
	diff_objects(out, "files", fa, fb, !ctx->json);
	diff_objects(out, "params", json_object_get(ra, "params"),
		     json_object_get(rb, "params"), !ctx->json);
	diff_objects(out, "metrics", json_object_get(ra, "metrics"),
		     json_object_get(rb, "metrics"), !ctx->json);
	json_decref(fa);
	json_decref(fb);
	if (ctx->json) {
		json_object_set_new(out, "a", json_string(a->manifest_digest));
		json_object_set_new(out, "b", json_string(b->manifest_digest));
		err = cnai_json_print(json_incref(out));
	}
cleanup:
	json_decref(ra);
	json_decref(rb);
	json_decref(out);
	cnai_model_version_free(a);
	cnai_model_version_free(b);
	return err;
}
