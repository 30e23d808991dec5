/*
 * Tests for core/drift/read.c: one side of a comparison read from a CSV
 * file into per-column storage. A column stays numeric while its cells are
 * numbers and becomes counted strings at the first that is not
 * (remembering where), missing cells and infinities are counted apart,
 * the selected columns and their options are applied, the values come
 * back exactly and sorted, the file's digest and size are its own, and
 * bad files are refused naming file and line. (Number parsing, keys and
 * sorting are covered by drift-stats.c.)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/drift/drift.h"
#include "core/drift/read.h"
#include "core/util/error.h"
#include "core/util/hash.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

struct read_fx {
	struct fixture *fx;
	struct cnai_drift_options o;
	struct cnai_drift__side side;
	char path[600];
};

/* Writes `csv` as in.csv and reads it as a side with options `o`
 * (defaults if NULL); returns side.err. */
static int read_csv_text(struct read_fx *r, struct fixture *fx,
			 const char *csv, const struct cnai_drift_options *o)
{
	memset(r, 0, sizeof(*r));
	r->fx = fx;
	if (o)
		r->o = *o;
	else
		cnai_drift_options_init(&r->o);
	assert_int_equal(fixture_write(fx, "in.csv", csv, strlen(csv)), 0);
	snprintf(r->path, sizeof(r->path), "%s/in.csv", fx->dir);
	r->side.path = r->path;
	r->side.o = &r->o;
	assert_null(cnai_drift__read_side(&r->side));
	return r->side.err;
}

static struct cnai_drift__col *side_col(struct read_fx *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->side.ncols; i++)
		if (!strcmp(r->side.cols[i].name, name))
			return &r->side.cols[i];
	fail_msg("no column '%s'", name);
	return NULL;
}

static int64_t count_of(struct cnai_drift__col *c, const char *value)
{
	struct cnai_drift__entry *e =
		cnai_drift__map_get(&c->map, value, strlen(value));

	return e ? e->count : 0;
}

static void test_read__columns_typed_and_counted(void **state)
{
	struct read_fx r;
	struct cnai_drift__col *a, *b, *c;

	assert_int_equal(read_csv_text(&r, *state,
				       "a,b,c\n"
				       "1,x,3\n"
				       "2.5,y,NA\n"
				       ",x,inf\n"
				       "-4,x,7\n", NULL), 0);
	assert_int_equal(r.side.rows, 4);
	assert_int_equal(r.side.nheader, 3);
	assert_int_equal(r.side.ncols, 3);
	assert_string_equal(r.side.display, r.path);

	a = side_col(&r, "a");
	assert_true(a->numeric);
	assert_false(a->isint); /* 2.5, and a missing cell */
	assert_int_equal(a->n, 3);
	assert_int_equal(a->missing, 1);

	b = side_col(&r, "b");
	assert_false(b->numeric);
	assert_int_equal(b->map.n, 2);
	assert_int_equal(count_of(b, "x"), 3);
	assert_int_equal(count_of(b, "y"), 1);
	assert_int_equal(b->bad_line, 2); /* the first cell: line 2 */
	assert_string_equal(b->bad_value, "x");

	/* "NA" and an infinity are missing, as Evidently drops them */
	c = side_col(&r, "c");
	assert_true(c->numeric);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->missing, 2);
	cnai_drift__side_release(&r.side);
}

static void test_read__values_exact_and_sorted(void **state)
{
	struct read_fx r;
	struct cnai_drift__col *a;
	static const double want[] = { -4, 0.1, 1, 2.5, 1e300 };
	size_t i;

	assert_int_equal(read_csv_text(&r, *state,
				       "a\n2.5\n1e300\n0.1\n-4\n1\n", NULL), 0);
	a = side_col(&r, "a");
	assert_int_equal(cnai_drift__col_sorted(a), 0);
	assert_int_equal(a->n, 5);
	for (i = 0; i < 5; i++)
		if (a->v[i] != want[i])
			fail_msg("v[%zu] = %.17g, want %.17g", i, a->v[i],
				 want[i]);
	cnai_drift__side_release(&r.side);
}

static void test_read__number_then_word_becomes_strings(void **state)
{
	struct read_fx r;
	struct cnai_drift__col *a;

	assert_int_equal(read_csv_text(&r, *state,
				       "a\n1\n1.0\n2\nabc\n2\n", NULL), 0);
	a = side_col(&r, "a");
	assert_false(a->numeric);
	assert_int_equal(a->bad_line, 5);
	assert_string_equal(a->bad_value, "abc");
	/* the numbers read so far are counted by value: 1 and 1.0 are one */
	assert_int_equal(count_of(a, "1"), 2);
	assert_int_equal(count_of(a, "2"), 2);
	assert_int_equal(count_of(a, "abc"), 1);
	cnai_drift__side_release(&r.side);
}

