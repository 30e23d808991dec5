/*
 * cnai's entry point: global options, the command table, and the one
 * place where error codes become exit statuses (0 ok, 1 a check said no,
 * 2 usage or input error, 3 runtime failure).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ctx.h"
#include "cli/options.h"
#include "commands/commands.h"
#include "core/store/store.h"
#include "core/util/error.h"
#include "core/util/banned.h"

/*
 * Command flags:
 * CNAI_CMD_NEEDS_STORE  find and open the store before running; no store
 *                       is an error (exit 2) unless -h/--help was asked.
 * CNAI_CMD_STORE_OPTIONAL  open the store when there is one (signing
 *                       works outside a store: lineage is then not recorded).
 */
enum cnai_cmd_flags {
	CNAI_CMD_NEEDS_STORE = (1 << 0),
	CNAI_CMD_STORE_OPTIONAL = (1 << 1),
};

struct cnai_command {
	const char *name;
	int (*fn)(int argc, char **argv, struct cnai_ctx *ctx);
	unsigned flags;
	const char *summary; /* one line for 'cnai help' */
};

static const struct cnai_command commands[] = { /* keep alphabetical */
	{ "config", cmd_config, CNAI_CMD_NEEDS_STORE,
	  "Get and set store options" },
	{ "deploy", cmd_deploy, CNAI_CMD_NEEDS_STORE,
	  "Write Kubernetes, KServe, Knative and Seldon manifests" },
	{ "drift", cmd_drift, CNAI_CMD_NEEDS_STORE,
	  "Detect data drift between two data sets" },
	{ "eval", cmd_eval, CNAI_CMD_STORE_OPTIONAL,
	  "Score a labelled data set with a model" },
	{ "fsck", cmd_fsck, CNAI_CMD_NEEDS_STORE,
	  "Verify blobs and the references to them" },
	{ "gc", cmd_gc, CNAI_CMD_NEEDS_STORE,
	  "Remove unreferenced blobs and checkpoint the database" },
	{ "init", cmd_init, 0, "Create a store in .cnai/" },
	{ "lineage", cmd_lineage, CNAI_CMD_NEEDS_STORE,
	  "Show where something came from and what used it" },
	{ "model", cmd_model, CNAI_CMD_NEEDS_STORE,
	  "Register models, versions and aliases" },
	{ "package", cmd_package, CNAI_CMD_NEEDS_STORE,
	  "Build, inspect, push and pull OCI images of models" },
	{ "predict", cmd_predict, CNAI_CMD_STORE_OPTIONAL,
	  "Predict with a model folder or a registered model" },
	{ "serve", cmd_serve, CNAI_CMD_STORE_OPTIONAL,
	  "Serve models over the Open Inference Protocol (HTTP)" },
	{ "sign", cmd_sign, CNAI_CMD_STORE_OPTIONAL,
	  "Sign and verify images, models and blobs (cosign format)" },
	{ "track", cmd_track, CNAI_CMD_NEEDS_STORE,
	  "Track runs: params, metrics, artifacts" },
	{ "train", cmd_train, CNAI_CMD_NEEDS_STORE,
	  "Train a built-in model on a CSV file, in a tracked run" },
};

static const char main_usage[] =
	"usage: cnai [--version] [--help] [--store <path>] [-C <dir>] "
	"[--json]\n"
	"            [-q | --quiet] [--no-color] <command> [<args>]\n";

static const struct cnai_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_help(void)
{
	size_t i;

	fputs(main_usage, stdout);
	fputs("\ncnai takes a machine-learning model from data to a signed, "
	      "monitored deployment.\n\ncommands:\n", stdout);
	for (i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		printf("   %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nglobal options:\n"
	      "   --store <path>   use this store (else $CNAI_STORE, else the "
	      "nearest .cnai/)\n"
	      "   -C <dir>         run as if started in <dir>\n"
	      "   --json           machine-readable output on stdout\n"
	      "   -q, --quiet      no notices on stderr\n"
	      "   --no-color       no colour (also: NO_COLOR set)\n"
	      "   --version        print the version\n"
	      "\n'cnai help <command>' or 'cnai <command> --help' shows a "
	      "command's usage;\n'man cnai-<command>' the whole story.\n",
	      stdout);
}

/* Exit status for an error code (the only such mapping). */
static int exit_status(int code)
{
	switch ((enum cnai_error_code)code) {
	case CNAI_OK:
		return 0;
	case CNAI_ECHECK:
		return 1;
	case CNAI_EUSAGE:
	case CNAI_EINVALID:
	case CNAI_ENOTFOUND:
	case CNAI_EAMBIGUOUS:
	case CNAI_EEXISTS:
		return 2;
	case CNAI_ERROR:
		return 3;
	}
	return 3;
}

static int report(int code)
{
	const struct cnai_error *e = cnai_error_last();

	if (code >= 1000)
		return code - 1000;
	if (code == 0)
		return 0;
	/* A bare usage error: the command has printed its usage already. */
	if (code == CNAI_EUSAGE && !(e && e->message[0]))
		return exit_status(code);
	if (e && e->message[0])
		fprintf(stderr, "cnai: error: %s\n", e->message);
	else
		fprintf(stderr, "cnai: error: %s\n",
			cnai_strerror((enum cnai_error_code)code));
	return exit_status(code);
}

static int unknown_command(const char *name)
{
	const char *best = NULL;
	size_t best_d = 3, d, i;

	for (i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		d = cnai_levenshtein(name, commands[i].name);
		if (d < best_d) {
			best_d = d;
			best = commands[i].name;
		}
	}
	if (best)
		return cnai_error_set(CNAI_EUSAGE,
				      "'%s' is not a cnai command; did you mean "
				      "'%s'?", name, best);
	return cnai_error_set(CNAI_EUSAGE,
			      "'%s' is not a cnai command; see 'cnai --help'",
			      name);
}

static int unknown_option(const char *arg, const struct option *globals)
{
	char name[128];
	const char *best = NULL;

	if (arg[0] == '-' && arg[1] == '-') {
		snprintf(name, sizeof(name), "%s", arg + 2);
		name[strcspn(name, "=")] = '\0';
		best = cnai_opt_suggest(name, globals);
	}
	if (best)
		return cnai_error_set(CNAI_EUSAGE,
				      "unknown option '%s'; did you mean "
				      "'--%s'?", arg, best);
	return cnai_error_set(CNAI_EUSAGE,
			      "unknown option '%s'; see 'cnai --help'", arg);
}

static int wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

/* Flushes stdout; a failed write (full disk, closed pipe) is exit 3. */
static int finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "cnai: error: writing output: %s\n",
				strerror(errno));
		return status ? status : 3;
	}
	return status;
}

