/*
 * Content-addressed blobs in the store's OCI layout, oci/blobs/sha256/<hex>.
 * A blob is written to a temporary file in the same folder, hashed while it
 * is written, fsynced, then renamed to its digest: a crash never leaves a
 * partial file under a digest name.
 */
#ifndef CNAI_CORE_STORE_BLOBS_H
#define CNAI_CORE_STORE_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#include "core/store/store.h"
#include "core/util/hash.h"

/* Copies the file at `path` into the store; digest and size out. */
int cnai_blob_put_file(char digest[CNAI_DIGEST_LEN], uint64_t *size_out,
		       struct cnai_store *st, const char *path);
/*
 * Copies what remains to be read of the open file `in` into the store;
 * `name` names it in messages. `in` stays the caller's to close.
 */
int cnai_blob_put_fd(char digest[CNAI_DIGEST_LEN], uint64_t *size_out,
		     struct cnai_store *st, int in, const char *name);
/* Stores a buffer as a blob. */
int cnai_blob_put_buffer(char digest[CNAI_DIGEST_LEN], struct cnai_store *st,
			 const void *data, size_t len);
/* The path of a blob (whether or not it exists). */
int cnai_blob_path(struct cnai_buf *out, const struct cnai_store *st,
		   const char *digest);
/* 1 if the blob exists. */
int cnai_blob_exists(const struct cnai_store *st, const char *digest);
/*
 * Re-hashes a blob: 0 when it matches its name, CNAI_ECHECK (message says
 * what it hashes to) when not, CNAI_ENOTFOUND when missing.
 */
int cnai_blob_verify(const struct cnai_store *st, const char *digest);
/* Reads a whole blob into `out`, refusing blobs over `limit` (0 = none). */
int cnai_blob_read(struct cnai_buf *out, const struct cnai_store *st,
		   const char *digest, size_t limit);

/*
 * Calls fn for each file in oci/blobs/sha256 with its digest (the file
 * name, prefixed "sha256:") and its age in seconds. Files that are not
 * named by 64 hex digits (temporaries) are passed with digest NULL.
 * A negative return from fn stops the walk and is returned.
 */
typedef int (*cnai_blob_fn)(const char *digest, const char *path,
			    double age_seconds, void *payload);
int cnai_blob_foreach(const struct cnai_store *st, cnai_blob_fn fn,
		      void *payload);

#endif
