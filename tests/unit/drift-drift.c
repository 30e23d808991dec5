/*
 * Tests for core/drift/drift.c: on two small tables with known statistics
 * each column gets the test Evidently would choose and the value scipy
 * computes, the data set drifts by the share of drifted columns, a named
 * method or threshold is used, and options that do not fit the data are
 * refused with the code and message a caller shows.
 *
 * Expected values were computed once with python3-scipy 1.10.1:
 *   a = [1.5, 2.5, .. 10.5], b = [6.5, .. 15.5]
 *   stats.ks_2samp(a, b)                -> D 0.5, p 0.16782134274394334
 *   stats.wasserstein_distance(a, b)    -> 5.0; np.std(a) 2.8722813232690143
 *   stats.chisquare([2,3,5], [5,3,2])   -> 6.3, p 0.04285212686704018
 *   stats.chi2_contingency([[5,3,2],[2,3,5]], correction=False)
 *                                       -> 2.5714285714285716,
 *                                          p 0.2764530466295643
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/drift/drift.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

/* x: numbers 1.5..10.5 (ref) and 6.5..15.5 (cur), not integers so that
 * they stay numerical with 10 distinct values; c: 3 categories whose counts
 * swap ends; s: two values in equal shares on both sides. */
static const char ref_csv[] = "x,c,s\n"
			      "1.5,a,yes\n2.5,a,no\n3.5,a,yes\n4.5,a,no\n"
			      "5.5,a,yes\n6.5,b,no\n7.5,b,yes\n8.5,b,no\n"
			      "9.5,c,yes\n10.5,c,no\n";
static const char cur_csv[] = "x,c,s\n"
			      "6.5,a,yes\n7.5,a,no\n8.5,b,yes\n9.5,b,no\n"
			      "10.5,b,yes\n11.5,c,no\n12.5,c,yes\n13.5,c,no\n"
			      "14.5,c,yes\n15.5,c,no\n";

static void write_tables(struct fixture *fx, struct cnai_drift_options *o,
			 char ref[600], char cur[600])
{
	assert_int_equal(fixture_write(fx, "ref.csv", ref_csv,
				       sizeof(ref_csv) - 1), 0);
	assert_int_equal(fixture_write(fx, "cur.csv", cur_csv,
				       sizeof(cur_csv) - 1), 0);
	snprintf(ref, 600, "%s/ref.csv", fx->dir);
	snprintf(cur, 600, "%s/cur.csv", fx->dir);
	cnai_drift_options_init(o);
	o->ref_path = ref;
	o->cur_path = cur;
	o->threads = 1;
}

static const struct cnai_drift_column *col(const struct cnai_drift_report *r,
					   const char *name)
{
	size_t i;

	for (i = 0; i < r->ncols; i++)
		if (!strcmp(r->cols[i].name, name))
			return &r->cols[i];
	fail_msg("no column '%s' in the report", name);
	return NULL;
}

static void assert_close(double got, double want)
{
	if (!(fabs(got - want) <= 1e-9 * fmax(1, fabs(want))))
		fail_msg("got %.17g, want %.17g", got, want);
}

static void test_drift__auto_methods_match_scipy(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	const struct cnai_drift_column *x, *c, *s;
	char ref[600], cur[600];

	write_tables(fx, &o, ref, cur);
	assert_int_equal(cnai_drift_run(&r, &o), 0);
	assert_int_equal(r->ncols, 3);
	assert_int_equal(r->ref.rows, 10);
	assert_int_equal(r->cur.columns, 3);

	x = col(r, "x");
	assert_int_equal(x->type, CNAI_DRIFT_NUMERICAL);
	assert_int_equal(x->method, CNAI_DRIFT_KS);
	assert_string_equal(x->ks_mode, "exact");
	assert_close(x->statistic, 0.5);
	assert_close(x->p_value, 0.16782134274394334);
	assert_close(x->threshold, 0.05);
	assert_false(x->drifted);
	assert_close(x->ref_mean, 6.0);
	assert_close(x->cur_mean, 11.0);
	assert_close(x->ref_std, 2.8722813232690143); /* ddof 0 */
	assert_int_equal(x->ref_count, 10);
	assert_int_equal(x->n_unique, 15);
	assert_false(x->sketch);

	c = col(r, "c");
	assert_int_equal(c->type, CNAI_DRIFT_CATEGORICAL);
	assert_int_equal(c->method, CNAI_DRIFT_CHISQUARE);
	assert_close(c->statistic, 6.3);
	assert_close(c->p_value, 0.04285212686704018);
	assert_true(c->drifted);

	s = col(r, "s");
	assert_int_equal(s->method, CNAI_DRIFT_Z); /* two values */
	assert_false(s->drifted);

	/* one column of three: below the default share of 0.5 */
	assert_int_equal(r->evaluated, 3);
	assert_int_equal(r->drifted, 1);
	assert_close(r->share, 1.0 / 3);
	assert_false(r->dataset_drift);
	cnai_drift_report_free(r);
}

