/*
 * What a run records about the source tree it ran in: HEAD's commit, the
 * branch, whether tracked files have changes, and the origin URL. Read with
 * libgit2, so no `git` binary is needed.
 */
#ifndef CNAI_CORE_UTIL_GIT_H
#define CNAI_CORE_UTIL_GIT_H

struct cnai_git_info {
	char *commit; /* NULL outside a repository or before a first commit */
	char *branch; /* NULL on a detached HEAD */
	char *remote; /* origin's URL, or NULL */
	int dirty;    /* -1 outside a repository */
};

/* Fills info for the repository enclosing `dir`; outside one, all empty. */
int cnai_git_info_read(struct cnai_git_info *info, const char *dir);
void cnai_git_info_release(struct cnai_git_info *info);

#endif
