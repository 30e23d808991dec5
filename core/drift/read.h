/*
 * Module-internal (core/drift): one side of a drift comparison read into
 * per-column storage in one streaming pass. A column stays numeric while
 * every non-missing cell is a number (values kept as doubles); at its
 * first other cell it becomes a column of strings counted by value. Cells
 * pandas reads as missing ("", NA, NaN, null, None, ...) and infinities
 * are counted as missing, as Evidently drops them.
 */
#ifndef CNAI_CORE_DRIFT_READ_H
#define CNAI_CORE_DRIFT_READ_H

#include <stddef.h>
#include <stdint.h>

#include "core/drift/drift.h"
#include "core/drift/sketch.h"

struct cnai_drift__entry {
	char *key;
	size_t len;
	uint64_t hash;
	int64_t count;
};

/* Strings counted by value (open addressing). */
struct cnai_drift__map {
	struct cnai_drift__entry *e;
	size_t cap, n;
};

int cnai_drift__map_add(struct cnai_drift__map *m, const char *s, size_t len,
			int64_t count);
struct cnai_drift__entry *cnai_drift__map_get(const struct cnai_drift__map *m,
					      const char *s, size_t len);
void cnai_drift__map_release(struct cnai_drift__map *m);

struct cnai_drift__col {
	char *name;
	int numeric;       /* every value so far is a number */
	int isint;         /* ... written as an integer, none missing */
	int force_numeric; /* --numerical: anything else is an error */
	int force_cat;     /* --categorical: numbers counted by value */
	double *v;         /* numeric values (finite), when wide */
	int32_t *code;     /* or, while narrow: short decimals (read.c) */
	int wide;
	size_t n, cap;     /* of v or code */
	struct cnai_drift__sketch *sk; /* past --exact-limit: v is freed */
	int64_t missing;
	struct cnai_drift__map map; /* !numeric: counts by string */
	uint64_t bad_line;          /* first non-number (when !numeric) */
	char *bad_value;
};

struct cnai_drift__side {
	const char *path;     /* as given, "-" for stdin */
	const char *display;  /* "<stdin>" or path */
	const struct cnai_drift_options *o;
	int64_t rows;
	char **header;
	size_t nheader;
	struct cnai_drift__map names; /* header name -> its index + 1 */
	size_t *colof;                /* header index -> cols index or -1 */
	struct cnai_drift__col *cols; /* selected columns, header order */
	size_t ncols;
	char digest[CNAI_DIGEST_LEN];
	uint64_t size;
	int err;
	char errmsg[1024];
};

/* Makes a numeric column's values doubles in c->v (from its compact
 * codes, exactly as they were read). */
int cnai_drift__col_widen(struct cnai_drift__col *c);

/* Makes c->v the column's values as doubles, sorted ascending. */
int cnai_drift__col_sorted(struct cnai_drift__col *c);

/* Reads the side's file (run in its own thread); sets side->err. */
void *cnai_drift__read_side(void *side);
void cnai_drift__side_release(struct cnai_drift__side *s);
/* Parses a whole cell as a number (pandas' float syntax); 1 if it is one. */
int cnai_drift__parse_number(double *out, int *isint, const char *s,
			     size_t len);
/* As cnai_drift__parse_number, also packing a short decimal into *code
 * (INT32_MIN when it does not fit); cnai_drift__decode gives the double
 * back, bit for bit. */
int cnai_drift__parse_number_code(double *out, int *isint, int32_t *code,
				  const char *s, size_t len);
double cnai_drift__decode(int32_t code);
/* 1 if pandas reads the cell as missing. */
int cnai_drift__is_na(const char *s, size_t len);
/* Shortest text that reads back as v ("%.17g" at most). */
void cnai_drift__format(char *out, size_t size, double v);
/* Sorts ascending (LSD radix on the IEEE bits; -0.0 must not occur). */
int cnai_drift__sort(double *v, size_t n);

#endif
