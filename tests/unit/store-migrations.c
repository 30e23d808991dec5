/*
 * Tests for core/store/migrations.c (through cnai_migrations_open, which
 * runs them): a new database reaches the latest version, a newer one is
 * refused naming both versions, re-opening changes nothing, and a
 * migration that fails leaves the database exactly as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "core/store/db.h"
#include "core/store/migrations.h"
#include "core/util/fs.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

/* One integer from `sql` on a raw connection (no cnai pragmas). */
static int raw_int(const char *path, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;

	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *h = NULL;

	assert_int_equal(sqlite3_open_v2(path, &h,
					 SQLITE_OPEN_READWRITE |
						 SQLITE_OPEN_CREATE,
					 NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static int table_count(const char *path)
{
	return raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type = "
			     "'table'");
}

static void test_migrations__new_db_gets_latest_version(void **state)
{
	struct fixture *fx = *state;
	struct cnai_db db = { 0 };
	const char *path = fixture_path(fx, "new.db");

	assert_true(cnai_migrations_latest() >= 1);
	assert_int_equal(cnai_migrations_open(&db, path, 1), 0);
	cnai_db_close(&db);
	assert_int_equal(raw_int(path, "PRAGMA user_version"),
			 cnai_migrations_latest());
	/* the tables the rest of the store relies on */
	assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master "
				       "WHERE type = 'table' AND name IN "
				       "('experiments', 'runs', 'params', "
				       "'tags', 'metrics', 'latest_metrics', "
				       "'artifacts', 'datasets', 'entities', "
				       "'edges')"),
			 10);
	assert_int_equal(raw_int(path, "SELECT journal_mode = 'wal' FROM "
				       "pragma_journal_mode"),
			 1);
}

static void test_migrations__newer_db_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct cnai_db db = { 0 };
	char sql[64], want[700];
	const char *path = fixture_path(fx, "newer.db");
	int latest = cnai_migrations_latest();

	assert_int_equal(cnai_migrations_open(&db, path, 1), 0);
	cnai_db_close(&db);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", latest + 1);
	raw_exec(path, sql);
	assert_int_equal(cnai_migrations_open(&db, path, 0), CNAI_EINVALID);
	snprintf(want, sizeof(want),
		 "%s: store schema version %d is newer than this cnai "
		 "supports (%d); upgrade cnai",
		 path, latest + 1, latest);
	assert_string_equal(fixture_errmsg(), want);
	assert_null(db.h);
	/* refused, not touched */
	assert_int_equal(raw_int(path, "PRAGMA user_version"), latest + 1);
	cnai_db_close(&db); /* closing a failed open is harmless */
}

static void test_migrations__opening_twice_is_idempotent(void **state)
{
	struct fixture *fx = *state;
	struct cnai_db a = { 0 }, b = { 0 };
	const char *path = fixture_path(fx, "twice.db");
	int tables;

	assert_int_equal(cnai_migrations_open(&a, path, 1), 0);
	assert_int_equal(cnai_db_exec(&a, "INSERT INTO experiments(name, "
					  "created) VALUES ('kept', 1)"),
			 0);
	cnai_db_close(&a);
	tables = table_count(path);
	/* again, and a second connection while the first is open */
	assert_int_equal(cnai_migrations_open(&a, path, 0), 0);
	assert_int_equal(cnai_migrations_open(&b, path, 1), 0);
	assert_int_equal(cnai_migrations_run(&a), 0);
	cnai_db_close(&a);
	cnai_db_close(&b);
	assert_int_equal(raw_int(path, "PRAGMA user_version"),
			 cnai_migrations_latest());
	assert_int_equal(table_count(path), tables);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM experiments "
				       "WHERE name = 'kept'"),
			 1);
}

static void test_migrations__empty_file_is_migrated(void **state)
{
	struct fixture *fx = *state;
	struct cnai_db db = { 0 };

	assert_int_equal(fixture_write(fx, "empty.db", "", 0), 0);
	assert_int_equal(cnai_migrations_open(&db, fx->path, 0), 0);
	cnai_db_close(&db);
	assert_int_equal(raw_int(fixture_path(fx, "empty.db"),
				 "PRAGMA user_version"),
			 cnai_migrations_latest());
}

static void test_migrations__failure_rolls_back_everything(void **state)
{
	struct fixture *fx = *state;
	struct cnai_db db = { 0 };
	const char *path = fixture_path(fx, "clash.db");

	/* A version-0 database that already has a table the first
	 * migration creates: the migration fails part-way. */
	raw_exec(path, "CREATE TABLE runs (x);");
	assert_int_equal(cnai_migrations_open(&db, path, 0), CNAI_ERROR);
	assert_non_null(strstr(fixture_errmsg(), "already exists"));
	assert_null(db.h);
	assert_int_equal(raw_int(path, "PRAGMA user_version"), 0);
	assert_int_equal(table_count(path), 1); /* only ours */
}

static void test_migrations__missing_db_without_create(void **state)
{
	struct fixture *fx = *state;
	struct cnai_db db = { 0 };

	assert_int_equal(cnai_migrations_open(&db, fixture_path(fx, "none.db"),
					      0), CNAI_ERROR);
	assert_non_null(strstr(fixture_errmsg(), "cannot open the database"));
	assert_null(db.h);
	assert_false(cnai_fs_exists(fixture_path(fx, "none.db")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_dir, \
						fixture_teardown)
		T(test_migrations__new_db_gets_latest_version),
		T(test_migrations__newer_db_is_refused),
		T(test_migrations__opening_twice_is_idempotent),
		T(test_migrations__empty_file_is_migrated),
		T(test_migrations__failure_rolls_back_everything),
		T(test_migrations__missing_db_without_create),
#undef T
	};

	return cmocka_run_group_tests_name("store-migrations", tests, NULL,
					   NULL);
}
