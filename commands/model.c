/*
 * cnai model: the model registry. Versions, aliases (the promotion
 * mechanism: digits@prod), export and removal. Core logic lives in
 * core/store/models.c; this file parses, calls and prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/store/lineage.h"
#include "core/store/models.h"
#include "core/store/runs.h"
#include "core/store/signatures.h"
#include "core/util/banned.h"

#define S(name, ...) static const char *const name[] = { __VA_ARGS__, NULL }

S(syn_register, "cnai model register <name> <path>... [--run <run>] "
		"[--flavor onnx|safetensors|cnai|files] "
		"[--description <text>] [--tag <key>=<value>]...");
S(syn_ls, "cnai model ls [<name>]");
S(syn_show, "cnai model show <model>");
S(syn_alias, "cnai model alias set <name> <alias> <version>",
  "cnai model alias rm <name> <alias>");
S(syn_export, "cnai model export <model> <dir> [--force]");
S(syn_rm, "cnai model rm <model> [--force]");
S(syn_diff, "cnai model diff <model> <model>");

S(opt_register,
  "    <path>...            files or folders (a folder's files keep their "
  "relative paths)",
  "    --run <run>          the run that produced it (default: "
  "$CNAI_RUN_ID)",
  "    --flavor <f>         onnx, safetensors, cnai or files (default: "
  "guessed)",
  "    --description <t>    free text",
  "    --tag <k>=<v>        a version tag",
  "    --json               the version as JSON",
  "",
  "Identical content registered again is reported as the existing version.");
S(opt_ls, "    <name>    that model's versions (default: all models)",
  "    --json    as JSON");
S(opt_show, "    <model>   NAME, NAME@latest, NAME@VERSION, NAME@ALIAS or "
	    "sha256:<digest prefix>",
  "    --json    files, run (params, metrics), aliases, alias history, "
  "lineage");
S(opt_alias, "    Moves <alias> to <version> atomically and records who and "
	     "when.");
S(opt_export, "    --force   overwrite files that exist in <dir>",
  "    Each file's digest is verified as it is written.");
S(opt_rm, "    --force   also remove the aliases pointing at it",
  "    Blobs stay until 'cnai gc'.");
S(opt_diff, "    Files (added, removed, changed), params and metrics of the "
	    "two runs.",
  "    --json    as JSON");

static const char *const *const all_synopses[] = {
	syn_register, syn_ls, syn_show, syn_alias, syn_export, syn_rm, syn_diff,
};

struct model_sub {
	const char *name;
	int (*fn)(int argc, char **argv, struct cnai_ctx *ctx,
		  const struct cnai_usage *u);
	struct cnai_usage usage;
};

/* Parses common options only; 1 = help printed, < 0 error. */
static int simple_opts(int argc, char **argv, const struct cnai_usage *u,
		       struct cnai_ctx *ctx, int *force)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = cnai_getopt(argc, argv, ":fh", longopts, u, ctx)) != -1) {
		if (c == 'f' && force) {
			*force = 1;
			continue;
		}
		if (c == 'f')
			return cnai_error_set(CNAI_EUSAGE,
					      "unknown option '--force'");
		return c == CNAI_OPT_HELP ? 1 : CNAI_EUSAGE;
	}
	return 0;
}

static int want(int have, int min, int max, const struct cnai_usage *u)
{
	if (have < min || (max >= 0 && have > max))
		return cnai_error_set(CNAI_EUSAGE, "%s; usage: %s",
				      have < min ? "missing arguments"
						 : "too many arguments",
				      u->synopsis[0]);
	return 0;
}

static json_t *version_json(struct cnai_store *st,
			    const struct cnai_model_version *v)
{
	json_t *files = json_array(), *aliases = json_array(), *tags;
	char **k = NULL, **val = NULL;
	size_t i, nt = 0;

	for (i = 0; i < v->nfiles; i++)
		json_array_append_new(
			files, json_pack("{s:s, s:s, s:I, s:s}", "path",
					 v->files[i].path, "digest",
					 v->files[i].digest, "size",
					 (json_int_t)v->files[i].size,
					 "media_type",
					 v->files[i].media_type));
	for (i = 0; i < v->naliases; i++)
		json_array_append_new(aliases, json_string(v->aliases[i]));
	tags = json_object();
	if (cnai_model_version_tags(&k, &val, &nt, st, v) == 0)
		for (i = 0; i < nt; i++)
			json_object_set_new(tags, k[i], json_string(val[i]));
	for (i = 0; i < nt; i++) {
		free(k[i]);
		free(val[i]);
	}
	free(k);
	free(val);
	return json_pack("{s:s, s:I, s:s, s:s, s:o, s:o, s:I, s:o, s:o, s:o, "
			 "s:o}",
			 "name", v->name, "version", (json_int_t)v->version,
			 "digest", v->manifest_digest, "flavor", v->flavor,
			 "description", cnai_json_string_or_null(v->description),
			 "run_id", cnai_json_string_or_null(v->run), "created",
			 (json_int_t)v->created, "created_by",
			 cnai_json_string_or_null(v->created_by), "files",
			 files, "aliases", aliases, "tags", tags);
}

