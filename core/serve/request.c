/*
 * A decoder for the one request shape that carries nearly all traffic:
 * rows of numbers as one [N, F] "input". Through jansson, a 256-row
 * request was 16,384 allocated values, then a flattened copy, then a
 * lookup each; here each number is read once and stored encoded.
 *
 * It is deliberately strict: it takes only text that jansson would
 * accept and that the general decoder would answer with 200, and reads
 * each value exactly as that path does (an integer token as an integer,
 * a real as strtod rounds it, then to float). Anything else, errors
 * included, returns 0 and goes the general way, so the answers and the
 * error messages clients see do not depend on which path ran.
 */
#include "core/serve/request.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/serve/infer.h"
#include "core/util/error.h"
#include "core/util/banned.h"

struct cursor {
	const char *p, *end;
	const struct cnai_ml_prep *prep;
	float *x;           /* values read so far, encoded */
	size_t count, cap;
	size_t col;         /* count % F: the next value's feature */
	int oom;
};

/* Keys of the input object, as bits: each may appear once. */
enum key_bits {
	KEY_NAME = (1 << 0),
	KEY_SHAPE = (1 << 1),
	KEY_DATATYPE = (1 << 2),
	KEY_DATA = (1 << 3),
	KEY_ALL = KEY_NAME | KEY_SHAPE | KEY_DATATYPE | KEY_DATA,
};

/* Exact powers of ten: m / 10^k with both exact is one rounding. */
static const double exact_pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
				      1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				      1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
				      1e18, 1e19, 1e20, 1e21, 1e22 };

/* JSON's whitespace, which is also jansson's. */
static inline char peek(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\n' || *c->p == '\r'))
		c->p++;
	return c->p < c->end ? *c->p : '\0';
}

static inline int expect(struct cursor *c, char ch)
{
	if (peek(c) != ch)
		return 0;
	c->p++;
	return 1;
}

/* A string of printable ASCII without escapes: its characters. */
static int plain_string(struct cursor *c, const char **s, size_t *len)
{
	const char *q;

	if (!expect(c, '"'))
		return 0;
	for (q = c->p; q < c->end && *q != '"'; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e ||
		    *q == '\\')
			return 0;
	if (q == c->end)
		return 0;
	*s = c->p;
	*len = (size_t)(q - c->p);
	c->p = q + 1;
	return 1;
}

static int string_is(struct cursor *c, const char *want)
{
	const char *s;
	size_t len;

	return plain_string(c, &s, &len) && len == strlen(want) &&
	       !memcmp(s, want, len);
}

static inline int is_digit(const char *q, const char *end)
{
	return q < end && *q >= '0' && *q <= '9';
}

/* Digits into *m; *n counts them all. Past 19 digits *m wraps, and is
 * not used then. */
static inline const char *digits(const char *q, const char *end,
				 uint64_t *m, int *n)
{
	const char *first = q;
	uint64_t v = *m;

	for (; q < end && (unsigned)(*q - '0') < 10; q++)
		v = v * 10 + (uint64_t)(*q - '0');
	*m = v;
	*n += (int)(q - first);
	return q;
}

/* A real token's value as strtod reads it (jansson's reader); 0 on an
 * overflow, which jansson refuses. */
