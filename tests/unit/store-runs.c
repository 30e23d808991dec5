/*
 * Tests for core/store/runs.c: creating runs, finding them by full id,
 * unique prefix or name (and the ambiguous and too-short cases), ending
 * them, and removing one with everything logged to it while a neighbour
 * run stays whole. Ids are set by hand where a test needs known prefixes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/store/lineage.h"
#include "core/store/logger.h"
#include "core/store/runs.h"
#include "core/store/store_impl.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

static struct cnai_run *create(struct fixture *fx, const char *name)
{
	struct cnai_run_spec spec = { 0 };
	struct cnai_run *r = NULL;

	spec.name = name;
	spec.git_dirty = -1;
	if (cnai_run_create(&r, fx->st, &spec) < 0)
		fail_msg("create: %s", fixture_errmsg());
	return r;
}

/* Gives run `id` a chosen uuid (and its lineage entity with it). */
static void set_uuid(struct fixture *fx, int64_t id, const char *uuid)
{
	char sql[300];

	snprintf(sql, sizeof(sql),
		 "UPDATE entities SET ref = '%s' WHERE kind = 'run' AND ref = "
		 "(SELECT uuid FROM runs WHERE id = %lld);"
		 "UPDATE runs SET uuid = '%s' WHERE id = %lld",
		 uuid, (long long)id, uuid, (long long)id);
	assert_int_equal(cnai_db_exec(&fx->st->db, sql), 0);
}

