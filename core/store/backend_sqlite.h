/*
 * The SQLite backend's files among themselves: each backend_sqlite_*.c
 * holds one store module's statements, and backend_sqlite.c puts their
 * functions into the operations table. Nothing outside those files
 * includes this.
 */
#ifndef CNAI_CORE_STORE_BACKEND_SQLITE_H
#define CNAI_CORE_STORE_BACKEND_SQLITE_H

#include <jansson.h>

#include "core/store/datasets.h"
#include "core/store/images.h"
#include "core/store/lineage.h"
#include "core/store/runs.h"
#include "core/store/signatures.h"
#include "core/store/store_impl.h"

/* backend_sqlite_blob_locations.c: see blob_locations.h. */
int cnai_sqlite_blob_locations_add(struct cnai_store *st,
				   const char *registry,
				   const char *repository,
				   const json_t *digests);
int cnai_sqlite_blob_locations_best(char **out, struct cnai_store *st,
				    const char *registry, const char *except,
				    const json_t *digests);

/* backend_sqlite_signatures.c: see signatures.h. */
int cnai_sqlite_signature_insert(struct cnai_store *st,
				 const struct cnai_signature_row *r);
int cnai_sqlite_signature_list(struct cnai_signature_info **out, size_t *n,
			       struct cnai_store *st, const char *target);

/* backend_sqlite_images.c: see images.h; get answers from the row alone
 * (CNAI_ENOTFOUND without an error set when there is none). */
int cnai_sqlite_layer_cache_get(struct cnai_store_cached_layer *out,
				struct cnai_store *st, const char *key);
int cnai_sqlite_layer_cache_put(struct cnai_store *st, const char *key,
				const struct cnai_store_cached_layer *l);
int cnai_sqlite_images_of_model(struct cnai_image_info **out, size_t *n,
				struct cnai_store *st,
				const char *model_digest);

/* backend_sqlite_datasets.c: the row of cnai_store_dataset_record,
 * idempotent on digest. */
int cnai_sqlite_dataset_insert(struct cnai_store *st,
			       const struct cnai_store_dataset_row *d);

/* backend_sqlite_lineage.c: see lineage.h. */
int cnai_sqlite_lineage_entity(int64_t *out, struct cnai_store *st,
			       const char *kind, const char *ref,
			       const char *name);
int cnai_sqlite_lineage_edge(struct cnai_store *st, int64_t src, int64_t dst,
			     const char *relation);
int cnai_sqlite_lineage_resolve(int64_t *out, struct cnai_store *st,
				const char *ref);
int cnai_sqlite_lineage_walk(struct cnai_lineage_graph **out,
			     struct cnai_store *st, int64_t start,
			     enum cnai_lineage_dir dir, int max_depth);

/* backend_sqlite_runs.c: see runs.h. */
int cnai_sqlite_run_create(struct cnai_run **out, struct cnai_store *st,
			   const struct cnai_run_spec *spec);
int cnai_sqlite_run_lookup(struct cnai_run **out, struct cnai_store *st,
			   const char *ref);
int cnai_sqlite_run_end(struct cnai_store *st, int64_t run,
			enum cnai_run_status status, int has_exit,
			int exit_code);
int cnai_sqlite_run_remove(struct cnai_store *st, int64_t run);
int cnai_sqlite_run_params(struct cnai_kv **out, size_t *n,
			   struct cnai_store *st, int64_t run);
int cnai_sqlite_run_tags(struct cnai_kv **out, size_t *n, struct cnai_store *st,
			 int64_t run);
int cnai_sqlite_run_latest_metrics(struct cnai_metric_point **out, size_t *n,
				   struct cnai_store *st, int64_t run);
int cnai_sqlite_run_metric_history(struct cnai_metric_point **out, size_t *n,
				   struct cnai_store *st, int64_t run,
				   const char *key);
int cnai_sqlite_run_artifacts(struct cnai_artifact **out, size_t *n,
			      struct cnai_store *st, int64_t run);
int cnai_sqlite_run_artifact(struct cnai_artifact *out, struct cnai_store *st,
			     const struct cnai_run *run, const char *name);
int cnai_sqlite_runs_query(struct cnai_store *st,
			   const struct cnai_run_query *q, cnai_run_fn fn,
			   void *payload);
int cnai_sqlite_run_inputs(struct cnai_run_input **out, size_t *n,
			   struct cnai_store *st, const struct cnai_run *run);

#endif
