/*
 * The write path for params, metrics, tags and artifacts. One logger is one
 * BEGIN IMMEDIATE transaction with its statements prepared once; metric
 * points go straight to the history table while the newest point per key
 * is kept in a small hash table and merged into latest_metrics at commit.
 */
#include "core/store/logger.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/store/lineage.h"
#include "core/store/store_impl.h"
#include "core/util/banned.h"

struct latest {
	char *key; /* NULL: empty slot */
	double value;
	int64_t step, timestamp;
};

struct cnai_logger {
	struct cnai_store *st;
	int64_t run;
	sqlite3_stmt *param_ins, *param_get, *tag, *metric, *artifact;
	struct latest *latest;
	size_t nlatest, alloc; /* open addressing, alloc a power of two */
};

int cnai_key_validate(const char *kind, const char *key)
{
	size_t len = strlen(key), i;

	if (len == 0)
		return cnai_error_set(CNAI_EINVALID, "%s name is empty", kind);
	if (len > CNAI_KEY_MAX)
		return cnai_error_set(CNAI_EINVALID,
				      "%s name '%.40s...' is longer than %d "
				      "characters", kind, key, CNAI_KEY_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		/* MLflow's set, so names move between the two unchanged. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.' || c == ' ' || c == '/' || c == ':'))
			return cnai_error_set(CNAI_EINVALID,
					      "%s name '%s': character '%c' is "
					      "not allowed (use letters, digits, "
					      "'_', '-', '.', ' ', '/', ':')",
					      kind, key, c >= 32 && c < 127 ? c
									 : '?');
	}
	return 0;
}

static int check_value(const char *kind, const char *key, const char *value)
{
	if (strlen(value) > CNAI_VALUE_MAX)
		return cnai_error_set(CNAI_EINVALID,
				      "%s '%s': value longer than %d bytes",
				      kind, key, CNAI_VALUE_MAX);
	return 0;
}

static void free_latest(struct cnai_logger *lg)
{
	size_t i;

	for (i = 0; i < lg->alloc; i++)
		free(lg->latest[i].key);
	free(lg->latest);
	lg->latest = NULL;
	lg->alloc = lg->nlatest = 0;
}

static void logger_free(struct cnai_logger *lg)
{
	sqlite3_finalize(lg->param_ins);
	sqlite3_finalize(lg->param_get);
	sqlite3_finalize(lg->tag);
	sqlite3_finalize(lg->metric);
	sqlite3_finalize(lg->artifact);
	free_latest(lg);
	free(lg);
}

void cnai_logger_abort(struct cnai_logger *lg)
{
	if (!lg)
		return;
	cnai_store_rollback(lg->st);
	logger_free(lg);
}

int cnai_logger_begin(struct cnai_logger **out, struct cnai_store *st,
		      int64_t run)
{
	struct cnai_logger *lg = calloc(1, sizeof(*lg));
	int err;

	*out = NULL;
	if (!lg)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	lg->st = st;
	lg->run = run;
	if ((err = cnai_store_begin_write(st)) < 0) {
		logger_free(lg);
		return err;
	}
	*out = lg;
	return 0;
}

/*
 * Statements are prepared on first use, not at begin: a call that logs
 * one metric should not pay for compiling the other four.
 */
static const char *const sql_param_ins =
	"INSERT INTO params(run, key, value) VALUES (?, ?, ?) ON CONFLICT DO "
	"NOTHING";
static const char *const sql_param_get =
	"SELECT value FROM params WHERE run = ? AND key = ?";
static const char *const sql_tag =
	"INSERT INTO tags(run, key, value) VALUES (?, ?, ?) ON CONFLICT DO "
	"UPDATE SET value = excluded.value";
static const char *const sql_metric =
	"INSERT INTO metrics(run, key, value, step, timestamp) VALUES (?, ?, "
	"?, ?, ?)";
static const char *const sql_artifact =
	"INSERT INTO artifacts(run, name, digest, size, created) VALUES (?, ?, "
	"?, ?, ?) ON CONFLICT DO UPDATE SET digest = excluded.digest, size = "
	"excluded.size, created = excluded.created";

static int prepared(struct cnai_logger *lg, sqlite3_stmt **st,
		    const char *sql)
{
	return *st ? 0 : cnai_db_prepare(st, &lg->st->db, sql);
}

static int step_done(struct cnai_logger *lg, sqlite3_stmt *st,
		     const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return cnai_db_error(&lg->st->db, what);
	return 0;
}

int cnai_logger_param(struct cnai_logger *lg, const char *key,
		      const char *value)
{
	const unsigned char *old;
	int err;

	if ((err = cnai_key_validate("param", key)) < 0 ||
	    (err = check_value("param", key, value)) < 0 ||
	    (err = prepared(lg, &lg->param_ins, sql_param_ins)) < 0)
		return err;
	sqlite3_bind_int64(lg->param_ins, 1, lg->run);
	cnai_db_bind_text(lg->param_ins, 2, key);
	cnai_db_bind_text(lg->param_ins, 3, value);
	if ((err = step_done(lg, lg->param_ins, "logging a param")) < 0)
		return err;
	if (sqlite3_changes(lg->st->db.h) > 0)
		return 0;
	/* Already set: the same value is fine, another one is not. */
	if ((err = prepared(lg, &lg->param_get, sql_param_get)) < 0)
		return err;
	sqlite3_bind_int64(lg->param_get, 1, lg->run);
	cnai_db_bind_text(lg->param_get, 2, key);
	if (sqlite3_step(lg->param_get) == SQLITE_ROW &&
	    (old = sqlite3_column_text(lg->param_get, 0)) &&
	    strcmp((const char *)old, value) != 0)
		err = cnai_error_set(CNAI_EINVALID,
				     "param '%s' is already '%s' for this run; "
				     "params cannot change (new value '%s')",
				     key, (const char *)old, value);
	sqlite3_reset(lg->param_get);
	return err;
}

int cnai_logger_tag(struct cnai_logger *lg, const char *key,
		    const char *value)
{
	int err;

	if ((err = cnai_key_validate("tag", key)) < 0 ||
	    (err = check_value("tag", key, value)) < 0 ||
	    (err = prepared(lg, &lg->tag, sql_tag)) < 0)
		return err;
	sqlite3_bind_int64(lg->tag, 1, lg->run);
	cnai_db_bind_text(lg->tag, 2, key);
	cnai_db_bind_text(lg->tag, 3, value);
	return step_done(lg, lg->tag, "logging a tag");
}

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct latest *latest_slot(struct latest *tab, size_t alloc,
				  const char *key)
{
	size_t i = hash_key(key) & (alloc - 1);

	while (tab[i].key && strcmp(tab[i].key, key))
		i = (i + 1) & (alloc - 1);
	return &tab[i];
}

static int latest_grow(struct cnai_logger *lg)
{
	size_t alloc = lg->alloc ? lg->alloc * 2 : 64, i;
	struct latest *tab = calloc(alloc, sizeof(*tab));

	if (!tab)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < lg->alloc; i++)
		if (lg->latest[i].key)
			*latest_slot(tab, alloc, lg->latest[i].key) =
				lg->latest[i];
	free(lg->latest);
	lg->latest = tab;
	lg->alloc = alloc;
	return 0;
}

/* MLflow's rule: the latest point is the one with the highest step, and
 * among equal steps the most recent timestamp. */
static int is_newer(int64_t step, int64_t ts, const struct latest *old)
{
	return step > old->step || (step == old->step && ts >= old->timestamp);
}

int cnai_logger_metric(struct cnai_logger *lg, const char *key, double value,
		       int64_t step, int64_t timestamp_ms)
{
	struct latest *slot;
	int err;

	if ((err = cnai_key_validate("metric", key)) < 0 ||
	    (err = prepared(lg, &lg->metric, sql_metric)) < 0)
		return err;
	sqlite3_bind_int64(lg->metric, 1, lg->run);
	sqlite3_bind_text(lg->metric, 2, key, -1, SQLITE_STATIC);
	/* SQLite turns NaN into NULL anyway; bind NULL on purpose. */
	if (isnan(value))
		sqlite3_bind_null(lg->metric, 3);
	else
		sqlite3_bind_double(lg->metric, 3, value);
	sqlite3_bind_int64(lg->metric, 4, step);
	sqlite3_bind_int64(lg->metric, 5, timestamp_ms);
	if ((err = step_done(lg, lg->metric, "logging a metric")) < 0)
		return err;
	if (2 * (lg->nlatest + 1) > lg->alloc && (err = latest_grow(lg)) < 0)
		return err;
	slot = latest_slot(lg->latest, lg->alloc, key);
	if (!slot->key) {
		if (!(slot->key = strdup(key)))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		lg->nlatest++;
	} else if (!is_newer(step, timestamp_ms, slot)) {
		return 0;
	}
	slot->value = value;
	slot->step = step;
	slot->timestamp = timestamp_ms;
	return 0;
}

/* The edge run -> artifact ("logged"), so `cnai lineage DIGEST` finds the
 * runs that logged a file; every artifact, logs included, gets one. */
static int artifact_lineage(struct cnai_logger *lg, const char *name,
			    const char *digest)
{
	struct cnai_db *db = &lg->st->db;
	sqlite3_stmt *st = NULL;
	int64_t run_e = 0, art_e;
	int err;

	if ((err = cnai_db_prepare(&st, db, "SELECT uuid, name FROM runs "
					    "WHERE id = ?")) < 0)
		return err;
	sqlite3_bind_int64(st, 1, lg->run);
	if (sqlite3_step(st) == SQLITE_ROW)
		err = cnai_lineage_entity(&run_e, lg->st, CNAI_ENTITY_RUN,
					  (const char *)sqlite3_column_text(st, 0),
					  (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if (err < 0 || !run_e ||
	    (err = cnai_lineage_entity(&art_e, lg->st, CNAI_ENTITY_ARTIFACT,
				       digest, name)) < 0)
		return err;
	return cnai_lineage_edge(lg->st, run_e, art_e, "logged");
}

int cnai_logger_artifact(struct cnai_logger *lg, const char *name,
			 const char *digest, uint64_t size)
{
	int err;

	if (!*name || strlen(name) > 1024)
		return cnai_error_set(CNAI_EINVALID,
				      "artifact name must be 1 to 1024 "
				      "characters");
	if ((err = prepared(lg, &lg->artifact, sql_artifact)) < 0)
		return err;
	sqlite3_bind_int64(lg->artifact, 1, lg->run);
	cnai_db_bind_text(lg->artifact, 2, name);
	cnai_db_bind_text(lg->artifact, 3, digest);
	sqlite3_bind_int64(lg->artifact, 4, (int64_t)size);
	sqlite3_bind_int64(lg->artifact, 5, cnai_db_now_ms());
	if ((err = step_done(lg, lg->artifact, "logging an artifact")) < 0)
		return err;
	return artifact_lineage(lg, name, digest);
}

static int flush_latest(struct cnai_logger *lg)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int err;

	if (!lg->nlatest)
		return 0;
	if ((err = cnai_db_prepare(
		     &st, &lg->st->db,
		     "INSERT INTO latest_metrics(run, key, value, step, "
		     "timestamp) VALUES (?, ?, ?, ?, ?) ON CONFLICT(run, key) "
		     "DO UPDATE SET value = excluded.value, step = "
		     "excluded.step, timestamp = excluded.timestamp WHERE "
		     "excluded.step > latest_metrics.step OR (excluded.step = "
		     "latest_metrics.step AND excluded.timestamp >= "
		     "latest_metrics.timestamp)")) < 0)
		return err;
	for (i = 0; i < lg->alloc && !err; i++) {
		struct latest *l = &lg->latest[i];

		if (!l->key)
			continue;
		sqlite3_bind_int64(st, 1, lg->run);
		sqlite3_bind_text(st, 2, l->key, -1, SQLITE_STATIC);
		if (isnan(l->value))
			sqlite3_bind_null(st, 3);
		else
			sqlite3_bind_double(st, 3, l->value);
		sqlite3_bind_int64(st, 4, l->step);
		sqlite3_bind_int64(st, 5, l->timestamp);
		err = step_done(lg, st, "updating latest metrics");
	}
	sqlite3_finalize(st);
	return err;
}

/*
 * Keeps the WAL short. Each cnai process is a new connection: opening it
 * reads the whole WAL to rebuild the index (cost grows with the WAL), and
 * that rebuild forgets what earlier checkpoints copied back, so SQLite
 * never restarts the WAL from its start. With the default auto-checkpoint
 * it grew by every call and each call past 1000 frames re-checkpointed it
 * all: `track log` took 4 ms on a new store, 10 ms after 600 calls and
 * more with every call. A TRUNCATE checkpoint at the threshold empties the
 * WAL instead. It must not wait for other writers or readers (a long
 * `track ls` would stall a logging call for the busy timeout), so it runs
 * without a busy handler; when busy it copies what it can and the next
 * commit tries again.
 */
enum { WAL_TRIM_FRAMES = 256 }; /* 1 MiB of 4 KiB pages */

static int wal_trim(void *arg, sqlite3 *h, const char *db, int frames)
{
	sqlite3_stmt *st;
	int timeout = -1;

	(void)arg;
	if (frames < WAL_TRIM_FRAMES ||
	    sqlite3_prepare_v2(h, "PRAGMA busy_timeout", -1, &st, NULL) !=
		    SQLITE_OK)
		return SQLITE_OK;
	if (sqlite3_step(st) == SQLITE_ROW)
		timeout = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (timeout < 0)
		return SQLITE_OK; /* could not restore it: skip this time */
	sqlite3_busy_timeout(h, 0);
	sqlite3_wal_checkpoint_v2(h, db, SQLITE_CHECKPOINT_TRUNCATE, NULL,
				  NULL);
	sqlite3_busy_timeout(h, timeout);
	return SQLITE_OK;
}

int cnai_logger_commit(struct cnai_logger *lg)
{
	int err;

	/* Replaces SQLite's auto-checkpoint hook for this connection; it
	 * keeps no state, so it may outlive the logger. */
	sqlite3_wal_hook(lg->st->db.h, wal_trim, NULL);
	if ((err = flush_latest(lg)) < 0 ||
	    (err = cnai_store_commit(lg->st)) < 0) {
		cnai_logger_abort(lg);
		return err;
	}
	logger_free(lg);
	return 0;
}