static int64_t count(struct fixture *fx, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	assert_int_equal(cnai_db_prepare(&st, &fx->st->db, sql), 0);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_runs__create_records_a_running_run(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run_spec spec = { 0 };
	struct cnai_run *r = NULL;
	size_t i;

	spec.experiment = "mnist";
	spec.name = "first";
	spec.command = "python train.py";
	spec.host = "gpu1";
	spec.user = "alice";
	spec.git_commit = "0123abc";
	spec.git_dirty = 1;
	assert_int_equal(cnai_run_create(&r, fx->st, &spec), 0);
	assert_int_equal(strlen(r->uuid), CNAI_RUN_UUID_LEN);
	for (i = 0; i < CNAI_RUN_UUID_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", r->uuid[i]));
	assert_string_equal(r->experiment, "mnist");
	assert_string_equal(r->name, "first");
	assert_int_equal(r->status, CNAI_RUN_RUNNING);
	assert_string_equal(r->command, "python train.py");
	assert_string_equal(r->host, "gpu1");
	assert_string_equal(r->user, "alice");
	assert_string_equal(r->git_commit, "0123abc");
	assert_null(r->git_branch);
	assert_null(r->cwd);
	assert_null(r->parent);
	assert_int_equal(r->git_dirty, 1);
	assert_true(r->start_time > 0);
	assert_int_equal(r->end_time, 0);
	assert_false(r->has_exit_code);
	/* the run is also a lineage entity */
	assert_int_equal(count(fx, "SELECT count(*) FROM entities WHERE kind "
				   "= 'run' AND name = 'first'"),
			 1);
	cnai_run_free(r);
}

static void test_runs__default_experiment_and_no_git(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run *a = create(fx, NULL), *b = create(fx, NULL);

	assert_string_equal(a->experiment, "Default");
	assert_null(a->name);
	assert_int_equal(a->git_dirty, -1);
	assert_string_not_equal(a->uuid, b->uuid);
	/* one experiment row for both */
	assert_int_equal(count(fx, "SELECT count(*) FROM experiments"), 1);
	cnai_run_free(a);
	cnai_run_free(b);
	cnai_run_free(NULL);
}

static void test_runs__parent_is_recorded(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run *p = create(fx, "parent"), *c = NULL;
	struct cnai_run_spec spec = { 0 };

	spec.name = "child";
	spec.git_dirty = -1;
	spec.parent = p->id;
	assert_int_equal(cnai_run_create(&c, fx->st, &spec), 0);
	assert_string_equal(c->parent, p->uuid);
	assert_int_equal(count(fx, "SELECT count(*) FROM edges WHERE "
				   "relation = 'parent'"),
			 1);
	cnai_run_free(p);
	cnai_run_free(c);
}

static void test_runs__lookup_by_full_id_prefix_and_name(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run *a = create(fx, "alpha"), *b = create(fx, "beta");
	struct cnai_run *r = NULL;

	set_uuid(fx, a->id, "abcd1111111111111111111111111111");
	set_uuid(fx, b->id, "abce2222222222222222222222222222");
	assert_int_equal(cnai_run_lookup(&r, fx->st,
					 "abcd1111111111111111111111111111"),
			 0);
	assert_int_equal(r->id, a->id);
	cnai_run_free(r);
	assert_int_equal(cnai_run_lookup(&r, fx->st, "abcd"), 0);
	assert_int_equal(r->id, a->id);
	assert_string_equal(r->uuid, "abcd1111111111111111111111111111");
	cnai_run_free(r);
	assert_int_equal(cnai_run_lookup(&r, fx->st, "abce2"), 0);
	assert_int_equal(r->id, b->id);
	cnai_run_free(r);
	assert_int_equal(cnai_run_lookup(&r, fx->st, "beta"), 0);
	assert_int_equal(r->id, b->id);
	assert_string_equal(r->name, "beta");
	cnai_run_free(r);
	cnai_run_free(a);
	cnai_run_free(b);
}

static void test_runs__lookup_ambiguous_prefix(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run *a = create(fx, "alpha"), *b = create(fx, NULL);
	struct cnai_run *r = (struct cnai_run *)1;

	set_uuid(fx, a->id, "abcd1111111111111111111111111111");
	set_uuid(fx, b->id, "abcd2222222222222222222222222222");
	assert_int_equal(cnai_run_lookup(&r, fx->st, "abcd"),
			 CNAI_EAMBIGUOUS);
	assert_null(r);
	/* both candidates, by 12-digit id and name; their order is by
	 * start time, which ties within a millisecond */
	assert_non_null(strstr(fixture_errmsg(), "run 'abcd' is ambiguous: "));
	assert_non_null(strstr(fixture_errmsg(), "abcd11111111 (alpha)"));
	assert_non_null(strstr(fixture_errmsg(), "abcd22222222"));
	assert_int_equal(strlen(fixture_errmsg()),
			 strlen("run 'abcd' is ambiguous: abcd11111111 "
				"(alpha), abcd22222222"));
	assert_int_equal(cnai_run_lookup(&r, fx->st, "abcd2"), 0);
	assert_int_equal(r->id, b->id);
	cnai_run_free(r);
	cnai_run_free(a);
	cnai_run_free(b);
}

static void test_runs__lookup_ambiguous_name(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run *a = create(fx, "sweep"), *b = create(fx, "sweep");
	struct cnai_run *r = NULL;
	const char *msg;

	set_uuid(fx, a->id, "11112222333344445555666677778888");
	set_uuid(fx, b->id, "99990000aaaabbbbccccddddeeeeffff");
	assert_int_equal(cnai_run_lookup(&r, fx->st, "sweep"),
			 CNAI_EAMBIGUOUS);
	assert_null(r);
	msg = fixture_errmsg();
	assert_non_null(strstr(msg, "run 'sweep' is ambiguous: "));
	assert_non_null(strstr(msg, "111122223333 (sweep)"));
	assert_non_null(strstr(msg, "99990000aaaa (sweep)"));
	/* either one can still be chosen by id */
	assert_int_equal(cnai_run_lookup(&r, fx->st, "9999"), 0);
	assert_int_equal(r->id, b->id);
	cnai_run_free(r);
	cnai_run_free(a);
	cnai_run_free(b);
}

static void test_runs__lookup_many_candidates_is_capped(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run *r = NULL;
	int i;

	for (i = 0; i < 12; i++)
		cnai_run_free(create(fx, "same"));
	assert_int_equal(cnai_run_lookup(&r, fx->st, "same"),
			 CNAI_EAMBIGUOUS);
	assert_non_null(strstr(fixture_errmsg(), ", ..."));
}

static void test_runs__lookup_short_prefix_is_not_found(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run *a = create(fx, "alpha");
	struct cnai_run *r = (struct cnai_run *)1;

	set_uuid(fx, a->id, "abcd1111111111111111111111111111");
	assert_int_equal(cnai_run_lookup(&r, fx->st, "abc"), CNAI_ENOTFOUND);
	assert_null(r);
	assert_string_equal(fixture_errmsg(),
			    "run 'abc' not found (an id prefix needs at "
			    "least 4 characters)");
	assert_int_equal(cnai_run_lookup(&r, fx->st, "nope"), CNAI_ENOTFOUND);
	assert_string_equal(fixture_errmsg(), "run 'nope' not found");
	/* a prefix that matches nothing, and one longer than an id */
	assert_int_equal(cnai_run_lookup(&r, fx->st, "abcf"), CNAI_ENOTFOUND);
	assert_int_equal(cnai_run_lookup(&r, fx->st,
					 "abcd11111111111111111111111111110"),
			 CNAI_ENOTFOUND);
	assert_int_equal(cnai_run_lookup(&r, fx->st, ""), CNAI_EUSAGE);
	cnai_run_free(a);
}

static void test_runs__end_sets_status_time_and_exit_code(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run *a = create(fx, "a"), *b = create(fx, "b");
	struct cnai_run *r = NULL;

	assert_int_equal(cnai_run_end(fx->st, a->id, CNAI_RUN_FAILED, 1, 3), 0);
	assert_int_equal(cnai_run_end(fx->st, b->id, CNAI_RUN_KILLED, 0, 0), 0);
	assert_int_equal(cnai_run_lookup(&r, fx->st, "a"), 0);
	assert_int_equal(r->status, CNAI_RUN_FAILED);
	assert_true(r->has_exit_code);
	assert_int_equal(r->exit_code, 3);
	assert_true(r->end_time >= r->start_time);
	cnai_run_free(r);
	assert_int_equal(cnai_run_lookup(&r, fx->st, "b"), 0);
	assert_int_equal(r->status, CNAI_RUN_KILLED);
	assert_false(r->has_exit_code);
	assert_true(r->end_time > 0);
	cnai_run_free(r);
	cnai_run_free(a);
	cnai_run_free(b);
}

static void test_runs__status_names(void **state)
{
	static const char *const names[] = { "RUNNING", "FINISHED", "FAILED",
					     "KILLED" };
	enum cnai_run_status s;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		assert_int_equal(cnai_run_status_parse(&s, names[i]), 0);
		assert_string_equal(cnai_run_status_name(s), names[i]);
	}
	assert_int_equal(cnai_run_status_parse(&s, "finished"),
			 CNAI_EINVALID);
	assert_int_equal(cnai_run_status_parse(&s, ""), CNAI_EINVALID);
}

/* Params, tags, metrics, an artifact and lineage for one run. */
static void fill_run(struct fixture *fx, struct cnai_run *r, int64_t dataset)
{
	struct cnai_logger *lg = NULL;
	int64_t run_entity, art;

	assert_int_equal(cnai_logger_begin(&lg, fx->st, r->id), 0);
	assert_int_equal(cnai_logger_param(lg, "lr", "0.1"), 0);
	assert_int_equal(cnai_logger_tag(lg, "team", "x"), 0);
	assert_int_equal(cnai_logger_metric(lg, "loss", 1.0, 0, 1), 0);
	assert_int_equal(cnai_logger_metric(lg, "loss", 0.5, 1, 2), 0);
	assert_int_equal(
		cnai_logger_artifact(lg, "model.bin",
				     "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
				     3),
		0);
	assert_int_equal(cnai_lineage_entity(&run_entity, fx->st,
					     CNAI_ENTITY_RUN, r->uuid, r->name),
			 0);
	assert_int_equal(cnai_lineage_edge(fx->st, dataset, run_entity,
					   "input"),
			 0);
	assert_int_equal(cnai_lineage_entity(&art, fx->st,
					     CNAI_ENTITY_ARTIFACT, r->uuid,
					     NULL),
			 0);
	assert_int_equal(cnai_lineage_edge(fx->st, run_entity, art,
					   "output"),
			 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
}

static int64_t per_run(struct fixture *fx, const char *table, int64_t run)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE run = %lld",
		 table, (long long)run);
	return count(fx, sql);
}

