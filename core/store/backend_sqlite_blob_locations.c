/*
 * blob_locations rows in SQLite. An image's digests go to SQLite as one
 * JSON array (json_each), so each query is one statement whatever their
 * number.
 */
#include "core/store/backend_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "core/util/banned.h"

/*
 * Prepares `sql`, whose parameters are ?1 registry, ?2 repository, ?3 the
 * digests as a JSON array (and ?4 the time, for inserts). `*list` holds
 * that array's text while the statement lives; the caller frees it.
 */
static int prepare(sqlite3_stmt **out, char **list, struct cnai_store *st,
		   const char *sql, const char *registry,
		   const char *repository, const json_t *digests)
{
	int err;

	*out = NULL;
	if (!(*list = json_dumps(digests, JSON_COMPACT)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if ((err = cnai_db_prepare(out, &st->db, sql)) < 0)
		return err;
	cnai_db_bind_text(*out, 1, registry);
	cnai_db_bind_text(*out, 2, repository);
	cnai_db_bind_text(*out, 3, *list);
	return 0;
}

int cnai_sqlite_blob_locations_add(struct cnai_store *st,
				   const char *registry,
				   const char *repository,
				   const json_t *digests)
{
	sqlite3_stmt *s = NULL;
	char *list = NULL;
	int err;

	/* "WHERE true": SQLite's parser needs it between a SELECT and an
	 * upsert's ON CONFLICT. */
	if ((err = prepare(&s, &list, st,
			   "INSERT INTO blob_locations(registry, repository, "
			   "digest, seen) SELECT ?1, ?2, value, ?4 FROM "
			   "json_each(?3) WHERE true ON CONFLICT DO UPDATE "
			   "SET seen = excluded.seen",
			   registry, repository, digests)) == 0) {
		sqlite3_bind_int64(s, 4, cnai_db_now_ms());
		if (sqlite3_step(s) != SQLITE_DONE)
			err = cnai_db_error(&st->db, "recording where blobs "
					    "are");
	}
	sqlite3_finalize(s);
	free(list);
	return err;
}

int cnai_sqlite_blob_locations_best(char **out, struct cnai_store *st,
				    const char *registry, const char *except,
				    const json_t *digests)
{
	sqlite3_stmt *s = NULL;
	char *list = NULL;
	int err, rc;

	*out = NULL;
	if ((err = prepare(&s, &list, st,
			   "SELECT repository FROM blob_locations WHERE "
			   "registry = ?1 AND repository != ?2 AND digest IN "
			   "(SELECT value FROM json_each(?3)) GROUP BY "
			   "repository ORDER BY count(*) DESC, max(seen) DESC "
			   "LIMIT 1",
			   registry, except, digests)) < 0)
		goto cleanup;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW &&
	    !(*out = strdup((const char *)sqlite3_column_text(s, 0))))
		err = cnai_error_set(CNAI_ERROR, "out of memory");
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = cnai_db_error(&st->db, "looking up where blobs are");
cleanup:
	sqlite3_finalize(s);
	free(list);
	return err;
}
