/*
 * What a store is inside core/store/: the paths, the backend that serves
 * it and that backend's state. Only the .c files of core/store/ include
 * this; everyone else holds an opaque `struct cnai_store *` (store.h) and
 * reaches the paths through cnai_store_root() and cnai_store_oci().
 */
#ifndef CNAI_CORE_STORE_STORE_IMPL_H
#define CNAI_CORE_STORE_STORE_IMPL_H

#include "core/store/backend.h"
#include "core/store/db.h"
#include "core/store/store.h"

struct cnai_store {
	char *root; /* absolute path of the .cnai folder */
	char *oci;  /* root + "/oci" */
	const struct cnai_store_backend *backend;
	/*
	 * The SQLite backend's connection. The modules that have not yet
	 * moved behind the operations table (backend.h) still prepare their
	 * statements on it directly.
	 */
	struct cnai_db db;
};

#endif