static int sub_register(int argc, char **argv, struct cnai_ctx *ctx,
			const struct cnai_usage *u)
{
	static const struct option longopts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "flavor", required_argument, NULL, 'F' },
		{ "description", required_argument, NULL, 'd' },
		{ "tag", required_argument, NULL, 't' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct cnai_model_register_opts o = { 0 };
	struct cnai_model_version *v = NULL;
	const char **tags = NULL, **g;
	int c, err = 0, created;

	o.run = getenv("CNAI_RUN_ID");
	if (o.run && !*o.run)
		o.run = NULL;
	while ((c = cnai_getopt(argc, argv, ":h", longopts, u, ctx)) != -1) {
		switch (c) {
		case 'r':
			o.run = optarg;
			break;
		case 'F':
			o.flavor = optarg;
			break;
		case 'd':
			o.description = optarg;
			break;
		case 't':
			if (!(g = realloc(tags, (o.ntags + 1) * sizeof(*g)))) {
				err = cnai_error_set(CNAI_ERROR,
						     "out of memory");
				goto cleanup;
			}
			tags = g;
			tags[o.ntags++] = optarg;
			break;
		case CNAI_OPT_HELP:
			goto cleanup;
		default:
			err = CNAI_EUSAGE;
			goto cleanup;
		}
	}
	o.tags = tags;
	if ((err = want(argc - optind, 2, -1, u)) < 0 ||
	    (err = cnai_model_register(&v, &created, ctx->store, argv[optind],
				       (const char *const *)argv + optind + 1,
				       (size_t)(argc - optind - 1), &o)) < 0)
		goto cleanup;
	if (ctx->json) {
		json_t *j = version_json(ctx->store, v);

		/* "created" is the version's time, as in show and ls. */
		json_object_set_new(j, "registered", json_boolean(created));
		err = cnai_json_print(j);
	} else if (created) {
		printf("registered %s@%lld %s (%zu file%s)\n", v->name,
		       (long long)v->version, v->manifest_digest, v->nfiles,
		       v->nfiles == 1 ? "" : "s");
	} else {
		printf("%s@%lld already has this content %s; nothing "
		       "registered\n", v->name, (long long)v->version,
		       v->manifest_digest);
	}
cleanup:
	cnai_model_version_free(v);
	free(tags);
	return err;
}

static int list_models(struct cnai_ctx *ctx)
{
	static const char *const header[] = { "NAME", "VERSIONS", "LATEST",
					      "ALIASES", "CREATED" };
	struct cnai_model_summary *m = NULL;
	struct cnai_table t = { 0 };
	json_t *arr = json_array();
	size_t n = 0, i, j;
	int err;

	if ((err = cnai_model_list(&m, &n, ctx->store)) < 0 ||
	    (err = cnai_table_init(&t, 5, header)) < 0)
		goto cleanup;
	for (i = 0; i < n && !err; i++) {
		struct cnai_buf al = CNAI_BUF_INIT;
		char versions[32], latest[32], created[64];
		const char *row[5] = { m[i].name, versions, latest, al.buf,
				       created };
		json_t *ja = json_array();

		for (j = 0; j < m[i].naliases; j++) {
			cnai_buf_addf(&al, "%s%s", j ? " " : "",
				      m[i].aliases[j]);
			json_array_append_new(ja, json_string(m[i].aliases[j]));
		}
		row[3] = al.len ? al.buf : NULL;
		row[2] = m[i].latest ? latest : NULL; /* all removed */
		snprintf(versions, sizeof(versions), "%lld",
			 (long long)m[i].versions);
		snprintf(latest, sizeof(latest), "%lld",
			 (long long)m[i].latest);
		cnai_format_time(created, sizeof(created), m[i].created);
		err = cnai_table_add(&t, row);
		json_array_append_new(
			arr, json_pack("{s:s, s:I, s:o, s:o, s:I}", "name",
				       m[i].name, "versions",
				       (json_int_t)m[i].versions, "latest",
				       m[i].latest ? json_integer(m[i].latest)
						   : json_null(),
				       "aliases", ja, "created",
				       (json_int_t)m[i].created));
		cnai_buf_release(&al);
	}
	if (!err) {
		if (ctx->json)
			err = cnai_json_print(json_incref(arr));
		else
			cnai_table_print(&t, ctx);
	}
cleanup:
	json_decref(arr);
	cnai_table_release(&t);
	cnai_model_summary_free_array(m, n);
	return err;
}

