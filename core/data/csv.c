/*
 * Streaming CSV. The reader keeps a window of the file in `buf`; a record
 * is parsed in place, unquoting into `out` (fields are copied once, which
 * also gives each a terminating NUL for number parsers). When a record
 * runs past the window, the window slides and grows, up to
 * CNAI_CSV_MAX_RECORD.
 */
#include "core/data/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util/error.h"
#include "core/util/banned.h"

enum { WINDOW = 1 << 20 };

struct cnai_csv_reader {
	int fd;
	char *path;
	char delim;
	char *buf;
	size_t cap, start, end; /* unparsed data is buf[start, end) */
	int eof;
	uint64_t line, consumed;
	char *out; /* unquoted field bytes */
	size_t out_cap;
	struct cnai_csv_field *fields;
	size_t fields_cap;
	struct cnai_csv_record rec;
	size_t rec_start, rec_used; /* the last record's raw bytes in buf */
	int first;
};

int cnai_csv_open(struct cnai_csv_reader **out, const char *path, char delim)
{
	struct cnai_csv_reader *r = calloc(1, sizeof(*r));
	struct stat sb;

	*out = NULL;
	if (!r)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	r->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	if (r->fd < 0) {
		int err = cnai_error_set_errno(errno == ENOENT ? CNAI_ENOTFOUND
							      : CNAI_ERROR,
					       "cannot read '%s'", path);
		free(r);
		return err;
	}
	/* read() would fail later with EISDIR, a runtime error; a directory
	 * where a CSV file belongs is bad input */
	if (fstat(r->fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		int err = cnai_error_set(CNAI_EINVALID, "'%s' is a directory",
					 path);

		if (r->fd > 0)
			close(r->fd);
		free(r);
		return err;
	}
	r->path = strdup(strcmp(path, "-") ? path : "<stdin>");
	r->delim = delim;
	r->cap = WINDOW;
	r->buf = malloc(r->cap);
	r->line = 1;
	r->first = 1;
	if (!r->path || !r->buf) {
		cnai_csv_close(r);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	*out = r;
	return 0;
}

void cnai_csv_close(struct cnai_csv_reader *r)
{
	if (!r)
		return;
	if (r->fd > 0)
		close(r->fd);
	free(r->path);
	free(r->buf);
	free(r->out);
	free(r->fields);
	free(r);
}

uint64_t cnai_csv_offset(const struct cnai_csv_reader *r)
{
	return r->consumed;
}

const char *cnai_csv_path(const struct cnai_csv_reader *r)
{
	return r->path;
}

/* Moves unparsed bytes to the front, grows if full, reads more. */
static int fill(struct cnai_csv_reader *r)
{
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		char *g;

		if (r->cap >= CNAI_CSV_MAX_RECORD)
			return cnai_error_set(CNAI_EINVALID,
					      "%s:%llu: record longer than the "
					      "limit of %u bytes", r->path,
					      (unsigned long long)r->line,
					      CNAI_CSV_MAX_RECORD);
		if (!(g = realloc(r->buf, r->cap * 2)))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		r->buf = g;
		r->cap *= 2;
	}
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot read '%s'",
					    r->path);
	if (n == 0)
		r->eof = 1;
	r->end += (size_t)n;
	return 0;
}

