/*
 * Exact decimal-to-binary conversion for the CSV hot path. Most numbers in
 * data files are short decimals ("0.25", "-13", "4.5e-3"); those are
 * converted with one exact multiplication or division (Clinger's fast
 * path), the rest by strtod(). The result is always the correctly rounded
 * double strtod() gives, bit for bit (tests/unit/data-number.c).
 */
#ifndef CNAI_CORE_DATA_NUMBER_H
#define CNAI_CORE_DATA_NUMBER_H

#include <stddef.h>

/*
 * Parses all of s[0, len) as a number (what strtod() accepts, without
 * leading or trailing space). s[len] must be readable and NUL (CSV fields
 * are). Returns 0 and sets *out, or -1 when the text is not entirely a
 * number; no error message is set (this runs once per cell).
 */
int cnai_number_parse(double *out, const char *s, size_t len);

#endif
