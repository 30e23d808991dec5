/*
 * One error API for every layer below cli/: a function that can fail returns
 * 0 or a negative code and sets a message once, where the facts are known.
 * The message lives in thread-local storage until the next error or clear.
 */
#ifndef CNAI_CORE_UTIL_ERROR_H
#define CNAI_CORE_UTIL_ERROR_H

#include <stddef.h>

enum cnai_error_code {
	CNAI_OK = 0,
	CNAI_ERROR = -1,     /* runtime: I/O, network, store  -> exit 3 */
	CNAI_EUSAGE = -2,    /* bad command line              -> exit 2 */
	CNAI_EINVALID = -3,  /* bad input: file, line, field  -> exit 2 */
	CNAI_ENOTFOUND = -4, /* a named thing does not exist  -> exit 2 */
	CNAI_EAMBIGUOUS = -5, /* a prefix names several things -> exit 2 */
	CNAI_EEXISTS = -6,   /* refusing to overwrite          -> exit 2 */
	CNAI_ECHECK = -7,    /* a check said no                -> exit 1 */
};

struct cnai_error {
	int code;
	char message[1024];
};

#if defined(__GNUC__)
#define CNAI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CNAI_PRINTF(f, a)
#endif

/* Sets the thread's error message and returns `code`. */
int cnai_error_set(int code, const char *fmt, ...) CNAI_PRINTF(2, 3);
/* As cnai_error_set(), appending ": strerror(errno)". */
int cnai_error_set_errno(int code, const char *fmt, ...) CNAI_PRINTF(2, 3);
/* The last error set on this thread, or NULL after a clear. */
const struct cnai_error *cnai_error_last(void);
void cnai_error_clear(void);
/* A fixed name for each code ("usage", "not found"). */
const char *cnai_strerror(enum cnai_error_code code);

/* Impossible states: aborts with file and line (git's BUG()). */
#define CNAI_BUG(...) cnai_bug__(__FILE__, __LINE__, __VA_ARGS__)
void cnai_bug__(const char *file, int line, const char *fmt, ...)
	CNAI_PRINTF(3, 4) __attribute__((noreturn));

#endif