static int ensure_out(struct cnai_csv_reader *r, size_t need)
{
	char *g;

	if (need <= r->out_cap)
		return 0;
	if (!(g = realloc(r->out, need)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	r->out = g;
	r->out_cap = need;
	return 0;
}

static int push_field(struct cnai_csv_reader *r, size_t nf, uint64_t nl)
{
	struct cnai_csv_field *g;

	if (nf >= CNAI_CSV_MAX_FIELDS)
		return cnai_error_set(CNAI_EINVALID,
				      "%s:%llu: more than %u fields, the limit",
				      r->path, (unsigned long long)(r->line + nl),
				      CNAI_CSV_MAX_FIELDS);
	if (nf < r->fields_cap)
		return 0;
	r->fields_cap = r->fields_cap ? r->fields_cap * 2 : 64;
	if (!(g = realloc(r->fields, r->fields_cap * sizeof(*g))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	r->fields = g;
	return 0;
}

/*
 * Parses one record from buf[start, end). Returns 1 when complete, 0 when
 * the window ends first (more data needed), < 0 on error. Field offsets
 * are stored into `out` and fixed up to pointers by the caller.
 */
static int parse_record(struct cnai_csv_reader *r, size_t *nf_out,
			size_t *used, uint64_t *lines)
{
	const char *p = r->buf + r->start, *e = r->buf + r->end;
	const char *q0 = p;
	char d = r->delim;
	size_t o = 0, nf = 0;
	uint64_t nl = 0;
	int err;

	if ((err = ensure_out(r, (size_t)(e - p) + 2)) < 0)
		return err;
	for (;;) {
		size_t fstart = o;

		if ((err = push_field(r, nf, nl)) < 0)
			return err;
		if (p < e && *p == '"') {
			p++;
			for (;;) {
				const char *qq = memchr(p, '"', (size_t)(e - p));

				if (!qq)
					return 0;
				/* newlines inside quotes still count lines */
				for (const char *c = p; c < qq; c++)
					nl += *c == '\n';
				memcpy(r->out + o, p, (size_t)(qq - p));
				o += (size_t)(qq - p);
				p = qq + 1;
				if (p == e) {
					if (r->eof)
						break;
					return 0;
				}
				if (*p == '"') {
					r->out[o++] = '"';
					p++;
					continue;
				}
				break;
			}
			if (p < e && *p != d && *p != '\n' && *p != '\r')
				return cnai_error_set(
					CNAI_EINVALID,
					"%s:%llu: unexpected character after a "
					"quoted field", r->path,
					(unsigned long long)(r->line + nl));
		} else {
			const char *s = p;

			while (p < e && *p != d && *p != '\n' && *p != '\r')
				p++;
			memcpy(r->out + o, s, (size_t)(p - s));
			o += (size_t)(p - s);
		}
		r->fields[nf].ptr = (const char *)(uintptr_t)fstart;
		r->fields[nf].len = o - fstart;
		r->out[o++] = '\0';
		nf++;
		if (p == e)
			return r->eof ? (*nf_out = nf, *used = (size_t)(p - q0),
					 *lines = nl, 1)
				      : 0;
		if (*p == d) {
			p++;
			continue;
		}
		if (*p == '\r') {
			if (p + 1 == e && !r->eof)
				return 0;
			p++;
			if (p < e && *p == '\n')
				p++;
		} else {
			p++;
		}
		nl++;
		*nf_out = nf;
		*used = (size_t)(p - q0);
		*lines = nl;
		return 1;
	}
}

int cnai_csv_next(struct cnai_csv_reader *r, const struct cnai_csv_record **rec,
		  size_t expect)
{
	size_t nf = 0, used = 0, i;
	uint64_t lines = 0;
	int rc;

	for (;;) {
		if (r->start == r->end) {
			if (r->eof)
				return 0;
			if ((rc = fill(r)) < 0)
				return rc;
			continue;
		}
		if (r->first) {
			if (r->end - r->start < 3 && !r->eof) {
				if ((rc = fill(r)) < 0)
					return rc;
				continue;
			}
			r->first = 0;
			if (r->end - r->start >= 3 &&
			    !memcmp(r->buf + r->start, "\xEF\xBB\xBF", 3)) {
				r->start += 3;
				r->consumed += 3;
				continue;
			}
		}
		/* blank lines separate nothing; skip them (a CR counts as a
		 * line end unless an LF follows it, as in a record) */
		if (r->buf[r->start] == '\n' || r->buf[r->start] == '\r') {
			if (r->buf[r->start] == '\r' &&
			    r->start + 1 == r->end && !r->eof) {
				if ((rc = fill(r)) < 0)
					return rc;
				continue;
			}
			if (r->buf[r->start] == '\n' ||
			    r->start + 1 == r->end ||
			    r->buf[r->start + 1] != '\n')
				r->line++;
			r->start++;
			r->consumed++;
			continue;
		}
		rc = parse_record(r, &nf, &used, &lines);
		if (rc < 0)
			return rc;
		if (rc == 1)
			break;
		if (r->eof)
			return cnai_error_set(CNAI_EINVALID,
					      "%s:%llu: unterminated quoted "
					      "field", r->path,
					      (unsigned long long)r->line);
		if ((rc = fill(r)) < 0)
			return rc;
	}
	for (i = 0; i < nf; i++)
		r->fields[i].ptr = r->out + (uintptr_t)r->fields[i].ptr;
	r->rec.fields = r->fields;
	r->rec.nfields = nf;
	r->rec.line = r->line;
	r->rec_start = r->start;
	r->rec_used = used;
	r->line += lines;
	r->start += used;
	r->consumed += used;
	*rec = &r->rec;
	if (expect && nf != expect)
		return cnai_error_set(CNAI_EINVALID,
				      "%s:%llu: expected %zu fields, found %zu",
				      r->path, (unsigned long long)r->rec.line,
				      expect, nf);
	return 1;
}

void cnai_csv_locate(const struct cnai_csv_reader *r, size_t field,
		     size_t off, uint64_t *line, uint64_t *col)
{
	const char *p = r->buf + r->rec_start, *e = p + r->rec_used;
	uint64_t ln = r->rec.line, c = 1;
	size_t f = 0, k = 0;
	int quoted;

	for (;;) {
		/* field f starts at p */
		quoted = p < e && *p == '"';
		if (quoted) {
			p++, c++;
		}
		while (p < e) {
			if (quoted && *p == '"') {
				if (p + 1 < e && p[1] == '"') {
					if (f == field && k++ == off)
						break;
					p += 2, c += 2;
					continue;
				}
				quoted = 0;
				p++, c++;
				continue;
			}
			if (!quoted &&
			    (*p == r->delim || *p == '\n' || *p == '\r'))
				break;
			if (f == field && k++ == off)
				break;
			if (*p == '\n')
				ln++, c = 1;
			else
				c++;
			p++;
		}
		if (f == field || p >= e || *p != r->delim)
			break;
		p++, c++, f++;
	}
	*line = ln;
	*col = c;
}

size_t cnai_csv_text_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;

	while (p < e) {
		unsigned char b = *p;
		size_t n, i;
		uint32_t cp;

		if (b >= 0x01 && b < 0x80) {
			p++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			n = 1, cp = b & 0x1f;
		else if (b >= 0xe0 && b <= 0xef)
			n = 2, cp = b & 0x0f;
		else if (b >= 0xf0 && b <= 0xf4)
			n = 3, cp = b & 0x07;
		else
			break; /* NUL, a continuation byte, 0xc0-0xc1, 0xf5+ */
		if ((size_t)(e - p) <= n)
			break;
		for (i = 1; i <= n && (p[i] & 0xc0) == 0x80; i++)
			cp = cp << 6 | (p[i] & 0x3f);
		if (i <= n || (n == 2 && cp < 0x800) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			break;
		p += n + 1;
	}
	return (size_t)(p - (const unsigned char *)s);
}

void cnai_csv_add_field(struct cnai_buf *b, const char *s, char delim)
{
	if (!s[strcspn(s, "\"\r\n")] && !strchr(s, delim)) {
		cnai_buf_adds(b, s);
		return;
	}
	cnai_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			cnai_buf_addch(b, '"');
		cnai_buf_addch(b, *s);
	}
	cnai_buf_addch(b, '"');
}
