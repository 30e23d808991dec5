/*
 * Where the store's blobs are known to be in registries: each blob a push
 * sent (or found there) and each blob a pull fetched, by registry and
 * repository. A push to another repository of the same registry asks it
 * to mount those blobs (distribution-spec "cross repository blob mount")
 * instead of uploading them again.
 */
#ifndef CNAI_CORE_STORE_BLOB_LOCATIONS_H
#define CNAI_CORE_STORE_BLOB_LOCATIONS_H

#include <jansson.h>

#include "core/store/store.h"

/*
 * Records that the blobs `digests` (a JSON array of "sha256:..." strings)
 * are in `registry`/`repository` ("127.0.0.1:5000", "team/model"), in one
 * transaction; a blob recorded there already has its time updated.
 */
int cnai_blob_locations_add(struct cnai_store *st, const char *registry,
			    const char *repository, const json_t *digests);

/*
 * The repository of `registry`, other than `except`, known to hold the
 * most of the blobs `digests` (a JSON array; the latest seen on a tie):
 * the one to mount from. *out is a string the caller frees, or NULL when
 * no other repository holds any.
 */
int cnai_blob_locations_best(char **out, struct cnai_store *st,
			     const char *registry, const char *except,
			     const json_t *digests);

#endif
