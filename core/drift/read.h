/*
 * Module-internal (core/drift): one side of a drift comparison read into
 * per-column storage in one streaming pass. A column stays numeric while
 * every non-missing cell is a number; at its first other cell it becomes
 * a column of strings counted by value. Cells pandas reads as missing
 * ("", NA, NaN, null, None, ...) and infinities are counted as missing,
 * as Evidently drops them.
 *
 * A numeric column keeps every value exactly, in the least memory that
 * allows: while its values are short decimals, they gather as 32-bit
 * keys that sort as the values do (read.c) in a chunk of
 * CNAI_DRIFT_CHUNK; a full chunk is sorted and stored as a run of key
 * deltas (LEB128 varints, 1 to 2 bytes a value, as sorted neighbours are
 * close). The statistics need the values sorted and nothing of their
 * order, so that is all they lose. A value that is no short decimal makes
 * the column "wide": from then on doubles, 8 bytes each.
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

/* Values a narrow column gathers before it sorts and packs them. */
#define CNAI_DRIFT_CHUNK 65536
/* Not the key of any short decimal. */
#define CNAI_DRIFT_NOKEY 0

struct cnai_drift__col {
	char *name;
	int numeric;       /* every value so far is a number */
	int isint;         /* ... written as an integer, none missing */
	int force_numeric; /* --numerical: anything else is an error */
	int force_cat;     /* --categorical: numbers counted by value */
	double *v;         /* numeric values (finite), when wide */
	uint32_t *key;     /* or, while narrow: the open chunk's keys,
			    * the values past nrun */
	uint8_t *runs;     /* narrow: the full chunks, sorted, packed */
	size_t runs_len;   /* bytes in runs */
	size_t nrun;       /* values in runs (whole chunks) */
	int wide;
	size_t n, cap;     /* values in all; room in v or key */
	struct cnai_drift__sketch *sk; /* past --exact-limit: v is freed */
	int64_t missing;
	struct cnai_drift__map map; /* !numeric: counts by string */
	uint64_t bad_line;          /* first non-number (when !numeric) */
	char *bad_value;
};

/* Room to sort and pack one chunk, shared by a side's columns. */
struct cnai_drift__scratch {
	uint32_t *keys;  /* CNAI_DRIFT_CHUNK */
	uint32_t *count; /* the radix sort's counts */
	uint8_t *bytes;  /* a run at its longest (5 bytes a value) */
};

void cnai_drift__scratch_release(struct cnai_drift__scratch *sc);

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
	struct cnai_drift__scratch scratch;
	char digest[CNAI_DIGEST_LEN];
	uint64_t size;
	int err;
	char errmsg[1024];
};

/*
 * Adds a finite value to a numeric column: its short-decimal `key`
 * (CNAI_DRIFT_NOKEY if none) or else `v`; the column moves into a sketch
 * at `limit` values. `sc` is the room to pack a full chunk.
 */
int cnai_drift__col_push(struct cnai_drift__col *c,
			 struct cnai_drift__scratch *sc, double v, uint32_t key,
			 uint64_t limit);

/* Makes a numeric column's values doubles in c->v, exactly as they were
 * read: the packed runs first (each sorted), then the open chunk. */
int cnai_drift__col_widen(struct cnai_drift__col *c);

/* Makes c->v the column's values as doubles, sorted ascending. */
int cnai_drift__col_sorted(struct cnai_drift__col *c);

/* Frees the column's values (exact and sketched); counts stay. */
void cnai_drift__col_free_values(struct cnai_drift__col *c);

/* Reads the side's file (run in its own thread); sets side->err. */
void *cnai_drift__read_side(void *side);
void cnai_drift__side_release(struct cnai_drift__side *s);
/* Parses a whole cell as a number (pandas' float syntax); 1 if it is one. */
int cnai_drift__parse_number(double *out, int *isint, const char *s,
			     size_t len);
/* As cnai_drift__parse_number, also giving a short decimal's key
 * (CNAI_DRIFT_NOKEY for other numbers); cnai_drift__key_value gives the
 * double back, bit for bit. */
int cnai_drift__parse_number_key(double *out, int *isint, uint32_t *key,
				 const char *s, size_t len);
double cnai_drift__key_value(uint32_t key);
/* 1 if pandas reads the cell as missing. */
int cnai_drift__is_na(const char *s, size_t len);
/* Shortest text that reads back as v ("%.17g" at most). */
void cnai_drift__format(char *out, size_t size, double v);

#endif
