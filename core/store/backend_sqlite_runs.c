/*
 * Runs in SQLite. A run's public id is 32 random hex digits (MLflow's
 * form); inside the database rows refer to its integer id. Listing plans
 * the filter by selectivity (see plan_driver) because Debian's SQLite has no
 * STAT4 statistics and would otherwise scan every run for a rare metric.
 */
#include "core/store/backend_sqlite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/store/lineage.h"
#include "core/store/query.h"
#include "core/util/banned.h"

#define RUN_COLUMNS                                                        \
	"r.id, r.uuid, e.name, r.name, r.status, r.start_time, "          \
	"r.end_time, r.exit_code, r.command, r.cwd, r.host, r.user, "     \
	"r.git_commit, r.git_branch, r.git_remote, r.git_dirty, "         \
	"(SELECT uuid FROM runs p WHERE p.id = r.parent)"

/* A driving term must match fewer runs than this to be worth it. */
enum { DRIVER_CAP = 5000 };

static int read_run(struct cnai_run **out, sqlite3_stmt *st)
{
	struct cnai_run *r = calloc(1, sizeof(*r));
	const unsigned char *uuid, *status;

	if (!r)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	r->id = sqlite3_column_int64(st, 0);
	uuid = sqlite3_column_text(st, 1);
	snprintf(r->uuid, sizeof(r->uuid), "%s", uuid ? (const char *)uuid : "");
	r->experiment = cnai_db_column_strdup(st, 2);
	r->name = cnai_db_column_strdup(st, 3);
	status = sqlite3_column_text(st, 4);
	r->start_time = sqlite3_column_int64(st, 5);
	r->end_time = sqlite3_column_int64(st, 6);
	r->has_exit_code = sqlite3_column_type(st, 7) != SQLITE_NULL;
	r->exit_code = sqlite3_column_int(st, 7);
	r->command = cnai_db_column_strdup(st, 8);
	r->cwd = cnai_db_column_strdup(st, 9);
	r->host = cnai_db_column_strdup(st, 10);
	r->user = cnai_db_column_strdup(st, 11);
	r->git_commit = cnai_db_column_strdup(st, 12);
	r->git_branch = cnai_db_column_strdup(st, 13);
	r->git_remote = cnai_db_column_strdup(st, 14);
	r->git_dirty = sqlite3_column_type(st, 15) == SQLITE_NULL
			       ? -1
			       : sqlite3_column_int(st, 15);
	r->parent = cnai_db_column_strdup(st, 16);
	if (!r->experiment) {
		cnai_run_free(r);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	if (cnai_run_status_parse(&r->status, status ? (const char *)status
						     : "") < 0) {
		int err = cnai_error_set(CNAI_EINVALID, "run %s has an "
					 "unknown status '%s'", r->uuid,
					 status ? (const char *)status : "");

		cnai_run_free(r);
		return err;
	}
	*out = r;
	return 0;
}

static int new_uuid(char out[CNAI_RUN_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return cnai_error_set_errno(CNAI_ERROR, "getrandom");
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[CNAI_RUN_UUID_LEN] = '\0';
	return 0;
}

static int experiment_id(int64_t *out, struct cnai_db *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int err;

	if ((err = cnai_db_prepare(&st, db,
				   "INSERT INTO experiments(name, created) "
				   "VALUES (?, ?) ON CONFLICT(name) DO UPDATE "
				   "SET name = name RETURNING id")) < 0)
		return err;
	cnai_db_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, cnai_db_now_ms());
	if (sqlite3_step(st) != SQLITE_ROW)
		err = cnai_db_error(db, "creating the experiment");
	else
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return err;
}

static int fetch_run_by_id(struct cnai_run **out, struct cnai_store *s,
			   int64_t id)
{
	sqlite3_stmt *st = NULL;
	int err;

	if ((err = cnai_db_prepare(&st, &s->db,
				   "SELECT " RUN_COLUMNS " FROM runs r JOIN "
				   "experiments e ON e.id = r.experiment "
				   "WHERE r.id = ?")) < 0)
		return err;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		err = read_run(out, st);
	else
		err = cnai_error_set(CNAI_ENOTFOUND, "run %lld not found",
				     (long long)id);
	sqlite3_finalize(st);
	return err;
}

int cnai_sqlite_run_create(struct cnai_run **out, struct cnai_store *s,
			   const struct cnai_run_spec *spec)
{
	struct cnai_db *db = &s->db;
	char uuid[CNAI_RUN_UUID_LEN + 1];
	sqlite3_stmt *st = NULL;
	int64_t exp = 0, id = 0, entity;
	int err;

	*out = NULL;
	if ((err = new_uuid(uuid)) < 0 ||
	    (err = cnai_store_begin_write(s)) < 0)
		return err;
	if ((err = experiment_id(&exp, db, spec->experiment ? spec->experiment
							   : "Default")) < 0)
		goto fail;
	if ((err = cnai_db_prepare(
		     &st, db,
		     "INSERT INTO runs(uuid, experiment, name, status, "
		     "start_time, command, cwd, host, user, git_commit, "
		     "git_branch, git_remote, git_dirty, parent) VALUES "
		     "(?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) < 0)
		goto fail;
	cnai_db_bind_text(st, 1, uuid);
	sqlite3_bind_int64(st, 2, exp);
	cnai_db_bind_text(st, 3, spec->name);
	sqlite3_bind_int64(st, 4, cnai_db_now_ms());
	cnai_db_bind_text(st, 5, spec->command);
	cnai_db_bind_text(st, 6, spec->cwd);
	cnai_db_bind_text(st, 7, spec->host);
	cnai_db_bind_text(st, 8, spec->user);
	cnai_db_bind_text(st, 9, spec->git_commit);
	cnai_db_bind_text(st, 10, spec->git_branch);
	cnai_db_bind_text(st, 11, spec->git_remote);
	if (spec->git_dirty >= 0)
		sqlite3_bind_int(st, 12, spec->git_dirty);
	if (spec->parent > 0)
		sqlite3_bind_int64(st, 13, spec->parent);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err = cnai_db_error(db, "creating the run");
		goto fail;
	}
	id = sqlite3_last_insert_rowid(db->h);
	if ((err = cnai_lineage_entity(&entity, s, CNAI_ENTITY_RUN, uuid,
				       spec->name)) < 0)
		goto fail;
	if (spec->parent > 0) {
		struct cnai_run *parent = NULL;
		int64_t pe;

		if ((err = fetch_run_by_id(&parent, s, spec->parent)) < 0)
			goto fail;
		err = cnai_lineage_entity(&pe, s, CNAI_ENTITY_RUN,
					  parent->uuid, parent->name);
		cnai_run_free(parent);
		if (err < 0 ||
		    (err = cnai_lineage_edge(s, pe, entity, "parent")) < 0)
			goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((err = cnai_store_commit(s)) < 0)
		goto fail;
	return fetch_run_by_id(out, s, id);
fail:
	sqlite3_finalize(st);
	cnai_store_rollback(s);
	return err;
}

static int is_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* Collects every run a reference could mean: id prefix or name. */
static int lookup_candidates(struct cnai_run ***out, size_t *n,
			     struct cnai_store *s, const char *ref)
{
	struct cnai_buf upper = CNAI_BUF_INIT;
	struct cnai_run **list = NULL, **grown;
	sqlite3_stmt *st = NULL;
	size_t len = strlen(ref), count = 0;
	int by_prefix, err, rc;

	by_prefix = len >= CNAI_RUN_MIN_PREFIX && len <= CNAI_RUN_UUID_LEN &&
		    is_hex(ref);
	/* A prefix is a range on the unique index: [ref, ref + "g"). */
	if (cnai_buf_addf(&upper, "%sg", ref) < 0)
		return cnai_buf_oom(&upper);
	if ((err = cnai_db_prepare(
		     &st, &s->db,
		     "SELECT " RUN_COLUMNS " FROM runs r JOIN experiments e "
		     "ON e.id = r.experiment WHERE (?1 AND r.uuid >= ?2 AND "
		     "r.uuid < ?3) OR r.name = ?2 ORDER BY r.start_time, "
		     "r.id LIMIT 11")) < 0)
		goto cleanup;
	sqlite3_bind_int(st, 1, by_prefix);
	cnai_db_bind_text(st, 2, ref);
	cnai_db_bind_text(st, 3, upper.buf);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(grown = realloc(list, (count + 1) * sizeof(*list)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		list = grown;
		if ((err = read_run(&list[count], st)) < 0)
			goto cleanup;
		count++;
	}
	if (rc != SQLITE_DONE)
		err = cnai_db_error(&s->db, "looking up the run");
cleanup:
	sqlite3_finalize(st);
	cnai_buf_release(&upper);
	*out = list;
	*n = count;
	return err;
}

int cnai_sqlite_run_lookup(struct cnai_run **out, struct cnai_store *s,
			   const char *ref)
{
	struct cnai_buf names = CNAI_BUF_INIT;
	struct cnai_run **list = NULL;
	size_t n = 0, i;
	int err;

	*out = NULL;
	if (!ref || !*ref)
		return cnai_error_set(CNAI_EUSAGE, "no run given");
	if ((err = lookup_candidates(&list, &n, s, ref)) < 0)
		goto cleanup;
	if (n == 0) {
		err = cnai_error_set(CNAI_ENOTFOUND, "run '%s' not found%s",
				     ref,
				     strlen(ref) < CNAI_RUN_MIN_PREFIX &&
						     is_hex(ref)
					     ? " (an id prefix needs at least "
					       "4 characters)"
					     : "");
		goto cleanup;
	}
	if (n > 1) {
		for (i = 0; i < n && i < 10; i++)
			cnai_buf_addf(&names, "%s%.12s%s%s%s", i ? ", " : "",
				      list[i]->uuid, list[i]->name ? " (" : "",
				      list[i]->name ? list[i]->name : "",
				      list[i]->name ? ")" : "");
		err = cnai_error_set(CNAI_EAMBIGUOUS,
				     "run '%s' is ambiguous: %s%s", ref,
				     names.buf, n > 10 ? ", ..." : "");
		goto cleanup;
	}
	*out = list[0];
	list[0] = NULL;
cleanup:
	for (i = 0; i < n; i++)
		cnai_run_free(list[i]);
	free(list);
	cnai_buf_release(&names);
	return err;
}

int cnai_sqlite_run_end(struct cnai_store *s, int64_t run,
			enum cnai_run_status status, int has_exit,
			int exit_code)
{
	sqlite3_stmt *st = NULL;
	int err;

	if ((err = cnai_db_prepare(&st, &s->db,
				   "UPDATE runs SET status = ?, end_time = ?, "
				   "exit_code = coalesce(?, exit_code) WHERE "
				   "id = ?")) < 0)
		return err;
	cnai_db_bind_text(st, 1, cnai_run_status_name(status));
	sqlite3_bind_int64(st, 2, cnai_db_now_ms());
	if (has_exit)
		sqlite3_bind_int(st, 3, exit_code);
	sqlite3_bind_int64(st, 4, run);
	if (sqlite3_step(st) != SQLITE_DONE)
		err = cnai_db_error(&s->db, "ending the run");
	sqlite3_finalize(st);
	return err;
}

int cnai_sqlite_run_remove(struct cnai_store *s, int64_t run)
{
	static const char *const sql[] = {
		"DELETE FROM params WHERE run = ?",
		"DELETE FROM tags WHERE run = ?",
		"DELETE FROM metrics WHERE run = ?",
		"DELETE FROM latest_metrics WHERE run = ?",
		"DELETE FROM artifacts WHERE run = ?",
		"UPDATE runs SET parent = NULL WHERE parent = ?",
		"DELETE FROM edges WHERE src IN (SELECT e.id FROM entities e "
		"JOIN runs r ON r.uuid = e.ref AND e.kind = 'run' WHERE r.id = "
		"?1) OR dst IN (SELECT e.id FROM entities e JOIN runs r ON "
		"r.uuid = e.ref AND e.kind = 'run' WHERE r.id = ?1)",
		"DELETE FROM entities WHERE kind = 'run' AND ref = (SELECT "
		"uuid FROM runs WHERE id = ?)",
		"DELETE FROM runs WHERE id = ?",
	};
	sqlite3_stmt *st = NULL;
	size_t i;
	int err;

	if ((err = cnai_store_begin_write(s)) < 0)
		return err;
	for (i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		if ((err = cnai_db_prepare(&st, &s->db, sql[i])) < 0)
			goto fail;
		sqlite3_bind_int64(st, 1, run);
		if (sqlite3_step(st) != SQLITE_DONE) {
			err = cnai_db_error(&s->db, "removing the run");
			goto fail;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	return cnai_store_commit(s);
fail:
	sqlite3_finalize(st);
	cnai_store_rollback(s);
	return err;
}

static int read_kv(struct cnai_kv **out, size_t *n, struct cnai_store *s,
		   const char *sql, int64_t run)
{
	struct cnai_kv *a = NULL, *g;
	sqlite3_stmt *st = NULL;
	size_t count = 0;
	int err, rc;

	if ((err = cnai_db_prepare(&st, &s->db, sql)) < 0)
		return err;
	sqlite3_bind_int64(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(g = realloc(a, (count + 1) * sizeof(*a)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		a = g;
		a[count].key = cnai_db_column_strdup(st, 0);
		a[count].value = cnai_db_column_strdup(st, 1);
		count++;
	}
	if (!err && rc != SQLITE_DONE)
		err = cnai_db_error(&s->db, "reading the run");
	sqlite3_finalize(st);
	*out = a;
	*n = count;
	return err;
}

int cnai_sqlite_run_params(struct cnai_kv **out, size_t *n,
			   struct cnai_store *s, int64_t run)
{
	return read_kv(out, n, s,
		       "SELECT key, value FROM params WHERE run = ? ORDER BY key",
		       run);
}

int cnai_sqlite_run_tags(struct cnai_kv **out, size_t *n, struct cnai_store *s,
			 int64_t run)
{
	return read_kv(out, n, s,
		       "SELECT key, value FROM tags WHERE run = ? ORDER BY key",
		       run);
}

static int read_metrics(struct cnai_metric_point **out, size_t *n,
			struct cnai_store *s, const char *sql, int64_t run,
			const char *key)
{
	struct cnai_metric_point *a = NULL, *g;
	size_t count = 0, alloc = 0;
	sqlite3_stmt *st = NULL;
	int err, rc;

	if ((err = cnai_db_prepare(&st, &s->db, sql)) < 0)
		return err;
	sqlite3_bind_int64(st, 1, run);
	if (key)
		cnai_db_bind_text(st, 2, key);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			if (!(g = realloc(a, alloc * sizeof(*a)))) {
				err = cnai_error_set(CNAI_ERROR,
						     "out of memory");
				break;
			}
			a = g;
		}
		a[count].key = cnai_db_column_strdup(st, 0);
		/* NULL is how the store keeps NaN (see migrations.c). */
		a[count].value = sqlite3_column_type(st, 1) == SQLITE_NULL
					 ? NAN
					 : sqlite3_column_double(st, 1);
		a[count].step = sqlite3_column_int64(st, 2);
		a[count].timestamp = sqlite3_column_int64(st, 3);
		count++;
	}
	if (!err && rc != SQLITE_DONE)
		err = cnai_db_error(&s->db, "reading metrics");
	sqlite3_finalize(st);
	*out = a;
	*n = count;
	return err;
}

int cnai_sqlite_run_latest_metrics(struct cnai_metric_point **out, size_t *n,
				   struct cnai_store *s, int64_t run)
{
	return read_metrics(out, n, s,
			    "SELECT key, value, step, timestamp FROM "
			    "latest_metrics WHERE run = ? ORDER BY key",
			    run, NULL);
}

int cnai_sqlite_run_metric_history(struct cnai_metric_point **out, size_t *n,
				   struct cnai_store *s, int64_t run,
				   const char *key)
{
	return read_metrics(out, n, s,
			    key ? "SELECT key, value, step, timestamp FROM "
				  "metrics WHERE run = ?1 AND key = ?2 ORDER "
				  "BY step, timestamp, rowid"
				: "SELECT key, value, step, timestamp FROM "
				  "metrics WHERE run = ?1 ORDER BY key, step, "
				  "timestamp, rowid",
			    run, key);
}

static void read_artifact(struct cnai_artifact *a, sqlite3_stmt *st)
{
	const unsigned char *d = sqlite3_column_text(st, 1);

	a->name = cnai_db_column_strdup(st, 0);
	snprintf(a->digest, sizeof(a->digest), "%s", d ? (const char *)d : "");
	a->size = (uint64_t)sqlite3_column_int64(st, 2);
	a->created = sqlite3_column_int64(st, 3);
}

int cnai_sqlite_run_artifacts(struct cnai_artifact **out, size_t *n,
			      struct cnai_store *s, int64_t run)
{
	struct cnai_artifact *a = NULL, *g;
	sqlite3_stmt *st = NULL;
	size_t count = 0;
	int err, rc;

	if ((err = cnai_db_prepare(&st, &s->db,
				   "SELECT name, digest, size, created FROM "
				   "artifacts WHERE run = ? ORDER BY name")) <
	    0)
		return err;
	sqlite3_bind_int64(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(g = realloc(a, (count + 1) * sizeof(*a)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		a = g;
		read_artifact(&a[count++], st);
	}
	if (!err && rc != SQLITE_DONE)
		err = cnai_db_error(&s->db, "reading artifacts");
	sqlite3_finalize(st);
	*out = a;
	*n = count;
	return err;
}

int cnai_sqlite_run_artifact(struct cnai_artifact *out, struct cnai_store *s,
			     const struct cnai_run *run, const char *name)
{
	sqlite3_stmt *st = NULL;
	int err;

	if ((err = cnai_db_prepare(&st, &s->db,
				   "SELECT name, digest, size, created FROM "
				   "artifacts WHERE run = ? AND name = ?")) < 0)
		return err;
	sqlite3_bind_int64(st, 1, run->id);
	cnai_db_bind_text(st, 2, name);
	if (sqlite3_step(st) == SQLITE_ROW)
		read_artifact(out, st);
	else
		err = cnai_error_set(CNAI_ENOTFOUND,
				     "run %.12s has no artifact '%s'",
				     run->uuid, name);
	sqlite3_finalize(st);
	return err;
}

/*
 * Counts up to DRIVER_CAP runs matching each top-level AND term that an
 * index can produce, and picks the smallest under the cap. A rare term
 * then drives the query and the others are checked per candidate; when
 * every term is common, scanning runs in output order and stopping at the
 * limit is cheaper, and (size_t)-1 says so.
 */
static int plan_driver(size_t *out, struct cnai_store *s,
		       const struct cnai_filter *f)
{
	size_t i, best = (size_t)-1, terms = cnai_filter_term_count(f);
	int64_t best_count = DRIVER_CAP;
	int err = 0;

	for (i = 0; i < terms; i++) {
		struct cnai_sql drv = CNAI_SQL_INIT, count = CNAI_SQL_INIT;
		sqlite3_stmt *st = NULL;

		err = cnai_filter_term_driver_sql(&drv, f, i);
		if (err == CNAI_ENOTFOUND) {
			err = 0;
			cnai_sql_release(&drv);
			continue;
		}
		if (!err) {
			cnai_buf_adds(&count.text, "SELECT count(*) FROM (");
			if ((err = cnai_sql_append(&count, &drv)) == 0 &&
			    cnai_buf_addf(&count.text, " LIMIT %d)",
					  DRIVER_CAP) < 0)
				err = cnai_buf_oom(&count.text);
		}
		if (!err && !(err = cnai_db_prepare(&st, &s->db,
						    count.text.buf)) &&
		    !(err = cnai_sql_bind(st, &count, 1))) {
			if (sqlite3_step(st) == SQLITE_ROW) {
				int64_t c = sqlite3_column_int64(st, 0);

				if (c < best_count) {
					best_count = c;
					best = i;
				}
			} else {
				err = cnai_db_error(&s->db, "planning");
			}
		}
		sqlite3_finalize(st);
		cnai_sql_release(&drv);
		cnai_sql_release(&count);
		if (err < 0)
			return err;
	}
	*out = best;
	return 0;
}

static int build_query(struct cnai_sql *q, struct cnai_store *s,
		       const struct cnai_run_query *rq,
		       const struct cnai_filter *f)
{
	struct cnai_sql drv = CNAI_SQL_INIT;
	size_t driver = (size_t)-1, i;
	int err;

	if ((err = plan_driver(&driver, s, f)) < 0)
		return err;
	cnai_buf_adds(&q->text, "SELECT " RUN_COLUMNS " FROM ");
	if (driver != (size_t)-1) {
		if ((err = cnai_filter_term_driver_sql(&drv, f, driver)) < 0)
			goto cleanup;
		cnai_buf_adds(&q->text, "(");
		if ((err = cnai_sql_append(q, &drv)) < 0)
			goto cleanup;
		/* CROSS JOIN fixes the order: the driver first. */
		cnai_buf_adds(&q->text, ") d CROSS JOIN runs r ON r.id = d.run "
					"JOIN experiments e ON e.id = "
					"r.experiment WHERE ");
	} else {
		cnai_buf_adds(&q->text, "runs r JOIN experiments e ON e.id = "
					"r.experiment WHERE ");
	}
	if ((err = cnai_filter_to_sql(q, f, driver)) < 0)
		goto cleanup;
	if (rq->experiment) {
		cnai_buf_adds(&q->text, " AND e.name = ?");
		if ((err = cnai_sql_add_text(q, rq->experiment)) < 0)
			goto cleanup;
	}
	cnai_buf_adds(&q->text, " ORDER BY ");
	for (i = 0; i < rq->norder; i++) {
		if ((err = cnai_order_by_compile(q, rq->order_by[i])) < 0)
			goto cleanup;
		cnai_buf_adds(&q->text, ", ");
	}
	cnai_buf_adds(&q->text, "r.start_time DESC, r.id DESC");
	if (rq->limit > 0)
		cnai_buf_addf(&q->text, " LIMIT %lld", (long long)rq->limit);
	err = cnai_buf_oom(&q->text);
cleanup:
	cnai_sql_release(&drv);
	return err;
}

int cnai_sqlite_runs_query(struct cnai_store *s,
			   const struct cnai_run_query *rq, cnai_run_fn fn,
			   void *payload)
{
	struct cnai_filter *f = NULL;
	struct cnai_sql q = CNAI_SQL_INIT;
	sqlite3_stmt *st = NULL;
	struct cnai_run *run;
	int err, rc, own_tx = 0;

	if ((err = cnai_filter_parse(&f, rq->filter ? rq->filter : "")) < 0)
		return err;
	/* One read transaction: the plan's counts and the rows agree (inside
	 * a caller's transaction, that one serves). */
	own_tx = sqlite3_get_autocommit(s->db.h);
	if (own_tx && (err = s->backend->begin_read(s)) < 0)
		goto cleanup;
	if ((err = build_query(&q, s, rq, f)) < 0 ||
	    (err = cnai_db_prepare(&st, &s->db, q.text.buf)) < 0 ||
	    (err = cnai_sql_bind(st, &q, 1)) < 0)
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((err = read_run(&run, st)) < 0)
			goto cleanup;
		err = fn(run, payload);
		cnai_run_free(run);
		if (err < 0)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = cnai_db_error(&s->db, "listing runs");
cleanup:
	sqlite3_finalize(st);
	if (own_tx)
		cnai_store_rollback(s);
	cnai_sql_release(&q);
	cnai_filter_free(f);
	return err;
}

int cnai_sqlite_run_inputs(struct cnai_run_input **out, size_t *n,
			   struct cnai_store *s, const struct cnai_run *run)
{
	struct cnai_run_input *a = NULL, *g;
	sqlite3_stmt *st = NULL;
	size_t count = 0;
	int err, rc;

	if ((err = cnai_db_prepare(
		     &st, &s->db,
		     "SELECT d.digest, d.path, d.size, coalesce(d.rows, -1), "
		     "coalesce(d.columns, -1) FROM entities r JOIN edges e ON "
		     "e.dst = r.id JOIN entities de ON de.id = e.src AND "
		     "de.kind = 'dataset' JOIN datasets d ON d.digest = de.ref "
		     "WHERE r.kind = 'run' AND r.ref = ? ORDER BY d.path")) < 0)
		return err;
	cnai_db_bind_text(st, 1, run->uuid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(g = realloc(a, (count + 1) * sizeof(*a)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		a = g;
		a[count].digest = cnai_db_column_strdup(st, 0);
		a[count].path = cnai_db_column_strdup(st, 1);
		a[count].size = (uint64_t)sqlite3_column_int64(st, 2);
		a[count].rows = sqlite3_column_int64(st, 3);
		a[count].columns = sqlite3_column_int64(st, 4);
		count++;
	}
	if (!err && rc != SQLITE_DONE)
		err = cnai_db_error(&s->db, "reading inputs");
	sqlite3_finalize(st);
	*out = a;
	*n = count;
	return err;
}
