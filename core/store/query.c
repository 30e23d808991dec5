/*
 * The run filter language (MLflow's search syntax plus OR and parentheses)
 * and --order-by keys, compiled to SQL over the tables of migrations.c.
 *
 * Three stages. A lexer cuts the text into tokens and unescapes quoted
 * ones. A recursive-descent parser checks types as it goes, as MLflow does
 * (metrics and time attributes compare as numbers, params, tags and the
 * other attributes as strings), and builds a small tree: AND and OR nodes
 * with any number of children, comparisons as leaves. An emitter walks the
 * tree and writes SQL in which every value, keys included, is a `?`, so no
 * text from the user ever reaches SQLite's parser.
 *
 * A metric, param or tag test matches only the runs that have the key: it
 * becomes EXISTS over that key's row, so `params.x != 'a'` skips the runs
 * without x, as MLflow does.
 *
 * The limits below keep a hostile filter from exhausting our stack or
 * SQLite's: SQLite 3.40's parser overflows its stack at about 25 nested
 * parentheses, and an expression tree deeper than 1000 (a chain of a
 * thousand ORs is that deep) is refused.
 */
#include "core/store/query.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/store/store_impl.h"
#include "core/util/banned.h"

enum {
	MAX_LENGTH = 64 * 1024, /* bytes of filter text */
	MAX_DEPTH = 16,         /* nested parentheses */
	MAX_TERMS = 256,        /* comparisons in one filter */
	MAX_VALUES = 10000,     /* bound values (keys included) per filter */
	SHOWN = 40,             /* characters of a token quoted in a message */
};

/* ---- bound values ---------------------------------------------------- */

void cnai_sql_release(struct cnai_sql *q)
{
	size_t i;

	for (i = 0; i < q->nvalues; i++)
		free(q->values[i].text);
	free(q->values);
	q->values = NULL;
	q->nvalues = q->alloc = 0;
	cnai_buf_release(&q->text);
}

static struct cnai_sql_value *sql_push(struct cnai_sql *q)
{
	struct cnai_sql_value *v;
	size_t n;

	if (q->nvalues == q->alloc) {
		n = q->alloc ? q->alloc * 2 : 8;
		if (n > SIZE_MAX / sizeof(*v) ||
		    !(v = realloc(q->values, n * sizeof(*v)))) {
			cnai_error_set(CNAI_ERROR, "out of memory");
			return NULL;
		}
		q->values = v;
		q->alloc = n;
	}
	v = &q->values[q->nvalues++];
	memset(v, 0, sizeof(*v));
	return v;
}

