/*
 * cnai model: the model registry. Versions, aliases (the promotion
 * mechanism: digits@prod), export and removal. Core logic lives in
 * core/store/models.c; this file parses, calls and prints; show and diff
 * are in commands/model/show.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "commands/model/model.h"
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

int model_simple_opts(int argc, char **argv, const struct cnai_usage *u,
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

int model_want(int have, int min, int max, const struct cnai_usage *u)
{
	if (have < min || (max >= 0 && have > max))
		return cnai_error_set(CNAI_EUSAGE, "%s; usage: %s",
				      have < min ? "missing arguments"
						 : "too many arguments",
				      u->synopsis[0]);
	return 0;
}

json_t *model_version_json(struct cnai_store *st,
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
	if ((err = model_want(argc - optind, 2, -1, u)) < 0 ||
	    (err = cnai_model_register(&v, &created, ctx->store, argv[optind],
				       (const char *const *)argv + optind + 1,
				       (size_t)(argc - optind - 1), &o)) < 0)
		goto cleanup;
	if (ctx->json) {
		json_t *j = model_version_json(ctx->store, v);

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
		json_array_append_new(arr, model_version_json(ctx->store, v[i]));
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

	if ((err = model_simple_opts(argc, argv, u, ctx, NULL)) != 0)
		return err > 0 ? 0 : err;
	if ((err = model_want(argc - optind, 0, 1, u)) < 0)
		return err;
	return optind < argc ? list_versions(ctx, argv[optind])
			     : list_models(ctx);
}

static int sub_alias(int argc, char **argv, struct cnai_ctx *ctx,
		     const struct cnai_usage *u)
{
	int64_t version;
	int err;

	if ((err = model_simple_opts(argc, argv, u, ctx, NULL)) != 0)
		return err > 0 ? 0 : err;
	if (argc - optind >= 1 && !strcmp(argv[optind], "set")) {
		if ((err = model_want(argc - optind, 4, 4, u)) < 0)
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

	if ((err = model_simple_opts(argc, argv, u, ctx, &force)) != 0)
		return err > 0 ? 0 : err;
	if ((err = model_want(argc - optind, 2, 2, u)) < 0 ||
	    (err = cnai_model_resolve(&v, ctx->store, argv[optind])) < 0 ||
	    (err = cnai_model_export(ctx->store, v, argv[optind + 1], force)) <
		    0)
		goto cleanup;
	if (ctx->json)
		err = cnai_json_print(model_version_json(ctx->store, v));
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

	if ((err = model_simple_opts(argc, argv, u, ctx, &force)) != 0)
		return err > 0 ? 0 : err;
	if ((err = model_want(argc - optind, 1, 1, u)) < 0 ||
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

static const struct model_sub subs[] = {
	{ "alias", sub_alias, { syn_alias, opt_alias } },
	{ "diff", model_diff, { syn_diff, opt_diff } },
	{ "export", sub_export, { syn_export, opt_export } },
	{ "ls", sub_ls, { syn_ls, opt_ls } },
	{ "register", sub_register, { syn_register, opt_register } },
	{ "rm", sub_rm, { syn_rm, opt_rm } },
	{ "show", model_show, { syn_show, opt_show } },
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
