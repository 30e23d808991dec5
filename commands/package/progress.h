/*
 * Per-blob progress lines for push and pull on a terminal: one line per
 * blob in flight on stderr, "sha256:0123456789ab  12.3 MiB / 64.0 MiB
 * 45.6 MiB/s", redrawn in place at most ten times a second; a finished
 * blob's line is written once more, final, above those still moving.
 */
#ifndef CNAI_COMMANDS_PACKAGE_PROGRESS_H
#define CNAI_COMMANDS_PACKAGE_PROGRESS_H

#include <stdint.h>

#include "cli/ctx.h"

struct package_progress;

/*
 * A display for `ctx`, or NULL when there is to be none: stderr is not a
 * terminal, or -q or --json was given (or there is no memory for one: a
 * display is never worth failing a transfer for).
 */
struct package_progress *package_progress_new(const struct cnai_ctx *ctx);

/*
 * The registry's progress callback (cnai_registry_progress_fn), with the
 * display as `p`; called from its worker threads. NULL `p` is a no-op.
 */
void package_progress_update(void *p, const char *digest, uint64_t done,
			     uint64_t total);

/* Draws the last state and frees the display (NULL-safe). */
void package_progress_free(struct package_progress *p);

#endif
