/*
 * Tests for core/store/logger.c: write-once params, tags, the latest value
 * of each metric (MLflow's rule: highest step, then latest timestamp), NaN
 * and infinities stored faithfully, key checks, and that an aborted logger
 * leaves nothing behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "core/store/logger.h"
#include "core/store/runs.h"
#include "core/store/store_impl.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

struct lfixture {
	struct fixture base; /* first: fixture_teardown frees it */
	struct cnai_run *run;
};

static int setup(void **state)
{
	struct cnai_run_spec spec = { 0 };
	struct fixture *fx;
	struct lfixture *lf;

	if (fixture_setup_store(state) < 0)
		return -1;
	fx = *state;
	if (!(lf = realloc(fx, sizeof(*lf))))
		return -1;
	*state = lf;
	spec.name = "r";
	spec.git_dirty = -1;
	if (cnai_run_create(&lf->run, lf->base.st, &spec) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct lfixture *lf = *state;

	cnai_run_free(lf->run);
	return fixture_teardown(state);
}

static int64_t count(struct lfixture *lf, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	assert_int_equal(cnai_db_prepare(&st, &lf->base.st->db, sql), 0);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static struct cnai_logger *begin(struct lfixture *lf)
{
	struct cnai_logger *lg = NULL;

	assert_int_equal(cnai_logger_begin(&lg, lf->base.st, lf->run->id), 0);
	return lg;
}

static void test_logger__param_is_write_once(void **state)
{
	struct lfixture *lf = *state;
	struct cnai_logger *lg = begin(lf);
	struct cnai_kv *kv = NULL;
	size_t n = 0;

	assert_int_equal(cnai_logger_param(lg, "lr", "0.1"), 0);
	assert_int_equal(cnai_logger_param(lg, "lr", "0.1"), 0);
	assert_int_equal(cnai_logger_param(lg, "lr", "0.2"), CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(),
			    "param 'lr' is already '0.1' for this run; params "
			    "cannot change (new value '0.2')");
	assert_int_equal(cnai_logger_param(lg, "batch", "32"), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);

	/* in a later transaction too: same value fine, another refused */
	lg = begin(lf);
	assert_int_equal(cnai_logger_param(lg, "lr", "0.1"), 0);
	assert_int_equal(cnai_logger_param(lg, "lr", "0.10"), CNAI_EINVALID);
	cnai_logger_abort(lg);

	assert_int_equal(cnai_run_params(&kv, &n, lf->base.st, lf->run->id), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kv[0].key, "batch");
	assert_string_equal(kv[1].key, "lr");
	assert_string_equal(kv[1].value, "0.1");
	cnai_kv_free_array(kv, n);
}

static void test_logger__param_empty_and_long_values(void **state)
{
	struct lfixture *lf = *state;
	struct cnai_logger *lg = begin(lf);
	char *big = malloc(CNAI_VALUE_MAX + 2);

	assert_non_null(big);
	memset(big, 'v', CNAI_VALUE_MAX + 1);
	big[CNAI_VALUE_MAX + 1] = '\0';
	assert_int_equal(cnai_logger_param(lg, "empty", ""), 0);
	assert_int_equal(cnai_logger_param(lg, "empty", "x"), CNAI_EINVALID);
	assert_int_equal(cnai_logger_param(lg, "big", big), CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(),
			    "param 'big': value longer than 1048576 bytes");
	big[CNAI_VALUE_MAX] = '\0';
	assert_int_equal(cnai_logger_param(lg, "big", big), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	free(big);
}

static void test_logger__tag_is_overwritten(void **state)
{
	struct lfixture *lf = *state;
	struct cnai_logger *lg = begin(lf);
	struct cnai_kv *kv = NULL;
	size_t n = 0;

	assert_int_equal(cnai_logger_tag(lg, "stage", "dev"), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	lg = begin(lf);
	assert_int_equal(cnai_logger_tag(lg, "stage", "prod"), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	assert_int_equal(cnai_run_tags(&kv, &n, lf->base.st, lf->run->id), 0);
	assert_int_equal(n, 1);
	assert_string_equal(kv[0].value, "prod");
	cnai_kv_free_array(kv, n);
}

/* The latest point of `key`; fails if there is not exactly one. */
static struct cnai_metric_point latest(struct lfixture *lf, const char *key)
{
	struct cnai_metric_point *a = NULL, p = { 0 };
	size_t n = 0, i, found = 0;

	assert_int_equal(cnai_run_latest_metrics(&a, &n, lf->base.st,
						 lf->run->id),
			 0);
	for (i = 0; i < n; i++)
		if (!strcmp(a[i].key, key)) {
			p = a[i];
			p.key = NULL;
			found++;
		}
	cnai_metric_free_array(a, n);
	assert_int_equal(found, 1);
	return p;
}

static void test_logger__latest_is_highest_step_then_timestamp(void **state)
{
	struct lfixture *lf = *state;
	struct cnai_logger *lg = begin(lf);
	struct cnai_metric_point p;

	/* out of order within one transaction */
	assert_int_equal(cnai_logger_metric(lg, "loss", 1.0, 1, 100), 0);
	assert_int_equal(cnai_logger_metric(lg, "loss", 3.0, 3, 60), 0);
	assert_int_equal(cnai_logger_metric(lg, "loss", 2.0, 3, 50), 0);
	assert_int_equal(cnai_logger_metric(lg, "loss", 4.0, 2, 900), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	p = latest(lf, "loss");
	assert_true(p.value == 3.0);
	assert_int_equal(p.step, 3);
	assert_int_equal(p.timestamp, 60);

	/* a later transaction with a lower step does not win, however
	 * recent its timestamp */
	lg = begin(lf);
	assert_int_equal(cnai_logger_metric(lg, "loss", 9.0, 2, 99999), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	p = latest(lf, "loss");
	assert_true(p.value == 3.0);

	/* the same step with a later timestamp does */
	lg = begin(lf);
	assert_int_equal(cnai_logger_metric(lg, "loss", 5.0, 3, 61), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	p = latest(lf, "loss");
	assert_true(p.value == 5.0);
	assert_int_equal(p.timestamp, 61);

	/* and a higher step with an older timestamp does too */
	lg = begin(lf);
	assert_int_equal(cnai_logger_metric(lg, "loss", 6.0, 4, 1), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	p = latest(lf, "loss");
	assert_true(p.value == 6.0);
	assert_int_equal(p.step, 4);

	/* every point stays in the history */
	assert_int_equal(count(lf, "SELECT count(*) FROM metrics"), 7);
}

static void test_logger__history_is_ordered_by_step(void **state)
{
	struct lfixture *lf = *state;
	struct cnai_logger *lg = begin(lf);
	struct cnai_metric_point *a = NULL;
	size_t n = 0;

	assert_int_equal(cnai_logger_metric(lg, "acc", 0.3, 2, 10), 0);
	assert_int_equal(cnai_logger_metric(lg, "acc", 0.1, 0, 30), 0);
	assert_int_equal(cnai_logger_metric(lg, "acc", 0.2, 1, 20), 0);
	assert_int_equal(cnai_logger_metric(lg, "loss", 7, 0, 20), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	assert_int_equal(cnai_run_metric_history(&a, &n, lf->base.st,
						 lf->run->id, "acc"),
			 0);
	assert_int_equal(n, 3);
	assert_true(a[0].value == 0.1 && a[1].value == 0.2 &&
		    a[2].value == 0.3);
	assert_int_equal(a[2].step, 2);
	cnai_metric_free_array(a, n);
	assert_int_equal(cnai_run_metric_history(&a, &n, lf->base.st,
						 lf->run->id, NULL),
			 0);
	assert_int_equal(n, 4);
	assert_string_equal(a[3].key, "loss");
	cnai_metric_free_array(a, n);
}

static void test_logger__nan_is_stored_as_null(void **state)
{
	struct lfixture *lf = *state;
	struct cnai_logger *lg = begin(lf);
	struct cnai_metric_point *a = NULL, p;
	size_t n = 0;

	assert_int_equal(cnai_logger_metric(lg, "m", 1.5, 0, 1), 0);
	assert_int_equal(cnai_logger_metric(lg, "m", NAN, 1, 2), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	assert_int_equal(count(lf, "SELECT count(*) FROM metrics WHERE value "
				   "IS NULL AND step = 1"),
			 1);
	assert_int_equal(count(lf, "SELECT count(*) FROM latest_metrics WHERE "
				   "value IS NULL"),
			 1);
	p = latest(lf, "m");
	assert_true(isnan(p.value));
	assert_int_equal(cnai_run_metric_history(&a, &n, lf->base.st,
						 lf->run->id, "m"),
			 0);
	assert_int_equal(n, 2);
	assert_true(a[0].value == 1.5);
	assert_true(isnan(a[1].value));
	cnai_metric_free_array(a, n);
}

static void test_logger__infinities_round_trip(void **state)
{
	struct lfixture *lf = *state;
	struct cnai_logger *lg = begin(lf);
	struct cnai_metric_point *a = NULL, p;
	size_t n = 0;

	assert_int_equal(cnai_logger_metric(lg, "up", INFINITY, 0, 1), 0);
	assert_int_equal(cnai_logger_metric(lg, "down", -INFINITY, 0, 1), 0);
	assert_int_equal(cnai_logger_metric(lg, "tiny", 5e-324, 0, 1), 0);
	assert_int_equal(cnai_logger_metric(lg, "huge", 1.7976931348623157e308,
					    0, 1),
			 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	assert_int_equal(count(lf, "SELECT count(*) FROM metrics WHERE "
				   "typeof(value) = 'real'"),
			 4);
	p = latest(lf, "up");
	assert_true(isinf(p.value) && p.value > 0);
	p = latest(lf, "down");
	assert_true(isinf(p.value) && p.value < 0);
	p = latest(lf, "tiny");
	assert_true(p.value == 5e-324);
	p = latest(lf, "huge");
	assert_true(p.value == 1.7976931348623157e308);
	assert_int_equal(cnai_run_metric_history(&a, &n, lf->base.st,
						 lf->run->id, "down"),
			 0);
	assert_int_equal(n, 1);
	assert_true(isinf(a[0].value) && a[0].value < 0);
	cnai_metric_free_array(a, n);
}

static void test_logger__abort_leaves_nothing(void **state)
{
	static const char *const tables[] = { "params", "tags", "metrics",
					      "latest_metrics", "artifacts" };
	struct lfixture *lf = *state;
	struct cnai_logger *lg = begin(lf);
	char sql[100];
	size_t i;

	assert_int_equal(cnai_logger_param(lg, "p", "1"), 0);
	assert_int_equal(cnai_logger_tag(lg, "t", "1"), 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(cnai_logger_metric(lg, "m", (double)i,
						    (int64_t)i, 1),
				 0);
	assert_int_equal(cnai_logger_artifact(lg, "a", "sha256:00", 1), 0);
	cnai_logger_abort(lg);
	cnai_logger_abort(NULL);
	for (i = 0; i < sizeof(tables) / sizeof(*tables); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s",
			 tables[i]);
		if (count(lf, sql) != 0)
			fail_msg("%s has rows after abort", tables[i]);
	}
	/* the store is usable afterwards: the lock was released */
	lg = begin(lf);
	assert_int_equal(cnai_logger_metric(lg, "m", 1, 0, 1), 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	assert_int_equal(count(lf, "SELECT count(*) FROM metrics"), 1);
}

static void test_logger__many_keys_keep_their_latest(void **state)
{
	struct lfixture *lf = *state;
	struct cnai_logger *lg = begin(lf);
	struct cnai_metric_point *a = NULL;
	char key[32];
	size_t n = 0, i;
	int step;

	/* enough keys to grow the latest-value table several times */
	for (step = 2; step >= 0; step--)
		for (i = 0; i < 1000; i++) {
			snprintf(key, sizeof(key), "k%04zu", i);
			assert_int_equal(cnai_logger_metric(
						 lg, key, (double)(i * 10 + step),
						 step, 5),
					 0);
		}
	assert_int_equal(cnai_logger_commit(lg), 0);
	assert_int_equal(cnai_run_latest_metrics(&a, &n, lf->base.st,
						 lf->run->id),
			 0);
	assert_int_equal(n, 1000);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%04zu", i);
		if (strcmp(a[i].key, key) || a[i].step != 2 ||
		    a[i].value != (double)(i * 10 + 2))
			fail_msg("latest of %s is wrong", key);
	}
	cnai_metric_free_array(a, n);
	assert_int_equal(count(lf, "SELECT count(*) FROM metrics"), 3000);
}

static void test_logger__keys_are_checked(void **state)
{
	struct lfixture *lf = *state;
	struct cnai_logger *lg = begin(lf);
	char longkey[CNAI_KEY_MAX + 2];

	assert_int_equal(cnai_logger_metric(lg, "", 1, 0, 0), CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(), "metric name is empty");
	assert_int_equal(cnai_logger_param(lg, "a;b", "1"), CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(),
			    "param name 'a;b': character ';' is not allowed "
			    "(use letters, digits, '_', '-', '.', ' ', '/', "
			    "':')");
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_int_equal(cnai_logger_tag(lg, longkey, "1"), CNAI_EINVALID);
	longkey[CNAI_KEY_MAX] = '\0';
	assert_int_equal(cnai_logger_tag(lg, longkey, "1"), 0);
	assert_int_equal(cnai_key_validate("metric", "val/acc top-1:x_y.z"),
			 0);
	assert_int_equal(cnai_logger_commit(lg), 0);
	assert_int_equal(count(lf, "SELECT count(*) FROM metrics"), 0);
	assert_int_equal(count(lf, "SELECT count(*) FROM tags"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_logger__param_is_write_once),
		T(test_logger__param_empty_and_long_values),
		T(test_logger__tag_is_overwritten),
		T(test_logger__latest_is_highest_step_then_timestamp),
		T(test_logger__history_is_ordered_by_step),
		T(test_logger__nan_is_stored_as_null),
		T(test_logger__infinities_round_trip),
		T(test_logger__abort_leaves_nothing),
		T(test_logger__many_keys_keep_their_latest),
		T(test_logger__keys_are_checked),
#undef T
	};

	return cmocka_run_group_tests_name("store-logger", tests, NULL, NULL);
}
