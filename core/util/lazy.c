/*
 * dlopen on first use. The handle table is tiny and fixed; a mutex makes
 * the first calls from the server's or the pusher's threads safe (a
 * function pointer once set is read without it: a pointer store is
 * atomic on every platform we build for, and a thread that sees NULL just
 * takes the slow path).
 */
#include "core/util/lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/banned.h"

enum { MAX_LIBS = 8 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const char *soname;
	void *handle;
} libs[MAX_LIBS];

static void die(const char *what, const char *detail)
{
	/* Below cli/ nothing exits, except here: a library that is not
	 * installed is a broken installation, like a missing DT_NEEDED. */
	fprintf(stderr, "cnai: error: cannot load %s: %s\n", what,
		detail ? detail : "unknown error");
	fflush(stdout);
	_exit(3);
}

void *cnai_lazy_sym(const char *soname, const char *sym)
{
	void *handle = NULL, *p;
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_LIBS && libs[i].soname; i++)
		if (!strcmp(libs[i].soname, soname))
			handle = libs[i].handle;
	if (!handle) {
		if (i == MAX_LIBS || !(handle = dlopen(soname, RTLD_NOW |
							       RTLD_GLOBAL))) {
			pthread_mutex_unlock(&lock);
			die(soname, dlerror());
		}
		libs[i].soname = soname;
		libs[i].handle = handle;
	}
	pthread_mutex_unlock(&lock);
	if (!(p = dlsym(handle, sym)))
		die(sym, dlerror());
	return p;
}
