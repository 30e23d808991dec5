/*
 * An OCI distribution-spec client (libcurl): blobs and manifests pushed to
 * and pulled from a registry, tags listed.
 *
 * - Transport: HTTPS with the system's CAs, verified; loopback registries
 *   (localhost, 127.0.0.0/8, [::1]) and `insecure` ones over plain HTTP
 *   (an insecure registry that answers TLS is used without verification).
 * - Auth: anonymous, Basic, and Bearer tokens got from the realm a 401's
 *   WWW-Authenticate names (service and scope); credentials from the
 *   options, else docker's config.json and credential helpers (auth.h).
 * - Push: HEAD skips blobs the registry has; a cross-repository mount is
 *   tried when `mount_from` is given; blobs under `chunk_size` go in one
 *   POST + PUT, larger ones in PATCH chunks with Content-Range, streamed
 *   from the file (no copy in memory). Each blob is hashed while it is
 *   sent: a chunked one that does not match its name is refused before
 *   the closing PUT, a small one is refused by the registry and reported
 *   as corrupt by us. Blobs go up `jobs` at a time, all of them
 *   before any manifest, and manifests (children before an index) last,
 *   with their exact media type: a failed push never leaves a manifest
 *   naming a blob the registry lacks.
 * - Pull: manifests asked with an Accept list of OCI and Docker types,
 *   blobs streamed into the layout while hashed, each checked before it
 *   gets its name.
 * - Failures: network errors and 5xx are retried 3 times with backoff
 *   (uploads restart their blob); registry errors read "CODE: message"
 *   from the JSON error body; a 401 without credentials says how to log in.
 */
#ifndef CNAI_REGISTRY_DISTRIBUTION_H
#define CNAI_REGISTRY_DISTRIBUTION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/util/buf.h"
#include "registry/oci.h"
#include "registry/reference.h"

/*
 * Called as bytes of a blob move, from the worker threads (so it must be
 * thread-safe): `done` 0 when a transfer starts (again, on a retry), then
 * about every MiB, and `done` == `total` once the blob is there, including
 * when it was skipped because the registry (or the layout) had it.
 */
typedef void (*cnai_registry_progress_fn)(void *ctx, const char *digest,
					  uint64_t done, uint64_t total);

struct cnai_registry_opts {
	int insecure;           /* plain HTTP / unverified TLS for any host */
	const char *username;   /* with password: skip config.json */
	const char *password;
	int jobs;               /* blobs at once; 0 = 4 */
	uint64_t chunk_size;    /* blobs >= this go in PATCH chunks of this
				 * size; 0 = 64 MiB */
	const char *mount_from; /* push: a repository of the same registry
				 * to mount blobs from */
	const char *platform;   /* pull: "os/arch[/variant]" to keep from an
				 * index (then that manifest is tagged);
				 * NULL = every manifest of the index */
	int retries;            /* tries per request/blob; 0 = 3 */
	cnai_registry_progress_fn progress;
	void *progress_ctx;
};

#define CNAI_REGISTRY_OPTS_INIT { 0 }

/*
 * A connection to one repository of one registry. Its functions are for
 * one thread at a time; cnai_registry_push/pull run their own workers.
 */
struct cnai_registry;

/*
 * Opens a client for `ref`'s registry and repository: pings /v2/ to learn
 * the scheme and the auth challenge. `push` asks tokens for pull+push.
 * CNAI_ERROR when the registry cannot be reached (naming it).
 */
int cnai_registry_open(struct cnai_registry **out,
		       const struct cnai_reference *ref,
		       const struct cnai_registry_opts *opts, int push);

/* Closes the client. NULL-safe. */
void cnai_registry_free(struct cnai_registry *r);

/* 1 if the repository has the blob (its size in *size_out, may be NULL),
 * 0 if not. */
int cnai_registry_blob_exists(struct cnai_registry *r, const char *digest,
			      uint64_t *size_out);

/*
 * Uploads the layout's blob `d` unless the registry has it (mount tried
 * first when the options name a repository). CNAI_ECHECK when the local
 * blob does not match its digest or size.
 */
int cnai_registry_blob_push(struct cnai_registry *r, const char *dir,
			    const struct cnai_oci_desc *d);

/* Downloads blob `d` into the layout (skipped if there), checking digest
 * and size before it is named. */
int cnai_registry_blob_pull(struct cnai_registry *r, const char *dir,
			    const struct cnai_oci_desc *d);

/*
 * PUTs a manifest under `reference` (a tag or its digest) with
 * Content-Type `media_type`; `digest_out` (may be NULL) gets the digest
 * of the bytes sent.
 */
int cnai_registry_manifest_put(struct cnai_registry *r, const char *reference,
			       const char *media_type, const void *data,
			       size_t len, char digest_out[CNAI_DIGEST_LEN]);

/*
 * GETs the manifest `reference` (tag or digest) into `body`, its media
 * type, digest and size into `out`. A digest reference is checked against
 * the bytes received (CNAI_ECHECK).
 */
int cnai_registry_manifest_get(struct cnai_registry *r, const char *reference,
			       struct cnai_buf *body,
			       struct cnai_oci_desc *out);

/* The repository's tags as a JSON array of strings (follows "next"
 * links). */
int cnai_registry_tags_list(struct cnai_registry *r, json_t **out);

/*
 * The OCI referrers API: the index of manifests whose subject is `digest`.
 * CNAI_ENOTFOUND when the registry has no referrers API (404).
 */
int cnai_registry_referrers(struct cnai_registry *r, const char *digest,
			    json_t **out);

/*
 * Pushes the image `local_ref` (tag or digest) of layout `dir` to `dest`
 * ("host/repo:tag"): every blob (in parallel), then child manifests by
 * digest, then the image's manifest or index under dest's tag (or its
 * digest). `digest_out` gets the pushed manifest's digest.
 */
int cnai_registry_push(char digest_out[CNAI_DIGEST_LEN], const char *dir,
		       const char *local_ref, const char *dest,
		       const struct cnai_registry_opts *opts);

/*
 * Pulls `src` into layout `dir` (created if needed) and tags it `tag`
 * there (NULL: listed in index.json untagged): the manifest (or index,
 * with its manifests, or only the one for opts->platform) and every blob,
 * verified, blobs before the tag. `digest_out` gets the digest of what
 * was tagged.
 */
int cnai_registry_pull(char digest_out[CNAI_DIGEST_LEN], const char *src,
		       const char *dir, const char *tag,
		       const struct cnai_registry_opts *opts);

/* The tags of repository `repo` ("host/repo"). */
int cnai_registry_tags(json_t **out, const char *repo,
		       const struct cnai_registry_opts *opts);

#endif
