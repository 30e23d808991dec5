/*
 * cnai track: experiment tracking. The sub-command table and the shared
 * usage live here; each sub-command is in commands/track/.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/track/track.h"
#include "core/util/banned.h"

struct track_sub {
	const char *name;
	int (*fn)(int argc, char **argv, struct cnai_ctx *ctx);
	const char *const *synopsis;
	const char *const *options;
};

#define S(name, ...) static const char *const name[] = { __VA_ARGS__, NULL }

S(syn_run, "cnai track run [--experiment <name>] [--name <name>] "
	   "[-p <key>=<value>]... [--tag <key>=<value>]... "
	   "[--input <path>]... -- <command> [<arg>...]");
S(syn_start, "cnai track start [--experiment <name>] [--name <name>] "
	     "[-p <key>=<value>]... [--tag <key>=<value>]... "
	     "[--input <path>]...");
S(syn_end, "cnai track end [<run>] [--status <status>]");
S(syn_log, "cnai track log [--run <run>] [--param <key>=<value>]... "
	   "[--metric <key>=<value>[@<step>]]... [--tag <key>=<value>]... "
	   "[--artifact <path>[:<name>]]...",
  "cnai track log [--run <run>] --batch <file>");
S(syn_ls, "cnai track ls [--experiment <name>] [--filter <expr>] "
	  "[--order-by '<key> [ASC|DESC]']... [--limit <n>] "
	  "[--columns <list>]");
S(syn_show, "cnai track show <run>");
S(syn_compare, "cnai track compare <run> <run>...");
S(syn_metrics, "cnai track metrics <run> [<key>] [--plot]");
S(syn_artifacts, "cnai track artifacts <run>");
S(syn_cat, "cnai track cat <run> <name>");
S(syn_rm, "cnai track rm <run>...");

S(opt_run, "    --experiment <name>   group the run under this experiment "
	   "(default: Default)",
  "    --name <name>         a name for the run (selects it like an id)",
  "    -p, --param <k>=<v>   log a param before the command starts",
  "    --tag <k>=<v>         set a tag",
  "    --input <path>        record a file the run reads as a dataset "
  "(sha256,",
  "                          size; rows, columns, schema for .csv/.tsv)",
  "    --json                print the run as JSON when it ends",
  "",
  "The command runs with CNAI_RUN_ID and CNAI_STORE set; its output passes",
  "through and is kept as the artifacts stdout.log and stderr.log.",
  "cnai exits with the command's exit status (127: it could not start).");
S(opt_start, "    --experiment <name>   group the run under this experiment",
  "    --name <name>         a name for the run",
  "    -p, --param <k>=<v>   log a param",
  "    --tag <k>=<v>         set a tag",
  "    --input <path>        record a dataset the run reads",
  "",
  "Prints the new run's id; end it with 'cnai track end'.");
S(opt_end, "    <run>               default: $CNAI_RUN_ID",
  "    --status <status>   FINISHED (default), FAILED or KILLED");
S(opt_log, "    --run <run>                 default: $CNAI_RUN_ID",
  "    --param <k>=<v>             a param (write-once)",
  "    --metric <k>=<v>[@<step>]   a metric point (v: a number, nan, inf, "
  "-inf)",
  "    --tag <k>=<v>               a tag (may change)",
  "    --artifact <path>[:<name>]  store a file as an artifact",
  "    --batch <file>              JSON lines ('-': stdin), one transaction:",
  "        {\"metric\":\"loss\",\"value\":0.3,\"step\":7,\"timestamp\":"
  "1700000000000}",
  "        {\"param\":\"lr\",\"value\":\"0.01\"}  {\"tag\":\"team\","
  "\"value\":\"vision\"}");
S(opt_ls, "    --experiment <name>     only this experiment's runs",
  "    --filter <expr>         MLflow search syntax, e.g.",
  "                            \"metrics.acc > 0.9 AND params.lr = "
  "'0.01'\"",
  "    --order-by '<key> [ASC|DESC]'",
  "                            e.g. 'metrics.acc DESC' (default: newest "
  "first)",
  "    --limit <n>             at most n runs",
  "    --columns <list>        comma-separated: id, name, experiment, "
  "status,",
  "                            start, end, duration, exit_code, user, "
  "git_commit,",
  "                            metrics.<k>, params.<k>, tags.<k>",
  "    --json                  runs with params, metrics and tags as JSON");
S(opt_show, "    <run>     an id, a unique prefix (4+), or a name",
  "    --json    the run, params, metrics, tags, artifacts, inputs");
S(opt_compare, "    Params and latest metrics side by side; '*' marks rows "
	       "that differ.",
  "    --json    the same as JSON");
S(opt_metrics, "    <key>     one metric's history (default: all)",
  "    --plot    draw the history as a line chart",
  "    --json    the points as JSON");
S(opt_artifacts, "    --json    name, size, digest, created");
S(opt_cat, "    Writes the artifact's bytes to stdout.");
S(opt_rm, "    Deletes the runs and all they logged; 'cnai gc' then frees "
	  "their blobs.",
  "    --json    the removed run ids");

static const struct track_sub subs[] = {
	{ "artifacts", track_artifacts, syn_artifacts, opt_artifacts },
	{ "cat", track_cat, syn_cat, opt_cat },
	{ "compare", track_compare, syn_compare, opt_compare },
	{ "end", track_end, syn_end, opt_end },
	{ "log", track_log, syn_log, opt_log },
	{ "ls", track_ls, syn_ls, opt_ls },
	{ "metrics", track_metrics, syn_metrics, opt_metrics },
	{ "rm", track_rm, syn_rm, opt_rm },
	{ "run", track_run, syn_run, opt_run },
	{ "show", track_show, syn_show, opt_show },
	{ "start", track_start, syn_start, opt_start },
};
#define NSUBS (sizeof(subs) / sizeof(*subs))

/* Every synopsis line, in the order of the man page. */
static const char *const *const all_synopses[] = {
	syn_run, syn_start, syn_end, syn_log, syn_ls, syn_show,
	syn_compare, syn_metrics, syn_artifacts, syn_cat, syn_rm,
};

