/*
 * Run provenance. The user comes from the passwd database first, because
 * $USER is whatever the environment says (sudo, containers and CI runners
 * set it loosely); $USER is the fallback where no passwd entry exists
 * (a container running as an arbitrary uid).
 */
#include "core/store/origin.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/banned.h"

void cnai_origin_user(char *out, size_t size)
{
	struct passwd pw, *p = NULL;
	char buf[1024];
	const char *env = getenv("USER");

	getpwuid_r(getuid(), &pw, buf, sizeof(buf), &p);
	snprintf(out, size, "%s", p ? p->pw_name : env ? env : "");
}

void cnai_run_origin_read(struct cnai_run_origin *o)
{
	memset(o, 0, sizeof(*o));
	o->cwd = getcwd(NULL, 0);
	cnai_git_info_read(&o->git, o->cwd ? o->cwd : ".");
	gethostname(o->host, sizeof(o->host) - 1);
	cnai_origin_user(o->user, sizeof(o->user));
}

void cnai_run_origin_fill(struct cnai_run_spec *spec,
			  const struct cnai_run_origin *o)
{
	spec->cwd = o->cwd;
	spec->host = o->host[0] ? o->host : NULL;
	spec->user = o->user[0] ? o->user : NULL;
	spec->git_commit = o->git.commit;
	spec->git_branch = o->git.branch;
	spec->git_remote = o->git.remote;
	spec->git_dirty = o->git.dirty;
}

void cnai_run_origin_release(struct cnai_run_origin *o)
{
	cnai_git_info_release(&o->git);
	free(o->cwd);
	o->cwd = NULL;
}
