/*
 * JSON text for the server's answers without a jansson tree. An answer of
 * 256 rows holds 2,816 values; through jansson each was an allocation,
 * a tree insertion, a locale look-up and a printf, more than the model
 * costs. Here a float's 9 significant digits come from one correctly
 * rounded double product, and printf is called only where that product
 * is too close to a rounding tie to be trusted.
 */
#include "core/serve/json.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/banned.h"

/* 1e0 .. 1e60: a float's decimal exponent is within -45 .. 38, so the
 * scale that brings it to 9 integer digits is within 10^-30 .. 10^53. */
static const double pow10_table[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21,
	1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32,
	1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39, 1e40, 1e41, 1e42, 1e43,
	1e44, 1e45, 1e46, 1e47, 1e48, 1e49, 1e50, 1e51, 1e52, 1e53, 1e54,
	1e55, 1e56, 1e57, 1e58, 1e59, 1e60,
};
#define NPOW10 ((int)(sizeof(pow10_table) / sizeof(*pow10_table)))

/* a * 10^k, correctly rounded for |k| <= 22 and within 2 ulp beyond. */
static double scale10(double a, int k)
{
	return k >= 0 ? a * pow10_table[k] : a / pow10_table[-k];
}

/*
 * The 9 significant digits of a (> 0, a float's value) and the decimal
 * exponent of the first, as "%.8e" rounds them, from a double product.
 * That product is off by at most 3e-7 (2 ulp of a number below 1e9), so
 * the rounding it implies is exact unless its fraction is within 1e-6 of
 * one half or it sits at the edge of the 9-digit range: then 0, and the
 * caller asks printf.
 */
static int digits_fast(uint32_t *digits, int *exp10, double a)
{
	uint64_t bits;
	int e2, e, tries;
	double s, whole, frac;

	/* a's binary exponent, from its bits (a is a normal double), times
	 * log10(2) ~ 78913 / 2^18 (floored by the shift): the decimal
	 * exponent or one below it */
	memcpy(&bits, &a, sizeof(bits));
	e2 = (int)((bits >> 52) & 0x7ff) - 1023;
	e = (e2 * 78913) >> 18;
	for (tries = 0; tries < 3; tries++) {
		if (8 - e < -(NPOW10 - 1) || 8 - e > NPOW10 - 1)
			return 0;
		s = scale10(a, 8 - e);
		if (s >= 1e9)
			e++;
		else if (s < 1e8 - 1)
			e--;
		else
			break;
	}
	if (tries == 3 || s < 1e8)
		return 0;
	whole = (double)(uint64_t)s; /* floor: 1e8 <= s < 1e9 */
	frac = s - whole;
	if (fabs(frac - 0.5) < 1e-6)
		return 0;
	if (frac > 0.5)
		whole += 1;
	if (whole >= 1e9) { /* 999999999.7 rounds to 1.00000000e(e+1) */
		whole = 1e8;
		e++;
	}
	*digits = (uint32_t)whole;
	*exp10 = e;
	return 1;
}

/* The same from printf, whose "%.8e" rounds the exact binary value. */
static void digits_printf(uint32_t *digits, int *exp10, double a)
{
	char tmp[32], *p;
	uint32_t d = 0;

	snprintf(tmp, sizeof(tmp), "%.8e", a); /* "d.dddddddde[+-]XX" */
	for (p = tmp; *p != 'e'; p++)
		if (*p != '.')
			d = d * 10 + (uint32_t)(*p - '0');
	*digits = d;
	*exp10 = (int)strtol(p + 1, NULL, 10);
}

/* Writes digits[0, n) of the 9 in `d` (most significant first). */
static char *put_digits(char *o, const char *d, int n)
{
	memcpy(o, d, (size_t)n);
	return o + n;
}

/*
 * "%.9g" of digits * 10^(exp10 - 8), with jansson's touches: fixed
 * notation for exponents -4 .. 8, else d.ddde-X; trailing zeros dropped;
 * ".0" where no '.' or 'e' remains.
 */
static char *format_g9(char *o, uint32_t digits, int exp10)
{
	char d[9];
	int i, sig = 9, x = exp10;

	for (i = 8; i >= 0; i--, digits /= 10)
		d[i] = (char)('0' + digits % 10);
	while (sig > 1 && d[sig - 1] == '0')
		sig--;
	if (x >= 0 && x < 9) {
		o = put_digits(o, d, x + 1);
		*o++ = '.';
		if (sig > x + 1)
			return put_digits(o, d + x + 1, sig - x - 1);
		*o++ = '0';
		return o;
	}
	if (x < 0 && x >= -4) {
		*o++ = '0';
		*o++ = '.';
		for (i = -1; i > x; i--)
			*o++ = '0';
		return put_digits(o, d, sig);
	}
	*o++ = d[0];
	if (sig > 1) {
		*o++ = '.';
		o = put_digits(o, d + 1, sig - 1);
	}
	*o++ = 'e';
	if (x < 0) {
		*o++ = '-';
		x = -x;
	}
	if (x >= 10)
		*o++ = (char)('0' + x / 10);
	*o++ = (char)('0' + x % 10);
	return o;
}

int cnai_serve_json_float(char *out, float v)
{
	double a = fabs((double)v);
	char *o = out;
	uint32_t digits;
	int exp10;

	if (signbit(v))
		*o++ = '-';
	if (a == 0) {
		memcpy(o, "0.0", 3);
		o += 3;
	} else {
		if (!digits_fast(&digits, &exp10, a))
			digits_printf(&digits, &exp10, a);
		o = format_g9(o, digits, exp10);
	}
	*o = '\0';
	return (int)(o - out);
}

int cnai_serve_json_add_float(struct cnai_buf *b, float v)
{
	char text[CNAI_SERVE_JSON_FLOAT_MAX];

	return cnai_buf_add(b, text, (size_t)cnai_serve_json_float(text, v));
}

/* Printable ASCII without '"' or '\\': jansson writes it as it is. */
static int plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e ||
		    *s == '"' || *s == '\\')
			return 0;
	return 1;
}

/* Bytes as themselves or \u00XX: for text that is not valid UTF-8. */
static void add_latin1(struct cnai_buf *b, const char *s)
{
	cnai_buf_addch(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			cnai_buf_addch(b, '\\');
			cnai_buf_addch(b, (char)ch);
		} else if (ch < 0x20 || ch > 0x7e) {
			cnai_buf_addf(b, "\\u%04x", ch);
		} else {
			cnai_buf_addch(b, (char)ch);
		}
	}
	cnai_buf_addch(b, '"');
}

int cnai_serve_json_add_string(struct cnai_buf *b, const char *s)
{
	json_t *j;
	char *q;

	if (plain(s)) {
		cnai_buf_addch(b, '"');
		cnai_buf_adds(b, s);
		cnai_buf_addch(b, '"');
		return cnai_buf_oom(b);
	}
	j = json_string(s); /* NULL when s is not UTF-8 */
	q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	if (!q) {
		add_latin1(b, s);
		return cnai_buf_oom(b);
	}
	cnai_buf_adds(b, q);
	free(q);
	return cnai_buf_oom(b);
}