static int list_versions(struct cnai_ctx *ctx, const char *name)
{
	static const char *const header[] = { "VERSION", "DIGEST", "FLAVOR",
					      "RUN", "ALIASES", "CREATED" };
	struct cnai_model_version **v = NULL;
	struct cnai_table t = { 0 };
	json_t *arr = json_array();
	size_t n = 0, i, j;
	int err;

	if ((err = cnai_model_versions(&v, &n, ctx->store, name)) < 0 ||
	    (err = cnai_table_init(&t, 6, header)) < 0)
		goto cleanup;
	for (i = 0; i < n && !err; i++) {
		struct cnai_buf al = CNAI_BUF_INIT;
		char version[32], digest[32], run[16], created[64];
		const char *row[6] = { version, digest, v[i]->flavor,
				       v[i]->run ? run : NULL, NULL, created };

		for (j = 0; j < v[i]->naliases; j++)
			cnai_buf_addf(&al, "%s%s", j ? " " : "",
				      v[i]->aliases[j]);
		row[4] = al.len ? al.buf : NULL;
		snprintf(version, sizeof(version), "%lld",
			 (long long)v[i]->version);
		snprintf(digest, sizeof(digest), "sha256:%.12s",
			 v[i]->manifest_digest + 7);
		snprintf(run, sizeof(run), "%.12s", v[i]->run ? v[i]->run : "");
		cnai_format_time(created, sizeof(created), v[i]->created);
		err = cnai_table_add(&t, row);
		json_array_append_new(arr, version_json(ctx->store, v[i]));
		cnai_buf_release(&al);
	}
	if (!err) {
		if (ctx->json)
			err = cnai_json_print(json_incref(arr));
		else
			cnai_table_print(&t, ctx);
	}
cleanup:
	json_decref(arr);
	cnai_table_release(&t);
	cnai_model_version_free_array(v, n);
	return err;
}

static int sub_ls(int argc, char **argv, struct cnai_ctx *ctx,
		  const struct cnai_usage *u)
{
	int err;

	if ((err = simple_opts(argc, argv, u, ctx, NULL)) != 0)
		return err > 0 ? 0 : err;
	if ((err = want(argc - optind, 0, 1, u)) < 0)
		return err;
	return optind < argc ? list_versions(ctx, argv[optind])
			     : list_models(ctx);
}

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

