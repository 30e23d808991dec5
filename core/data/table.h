/*
 * A CSV file loaded into memory for training and prediction: one float per
 * cell in a row-major matrix, typed per column. A number column holds its
 * values (NaN for an empty cell); a string column holds the index of the
 * cell's category (categories numbered in the order first seen; NaN for an
 * empty cell). Float32 because that is what the models compute in, and it
 * keeps a 200,000 x 64 file at 51 MB.
 */
#ifndef CNAI_CORE_DATA_TABLE_H
#define CNAI_CORE_DATA_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum cnai_col_type {
	CNAI_COL_AUTO = 0, /* number if the first non-empty cell is one */
	CNAI_COL_NUMBER,
	CNAI_COL_STRING,
	CNAI_COL_SKIP, /* not loaded (values stay NaN) */
};

struct cnai_col {
	char *name;
	enum cnai_col_type type;
	size_t nmissing; /* empty cells */
	char **cats;     /* string columns: categories, first seen first */
	size_t ncats;
	void *index;     /* internal: category hash */
};

struct cnai_dtable {
	char *path;
	size_t nrows, ncols;
	struct cnai_col *cols;
	float *values;   /* nrows x ncols */
	uint64_t *lines; /* the file line of each row, for messages */
	void *names;     /* internal: column name hash */
};

/* Column typing for a load: `names[i]` gets `types[i]`, others `other`. */
struct cnai_dtable_opts {
	char delim; /* 0: ',' */
	const char *const *names;
	const enum cnai_col_type *types;
	size_t ntypes;
	enum cnai_col_type other;
};

/*
 * Loads the CSV at `path`. Errors, each CNAI_EINVALID naming the file (and
 * line, column): an empty file, a malformed record (csv.h), a number
 * column cell that is not a number ("FILE:LINE: column 'x': 'abc' is not
 * a number"), a NaN, infinite or out-of-float32 value, a column name or
 * category that is not UTF-8 ("FILE:LINE:COL: ..."), duplicate column
 * names, no data rows, a directory. CNAI_ENOTFOUND for a missing file.
 * Time and memory are linear in the file (hashes for names and
 * categories); at most CNAI_CSV_MAX_FIELDS columns.
 */
int cnai_dtable_load(struct cnai_dtable **out, const char *path,
		     const struct cnai_dtable_opts *opts);
/* Index of the column named `name`, or -1 (a hash lookup). */
long cnai_dtable_find(const struct cnai_dtable *t, const char *name);
/* The text of row r's cell in string column c ("" when empty). */
const char *cnai_dtable_str(const struct cnai_dtable *t, size_t r, size_t c);
/* Index of `s` among column c's categories, or -1. */
long cnai_dtable_cat(const struct cnai_dtable *t, size_t c, const char *s);
/* The schema as dataset.h writes it: [{"name":..,"type":..}], malloc'd. */
char *cnai_dtable_schema(const struct cnai_dtable *t);
void cnai_dtable_free(struct cnai_dtable *t);

#endif
