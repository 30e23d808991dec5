/*
 * The `cnai track` sub-commands, one function each, split over files by
 * job: run.c (run, start, end), log.c (log), list.c (ls), compare.c
 * (compare), show.c (show, metrics, artifacts, cat, rm). commands/track.c
 * dispatches.
 */
#ifndef CNAI_COMMANDS_TRACK_TRACK_H
#define CNAI_COMMANDS_TRACK_TRACK_H

#include <jansson.h>

#include "cli/ctx.h"
#include "cli/options.h"
#include "core/store/runs.h"

int track_run(int argc, char **argv, struct cnai_ctx *ctx);
int track_start(int argc, char **argv, struct cnai_ctx *ctx);
int track_end(int argc, char **argv, struct cnai_ctx *ctx);
int track_log(int argc, char **argv, struct cnai_ctx *ctx);
int track_ls(int argc, char **argv, struct cnai_ctx *ctx);
int track_show(int argc, char **argv, struct cnai_ctx *ctx);
int track_compare(int argc, char **argv, struct cnai_ctx *ctx);
int track_metrics(int argc, char **argv, struct cnai_ctx *ctx);
int track_artifacts(int argc, char **argv, struct cnai_ctx *ctx);
int track_cat(int argc, char **argv, struct cnai_ctx *ctx);
int track_rm(int argc, char **argv, struct cnai_ctx *ctx);

/* Usage of one sub-command (its synopsis line is also in `cnai track`'s). */
const struct cnai_usage *track_usage(const char *sub);

/*
 * The run named by `ref`, else by $CNAI_RUN_ID; a usage error saying so
 * when neither is given.
 */
int track_resolve_run(struct cnai_run **out, struct cnai_store *st,
		      const char *ref);
/* The JSON form of a run with its params, latest metrics and tags
 * (details != 0) or without. */
json_t *track_run_json(struct cnai_store *st, const struct cnai_run *run,
		       int details);
/* Parses the options of the reading sub-commands: the common ones, and
 * --plot where `plot` is not NULL. Returns 1 when help was printed. */
int track_common_opts(int argc, char **argv, const char *sub,
		      struct cnai_ctx *ctx, int *plot);
/* Checks the arguments left after options: between min and max (-1: any). */
int track_want_args(int argc, int min, int max, const char *sub);

#endif
