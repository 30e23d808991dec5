/*
 * track run / start / end: the life of a run. `run` wraps a command: the
 * run is created (with params, tags, inputs and provenance) before the
 * command starts, and ended with its exit status afterwards.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/track/track.h"
#include "core/data/dataset.h"
#include "core/store/blobs.h"
#include "core/store/datasets.h"
#include "core/store/lineage.h"
#include "core/store/logger.h"
#include "core/store/origin.h"
#include "core/util/fs.h"
#include "core/util/proc.h"
#include "core/util/banned.h"

/* What run and start share: parsed options and described inputs. */
struct run_opts {
	const char *experiment, *name;
	char **params, **tags, **inputs; /* "k=v" strings, paths */
	size_t nparams, ntags, ninputs;
	struct cnai_dataset_info *datasets;
};

static int push(char ***list, size_t *n, char *s)
{
	char **g = realloc(*list, (*n + 1) * sizeof(**list));

	if (!g)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	*list = g;
	(*list)[(*n)++] = s;
	return 0;
}

static void run_opts_release(struct run_opts *o)
{
	size_t i;

	free(o->params);
	free(o->tags);
	free(o->inputs);
	for (i = 0; o->datasets && i < o->ninputs; i++)
		cnai_dataset_info_release(&o->datasets[i]);
	free(o->datasets);
}

/* The value of `key` in "key=value", or NULL when pair is another key. */
static const char *pair_value(const char *pair, const char *key)
{
	size_t len = strlen(key);

	return !strncmp(pair, key, len) && pair[len] == '=' ? pair + len + 1
							    : NULL;
}

/*
 * Checks every key=value before anything is recorded, including a param
 * given twice with two values: found later, it would leave a run behind.
 */
static int check_pairs(char **pairs, size_t n, const char *kind)
{
	size_t i, j;
	int err;

	for (i = 0; i < n; i++) {
		char *dup;
		const char *k, *v, *other;

		if ((err = cnai_opt_keyvalue(&dup, &k, &v, pairs[i],
					     !strcmp(kind, "param") ? "--param"
								    : "--tag")) < 0)
			return err;
		err = cnai_key_validate(kind, k);
		for (j = 0; !err && !strcmp(kind, "param") && j < i; j++)
			if ((other = pair_value(pairs[j], k)) &&
			    strcmp(other, v))
				err = cnai_error_set(CNAI_EUSAGE,
						     "param '%s' given twice: "
						     "'%s' and '%s'; params "
						     "cannot change", k, other,
						     v);
		free(dup);
		if (err < 0)
			return err;
	}
	return 0;
}

