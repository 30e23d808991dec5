/*
 * Growable strings (git's strbuf, libgit2's git_str): `buf` is never NULL
 * and always NUL-terminated. A failed append marks the buffer, so a run of
 * appends is checked once, at the end, with cnai_buf_oom().
 */
#ifndef CNAI_CORE_UTIL_BUF_H
#define CNAI_CORE_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/util/error.h"

struct cnai_buf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t limit; /* 0 = none; appends past it fail (data from outside) */
	int oom;
};

extern char cnai_buf__empty[];
#define CNAI_BUF_INIT { cnai_buf__empty, 0, 0, 0, 0 }

void cnai_buf_init(struct cnai_buf *b);
/* Frees the memory and re-initialises the buffer. */
void cnai_buf_release(struct cnai_buf *b);
/* Ensures room for `extra` more bytes; CNAI_ERROR on overflow or limit. */
int cnai_buf_grow(struct cnai_buf *b, size_t extra);
int cnai_buf_add(struct cnai_buf *b, const void *data, size_t len);
int cnai_buf_adds(struct cnai_buf *b, const char *s);
int cnai_buf_addch(struct cnai_buf *b, char c);
int cnai_buf_addf(struct cnai_buf *b, const char *fmt, ...) CNAI_PRINTF(2, 3);
int cnai_buf_vaddf(struct cnai_buf *b, const char *fmt, va_list ap);
/* Empties the buffer, keeping its memory. */
void cnai_buf_reset(struct cnai_buf *b);
void cnai_buf_truncate(struct cnai_buf *b, size_t len);
/* Hands the string to the caller (free() it); the buffer is re-initialised. */
char *cnai_buf_detach(struct cnai_buf *b);
/* CNAI_ERROR, with a message, if any append since the last reset failed. */
int cnai_buf_oom(const struct cnai_buf *b);

#endif
