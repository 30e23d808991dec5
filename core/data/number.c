/*
 * The slow path of cnai_number_parse (number.h): everything the inline
 * fast path declines, long mantissas, large exponents, hex floats,
 * inf/nan, goes to strtod(). The fast path: up to 19 significant digits
 * fit a uint64; when that integer is at most 2^53 and the decimal exponent
 * is within +-22, both it and 10^|e| are exact doubles, so one IEEE
 * multiplication or division rounds correctly (Clinger 1990).
 */
#include "core/data/number.h"

#include <errno.h>
#include <stdlib.h>

#include "core/util/error.h"
#include "core/util/banned.h"

const double cnai_number__pow10[23] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int cnai_number__slow(double *out, const char *s, size_t len)
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

int cnai_number_parse_int(int64_t *out, const char *arg, const char *option,
			  int64_t min, int64_t max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	/* strtoll skips leading space, which no number on a command line
	 * has; past the int64 range it clamps and sets ERANGE */
	if (end == arg || *end || (errno && errno != ERANGE) ||
	    *arg == ' ' || (*arg >= '\t' && *arg <= '\r'))
		return cnai_error_set(CNAI_EUSAGE,
				      "%s: '%s' is not a whole number", option,
				      arg);
	if (v < min || (errno == ERANGE && v < 0))
		return cnai_error_set(CNAI_EUSAGE,
				      "%s: must be at least %lld, not %s",
				      option, (long long)min, arg);
	if (v > max || errno == ERANGE)
		return cnai_error_set(CNAI_EUSAGE,
				      "%s: '%s' is too large (at most %lld)",
				      option, arg, (long long)max);
	*out = v;
	return 0;
}
