/*
 * The global options `cnai` parses before the command name, and the store
 * the command runs against. The only mutable state above commands/ is
 * here, owned by main().
 */
#ifndef CNAI_CLI_CTX_H
#define CNAI_CLI_CTX_H

struct cnai_store;

struct cnai_ctx {
	const char *store_path; /* --store, else $CNAI_STORE, else NULL */
	int json;               /* --json: machine output on stdout */
	int quiet;              /* -q: no notices on stderr */
	int color;              /* colour on stdout (TTY, no NO_COLOR) */
	int stdout_tty, stderr_tty;
	struct cnai_store *store; /* opened for CNAI_CMD_NEEDS_STORE */
	const char *cmd_name;     /* "track", for messages */
};

#endif
