/*
 * Schema migrations. Append new ones to the end of `migrations`; never edit
 * one that has shipped, because stores in the field already ran it.
 *
 * Conventions: times are milliseconds since the epoch; a run is referenced
 * by its integer id inside the database and by its 32-hex uuid outside;
 * a metric value NULL means NaN (SQLite cannot store NaN; infinities it
 * stores as they are); every stored file is a blob named by its digest.
 */
#include "core/store/migrations.h"

#include <stdio.h>

#include "core/util/error.h"
#include "core/util/banned.h"

static const char *const migrations[] = {
	/* 1: experiments, runs, params, metrics, tags, artifacts, datasets,
	 *    and the lineage graph. */
	"CREATE TABLE experiments ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  experiment INTEGER NOT NULL REFERENCES experiments(id),"
	"  name TEXT,"
	"  status TEXT NOT NULL,"
	"  start_time INTEGER NOT NULL,"
	"  end_time INTEGER,"
	"  exit_code INTEGER,"
	"  command TEXT,"
	"  cwd TEXT,"
	"  host TEXT,"
	"  user TEXT,"
	"  git_commit TEXT,"
	"  git_branch TEXT,"
	"  git_dirty INTEGER,"
	"  git_remote TEXT,"
	"  parent INTEGER REFERENCES runs(id));"
	"CREATE INDEX runs_start ON runs(start_time);"
	"CREATE INDEX runs_experiment ON runs(experiment, start_time);"
	"CREATE INDEX runs_name ON runs(name);"
	"CREATE INDEX runs_parent ON runs(parent);"
	"CREATE TABLE params ("
	"  run INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (run, key)) WITHOUT ROWID;"
	"CREATE INDEX params_key_value ON params(key, value);"
	"CREATE TABLE tags ("
	"  run INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (run, key)) WITHOUT ROWID;"
	"CREATE INDEX tags_key_value ON tags(key, value);"
	"CREATE TABLE metrics ("
	"  run INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value REAL,"
	"  step INTEGER NOT NULL,"
	"  timestamp INTEGER NOT NULL);"
	"CREATE INDEX metrics_run_key ON metrics(run, key, step);"
	/* The latest point per (run, key): what filters and listings read,
	 * so they never scan a metric's history. */
	"CREATE TABLE latest_metrics ("
	"  run INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value REAL,"
	"  step INTEGER NOT NULL,"
	"  timestamp INTEGER NOT NULL,"
	"  PRIMARY KEY (run, key)) WITHOUT ROWID;"
	"CREATE INDEX latest_metrics_key_value ON latest_metrics(key, value);"
	"CREATE TABLE artifacts ("
	"  run INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (run, name)) WITHOUT ROWID;"
	"CREATE INDEX artifacts_digest ON artifacts(digest);"
	"CREATE TABLE datasets ("
	"  digest TEXT PRIMARY KEY,"
	"  path TEXT,"
	"  size INTEGER NOT NULL,"
	"  rows INTEGER,"
	"  columns INTEGER,"
	"  schema TEXT,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE entities ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  ref TEXT NOT NULL,"
	"  name TEXT,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (kind, ref));"
	"CREATE INDEX entities_ref ON entities(ref);"
	"CREATE TABLE edges ("
	"  src INTEGER NOT NULL,"
	"  dst INTEGER NOT NULL,"
	"  relation TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (src, dst, relation)) WITHOUT ROWID;"
	"CREATE INDEX edges_dst ON edges(dst, src);",
	/* 2: the model registry. A version's identity is its manifest
	 * digest; `next_version` keeps numbers from being reused after a
	 * version is removed. Runs are referenced by uuid so that removing
	 * a run leaves the version (and says its run is gone). */
	"CREATE TABLE models ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  next_version INTEGER NOT NULL DEFAULT 1,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE model_versions ("
	"  id INTEGER PRIMARY KEY,"
	"  model INTEGER NOT NULL REFERENCES models(id),"
	"  version INTEGER NOT NULL,"
	"  manifest TEXT NOT NULL,"
	"  config TEXT NOT NULL,"
	"  flavor TEXT NOT NULL,"
	"  description TEXT,"
	"  run TEXT,"
	"  created INTEGER NOT NULL,"
	"  created_by TEXT,"
	"  UNIQUE (model, version),"
	"  UNIQUE (model, manifest));"
	"CREATE INDEX model_versions_manifest ON model_versions(manifest);"
	"CREATE TABLE model_files ("
	"  version INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  media_type TEXT NOT NULL,"
	"  PRIMARY KEY (version, path)) WITHOUT ROWID;"
	"CREATE INDEX model_files_digest ON model_files(digest);"
	"CREATE TABLE model_version_tags ("
	"  version INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (version, key)) WITHOUT ROWID;"
	"CREATE TABLE aliases ("
	"  model INTEGER NOT NULL,"
	"  alias TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  PRIMARY KEY (model, alias)) WITHOUT ROWID;"
	"CREATE TABLE alias_history ("
	"  id INTEGER PRIMARY KEY,"
	"  model INTEGER NOT NULL,"
	"  alias TEXT NOT NULL,"
	"  version INTEGER,"
	"  user TEXT,"
	"  time INTEGER NOT NULL);",
	/* 3: signatures and attestations cnai made or verified, by the
	 * digest they are about (an image or a model version manifest). */
	"CREATE TABLE signatures ("
	"  id INTEGER PRIMARY KEY,"
	"  target TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  identity TEXT,"
	"  key_fingerprint TEXT NOT NULL,"
	"  payload_digest TEXT NOT NULL,"
	"  signature TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (target, kind, payload_digest, signature));"
	"CREATE INDEX signatures_target ON signatures(target);",
	/* 4: built image layers by the key of their inputs (registry/layer.h
	 * cnai_layer_key), so an unchanged layer is reused, not rebuilt. */
	"CREATE TABLE layer_cache ("
	"  key TEXT PRIMARY KEY,"
	"  digest TEXT NOT NULL,"
	"  diff_id TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  media_type TEXT NOT NULL,"
	"  created INTEGER NOT NULL);",
	/* 5: which registry repositories a blob was pushed to or pulled
	 * from, so a push to another repository of the same registry can
	 * mount it there instead of uploading it again. */
	"CREATE TABLE blob_locations ("
	"  registry TEXT NOT NULL,"
	"  repository TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  seen INTEGER NOT NULL,"
	"  PRIMARY KEY (registry, digest, repository)) WITHOUT ROWID;",
};