static int parse_run_opts(struct run_opts *o, int argc, char **argv,
			  const char *sub, struct cnai_ctx *ctx, int *help)
{
	static const struct option longopts[] = {
		{ "experiment", required_argument, NULL, 'e' },
		{ "name", required_argument, NULL, 'N' },
		{ "param", required_argument, NULL, 'p' },
		{ "tag", required_argument, NULL, 't' },
		{ "input", required_argument, NULL, 'i' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int c, err = 0;

	*help = 0;
	/* '+': options end at the command, whose own options pass through. */
	while ((c = cnai_getopt(argc, argv, "+:p:h", longopts,
				track_usage(sub), ctx)) != -1) {
		switch (c) {
		case 'e':
			o->experiment = optarg;
			break;
		case 'N':
			o->name = optarg;
			break;
		case 'p':
			err = push(&o->params, &o->nparams, optarg);
			break;
		case 't':
			err = push(&o->tags, &o->ntags, optarg);
			break;
		case 'i':
			err = push(&o->inputs, &o->ninputs, optarg);
			break;
		case CNAI_OPT_HELP:
			*help = 1;
			return 0;
		default:
			return CNAI_EUSAGE;
		}
		if (err < 0)
			return err;
	}
	if (o->experiment && !*o->experiment)
		return cnai_error_set(CNAI_EUSAGE, "--experiment: empty name");
	if (o->name && !*o->name)
		return cnai_error_set(CNAI_EUSAGE, "--name: empty name");
	if ((err = check_pairs(o->params, o->nparams, "param")) < 0 ||
	    (err = check_pairs(o->tags, o->ntags, "tag")) < 0)
		return err;
	/* Read inputs now: a malformed CSV stops us before a run exists. */
	if (o->ninputs &&
	    !(o->datasets = calloc(o->ninputs, sizeof(*o->datasets))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < o->ninputs; i++)
		if ((err = cnai_dataset_describe(&o->datasets[i],
						 o->inputs[i])) < 0)
			return err;
	return 0;
}

static int log_pairs(struct cnai_logger *lg, char **pairs, size_t n,
		     int params)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		char *dup;
		const char *k, *v;

		if ((err = cnai_opt_keyvalue(&dup, &k, &v, pairs[i],
					     params ? "param" : "tag")) < 0)
			break;
		err = params ? cnai_logger_param(lg, k, v)
			     : cnai_logger_tag(lg, k, v);
		free(dup);
	}
	return err;
}

/* Params, tags and inputs of a new run, in one transaction. */
static int record_setup(struct cnai_store *st, const struct cnai_run *run,
			const struct run_opts *o)
{
	struct cnai_logger *lg = NULL;
	char path[PATH_MAX];
	int64_t run_entity;
	size_t i;
	int err;

	if ((err = cnai_logger_begin(&lg, st, run->id)) < 0)
		return err;
	if ((err = log_pairs(lg, o->params, o->nparams, 1)) < 0 ||
	    (err = log_pairs(lg, o->tags, o->ntags, 0)) < 0 ||
	    (err = cnai_lineage_entity(&run_entity, st, CNAI_ENTITY_RUN,
				       run->uuid, run->name)) < 0)
		goto fail;
	for (i = 0; i < o->ninputs; i++) {
		const struct cnai_dataset_info *d = &o->datasets[i];
		struct cnai_store_dataset_row row = {
			d->digest, realpath(o->inputs[i], path) ? path
							       : o->inputs[i],
			d->schema, d->size, d->is_table ? d->rows : -1,
			d->is_table ? d->columns : -1,
		};

		if ((err = cnai_store_dataset_record(NULL, st, &row,
					       run_entity)) < 0)
			goto fail;
	}
	return cnai_logger_commit(lg);
fail:
	cnai_logger_abort(lg);
	return err;
}

/* Creates the run with provenance (host, user, cwd, git). */
static int create_run(struct cnai_run **out, struct cnai_store *st,
		      const struct run_opts *o, const char *command)
{
	struct cnai_run_origin origin;
	struct cnai_run_spec spec = { 0 };
	int err;

	cnai_run_origin_read(&origin);
	spec.experiment = o->experiment;
	spec.name = o->name;
	spec.command = command;
	cnai_run_origin_fill(&spec, &origin);
	err = cnai_run_create(out, st, &spec);
	if (!err && (err = record_setup(st, *out, o)) < 0) {
		/* Leave no half-made run behind. */
		cnai_run_remove(st, (*out)->id);
		cnai_run_free(*out);
		*out = NULL;
	}
	cnai_run_origin_release(&origin);
	return err;
}

/* The child's environment: cnai's, with the run and the store set. */
static int build_env(char ***out, const struct cnai_run *run,
		     const struct cnai_store *st)
{
	struct cnai_buf id = CNAI_BUF_INIT, store = CNAI_BUF_INIT;
	const char *set[3];
	int err;

	cnai_buf_addf(&id, "CNAI_RUN_ID=%s", run->uuid);
	cnai_buf_addf(&store, "CNAI_STORE=%s", cnai_store_root(st));
	set[0] = id.buf;
	set[1] = store.buf;
	set[2] = NULL;
	if ((err = cnai_buf_oom(&id)) == 0 && (err = cnai_buf_oom(&store)) == 0)
		err = cnai_proc_env_new(out, set);
	cnai_buf_release(&id);
	cnai_buf_release(&store);
	return err;
}

/* Stores a captured log as an artifact (an empty log is stored too). */
static int store_log(struct cnai_logger *lg, struct cnai_store *st,
		     const char *tmp, const char *name)
{
	char digest[CNAI_DIGEST_LEN];
	uint64_t size;
	int err;

	if ((err = cnai_blob_put_file(digest, &size, st, tmp)) < 0)
		return err;
	return cnai_logger_artifact(lg, name, digest, size);
}

static int open_capture(struct cnai_buf *path, int *fd,
			const struct cnai_store *st)
{
	struct cnai_buf dir = CNAI_BUF_INIT;
	int err;

	if (cnai_buf_addf(&dir, "%s/blobs/sha256", cnai_store_oci(st)) < 0)
		return cnai_buf_oom(&dir);
	err = cnai_fs_tmpfile(path, fd, dir.buf);
	cnai_buf_release(&dir);
	return err;
}

static int print_run(struct cnai_ctx *ctx, struct cnai_store *st,
		     const char *uuid)
{
	struct cnai_run *run = NULL;
	int err;

	if (!ctx->json)
		return 0;
	if ((err = cnai_run_lookup(&run, st, uuid)) < 0)
		return err;
	err = cnai_json_print(track_run_json(st, run, 1));
	cnai_run_free(run);
	return err;
}

int track_run(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct cnai_store *st = ctx->store;
	struct run_opts o = { 0 };
	struct cnai_run *run = NULL;
	struct cnai_buf out_path = CNAI_BUF_INIT, err_path = CNAI_BUF_INIT;
	struct cnai_proc_result res;
	struct cnai_logger *lg = NULL;
	int out_fd = -1, err_fd = -1, help, err, status = 0;
	char **env = NULL, *command = NULL;
	enum cnai_run_status final;

	if ((err = parse_run_opts(&o, argc, argv, "run", ctx, &help)) < 0 ||
	    help)
		goto cleanup;
	if (optind >= argc) {
		err = cnai_error_set(CNAI_EUSAGE,
				     "no command to run; usage: %s",
				     track_usage("run")->synopsis[0]);
		goto cleanup;
	}
	if (!(command = cnai_proc_command_line(argc - optind, argv + optind))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if ((err = create_run(&run, st, &o, command)) < 0 ||
	    (err = build_env(&env, run, st)) < 0 ||
	    (err = open_capture(&out_path, &out_fd, st)) < 0 ||
	    (err = open_capture(&err_path, &err_fd, st)) < 0)
		goto end_failed;
	cnai_notice(ctx, "run %s started", run->uuid);
	err = cnai_proc_run_tee(&res, argv + optind, env, out_fd, err_fd);
	if (err < 0) {
		/* The shell's convention: 127 for a command not found. */
		status = 127;
		final = CNAI_RUN_FAILED;
		res.exited = 1;
		res.exit_code = 127;
		fprintf(stderr, "cnai: error: %s\n", cnai_error_last()->message);
		cnai_error_clear();
		err = 0;
	} else {
		status = res.exit_code;
		final = res.term_signal || res.forwarded ? CNAI_RUN_KILLED
			: res.exit_code == 0		 ? CNAI_RUN_FINISHED
						 : CNAI_RUN_FAILED;
	}
	if ((err = cnai_logger_begin(&lg, st, run->id)) < 0 ||
	    (err = store_log(lg, st, out_path.buf, "stdout.log")) < 0 ||
	    (err = store_log(lg, st, err_path.buf, "stderr.log")) < 0 ||
	    (err = cnai_logger_commit(lg)) < 0) {
		lg = NULL;
		goto end_failed;
	}
	lg = NULL;
	if ((err = cnai_run_end(st, run->id, final, 1, res.exit_code)) < 0)
		goto cleanup;
	cnai_notice(ctx, "run %s %s (exit %d)", run->uuid,
		    cnai_run_status_name(final), res.exit_code);
	if ((err = print_run(ctx, st, run->uuid)) < 0)
		goto cleanup;
	err = CNAI_CMD_EXIT(status);
	goto cleanup;
end_failed:
	if (run) {
		cnai_logger_abort(lg);
		cnai_run_end(st, run->id, CNAI_RUN_FAILED, 0, 0);
	}
cleanup:
	if (out_fd >= 0)
		close(out_fd);
	if (err_fd >= 0)
		close(err_fd);
	if (out_path.len)
		unlink(out_path.buf);
	if (err_path.len)
		unlink(err_path.buf);
	cnai_buf_release(&out_path);
	cnai_buf_release(&err_path);
	cnai_proc_env_free(env);
	free(command);
	cnai_run_free(run);
	run_opts_release(&o);
	return err;
}

int track_start(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct run_opts o = { 0 };
	struct cnai_run *run = NULL;
	int help, err;

	if ((err = parse_run_opts(&o, argc, argv, "start", ctx, &help)) < 0 ||
	    help)
		goto cleanup;
	if (optind < argc) {
		err = cnai_error_set(CNAI_EUSAGE,
				     "'track start' takes no command; use "
				     "'cnai track run -- <command>'");
		goto cleanup;
	}
	if ((err = create_run(&run, ctx->store, &o, NULL)) < 0)
		goto cleanup;
	if (ctx->json)
		err = cnai_json_print(track_run_json(ctx->store, run, 1));
	else
		printf("%s\n", run->uuid);
cleanup:
	cnai_run_free(run);
	run_opts_release(&o);
	return err;
}

int track_end(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "status", required_argument, NULL, 's' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *status = "FINISHED";
	enum cnai_run_status end = CNAI_RUN_FINISHED;
	struct cnai_run *run = NULL;
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":h", longopts,
				track_usage("end"), ctx)) != -1) {
		if (c == 's')
			status = optarg;
		else
			return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	}
	if (cnai_run_status_parse(&end, status) < 0 || end == CNAI_RUN_RUNNING)
		return cnai_error_set(CNAI_EUSAGE,
				      "--status: '%s' is not FINISHED, FAILED "
				      "or KILLED", status);
	if ((err = track_want_args(argc - optind, 0, 1, "end")) < 0 ||
	    (err = track_resolve_run(&run, ctx->store,
				     optind < argc ? argv[optind] : NULL)) < 0)
		return err;
	if ((err = cnai_run_end(ctx->store, run->id, end, 0, 0)) == 0)
		err = print_run(ctx, ctx->store, run->uuid);
	cnai_run_free(run);
	return err;
}
