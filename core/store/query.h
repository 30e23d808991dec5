/*
 * The run filter language: MLflow's search syntax, compiled to
 * parameterised SQL. Values are never pasted into SQL text; they become
 * bound parameters in `struct cnai_sql`.
 *
 *   metrics.acc > 0.9 AND params.lr = '0.01' AND tags.team != 'x'
 *   attributes.status = 'FINISHED' AND params.model IN ('mlp', 'linear')
 *   metrics.`f1 score` >= 0.8 AND tags.note ILIKE '%baseline%'
 *
 * Beyond MLflow (which has AND only), OR and parentheses are accepted, AND
 * binding tighter than OR. The compiled SQL refers to the run table as
 * alias `r` and to the tables of migrations.c (params, tags, latest_metrics,
 * experiments).
 *
 * Semantics (MLflow's, where it has any):
 * - Prefixes metrics., params., tags., attributes. (or the singular). Keys
 *   are [A-Za-z0-9_.-/:]+, or quoted in backticks or double quotes.
 * - Metrics and the attributes start_time, end_time, exit_code take
 *   numbers and = != <> > >= < <= IN NOT IN; params, tags and the other
 *   attributes take quoted strings and = != LIKE ILIKE IN and NOT forms.
 * - A metric, param or tag test matches only runs that have the key; an
 *   attribute test never matches a run whose column is NULL. A NaN metric
 *   (stored NULL) matches != and NOT IN, as NaN differs from every number.
 * - LIKE is case-sensitive, ILIKE folds ASCII case; in both a backslash
 *   makes the next character literal ('50\%').
 * - Strings: 'it''s', 'it\'s', "say \"hi\""; "\\" is a backslash; any
 *   other backslash is kept as it is.
 * - Limits: 64 KiB of text, 16 nested parentheses, 256 comparisons and
 *   10000 bound values. SQLite's parser itself overflows at about 25
 *   nested parentheses, and refuses an expression tree deeper than 1000.
 */
#ifndef CNAI_CORE_STORE_QUERY_H
#define CNAI_CORE_STORE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/util/buf.h"

enum cnai_sql_type { CNAI_SQL_TEXT, CNAI_SQL_REAL, CNAI_SQL_INT };

struct cnai_sql_value {
	enum cnai_sql_type type;
	char *text; /* owned, for CNAI_SQL_TEXT */
	double real;
	int64_t integer;
};

/* An SQL fragment and the values for its `?` placeholders, in order. */
struct cnai_sql {
	struct cnai_buf text;
	struct cnai_sql_value *values;
	size_t nvalues, alloc;
};

#define CNAI_SQL_INIT { CNAI_BUF_INIT, NULL, 0, 0 }

void cnai_sql_release(struct cnai_sql *q);
int cnai_sql_add_text(struct cnai_sql *q, const char *s);
int cnai_sql_add_real(struct cnai_sql *q, double d);
int cnai_sql_add_int(struct cnai_sql *q, int64_t i);
/* Appends b's text and values to a. */
int cnai_sql_append(struct cnai_sql *a, const struct cnai_sql *b);
/* Binds q's values to st, the first to placeholder `first` (1-based). */
int cnai_sql_bind(sqlite3_stmt *st, const struct cnai_sql *q, int first);

struct cnai_filter; /* a parsed filter: a tree of terms */

/*
 * Parses `expr`. On a syntax or type error returns CNAI_EINVALID with a
 * message "filter: column N: ..." (N 1-based, pointing at the offending
 * token) and sets *out to NULL. An empty or blank expression parses to a
 * filter that matches every run.
 */
int cnai_filter_parse(struct cnai_filter **out, const char *expr);
void cnai_filter_free(struct cnai_filter *f);

/* Number of top-level AND terms (1 for a filter without a top-level AND,
 * 0 for the empty filter). */
size_t cnai_filter_term_count(const struct cnai_filter *f);

/*
 * Appends a boolean SQL expression for the filter to `out`, leaving out
 * top-level term `skip` (pass (size_t)-1 to keep all). The expression is
 * parenthesised; it is "1" when nothing is left. On failure `out` is left
 * as it was.
 */
int cnai_filter_to_sql(struct cnai_sql *out, const struct cnai_filter *f,
		       size_t skip);

/*
 * For top-level term `i`, appends "SELECT run FROM ... WHERE ..." yielding
 * the ids of the runs that satisfy the term, using an index (for example
 * latest_metrics(key, value)). Each run id appears at most once. Returns
 * CNAI_ENOTFOUND (without setting an error message) when the term cannot
 * drive a scan that way (an OR, a != test, an attribute).
 */
int cnai_filter_term_driver_sql(struct cnai_sql *out,
				const struct cnai_filter *f, size_t i);

/*
 * Parses one --order-by value, "KEY [ASC|DESC]" (KEY as in filters:
 * metrics.x, params.x, tags.x, attributes.start_time, or a bare attribute
 * name), and appends an ORDER BY item such as
 * "(SELECT value FROM latest_metrics WHERE run = r.id AND key = ?) DESC
 * NULLS LAST". Errors: CNAI_EINVALID, "order-by: ...".
 */
int cnai_order_by_compile(struct cnai_sql *out, const char *spec);

#endif
