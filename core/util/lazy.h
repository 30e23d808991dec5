/*
 * Shared libraries loaded on first use (dlopen) instead of at start-up.
 * DESIGN.md measured every linked library as start-up time paid by every
 * command: libcurl alone costs more than the whole `cnai track log`
 * budget. The libraries only some commands need (libcurl for registries,
 * libarchive for image layers) are reached through wrappers with their
 * real names (registry/lazy_curl.c, registry/lazy_archive.c), which call
 * cnai_lazy_sym() once per function.
 */
#ifndef CNAI_CORE_UTIL_LAZY_H
#define CNAI_CORE_UTIL_LAZY_H

/*
 * The address of `sym` in the shared library `soname`, loaded on the
 * first call. A library or symbol that cannot be found is fatal (the same
 * failure the dynamic loader reports at start-up when a linked library is
 * missing): one `cnai: error:` line and exit status 3.
 */
void *cnai_lazy_sym(const char *soname, const char *sym);

/* Defines a wrapper `ret name(params)` forwarding to the library's own. */
#define CNAI_LAZY(soname, ret, name, params, args)                          \
	ret name params                                                     \
	{                                                                   \
		static ret(*fn) params;                                     \
		if (!fn)                                                    \
			*(void **)&fn = cnai_lazy_sym(soname, #name);       \
		return fn args;                                             \
	}

#endif
