/*
 * Tests for core/store/query.c: the filter language and --order-by keys,
 * run against a real store. Most filter cases live in data/filters.txt,
 * read by test_query__filters_file; this file holds the cases that need
 * code: driver scans, ordering, injection, limits and the value helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/store/db.h"
#include "core/store/migrations.h"
#include "core/store/query.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/banned.h"

struct fixture {
	char dir[64];
	char path[96];
	struct cnai_db db;
};

/* Eight runs, described at the top of data/filters.txt. */
static const char populate[] =
	"INSERT INTO experiments VALUES (1, 'mnist', 0), (2, 'cifar', 0);"
	"INSERT INTO runs (id, uuid, experiment, name, status, start_time,"
	"  end_time, exit_code, user, host, git_commit, git_branch) VALUES"
	" (1, '11111111111111111111111111111111', 1, 'alpha', 'FINISHED',"
	"  1000, 2000, 0, 'alice', 'gpu1', 'a1b2c3', 'main'),"
	" (2, '22222222222222222222222222222222', 1, 'beta', 'FAILED',"
	"  2000, 2500, 1, 'bob', 'gpu2', 'b2c3d4', 'feature/x'),"
	" (3, '33333333333333333333333333333333', 1, 'gamma', 'RUNNING',"
	"  3000, NULL, NULL, 'alice', 'gpu1', NULL, NULL),"
	" (4, '44444444444444444444444444444444', 2, 'delta', 'FINISHED',"
	"  4000, 9000, 0, 'carol', 'cpu1', 'd4e5f6', 'main'),"
	" (5, '55555555555555555555555555555555', 2, 'epsilon', 'KILLED',"
	"  5000, 5100, 137, 'bob', 'gpu2', 'e5f6a7', 'Main'),"
	" (6, '66666666666666666666666666666666', 2, 'zeta', 'FINISHED',"
	"  6000, 7000, 0, 'Alice', 'gpu1', 'f6a7b8', 'release/1.0'),"
	" (7, '77777777777777777777777777777777', 1, 'eta', 'FINISHED',"
	"  7000, 7500, 0, 'dave', 'cpu1', 'a7b8c9', 'main'),"
	" (8, '88888888888888888888888888888888', 2, 'theta', 'FAILED',"
	"  8000, 8100, 2, 'carol', 'gpu2', 'b8c9d0', 'dev');"
	/* NULL is NaN; 9e999 is stored as +Inf. */
	"INSERT INTO latest_metrics (run, key, value, step, timestamp) VALUES"
	" (1, 'acc', 0.95, 0, 0), (2, 'acc', 0.5, 0, 0),"
	" (3, 'acc', NULL, 0, 0), (4, 'acc', 0.91, 0, 0),"
	" (5, 'acc', 0.9, 0, 0), (6, 'acc', 0.99, 0, 0),"
	" (8, 'acc', 0.9, 0, 0),"
	" (1, 'loss', 0.1, 0, 0), (2, 'loss', 2.5, 0, 0),"
	" (3, 'loss', NULL, 0, 0), (4, 'loss', 0.2, 0, 0),"
	" (5, 'loss', 1e10, 0, 0), (6, 'loss', 0.05, 0, 0),"
	" (7, 'loss', 9e999, 0, 0), (8, 'loss', -0.5, 0, 0),"
	" (1, 'f1 score', 0.8, 0, 0), (4, 'f1 score', 0.7, 0, 0),"
	" (2, 'val/loss', 3, 0, 0), (6, 'val/loss', 0.04, 0, 0),"
	" (1, 'val-acc', 0.93, 0, 0);"
	"INSERT INTO params (run, key, value) VALUES"
	" (1, 'lr', '0.01'), (2, 'lr', '0.1'), (3, 'lr', '0.01'),"
	" (4, 'lr', '0.001'), (5, 'lr', '0.1'), (6, 'lr', '1e-3'),"
	" (8, 'lr', '0.01'),"
	" (1, 'model', 'mlp'), (2, 'model', 'linear'), (3, 'model', 'MLP'),"
	" (4, 'model', 'cnn'), (5, 'model', 'mlp-large'),"
	" (6, 'model', 'Linear'), (7, 'model', 'cnn_v2'),"
	" (2, 'note', '50% off_sale*[x]?'), (7, 'note', 'it''s \"quoted\"'),"
	" (8, 'note', 'back\\slash'),"
	" (1, 'data/path', 'C:\\data\\train.csv'),"
	" (4, 'data/path', '/data/cifar'),"
	" (1, 'batch size', '32'), (2, 'batch size', '64');"
	"INSERT INTO tags (run, key, value) VALUES"
	" (1, 'team', 'vision'), (2, 'team', 'Vision'), (3, 'team', 'nlp'),"
	" (4, 'team', 'vision'), (5, 'team', 'VISION'), (6, 'team', 'speech'),"
	" (1, 'note', 'baseline run'), (2, 'note', 'Baseline v2'),"
	" (4, 'note', 'new baseline'),"
	" (6, 'note', 'h\xc3\xa9llo w\xc3\xb6rld'),"
	" (1, 'mlflow.source.name', 'train.py'),"
	" (3, 'mlflow.source.name', 'eval.py'),"
	" (2, 'priority', ''), (4, 'priority', 'high');";

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cnai-query-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	if (cnai_migrations_open(&fx->db, fx->path, 1) < 0 ||
	    cnai_db_exec(&fx->db, populate) < 0) {
		fprintf(stderr, "setup: %s\n", cnai_error_last()->message);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	struct fixture *fx = *state;
	char path[128];
	size_t i;

	cnai_db_close(&fx->db);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", fx->path, suffixes[i]);
		unlink(path);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/*
 * Runs `q` (its text a whole SELECT of one column of names) and writes the
 * names, space-separated, or "(none)", into out. Returns 0 or the error.
 */
static int select_names(struct fixture *fx, const struct cnai_sql *q,
			char *out, size_t size)
{
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	int err, rc;

	out[0] = '\0';
	if ((err = cnai_db_prepare(&st, &fx->db, q->text.buf)) < 0 ||
	    (err = cnai_sql_bind(st, q, 1)) < 0)
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		len += snprintf(out + len, size - len, "%s%s", len ? " " : "",
				(const char *)sqlite3_column_text(st, 0));
	if (rc != SQLITE_DONE)
		err = cnai_db_error(&fx->db, "running a query");
	if (!len)
		snprintf(out, size, "(none)");
cleanup:
	sqlite3_finalize(st);
	return err;
}

/* The runs filter f matches, leaving out top-level term `skip` and taking
 * the runs from that term's driver scan instead when `drive` is set. */
static int filter_names(struct fixture *fx, const struct cnai_filter *f,
			size_t skip, int drive, char *out, size_t size,
			struct cnai_sql *sql_out)
{
	struct cnai_sql q = CNAI_SQL_INIT;
	int err;

	if (drive) {
		cnai_buf_adds(&q.text, "SELECT r.name FROM (");
		if ((err = cnai_filter_term_driver_sql(&q, f, skip)) < 0)
			goto cleanup;
		cnai_buf_adds(&q.text,
			      ") AS d JOIN runs r ON r.id = d.run WHERE ");
	} else {
		cnai_buf_adds(&q.text, "SELECT r.name FROM runs r WHERE ");
	}
	if ((err = cnai_filter_to_sql(&q, f, skip)) < 0)
		goto cleanup;
	cnai_buf_adds(&q.text, " ORDER BY r.id");
	if ((err = cnai_buf_oom(&q.text)) < 0)
		goto cleanup;
	err = select_names(fx, &q, out, size);
	if (sql_out) {
		cnai_sql_release(sql_out);
		*sql_out = q;
		cnai_buf_init(&q.text);
		q.values = NULL;
		q.nvalues = q.alloc = 0;
	}
cleanup:
	cnai_sql_release(&q);
	return err;
}

/*
 * Whether SQL text could hold a value: the only quotes allowed are
 * ESCAPE '\', and there must be one `?` per bound value.
 */
static const char *sql_problem(const struct cnai_sql *q)
{
	const char *s, *escape = "ESCAPE '\\'";
	size_t marks = 0;

	for (s = q->text.buf; *s; s++) {
		if (!strncmp(s, escape, strlen(escape)))
			s += strlen(escape) - 1;
		else if (*s == '\'' || *s == '"')
			return "a quote in the SQL text";
		else if (*s == '?')
			marks++;
	}
	return marks == q->nvalues ? NULL : "placeholders != values";
}

/*
 * Checks one case of the data file: `want` is the runs, space-separated,
 * or "error: " and the message. A filter that parses is also run once per
 * top-level term that can drive a scan, with that term as the driver: the
 * answer must not change. Prints what differs; returns 1 on a failure.
 */
static int check_case(struct fixture *fx, const char *path, int line,
		      const char *filter, const char *want)
{
	struct cnai_filter *f = NULL;
	struct cnai_sql sql = CNAI_SQL_INIT;
	char got[2048], driven[2048];
	const char *problem;
	size_t i;
	int err, failed = 0;

	cnai_error_clear();
	if ((err = cnai_filter_parse(&f, filter)) < 0) {
		snprintf(got, sizeof(got), "error: %s",
			 cnai_error_last()->message);
		if (err != CNAI_EINVALID || f) {
			fprintf(stderr, "%s:%d: error code %d, filter %p\n",
				path, line, err, (void *)f);
			failed = 1;
		}
		goto compare;
	}
	if (filter_names(fx, f, (size_t)-1, 0, got, sizeof(got), &sql) < 0)
		snprintf(got, sizeof(got), "error: %s",
			 cnai_error_last()->message);
	if ((problem = sql_problem(&sql))) {
		fprintf(stderr, "%s:%d: %s: %s\n", path, line, problem,
			sql.text.buf);
		failed = 1;
	}
	for (i = 0; i < cnai_filter_term_count(f); i++) {
		err = filter_names(fx, f, i, 1, driven, sizeof(driven), NULL);
		if (err == CNAI_ENOTFOUND)
			continue;
		if (err < 0)
			snprintf(driven, sizeof(driven), "error: %s",
				 cnai_error_last()->message);
		if (strcmp(driven, want)) {
			fprintf(stderr, "%s:%d: %s\n  driven by term %zu: %s\n"
					"  expected: %s\n",
				path, line, filter, i, driven, want);
			failed = 1;
		}
	}
compare:
	if (strcmp(got, want)) {
		fprintf(stderr, "%s:%d: %s\n  got:      %s\n  expected: %s\n",
			path, line, filter, got, want);
		failed = 1;
	}
	cnai_sql_release(&sql);
	cnai_filter_free(f);
	return failed;
}

/* data/filters.txt, found from this file's path: tests run from the
 * repository root, where make compiles tests/unit/store-query.c. */
static void data_path(char *out, size_t size, const char *name)
{
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__) : 1;

	snprintf(out, size, "%.*s/data/%s", dir, slash ? __FILE__ : ".",
		 name);
}

