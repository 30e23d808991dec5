/*
 * Exact decimal-to-binary conversion for the CSV hot path. Most numbers in
 * data files are short decimals ("0.25", "-13", "4.5e-3"); those are
 * converted with one exact multiplication or division (Clinger's fast
 * path), the rest by strtod(). The result is always the correctly rounded
 * double strtod() gives, bit for bit (tests/unit/data-number.c).
 *
 * The fast path is inline: it runs once per cell, and a call costs about
 * as much as the conversion.
 */
#ifndef CNAI_CORE_DATA_NUMBER_H
#define CNAI_CORE_DATA_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/*
 * A whole number (decimal, all of `arg`, no leading space) in [min, max]
 * into *out. CNAI_EUSAGE "OPTION: ..." when it is not one or is out of
 * range: the messages of every integer option, from the command line
 * (cli/options.c) or a config file (core/ml/train_config.c).
 */
int cnai_number_parse_int(int64_t *out, const char *arg, const char *option,
			  int64_t min, int64_t max);

/* The general case: strtod() on the whole text (number.c). */
int cnai_number__slow(double *out, const char *s, size_t len);
extern const double cnai_number__pow10[23];

/*
 * Parses all of s[0, len) as a number (what strtod() accepts, without
 * leading space). s[len] must be readable and NUL (CSV fields are).
 * Returns 0 and sets *out, or -1 when the text is not entirely a number;
 * no error message is set (this runs once per cell).
 */
static inline int cnai_number_parse(double *out, const char *s, size_t len)
{
	const char *p = s, *e = s + len, *d0, *f0;
	uint64_t m = 0;
	int neg = 0, exp10 = 0;
	size_t nd;
	double d;

	if (len == 0 || len > 26)
		return cnai_number__slow(out, s, len);
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	d0 = p;
	while (p < e && (unsigned)(*p - '0') < 10)
		m = m * 10 + (uint64_t)(*p++ - '0');
	nd = (size_t)(p - d0);
	if (p < e && *p == '.') {
		f0 = ++p;
		while (p < e && (unsigned)(*p - '0') < 10)
			m = m * 10 + (uint64_t)(*p++ - '0');
		exp10 = -(int)(p - f0);
		nd += (size_t)(p - f0);
	}
	if (nd == 0 || nd > 19)
		return cnai_number__slow(out, s, len);
	if (p < e) {
		int eneg = 0, ev = 0;
		const char *q;

		if (*p != 'e' && *p != 'E')
			return cnai_number__slow(out, s, len);
		p++;
		if (p < e && (*p == '-' || *p == '+'))
			eneg = *p++ == '-';
		q = p;
		while (p < e && (unsigned)(*p - '0') < 10 && p - q < 4)
			ev = ev * 10 + (*p++ - '0');
		if (p == q || p != e)
			return cnai_number__slow(out, s, len);
		exp10 += eneg ? -ev : ev;
	}
	if (m > (1ull << 53) || exp10 < -22)
		return cnai_number__slow(out, s, len);
	if (m == 0) {
		*out = neg ? -0.0 : 0.0;
		return 0;
	}
	/* 12e30 = 12000000000e22 while that integer stays exact */
	for (; exp10 > 22; exp10--) {
		if (m > (1ull << 53) / 10)
			return cnai_number__slow(out, s, len);
		m *= 10;
	}
	d = (double)m;
	d = exp10 < 0 ? d / cnai_number__pow10[-exp10]
		      : d * cnai_number__pow10[exp10];
	*out = neg ? -d : d;
	return 0;
}

#endif
