/*
 * `cnai deploy` split over files by job: options.c (the usage, the option
 * table and its parser, shared by every sub-command), train_job.c
 * (deploy train-job); commands/deploy.c deploys a model, ends a canary,
 * records and applies what it emits, and dispatches.
 */
#ifndef CNAI_COMMANDS_DEPLOY_DEPLOY_H
#define CNAI_COMMANDS_DEPLOY_DEPLOY_H

#include <stddef.h>
#include <stdint.h>

#include "cli/ctx.h"
#include "core/deploy/manifest.h"

struct deploy_opts {
	struct cnai_deploy_spec spec;
	const char *ref, *out_dir, *context, *image_override, *stable,
		*policy_key_file;
	const char **env, **labels, **annotations, **nodesel;
	size_t nenv, nlabels, nannotations, nnodesel;
	int apply, dry_run;
};

/* The options of train-job alone. */
struct extra {
	const char **sweep;
	size_t nsweep;
	int64_t parallelism;
	const char *schedule, *kind;
};

/* The synopsis lines: deploy, promote, rollback, train-job. */
extern const char *const deploy_synopsis[];

/*
 * Parses the options into `o` and `x` (the spec gets its defaults) and
 * checks that one operand is left, argv[optind]; a usage error shows
 * deploy_synopsis[sub]. 1 when help was printed, else 0 or a negative
 * error; deploy_free_opts releases what it allocated, either way.
 */
int deploy_parse(struct deploy_opts *o, struct extra *x, int argc,
		 char **argv, struct cnai_ctx *ctx, int sub);
void deploy_free_opts(struct deploy_opts *o, struct extra *x);
/* Checks a name that comes from elsewhere than --name (a model's, an
 * argument) as a DNS-1035 label. */
int deploy_check_name(const char *what, const char *s);
/*
 * Emits the documents: records them, then writes them to -o, applies them
 * or prints them, as the options say. `name` and `ns` label the record,
 * `image_digest` (or NULL) gets an edge to it.
 */
int deploy_emit(struct cnai_ctx *ctx, struct cnai_yaml **docs, size_t n,
		const struct deploy_opts *o, const char *name, const char *ns,
		const char *image_digest);

int deploy_train_job(int argc, char **argv, struct cnai_ctx *ctx);

#endif
