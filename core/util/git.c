/*
 * Git facts for run provenance. Anything that goes wrong inside a
 * repository (no commits yet, no origin) leaves that field empty rather
 * than failing the run: provenance is best effort, the run is not.
 */
#include "core/util/git.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

static int count_change(const char *path, unsigned int flags, void *payload)
{
	(void)path;
	if (flags & ~(GIT_STATUS_IGNORED | GIT_STATUS_WT_NEW)) {
		*(int *)payload = 1;
		return 1; /* stop: one change is enough */
	}
	return 0;
}

int cnai_git_info_read(struct cnai_git_info *info, const char *dir)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	git_remote *origin = NULL;
	git_status_options opts = GIT_STATUS_OPTIONS_INIT;
	char oid[GIT_OID_HEXSZ + 1];

	memset(info, 0, sizeof(*info));
	info->dirty = -1;
	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0)
		goto cleanup;
	info->dirty = 0;
	if (git_repository_head(&head, repo) == 0) {
		const git_oid *id = git_reference_target(head);

		if (id) {
			git_oid_tostr(oid, sizeof(oid), id);
			info->commit = strdup(oid);
		}
		if (git_reference_is_branch(head))
			info->branch = strdup(git_reference_shorthand(head));
	}
	if (git_remote_lookup(&origin, repo, "origin") == 0 &&
	    git_remote_url(origin))
		info->remote = strdup(git_remote_url(origin));
	/* Untracked files do not make a tree dirty (as `git describe
	 * --dirty`): they are not part of what was committed. */
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (!git_repository_is_bare(repo))
		git_status_foreach_ext(repo, &opts, count_change, &info->dirty);
cleanup:
	git_remote_free(origin);
	git_reference_free(head);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return 0;
}

void cnai_git_info_release(struct cnai_git_info *info)
{
	free(info->commit);
	free(info->branch);
	free(info->remote);
	memset(info, 0, sizeof(*info));
	info->dirty = -1;
}