static struct cnai_usage sub_usage[NSUBS];

const struct cnai_usage *track_usage(const char *sub)
{
	size_t i;

	for (i = 0; i < NSUBS; i++)
		if (!strcmp(subs[i].name, sub)) {
			sub_usage[i].synopsis = subs[i].synopsis;
			sub_usage[i].options = subs[i].options;
			return &sub_usage[i];
		}
	CNAI_BUG("no usage for 'track %s'", sub);
}

static void print_track_usage(FILE *f)
{
	size_t i, j, k = 0;

	for (i = 0; i < sizeof(all_synopses) / sizeof(*all_synopses); i++)
		for (j = 0; all_synopses[i][j]; j++)
			fprintf(f, "%s%s\n", k++ ? "   or: " : "usage: ",
				all_synopses[i][j]);
	fprintf(f, "\nsee 'cnai track <sub-command> --help' for each one's "
		   "options\n");
}

int cmd_track(int argc, char **argv, struct cnai_ctx *ctx)
{
	size_t i;

	/* `cnai track --json ls` as well as `cnai track ls --json` */
	while (argc >= 2 && !strcmp(argv[1], "--json")) {
		ctx->json = 1;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (argc < 2) {
		print_track_usage(stderr);
		return CNAI_EUSAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_track_usage(stdout);
		return 0;
	}
	for (i = 0; i < NSUBS; i++)
		if (!strcmp(subs[i].name, argv[1]))
			return subs[i].fn(argc - 1, argv + 1, ctx);
	return cnai_unknown_subcommand("track", argv[1], subs, NSUBS,
				       sizeof(*subs));
}

int track_resolve_run(struct cnai_run **out, struct cnai_store *st,
		      const char *ref)
{
	const char *env = getenv("CNAI_RUN_ID");

	if (!ref || !*ref)
		ref = env;
	if (!ref || !*ref)
		return cnai_error_set(CNAI_EUSAGE,
				      "no run given: name one, or set "
				      "CNAI_RUN_ID (cnai track run sets it)");
	return cnai_run_lookup(out, st, ref);
}

int track_common_opts(int argc, char **argv, const char *sub,
		      struct cnai_ctx *ctx, int *plot)
{
	static const struct option longopts[] = {
		{ "plot", no_argument, NULL, 'P' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = cnai_getopt(argc, argv, ":h", longopts, track_usage(sub),
				ctx)) != -1) {
		if (c == 'P' && plot) {
			*plot = 1;
			continue;
		}
		if (c == 'P')
			return cnai_error_set(CNAI_EUSAGE,
					      "unknown option '--plot'");
		return c == CNAI_OPT_HELP ? 1 : CNAI_EUSAGE;
	}
	return 0;
}

int track_want_args(int argc, int min, int max, const char *sub)
{
	if (argc < min)
		return cnai_error_set(CNAI_EUSAGE,
				      "'track %s' needs %s; usage: %s", sub,
				      min == 1 ? "a run" : "more arguments",
				      track_usage(sub)->synopsis[0]);
	if (max >= 0 && argc > max)
		return cnai_error_set(CNAI_EUSAGE,
				      "'track %s': too many arguments; usage: "
				      "%s", sub, track_usage(sub)->synopsis[0]);
	return 0;
}

static json_t *kv_object(struct cnai_kv *a, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, a[i].key, json_string(a[i].value));
	return o;
}

