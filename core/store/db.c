/*
 * SQLite connection set-up. The pragmas here are what make the store both
 * safe for many writers and cheap for one short call (DESIGN.md, "Measured
 * on this machine"):
 *
 * - WAL with synchronous=NORMAL: a commit appends to the WAL without an
 *   fsync; a power loss can lose the last commits but never corrupts.
 * - SQLITE_FCNTL_PERSIST_WAL + SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE: closing
 *   the last connection does not checkpoint and fsync (13-23 ms per call
 *   otherwise); auto-checkpoint and `cnai gc` fold the WAL back.
 * - busy_timeout and BEGIN IMMEDIATE: writers queue instead of failing
 *   with "database is locked".
 */
#include "core/store/db.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util/error.h"
#include "core/util/banned.h"

enum { BUSY_TIMEOUT_MS = 60000 };

int cnai_db_error(struct cnai_db *db, const char *what)
{
	return cnai_error_set(CNAI_ERROR, "%s: %s: %s", db->path, what,
			      db->h ? sqlite3_errmsg(db->h) : "not open");
}

int cnai_db_exec(struct cnai_db *db, const char *sql)
{
	char *msg = NULL;
	int err;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	err = cnai_error_set(CNAI_ERROR, "%s: %s", db->path,
			     msg ? msg : sqlite3_errmsg(db->h));
	sqlite3_free(msg);
	return err;
}

int cnai_db_prepare(sqlite3_stmt **out, struct cnai_db *db, const char *sql)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, out, NULL) != SQLITE_OK) {
		*out = NULL;
		return cnai_db_error(db, "preparing a statement");
	}
	return 0;
}

int cnai_db_connect(struct cnai_db *db, const char *path, int create)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int persist = 1, err;

	db->h = NULL;
	if (!(db->path = strdup(path)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		err = cnai_db_error(db, "cannot open the database");
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	sqlite3_file_control(db->h, "main", SQLITE_FCNTL_PERSIST_WAL,
			     &persist);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* journal_mode=WAL is persistent; it is set on every open anyway
	 * because it is a no-op once set and repairs a store copied from a
	 * tool that switched it off. */
	if ((err = cnai_db_exec(db, "PRAGMA journal_mode = WAL;"
				    "PRAGMA synchronous = NORMAL;"
				    "PRAGMA foreign_keys = OFF;")) < 0)
		goto fail;
	return 0;
fail:
	cnai_db_close(db);
	return err;
}

void cnai_db_close(struct cnai_db *db)
{
	if (db->h)
		sqlite3_close_v2(db->h);
	db->h = NULL;
	free(db->path);
	db->path = NULL;
}

int cnai_db_begin_write(struct cnai_db *db)
{
	return cnai_db_exec(db, "BEGIN IMMEDIATE");
}

int cnai_db_begin_read(struct cnai_db *db)
{
	return cnai_db_exec(db, "BEGIN");
}

int cnai_db_commit(struct cnai_db *db)
{
	return cnai_db_exec(db, "COMMIT");
}

void cnai_db_rollback(struct cnai_db *db)
{
	if (db->h && !sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int cnai_db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	int rc = s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT)
		   : sqlite3_bind_null(st, idx);

	return rc == SQLITE_OK ? 0
			       : cnai_error_set(CNAI_ERROR, "sqlite: bind %d",
						idx);
}

char *cnai_db_column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s ? strdup((const char *)s) : NULL;
}

int64_t cnai_db_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