static void test_drift__share_decides_dataset_drift(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	char ref[600], cur[600];

	write_tables(fx, &o, ref, cur);
	o.drift_share = 1.0 / 3; /* reached exactly: drift */
	assert_int_equal(cnai_drift_run(&r, &o), 0);
	assert_true(r->dataset_drift);
	cnai_drift_report_free(r);
}

static void test_drift__named_method_and_threshold(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	const struct cnai_drift_column *x;
	static const struct cnai_drift_column_method cm[] = {
		{ "c", CNAI_DRIFT_CHI2 },
	};
	const char *const cols[] = { "x", "c" };
	char ref[600], cur[600];

	write_tables(fx, &o, ref, cur);
	o.method = CNAI_DRIFT_WASSERSTEIN;
	o.column_methods = cm;
	o.ncolumn_methods = 1;
	o.columns = cols;
	o.ncolumns = 2;
	o.threshold = 2.0;
	assert_int_equal(cnai_drift_run(&r, &o), 0);
	assert_int_equal(r->ncols, 2);
	x = col(r, "x");
	assert_int_equal(x->method, CNAI_DRIFT_WASSERSTEIN);
	assert_close(x->statistic, 5.0);
	/* the distance over std(reference): 5 / 2.872... = 1.74 < 2 */
	assert_close(x->score, 5.0 / 2.8722813232690143);
	assert_false(x->drifted);
	assert_int_equal(col(r, "c")->method, CNAI_DRIFT_CHI2);
	assert_close(col(r, "c")->statistic, 2.5714285714285716);
	assert_close(col(r, "c")->p_value, 0.2764530466295643);
	assert_true(isnan(x->p_value));
	cnai_drift_report_free(r);
}

static void test_drift__forced_categorical_counts_numbers(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	const char *const cat[] = { "x" };
	char ref[600], cur[600];

	write_tables(fx, &o, ref, cur);
	o.categorical = cat;
	o.ncategorical = 1;
	assert_int_equal(cnai_drift_run(&r, &o), 0);
	assert_int_equal(col(r, "x")->type, CNAI_DRIFT_CATEGORICAL);
	assert_int_equal(col(r, "x")->method, CNAI_DRIFT_CHISQUARE);
	assert_true(isnan(col(r, "x")->ref_mean));
	cnai_drift_report_free(r);
}

static void test_drift__few_integers_are_categorical(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	char ref[600], cur[600];
	static const char ints[] = "n\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";

	write_tables(fx, &o, ref, cur);
	/* as Evidently types them: at most 10 distinct integers */
	assert_int_equal(fixture_write(fx, "ref.csv", ints, sizeof(ints) - 1),
			 0);
	assert_int_equal(fixture_write(fx, "cur.csv", ints, sizeof(ints) - 1),
			 0);
	assert_int_equal(cnai_drift_run(&r, &o), 0);
	assert_int_equal(col(r, "n")->type, CNAI_DRIFT_CATEGORICAL);
	assert_int_equal(col(r, "n")->method, CNAI_DRIFT_CHISQUARE);
	assert_false(col(r, "n")->drifted);
	cnai_drift_report_free(r);
}

static void test_drift__report_json_fields(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	json_t *j, *cols;
	char ref[600], cur[600];

	write_tables(fx, &o, ref, cur);
	assert_int_equal(cnai_drift_run(&r, &o), 0);
	assert_non_null(j = cnai_drift_report_json(r));
	cols = json_object_get(j, "columns");
	assert_true(json_is_array(cols));
	assert_int_equal(json_array_size(cols), 3);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(cols, 0), "name")), "x");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(cols, 0), "method")), "ks");
	json_decref(j);
	cnai_drift_report_free(r);
}

static void test_drift__severity_order_most_drifted_first(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	size_t *ord;
	char ref[600], cur[600];

	write_tables(fx, &o, ref, cur);
	assert_int_equal(cnai_drift_run(&r, &o), 0);
	assert_non_null(ord = cnai_drift_severity_order(r));
	assert_string_equal(r->cols[ord[0]].name, "c");
	assert_true(cnai_drift_severity(&r->cols[ord[0]]) > 1);
	assert_true(cnai_drift_severity(&r->cols[ord[1]]) <= 1);
	free(ord);
	cnai_drift_report_free(r);
}