static int sub_show(int argc, char **argv, struct cnai_ctx *ctx,
		    const struct cnai_usage *u)
{
	struct cnai_model_version *v = NULL;
	struct cnai_alias_event *h = NULL;
	json_t *o = NULL, *history;
	size_t nh = 0, i;
	int err;

	if ((err = simple_opts(argc, argv, u, ctx, NULL)) != 0)
		return err > 0 ? 0 : err;
	if ((err = want(argc - optind, 1, 1, u)) < 0 ||
	    (err = cnai_model_resolve(&v, ctx->store, argv[optind])) < 0 ||
	    (err = cnai_model_alias_history(&h, &nh, ctx->store, v->name)) < 0)
		goto cleanup;
	o = version_json(ctx->store, v);
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

static int sub_alias(int argc, char **argv, struct cnai_ctx *ctx,
		     const struct cnai_usage *u)
{
	int64_t version;
	int err;

	if ((err = simple_opts(argc, argv, u, ctx, NULL)) != 0)
		return err > 0 ? 0 : err;
	if (argc - optind >= 1 && !strcmp(argv[optind], "set")) {
		if ((err = want(argc - optind, 4, 4, u)) < 0)
			return err;
		if ((err = cnai_opt_int64(&version, argv[optind + 3],
					  "version")) < 0)
			return err;
		if ((err = cnai_model_alias_set(ctx->store, argv[optind + 1],
						argv[optind + 2], version)) < 0)
			return err;
		if (ctx->json)
			return cnai_json_print(json_pack(
				"{s:s, s:s, s:I}", "name", argv[optind + 1],
				"alias", argv[optind + 2], "version",
				(json_int_t)version));
		printf("%s@%s -> %lld\n", argv[optind + 1], argv[optind + 2],
		       (long long)version);
		return 0;
	}
	if (argc - optind >= 1 && !strcmp(argv[optind], "rm")) {
		if (argc - optind != 3)
			return cnai_error_set(CNAI_EUSAGE, "usage: %s",
					      u->synopsis[1]);
		if ((err = cnai_model_alias_remove(ctx->store, argv[optind + 1],
						   argv[optind + 2])) < 0)
			return err;
		if (!ctx->json)
			printf("removed alias %s@%s\n", argv[optind + 1],
			       argv[optind + 2]);
		else
			return cnai_json_print(json_pack(
				"{s:s, s:s, s:b}", "name", argv[optind + 1],
				"alias", argv[optind + 2], "removed", 1));
		return 0;
	}
	return cnai_error_set(CNAI_EUSAGE, "usage: %s | %s", u->synopsis[0],
			      u->synopsis[1]);
}

static int sub_export(int argc, char **argv, struct cnai_ctx *ctx,
		      const struct cnai_usage *u)
{
	struct cnai_model_version *v = NULL;
	int err, force = 0;

	if ((err = simple_opts(argc, argv, u, ctx, &force)) != 0)
		return err > 0 ? 0 : err;
	if ((err = want(argc - optind, 2, 2, u)) < 0 ||
	    (err = cnai_model_resolve(&v, ctx->store, argv[optind])) < 0 ||
	    (err = cnai_model_export(ctx->store, v, argv[optind + 1], force)) <
		    0)
		goto cleanup;
	if (ctx->json)
		err = cnai_json_print(version_json(ctx->store, v));
	else
		printf("exported %s@%lld (%zu file%s) to %s\n", v->name,
		       (long long)v->version, v->nfiles,
		       v->nfiles == 1 ? "" : "s", argv[optind + 1]);
cleanup:
	cnai_model_version_free(v);
	return err;
}

static int sub_rm(int argc, char **argv, struct cnai_ctx *ctx,
		  const struct cnai_usage *u)
{
	struct cnai_model_version *v = NULL;
	int err, force = 0;

	if ((err = simple_opts(argc, argv, u, ctx, &force)) != 0)
		return err > 0 ? 0 : err;
	if ((err = want(argc - optind, 1, 1, u)) < 0 ||
	    (err = cnai_model_resolve(&v, ctx->store, argv[optind])) < 0 ||
	    (err = cnai_model_version_remove(ctx->store, v, force)) < 0)
		goto cleanup;
	if (ctx->json)
		err = cnai_json_print(json_pack("{s:s, s:I, s:s}", "name",
						v->name, "version",
						(json_int_t)v->version,
						"digest", v->manifest_digest));
	else
		printf("removed %s@%lld\n", v->name, (long long)v->version);
cleanup:
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

static int sub_diff(int argc, char **argv, struct cnai_ctx *ctx,
		    const struct cnai_usage *u)
{
	struct cnai_model_version *a = NULL, *b = NULL;
	json_t *out = json_object(), *ra = NULL, *rb = NULL, *fa, *fb;
	int err;

	if ((err = simple_opts(argc, argv, u, ctx, NULL)) != 0) {
		json_decref(out);
		return err > 0 ? 0 : err;
	}
	if ((err = want(argc - optind, 2, 2, u)) < 0 ||
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

static const struct model_sub subs[] = {
	{ "alias", sub_alias, { syn_alias, opt_alias } },
	{ "diff", sub_diff, { syn_diff, opt_diff } },
	{ "export", sub_export, { syn_export, opt_export } },
	{ "ls", sub_ls, { syn_ls, opt_ls } },
	{ "register", sub_register, { syn_register, opt_register } },
	{ "rm", sub_rm, { syn_rm, opt_rm } },
	{ "show", sub_show, { syn_show, opt_show } },
};

static void print_model_usage(FILE *f)
{
	size_t i, j, k = 0;

	for (i = 0; i < sizeof(all_synopses) / sizeof(*all_synopses); i++)
		for (j = 0; all_synopses[i][j]; j++)
			fprintf(f, "%s%s\n", k++ ? "   or: " : "usage: ",
				all_synopses[i][j]);
	fprintf(f, "\n<model> is NAME, NAME@latest, NAME@VERSION, NAME@ALIAS "
		   "or sha256:<digest prefix>\n"
		   "see 'cnai model <sub-command> --help' for each one's "
		   "options\n");
}

int cmd_model(int argc, char **argv, struct cnai_ctx *ctx)
{
	size_t i;

	if (argc < 2) {
		print_model_usage(stderr);
		return CNAI_EUSAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_model_usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(subs) / sizeof(*subs); i++)
		if (!strcmp(subs[i].name, argv[1]))
			return subs[i].fn(argc - 1, argv + 1, ctx,
					  &subs[i].usage);
	return cnai_unknown_subcommand("model", argv[1], subs, sizeof(subs) / sizeof(*subs),
				       sizeof(*subs));
}
