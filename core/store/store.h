/*
 * A cnai store: the `.cnai/` folder with `cnai.db` (SQLite), `oci/` (an OCI
 * image layout whose blobs are every file cnai keeps) and `config` (git
 * config format). Found the way git finds `.git`.
 */
#ifndef CNAI_CORE_STORE_STORE_H
#define CNAI_CORE_STORE_STORE_H

#include "core/store/db.h"
#include "core/util/buf.h"

#define CNAI_STORE_DIRNAME ".cnai"

struct cnai_store {
	char *root; /* absolute path of the .cnai folder */
	char *oci;  /* root + "/oci" */
	struct cnai_db db;
};

/*
 * Finds the store: `explicit_path` (from --store or $CNAI_STORE; either a
 * .cnai folder or a folder holding one) if given, else the nearest `.cnai/`
 * from `cwd` upward. Writes the absolute .cnai path into `out`.
 * CNAI_ENOTFOUND when there is none (message says to run 'cnai init').
 */
int cnai_store_discover(struct cnai_buf *out, const char *explicit_path,
			const char *cwd);

/*
 * Creates `dir`/.cnai (dir: an existing folder) with the database, the OCI
 * layout and the config file. Sets *created to 0 and changes nothing when a
 * store is already there. The absolute .cnai path goes into `root_out`.
 */
int cnai_store_init(struct cnai_buf *root_out, const char *dir, int *created);

/* Opens the store at `root` (a .cnai folder); free with cnai_store_free. */
int cnai_store_open(struct cnai_store **out, const char *root);
void cnai_store_free(struct cnai_store *st);

/* root + "/" + rel into out. */
int cnai_store_path(struct cnai_buf *out, const struct cnai_store *st,
		    const char *rel);

#endif
