/*
 * libcurl, loaded when a registry is first contacted (core/util/lazy.h).
 * curl_easy_setopt and curl_easy_getinfo are variadic: every option cnai
 * passes is a long, a pointer or a curl_off_t, all one 8-byte INTEGER
 * argument in the x86-64 and AArch64 calling conventions, so the value is
 * carried as a pointer-sized integer and handed on unchanged.
 */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stdarg.h>
#include <stdint.h>

#include "core/util/lazy.h"
#include "core/util/banned.h"

#define CURL_SO "libcurl.so.4"

_Static_assert(sizeof(long) == sizeof(void *) &&
		       sizeof(curl_off_t) == sizeof(void *),
	       "curl_easy_setopt forwarding needs an LP64 platform");

CNAI_LAZY(CURL_SO, CURLcode, curl_global_init, (long flags), (flags))
CNAI_LAZY(CURL_SO, CURL *, curl_easy_init, (void), ())
CNAI_LAZY(CURL_SO, void, curl_easy_cleanup, (CURL *h), (h))
CNAI_LAZY(CURL_SO, void, curl_easy_reset, (CURL *h), (h))
CNAI_LAZY(CURL_SO, CURLcode, curl_easy_perform, (CURL *h), (h))
CNAI_LAZY(CURL_SO, const char *, curl_easy_strerror, (CURLcode c), (c))
CNAI_LAZY(CURL_SO, char *, curl_easy_escape, (CURL *h, const char *s, int n),
	  (h, s, n))
CNAI_LAZY(CURL_SO, void, curl_free, (void *p), (p))
CNAI_LAZY(CURL_SO, struct curl_slist *, curl_slist_append,
	  (struct curl_slist *l, const char *s), (l, s))
CNAI_LAZY(CURL_SO, void, curl_slist_free_all, (struct curl_slist *l), (l))
CNAI_LAZY(CURL_SO, CURLU *, curl_url, (void), ())
CNAI_LAZY(CURL_SO, void, curl_url_cleanup, (CURLU *u), (u))
CNAI_LAZY(CURL_SO, CURLUcode, curl_url_set,
	  (CURLU *u, CURLUPart what, const char *part, unsigned int flags),
	  (u, what, part, flags))
CNAI_LAZY(CURL_SO, CURLUcode, curl_url_get,
	  (CURLU *u, CURLUPart what, char **part, unsigned int flags),
	  (u, what, part, flags))

CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	static CURLcode (*fn)(CURL *, CURLoption, ...);
	va_list ap;
	intptr_t v;

	if (!fn)
		*(void **)&fn = cnai_lazy_sym(CURL_SO, "curl_easy_setopt");
	va_start(ap, opt);
	v = va_arg(ap, intptr_t);
	va_end(ap);
	return fn(h, opt, v);
}

CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	static CURLcode (*fn)(CURL *, CURLINFO, ...);
	va_list ap;
	void *p;

	if (!fn)
		*(void **)&fn = cnai_lazy_sym(CURL_SO, "curl_easy_getinfo");
	va_start(ap, info);
	p = va_arg(ap, void *);
	va_end(ap);
	return fn(h, info, p);
}
