/*
 * A streaming CSV reader (RFC 4180): quoted fields with doubled quotes,
 * embedded delimiters and newlines, CRLF or LF line ends, a UTF-8 byte
 * order mark. Records come one at a time; fields point into the reader's
 * buffer and stay valid until the next call. Writing: one field quoted
 * the way the reader reads it back.
 */
#ifndef CNAI_CORE_DATA_CSV_H
#define CNAI_CORE_DATA_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "core/util/buf.h"

struct cnai_csv_field {
	const char *ptr; /* NUL-terminated */
	size_t len;
};

struct cnai_csv_record {
	struct cnai_csv_field *fields;
	size_t nfields;
	uint64_t line; /* 1-based line where the record starts */
};

struct cnai_csv_reader;

/* Largest record accepted; longer ones are an error naming the line. */
#define CNAI_CSV_MAX_RECORD (64u * 1024 * 1024)
/*
 * Most fields in a record; more is an error naming the line. A CSV is
 * input from anywhere, and every column costs its users memory and time
 * (a model's input width, a drift test, a name in each report): 100,000
 * is far more than any table meant for training or drift.
 */
#define CNAI_CSV_MAX_FIELDS 100000u

/*
 * Opens `path` ("-" for stdin) with `delim` (',' usually). CNAI_ENOTFOUND
 * for a missing file, CNAI_EINVALID for a directory ("'PATH' is a
 * directory"), CNAI_ERROR when it cannot be opened.
 */
int cnai_csv_open(struct cnai_csv_reader **out, const char *path, char delim);
/*
 * Reads the next record: 1 with *rec set, 0 at end of file, or a negative
 * error ("FILE:LINE: unterminated quoted field", record too long, more
 * than CNAI_CSV_MAX_FIELDS fields). When
 * `expect` > 0, a record with another field count is CNAI_EINVALID:
 * "FILE:LINE: expected N fields, found M". A blank line is skipped.
 */
int cnai_csv_next(struct cnai_csv_reader *r, const struct cnai_csv_record **rec,
		  size_t expect);
/*
 * Where byte `off` of field `field` of the record cnai_csv_next() returned
 * last is in the file: its line and 1-based byte column (a field's bytes
 * are unquoted; this walks the raw record again, so it is for messages).
 * Valid until the next cnai_csv_next().
 */
void cnai_csv_locate(const struct cnai_csv_reader *r, size_t field,
		     size_t off, uint64_t *line, uint64_t *col);
/*
 * The length of the longest prefix of s[0, len) that is text: valid UTF-8
 * (no overlong forms, surrogates or code points past U+10FFFF, as JSON
 * needs) without NUL bytes. len when all of it is.
 */
size_t cnai_csv_text_len(const char *s, size_t len);
/* Bytes consumed so far (for progress). */
uint64_t cnai_csv_offset(const struct cnai_csv_reader *r);
const char *cnai_csv_path(const struct cnai_csv_reader *r);
void cnai_csv_close(struct cnai_csv_reader *r);

/*
 * Appends `s` to `b` as one CSV field for `delim`: as it is, or in double
 * quotes (inner quotes doubled) when it holds the delimiter, a quote or a
 * line break. Check the buffer with cnai_buf_oom().
 */
void cnai_csv_add_field(struct cnai_buf *b, const char *s, char delim);

#endif
