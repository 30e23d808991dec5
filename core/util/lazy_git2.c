/*
 * libgit2, loaded when a run records its repository or the config file is
 * read (core/util/lazy.h): most commands touch neither.
 */
#include <git2.h>

#include "core/util/lazy.h"
#include "core/util/banned.h"

#define GIT_SO "libgit2.so.1.5"

typedef const char *cstr;
typedef const git_error *err_p;
typedef const git_oid *oid_p;

CNAI_LAZY(GIT_SO, void, git_buf_dispose, (git_buf *b), (b))
CNAI_LAZY(GIT_SO, int, git_config_delete_entry, (git_config *c, cstr n), (c, n))
CNAI_LAZY(GIT_SO, void, git_config_free, (git_config *c), (c))
CNAI_LAZY(GIT_SO, int, git_config_get_string_buf,
	  (git_buf *o, const git_config *c, cstr n), (o, c, n))
CNAI_LAZY(GIT_SO, void, git_config_iterator_free, (git_config_iterator *i),
	  (i))
CNAI_LAZY(GIT_SO, int, git_config_iterator_new,
	  (git_config_iterator **o, const git_config *c), (o, c))
CNAI_LAZY(GIT_SO, int, git_config_next,
	  (git_config_entry **e, git_config_iterator *i), (e, i))
CNAI_LAZY(GIT_SO, int, git_config_open_ondisk, (git_config **o, cstr p), (o, p))
CNAI_LAZY(GIT_SO, int, git_config_set_string,
	  (git_config *c, cstr n, cstr v), (c, n, v))
CNAI_LAZY(GIT_SO, err_p, git_error_last, (void), ())
CNAI_LAZY(GIT_SO, int, git_libgit2_init, (void), ())
CNAI_LAZY(GIT_SO, int, git_libgit2_shutdown, (void), ())
CNAI_LAZY(GIT_SO, char *, git_oid_tostr, (char *o, size_t n, oid_p id),
	  (o, n, id))
CNAI_LAZY(GIT_SO, void, git_reference_free, (git_reference *r), (r))
CNAI_LAZY(GIT_SO, int, git_reference_is_branch, (const git_reference *r), (r))
CNAI_LAZY(GIT_SO, cstr, git_reference_shorthand, (const git_reference *r), (r))
CNAI_LAZY(GIT_SO, oid_p, git_reference_target, (const git_reference *r), (r))
CNAI_LAZY(GIT_SO, void, git_remote_free, (git_remote *r), (r))
CNAI_LAZY(GIT_SO, int, git_remote_lookup,
	  (git_remote **o, git_repository *r, cstr n), (o, r, n))
CNAI_LAZY(GIT_SO, cstr, git_remote_url, (const git_remote *r), (r))
CNAI_LAZY(GIT_SO, void, git_repository_free, (git_repository *r), (r))
CNAI_LAZY(GIT_SO, int, git_repository_head,
	  (git_reference **o, git_repository *r), (o, r))
CNAI_LAZY(GIT_SO, int, git_repository_is_bare, (const git_repository *r), (r))
CNAI_LAZY(GIT_SO, int, git_repository_open_ext,
	  (git_repository **o, cstr p, unsigned int f, cstr ceil), (o, p, f, ceil))
CNAI_LAZY(GIT_SO, int, git_status_foreach_ext,
	  (git_repository *r, const git_status_options *o, git_status_cb cb,
	   void *payload),
	  (r, o, cb, payload))
