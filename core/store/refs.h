/*
 * Every digest the store refers to: digests held in the database (run
 * artifacts, and whatever later tables add to the list in refs.c) and the
 * blobs reachable from the OCI layout's index.json (manifests, configs,
 * layers). fsck checks that each exists; gc keeps exactly these.
 */
#ifndef CNAI_CORE_STORE_REFS_H
#define CNAI_CORE_STORE_REFS_H

#include "core/store/store.h"

/* where: "artifact of run 3f2a...", "oci index", for messages. */
typedef int (*cnai_ref_fn)(const char *digest, const char *where,
			   void *payload);
/*
 * Calls fn for each referenced digest (possibly more than once). A
 * manifest that is referenced but missing or unreadable is passed to fn and
 * not followed.
 */
int cnai_refs_foreach(struct cnai_store *st, cnai_ref_fn fn, void *payload);

#endif
