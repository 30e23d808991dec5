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