static void test_query__filters_file(void **state)
{
	struct fixture *fx = *state;
	char path[4096], *line = NULL, *filter = NULL;
	int lineno = 0, filter_line = 0, cases = 0, failures = 0;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;

	data_path(path, sizeof(path), "filters.txt");
	fp = fopen(path, "r");
	if (!fp)
		fail_msg("cannot open %s", path);
	while ((n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (!n) {
			if (filter)
				fail_msg("%s:%d: case without a result", path,
					 filter_line);
			continue;
		}
		if (line[0] == '#' && !filter)
			continue;
		if (!filter) {
			filter = strdup(line);
			filter_line = lineno;
			assert_non_null(filter);
			continue;
		}
		failures += check_case(fx, path, filter_line, filter, line);
		cases++;
		free(filter);
		filter = NULL;
	}
	free(line);
	fclose(fp);
	assert_null(filter);
	print_message("%d filter cases, %d failed\n", cases, failures);
	assert_int_equal(failures, 0);
	assert_true(cases > 200);
}

static void expect_names(struct fixture *fx, const char *expr,
			 const char *want)
{
	struct cnai_filter *f;
	char got[1024];

	if (cnai_filter_parse(&f, expr) < 0)
		fail_msg("%s: %s", expr, cnai_error_last()->message);
	if (filter_names(fx, f, (size_t)-1, 0, got, sizeof(got), NULL) < 0)
		fail_msg("%s: %s", expr, cnai_error_last()->message);
	assert_string_equal(got, want);
	cnai_filter_free(f);
}

static void expect_error(const char *expr, const char *message)
{
	struct cnai_filter *f = (struct cnai_filter *)1;

	cnai_error_clear();
	assert_int_equal(cnai_filter_parse(&f, expr), CNAI_EINVALID);
	assert_null(f);
	assert_string_equal(cnai_error_last()->message, message);
}

/* What data/filters.txt cannot hold: control and invalid bytes. */
static void test_query__unexpected_bytes(void **state)
{
	(void)state;
	expect_error("params.x = 'a' \x01",
		     "filter: column 16: unexpected byte 0x01");
	expect_error("params.x = 'a'\t\x7f",
		     "filter: column 16: unexpected byte 0x7f");
	expect_error("params.x = 'a' \xff",
		     "filter: column 16: unexpected byte 0xff");
	expect_error("params.x = 'a' \x80\x80",
		     "filter: column 16: unexpected byte 0x80");
	/* Inside a string any byte is data; a message shows none raw. */
	expect_error("params.x = 'a\nb\x01' x",
		     "filter: column 19: expected AND, OR or end of filter, "
		     "found 'x'");
	expect_error("metrics.x > 'a\nb'",
		     "filter: column 13: expected a number, found the string "
		     "'a?b'");
}

static void test_query__empty_filter_matches_every_run(void **state)
{
	static const char *const blanks[] = { "", "   ", " \t\n " };
	struct fixture *fx = *state;
	struct cnai_sql q = CNAI_SQL_INIT;
	struct cnai_filter *f;
	size_t i;

	for (i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++) {
		assert_int_equal(cnai_filter_parse(&f, blanks[i]), 0);
		assert_int_equal(cnai_filter_term_count(f), 0);
		cnai_buf_reset(&q.text);
		assert_int_equal(cnai_filter_to_sql(&q, f, (size_t)-1), 0);
		assert_string_equal(q.text.buf, "1");
		assert_int_equal(q.nvalues, 0);
		assert_int_equal(cnai_filter_term_driver_sql(&q, f, 0),
				 CNAI_ENOTFOUND);
		cnai_filter_free(f);
		expect_names(fx, blanks[i],
			     "alpha beta gamma delta epsilon zeta eta theta");
	}
	cnai_sql_release(&q);
}

static void test_query__terms_and_skip(void **state)
{
	struct cnai_sql q = CNAI_SQL_INIT;
	struct cnai_filter *f;

	(void)state;
	/* Parenthesised ANDs join the top level; an OR is one term. */
	assert_int_equal(cnai_filter_parse(&f, "metrics.a > 1 AND "
					       "(params.b = 'x' AND "
					       "(tags.c = 'y')) AND (tags.d = "
					       "'z' OR tags.e = 'w')"),
			 0);
	assert_int_equal(cnai_filter_term_count(f), 4);
	assert_int_equal(cnai_filter_to_sql(&q, f, 1), 0);
	assert_string_equal(
		q.text.buf,
		"(EXISTS (SELECT 1 FROM latest_metrics WHERE run = r.id AND "
		"key = ? AND value > ?) AND EXISTS (SELECT 1 FROM tags WHERE "
		"run = r.id AND key = ? AND value = ?) AND (EXISTS (SELECT 1 "
		"FROM tags WHERE run = r.id AND key = ? AND value = ?) OR "
		"EXISTS (SELECT 1 FROM tags WHERE run = r.id AND key = ? AND "
		"value = ?)))");
	assert_int_equal(q.nvalues, 8);
	assert_string_equal(q.values[0].text, "a");
	assert_int_equal(q.values[1].type, CNAI_SQL_REAL);
	assert_true(q.values[1].real == 1.0);
	assert_string_equal(q.values[2].text, "c");
	assert_string_equal(q.values[7].text, "w");
	cnai_filter_free(f);

	assert_int_equal(cnai_filter_parse(&f, "metrics.a > 1 OR "
					       "metrics.b > 2"),
			 0);
	assert_int_equal(cnai_filter_term_count(f), 1);
	cnai_sql_release(&q);
	/* Leaving out the only term leaves nothing to test. */
	assert_int_equal(cnai_filter_to_sql(&q, f, 0), 0);
	assert_string_equal(q.text.buf, "1");
	cnai_filter_free(f);

	/* Attributes are columns; a NaN-aware metric test. */
	assert_int_equal(cnai_filter_parse(&f, "attributes.status = 'X' AND "
					       "metrics.m NOT IN (1, 2)"),
			 0);
	cnai_sql_release(&q);
	assert_int_equal(cnai_filter_to_sql(&q, f, (size_t)-1), 0);
	assert_string_equal(q.text.buf,
			    "(r.status = ? AND EXISTS (SELECT 1 FROM "
			    "latest_metrics WHERE run = r.id AND key = ? AND "
			    "(value IS NULL OR value NOT IN (?, ?))))");
	cnai_filter_free(f);
	cnai_sql_release(&q);
}

static void test_query__driver_sql(void **state)
{
	static const char *const cannot[] = {
		"params.x != 'a'",
		"metrics.x <> 1",
		"params.x LIKE 'a%'",
		"params.x ILIKE 'a%'",
		"params.x NOT LIKE 'a%'",
		"params.x NOT ILIKE 'a%'",
		"params.x NOT IN ('a')",
		"metrics.x NOT IN (1)",
		"attributes.status = 'FINISHED'",
		"attributes.start_time > 5",
		"params.x = 'a' OR params.y = 'b'",
	};
	struct fixture *fx = *state;
	struct cnai_sql q = CNAI_SQL_INIT;
	struct cnai_filter *f;
	char got[256];
	size_t i;

	assert_int_equal(cnai_filter_parse(&f, "metrics.acc > 0.9"), 0);
	assert_int_equal(cnai_filter_term_driver_sql(&q, f, 0), 0);
	assert_string_equal(q.text.buf, "SELECT run FROM latest_metrics "
					"WHERE key = ? AND value > ?");
	assert_int_equal(q.nvalues, 2);
	assert_int_equal(q.values[0].type, CNAI_SQL_TEXT);
	assert_string_equal(q.values[0].text, "acc");
	assert_int_equal(q.values[1].type, CNAI_SQL_REAL);
	assert_true(q.values[1].real == 0.9);
	cnai_filter_free(f);
	cnai_sql_release(&q);

	/* The second term drives; the rest is tested on its runs. */
	assert_int_equal(cnai_filter_parse(&f, "attributes.status = 'FINISHED'"
					       " AND params.model IN ('mlp', "
					       "'cnn')"),
			 0);
	assert_int_equal(cnai_filter_term_driver_sql(&q, f, 0),
			 CNAI_ENOTFOUND);
	assert_int_equal(cnai_filter_term_driver_sql(&q, f, 1), 0);
	assert_string_equal(q.text.buf, "SELECT run FROM params WHERE "
					"key = ? AND value IN (?, ?)");
	assert_int_equal(filter_names(fx, f, 1, 1, got, sizeof(got), NULL),
			 0);
	assert_string_equal(got, "alpha delta");
	cnai_filter_free(f);
	cnai_sql_release(&q);

	assert_int_equal(cnai_filter_parse(&f, "tags.team = 'nlp'"), 0);
	assert_int_equal(cnai_filter_term_driver_sql(&q, f, 0), 0);
	assert_string_equal(q.text.buf, "SELECT run FROM tags WHERE "
					"key = ? AND value = ?");
	/* Out of range: nothing to drive. */
	assert_int_equal(cnai_filter_term_driver_sql(&q, f, 1),
			 CNAI_ENOTFOUND);
	cnai_filter_free(f);
	cnai_sql_release(&q);

	for (i = 0; i < sizeof(cannot) / sizeof(cannot[0]); i++) {
		assert_int_equal(cnai_filter_parse(&f, cannot[i]), 0);
		cnai_error_clear();
		assert_int_equal(cnai_filter_term_driver_sql(&q, f, 0),
				 CNAI_ENOTFOUND);
		assert_null(cnai_error_last());
		/* A refusal appends nothing. */
		assert_int_equal(q.text.len, 0);
		assert_int_equal(q.nvalues, 0);
		cnai_filter_free(f);
	}
	cnai_sql_release(&q);
}

/* The run names in the order `spec` gives, ties broken by id. */
static void expect_order(struct fixture *fx, const char *spec,
			 const char *want)
{
	struct cnai_sql q = CNAI_SQL_INIT;
	char got[1024];

	cnai_buf_adds(&q.text, "SELECT r.name FROM runs r ORDER BY ");
	if (cnai_order_by_compile(&q, spec) < 0)
		fail_msg("%s: %s", spec, cnai_error_last()->message);
	cnai_buf_adds(&q.text, ", r.id");
	assert_null(sql_problem(&q));
	if (select_names(fx, &q, got, sizeof(got)) < 0)
		fail_msg("%s: %s", spec, cnai_error_last()->message);
	if (strcmp(got, want))
		fail_msg("order by %s\n  got:      %s\n  expected: %s", spec,
			 got, want);
	cnai_sql_release(&q);
}

static void test_query__order_by(void **state)
{
	struct fixture *fx = *state;
	struct cnai_sql q = CNAI_SQL_INIT;

	assert_int_equal(cnai_order_by_compile(&q, "metrics.acc DESC"), 0);
	assert_string_equal(q.text.buf,
			    "(SELECT value FROM latest_metrics WHERE "
			    "run = r.id AND key = ?) DESC NULLS LAST");
	assert_int_equal(q.nvalues, 1);
	assert_string_equal(q.values[0].text, "acc");
	cnai_sql_release(&q);
	assert_int_equal(cnai_order_by_compile(&q, "start_time"), 0);
	assert_string_equal(q.text.buf, "r.start_time ASC NULLS LAST");
	cnai_sql_release(&q);

	/* NaN (gamma) and missing (eta) sort last both ways. */
	expect_order(fx, "metrics.acc DESC",
		     "zeta alpha delta epsilon theta beta gamma eta");
	expect_order(fx, "metrics.acc",
		     "beta epsilon theta delta alpha zeta gamma eta");
	expect_order(fx, "metric.acc asc",
		     "beta epsilon theta delta alpha zeta gamma eta");
	expect_order(fx, "metrics.loss DESC",
		     "eta epsilon beta delta alpha zeta theta gamma");
	expect_order(fx, "metrics.`f1 score` desc",
		     "alpha delta beta gamma epsilon zeta eta theta");
	/* Params are text and sort as text. */
	expect_order(fx, "params.lr",
		     "delta alpha gamma theta beta epsilon zeta eta");
	expect_order(fx, "tags.team DESC",
		     "alpha delta zeta gamma beta epsilon eta theta");
	expect_order(fx, "attributes.end_time DESC",
		     "delta theta eta zeta epsilon beta alpha gamma");
	expect_order(fx, "end_time",
		     "alpha beta epsilon zeta eta theta delta gamma");
	expect_order(fx, "start_time DESC",
		     "theta eta zeta epsilon delta gamma beta alpha");
	expect_order(fx, "run_name",
		     "alpha beta delta epsilon eta gamma theta zeta");
	expect_order(fx, "attributes.`run_name` DESC",
		     "zeta theta gamma eta epsilon delta beta alpha");
	expect_order(fx, "experiment",
		     "delta epsilon zeta theta alpha beta gamma eta");
	expect_order(fx, "exit_code DESC",
		     "epsilon theta beta alpha delta zeta eta gamma");
}

static void expect_order_error(const char *spec, const char *message)
{
	struct cnai_sql q = CNAI_SQL_INIT;

	cnai_buf_adds(&q.text, "ORDER BY ");
	cnai_error_clear();
	assert_int_equal(cnai_order_by_compile(&q, spec), CNAI_EINVALID);
	assert_string_equal(cnai_error_last()->message, message);
	/* The caller's SQL is left as it was. */
	assert_string_equal(q.text.buf, "ORDER BY ");
	assert_int_equal(q.nvalues, 0);
	cnai_sql_release(&q);
}

static void test_query__order_by_errors(void **state)
{
	(void)state;
	expect_order_error("metrics.acc SIDEWAYS",
			   "order-by: column 13: expected ASC, DESC or end of "
			   "order-by, found 'SIDEWAYS'");
	expect_order_error("metrics.acc DESC x",
			   "order-by: column 18: expected end of order-by, "
			   "found 'x'");
	expect_order_error("",
			   "order-by: column 1: unexpected end of order-by, "
			   "expected metrics.KEY, params.KEY, tags.KEY or an "
			   "attribute name");
	expect_order_error("acc DESC",
			   "order-by: column 1: unknown attribute 'acc' "
			   "(expected end_time, exit_code, experiment, "
			   "git_branch, git_commit, host, run_id, run_name, "
			   "start_time, status or user)");
	expect_order_error("metricz.acc",
			   "order-by: column 1: unknown prefix 'metricz' "
			   "(expected metrics., params., tags. or "
			   "attributes.)");
	expect_order_error("metrics.`acc DESC",
			   "order-by: column 9: unterminated quoted key");
	expect_order_error("metrics.acc, metrics.loss",
			   "order-by: column 12: expected ASC, DESC or end of "
			   "order-by, found ','");
	expect_order_error("'start_time'",
			   "order-by: column 1: expected metrics.KEY, "
			   "params.KEY, tags.KEY or an attribute name, found "
			   "the string 'start_time'");
}

static void test_query__values_never_reach_sql_text(void **state)
{
	static const char *const hostile[] = {
		"params.x = 'a''; DROP TABLE runs; --'",
		"params.x = \"a\\\"; DROP TABLE runs; --\"",
		"params.`x'; DROP TABLE runs; --` = 'a'",
		"metrics.`a) OR 1=1 --` > 0",
		"params.model LIKE '%'' OR 1=1 --'",
		"tags.team ILIKE '%'' OR 1=1 --'",
		"attributes.status IN ('x'') OR 1=1 --', 'y')",
	};
	struct fixture *fx = *state;
	struct cnai_sql q = CNAI_SQL_INIT;
	struct cnai_filter *f;
	sqlite3_stmt *st;
	char got[256];
	size_t i;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		if (cnai_filter_parse(&f, hostile[i]) < 0)
			fail_msg("%s: %s", hostile[i],
				 cnai_error_last()->message);
		assert_int_equal(filter_names(fx, f, (size_t)-1, 0, got,
					      sizeof(got), &q),
				 0);
		assert_string_equal(got, "(none)");
		assert_null(strstr(q.text.buf, "DROP"));
		assert_null(strstr(q.text.buf, "1=1"));
		assert_null(strstr(q.text.buf, "--"));
		assert_null(sql_problem(&q));
		cnai_filter_free(f);
	}
	cnai_sql_release(&q);
	assert_int_equal(cnai_db_prepare(&st, &fx->db,
					 "SELECT count(*) FROM runs"),
			 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 8);
	sqlite3_finalize(st);
}