static int run_command(const struct cnai_command *cmd, int argc, char **argv,
		       struct cnai_ctx *ctx)
{
	struct cnai_buf root = CNAI_BUF_INIT, cwd = CNAI_BUF_INIT;
	int err;

	ctx->cmd_name = cmd->name;
	if ((cmd->flags & (CNAI_CMD_NEEDS_STORE | CNAI_CMD_STORE_OPTIONAL)) &&
	    !wants_help(argc, argv)) {
		char *here = getcwd(NULL, 0);

		err = here ? cnai_store_discover(&root, ctx->store_path, here)
			   : cnai_error_set_errno(CNAI_ERROR, "getcwd");
		free(here);
		if (err == CNAI_ENOTFOUND &&
		    (cmd->flags & CNAI_CMD_STORE_OPTIONAL) && !ctx->store_path) {
			cnai_error_clear();
			err = 0;
		} else if (err == 0) {
			err = cnai_store_open(&ctx->store, root.buf);
		}
		if (err < 0)
			goto cleanup;
	}
	cnai_getopt_reset();
	err = cmd->fn(argc, argv, ctx);
cleanup:
	cnai_store_free(ctx->store);
	ctx->store = NULL;
	cnai_buf_release(&root);
	cnai_buf_release(&cwd);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option globals[] = {
		{ "store", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-color", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cnai_ctx ctx = { 0 };
	const struct cnai_command *cmd;
	const char *no_color = getenv("NO_COLOR");
	int c, err;

	ctx.store_path = getenv("CNAI_STORE");
	ctx.stdout_tty = isatty(STDOUT_FILENO);
	ctx.stderr_tty = isatty(STDERR_FILENO);
	ctx.color = ctx.stdout_tty && !(no_color && *no_color);
	opterr = 0;
	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+:C:qh", globals, NULL)) != -1) {
		switch (c) {
		case 's':
			ctx.store_path = optarg;
			break;
		case 'C':
			if (chdir(optarg) < 0)
				return finish(report(cnai_error_set_errno(
					CNAI_EUSAGE, "cannot change to '%s'",
					optarg)));
			break;
		case 'j':
			ctx.json = 1;
			break;
		case 'q':
			ctx.quiet = 1;
			break;
		case 'n':
			ctx.color = 0;
			break;
		case 'V':
			printf("cnai version %s\n", CNAI_VERSION);
			return finish(0);
		case 'h':
			print_help();
			return finish(0);
		case ':':
			return finish(report(cnai_error_set(
				CNAI_EUSAGE, "option '%s' needs a value",
				argv[optind - 1])));
		default:
			return finish(report(unknown_option(argv[optind - 1],
							    globals)));
		}
	}
	if (optind >= argc) {
		fputs(main_usage, stderr);
		fputs("see 'cnai --help' for the commands\n", stderr);
		return 2;
	}
	argv += optind;
	argc -= optind;
	if (!strcmp(argv[0], "help")) {
		if (argc < 2) {
			print_help();
			return finish(0);
		}
		if (!(cmd = find_command(argv[1])))
			return finish(report(unknown_command(argv[1])));
		{
			/* "cnai help track ls" is "cnai track ls --help". */
			char **help_argv = calloc((size_t)argc + 1,
						  sizeof(*help_argv));
			int i;

			if (!help_argv)
				return finish(report(cnai_error_set(
					CNAI_ERROR, "out of memory")));
			for (i = 1; i < argc; i++)
				help_argv[i - 1] = argv[i];
			help_argv[argc - 1] = (char *)"--help";
			err = run_command(cmd, argc, help_argv, &ctx);
			free(help_argv);
		}
		return finish(report(err));
	}
	if (!strcmp(argv[0], "version")) {
		printf("cnai version %s\n", CNAI_VERSION);
		return finish(0);
	}
	if (!(cmd = find_command(argv[0])))
		return finish(report(unknown_command(argv[0])));
	err = run_command(cmd, argc, argv, &ctx);
	return finish(report(err));
}
