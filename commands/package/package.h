/*
 * The `cnai package` sub-commands: build.c (building images of a model),
 * show.c (ls, inspect, export), remote.c (push, pull); their usage texts
 * are in usage.h.
 */
#ifndef CNAI_COMMANDS_PACKAGE_PACKAGE_H
#define CNAI_COMMANDS_PACKAGE_PACKAGE_H

#include "cli/ctx.h"

int package_build(int argc, char **argv, struct cnai_ctx *ctx);
int package_ls(int argc, char **argv, struct cnai_ctx *ctx);
int package_inspect(int argc, char **argv, struct cnai_ctx *ctx);
int package_export(int argc, char **argv, struct cnai_ctx *ctx);
int package_push(int argc, char **argv, struct cnai_ctx *ctx);
int package_pull(int argc, char **argv, struct cnai_ctx *ctx);

/*
 * Pushes the image tagged/digested `ref` in the store to `dest`
 * (registry/repo[:tag]), with its .sig/.att attachments; prints the
 * pushed digest. Used by `push` and `build --push`.
 */
int package_push_image(struct cnai_ctx *ctx, const char *ref,
		       const char *dest, int jobs, int insecure,
		       const char *username, const char *password);

/*
 * Records in the store that the blobs of image `digest` (in the store)
 * are in the repository of `where` (registry/repo[:tag]), for later
 * pushes to mount from.
 */
int package_record_blobs(struct cnai_ctx *ctx, const char *digest,
			 const char *where);

#endif