int cnai_migrations_latest(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

static int read_version(struct cnai_db *db, int *out)
{
	sqlite3_stmt *st;
	int err;

	if ((err = cnai_db_prepare(&st, db, "PRAGMA user_version")) < 0)
		return err;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return cnai_db_error(db, "reading the schema version");
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int check_not_newer(struct cnai_db *db, int version)
{
	if (version > cnai_migrations_latest())
		return cnai_error_set(CNAI_EINVALID,
				      "%s: store schema version %d is newer than "
				      "this cnai supports (%d); upgrade cnai",
				      db->path, version,
				      cnai_migrations_latest());
	return 0;
}

int cnai_migrations_open(struct cnai_db *db, const char *path, int create)
{
	int err;

	if ((err = cnai_db_connect(db, path, create)) < 0)
		return err;
	if ((err = cnai_migrations_run(db)) < 0)
		cnai_db_close(db);
	return err;
}

int cnai_migrations_run(struct cnai_db *db)
{
	char sql[64];
	int version, err, i;

	if ((err = read_version(db, &version)) < 0 ||
	    (err = check_not_newer(db, version)) < 0)
		return err;
	if (version == cnai_migrations_latest())
		return 0;
	/* Several processes may open a new store at once: take the write
	 * lock, then read the version again, so one of them migrates. */
	if ((err = cnai_db_begin_write(db)) < 0)
		return err;
	if ((err = read_version(db, &version)) < 0 ||
	    (err = check_not_newer(db, version)) < 0)
		goto fail;
	for (i = version; i < cnai_migrations_latest(); i++) {
		if ((err = cnai_db_exec(db, migrations[i])) < 0)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 cnai_migrations_latest());
	if ((err = cnai_db_exec(db, sql)) < 0)
		goto fail;
	return cnai_db_commit(db);
fail:
	cnai_db_rollback(db);
	return err;
}
