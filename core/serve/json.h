/*
 * JSON writing for the server's hot path: answers are written straight
 * into a buffer instead of through a jansson tree (one allocation per
 * value, then a dump), byte for byte what jansson would have written.
 */
#ifndef CNAI_CORE_SERVE_JSON_H
#define CNAI_CORE_SERVE_JSON_H

#include "core/util/buf.h"

/* Longest text cnai_serve_json_float writes: "-1.23456789e-38". */
enum { CNAI_SERVE_JSON_FLOAT_MAX = 24 };

/*
 * Writes finite `v` into `out` (CNAI_SERVE_JSON_FLOAT_MAX bytes, NUL-
 * terminated) as jansson's JSON_REAL_PRECISION(9) does: printf's "%.9g"
 * (9 significant digits give every float back exactly), with ".0" added
 * when it would read as an integer and the exponent without '+' or
 * leading zeros. Returns the length.
 */
int cnai_serve_json_float(char *out, float v);

/* Appends cnai_serve_json_float's text. */
int cnai_serve_json_add_float(struct cnai_buf *b, float v);

/*
 * Appends `s` as a JSON string. Valid UTF-8 is written as jansson writes
 * it; otherwise bytes over 0x7e become \u00XX (Latin-1), so the text
 * stays valid JSON whatever a client put in a URL.
 */
int cnai_serve_json_add_string(struct cnai_buf *b, const char *s);

#endif
