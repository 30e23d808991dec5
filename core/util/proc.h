/*
 * Running child commands: the way `cnai track run` needs (its stdout and
 * stderr pass through unchanged and are copied to files, SIGINT, SIGTERM
 * and SIGHUP sent to cnai reach the child, and its exit is reported), and
 * a tool fed on its stdin (`kubectl apply -f -`).
 */
#ifndef CNAI_CORE_UTIL_PROC_H
#define CNAI_CORE_UTIL_PROC_H

#include <stddef.h>

struct cnai_proc_result {
	int exited;      /* 1: exit_code is valid */
	int exit_code;
	int term_signal; /* the signal that killed the child, or 0 */
	int forwarded;   /* a termination signal was forwarded to it */
};

/*
 * Runs argv (searched on PATH) with `env` as its environment, copying
 * what it writes on stdout to `copy_out` and on stderr to `copy_err` (file
 * descriptors) as well as to cnai's own. A command that cannot be started
 * is CNAI_ENOTFOUND (or CNAI_ERROR) naming it.
 */
int cnai_proc_run_tee(struct cnai_proc_result *out, char *const argv[],
		      char *const env[], int copy_out, int copy_err);

/*
 * The command line `argv` as one string a shell reads back to the same
 * words: plain words as they are, others in single quotes. NULL when out
 * of memory; the caller frees.
 */
char *cnai_proc_command_line(int argc, char *const argv[]);

/*
 * A copy of cnai's environment for a child, with each "NAME=VALUE" of
 * the NULL-terminated `set` replacing any NAME there (or added).
 * CNAI_ERROR when out of memory; free it with cnai_proc_env_free().
 */
int cnai_proc_env_new(char ***out, const char *const set[]);
void cnai_proc_env_free(char **env);

/*
 * Runs argv (searched on PATH, cnai's environment) with the `len` bytes
 * of `input` on its stdin; its stdout and stderr are cnai's. Waits for it
 * and reports its exit in `out`. A child that stops reading early is not
 * an error here: its exit status says what went wrong. A command that
 * cannot be started is CNAI_ENOTFOUND (or CNAI_ERROR) naming it.
 */
int cnai_proc_run_input(struct cnai_proc_result *out, char *const argv[],
			const void *input, size_t len);

#endif