/* Prepares and runs the filter inside a query that nests it a level
 * further, as a caller might: SQLite's own limits must hold too. */
static void expect_sqlite_accepts(struct fixture *fx, const char *expr)
{
	struct cnai_sql q = CNAI_SQL_INIT;
	struct cnai_filter *f;
	sqlite3_stmt *st;

	if (cnai_filter_parse(&f, expr) < 0)
		fail_msg("%s", cnai_error_last()->message);
	cnai_buf_adds(&q.text, "SELECT count(*) FROM (SELECT r.id FROM runs r "
			       "WHERE r.experiment > 0 AND ");
	assert_int_equal(cnai_filter_to_sql(&q, f, (size_t)-1), 0);
	cnai_buf_adds(&q.text, ")");
	if (cnai_db_prepare(&st, &fx->db, q.text.buf) < 0)
		fail_msg("%s", cnai_error_last()->message);
	assert_int_equal(cnai_sql_bind(st, &q, 1), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	sqlite3_finalize(st);
	cnai_sql_release(&q);
	cnai_filter_free(f);
}

/* `depth` levels of parentheses alternating AND and OR, `per` terms each
 * besides the nested group; the innermost level has per + 1. */
static void nested(struct cnai_buf *b, int depth, int per)
{
	int d, i;

	for (d = 0; d < depth; d++) {
		cnai_buf_addch(b, '(');
		for (i = 0; i < per; i++)
			cnai_buf_addf(b, "metrics.m%d > %d %s ", d, i,
				      d % 2 ? "OR" : "AND");
	}
	for (i = 0; i <= per; i++)
		cnai_buf_addf(b, "%sparams.p = 'v%d'", i ? " OR " : "", i);
	for (d = 0; d < depth; d++)
		cnai_buf_addch(b, ')');
}

static void test_query__limits(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf b = CNAI_BUF_INIT;
	char message[128];
	int i;

	/* The deepest and the largest filter both reach SQLite whole. */
	nested(&b, 16, 0);
	expect_sqlite_accepts(fx, b.buf);
	cnai_buf_reset(&b);
	nested(&b, 16, 15); /* 16 * 15 + 16 = 256 comparisons */
	expect_sqlite_accepts(fx, b.buf);
	cnai_buf_reset(&b);
	for (i = 0; i < 256; i++)
		cnai_buf_addf(&b, "%stags.t = '%d'", i ? " OR " : "", i);
	expect_sqlite_accepts(fx, b.buf);

	snprintf(message, sizeof(message), "filter: column %zu: too many "
		 "comparisons (at most 256)", b.len + 5);
	cnai_buf_adds(&b, " OR tags.t = 'x'");
	expect_error(b.buf, message);
	cnai_buf_reset(&b);
	nested(&b, 17, 0);
	expect_error(b.buf, "filter: column 17: parentheses nested too "
			    "deeply (at most 16)");
	cnai_buf_reset(&b);
	for (i = 0; i < 60000; i++)
		cnai_buf_addch(&b, '(');
	expect_error(b.buf, "filter: column 17: parentheses nested too "
			    "deeply (at most 16)");

	/* 65536 bytes is the most; multi-byte characters count once. */
	cnai_buf_reset(&b);
	cnai_buf_adds(&b, "params.x = '");
	while (b.len < 65535)
		cnai_buf_addch(&b, 'a');
	cnai_buf_addch(&b, '\'');
	expect_names(fx, b.buf, "(none)");
	cnai_buf_truncate(&b, 12);
	while (b.len < 65535)
		cnai_buf_adds(&b, "\xc3\xa9");
	cnai_buf_addch(&b, '\'');
	expect_error(b.buf, "filter: column 32775: filter longer than 65536 "
			    "bytes");

	cnai_buf_reset(&b);
	cnai_buf_adds(&b, "metrics.a IN (");
	for (i = 0; i < 10001; i++)
		cnai_buf_adds(&b, i ? ",1" : "1");
	cnai_buf_addch(&b, ')');
	expect_error(b.buf, "filter: column 20013: too many values (at most "
			    "10000)");
	/* The key of a metric, param or tag is a value too. */
	cnai_buf_truncate(&b, b.len - 7); /* 1 + 9998 values */
	cnai_buf_adds(&b, ") AND attributes.status = 'x' AND metrics.b > 1");
	snprintf(message, sizeof(message), "filter: column %zu: too many "
		 "values (at most 10000)", b.len - 12);
	expect_error(b.buf, message);
	assert_int_equal(cnai_buf_oom(&b), 0);
	cnai_buf_release(&b);
}

static void test_query__sql_values(void **state)
{
	struct cnai_sql a = CNAI_SQL_INIT, b = CNAI_SQL_INIT;
	struct fixture *fx = *state;
	sqlite3_stmt *st;

	cnai_buf_adds(&a.text, "SELECT ?, ");
	assert_int_equal(cnai_sql_add_text(&a, "it's"), 0);
	cnai_buf_adds(&b.text, "?, ?");
	assert_int_equal(cnai_sql_add_real(&b, 2.5), 0);
	assert_int_equal(cnai_sql_add_int(&b, INT64_MAX), 0);
	assert_int_equal(cnai_sql_append(&a, &b), 0);
	cnai_sql_release(&b);
	assert_string_equal(a.text.buf, "SELECT ?, ?, ?");
	assert_int_equal(a.nvalues, 3);

	assert_int_equal(cnai_db_prepare(&st, &fx->db, a.text.buf), 0);
	assert_int_equal(cnai_sql_bind(st, &a, 1), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "it's");
	assert_true(sqlite3_column_double(st, 1) == 2.5);
	assert_true(sqlite3_column_int64(st, 2) == INT64_MAX);
	sqlite3_finalize(st);

	/* Binding past the statement's placeholders is an error. */
	assert_int_equal(cnai_db_prepare(&st, &fx->db, "SELECT ?"), 0);
	assert_int_equal(cnai_sql_bind(st, &a, 1), CNAI_ERROR);
	assert_non_null(strstr(cnai_error_last()->message, "binding value 2"));
	sqlite3_finalize(st);
	cnai_sql_release(&a);
	cnai_sql_release(&a); /* released twice is harmless */
	cnai_sql_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_query__filters_file,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_query__empty_filter_matches_every_run, setup,
			teardown),
		cmocka_unit_test(test_query__unexpected_bytes),
		cmocka_unit_test(test_query__terms_and_skip),
		cmocka_unit_test_setup_teardown(test_query__driver_sql, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_query__order_by, setup,
						teardown),
		cmocka_unit_test(test_query__order_by_errors),
		cmocka_unit_test_setup_teardown(
			test_query__values_never_reach_sql_text, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_query__limits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_query__sql_values, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