int cnai_sql_add_text(struct cnai_sql *q, const char *s)
{
	struct cnai_sql_value *v;
	char *dup;

	if (!(dup = strdup(s)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (!(v = sql_push(q))) {
		free(dup);
		return CNAI_ERROR;
	}
	v->type = CNAI_SQL_TEXT;
	v->text = dup;
	return 0;
}

int cnai_sql_add_real(struct cnai_sql *q, double d)
{
	struct cnai_sql_value *v;

	if (!(v = sql_push(q)))
		return CNAI_ERROR;
	v->type = CNAI_SQL_REAL;
	v->real = d;
	return 0;
}

int cnai_sql_add_int(struct cnai_sql *q, int64_t i)
{
	struct cnai_sql_value *v;

	if (!(v = sql_push(q)))
		return CNAI_ERROR;
	v->type = CNAI_SQL_INT;
	v->integer = i;
	return 0;
}

int cnai_sql_append(struct cnai_sql *a, const struct cnai_sql *b)
{
	const struct cnai_sql_value *v;
	size_t i;
	int err = 0;

	if (cnai_buf_add(&a->text, b->text.buf, b->text.len) < 0)
		return cnai_buf_oom(&a->text);
	for (i = 0; i < b->nvalues && !err; i++) {
		v = &b->values[i];
		switch (v->type) {
		case CNAI_SQL_TEXT:
			err = cnai_sql_add_text(a, v->text);
			break;
		case CNAI_SQL_REAL:
			err = cnai_sql_add_real(a, v->real);
			break;
		case CNAI_SQL_INT:
			err = cnai_sql_add_int(a, v->integer);
			break;
		}
	}
	return err;
}

int cnai_sql_bind(sqlite3_stmt *st, const struct cnai_sql *q, int first)
{
	const struct cnai_sql_value *v;
	int rc = SQLITE_OK, idx;
	size_t i;

	for (i = 0; i < q->nvalues; i++) {
		v = &q->values[i];
		idx = first + (int)i;
		switch (v->type) {
		case CNAI_SQL_TEXT:
			rc = sqlite3_bind_text(st, idx, v->text, -1,
					       SQLITE_TRANSIENT);
			break;
		case CNAI_SQL_REAL:
			rc = sqlite3_bind_double(st, idx, v->real);
			break;
		case CNAI_SQL_INT:
			rc = sqlite3_bind_int64(st, idx, v->integer);
			break;
		}
		if (rc != SQLITE_OK)
			return cnai_error_set(
				CNAI_ERROR, "binding value %d: %s", idx,
				sqlite3_errmsg(sqlite3_db_handle(st)));
	}
	return 0;
}

/* Undoes appends to q after a failure, so callers see q as it was. */
static void sql_truncate(struct cnai_sql *q, size_t len, size_t nvalues)
{
	while (q->nvalues > nvalues)
		free(q->values[--q->nvalues].text);
	cnai_buf_truncate(&q->text, len);
	q->text.oom = 0;
}

/* ---- the vocabulary -------------------------------------------------- */

enum op {
	OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE,
	OP_LIKE, OP_ILIKE, OP_NOT_LIKE, OP_NOT_ILIKE, OP_IN, OP_NOT_IN,
};

static const char *const op_names[] = {
	[OP_EQ] = "=", [OP_NE] = "!=", [OP_GT] = ">", [OP_GE] = ">=",
	[OP_LT] = "<", [OP_LE] = "<=", [OP_LIKE] = "LIKE",
	[OP_ILIKE] = "ILIKE", [OP_NOT_LIKE] = "NOT LIKE",
	[OP_NOT_ILIKE] = "NOT ILIKE", [OP_IN] = "IN", [OP_NOT_IN] = "NOT IN",
};

/*
 * LIKE must be case-sensitive, as in MLflow, but SQLite's LIKE is not:
 * LIKE patterns are rewritten for GLOB (see like_to_glob()). ILIKE keeps
 * SQLite's LIKE, whose ESCAPE gives it our backslash escapes as they are.
 * IN lists get their placeholders in emit_test().
 */
static const char *const op_sql[] = {
	[OP_EQ] = " = ?", [OP_NE] = " != ?", [OP_GT] = " > ?",
	[OP_GE] = " >= ?", [OP_LT] = " < ?", [OP_LE] = " <= ?",
	[OP_LIKE] = " GLOB ?", [OP_NOT_LIKE] = " NOT GLOB ?",
	[OP_ILIKE] = " LIKE ? ESCAPE '\\'",
	[OP_NOT_ILIKE] = " NOT LIKE ? ESCAPE '\\'",
	[OP_IN] = " IN (", [OP_NOT_IN] = " NOT IN (",
};

enum entity { E_METRIC, E_PARAM, E_TAG, E_ATTR };

static const struct {
	const char *table; /* one row per run and key */
	const char *noun;  /* for messages */
} entities[] = {
	[E_METRIC] = { "latest_metrics", "metric" },
	[E_PARAM] = { "params", "param" },
	[E_TAG] = { "tags", "tag" },
	[E_ATTR] = { NULL, "attribute" },
};

/* MLflow accepts both the plural and the singular. */
static const struct {
	const char *name;
	enum entity entity;
} prefixes[] = {
	{ "metrics", E_METRIC }, { "metric", E_METRIC },
	{ "params", E_PARAM },   { "param", E_PARAM },
	{ "tags", E_TAG },       { "tag", E_TAG },
	{ "attributes", E_ATTR }, { "attribute", E_ATTR },
};

/*
 * Columns of a run. `numeric` ones take numbers and the ordering
 * operators, the rest strings and LIKE. An alias (MLflow's names) is
 * accepted but left out of the list an unknown name prints.
 */
static const struct attribute {
	const char *name;
	const char *sql; /* over the run table, alias r */
	unsigned numeric : 1, alias : 1;
} attributes[] = {
	{ "created", "r.start_time", 1, 1 },
	{ "end_time", "r.end_time", 1, 0 },
	{ "exit_code", "r.exit_code", 1, 0 },
	{ "experiment",
	  "(SELECT name FROM experiments WHERE id = r.experiment)", 0, 0 },
	{ "git_branch", "r.git_branch", 0, 0 },
	{ "git_commit", "r.git_commit", 0, 0 },
	{ "host", "r.host", 0, 0 },
	{ "run_id", "r.uuid", 0, 0 },
	{ "run_name", "r.name", 0, 0 },
	{ "start_time", "r.start_time", 1, 0 },
	{ "status", "r.status", 0, 0 },
	{ "user", "r.user", 0, 0 },
	{ "user_id", "r.user", 0, 1 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the tree -------------------------------------------------------- */

enum node_kind { N_AND, N_OR, N_CMP };

struct node {
	enum node_kind kind;
	/* N_AND, N_OR: two or more children, none of the node's own kind */
	struct node **kids;
	size_t nkids, alloc;
	/* N_CMP */
	enum entity entity;
	const struct attribute *attr; /* E_ATTR */
	char *key;                    /* the other entities */
	enum op op;
	struct cnai_sql values; /* only its values are used */
};

struct cnai_filter {
	struct node *root; /* NULL: the empty filter */
};

static void node_free(struct node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->key);
	cnai_sql_release(&n->values);
	free(n);
}

static struct node *node_new(enum node_kind kind)
{
	struct node *n;

	if (!(n = calloc(1, sizeof(*n)))) {
		cnai_error_set(CNAI_ERROR, "out of memory");
		return NULL;
	}
	n->kind = kind;
	cnai_buf_init(&n->values.text);
	return n;
}

/*
 * Adds `kid` to AND or OR node n, taking it. A kid of n's own kind (from
 * parentheses) gives n its children instead: `a AND (b AND c)` has three
 * top-level terms, each of which can drive a scan.
 */
static int node_add(struct node *n, struct node *kid)
{
	size_t need = kid->kind == n->kind ? kid->nkids : 1, m, i;
	struct node **k;

	if (n->nkids + need > n->alloc) {
		m = n->alloc ? n->alloc : 4;
		while (m < n->nkids + need)
			m *= 2;
		if (!(k = realloc(n->kids, m * sizeof(*k)))) {
			node_free(kid);
			return cnai_error_set(CNAI_ERROR, "out of memory");
		}
		n->kids = k;
		n->alloc = m;
	}
	if (kid->kind != n->kind) {
		n->kids[n->nkids++] = kid;
		return 0;
	}
	for (i = 0; i < kid->nkids; i++)
		n->kids[n->nkids++] = kid->kids[i];
	kid->nkids = 0;
	node_free(kid);
	return 0;
}

/* ---- the lexer ------------------------------------------------------- */

enum tok_kind {
	T_END,
	T_WORD,     /* a keyword or an identifier, metrics.acc */
	T_NUMBER,   /* -1.5e3 */
	T_STRING,   /* 'text' or "text" */
	T_BACKTICK, /* `a quoted key` */
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_OP, /* = != <> > >= < <= */
};

struct token {
	enum tok_kind kind;
	size_t start, end; /* its bytes in the source */
	enum op op;        /* T_OP */
	char quote;        /* T_STRING: ' or " */
};

struct parser {
	const char *src;
	const char *what;     /* "filter" or "order-by", to start messages */
	size_t pos;           /* where the lexer reads next */
	struct token tok;     /* the current token */
	struct cnai_buf text; /* the current quoted token, unescaped */
	int depth;
	size_t nterms, nvalues;
};

/* ASCII only: the filter must not mean something else in another locale. */
static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The characters of an unquoted key, as MLflow allows them. */
static int is_word(int c)
{
	return is_alpha(c) || is_digit(c) || c == '_' || c == '.' ||
	       c == '-' || c == '/' || c == ':';
}

static int to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Columns count characters, not bytes: UTF-8 continuation bytes are
 * skipped. */
static size_t column(const struct parser *p, size_t off)
{
	size_t i, col = 1;

	for (i = 0; i < off; i++)
		if (((unsigned char)p->src[i] & 0xc0) != 0x80)
			col++;
	return col;
}

static int fail(struct parser *p, size_t off, const char *fmt, ...)
	CNAI_PRINTF(3, 4);

static int fail(struct parser *p, size_t off, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cnai_error_set(CNAI_EINVALID, "%s: column %zu: %s", p->what,
			      column(p, off), msg);
}

/*
 * Writes s[0..n) into out as 'text', cut after SHOWN characters and with
 * control characters as '?', so a message stays one short line.
 */
static const char *excerpt(char *out, size_t size, const char *s, size_t n)
{
	size_t i, o = 0, chars = 0;
	unsigned char c;

	assert(size >= SHOWN * 4 + 8);
	out[o++] = '\'';
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		/* Bytes are bounded too: invalid UTF-8 may have no lead. */
		if (o > SHOWN * 4 ||
		    ((c & 0xc0) != 0x80 && chars++ == SHOWN))
			break;
		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

/* The current token, for a message: 'foo' or the string 'foo'. */
static const char *describe(struct parser *p, char *out, size_t size)
{
	size_t off = 0;

	if (p->tok.kind == T_STRING) {
		off = snprintf(out, size, "the string ");
		excerpt(out + off, size - off, p->text.buf, p->text.len);
	} else {
		excerpt(out, size, p->src + p->tok.start,
			p->tok.end - p->tok.start);
	}
	return out;
}

/* "expected WHAT, found 'x'", or "unexpected end of filter, ..." */
static int expected(struct parser *p, const char *fmt, ...) CNAI_PRINTF(2, 3);

static int expected(struct parser *p, const char *fmt, ...)
{
	char what[256], found[SHOWN * 4 + 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (p->tok.kind == T_END)
		return fail(p, p->tok.start,
			    "unexpected end of %s, expected %s", p->what, what);
	return fail(p, p->tok.start, "expected %s, found %s", what,
		    describe(p, found, sizeof(found)));
}

/*
 * Reads a quoted token starting at p->pos into p->text. Doubling the quote
 * or a backslash before it stands for the quote; "\\" for a backslash.
 * Any other backslash is kept, for LIKE patterns and Windows paths.
 */
static int lex_quoted(struct parser *p, char q)
{
	const char *s = p->src;
	size_t i;

	cnai_buf_reset(&p->text);
	for (i = p->pos + 1;; i++) {
		if (!s[i])
			return fail(p, p->pos, "unterminated %s",
				    q == '`' ? "quoted key" : "string");
		if (s[i] == '\\' && (s[i + 1] == q || s[i + 1] == '\\'))
			i++;
		else if (s[i] == q && s[i + 1] == q)
			i++;
		else if (s[i] == q)
			break;
		cnai_buf_addch(&p->text, s[i]);
	}
	if (cnai_buf_oom(&p->text) < 0)
		return CNAI_ERROR;
	p->tok.kind = q == '`' ? T_BACKTICK : T_STRING;
	p->tok.quote = q;
	p->pos = i + 1;
	return 0;
}

/* A number: optional sign, digits with an optional fraction, exponent. */
static void lex_number(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->pos;

	if (s[i] == '+' || s[i] == '-')
		i++;
	while (is_digit(s[i]))
		i++;
	if (s[i] == '.')
		for (i++; is_digit(s[i]); i++)
			;
	if ((s[i] == 'e' || s[i] == 'E') &&
	    (is_digit(s[i + 1]) ||
	     ((s[i + 1] == '+' || s[i + 1] == '-') && is_digit(s[i + 2]))))
		for (i += 2; is_digit(s[i]); i++)
			;
	p->tok.kind = T_NUMBER;
	/* "1abc" is one bad word, not a number and then a word. */
	if (is_word(s[i])) {
		while (is_word(s[i]))
			i++;
		p->tok.kind = T_WORD;
	}
	p->pos = i;
}

static int lex_unexpected(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->src + p->pos;
	size_t n = 1;

	/* Show a whole UTF-8 character when there is one. */
	if (s[0] >= 0xc0)
		while (n < 4 && (s[n] & 0xc0) == 0x80)
			n++;
	if (s[0] < 0x20 || s[0] == 0x7f || (s[0] >= 0x80 && n == 1))
		return fail(p, p->pos, "unexpected byte 0x%02x", s[0]);
	return fail(p, p->pos, "unexpected character '%.*s'", (int)n,
		    (const char *)s);
}

/* Reads the next token into p->tok. */
static int next(struct parser *p)
{
	const char *s = p->src;
	struct token *t = &p->tok;
	char c, d;
	int err;

	while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' ||
	       s[p->pos] == '\r' || s[p->pos] == '\f' || s[p->pos] == '\v')
		p->pos++;
	t->start = p->pos;
	c = s[p->pos];
	d = c ? s[p->pos + 1] : '\0';
	if (!c) {
		t->kind = T_END;
	} else if (c == '(' || c == ')' || c == ',') {
		t->kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_COMMA;
		p->pos++;
	} else if (c == '=') {
		t->kind = T_OP;
		t->op = OP_EQ;
		p->pos++;
	} else if ((c == '!' && d == '=') || c == '<' || c == '>') {
		t->kind = T_OP;
		t->op = c == '!' ? OP_NE
			: c == '>' ? (d == '=' ? OP_GE : OP_GT)
			: d == '=' ? OP_LE
			: d == '>' ? OP_NE
				   : OP_LT;
		p->pos += d == '=' || (c == '<' && d == '>') ? 2 : 1;
	} else if (c == '\'' || c == '"' || c == '`') {
		if ((err = lex_quoted(p, c)) < 0)
			return err;
	} else if (is_digit(c) || (c == '.' && is_digit(d)) ||
		   ((c == '+' || c == '-') &&
		    (is_digit(d) || (d == '.' && is_digit(s[p->pos + 2]))))) {
		lex_number(p);
	} else if (is_alpha(c) || c == '_') {
		t->kind = T_WORD;
		while (is_word(s[p->pos]))
			p->pos++;
	} else {
		return lex_unexpected(p);
	}
	t->end = p->pos;
	return 0;
}

/* Whether the current token is keyword kw (upper case), in any case. */
static int is_kw(const struct parser *p, const char *kw)
{
	size_t i, n = p->tok.end - p->tok.start;

	if (p->tok.kind != T_WORD || strlen(kw) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (to_lower(p->src[p->tok.start + i]) != to_lower(kw[i]))
			return 0;
	return 1;
}

/* ---- the parser ------------------------------------------------------ */

static const struct attribute *attribute_find(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(attributes); i++)
		if (strlen(attributes[i].name) == n &&
		    !memcmp(attributes[i].name, name, n))
			return &attributes[i];
	return NULL;
}

static int unknown_attribute(struct parser *p, size_t off, const char *name,
			     size_t n)
{
	char list[256], shown[SHOWN * 4 + 8];
	size_t i, len = 0, left = 0;

	for (i = 0; i < ARRAY_SIZE(attributes); i++)
		left += !attributes[i].alias;
	for (i = 0; i < ARRAY_SIZE(attributes); i++) {
		if (attributes[i].alias)
			continue;
		left--;
		len += snprintf(list + len, sizeof(list) - len, "%s%s",
				attributes[i].name,
				left > 1 ? ", " : left ? " or " : "");
		assert(len < sizeof(list));
	}
	return fail(p, off, "unknown attribute %s (expected %s)",
		    excerpt(shown, sizeof(shown), name, n), list);
}

/* What a key of this entity compares as. */
static int is_numeric(enum entity e, const struct attribute *attr)
{
	return e == E_METRIC || (e == E_ATTR && attr->numeric);
}

#define KEY_EXPECTED "metrics.KEY, params.KEY, tags.KEY or attributes.NAME"
#define KEY_OR_BARE "metrics.KEY, params.KEY, tags.KEY or an attribute name"

/*
 * Parses an identifier into n->entity and n->key or n->attr: a word
 * `prefix.key`, or `prefix.` directly followed by a key in backticks or
 * double quotes. `bare` also accepts an attribute name alone (order-by).
 */
static int parse_ident(struct parser *p, struct node *n, int bare)
{
	const char *w = p->src + p->tok.start, *dot;
	size_t len = p->tok.end - p->tok.start, start = p->tok.start, i;
	char shown[SHOWN * 4 + 8];
	size_t word_end = p->tok.end;
	int err;

	if (p->tok.kind != T_WORD)
		return expected(p, "%s", bare ? KEY_OR_BARE : KEY_EXPECTED);
	if (!(dot = memchr(w, '.', len))) {
		if (!bare)
			return expected(p, "%s", KEY_EXPECTED);
		n->entity = E_ATTR;
		if (!(n->attr = attribute_find(w, len)))
			return unknown_attribute(p, start, w, len);
		return next(p);
	}
	for (i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strlen(prefixes[i].name) == (size_t)(dot - w) &&
		    !memcmp(prefixes[i].name, w, dot - w))
			break;
	if (i == ARRAY_SIZE(prefixes))
		return fail(p, start,
			    "unknown prefix %s (expected metrics., params., "
			    "tags. or attributes.)",
			    excerpt(shown, sizeof(shown), w, dot - w));
	n->entity = prefixes[i].entity;
	if ((err = next(p)) < 0)
		return err;
	if (dot + 1 < w + len) {
		n->key = strndup(dot + 1, w + len - dot - 1);
	} else if ((p->tok.kind == T_BACKTICK ||
		    (p->tok.kind == T_STRING && p->tok.quote == '"')) &&
		   p->tok.start == word_end) {
		if (!p->text.len)
			return fail(p, p->tok.start, "empty key");
		n->key = strdup(p->text.buf);
		if ((err = next(p)) < 0)
			return err;
	} else {
		return expected(p, "a key after %s",
				excerpt(shown, sizeof(shown), w, len));
	}
	if (!n->key)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (n->entity != E_ATTR)
		return 0;
	if (!(n->attr = attribute_find(n->key, strlen(n->key))))
		return unknown_attribute(p, start, n->key, strlen(n->key));
	free(n->key);
	n->key = NULL;
	return 0;
}

static int parse_operator(struct parser *p, enum op *out)
{
	if (p->tok.kind == T_OP)
		*out = p->tok.op;
	else if (is_kw(p, "LIKE"))
		*out = OP_LIKE;
	else if (is_kw(p, "ILIKE"))
		*out = OP_ILIKE;
	else if (is_kw(p, "IN"))
		*out = OP_IN;
	else if (!is_kw(p, "NOT"))
		return expected(p, "a comparison operator");
	else {
		int err = next(p);

		if (err < 0)
			return err;
		if (is_kw(p, "LIKE"))
			*out = OP_NOT_LIKE;
		else if (is_kw(p, "ILIKE"))
			*out = OP_NOT_ILIKE;
		else if (is_kw(p, "IN"))
			*out = OP_NOT_IN;
		else
			return expected(p, "LIKE, ILIKE or IN after NOT");
	}
	return next(p);
}

static int check_operator(struct parser *p, const struct node *n,
			  size_t off)
{
	char shown[SHOWN * 4 + 8];
	const char *name = n->attr ? n->attr->name : n->key;
	int numeric = is_numeric(n->entity, n->attr);
	int ok = 0;

	switch (n->op) {
	case OP_EQ:
	case OP_NE:
	case OP_IN:
	case OP_NOT_IN:
		return 0;
	case OP_GT:
	case OP_GE:
	case OP_LT:
	case OP_LE:
		ok = numeric;
		break;
	case OP_LIKE:
	case OP_ILIKE:
	case OP_NOT_LIKE:
	case OP_NOT_ILIKE:
		ok = !numeric;
		break;
	}
	if (ok)
		return 0;
	return fail(p, off, "operator '%s' cannot be used with %s %s "
			    "(expected %s)",
		    op_names[n->op], entities[n->entity].noun,
		    excerpt(shown, sizeof(shown), name, strlen(name)),
		    numeric ? "=, !=, >, >=, <, <=, IN or NOT IN"
			    : "=, !=, LIKE, ILIKE, NOT LIKE, NOT ILIKE, IN "
			      "or NOT IN");
}

/*
 * Rewrites a LIKE pattern for GLOB, which is case-sensitive: % and _
 * become * and ?, GLOB's own * ? [ are bracketed to stand for themselves,
 * and a backslash makes the next character literal (PostgreSQL's LIKE
 * escape), so '50\%' matches "50%". Returns -1 on a trailing backslash.
 */
static int like_to_glob(struct cnai_buf *out, const char *pat)
{
	const char *s;
	char c;

	for (s = pat; *s; s++) {
		c = *s;
		if (c == '\\') {
			if (!s[1])
				return -1;
			c = *++s;
		} else if (c == '%' || c == '_') {
			cnai_buf_addch(out, c == '%' ? '*' : '?');
			continue;
		}
		if (c == '*' || c == '?' || c == '[')
			cnai_buf_addf(out, "[%c]", c);
		else
			cnai_buf_addch(out, c);
	}
	return 0;
}

/* ILIKE keeps its pattern for SQLite's LIKE ... ESCAPE '\'; only a
 * trailing lone backslash, which SQLite would silently never match, is
 * refused. */
static int like_check(const char *pat)
{
	for (; *pat; pat++)
		if (*pat == '\\' && !*++pat)
			return -1;
	return 0;
}

static int parse_value(struct parser *p, struct node *n)
{
	const char *s = p->src + p->tok.start, *digits;
	size_t len = p->tok.end - p->tok.start;
	struct cnai_buf glob = CNAI_BUF_INIT;
	char *end;
	int err, bad;

	if (++p->nvalues > MAX_VALUES)
		return fail(p, p->tok.start, "too many values (at most %d)",
			    MAX_VALUES);
	if (p->tok.kind == T_END)
		return expected(p, "a value");
	if (is_numeric(n->entity, n->attr)) {
		if (p->tok.kind != T_NUMBER)
			return expected(p, "a number");
		/* Times and exit codes are integers: keep them exact. */
		digits = memchr(s, '.', len) || memchr(s, 'e', len) ||
				 memchr(s, 'E', len) || n->entity != E_ATTR
			 ? NULL : s;
		errno = 0;
		if (digits) {
			long long i = strtoll(s, &end, 10);

			if (errno == ERANGE)
				return fail(p, p->tok.start,
					    "number out of range");
			err = cnai_sql_add_int(&n->values, i);
		} else {
			/* Overflow gives an infinity, which metrics can
			 * hold. */
			err = cnai_sql_add_real(&n->values, strtod(s, &end));
		}
		if (err < 0)
			return err;
		/* Only a locale whose decimal point is not '.' stops
		 * strtod() early. */
		if (end != p->src + p->tok.end)
			return fail(p, p->tok.start, "cannot read number "
						     "'%.*s'", (int)len, s);
		return next(p);
	}
	if (p->tok.kind != T_STRING)
		return expected(p, "a quoted string");
	switch (n->op) {
	case OP_LIKE:
	case OP_NOT_LIKE:
		bad = like_to_glob(&glob, p->text.buf) < 0;
		if (!bad && (err = cnai_buf_oom(&glob)) == 0)
			err = cnai_sql_add_text(&n->values, glob.buf);
		cnai_buf_release(&glob);
		break;
	case OP_ILIKE:
	case OP_NOT_ILIKE:
		if (!(bad = like_check(p->text.buf) < 0))
			err = cnai_sql_add_text(&n->values, p->text.buf);
		break;
	default:
		bad = 0;
		err = cnai_sql_add_text(&n->values, p->text.buf);
		break;
	}
	if (bad)
		return fail(p, p->tok.start, "pattern ends with a lone "
					     "backslash");
	if (err < 0)
		return err;
	return next(p);
}

static int parse_comparison(struct parser *p, struct node **out)
{
	size_t start = p->tok.start, op_start;
	struct node *n;
	int err;

	if (++p->nterms > MAX_TERMS)
		return fail(p, p->tok.start,
			    "too many comparisons (at most %d)", MAX_TERMS);
	if (!(n = node_new(N_CMP)))
		return CNAI_ERROR;
	if ((err = parse_ident(p, n, 0)) < 0)
		goto cleanup;
	/* The key is a bound value too. */
	if (n->entity != E_ATTR && ++p->nvalues > MAX_VALUES) {
		err = fail(p, start, "too many values (at most %d)",
			   MAX_VALUES);
		goto cleanup;
	}
	op_start = p->tok.start;
	if ((err = parse_operator(p, &n->op)) < 0 ||
	    (err = check_operator(p, n, op_start)) < 0)
		goto cleanup;
	if (n->op != OP_IN && n->op != OP_NOT_IN) {
		err = parse_value(p, n);
		goto cleanup;
	}
	if (p->tok.kind != T_LPAREN) {
		err = expected(p, "'(' after %s", op_names[n->op]);
		goto cleanup;
	}
	if ((err = next(p)) < 0)
		goto cleanup;
	if (p->tok.kind == T_RPAREN) {
		err = fail(p, p->tok.start, "empty list after %s",
			   op_names[n->op]);
		goto cleanup;
	}
	for (;;) {
		if ((err = parse_value(p, n)) < 0)
			goto cleanup;
		if (p->tok.kind == T_RPAREN)
			break;
		if (p->tok.kind != T_COMMA) {
			err = expected(p, "',' or ')'");
			goto cleanup;
		}
		if ((err = next(p)) < 0)
			goto cleanup;
	}
	err = next(p);
cleanup:
	if (err < 0)
		node_free(n);
	else
		*out = n;
	return err;
}

static int parse_chain(struct parser *p, struct node **out,
		       enum node_kind kind);

/* A comparison or a parenthesised expression. */
static int parse_primary(struct parser *p, struct node **out)
{
	size_t open = p->tok.start;
	int err;

	if (p->tok.kind != T_LPAREN)
		return parse_comparison(p, out);
	if (++p->depth > MAX_DEPTH)
		return fail(p, open, "parentheses nested too deeply (at most "
				     "%d)", MAX_DEPTH);
	if ((err = next(p)) < 0)
		return err;
	if (p->tok.kind == T_RPAREN)
		return fail(p, open, "empty parentheses");
	if ((err = parse_chain(p, out, N_OR)) < 0)
		return err;
	if (p->tok.kind == T_RPAREN) {
		p->depth--;
		if ((err = next(p)) == 0)
			return 0;
		/* callers own nothing on error (a leak the fuzzer found:
		 * tests/fuzz/fuzz-filter.c) */
		node_free(*out);
		*out = NULL;
		return err;
	}
	node_free(*out);
	*out = NULL;
	if (p->tok.kind == T_END)
		return fail(p, open, "'(' is never closed");
	return expected(p, "AND, OR or ')'");
}

/* An item of a `kind` chain: a primary in an AND, an AND chain in an OR. */
static int parse_item(struct parser *p, struct node **out,
		      enum node_kind kind)
{
	if (kind == N_AND)
		return parse_primary(p, out);
	return parse_chain(p, out, N_AND);
}

/*
 * An AND chain of primaries or an OR chain of AND chains, which is what
 * makes AND bind tighter. Chains are loops, so only parentheses deepen
 * the recursion.
 */
static int parse_chain(struct parser *p, struct node **out,
		       enum node_kind kind)
{
	const char *kw = kind == N_AND ? "AND" : "OR";
	struct node *first, *kid, *n = NULL;
	int err;

	if ((err = parse_item(p, &first, kind)) < 0)
		return err;
	if (!is_kw(p, kw)) {
		*out = first;
		return 0;
	}
	if (!(n = node_new(kind))) {
		node_free(first);
		return CNAI_ERROR;
	}
	if ((err = node_add(n, first)) < 0)
		goto cleanup;
	while (is_kw(p, kw)) {
		if ((err = next(p)) < 0 ||
		    (err = parse_item(p, &kid, kind)) < 0 ||
		    (err = node_add(n, kid)) < 0)
			goto cleanup;
	}
cleanup:
	if (err < 0)
		node_free(n);
	else
		*out = n;
	return err;
}

static void parser_init(struct parser *p, const char *src, const char *what)
{
	memset(p, 0, sizeof(*p));
	p->src = src;
	p->what = what;
	cnai_buf_init(&p->text);
}

static int check_length(struct parser *p)
{
	if (strnlen(p->src, MAX_LENGTH + 1) > MAX_LENGTH)
		return fail(p, MAX_LENGTH, "%s longer than %d bytes", p->what,
			    MAX_LENGTH);
	return 0;
}

int cnai_filter_parse(struct cnai_filter **out, const char *expr)
{
	struct cnai_filter *f = NULL;
	struct parser p;
	int err;

	*out = NULL;
	parser_init(&p, expr, "filter");
	if ((err = check_length(&p)) < 0)
		goto cleanup;
	if (!(f = calloc(1, sizeof(*f)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	/* A blank filter leaves the root NULL: it matches every run. */
	if ((err = next(&p)) < 0 || p.tok.kind == T_END ||
	    (err = parse_chain(&p, &f->root, N_OR)) < 0)
		goto cleanup;
	if (p.tok.kind == T_RPAREN)
		err = fail(&p, p.tok.start, "unmatched ')'");
	else if (p.tok.kind != T_END)
		err = expected(&p, "AND, OR or end of filter");
cleanup:
	cnai_buf_release(&p.text);
	if (err < 0)
		cnai_filter_free(f);
	else
		*out = f;
	return err;
}

void cnai_filter_free(struct cnai_filter *f)
{
	if (!f)
		return;
	node_free(f->root);
	free(f);
}

/* ---- the emitter ----------------------------------------------------- */

size_t cnai_filter_term_count(const struct cnai_filter *f)
{
	if (!f->root)
		return 0;
	return f->root->kind == N_AND ? f->root->nkids : 1;
}

static const struct node *term(const struct cnai_filter *f, size_t i)
{
	assert(i < cnai_filter_term_count(f));
	return f->root->kind == N_AND ? f->root->kids[i] : f->root;
}

/* `lhs op ?`, or `lhs IN (?, ?)`, and the node's values. */
static int emit_test(struct cnai_sql *q, const char *lhs, const struct node *n)
{
	/* A NaN metric is stored as NULL. NaN differs from every number,
	 * so != and NOT IN must match it, which NULL would not. */
	int nan = n->entity == E_METRIC &&
		  (n->op == OP_NE || n->op == OP_NOT_IN);
	size_t i;

	if (nan)
		cnai_buf_addf(&q->text, "(%s IS NULL OR ", lhs);
	cnai_buf_adds(&q->text, lhs);
	cnai_buf_adds(&q->text, op_sql[n->op]);
	if (n->op == OP_IN || n->op == OP_NOT_IN) {
		for (i = 0; i < n->values.nvalues; i++)
			cnai_buf_adds(&q->text, i ? ", ?" : "?");
		cnai_buf_addch(&q->text, ')');
	}
	if (nan)
		cnai_buf_addch(&q->text, ')');
	return cnai_sql_append(q, &n->values);
}

/*
 * Chains are written flat, `a AND b AND c`: a balanced tree of
 * parentheses would be shallower for SQLite's expression tree but would
 * overflow its parser's stack; MAX_TERMS keeps a chain below the former.
 */
static int emit_node(struct cnai_sql *q, const struct node *n)
{
	size_t i;
	int err;

	if (n->kind != N_CMP) {
		cnai_buf_addch(&q->text, '(');
		for (i = 0; i < n->nkids; i++) {
			if (i)
				cnai_buf_adds(&q->text, n->kind == N_AND
								? " AND "
								: " OR ");
			if ((err = emit_node(q, n->kids[i])) < 0)
				return err;
		}
		cnai_buf_addch(&q->text, ')');
		return 0;
	}
	if (n->entity == E_ATTR)
		return emit_test(q, n->attr->sql, n);
	cnai_buf_addf(&q->text,
		      "EXISTS (SELECT 1 FROM %s WHERE run = r.id AND "
		      "key = ? AND ",
		      entities[n->entity].table);
	if ((err = cnai_sql_add_text(q, n->key)) < 0 ||
	    (err = emit_test(q, "value", n)) < 0)
		return err;
	cnai_buf_addch(&q->text, ')');
	return 0;
}

int cnai_filter_to_sql(struct cnai_sql *out, const struct cnai_filter *f,
		       size_t skip)
{
	size_t len = out->text.len, nvalues = out->nvalues;
	size_t i, n = cnai_filter_term_count(f), emitted = 0;
	int err = 0;

	/* Parenthesised, so that the caller may put it next to any
	 * operator. */
	for (i = 0; i < n && !err; i++) {
		if (i == skip)
			continue;
		cnai_buf_adds(&out->text, emitted++ ? " AND " : "(");
		err = emit_node(out, term(f, i));
	}
	cnai_buf_adds(&out->text, emitted ? ")" : "1");
	if (!err)
		err = cnai_buf_oom(&out->text);
	if (err < 0)
		sql_truncate(out, len, nvalues);
	return err;
}

int cnai_filter_term_driver_sql(struct cnai_sql *out,
				const struct cnai_filter *f, size_t i)
{
	size_t len = out->text.len, nvalues = out->nvalues;
	const struct node *n;
	int err;

	if (i >= cnai_filter_term_count(f))
		return CNAI_ENOTFOUND;
	n = term(f, i);
	if (n->kind != N_CMP || n->entity == E_ATTR)
		return CNAI_ENOTFOUND;
	/* Tests an index range can answer; != and LIKE would scan the
	 * whole key. */
	switch (n->op) {
	case OP_EQ:
	case OP_GT:
	case OP_GE:
	case OP_LT:
	case OP_LE:
	case OP_IN:
		break;
	case OP_NE:
	case OP_LIKE:
	case OP_ILIKE:
	case OP_NOT_LIKE:
	case OP_NOT_ILIKE:
	case OP_NOT_IN:
		return CNAI_ENOTFOUND;
	}
	/* (run, key) is each table's primary key: a run comes once. */
	cnai_buf_addf(&out->text, "SELECT run FROM %s WHERE key = ? AND ",
		      entities[n->entity].table);
	if ((err = cnai_sql_add_text(out, n->key)) == 0 &&
	    (err = emit_test(out, "value", n)) == 0)
		err = cnai_buf_oom(&out->text);
	if (err < 0)
		sql_truncate(out, len, nvalues);
	return err;
}

int cnai_order_by_compile(struct cnai_sql *out, const char *spec)
{
	size_t len = out->text.len, nvalues = out->nvalues;
	struct node *n = NULL;
	struct parser p;
	int err, desc = 0;

	parser_init(&p, spec, "order-by");
	if ((err = check_length(&p)) < 0 || (err = next(&p)) < 0)
		goto cleanup;
	if (!(n = node_new(N_CMP))) {
		err = CNAI_ERROR;
		goto cleanup;
	}
	if ((err = parse_ident(&p, n, 1)) < 0)
		goto cleanup;
	if (is_kw(&p, "ASC") || (desc = is_kw(&p, "DESC"))) {
		if ((err = next(&p)) < 0)
			goto cleanup;
		if (p.tok.kind != T_END) {
			err = expected(&p, "end of order-by");
			goto cleanup;
		}
	} else if (p.tok.kind != T_END) {
		err = expected(&p, "ASC, DESC or end of order-by");
		goto cleanup;
	}
	if (n->entity == E_ATTR) {
		cnai_buf_adds(&out->text, n->attr->sql);
	} else {
		cnai_buf_addf(&out->text,
			      "(SELECT value FROM %s WHERE run = r.id AND "
			      "key = ?)",
			      entities[n->entity].table);
		if ((err = cnai_sql_add_text(out, n->key)) < 0)
			goto cleanup;
	}
	/* Runs without the key sort last either way, as NaN metrics do. */
	cnai_buf_adds(&out->text,
		      desc ? " DESC NULLS LAST" : " ASC NULLS LAST");
	err = cnai_buf_oom(&out->text);
cleanup:
	if (err < 0)
		sql_truncate(out, len, nvalues);
	node_free(n);
	cnai_buf_release(&p.text);
	return err;
}