json_t *track_run_json(struct cnai_store *st, const struct cnai_run *run,
		       int details)
{
	struct cnai_kv *params = NULL, *tags = NULL;
	struct cnai_metric_point *m = NULL;
	size_t np = 0, nt = 0, nm = 0, i;
	json_t *o, *metrics;

	o = json_pack("{s:s, s:o, s:s, s:s, s:I, s:o, s:o}", "run_id",
		      run->uuid, "name", cnai_json_string_or_null(run->name),
		      "experiment", run->experiment, "status",
		      cnai_run_status_name(run->status),
		      "start_time", (json_int_t)run->start_time, "end_time",
		      run->end_time ? json_integer(run->end_time) : json_null(),
		      "exit_code",
		      run->has_exit_code ? json_integer(run->exit_code)
					 : json_null());
	if (!o)
		return NULL;
	json_object_set_new(o, "user", cnai_json_string_or_null(run->user));
	json_object_set_new(o, "git_commit",
			    cnai_json_string_or_null(run->git_commit));
	json_object_set_new(o, "parent_run_id",
			    cnai_json_string_or_null(run->parent));
	if (details) {
		json_object_set_new(o, "command",
				    cnai_json_string_or_null(run->command));
		json_object_set_new(o, "cwd",
				    cnai_json_string_or_null(run->cwd));
		json_object_set_new(o, "host",
				    cnai_json_string_or_null(run->host));
		json_object_set_new(o, "git_branch",
				    cnai_json_string_or_null(run->git_branch));
		json_object_set_new(o, "git_remote",
				    cnai_json_string_or_null(run->git_remote));
		json_object_set_new(o, "git_dirty",
				    run->git_dirty < 0
					    ? json_null()
					    : json_boolean(run->git_dirty));
	}
	if (cnai_run_params(&params, &np, st, run->id) == 0)
		json_object_set_new(o, "params", kv_object(params, np));
	if (cnai_run_latest_metrics(&m, &nm, st, run->id) == 0) {
		metrics = json_object();
		for (i = 0; i < nm; i++)
			json_object_set_new(metrics, m[i].key,
					    cnai_json_double(m[i].value));
		json_object_set_new(o, "metrics", metrics);
	}
	if (cnai_run_tags(&tags, &nt, st, run->id) == 0)
		json_object_set_new(o, "tags", kv_object(tags, nt));
	cnai_kv_free_array(params, np);
	cnai_kv_free_array(tags, nt);
	cnai_metric_free_array(m, nm);
	return o;
}
