/*
 * The store's operations table, in the shape of libgit2's
 * `git_odb_backend` (include/git2/sys/odb_backend.h): a version, then one
 * function pointer per operation. A backend is a file set that fills the
 * table (backend_sqlite.c; a PostgreSQL one later as backend_pg.c), and the
 * public store functions (store.h, runs.h, ...) call through it, so SQL
 * text, PRAGMAs and transactions exist only inside a backend.
 *
 * Every operation takes the store, returns 0 or a negative CNAI_E* code
 * with the error set (cnai_error_set), and never prints. `rollback` never
 * fails: it is what cleanup paths call.
 *
 * What goes through the table today: opening and creating the database,
 * closing it, every transaction (the modules' own included), the
 * integrity check, the checkpoint, the deployment listing, and the
 * statements of blob_locations.c, signatures.c, images.c, datasets.c,
 * lineage.c and runs.c (backend_sqlite_<module>.c: the pattern for the
 * rest; query.c, the filter compiler, is SQLite's and used only by
 * backend_sqlite_runs.c). logger.c and models.c still prepare SQLite
 * statements on st->db. Lineage and runs moved as whole operations (a
 * PostgreSQL backend writes its own walk and run lookup); the smaller
 * modules as row operations. The plan for the rest, one module per step,
 * each step keeping the unit tests (tests/unit/store-*.c) green:
 *
 * 1. Move the module's statements into backend_sqlite_<module>.c as
 *    functions of the store and plain C values (the shapes the public
 *    header already has: struct cnai_model_register_opts in, struct
 *    cnai_model_version out, enums rather than their spelling), and add
 *    one pointer per such function to this table, grouped under a
 *    comment naming the module, e.g. `int (*model_version_insert)(...)`.
 * 2. The module keeps what is not SQL (validation, blob and OCI writes,
 *    ordering of the steps, the transaction around them through
 *    cnai_store_begin_write) and calls st->backend->op.
 * 3. query.c's filter compiler emits SQL today; it becomes a parse tree
 *    (the filter grammar is the interface) and each backend compiles that
 *    tree into its own dialect.
 * 4. logger.c batches a run's params, metrics and artifacts in one write
 *    transaction and trims the WAL on commit (sqlite3_wal_hook): its
 *    statements become ops (param/tag/metric/artifact inserts, the latest
 *    metric upsert) and the WAL trim moves into the SQLite commit.
 * 5. When no module uses st->db any more, struct cnai_db moves out of
 *    store_impl.h into the backend's private state (`void *state` here)
 *    and db.h becomes backend_sqlite's internal header.
 *
 * Bump CNAI_STORE_BACKEND_VERSION whenever a pointer is added, removed or
 * changes its signature; cnai_store_open refuses a table of another
 * version, as git_odb_add_backend does.
 */
#ifndef CNAI_CORE_STORE_BACKEND_H
#define CNAI_CORE_STORE_BACKEND_H

#include <jansson.h>

#include "core/store/datasets.h"
#include "core/store/images.h"
#include "core/store/lineage.h"
#include "core/store/runs.h"
#include "core/store/signatures.h"
#include "core/store/store.h"

#define CNAI_STORE_BACKEND_VERSION 1

struct cnai_store_backend {
	unsigned int version; /* CNAI_STORE_BACKEND_VERSION */
	const char *name;     /* "sqlite" */

	/*
	 * Connects st to its database under st->root, bringing the schema up
	 * to date; create != 0 makes an empty database first.
	 */
	int (*open)(struct cnai_store *st, int create);
	/* Releases what open took; safe on a store open failed on. */
	void (*close)(struct cnai_store *st);

	/* A write transaction takes the write lock at once (no deadlock). */
	int (*begin_write)(struct cnai_store *st);
	int (*begin_read)(struct cnai_store *st);
	int (*commit)(struct cnai_store *st);
	void (*rollback)(struct cnai_store *st);

	/* The database's own consistency check; see store.h. */
	int (*check_integrity)(struct cnai_store *st,
			       cnai_store_problem_fn fn, void *payload);
	/* Folds logs back into the database and shrinks them. */
	int (*checkpoint)(struct cnai_store *st);

