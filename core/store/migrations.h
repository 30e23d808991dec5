/*
 * The store's schema, as an ordered list of forward migrations. The version
 * is PRAGMA user_version; each migration runs in the same transaction as
 * the version bump, so a store is always at exactly one version.
 */
#ifndef CNAI_CORE_STORE_MIGRATIONS_H
#define CNAI_CORE_STORE_MIGRATIONS_H

#include "core/store/db.h"

/*
 * cnai_db_connect, then cnai_migrations_run: the database at `path`,
 * ready for this binary. A schema newer than this binary is refused with
 * CNAI_EINVALID. On failure *db is closed.
 */
int cnai_migrations_open(struct cnai_db *db, const char *path, int create);
/* The version the newest migration produces (PRAGMA user_version). */
int cnai_migrations_latest(void);
/*
 * Brings the database up to the latest version. Refuses, with a message
 * naming both versions, a database written by a newer cnai.
 */
int cnai_migrations_run(struct cnai_db *db);

#endif
