/*
 * The top-level commands. Adding one:
 *   1. commands/<name>.c exporting cmd_<name>() only, thin: parse options,
 *      call core/, print through cli/output;
 *   2. an entry in the table in cli/main.c (alphabetical), with flags;
 *   3. man/cnai-<name>.1 whose SYNOPSIS equals the usage lines
 *      (tests/cli/t0010-help.bats compares them);
 *   4. tests/cli/tNxxx-<name>-*.bats, numbered by family (DESIGN.md);
 *   5. a line in README.md's command list.
 * A command returns 0, or a negative cnai_error_code with the error set,
 * or CNAI_CMD_EXIT(n) to ask for exit status n with nothing printed
 * (track run passing its child's status through).
 */
#ifndef CNAI_COMMANDS_COMMANDS_H
#define CNAI_COMMANDS_COMMANDS_H

#include "cli/ctx.h"

/* Positive returns are exit statuses chosen by the command. */
#define CNAI_CMD_EXIT(n) ((n) == 0 ? 0 : 1000 + (n))

int cmd_config(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_drift(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_eval(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_deploy(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_fsck(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_gc(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_init(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_lineage(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_model(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_predict(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_package(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_serve(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_sign(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_track(int argc, char **argv, struct cnai_ctx *ctx);
int cmd_train(int argc, char **argv, struct cnai_ctx *ctx);

#endif
