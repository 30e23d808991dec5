/*
 * The store's schema, as an ordered list of forward migrations. The version
 * is PRAGMA user_version; each migration runs in the same transaction as
 * the version bump, so a store is always at exactly one version.
 */
#ifndef CNAI_CORE_STORE_MIGRATIONS_H
#define CNAI_CORE_STORE_MIGRATIONS_H

#include "core/store/db.h"

/* The version the newest migration produces. */
int cnai_migrations_latest(void);
/*
 * Brings the database up to the latest version. Refuses, with a message
 * naming both versions, a database written by a newer cnai.
 */
int cnai_migrations_run(struct cnai_db *db);

#endif