static void test_drift__method_names(void **state)
{
	enum cnai_drift_method m = CNAI_DRIFT_AUTO;

	assert_int_equal(cnai_drift_method_parse(&m, "js"), 0);
	assert_int_equal(m, CNAI_DRIFT_JS);
	assert_string_equal(cnai_drift_method_name(m), "jensenshannon");
	assert_true(cnai_drift_method_is_pvalue(CNAI_DRIFT_KS));
	assert_false(cnai_drift_method_is_pvalue(CNAI_DRIFT_PSI));
	assert_close(cnai_drift_method_threshold(CNAI_DRIFT_PSI), 0.1);
	assert_int_equal(cnai_drift_method_parse(&m, "kolmogorov"),
			 CNAI_EUSAGE);
	assert_non_null(strstr(fixture_errmsg(),
			       "unknown drift method 'kolmogorov' (auto, ks,"));
}

static void test_drift__column_missing_from_one_side(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift_report *r = (void *)1;
	char ref[600], cur[600], want[1400];

	write_tables(fx, &o, ref, cur);
	assert_int_equal(fixture_write(fx, "cur.csv", "x,c\n1,a\n", 8), 0);
	assert_int_equal(cnai_drift_run(&r, &o), CNAI_EINVALID);
	assert_null(r);
	snprintf(want, sizeof(want), "column 's' is in %s but not in %s",
		 ref, cur);
	assert_string_equal(fixture_errmsg(), want);
}

static void test_drift__unknown_column_option(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	const char *const cols[] = { "zz" };
	char ref[600], cur[600], want[1400];

	write_tables(fx, &o, ref, cur);
	o.columns = cols;
	o.ncolumns = 1;
	assert_int_equal(cnai_drift_run(&r, &o), CNAI_EUSAGE);
	snprintf(want, sizeof(want), "--columns: no column 'zz' in %s or %s",
		 ref, cur);
	assert_string_equal(fixture_errmsg(), want);
}

/* Runs the tables with `m` for column c; it must be refused with `msg`. */
static void refused_for_c(struct fixture *fx, enum cnai_drift_method m,
			  const char *msg)
{
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	struct cnai_drift_column_method cm = { "c", m };
	char ref[600], cur[600];

	write_tables(fx, &o, ref, cur);
	o.column_methods = &cm;
	o.ncolumn_methods = 1;
	assert_int_equal(cnai_drift_run(&r, &o), CNAI_EUSAGE);
	assert_null(r);
	assert_string_equal(fixture_errmsg(), msg);
}

static void test_drift__numeric_method_on_categorical_refused(void **state)
{
	refused_for_c(*state, CNAI_DRIFT_KS,
		      "--column-method c=ks: 'ks' needs a numerical column; "
		      "'c' is categorical");
}

static void test_drift__ztest_on_three_values_refused(void **state)
{
	refused_for_c(*state, CNAI_DRIFT_Z,
		      "column 'c': the Z-test needs at most two distinct "
		      "values, found 3");
}

static void test_drift__both_sides_from_stdin_refused(void **state)
{
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;

	cnai_drift_options_init(&o);
	o.ref_path = o.cur_path = "-";
	assert_int_equal(cnai_drift_run(&r, &o), CNAI_EUSAGE);
	assert_string_equal(fixture_errmsg(),
			    "only one side can be read from stdin ('-')");
}

static void test_drift__missing_file_names_it(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift_report *r = NULL;
	char ref[600], cur[600];

	write_tables(fx, &o, ref, cur);
	assert_int_equal(unlink(cur), 0);
	assert_true(cnai_drift_run(&r, &o) < 0);
	assert_null(r);
	assert_non_null(strstr(fixture_errmsg(), cur));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup_dir, \
					     fixture_teardown)
		T(test_drift__auto_methods_match_scipy),
		T(test_drift__share_decides_dataset_drift),
		T(test_drift__named_method_and_threshold),
		T(test_drift__forced_categorical_counts_numbers),
		T(test_drift__few_integers_are_categorical),
		T(test_drift__report_json_fields),
		T(test_drift__severity_order_most_drifted_first),
		T(test_drift__method_names),
		T(test_drift__column_missing_from_one_side),
		T(test_drift__unknown_column_option),
		T(test_drift__numeric_method_on_categorical_refused),
		T(test_drift__ztest_on_three_values_refused),
		T(test_drift__both_sides_from_stdin_refused),
		T(test_drift__missing_file_names_it),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