static void test_runs__remove_deletes_everything_logged(void **state)
{
	static const char *const tables[] = { "params", "tags", "metrics",
					      "latest_metrics", "artifacts" };
	struct fixture *fx = *state;
	struct cnai_run *a = create(fx, "gone"), *b = create(fx, "kept");
	struct cnai_run *child = NULL, *r = NULL;
	struct cnai_run_spec spec = { 0 };
	int64_t dataset;
	char sql[200];
	size_t i;

	assert_int_equal(cnai_store_begin_write(fx->st), 0);
	assert_int_equal(cnai_lineage_entity(&dataset, fx->st,
					     CNAI_ENTITY_DATASET,
					     "sha256:00", "train.csv"),
			 0);
	assert_int_equal(cnai_store_commit(fx->st), 0);
	fill_run(fx, a, dataset);
	fill_run(fx, b, dataset);
	spec.name = "child";
	spec.git_dirty = -1;
	spec.parent = a->id;
	assert_int_equal(cnai_run_create(&child, fx->st, &spec), 0);
	for (i = 0; i < sizeof(tables) / sizeof(*tables); i++)
		assert_true(per_run(fx, tables[i], a->id) > 0);

	assert_int_equal(cnai_run_remove(fx->st, a->id), 0);

	for (i = 0; i < sizeof(tables) / sizeof(*tables); i++) {
		if (per_run(fx, tables[i], a->id) != 0)
			fail_msg("%s still has rows of the removed run",
				 tables[i]);
		if (per_run(fx, tables[i], b->id) == 0)
			fail_msg("%s lost the other run's rows", tables[i]);
	}
	assert_int_equal(cnai_run_lookup(&r, fx->st, a->uuid), CNAI_ENOTFOUND);
	assert_int_equal(cnai_run_lookup(&r, fx->st, "gone"), CNAI_ENOTFOUND);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM entities WHERE kind = 'run' AND ref = "
		 "'%s'", a->uuid);
	assert_int_equal(count(fx, sql), 0);
	/* only the kept run's edges remain: dataset -> kept, and kept -> the
	 * fixture's artifact and -> model.bin (the logger's own edge) */
	assert_int_equal(count(fx, "SELECT count(*) FROM edges"), 3);
	assert_int_equal(count(fx, "SELECT count(*) FROM edges WHERE src NOT "
				   "IN (SELECT id FROM entities) OR dst NOT IN "
				   "(SELECT id FROM entities)"),
			 0);
	/* the dataset is not the run's to remove */
	assert_int_equal(count(fx, "SELECT count(*) FROM entities WHERE kind "
				   "= 'dataset'"),
			 1);
	/* the child survives, without a parent */
	assert_int_equal(cnai_run_lookup(&r, fx->st, "child"), 0);
	assert_null(r->parent);
	cnai_run_free(r);
	assert_int_equal(cnai_run_lookup(&r, fx->st, "kept"), 0);
	cnai_run_free(r);
	cnai_run_free(a);
	cnai_run_free(b);
	cnai_run_free(child);
}

