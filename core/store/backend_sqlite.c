/*
 * The SQLite backend: the operations table (backend.h) over one SQLite
 * database, `cnai.db` in the store's folder. The connection's set-up and
 * the statement helpers are db.c's; the schema is migrations.c's. This
 * file holds the statements of the operations that have moved behind the
 * table so far (backend.h lists the rest and how they follow).
 */
#include "core/store/backend_sqlite.h"

#include "core/store/migrations.h"

#include <stdlib.h>
#include <string.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/banned.h"

static int sqlite_open(struct cnai_store *st, int create)
{
	struct cnai_buf path = CNAI_BUF_INIT;
	int err;

	if (cnai_buf_addf(&path, "%s/cnai.db", st->root) < 0)
		return cnai_buf_oom(&path);
	err = cnai_migrations_open(&st->db, path.buf, create);
	cnai_buf_release(&path);
	return err;
}

static void sqlite_close(struct cnai_store *st)
{
	cnai_db_close(&st->db);
}

static int sqlite_begin_write(struct cnai_store *st)
{
	return cnai_db_begin_write(&st->db);
}

static int sqlite_begin_read(struct cnai_store *st)
{
	return cnai_db_begin_read(&st->db);
}

static int sqlite_commit(struct cnai_store *st)
{
	return cnai_db_commit(&st->db);
}

static void sqlite_rollback(struct cnai_store *st)
{
	cnai_db_rollback(&st->db);
}

/* PRAGMA integrity_check answers one row "ok", or one row per problem. */
static int sqlite_check_integrity(struct cnai_store *st,
				  cnai_store_problem_fn fn, void *payload)
{
	sqlite3_stmt *s = NULL;
	const char *row;
	int err, rc;

	if ((err = cnai_db_prepare(&s, &st->db, "PRAGMA integrity_check")) < 0)
		return err;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = (const char *)sqlite3_column_text(s, 0);
		if (row && strcmp(row, "ok") && (err = fn(row, payload)) < 0)
			break;
	}
	if (err == 0 && rc != SQLITE_DONE)
		err = cnai_db_error(&st->db, "integrity check");
	sqlite3_finalize(s);
	return err;
}

/*
 * TRUNCATE rather than PASSIVE: it waits for readers and leaves a zero
 * length WAL, which is the point of calling it from gc.
 */
static int sqlite_checkpoint(struct cnai_store *st)
{
	return cnai_db_exec(&st->db, "PRAGMA wal_checkpoint(TRUNCATE)");
}

/*
 * Deployment entities are named "<namespace>/<name>" (commands/deploy.c),
 * so a name in any namespace is the LIKE pattern "%/<name>".
 */
static int sqlite_deployments_foreach(struct cnai_store *st,
				      const char *name,
				      cnai_store_deployment_fn fn,
				      void *payload)
{
	struct cnai_buf like = CNAI_BUF_INIT;
	sqlite3_stmt *s = NULL;
	int err, rc;

	if (cnai_buf_addf(&like, "%%/%s", name) < 0)
		return cnai_buf_oom(&like);
	if ((err = cnai_db_prepare(&s, &st->db,
				   "SELECT ref FROM entities WHERE kind = "
				   "'deployment' AND name LIKE ? ORDER BY id "
				   "DESC")) < 0 ||
	    (err = cnai_db_bind_text(s, 1, like.buf)) < 0)
		goto cleanup;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *ref = (const char *)sqlite3_column_text(s, 0);

		if (ref && (err = fn(ref, payload)) != 0)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = cnai_db_error(&st->db, "listing deployments");
cleanup:
	sqlite3_finalize(s);
	cnai_buf_release(&like);
	return err;
}

const struct cnai_store_backend cnai_store_backend_sqlite = {
	.version = CNAI_STORE_BACKEND_VERSION,
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.begin_write = sqlite_begin_write,
	.begin_read = sqlite_begin_read,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.check_integrity = sqlite_check_integrity,
	.checkpoint = sqlite_checkpoint,
	.deployments_foreach = sqlite_deployments_foreach,
	.blob_locations_add = cnai_sqlite_blob_locations_add,
	.blob_locations_best = cnai_sqlite_blob_locations_best,
	.signature_insert = cnai_sqlite_signature_insert,
	.signature_list = cnai_sqlite_signature_list,
	.layer_cache_get = cnai_sqlite_layer_cache_get,
	.layer_cache_put = cnai_sqlite_layer_cache_put,
	.images_of_model = cnai_sqlite_images_of_model,
	.dataset_insert = cnai_sqlite_dataset_insert,
	.lineage_entity = cnai_sqlite_lineage_entity,
	.lineage_edge = cnai_sqlite_lineage_edge,
	.lineage_resolve = cnai_sqlite_lineage_resolve,
	.lineage_walk = cnai_sqlite_lineage_walk,
	.run_create = cnai_sqlite_run_create,
	.run_lookup = cnai_sqlite_run_lookup,
	.run_end = cnai_sqlite_run_end,
	.run_remove = cnai_sqlite_run_remove,
	.run_params = cnai_sqlite_run_params,
	.run_tags = cnai_sqlite_run_tags,
	.run_latest_metrics = cnai_sqlite_run_latest_metrics,
	.run_metric_history = cnai_sqlite_run_metric_history,
	.run_artifacts = cnai_sqlite_run_artifacts,
	.run_artifact = cnai_sqlite_run_artifact,
	.runs_query = cnai_sqlite_runs_query,
	.run_inputs = cnai_sqlite_run_inputs,
};