static int real_by_strtod(double *v, const char *s, size_t len)
{
	char tmp[64];

	if (len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	*v = strtod(tmp, NULL);
	return !(errno == ERANGE && (*v == HUGE_VAL || *v == -HUGE_VAL));
}

/*
 * One JSON number, with jansson's grammar and values: no '.' or exponent
 * makes an integer (json_integer, read as a double through long long),
 * else a real (strtod). Up to 15 digits and a power of ten within 22, the
 * real is m * 10^e in one correctly rounded operation, which is what
 * strtod returns. 0: not a number, or an integer of 19 digits or more.
 */
static int number(struct cursor *c, double *v, int *is_int)
{
	const char *s, *q;
	uint64_t m = 0, ex = 0;
	int n = 0, nfrac = 0, nexp = 0, neg, eneg = 0, e10;

	peek(c);
	s = q = c->p;
	neg = q < c->end && *q == '-';
	q += neg;
	if (!is_digit(q, c->end) || (*q == '0' && is_digit(q + 1, c->end)))
		return 0;
	q = digits(q, c->end, &m, &n);
	*is_int = 1;
	if (q < c->end && *q == '.') {
		*is_int = 0;
		if (!is_digit(++q, c->end))
			return 0;
		nfrac = n;
		q = digits(q, c->end, &m, &n);
		nfrac = n - nfrac;
	}
	if (q < c->end && (*q == 'e' || *q == 'E')) {
		*is_int = 0;
		q++;
		if (q < c->end && (*q == '+' || *q == '-'))
			eneg = *q++ == '-';
		if (!is_digit(q, c->end))
			return 0;
		q = digits(q, c->end, &ex, &nexp);
	}
	c->p = q;
	if (*is_int) {
		if (n > 18)
			return 0;
		*v = (double)(neg ? -(long long)m : (long long)m);
		return 1;
	}
	e10 = (nexp > 4 ? 9999 : (int)ex) * (eneg ? -1 : 1) - nfrac;
	if (n > 15 || e10 < -22 || e10 > 22)
		return real_by_strtod(v, s, (size_t)(q - s));
	*v = e10 < 0 ? (double)m / exact_pow10[-e10]
		     : (double)m * exact_pow10[e10];
	if (neg)
		*v = -*v;
	return 1;
}

/* Stores value number c->count, encoded as its column's feature says:
 * (x - mean) / std, and the training fill for null. */
static inline int store(struct cursor *c, float x, int missing)
{
	const struct cnai_ml_feature *f = &c->prep->f[c->col];

	if (c->count == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		float *grown = realloc(c->x, cap * sizeof(float));

		if (!grown) {
			c->oom = 1;
			return 0;
		}
		c->x = grown;
		c->cap = cap;
	}
	if (missing)
		x = f->fill;
	c->x[c->count++] = (x - f->mean) / f->std;
	if (++c->col == c->prep->n)
		c->col = 0;
	return 1;
}

/* A number or null; a number must stay finite as a float. */
static int value(struct cursor *c)
{
	double v;
	float x;
	int is_int;

	if (peek(c) == 'n') {
		if (c->end - c->p < 4 || memcmp(c->p, "null", 4))
			return 0;
		c->p += 4;
		return store(c, 0, 1);
	}
	if (!number(c, &v, &is_int))
		return 0;
	x = (float)v;
	return isfinite(x) && store(c, x, 0);
}

/* An array of values, or (nested = 1) of values and arrays of values:
 * the data, flat or by row; its shape is only the count, as in the
 * general decoder. */
static int values(struct cursor *c, int nested)
{
	if (!expect(c, '['))
		return 0;
	if (expect(c, ']'))
		return 1;
	do {
		if (peek(c) == '[' ? !(nested && values(c, 0)) : !value(c))
			return 0;
	} while (expect(c, ','));
	return expect(c, ']');
}

/* [N, F]: two integers within the general decoder's limits. */
static int shape(struct cursor *c, size_t dims[2])
{
	double v;
	int i, is_int;

	if (!expect(c, '['))
		return 0;
	for (i = 0; i < 2; i++) {
		if ((i && !expect(c, ',')) || !number(c, &v, &is_int) ||
		    !is_int || v < 0 || v > CNAI_SERVE_MAX_DIM)
			return 0;
		dims[i] = (size_t)v;
	}
	return expect(c, ']');
}

/* FP32 or FP64, which read numbers alike (INT* check more, BYTES is for
 * categories). */
static int datatype(struct cursor *c)
{
	const char *s;
	size_t len;

	return plain_string(c, &s, &len) && len == 4 &&
	       (!memcmp(s, "FP32", 4) || !memcmp(s, "FP64", 4));
}

static int input_member(struct cursor *c, unsigned *seen, size_t dims[2])
{
	const char *key;
	size_t len;
	unsigned bit;

	if (!plain_string(c, &key, &len) || !expect(c, ':'))
		return 0;
	bit = len == 4 && !memcmp(key, "name", 4)       ? KEY_NAME
	      : len == 5 && !memcmp(key, "shape", 5)    ? KEY_SHAPE
	      : len == 8 && !memcmp(key, "datatype", 8) ? KEY_DATATYPE
	      : len == 4 && !memcmp(key, "data", 4)     ? KEY_DATA
							: 0;
	if (!bit || (*seen & bit))
		return 0;
	*seen |= bit;
	switch (bit) {
	case KEY_NAME: return string_is(c, "input");
	case KEY_SHAPE: return shape(c, dims);
	case KEY_DATATYPE: return datatype(c);
	default: return values(c, 1);
	}
}

/* "inputs": [{"name": "input", "shape": [N, F], ...}], one input only. */
static int inputs(struct cursor *c, size_t dims[2])
{
	unsigned seen = 0;

	if (!expect(c, '[') || !expect(c, '{'))
		return 0;
	do {
		if (!input_member(c, &seen, dims))
			return 0;
	} while (expect(c, ','));
	return expect(c, '}') && expect(c, ']') && seen == KEY_ALL;
}

/* The whole body: {"inputs": ..., "id": "..."?}, nothing after. */
static int request(struct cursor *c, struct cnai_serve_request *out,
		   size_t dims[2])
{
	int have_inputs = 0;
	const char *key;
	size_t len;

	if (!expect(c, '{'))
		return 0;
	do {
		if (!plain_string(c, &key, &len) || !expect(c, ':'))
			return 0;
		if (len == 6 && !memcmp(key, "inputs", 6) && !have_inputs) {
			if (!inputs(c, dims))
				return 0;
			have_inputs = 1;
		} else if (len == 2 && !memcmp(key, "id", 2) && !out->id) {
			if (!plain_string(c, &out->id, &out->idlen))
				return 0;
		} else {
			return 0;
		}
	} while (expect(c, ','));
	return expect(c, '}') && peek(c) == '\0' && c->p == c->end &&
	       have_inputs;
}

/* Numeric features only, more than one: the general decoder's [N, F]
 * case, where the matrix's columns are the features in order. */
static int numeric_matrix(const struct cnai_ml_prep *p)
{
	return p->n > 1 && p->nnumeric == p->n && p->width == p->n;
}

int cnai_serve_request_decode(struct cnai_serve_request *out,
			      const char *body, size_t len,
			      const struct cnai_ml_prep *p)
{
	struct cursor c = { body, body + len, p, NULL, 0, 0, 0, 0 };
	size_t dims[2] = { 0, 0 };

	memset(out, 0, sizeof(*out));
	if (!numeric_matrix(p))
		return 0;
	if (request(&c, out, dims) && dims[1] == p->n &&
	    c.count == dims[0] * dims[1]) {
		out->x = c.x;
		out->n = dims[0];
		return 1;
	}
	free(c.x);
	memset(out, 0, sizeof(*out));
	return c.oom ? cnai_error_set(CNAI_ERROR, "out of memory") : 0;
}

/* ---- the skeleton of any request -------------------------------------- */

/* jansson's JSON_PARSER_MAX_DEPTH: arrays and objects open at once. */
enum { JANSSON_MAX_DEPTH = 2048 };

struct scan {
	const char *p, *end, *body;
	int depth;
	struct cnai_buf sk;    /* the skeleton's text */
	struct cnai_serve_skeleton *out;
	size_t cap;            /* out->spans allocated */
	const char *err_at;    /* the first syntax error */
	const char *err_text;
};

static int fail(struct scan *sc, const char *at, const char *text)
{
	if (!sc->err_at) {
		sc->err_at = at;
		sc->err_text = text;
	}
	return 0;
}

static void ws(struct scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' ||
				   *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
}

static int at(struct scan *sc, char ch)
{
	ws(sc);
	return sc->p < sc->end && *sc->p == ch;
}

/* A real token as strtod reads it, whatever its length; 0 on overflow. */
static int real_any_length(double *v, const char *s, size_t len)
{
	char *tmp;
	int ok;

	if (len < 64)
		return real_by_strtod(v, s, len);
	if (!(tmp = malloc(len + 1)))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	*v = strtod(tmp, NULL);
	ok = !(errno == ERANGE && (*v == HUGE_VAL || *v == -HUGE_VAL));
	free(tmp);
	return ok;
}

/*
 * One number token at p (jansson's grammar), read into v as jansson
 * would: an integer token through strtoll, refused past its range ("too
 * big integer"), else a real through strtod, refused on overflow. 0 and
 * *why set when it is not a number jansson takes.
 */
static int read_number(struct cnai_serve_value *v, const char **p,
		       const char *end, const char **why)
{
	struct cursor c = { *p, end, NULL, NULL, 0, 0, 0, 0 };
	const char *s = *p, *q = s;
	int is_int;

	*why = "invalid token";
	if (number(&c, &v->number, &is_int) &&
	    (!is_int || c.p - s <= 15)) {
		/* up to 15 digits, the double holds the integer exactly */
		*p = c.p;
		v->kind = is_int ? CNAI_SERVE_INTEGER : CNAI_SERVE_REAL;
		v->integer = is_int ? (long long)v->number : 0;
		return 1;
	}
	/* number() declines integers of 19 digits or more, and reals whose
	 * strtod copy would not fit: its grammar again, then strtoll and
	 * strtod on any length */
	q += q < end && *q == '-';
	if (!is_digit(q, end) || (*q == '0' && is_digit(q + 1, end)))
		return 0;
	while (is_digit(q, end))
		q++;
	is_int = 1;
	if (q < end && *q == '.') {
		is_int = 0;
		if (!is_digit(++q, end))
			return 0;
		while (is_digit(q, end))
			q++;
	}
	if (q < end && (*q == 'e' || *q == 'E')) {
		is_int = 0;
		q++;
		if (q < end && (*q == '+' || *q == '-'))
			q++;
		if (!is_digit(q, end))
			return 0;
		while (is_digit(q, end))
			q++;
	}
	*p = q;
	if (is_int) {
		char tmp[32];

		*why = "too big integer";
		if ((size_t)(q - s) >= sizeof(tmp))
			return 0;
		memcpy(tmp, s, (size_t)(q - s));
		tmp[q - s] = '\0';
		errno = 0;
		v->integer = strtoll(tmp, NULL, 10);
		if (errno == ERANGE)
			return 0;
		v->kind = CNAI_SERVE_INTEGER;
		v->number = (double)v->integer;
		return 1;
	}
	*why = "real number overflow";
	v->kind = CNAI_SERVE_REAL;
	return real_any_length(&v->number, s, (size_t)(q - s));
}

/*
 * The string token at sc->p (at its '"'): its characters in *s, *len.
 * Printable ASCII without escapes is taken as it is; anything else is
 * checked, and with `decoded` decoded, by jansson on the token alone
 * (escapes, UTF-8, control characters, \u0000 as in a whole document).
 */
static int scan_string(struct scan *sc, const char **s, size_t *len,
		       json_t **decoded)
{
	const char *start = sc->p, *q = sc->p + 1;
	int plain = 1;
	json_t *j;

	if (decoded)
		*decoded = NULL;
	for (; q < sc->end && *q != '"'; q++) {
		unsigned char ch = (unsigned char)*q;

		if (ch == '\\') {
			plain = 0;
			if (++q == sc->end)
				break;
		} else if (ch < 0x20) {
			return fail(sc, q, "control character in a string");
		} else if (ch > 0x7e) {
			plain = 0;
		}
	}
	if (q >= sc->end)
		return fail(sc, sc->end, "premature end of input");
	sc->p = q + 1;
	*s = start + 1;
	*len = (size_t)(q - start - 1);
	if (plain)
		return 1;
	j = json_loadb(start, (size_t)(sc->p - start),
		       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
	if (!j)
		return fail(sc, start, "invalid string");
	if (decoded)
		*decoded = j;
	else
		json_decref(j);
	return 1;
}

/*
 * jansson reads one character past a number or a literal and puts it
 * back, and a NUL put back is lost: one NUL right after such a token is
 * not there for it ("[1\0]" is [1]). The same here, so that the answers
 * do not change.
 */
static void drop_nul(struct scan *sc)
{
	if (sc->p < sc->end && !*sc->p)
		sc->p++;
}

/* An identifier jansson knows: true, false or null (1, 2, 3), else 0. */
static int literal(struct scan *sc)
{
	const char *s = sc->p, *q = s;
	size_t n;

	while (q < sc->end && ((*q >= 'a' && *q <= 'z') ||
			       (*q >= 'A' && *q <= 'Z')))
		q++;
	n = (size_t)(q - s);
	sc->p = q;
	drop_nul(sc);
	if (n == 4 && !memcmp(s, "true", 4))
		return 1;
	if (n == 5 && !memcmp(s, "false", 5))
		return 2;
	if (n == 4 && !memcmp(s, "null", 4))
		return 3;
	return fail(sc, s, "invalid token");
}

static int skip_value(struct scan *sc, struct cnai_serve_span *span,
		      int nesting);

/* '[' or '{' opens one more level, within jansson's limit. */
static int open_level(struct scan *sc)
{
	if (++sc->depth > JANSSON_MAX_DEPTH)
		return fail(sc, sc->p, "maximum parsing depth reached");
	sc->p++;
	return 1;
}

/*
 * Walks an array's elements: `element` reads each, given its index. The
 * skeleton is the callback's.
 */
static int walk_array(struct scan *sc,
		      int (*element)(struct scan *, size_t, void *), void *cls)
{
	size_t i = 0;

	if (!open_level(sc))
		return 0;
	if (!at(sc, ']')) {
		do {
			if (!element(sc, i++, cls))
				return 0;
			if (!at(sc, ','))
				break;
			sc->p++;
		} while (1);
		if (!at(sc, ']'))
			return fail(sc, sc->p, "']' expected");
	}
	sc->p++;
	sc->depth--;
	return 1;
}

/* Where an array being skipped is: in a data span, how deep. */
struct place {
	struct cnai_serve_span *span;
	int nesting;
};

static int skip_element(struct scan *sc, size_t i, void *cls)
{
	const struct place *in = cls;

	return skip_value(sc, in->span, in->nesting + 1);
}

/* The next member's key, decoded; the caller decrefs *key_json. */
static int member_key(struct scan *sc, const char **key, size_t *len,
		      json_t **key_json)
{
	if (!at(sc, '"'))
		return fail(sc, sc->p, "string or '}' expected");
	if (!scan_string(sc, key, len, key_json))
		return 0;
	if (*key_json) {
		*key = json_string_value(*key_json);
		*len = json_string_length(*key_json);
	}
	if (!at(sc, ':')) {
		json_decref(*key_json);
		*key_json = NULL;
		return fail(sc, sc->p, "':' expected");
	}
	sc->p++;
	return 1;
}

/*
 * Walks an object's members: for each, `member` reads the value (key
 * given); NULL skips every value. The skeleton is the callback's.
 */
static int walk_object(struct scan *sc,
		       int (*member)(struct scan *, const char *, size_t,
				     void *),
		       void *cls)
{
	const char *key;
	size_t len;
	json_t *kj;
	int ok;

	if (!open_level(sc))
		return 0;
	if (at(sc, '}')) {
		sc->p++;
		sc->depth--;
		return 1;
	}
	do {
		if (!member_key(sc, &key, &len, &kj))
			return 0;
		ok = member ? member(sc, key, len, cls)
			    : skip_value(sc, NULL, 0);
		json_decref(kj);
		if (!ok)
			return 0;
		if (!at(sc, ','))
			break;
		sc->p++;
	} while (1);
	if (!at(sc, '}'))
		return fail(sc, sc->p, "'}' expected");
	sc->p++;
	sc->depth--;
	return 1;
}

/*
 * Any value, checked and skipped. With `span`, the value is (inside) a
 * data array `nesting` arrays deep: each value that is not an array
 * counts, and nesting past the general decoder's limit is noted.
 */
static int skip_value(struct scan *sc, struct cnai_serve_span *span,
		      int nesting)
{
	struct cnai_serve_value v;
	const char *why, *s;
	size_t len;

	ws(sc);
	if (span && nesting > CNAI_SERVE_MAX_NESTING)
		span->too_deep = 1;
	if (sc->p >= sc->end)
		return fail(sc, sc->p, "premature end of input");
	if (*sc->p == '[') {
		struct place in = { span, nesting };

		return walk_array(sc, skip_element, &in);
	}
	if (span)
		span->count++;
	switch (*sc->p) {
	case '{': return walk_object(sc, NULL, NULL);
	case '"': return scan_string(sc, &s, &len, NULL);
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		s = sc->p;
		if (!read_number(&v, &sc->p, sc->end, &why))
			return fail(sc, s, why);
		drop_nul(sc);
		return 1;
	default:
		return literal(sc) > 0;
	}
}

/* Skips a value and, with `emit`, writes what stands for it. */
static int skip_as(struct scan *sc, const char *emit)
{
	if (!skip_value(sc, NULL, 0))
		return 0;
	cnai_buf_adds(&sc->sk, emit);
	return 1;
}

/* A value copied into the skeleton as it is in the body (small: a name,
 * a datatype, an id, a shape's number). */
static int copy_value(struct scan *sc)
{
	const char *s;

	ws(sc);
	s = sc->p;
	if (!skip_value(sc, NULL, 0))
		return 0;
	cnai_buf_add(&sc->sk, s, (size_t)(sc->p - s));
	return 1;
}

static int key_is(const char *key, size_t len, const char *want)
{
	return len == strlen(want) && !memcmp(key, want, len);
}

/* The skeleton's members of one object: a comma before all but the first. */
struct members {
	int n;
	size_t input; /* input objects: which */
};

static void emit_key(struct scan *sc, struct members *m, const char *key)
{
	cnai_buf_adds(&sc->sk, m->n++ ? ",\"" : "\"");
	cnai_buf_adds(&sc->sk, key);
	cnai_buf_adds(&sc->sk, "\":");
}

/* "shape": integers are what the decoder reads; three elements are
 * enough for it to refuse the shape. */
static int shape_element(struct scan *sc, size_t i, void *cls)
{
	struct cnai_serve_value v;
	const char *why, *s, *e;
	int num;

	ws(sc);
	s = sc->p;
	num = s < sc->end && (*s == '-' || (*s >= '0' && *s <= '9'));
	if (num && !read_number(&v, &sc->p, sc->end, &why))
		return fail(sc, s, why);
	e = sc->p;
	if (num)
		drop_nul(sc);
	else if (!skip_value(sc, NULL, 0))
		return 0;
	if (i >= 3)
		return 1;
	if (i)
		cnai_buf_addch(&sc->sk, ',');
	if (num)
		cnai_buf_add(&sc->sk, s, (size_t)(e - s));
	else
		cnai_buf_adds(&sc->sk, "null");
	return 1;
}

static int shape_value(struct scan *sc)
{
	if (!at(sc, '['))
		return skip_as(sc, "0");
	cnai_buf_addch(&sc->sk, '[');
	if (!walk_array(sc, shape_element, NULL))
		return 0;
	cnai_buf_addch(&sc->sk, ']');
	return 1;
}

static int input_key(struct scan *sc, const char *key, size_t len,
		     void *cls)
{
	struct members *m = cls;
	struct cnai_serve_span *span = &sc->out->spans[m->input];

	if (key_is(key, len, "name") || key_is(key, len, "datatype")) {
		emit_key(sc, m, key_is(key, len, "name") ? "name" : "datatype");
		return at(sc, '"') ? copy_value(sc) : skip_as(sc, "0");
	}
	if (key_is(key, len, "shape")) {
		emit_key(sc, m, "shape");
		return shape_value(sc);
	}
	if (!key_is(key, len, "data"))
		return skip_value(sc, NULL, 0);
	/* a later "data" replaces an earlier one, as in jansson */
	emit_key(sc, m, "data");
	cnai_buf_addch(&sc->sk, '0');
	memset(span, 0, sizeof(*span));
	ws(sc);
	span->p = sc->p;
	if (!skip_value(sc, span, 0))
		return 0;
	span->end = sc->p;
	return 1;
}

/* A zeroed span for inputs[i] (elements are visited in order). */
static int span_slot(struct scan *sc, size_t i)
{
	if (i == sc->cap) {
		size_t cap = sc->cap ? 2 * sc->cap : 8;
		struct cnai_serve_span *grown = realloc(
			sc->out->spans, cap * sizeof(*grown));

		if (!grown) {
			sc->sk.oom = 1;
			return fail(sc, sc->p, "out of memory");
		}
		sc->out->spans = grown;
		sc->cap = cap;
	}
	memset(&sc->out->spans[i], 0, sizeof(sc->out->spans[i]));
	sc->out->nspans = i + 1;
	return 1;
}

static int input_object(struct scan *sc, size_t i)
{
	struct members m = { 0, i };

	cnai_buf_addch(&sc->sk, '{');
	if (!walk_object(sc, input_key, &m))
		return 0;
	cnai_buf_addch(&sc->sk, '}');
	return 1;
}

static int input_element(struct scan *sc, size_t i, void *cls)
{
	if (i >= CNAI_SERVE_MAX_INPUTS) {
		sc->out->too_many_inputs = 1;
		return skip_value(sc, NULL, 0);
	}
	if (i)
		cnai_buf_addch(&sc->sk, ',');
	return span_slot(sc, i) &&
	       (at(sc, '{') ? input_object(sc, i) : skip_as(sc, "0"));
}

/* "inputs": an array of input objects (anything else is 0). */
static int inputs_value(struct scan *sc)
{
	/* a later "inputs" replaces an earlier one, as in jansson */
	sc->out->nspans = 0;
	sc->out->too_many_inputs = 0;
	if (!at(sc, '['))
		return skip_as(sc, "0");
	cnai_buf_addch(&sc->sk, '[');
	if (!walk_array(sc, input_element, NULL))
		return 0;
	cnai_buf_addch(&sc->sk, ']');
	return 1;
}

static int request_key(struct scan *sc, const char *key, size_t len,
		       void *cls)
{
	struct members *m = cls;

	if (key_is(key, len, "inputs")) {
		emit_key(sc, m, "inputs");
		return inputs_value(sc);
	}
	if (key_is(key, len, "id")) {
		emit_key(sc, m, "id");
		return at(sc, '"') ? copy_value(sc) : skip_as(sc, "0");
	}
	if (key_is(key, len, "instances")) {
		/* a later one replaces an earlier one, as in jansson */
		ws(sc);
		sc->out->instances.p = sc->p;
		if (!skip_value(sc, NULL, 0))
			return 0;
		sc->out->instances.end = sc->p;
		return 1;
	}
	return skip_value(sc, NULL, 0);
}

/* Line and column of `p` as jansson counts them: a column per
 * character (UTF-8 lead byte) of the line. */
static void position(struct cnai_serve_skeleton *out, const char *body,
		     const char *p)
{
	const char *q;

	out->line = 1;
	out->column = 0;
	for (q = body; q < p; q++) {
		if (*q == '\n') {
			out->line++;
			out->column = 0;
		} else if (((unsigned char)*q & 0xc0) != 0x80) {
			out->column++;
		}
	}
	out->column++;
}

int cnai_serve_skeleton_parse(struct cnai_serve_skeleton *out,
			      const char *body, size_t len)
{
	struct scan sc;
	struct members m = { 0, 0 };
	json_error_t jerr;
	int ok;

	memset(out, 0, sizeof(*out));
	memset(&sc, 0, sizeof(sc));
	sc.p = sc.body = body;
	sc.end = body + len;
	sc.out = out;
	cnai_buf_init(&sc.sk);
	ws(&sc);
	if (at(&sc, '{')) {
		cnai_buf_addch(&sc.sk, '{');
		ok = walk_object(&sc, request_key, &m);
		cnai_buf_addch(&sc.sk, '}');
	} else if (at(&sc, '[')) {
		/* not an object: the decoder says so, whatever it holds */
		ok = skip_as(&sc, "[]");
	} else {
		ok = fail(&sc, sc.p, "'[' or '{' expected");
	}
	if (ok) {
		ws(&sc);
		if (sc.p != sc.end)
			ok = fail(&sc, sc.p, "end of file expected");
	}
	if (cnai_buf_oom(&sc.sk) < 0) {
		cnai_buf_release(&sc.sk);
		return CNAI_ERROR;
	}
	if (!ok) {
		position(out, body, sc.err_at);
		snprintf(out->text, sizeof(out->text), "%s", sc.err_text);
		cnai_buf_release(&sc.sk);
		return 1;
	}
	out->doc = json_loadb(sc.sk.buf, sc.sk.len, 0, &jerr);
	cnai_buf_release(&sc.sk);
	if (!out->doc)
		return cnai_error_set(CNAI_ERROR, "request skeleton: %s",
				      jerr.text);
	return 0;
}

void cnai_serve_skeleton_release(struct cnai_serve_skeleton *sk)
{
	json_decref(sk->doc);
	free(sk->spans);
	memset(sk, 0, sizeof(*sk));
}

void cnai_serve_values_init(struct cnai_serve_values *it,
			    const struct cnai_serve_span *span)
{
	it->p = span->p;
	it->end = span->end;
}

/* Past the object at p (checked already): strings may hold braces. */
static const char *skip_object(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if ((*p == '}' || *p == ']') && --depth == 0) {
			return p + 1;
		}
	}
	return end;
}

int cnai_serve_values_next(struct cnai_serve_value *v,
			   struct cnai_serve_values *it)
{
	const char *p = it->p, *why;

	/* the span was checked: between values there is only structure
	 * (and the NUL jansson drops, see drop_nul) */
	while (p < it->end && (*p == '[' || *p == ']' || *p == ',' ||
			       *p == ' ' || *p == '\t' || *p == '\n' ||
			       *p == '\r' || !*p))
		p++;
	if (p >= it->end)
		return 0;
	memset(v, 0, sizeof(*v));
	if (*p == '"') {
		const char *q = p + 1;

		for (; *q != '"'; q++)
			if (*q == '\\' || (unsigned char)*q > 0x7e) {
				v->escaped = 1;
				if (*q == '\\')
					q++;
			}
		v->kind = CNAI_SERVE_STRING;
		v->text = v->escaped ? p : p + 1;
		v->len = v->escaped ? (size_t)(q + 1 - p) : (size_t)(q - p - 1);
		it->p = q + 1;
		return 1;
	}
	if (*p == '{') {
		v->kind = CNAI_SERVE_OTHER;
		it->p = skip_object(p, it->end);
		return 1;
	}
	if (*p == 'n' || *p == 't' || *p == 'f') {
		v->kind = *p == 'n' ? CNAI_SERVE_NULL : CNAI_SERVE_OTHER;
		it->p = p + (*p == 'f' ? 5 : 4);
		return 1;
	}
	read_number(v, &p, it->end, &why);
	it->p = p;
	return 1;
}

void cnai_serve_value_at(struct cnai_serve_value *v,
			 const struct cnai_serve_span *span)
{
	struct cnai_serve_values it = { span->p, span->end };

	if (*span->p == '[') {
		memset(v, 0, sizeof(*v));
		v->kind = CNAI_SERVE_OTHER;
		return;
	}
	cnai_serve_values_next(v, &it);
}

void cnai_serve_elements_init(struct cnai_serve_values *it,
			      const struct cnai_serve_span *span)
{
	/* inside the brackets (or braces) */
	it->p = span->p + 1;
	it->end = span->end - 1;
}

/* Past the (checked) value at p: a string, a bracketed value, a token. */
static const char *skip_any(const char *p, const char *end)
{
	if (*p == '"') {
		for (p++; *p != '"'; p++)
			if (*p == '\\')
				p++;
		return p + 1;
	}
	if (*p == '[' || *p == '{')
		return skip_object(p, end);
	while (p < end && *p != ',' && *p != ']' && *p != '}' && *p != ' ' &&
	       *p != '\t' && *p != '\n' && *p != '\r' && *p)
		p++;
	return p;
}

/* To the next element: past white space, a comma, a dropped NUL. */
static const char *next_element(const char *p, const char *end)
{
	while (p < end && (*p == ',' || *p == ' ' || *p == '\t' ||
			   *p == '\n' || *p == '\r' || !*p))
		p++;
	return p;
}

int cnai_serve_elements_next(struct cnai_serve_span *el,
			     struct cnai_serve_values *it)
{
	const char *p = next_element(it->p, it->end);

	if (p >= it->end)
		return 0;
	memset(el, 0, sizeof(*el));
	el->p = p;
	el->end = it->p = skip_any(p, it->end);
	return 1;
}

int cnai_serve_members_next(struct cnai_serve_span *key,
			    struct cnai_serve_span *value,
			    struct cnai_serve_values *it)
{
	if (!cnai_serve_elements_next(key, it))
		return 0;
	while (*it->p != ':')
		it->p++;
	it->p++;
	return cnai_serve_elements_next(value, it);
}
