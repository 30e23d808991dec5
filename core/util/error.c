/*
 * Thread-local last error, in the manner of libgit2's giterr: the function
 * that knows the facts writes the message; callers only propagate the code.
 */
#include "core/util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local struct cnai_error last_error;
static _Thread_local int has_error;

static int set_va(int code, int with_errno, const char *fmt, va_list ap)
{
	char msg[sizeof(last_error.message)];
	int saved = errno;
	size_t n;

	/* Format into a local buffer first: callers may pass the previous
	 * message itself (cnai_error_last()->message) as an argument. */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	memcpy(last_error.message, msg, sizeof(msg));
	last_error.code = code;
	has_error = 1;
	errno = saved;
	return code;
}

int cnai_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_va(code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int cnai_error_set_errno(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_va(code, 1, fmt, ap);
	va_end(ap);
	return code;
}

const struct cnai_error *cnai_error_last(void)
{
	return has_error ? &last_error : NULL;
}

void cnai_error_clear(void)
{
	has_error = 0;
	last_error.code = 0;
	last_error.message[0] = '\0';
}

const char *cnai_strerror(enum cnai_error_code code)
{
	switch (code) {
	case CNAI_OK:
		return "ok";
	case CNAI_ERROR:
		return "runtime failure";
	case CNAI_EUSAGE:
		return "usage";
	case CNAI_EINVALID:
		return "invalid input";
	case CNAI_ENOTFOUND:
		return "not found";
	case CNAI_EAMBIGUOUS:
		return "ambiguous";
	case CNAI_EEXISTS:
		return "already exists";
	case CNAI_ECHECK:
		return "check failed";
	}
	/* No default above: -Wswitch names a code added without a string. */
	return "unknown error";
}

void cnai_bug__(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cnai: BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
