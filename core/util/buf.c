/*
 * Growable, NUL-terminated byte strings. Out-of-memory and limit failures
 * are sticky so that a sequence of appends needs one check.
 */
#include "core/util/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/banned.h"

char cnai_buf__empty[1];

void cnai_buf_init(struct cnai_buf *b)
{
	b->buf = cnai_buf__empty;
	b->len = b->alloc = b->limit = 0;
	b->oom = 0;
}

void cnai_buf_release(struct cnai_buf *b)
{
	size_t limit = b->limit;

	if (b->alloc)
		free(b->buf);
	cnai_buf_init(b);
	b->limit = limit;
}

int cnai_buf_grow(struct cnai_buf *b, size_t extra)
{
	size_t need, n;
	char *p;

	if (b->oom)
		return CNAI_ERROR;
	if (extra > SIZE_MAX - b->len - 1)
		goto fail;
	need = b->len + extra + 1;
	if (b->limit && need > b->limit + 1)
		goto fail;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	p = b->alloc ? realloc(b->buf, n) : malloc(n);
	if (!p)
		goto fail;
	if (!b->alloc)
		p[0] = '\0';
	b->buf = p;
	b->alloc = n;
	return 0;
fail:
	b->oom = 1;
	return CNAI_ERROR;
}

int cnai_buf_add(struct cnai_buf *b, const void *data, size_t len)
{
	if (cnai_buf_grow(b, len) < 0)
		return CNAI_ERROR;
	if (len)
		memmove(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return 0;
}

int cnai_buf_adds(struct cnai_buf *b, const char *s)
{
	return cnai_buf_add(b, s, strlen(s));
}

int cnai_buf_addch(struct cnai_buf *b, char c)
{
	return cnai_buf_add(b, &c, 1);
}

int cnai_buf_vaddf(struct cnai_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	size_t avail;
	int n;

	if (b->oom)
		return CNAI_ERROR;
	/* Format into the room there is (only measure when nothing is
	 * allocated: cnai_buf__empty is shared), then grow by exactly what
	 * was written, so that the limit refuses what is too long and
	 * nothing else; format again if it did not fit. */
	avail = b->alloc ? b->alloc - b->len : 0;
	va_copy(cp, ap);
	n = vsnprintf(avail ? b->buf + b->len : NULL, avail, fmt, cp);
	va_end(cp);
	if (n < 0)
		goto fail;
	if (cnai_buf_grow(b, (size_t)n) < 0) /* also checks the limit */
		goto fail;
	if ((size_t)n >= avail) {
		va_copy(cp, ap);
		n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
		va_end(cp);
		if (n < 0)
			goto fail;
	}
	b->len += (size_t)n;
	return 0;
fail:
	/* a partial first attempt may have overwritten the terminator */
	b->oom = 1;
	if (b->alloc)
		b->buf[b->len] = '\0';
	return CNAI_ERROR;
}

int cnai_buf_addf(struct cnai_buf *b, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = cnai_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return err;
}

void cnai_buf_reset(struct cnai_buf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->alloc)
		b->buf[0] = '\0';
}

void cnai_buf_truncate(struct cnai_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		if (b->alloc)
			b->buf[len] = '\0';
	}
}

char *cnai_buf_detach(struct cnai_buf *b)
{
	char *s = b->alloc ? b->buf : strdup("");

	cnai_buf_init(b);
	return s;
}

int cnai_buf_oom(const struct cnai_buf *b)
{
	if (!b->oom)
		return 0;
	if (b->limit)
		return cnai_error_set(CNAI_EINVALID,
				      "input exceeds the limit of %zu bytes",
				      b->limit);
	return cnai_error_set(CNAI_ERROR, "out of memory");
}
