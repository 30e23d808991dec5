/*
 * Tests for the store operations of core/store/store.c that go through
 * the backend table (backend.h): transactions, the integrity check, the
 * checkpoint, the deployment listing, the layer cache, and a run whose
 * status the backend cannot read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "core/store/blobs.h"
#include "core/store/images.h"
#include "core/store/lineage.h"
#include "core/store/runs.h"
#include "core/store/store_impl.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

static int count_problem(const char *problem, void *payload)
{
	(*(int *)payload)++;
	return 0;
}

static int count_entities(struct cnai_store *st, const char *kind)
{
	sqlite3_stmt *s = NULL;
	int n;

	assert_int_equal(cnai_db_prepare(&s, &st->db, "SELECT count(*) FROM "
				       "entities WHERE kind = ?"), 0);
	cnai_db_bind_text(s, 1, kind);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void test_store__rollback_discards_commit_keeps(void **state)
{
	struct fixture *fx = *state;
	int64_t id;

	assert_int_equal(cnai_store_begin_write(fx->st), 0);
	assert_int_equal(cnai_lineage_entity(&id, fx->st, CNAI_ENTITY_IMAGE,
					     "sha256:aaaa", NULL), 0);
	cnai_store_rollback(fx->st);
	assert_int_equal(count_entities(fx->st, CNAI_ENTITY_IMAGE), 0);
	/* rolling back with nothing open is harmless */
	cnai_store_rollback(fx->st);
	assert_int_equal(cnai_store_begin_write(fx->st), 0);
	assert_int_equal(cnai_lineage_entity(&id, fx->st, CNAI_ENTITY_IMAGE,
					     "sha256:aaaa", NULL), 0);
	assert_int_equal(cnai_store_commit(fx->st), 0);
	assert_int_equal(count_entities(fx->st, CNAI_ENTITY_IMAGE), 1);
}

static void test_store__integrity_of_a_sound_store_has_no_problem(
	void **state)
{
	struct fixture *fx = *state;
	int problems = 0;

	assert_int_equal(cnai_store_check_integrity(fx->st, count_problem,
						    &problems), 0);
	assert_int_equal(problems, 0);
}

static void test_store__checkpoint_empties_the_wal(void **state)
{
	struct fixture *fx = *state;
	struct stat sb;
	int64_t id;

	assert_int_equal(cnai_store_begin_write(fx->st), 0);
	assert_int_equal(cnai_lineage_entity(&id, fx->st, CNAI_ENTITY_IMAGE,
					     "sha256:bbbb", NULL), 0);
	assert_int_equal(cnai_store_commit(fx->st), 0);
	assert_int_equal(stat(fixture_path(fx, ".cnai/cnai.db-wal"), &sb), 0);
	assert_true(sb.st_size > 0);
	assert_int_equal(cnai_store_checkpoint(fx->st), 0);
	assert_int_equal(stat(fixture_path(fx, ".cnai/cnai.db-wal"), &sb), 0);
	assert_int_equal(sb.st_size, 0);
}

struct seen {
	char refs[4][16];
	int n, stop_at;
};

static int collect(const char *digest, void *payload)
{
	struct seen *s = payload;

	snprintf(s->refs[s->n], sizeof(s->refs[0]), "%s", digest);
	return ++s->n == s->stop_at ? 7 : 0;
}

static void test_store__deployments_newest_first_in_any_namespace(
	void **state)
{
	struct fixture *fx = *state;
	struct seen all = { .stop_at = -1 }, first = { .stop_at = 1 };
	int64_t id;

	assert_int_equal(cnai_store_begin_write(fx->st), 0);
	assert_int_equal(cnai_lineage_entity(&id, fx->st,
					     CNAI_ENTITY_DEPLOYMENT, "old",
					     "default/iris"), 0);
	assert_int_equal(cnai_lineage_entity(&id, fx->st,
					     CNAI_ENTITY_DEPLOYMENT, "other",
					     "default/wine"), 0);
	assert_int_equal(cnai_lineage_entity(&id, fx->st,
					     CNAI_ENTITY_DEPLOYMENT, "new",
					     "prod/iris"), 0);
	assert_int_equal(cnai_store_commit(fx->st), 0);
	assert_int_equal(cnai_store_deployments_foreach(fx->st, "iris",
							collect, &all), 0);
	assert_int_equal(all.n, 2);
	assert_string_equal(all.refs[0], "new");
	assert_string_equal(all.refs[1], "old");
	/* what the callback returns to stop is returned */
	assert_int_equal(cnai_store_deployments_foreach(fx->st, "iris",
							collect, &first), 7);
	assert_int_equal(first.n, 1);
}

static void test_store__unknown_run_status_is_reported(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run_spec spec = { .git_dirty = -1 };
	struct cnai_run *r = NULL, *again = NULL;

	assert_int_equal(cnai_run_create(&r, fx->st, &spec), 0);
	assert_int_equal(r->status, CNAI_RUN_RUNNING);
	assert_int_equal(cnai_db_exec(&fx->st->db, "UPDATE runs SET status = "
				      "'PAUSED'"), 0);
	assert_int_equal(cnai_run_lookup(&again, fx->st, r->uuid),
			 CNAI_EINVALID);
	assert_non_null(strstr(cnai_error_last()->message, "'PAUSED'"));
	assert_null(again);
	cnai_run_free(r);
}

static void test_store__layer_cache_hit_needs_its_blob(void **state)
{
	struct fixture *fx = *state;
	struct cnai_store_cached_layer l = { .size = 1 }, got;
	char digest[CNAI_DIGEST_LEN];

	assert_int_equal(cnai_blob_put_buffer(digest, fx->st, "x", 1), 0);
	snprintf(l.digest, sizeof(l.digest), "%s", digest);
	snprintf(l.diff_id, sizeof(l.diff_id), "%s", digest);
	snprintf(l.media_type, sizeof(l.media_type), "application/x");
	assert_int_equal(cnai_store_layer_cache_put(fx->st, "k1", &l), 0);
	assert_int_equal(cnai_store_layer_cache_get(&got, fx->st, "k1"), 0);
	assert_string_equal(got.digest, digest);
	assert_string_equal(got.media_type, "application/x");
	assert_int_equal(got.size, 1);
	assert_int_equal(cnai_store_layer_cache_get(&got, fx->st, "k2"),
			 CNAI_ENOTFOUND);
	/* a row whose blob gc removed is a miss */
	snprintf(l.digest, sizeof(l.digest), "sha256:%064d", 0);
	assert_int_equal(cnai_store_layer_cache_put(fx->st, "k1", &l), 0);
	assert_int_equal(cnai_store_layer_cache_get(&got, fx->st, "k1"),
			 CNAI_ENOTFOUND);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_store, \
						fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_store__rollback_discards_commit_keeps),
		T(test_store__integrity_of_a_sound_store_has_no_problem),
		T(test_store__checkpoint_empties_the_wal),
		T(test_store__deployments_newest_first_in_any_namespace),
		T(test_store__layer_cache_hit_needs_its_blob),
		T(test_store__unknown_run_status_is_reported),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
