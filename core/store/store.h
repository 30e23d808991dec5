/*
 * A cnai store: the `.cnai/` folder with `cnai.db` (SQLite), `oci/` (an OCI
 * image layout whose blobs are every file cnai keeps) and `config` (git
 * config format). Found the way git finds `.git`.
 */
#ifndef CNAI_CORE_STORE_STORE_H
#define CNAI_CORE_STORE_STORE_H

#include <stdint.h>

#include "core/util/buf.h"

#define CNAI_STORE_DIRNAME ".cnai"

/*
 * An open store. Opaque: what it holds, and which backend serves it, is
 * core/store's business (store_impl.h).
 */
struct cnai_store;

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

/* The absolute path of the .cnai folder; owned by the store. */
const char *cnai_store_root(const struct cnai_store *st);
/* The store's OCI image layout (root + "/oci"); owned by the store. */
const char *cnai_store_oci(const struct cnai_store *st);

/* Milliseconds since the epoch: the store's time unit. */
int64_t cnai_store_now_ms(void);

/* root + "/" + rel into out. */
int cnai_store_path(struct cnai_buf *out, const struct cnai_store *st,
		    const char *rel);

/*
 * Transactions. A write transaction takes the write lock at once, so
 * concurrent writers queue instead of deadlocking. cnai_store_rollback
 * rolls back when a transaction is open and never fails (for cleanup
 * paths).
 */
int cnai_store_begin_write(struct cnai_store *st);
int cnai_store_commit(struct cnai_store *st);
void cnai_store_rollback(struct cnai_store *st);

/*
 * Called with each problem the database's integrity check finds (a line
 * of the backend's own wording); a negative return stops the check and is
 * returned.
 */
typedef int (*cnai_store_problem_fn)(const char *problem, void *payload);
/*
 * Runs the database's consistency check, calling fn for each problem;
 * returns 0 when the check ran (problems or not), < 0 when it could not.
 */
int cnai_store_check_integrity(struct cnai_store *st,
			       cnai_store_problem_fn fn, void *payload);
/*
 * Folds the write-ahead log back into the database and truncates it
 * (opening and closing skip this to stay cheap; `cnai gc` calls it).
 */
int cnai_store_checkpoint(struct cnai_store *st);

/*
 * Called with each recorded deployment's blob digest; a return > 0 stops
 * the walk (and is returned), < 0 stops it as an error.
 */
typedef int (*cnai_store_deployment_fn)(const char *digest, void *payload);
/*
 * Walks the deployments recorded under `name` (in any namespace), newest
 * first. Returns 0 after the last one, or what fn returned to stop.
 */
int cnai_store_deployments_foreach(struct cnai_store *st, const char *name,
				   cnai_store_deployment_fn fn,
				   void *payload);

#endif
