/*
 * Where a run starts: the machine, the user, the working folder and the
 * state of the git repository around it, read once and handed to
 * cnai_run_create through struct cnai_run_spec. `cnai train`, `cnai track
 * run` and model registration all record the same provenance this way.
 */
#ifndef CNAI_CORE_STORE_ORIGIN_H
#define CNAI_CORE_STORE_ORIGIN_H

#include <stddef.h>

#include "core/store/runs.h"
#include "core/util/git.h"

struct cnai_run_origin {
	char host[256]; /* "" when unknown */
	char user[256]; /* the passwd name, else $USER; "" when neither */
	char *cwd;      /* NULL when the folder cannot be named */
	struct cnai_git_info git;
};

/*
 * Reads the origin of a run started now, in this process's folder. Never
 * fails: what cannot be read stays empty. Release with
 * cnai_run_origin_release.
 */
void cnai_run_origin_read(struct cnai_run_origin *o);
/*
 * Points spec's cwd, host, user and git fields at o's (empty ones become
 * NULL, git_dirty -1 outside a repository); o must outlive the spec's use.
 */
void cnai_run_origin_fill(struct cnai_run_spec *spec,
			  const struct cnai_run_origin *o);
void cnai_run_origin_release(struct cnai_run_origin *o);

/* The user's name into out (passwd, else $USER; "" when neither). */
void cnai_origin_user(char *out, size_t size);

#endif
