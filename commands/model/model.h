/*
 * The `cnai model` sub-commands over two files: commands/model.c
 * (register, ls, alias, export, rm, and the dispatch) and show.c (show,
 * diff); what both use is here.
 */
#ifndef CNAI_COMMANDS_MODEL_MODEL_H
#define CNAI_COMMANDS_MODEL_MODEL_H

#include <jansson.h>

#include "cli/ctx.h"
#include "cli/options.h"
#include "core/store/models.h"

int model_show(int argc, char **argv, struct cnai_ctx *ctx,
	       const struct cnai_usage *u);
int model_diff(int argc, char **argv, struct cnai_ctx *ctx,
	       const struct cnai_usage *u);

/* Parses the common options (and --force where `force` is not NULL);
 * 1 when help was printed, else 0 or a negative error. */
int model_simple_opts(int argc, char **argv, const struct cnai_usage *u,
		      struct cnai_ctx *ctx, int *force);
/* Checks the number of operands: between min and max (-1: any). */
int model_want(int have, int min, int max, const struct cnai_usage *u);
/* A version as JSON: files, aliases, tags and the rest of its fields. */
json_t *model_version_json(struct cnai_store *st,
			   const struct cnai_model_version *v);

#endif