	/* Deployments: see cnai_store_deployments_foreach (store.h). */
	int (*deployments_foreach)(struct cnai_store *st, const char *name,
				   cnai_store_deployment_fn fn,
				   void *payload);

	/* blob_locations.c (see blob_locations.h); add runs inside the
	 * caller's write transaction. */
	int (*blob_locations_add)(struct cnai_store *st, const char *registry,
				  const char *repository,
				  const json_t *digests);
	int (*blob_locations_best)(char **out, struct cnai_store *st,
				   const char *registry, const char *except,
				   const json_t *digests);

	/* signatures.c (see signatures.h); insert is idempotent and runs
	 * inside the caller's write transaction. */
	int (*signature_insert)(struct cnai_store *st,
				const struct cnai_signature_row *row);
	int (*signature_list)(struct cnai_signature_info **out, size_t *n,
			      struct cnai_store *st, const char *target);

	/* images.c (see images.h); layer_cache_get answers from the row
	 * alone, images.c checks that its blob still exists. */
	int (*layer_cache_get)(struct cnai_store_cached_layer *out,
			       struct cnai_store *st, const char *key);
	int (*layer_cache_put)(struct cnai_store *st, const char *key,
			       const struct cnai_store_cached_layer *l);
	int (*images_of_model)(struct cnai_image_info **out, size_t *n,
			       struct cnai_store *st,
			       const char *model_digest);

	/* datasets.c (see datasets.h): the row alone, idempotent on
	 * digest, inside the caller's write transaction. */
	int (*dataset_insert)(struct cnai_store *st,
			      const struct cnai_store_dataset_row *d);

	/* lineage.c (see lineage.h); entity and edge run inside the
	 * caller's write transaction, walk reads in the caller's open
	 * transaction if there is one. */
	int (*lineage_entity)(int64_t *out, struct cnai_store *st,
			      const char *kind, const char *ref,
			      const char *name);
	int (*lineage_edge)(struct cnai_store *st, int64_t src, int64_t dst,
			    const char *relation);
	int (*lineage_resolve)(int64_t *out, struct cnai_store *st,
			       const char *ref);
	int (*lineage_walk)(struct cnai_lineage_graph **out,
			    struct cnai_store *st, int64_t start,
			    enum cnai_lineage_dir dir, int max_depth);

	/* runs.c (see runs.h). */
	int (*run_create)(struct cnai_run **out, struct cnai_store *st,
			  const struct cnai_run_spec *spec);
	int (*run_lookup)(struct cnai_run **out, struct cnai_store *st,
			  const char *ref);
	int (*run_end)(struct cnai_store *st, int64_t run,
		       enum cnai_run_status status, int has_exit,
		       int exit_code);
	int (*run_remove)(struct cnai_store *st, int64_t run);
	int (*run_params)(struct cnai_kv **out, size_t *n,
			  struct cnai_store *st, int64_t run);
	int (*run_tags)(struct cnai_kv **out, size_t *n, struct cnai_store *st,
			int64_t run);
	int (*run_latest_metrics)(struct cnai_metric_point **out, size_t *n,
				  struct cnai_store *st, int64_t run);
	int (*run_metric_history)(struct cnai_metric_point **out, size_t *n,
				  struct cnai_store *st, int64_t run,
				  const char *key);
	int (*run_artifacts)(struct cnai_artifact **out, size_t *n,
			     struct cnai_store *st, int64_t run);
	int (*run_artifact)(struct cnai_artifact *out, struct cnai_store *st,
			    const struct cnai_run *run, const char *name);
	int (*runs_query)(struct cnai_store *st, const struct cnai_run_query *q,
			  cnai_run_fn fn, void *payload);
	int (*run_inputs)(struct cnai_run_input **out, size_t *n,
			  struct cnai_store *st, const struct cnai_run *run);
};

/* The SQLite backend (backend_sqlite.c), the default. */
extern const struct cnai_store_backend cnai_store_backend_sqlite;

#endif
