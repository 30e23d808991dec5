/*
 * The library half of 'cnai train' that the command line reaches only
 * through whole trainings: option keys and their checks, the sweep's axes,
 * grid order, child names, fork pool and best-run choice, and the split
 * and target standardisation.
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/ml/split.h"
#include "core/ml/sweep.h"
#include "core/ml/train_config.h"
#include "core/util/error.h"
#include "core/util/banned.h"

static void base_config(struct cnai_train_config *c)
{
	memset(c, 0, sizeof(*c));
	c->v[CNAI_TK_DATA] = "d.csv";
	c->v[CNAI_TK_TARGET] = "y";
	c->v[CNAI_TK_OUTPUT] = "out";
}

static void test_config__find_key_reads_underscores_and_o(void **state)
{
	assert_int_equal(cnai_train_config_find_key("batch_size"),
			 CNAI_TK_BATCH);
	assert_int_equal(cnai_train_config_find_key("o"), CNAI_TK_OUTPUT);
	assert_int_equal(cnai_train_config_find_key("nope"), -1);
}

static void test_config__resolve_fills_defaults(void **state)
{
	struct cnai_train_config c;

	base_config(&c);
	assert_int_equal(cnai_train_config_resolve(&c), 0);
	assert_string_equal(c.v[CNAI_TK_VALID_SPLIT], "0.2");
	assert_int_equal(c.kind, -1);
	assert_int_equal(c.t.epochs, 20);
	assert_int_equal(c.delim, ',');
}

static void test_config__resolve_names_the_bad_option(void **state)
{
	struct cnai_train_config c;

	base_config(&c);
	c.v[CNAI_TK_EPOCHS] = "0";
	assert_int_equal(cnai_train_config_resolve(&c), CNAI_EUSAGE);
	assert_string_equal(cnai_error_last()->message,
			    "--epochs: must be at least 1, not 0");
	base_config(&c);
	c.v[CNAI_TK_OUTPUT] = NULL;
	assert_int_equal(cnai_train_config_resolve(&c), CNAI_EUSAGE);
	cnai_error_clear();
}

static void test_sweep__parse_refuses_a_key_that_cannot_sweep(void **state)
{
	struct cnai_sweep_axis ax[CNAI_SWEEP_MAX_AXES];
	struct cnai_train_strings own = { 0 };
	char *specs[] = { "data=a,b" };
	size_t nax, i;

	assert_int_equal(cnai_sweep_parse(ax, &nax, specs, 1, &own),
			 CNAI_EUSAGE);
	for (i = 0; i < nax; i++)
		free(ax[i].vals);
	cnai_train_strings_release(&own);
	cnai_error_clear();
}

static void test_sweep__grid_changes_the_last_axis_fastest(void **state)
{
	struct cnai_sweep_axis ax[CNAI_SWEEP_MAX_AXES];
	struct cnai_train_strings own = { 0 };
	struct cnai_train_config base, *cfgs = NULL;
	char *specs[] = { "lr=0.1,0.01", "hidden=8x4,2" };
	char name[300];
	size_t nax, i;

	base_config(&base);
	assert_int_equal(cnai_sweep_parse(ax, &nax, specs, 2, &own), 0);
	assert_int_equal(nax, 2);
	assert_int_equal(cnai_sweep_size(ax, nax), 4);
	assert_int_equal(cnai_sweep_expand(&cfgs, &base, ax, nax), 0);
	assert_string_equal(cfgs[1].v[CNAI_TK_LR], "0.1");
	assert_string_equal(cfgs[1].v[CNAI_TK_HIDDEN], "2");
	assert_string_equal(cfgs[2].v[CNAI_TK_LR], "0.01");
	assert_int_equal(cfgs[0].nhidden, 2);
	cnai_sweep_child_name(name, sizeof(name), NULL, &cfgs[0], ax, nax);
	assert_string_equal(name, "sweep-lr=0.1-hidden=8x4");
	cnai_sweep_child_name(name, sizeof(name), "a/b", &cfgs[3], ax, nax);
	assert_string_equal(name, "a_b-lr=0.01-hidden=2");
	free(cfgs);
	for (i = 0; i < nax; i++)
		free(ax[i].vals);
	cnai_train_strings_release(&own);
}

static void test_sweep__a_bad_combination_fails_the_grid(void **state)
{
	struct cnai_sweep_axis ax[CNAI_SWEEP_MAX_AXES];
	struct cnai_train_strings own = { 0 };
	struct cnai_train_config base, *cfgs = NULL;
	char *specs[] = { "dropout=0.5,2" };
	size_t nax, i;

	base_config(&base);
	assert_int_equal(cnai_sweep_parse(ax, &nax, specs, 1, &own), 0);
	assert_int_equal(cnai_sweep_expand(&cfgs, &base, ax, nax),
			 CNAI_EUSAGE);
	assert_null(cfgs);
	for (i = 0; i < nax; i++)
		free(ax[i].vals);
	cnai_train_strings_release(&own);
	cnai_error_clear();
}

static void test_sweep__best_skips_runs_without_a_loss(void **state)
{
	double loss[] = { NAN, 0.5, 0.25, 0.25 };

	assert_int_equal(cnai_sweep_best(loss, 4), 2);
	assert_int_equal(cnai_sweep_best(loss, 1), -1);
	assert_true(cnai_sweep_loss(NAN, 3.0) == 3.0);
	assert_true(cnai_sweep_loss(1.0, 3.0) == 1.0);
}

static int odd_fails(size_t i, void *payload)
{
	return i % 2 ? -1 : 0;
}

static void test_sweep__pool_counts_failed_children(void **state)
{
	size_t started, failed;
	volatile sig_atomic_t stop = 0;

	assert_int_equal(cnai_sweep_pool_run(&started, &failed, 5, 2,
					     odd_fails, NULL, &stop), 0);
	assert_int_equal(started, 5);
	assert_int_equal(failed, 2);
	stop = 1;
	assert_int_equal(cnai_sweep_pool_run(&started, &failed, 5, 2,
					     odd_fails, NULL, &stop), 0);
	assert_int_equal(started, 0);
}

static void test_split__shuffle_is_a_partition(void **state)
{
	int32_t train[7], val[3];
	unsigned char seen[10] = { 0 };
	size_t i;

	assert_int_equal(cnai_split_count(10, 0.2), 2);
	assert_int_equal(cnai_split_count(3, 0.01), 1);
	assert_int_equal(cnai_split_count(3, 0), 0);
	assert_int_equal(cnai_split_shuffle(train, val, 10, 3, 42), 0);
	for (i = 0; i < 7; i++)
		seen[train[i]]++;
	for (i = 0; i < 3; i++)
		seen[val[i]]++;
	for (i = 0; i < 10; i++)
		assert_int_equal(seen[i], 1);
}

static void test_split__standardize_uses_training_rows(void **state)
{
	double target[] = { 1, 3, 100, 5 };
	int32_t train[] = { 0, 1 };
	float y[4], mean, std;

	cnai_split_standardize(y, &mean, &std, target, 4, train, 2);
	assert_true(mean == 2.0f && std == 1.0f);
	assert_true(y[0] == -1.0f && y[3] == 3.0f);
	target[1] = 1; /* constant: std 1, not a division by 0 */
	cnai_split_standardize(y, &mean, &std, target, 4, train, 2);
	assert_true(std == 1.0f && y[1] == 0.0f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__find_key_reads_underscores_and_o),
		cmocka_unit_test(test_config__resolve_fills_defaults),
		cmocka_unit_test(test_config__resolve_names_the_bad_option),
		cmocka_unit_test(
			test_sweep__parse_refuses_a_key_that_cannot_sweep),
		cmocka_unit_test(test_sweep__grid_changes_the_last_axis_fastest),
		cmocka_unit_test(test_sweep__a_bad_combination_fails_the_grid),
		cmocka_unit_test(test_sweep__best_skips_runs_without_a_loss),
		cmocka_unit_test(test_sweep__pool_counts_failed_children),
		cmocka_unit_test(test_split__shuffle_is_a_partition),
		cmocka_unit_test(test_split__standardize_uses_training_rows),
	};

	return cmocka_run_group_tests_name("ml-sweep", tests, NULL, NULL);
}
