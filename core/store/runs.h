/*
 * Runs: create, find, end, remove, and read back what was logged to them.
 * Logging itself goes through struct cnai_logger (core/store/logger.h) so
 * that one call and a million-point batch share one transaction path.
 */
#ifndef CNAI_CORE_STORE_RUNS_H
#define CNAI_CORE_STORE_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/store/store.h"

#define CNAI_RUN_UUID_LEN 32
#define CNAI_RUN_MIN_PREFIX 4

/*
 * A run's state. Each backend chooses how a status is spelled in its
 * tables; cnai_run_status_name() is the spelling users see and type.
 */
enum cnai_run_status {
	CNAI_RUN_RUNNING,
	CNAI_RUN_FINISHED,
	CNAI_RUN_FAILED,
	CNAI_RUN_KILLED,
};

/* "RUNNING", "FINISHED", "FAILED" or "KILLED"; a static string. */
const char *cnai_run_status_name(enum cnai_run_status status);
/*
 * The status named `s` (exactly as cnai_run_status_name spells it) into
 * *out; CNAI_EINVALID, with no error set, for anything else.
 */
int cnai_run_status_parse(enum cnai_run_status *out, const char *s);

struct cnai_run {
	int64_t id;                       /* the database's id */
	char uuid[CNAI_RUN_UUID_LEN + 1]; /* what users see */
	char *experiment;
	char *name;
	enum cnai_run_status status;
	int64_t start_time, end_time;  /* ms; end_time 0 while running */
	int has_exit_code, exit_code;
	char *command, *cwd, *host, *user;
	char *git_commit, *git_branch, *git_remote;
	int git_dirty; /* -1 outside a repository */
	char *parent;  /* parent run's uuid, or NULL */
};

/* What a new run records; NULL fields are left empty. */
struct cnai_run_spec {
	const char *experiment; /* NULL: "Default" */
	const char *name;
	const char *command, *cwd, *host, *user;
	const char *git_commit, *git_branch, *git_remote;
	int git_dirty;
	int64_t parent; /* 0: none */
};

/* Creates a RUNNING run (and its experiment, and its lineage entity). */
int cnai_run_create(struct cnai_run **out, struct cnai_store *st,
		    const struct cnai_run_spec *spec);
/*
 * Finds a run by full id, a unique id prefix of 4+ hex digits, or its name.
 * CNAI_ENOTFOUND, or CNAI_EAMBIGUOUS listing the candidates.
 */
int cnai_run_lookup(struct cnai_run **out, struct cnai_store *st,
		    const char *ref);
/* Sets status, end time and (has_exit) exit code. */
int cnai_run_end(struct cnai_store *st, int64_t run,
		 enum cnai_run_status status, int has_exit, int exit_code);
/* Deletes a run and everything logged to it (blobs stay until gc). */
int cnai_run_remove(struct cnai_store *st, int64_t run);
void cnai_run_free(struct cnai_run *r);

struct cnai_kv {
	char *key, *value;
};
struct cnai_metric_point {
	char *key;
	double value; /* NaN and infinities as they were logged */
	int64_t step, timestamp;
};
struct cnai_artifact {
	char *name;
	char digest[72];
	uint64_t size;
	int64_t created;
};

/* Each *_list allocates an array the caller frees with the matching
 * *_free_array(array, n). */
int cnai_run_params(struct cnai_kv **out, size_t *n, struct cnai_store *st,
		    int64_t run);
int cnai_run_tags(struct cnai_kv **out, size_t *n, struct cnai_store *st,
		  int64_t run);
void cnai_kv_free_array(struct cnai_kv *a, size_t n);
/* The latest point of each metric. */
int cnai_run_latest_metrics(struct cnai_metric_point **out, size_t *n,
			    struct cnai_store *st, int64_t run);
/* Full history of one metric (key) or of all (key NULL), by key, step. */
int cnai_run_metric_history(struct cnai_metric_point **out, size_t *n,
			    struct cnai_store *st, int64_t run,
			    const char *key);
void cnai_metric_free_array(struct cnai_metric_point *a, size_t n);
int cnai_run_artifacts(struct cnai_artifact **out, size_t *n,
		       struct cnai_store *st, int64_t run);
/* One artifact by name: CNAI_ENOTFOUND naming it and the run. */
int cnai_run_artifact(struct cnai_artifact *out, struct cnai_store *st,
		      const struct cnai_run *run, const char *name);
void cnai_artifact_free_array(struct cnai_artifact *a, size_t n);

/* Listing runs: a filter, orderings, and a limit; fn is called per run. */
struct cnai_run_query {
	const char *experiment; /* NULL: all */
	const char *filter;     /* MLflow syntax, NULL: all */
	const char *const *order_by;
	size_t norder;
	int64_t limit; /* <= 0: no limit */
};
typedef int (*cnai_run_fn)(const struct cnai_run *run, void *payload);
int cnai_runs_query(struct cnai_store *st, const struct cnai_run_query *q,
		    cnai_run_fn fn, void *payload);

/* A dataset a run read (edge dataset -> run). */
struct cnai_run_input {
	char *digest, *path;
	uint64_t size;
	int64_t rows, columns; /* -1 when not a table */
};
int cnai_run_inputs(struct cnai_run_input **out, size_t *n,
		    struct cnai_store *st, const struct cnai_run *run);
void cnai_run_input_free_array(struct cnai_run_input *a, size_t n);

#endif
