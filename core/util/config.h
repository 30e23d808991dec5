/*
 * The store's `config` file, in git-config format, read and written with
 * libgit2's config API so that `git config -f .cnai/config` agrees with us.
 */
#ifndef CNAI_CORE_UTIL_CONFIG_H
#define CNAI_CORE_UTIL_CONFIG_H

#include "core/util/buf.h"

/* The value of `key` (section.name or section.sub.name); CNAI_ENOTFOUND. */
int cnai_config_get(struct cnai_buf *out, const char *path, const char *key);
int cnai_config_set(const char *path, const char *key, const char *value);
/* CNAI_ENOTFOUND when the key is not set. */
int cnai_config_unset(const char *path, const char *key);

typedef int (*cnai_config_fn)(const char *key, const char *value,
			      void *payload);
/* Calls fn for every entry in file order. */
int cnai_config_foreach(const char *path, cnai_config_fn fn, void *payload);

#endif