static void test_runs__artifact_lookup(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run *a = create(fx, "a");
	struct cnai_artifact art = { 0 };
	struct cnai_artifact *list = NULL;
	struct cnai_logger *lg = NULL;
	size_t n = 0;
	char want[100];

	assert_int_equal(cnai_logger_begin(&lg, fx->st, a->id), 0);
	assert_int_equal(cnai_logger_artifact(lg, "out.txt", "sha256:11", 5),
			 0);
	assert_int_equal(cnai_logger_artifact(lg, "log.txt", "sha256:22", 7),
			 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	assert_int_equal(cnai_run_artifacts(&list, &n, fx->st, a->id), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "log.txt"); /* by name */
	assert_string_equal(list[1].digest, "sha256:11");
	assert_int_equal(list[1].size, 5);
	cnai_artifact_free_array(list, n);
	assert_int_equal(cnai_run_artifact(&art, fx->st, a, "out.txt"), 0);
	assert_string_equal(art.digest, "sha256:11");
	free(art.name);
	assert_int_equal(cnai_run_artifact(&art, fx->st, a, "none"),
			 CNAI_ENOTFOUND);
	snprintf(want, sizeof(want), "run %.12s has no artifact 'none'",
		 a->uuid);
	assert_string_equal(fixture_errmsg(), want);
	cnai_run_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_store, \
						fixture_teardown)
		T(test_runs__create_records_a_running_run),
		T(test_runs__default_experiment_and_no_git),
		T(test_runs__parent_is_recorded),
		T(test_runs__lookup_by_full_id_prefix_and_name),
		T(test_runs__lookup_ambiguous_prefix),
		T(test_runs__lookup_ambiguous_name),
		T(test_runs__lookup_many_candidates_is_capped),
		T(test_runs__lookup_short_prefix_is_not_found),
		T(test_runs__end_sets_status_time_and_exit_code),
		T(test_runs__status_names),
		T(test_runs__remove_deletes_everything_logged),
		T(test_runs__artifact_lookup),
#undef T
	};

	return cmocka_run_group_tests_name("store-runs", tests, NULL, NULL);
}
