/*
 * Where signatures are read and written: an OCI layout or a registry.
 * Both hold an image by digest and tags naming manifests, which is all
 * cosign's ".sig"/".att" conventions and the OCI 1.1 referrers (with the
 * "sha256-<hex>" tag fallback) need, so signing and verifying are written
 * once against this small interface (see sigstore_bundle.h for cosign 3's
 * bundles).
 */
#ifndef CNAI_REGISTRY_SIGSTORE_TARGET_H
#define CNAI_REGISTRY_SIGSTORE_TARGET_H

#include <jansson.h>

#include "core/util/buf.h"
#include "registry/oci.h"

struct cnai_sigstore_target {
	char ref[600];      /* as the user wrote it */
	char repo[512];     /* identity without tag: cosign's form */
	char tag[130];      /* "" when the reference had none */
	struct cnai_oci_desc image; /* the manifest (or index) signed */
	const char *dir;    /* local layout, or NULL */
	void *remote;       /* registry client, or NULL */
};

/*
 * Clears `t` for REF (as the user wrote it): ref, and repo and tag split
 * from it. A target on a layout is then opened by the caller setting
 * t->dir (borrowed) and resolving t->image in it.
 */
void cnai_sigstore_target_init(struct cnai_sigstore_target *t, const char *ref);
/*
 * Opens REF in its registry (`insecure`: plain HTTP allowed), through a
 * scratch layout made here (t->dir); the tag is resolved to a digest
 * once, only the digest is used afterwards. Close even on error.
 */
int cnai_sigstore_target_open_remote(struct cnai_sigstore_target *t,
				     const char *ref, int insecure);
/* Closes a registry target (its client and scratch layout); a layout
 * target has nothing to close. */
void cnai_sigstore_target_close(struct cnai_sigstore_target *t);

/* The manifest tagged `tag` in the target's repository: CNAI_ENOTFOUND. */
int cnai_sigstore_target_get_tag(json_t **doc, struct cnai_oci_desc *d,
				 struct cnai_sigstore_target *t,
				 const char *tag);
/*
 * Notes an attachment that verification skips: {"entry": `entry`,
 * "reason": the last error's message} is appended to `skipped` and the
 * error cleared. 0 for a bad entry (CNAI_EINVALID, CNAI_ECHECK: not JSON,
 * over 4 MiB, not a manifest, not what its digest says): one bad entry
 * must not hide the signatures next to it. Any other `err` (a registry
 * that cannot be reached) is returned as it is.
 */
int cnai_sigstore_skip(json_t *skipped, const char *entry, int err);

/*
 * For verification: the attachment manifest under `tag` (".sig", ".att"),
 * a JSON object with a "layers" array of at most CNAI_OCI_MAX_LAYERS (the
 * caller checks each layer). *doc is NULL when there is none, and when it
 * is bad (then noted in `skipped`, see cnai_sigstore_skip()).
 */
int cnai_sigstore_target_get_attachment(json_t **doc, json_t *skipped,
					struct cnai_sigstore_target *t,
					const char *tag);

/* A manifest by digest, checked against it (4 MiB at most). */
int cnai_sigstore_target_read_manifest(struct cnai_buf *out,
				       struct cnai_sigstore_target *t,
				       const char *digest);
/* A blob, checked against its digest. */
int cnai_sigstore_target_read_blob(struct cnai_buf *out,
				   struct cnai_sigstore_target *t,
				   const char *digest, size_t limit);
int cnai_sigstore_target_put_blob(struct cnai_oci_desc *d,
				  struct cnai_sigstore_target *t,
				  const void *data, size_t len,
				  const char *media_type);
/* Stores a manifest and points `tag` at it. */
int cnai_sigstore_target_put_manifest(struct cnai_oci_desc *d,
				      struct cnai_sigstore_target *t,
				      json_t *manifest, const char *tag);

/* "sha256-<hex>.sig" (or ".att") for the target's digest. */
void cnai_sigstore_target_attachment_tag(char out[80],
					 const struct cnai_sigstore_target *t,
					 const char *suffix);

/*
 * Replaces the attachment manifest under `tag` with one holding the
 * existing layers plus `layer` (a descriptor with annotations, stolen),
 * in cosign's shape: an OCI image manifest whose config lists the layers'
 * digests as diff_ids.
 */
int cnai_sigstore_target_append_layer(struct cnai_sigstore_target *t,
				      const char *tag, json_t *layer);

/*
 * The manifests that refer to the target (OCI 1.1 `subject`), as an image
 * index: the registry's referrers API, else the "sha256-<hex>" tag index
 * (the referrers tag schema, also what the store's layout keeps). An
 * empty index when there are none.
 */
int cnai_sigstore_target_referrers(json_t **index,
				   struct cnai_sigstore_target *t);

/*
 * Stores `manifest` (which names the target as its subject) by digest and
 * makes it findable: through the registry's referrers API where there is
 * one, else by adding it to the "sha256-<hex>" tag index with its
 * artifactType and annotations lifted into the descriptor (what
 * cosign's own fallback forgets, cosign#4641).
 */
int cnai_sigstore_target_add_referrer(struct cnai_oci_desc *d,
				      struct cnai_sigstore_target *t,
				      json_t *manifest);

/*
 * Whether a signed docker-reference is the target's: its repository
 * (cosign's form), or repo:tag when REF named that tag.
 */
int cnai_sigstore_target_identity_matches(const struct cnai_sigstore_target *t,
					  const char *claimed);

/* The first key of `want` that `have` lacks or holds another value for;
 * NULL when all are there. Both objects of strings (have may be NULL). */
const char *cnai_sigstore_annotation_missing(json_t *want, json_t *have);

#endif
