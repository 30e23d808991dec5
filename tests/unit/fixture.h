/*
 * The fixture every unit test file shares: a fresh temporary folder per
 * test (mkdtemp under /tmp), removed with all it holds at teardown, and,
 * for the store tests, a store initialised and opened in it. Functions are
 * static so that each test program stays one translation unit (the
 * Makefile builds tests/unit/<name>.c alone against the core objects).
 *
 * Include after <cmocka.h> and the core headers, before banned.h.
 */
#ifndef CNAI_TESTS_UNIT_FIXTURE_H
#define CNAI_TESTS_UNIT_FIXTURE_H

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/store/store.h"
#include "core/util/error.h"

#define FIXTURE_UNUSED __attribute__((unused))

struct fixture {
	char dir[64];
	char path[512]; /* scratch for fixture_path() */
	struct cnai_store *st;
};

static int fixture_rm_entry(const char *path, const struct stat *sb,
			    int flag, struct FTW *ftw)
{
	return remove(path);
}

/* rm -rf, without following links. */
FIXTURE_UNUSED static int fixture_rmrf(const char *dir)
{
	return nftw(dir, fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A path under the test's folder, in fx->path (overwritten by each call). */
FIXTURE_UNUSED static const char *fixture_path(struct fixture *fx,
					       const char *rel)
{
	snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, rel);
	return fx->path;
}

/* Writes a file under the test's folder; 0 or -1. */
FIXTURE_UNUSED static int fixture_write(struct fixture *fx, const char *rel,
					const void *data, size_t len)
{
	FILE *f = fopen(fixture_path(fx, rel), "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Entries in a folder, "." and ".." not counted; -1 if it cannot be read. */
FIXTURE_UNUSED static int fixture_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Entries of a folder whose names start with `prefix`. */
FIXTURE_UNUSED static int fixture_count_prefixed(const char *dir,
						 const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

FIXTURE_UNUSED static int fixture_setup_dir(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cnai-unit-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	cnai_error_clear();
	*state = fx;
	return 0;
}

/* A temporary folder holding an initialised store, opened in fx->st. */
FIXTURE_UNUSED static int fixture_setup_store(void **state)
{
	struct cnai_buf root = CNAI_BUF_INIT;
	struct fixture *fx;
	int created = 0;

	if (fixture_setup_dir(state) < 0)
		return -1;
	fx = *state;
	if (cnai_store_init(&root, fx->dir, &created) < 0 || !created ||
	    cnai_store_open(&fx->st, root.buf) < 0) {
		fprintf(stderr, "setup: %s\n", cnai_error_last()
						      ? cnai_error_last()->message
						      : "store not created");
		cnai_buf_release(&root);
		fixture_rmrf(fx->dir);
		free(fx);
		return -1;
	}
	cnai_buf_release(&root);
	cnai_error_clear();
	return 0;
}

FIXTURE_UNUSED static int fixture_teardown(void **state)
{
	struct fixture *fx = *state;

	if (!fx)
		return 0;
	cnai_store_free(fx->st);
	fixture_rmrf(fx->dir);
	free(fx);
	*state = NULL;
	return 0;
}

/* The last error's message, or "" when none is set. */
FIXTURE_UNUSED static const char *fixture_errmsg(void)
{
	const struct cnai_error *e = cnai_error_last();

	return e ? e->message : "";
}

#endif
