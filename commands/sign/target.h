/*
 * What the `cnai sign` image commands (image.c, attest.c) share above
 * registry/sigstore_target.h and sigstore_bundle.h: opening the target a
 * reference names, the --format option, and the end of a verification.
 */
#ifndef CNAI_COMMANDS_SIGN_TARGET_H
#define CNAI_COMMANDS_SIGN_TARGET_H

#include <jansson.h>

#include "cli/ctx.h"
#include "core/util/buf.h"
#include "registry/sigstore_bundle.h"
#include "registry/sigstore_target.h"

/*
 * Opens REF: a tag or digest in the store's layout when there is a store
 * and it names something there, else a registry reference. The tag is
 * resolved to a digest once; only the digest is used afterwards. Close
 * with cnai_sigstore_target_close(), even on error.
 */
int sign_target_open(struct cnai_sigstore_target *t, struct cnai_ctx *ctx,
		     const char *ref, int insecure);

/* Which forms a signing writes: cosign 2's attachment (".sig" or
 * ".att"), cosign 3's bundle, or both. */
enum { SIGN_FORMAT_LEGACY = 1, SIGN_FORMAT_BUNDLE = 2 };

/*
 * --format: `legacy` ("sig" or "att", the attachment's name), "bundle"
 * or "both"; CNAI_EUSAGE naming the three otherwise.
 */
int sign_format_parse(unsigned *out, const char *s, const char *legacy);

/*
 * The end of a verification. When `verified` (a JSON array) is empty:
 * CNAI_ECHECK "no WHAT of REF verifies: " with `why` (each rejection's
 * reason, "; "-separated; may be empty) and each skipped entry. Else 0,
 * each skipped entry said on stderr ("cnai: skipped ENTRY: REASON").
 */
int sign_verify_finish(struct cnai_ctx *ctx, const char *what,
		       const char *ref, json_t *verified, json_t *skipped,
		       struct cnai_buf *why);

/*
 * Prints what verified: the JSON array of claims, as cosign does, with or
 * without --json, so that scripts written for cosign's output read ours.
 * Skipped entries are said on stderr by sign_verify_finish() only.
 */
int sign_verify_print(struct cnai_ctx *ctx, json_t *verified);

#endif
