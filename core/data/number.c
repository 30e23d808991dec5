/*
 * The fast path: up to 19 significant digits fit a uint64; when that
 * integer is at most 2^53 and the decimal exponent is within +-22, both it
 * and 10^|e| are exact doubles, so a single IEEE multiplication or division
 * rounds correctly. Exponents a little above 22 are folded into the
 * integer while it stays below 2^53. Everything else (long mantissas, big
 * exponents, hex floats, inf/nan, spaces) goes to strtod().
 */
#include "core/data/number.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/util/banned.h"

static const double pow10_exact[23] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int slow(double *out, const char *s, size_t len)
{
	char *end;
	unsigned char c = (unsigned char)s[0];

	/* strtod skips leading white space; a data cell with it is not a
	 * number. */
	if (!len || c == ' ' || (c >= '\t' && c <= '\r'))
		return -1;
	*out = strtod(s, &end);
	return end == s + len ? 0 : -1;
}

int cnai_number_parse(double *out, const char *s, size_t len)
{
	const char *p = s, *e = s + len, *digits_start;
	uint64_t m = 0;
	int neg = 0, ndig = 0, exp10 = 0, seen_digit = 0;
	double d;

	if (p < e && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	digits_start = p;
	while (p < e && *p == '0') { /* leading zeros are not significant */
		p++;
		seen_digit = 1;
	}
	while (p < e && (unsigned)(*p - '0') < 10) {
		if (ndig >= 19)
			return slow(out, s, len);
		m = m * 10 + (uint64_t)(*p - '0');
		ndig++;
		p++;
		seen_digit = 1;
	}
	if (p < e && *p == '.') {
		p++;
		if (!ndig)
			while (p < e && *p == '0') {
				p++;
				exp10--;
				seen_digit = 1;
			}
		while (p < e && (unsigned)(*p - '0') < 10) {
			if (ndig >= 19)
				return slow(out, s, len);
			m = m * 10 + (uint64_t)(*p - '0');
			ndig++;
			exp10--;
			p++;
			seen_digit = 1;
		}
	}
	if (!seen_digit || p == digits_start)
		return slow(out, s, len);
	if (p < e && (*p == 'e' || *p == 'E')) {
		int eneg = 0, ev = 0;
		const char *q = ++p;

		if (p < e && (*p == '-' || *p == '+')) {
			eneg = *p == '-';
			p++;
			q = p;
		}
		while (p < e && (unsigned)(*p - '0') < 10) {
			if (ev > 10000)
				return slow(out, s, len);
			ev = ev * 10 + (*p - '0');
			p++;
		}
		if (p == q)
			return slow(out, s, len);
		exp10 += eneg ? -ev : ev;
	}
	if (p != e)
		return slow(out, s, len);
	if (m == 0) {
		*out = neg ? -0.0 : 0.0;
		return 0;
	}
	if (m > (1ull << 53))
		return slow(out, s, len);
	if (exp10 < -22)
		return slow(out, s, len);
	if (exp10 > 22) {
		/* 12e30 = 12000000000e22 when that integer stays exact. */
		while (exp10 > 22) {
			if (m > (1ull << 53) / 10)
				return slow(out, s, len);
			m *= 10;
			exp10--;
		}
	}
	d = (double)m;
	d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
	*out = neg ? -d : d;
	return 0;
}
