/*
 * The SQLite connection every store module uses: opening with the pragmas
 * that make many concurrent writers safe and a single call cheap, write
 * transactions, and turning SQLite's errors into ours.
 */
#ifndef CNAI_CORE_STORE_DB_H
#define CNAI_CORE_STORE_DB_H

#include <stdint.h>

#include <sqlite3.h>

struct cnai_db {
	sqlite3 *h;
	char *path;
};

/*
 * Opens (create != 0: creates) the database at `path` and sets WAL mode,
 * synchronous=NORMAL and a busy timeout. The schema is migrations.c's
 * (cnai_migrations_open does both). On failure *db is closed.
 */
int cnai_db_connect(struct cnai_db *db, const char *path, int create);
void cnai_db_close(struct cnai_db *db);

/* BEGIN IMMEDIATE: takes the write lock now, so a writer never deadlocks. */
int cnai_db_begin_write(struct cnai_db *db);
int cnai_db_begin_read(struct cnai_db *db);
int cnai_db_commit(struct cnai_db *db);
/* Rolls back if a transaction is open; never fails. */
void cnai_db_rollback(struct cnai_db *db);

int cnai_db_prepare(sqlite3_stmt **out, struct cnai_db *db, const char *sql);
/* Runs SQL without results (several statements allowed). */
int cnai_db_exec(struct cnai_db *db, const char *sql);
/* Sets an error naming `what` and SQLite's message; returns CNAI_ERROR. */
int cnai_db_error(struct cnai_db *db, const char *what);

/* Binds text, or NULL when s is NULL. */
int cnai_db_bind_text(sqlite3_stmt *st, int idx, const char *s);
/*
 * Duplicates a result column as a malloc'd string (NULL for SQL NULL);
 * the caller frees it.
 */
char *cnai_db_column_strdup(sqlite3_stmt *st, int col);

/* Milliseconds since the epoch, the store's time unit. */
int64_t cnai_db_now_ms(void);

#endif
