/*
 * The server's Prometheus metrics: requests by model, endpoint and status
 * code, a request latency histogram, an inference batch size histogram,
 * requests in flight, request body bytes held, requests turned away
 * before routing (by reason), and each model's load time. Updated from the
 * server's worker threads; rendered as text exposition format 0.0.4.
 */
#ifndef CNAI_CORE_SERVE_METRICS_H
#define CNAI_CORE_SERVE_METRICS_H

#include <stddef.h>

#include "core/util/buf.h"

struct cnai_metrics;

int cnai_metrics_new(struct cnai_metrics **out);
void cnai_metrics_free(struct cnai_metrics *m);

/* One finished request. `model` may be "" (health, metadata). */
void cnai_metrics_request(struct cnai_metrics *m, const char *model,
			  const char *endpoint, int code, double seconds);
void cnai_metrics_batch(struct cnai_metrics *m, const char *model,
			size_t rows);
void cnai_metrics_inflight(struct cnai_metrics *m, int delta);
/* Request body bytes the server holds (its --max-inflight-bytes budget). */
void cnai_metrics_body_bytes(struct cnai_metrics *m, long delta);

/* Why a request was turned away before it reached a route. */
enum cnai_metrics_reject {
	CNAI_METRICS_REJECT_INFLIGHT_BYTES, /* 503: body budget spent */
	CNAI_METRICS_REJECT_MAX_BODY,       /* 413: over --max-body */
	CNAI_METRICS_REJECT_REQUEST_LINE,   /* 400: not an HTTP request */
	CNAI_METRICS_REJECT_COUNT
};
void cnai_metrics_rejected(struct cnai_metrics *m,
			   enum cnai_metrics_reject reason);
void cnai_metrics_model_loaded(struct cnai_metrics *m, const char *model,
			       double seconds);
/* Appends the exposition text. */
int cnai_metrics_render(struct cnai_buf *out, struct cnai_metrics *m);

#endif
