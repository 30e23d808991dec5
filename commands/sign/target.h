/*
 * Where signatures are read and written: the store's OCI layout or a
 * registry. Both hold an image by digest and tags naming manifests, which
 * is all cosign's ".sig"/".att" conventions need, so image.c and attest.c
 * are written once against this small interface.
 */
#ifndef CNAI_COMMANDS_SIGN_TARGET_H
#define CNAI_COMMANDS_SIGN_TARGET_H

#include <jansson.h>

#include "cli/ctx.h"
#include "core/util/buf.h"
#include "registry/oci.h"

struct sign_target {
	char ref[600];      /* as the user wrote it */
	char repo[512];     /* identity without tag: cosign's form */
	char tag[130];      /* "" when the reference had none */
	struct cnai_oci_desc image; /* the manifest (or index) signed */
	const char *dir;    /* local layout, or NULL */
	void *remote;       /* registry client, or NULL */
};

/*
 * Opens REF: a tag or digest in the store's layout when there is a store
 * and it names something there, else a registry reference. The tag is
 * resolved to a digest once; only the digest is used afterwards.
 */
int sign_target_open(struct sign_target *t, struct cnai_ctx *ctx,
		     const char *ref, int insecure);
void sign_target_close(struct sign_target *t);

/* The manifest tagged `tag` in the target's repository: CNAI_ENOTFOUND. */
int sign_target_get_tag(json_t **doc, struct cnai_oci_desc *d,
			struct sign_target *t, const char *tag);
/*
 * Notes an attachment that verification skips: {"entry": `entry`,
 * "reason": the last error's message} is appended to `skipped` and the
 * error cleared. 0 for a bad entry (CNAI_EINVALID, CNAI_ECHECK: not JSON,
 * over 4 MiB, not a manifest, not what its digest says): one bad entry
 * must not hide the signatures next to it. Any other `err` (a registry
 * that cannot be reached) is returned as it is.
 */
int sign_target_skip(json_t *skipped, const char *entry, int err);

/*
 * For verification: the attachment manifest under `tag` (".sig", ".att"),
 * a JSON object with a "layers" array of at most CNAI_OCI_MAX_LAYERS (the
 * caller checks each layer). *doc is NULL when there is none, and when it
 * is bad (then noted in `skipped`, see sign_target_skip()).
 */
int sign_target_get_attachment(json_t **doc, json_t *skipped,
			       struct sign_target *t, const char *tag);

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

/* A manifest by digest, checked against it (4 MiB at most). */
int sign_target_read_manifest(struct cnai_buf *out, struct sign_target *t,
			      const char *digest);
/* A blob, checked against its digest. */
int sign_target_read_blob(struct cnai_buf *out, struct sign_target *t,
			  const char *digest, size_t limit);
int sign_target_put_blob(struct cnai_oci_desc *d, struct sign_target *t,
			 const void *data, size_t len, const char *media_type);
/* Stores a manifest and points `tag` at it. */
int sign_target_put_manifest(struct cnai_oci_desc *d, struct sign_target *t,
			     json_t *manifest, const char *tag);

/* "sha256-<hex>.sig" (or ".att") for the target's digest. */
void sign_target_attachment_tag(char out[80], const struct sign_target *t,
				const char *suffix);

/*
 * Replaces the attachment manifest under `tag` with one holding the
 * existing layers plus `layer` (a descriptor with annotations, stolen),
 * in cosign's shape: an OCI image manifest whose config lists the layers'
 * digests as diff_ids.
 */
int sign_target_append_layer(struct sign_target *t, const char *tag,
			     json_t *layer);

/*
 * The manifests that refer to the target (OCI 1.1 `subject`), as an image
 * index: the registry's referrers API, else the "sha256-<hex>" tag index
 * (the referrers tag schema, also what the store's layout keeps). An
 * empty index when there are none.
 */
int sign_target_referrers(json_t **index, struct sign_target *t);

/*
 * Stores `manifest` (which names the target as its subject) by digest and
 * makes it findable: through the registry's referrers API where there is
 * one, else by adding it to the "sha256-<hex>" tag index with its
 * artifactType and annotations lifted into the descriptor (what
 * cosign's own fallback forgets, cosign#4641).
 */
int sign_target_add_referrer(struct cnai_oci_desc *d, struct sign_target *t,
			     json_t *manifest);

/*
 * Whether a signed docker-reference is the target's: its repository
 * (cosign's form), or repo:tag when REF named that tag.
 */
int sign_target_identity_matches(const struct sign_target *t,
				 const char *claimed);

/* The first key of `want` that `have` lacks or holds another value for;
 * NULL when all are there. Both objects of strings (have may be NULL). */
const char *sign_annotation_missing(json_t *want, json_t *have);

#endif
