/*
 * The HTTP server of `cnai serve`: libmicrohttpd with its epoll thread
 * pool, KServe's Open Inference Protocol v2 (and v1 predict), /metrics,
 * JSON access logs, size, memory and time limits, and a graceful stop.
 */
#ifndef CNAI_CORE_SERVE_SERVER_H
#define CNAI_CORE_SERVE_SERVER_H

#include <stddef.h>

#include "core/serve/infer.h"

struct cnai_server_opts {
	const char *host;
	int port;            /* 0: any free port (see cnai_server_port) */
	int threads;
	size_t max_body;     /* a larger body gets 413 */
	size_t max_inflight; /* request body bytes held at once, all
			      * requests together: past it 503 (0: none) */
	int timeout_s;       /* idle connections are closed after this */
	int log;             /* 0 off, 1 JSON lines, 2 text */
};

struct cnai_server;

/* Starts serving `models` (borrowed; they must outlive the server). */
int cnai_server_start(struct cnai_server **out,
		      struct cnai_serve_model *models, size_t nmodels,
		      struct cnai_metrics *metrics,
		      const struct cnai_server_opts *opts);
/* The port actually bound. */
int cnai_server_port(const struct cnai_server *s);
/*
 * Stops: readiness turns false, no new connections are accepted, requests
 * in flight get up to grace_ms to finish; then the server is freed.
 * Returns how many requests were still in flight when the grace ran out
 * (they are cut off).
 */
int cnai_server_stop(struct cnai_server *s, int grace_ms);

#endif