static void test_read__selection_and_forced_types(void **state)
{
	struct read_fx r;
	struct cnai_drift_options o;
	const char *const cols[] = { "a", "b", "d" };
	const char *const ign[] = { "d" };
	const char *const cat[] = { "a" };

	cnai_drift_options_init(&o);
	o.columns = cols;
	o.ncolumns = 3;
	o.ignore = ign;
	o.nignore = 1;
	o.categorical = cat;
	o.ncategorical = 1;
	assert_int_equal(read_csv_text(&r, *state,
				       "a,b,c,d,a\n1,2,3,4,5\n1.0,3,3,4,5\n",
				       &o), 0);
	assert_int_equal(r.side.nheader, 5);
	assert_int_equal(r.side.ncols, 2); /* c not asked, d ignored */
	assert_string_equal(r.side.cols[0].name, "a");
	assert_string_equal(r.side.cols[1].name, "b");
	/* the first "a" counts; forced categorical counts numbers by value */
	assert_false(r.side.cols[0].numeric);
	assert_int_equal(count_of(&r.side.cols[0], "1"), 2);
	assert_true(r.side.cols[1].numeric);
	cnai_drift__side_release(&r.side);
}

static void test_read__digest_and_size_of_the_file(void **state)
{
	struct read_fx r;
	char want[CNAI_DIGEST_LEN];
	static const char csv[] = "a\n1\n2\n";

	assert_int_equal(read_csv_text(&r, *state, csv, NULL), 0);
	assert_int_equal(cnai_sha256_buffer(want, csv, sizeof(csv) - 1), 0);
	assert_string_equal(r.side.digest, want);
	assert_int_equal(r.side.size, sizeof(csv) - 1);
	cnai_drift__side_release(&r.side);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void test_read__many_values_past_a_chunk(void **state)
{
	struct fixture *fx = *state;
	struct read_fx r;
	struct cnai_drift__col *a;
	struct cnai_buf csv = CNAI_BUF_INIT;
	size_t i, n = CNAI_DRIFT_CHUNK + 1000;
	double *want = malloc(n * sizeof(double));
	char cell[32];

	/* short decimals, packed in runs, then read back exactly: the
	 * values strtod gives for the cells, sorted */
	assert_non_null(want);
	cnai_buf_adds(&csv, "a\n");
	for (i = 0; i < n; i++) {
		snprintf(cell, sizeof(cell), "%zu.%zu", (n - i) % 5000, i % 10);
		cnai_buf_addf(&csv, "%s\n", cell);
		want[i] = strtod(cell, NULL);
	}
	qsort(want, n, sizeof(double), cmp_double);
	assert_int_equal(read_csv_text(&r, fx, csv.buf, NULL), 0);
	a = side_col(&r, "a");
	assert_true(a->nrun > 0);
	assert_false(a->wide);
	assert_int_equal(cnai_drift__col_sorted(a), 0);
	assert_int_equal(a->n, n);
	assert_memory_equal(a->v, want, n * sizeof(double));
	free(want);
	cnai_buf_release(&csv);
	cnai_drift__side_release(&r.side);
}

static void test_read__forced_numerical_refuses_a_word(void **state)
{
	struct read_fx r;
	struct cnai_drift_options o;
	const char *const num[] = { "a" };
	char want[800];

	cnai_drift_options_init(&o);
	o.numerical = num;
	o.nnumerical = 1;
	assert_int_equal(read_csv_text(&r, *state, "a\n1\n2\nabc\n", &o),
			 CNAI_EINVALID);
	snprintf(want, sizeof(want), "%s:4: column 'a': 'abc' is not a number",
		 r.path);
	assert_string_equal(r.side.errmsg, want);
	cnai_drift__side_release(&r.side);
}

static void test_read__empty_file_refused(void **state)
{
	struct read_fx r;
	char want[800];

	assert_int_equal(read_csv_text(&r, *state, "", NULL), CNAI_EINVALID);
	snprintf(want, sizeof(want), "%s: empty file, expected a header line",
		 r.path);
	assert_string_equal(r.side.errmsg, want);
	cnai_drift__side_release(&r.side);
}

static void test_read__header_without_rows_refused(void **state)
{
	struct read_fx r;
	char want[800];

	assert_int_equal(read_csv_text(&r, *state, "a,b\n", NULL),
			 CNAI_EINVALID);
	snprintf(want, sizeof(want), "%s: no data rows after the header",
		 r.path);
	assert_string_equal(r.side.errmsg, want);
	cnai_drift__side_release(&r.side);
}

static void test_read__missing_file_names_it(void **state)
{
	struct fixture *fx = *state;
	struct cnai_drift_options o;
	struct cnai_drift__side s;

	memset(&s, 0, sizeof(s));
	cnai_drift_options_init(&o);
	s.path = fixture_path(fx, "absent.csv");
	s.o = &o;
	cnai_drift__read_side(&s);
	assert_true(s.err < 0);
	assert_non_null(strstr(s.errmsg, "absent.csv"));
	cnai_drift__side_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup_dir, \
					     fixture_teardown)
		T(test_read__columns_typed_and_counted),
		T(test_read__values_exact_and_sorted),
		T(test_read__number_then_word_becomes_strings),
		T(test_read__selection_and_forced_types),
		T(test_read__digest_and_size_of_the_file),
		T(test_read__many_values_past_a_chunk),
		T(test_read__forced_numerical_refuses_a_word),
		T(test_read__empty_file_refused),
		T(test_read__header_without_rows_refused),
		T(test_read__missing_file_names_it),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
