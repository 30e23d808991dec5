/*
 * Runs: the public operations of runs.h. Each goes to the store's backend
 * (backend_sqlite_runs.c); the status spellings and the freeing of what
 * they return are plain C and live here.
 */
#include "core/store/runs.h"

#include <stdlib.h>
#include <string.h>

#include "core/store/store_impl.h"
#include "core/util/error.h"
#include "core/util/banned.h"

/*
 * Indexed by enum cnai_run_status: the spelling users see and type. The
 * SQLite backend stores it as it is, so that stores written before the
 * enum read back unchanged and the filter language's
 * `attributes.status = 'FINISHED'` compares with the column as it is.
 */
static const char *const statuses[] = { "RUNNING", "FINISHED", "FAILED",
					"KILLED" };

const char *cnai_run_status_name(enum cnai_run_status status)
{
	if ((size_t)status >= sizeof(statuses) / sizeof(*statuses))
		return "UNKNOWN";
	return statuses[status];
}

int cnai_run_status_parse(enum cnai_run_status *out, const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(*statuses); i++) {
		if (!strcmp(s, statuses[i])) {
			*out = (enum cnai_run_status)i;
			return 0;
		}
	}
	return CNAI_EINVALID;
}

void cnai_run_free(struct cnai_run *r)
{
	if (!r)
		return;
	free(r->experiment);
	free(r->name);
	free(r->command);
	free(r->cwd);
	free(r->host);
	free(r->user);
	free(r->git_commit);
	free(r->git_branch);
	free(r->git_remote);
	free(r->parent);
	free(r);
}

void cnai_kv_free_array(struct cnai_kv *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].key);
		free(a[i].value);
	}
	free(a);
}

void cnai_metric_free_array(struct cnai_metric_point *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(a[i].key);
	free(a);
}

void cnai_artifact_free_array(struct cnai_artifact *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(a[i].name);
	free(a);
}

void cnai_run_input_free_array(struct cnai_run_input *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].digest);
		free(a[i].path);
	}
	free(a);
}

int cnai_run_create(struct cnai_run **out, struct cnai_store *st,
		    const struct cnai_run_spec *spec)
{
	return st->backend->run_create(out, st, spec);
}

int cnai_run_lookup(struct cnai_run **out, struct cnai_store *st,
		    const char *ref)
{
	return st->backend->run_lookup(out, st, ref);
}

int cnai_run_end(struct cnai_store *st, int64_t run,
		 enum cnai_run_status status, int has_exit, int exit_code)
{
	return st->backend->run_end(st, run, status, has_exit, exit_code);
}

int cnai_run_remove(struct cnai_store *st, int64_t run)
{
	return st->backend->run_remove(st, run);
}

int cnai_run_params(struct cnai_kv **out, size_t *n, struct cnai_store *st,
		    int64_t run)
{
	return st->backend->run_params(out, n, st, run);
}

int cnai_run_tags(struct cnai_kv **out, size_t *n, struct cnai_store *st,
		  int64_t run)
{
	return st->backend->run_tags(out, n, st, run);
}

int cnai_run_latest_metrics(struct cnai_metric_point **out, size_t *n,
			    struct cnai_store *st, int64_t run)
{
	return st->backend->run_latest_metrics(out, n, st, run);
}

int cnai_run_metric_history(struct cnai_metric_point **out, size_t *n,
			    struct cnai_store *st, int64_t run, const char *key)
{
	return st->backend->run_metric_history(out, n, st, run, key);
}

int cnai_run_artifacts(struct cnai_artifact **out, size_t *n,
		       struct cnai_store *st, int64_t run)
{
	return st->backend->run_artifacts(out, n, st, run);
}

int cnai_run_artifact(struct cnai_artifact *out, struct cnai_store *st,
		      const struct cnai_run *run, const char *name)
{
	return st->backend->run_artifact(out, st, run, name);
}

int cnai_runs_query(struct cnai_store *st, const struct cnai_run_query *q,
		    cnai_run_fn fn, void *payload)
{
	return st->backend->runs_query(st, q, fn, payload);
}

int cnai_run_inputs(struct cnai_run_input **out, size_t *n,
		    struct cnai_store *st, const struct cnai_run *run)
{
	return st->backend->run_inputs(out, n, st, run);
}
