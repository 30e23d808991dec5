/*
 * The server's Prometheus metrics: requests by model, endpoint and status
 * code, a request latency histogram, an inference batch size histogram,
 * requests in flight, and each model's load time. Updated from the
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
void cnai_metrics_model_loaded(struct cnai_metrics *m, const char *model,
			       double seconds);
/* Appends the exposition text. */
int cnai_metrics_render(struct cnai_buf *out, struct cnai_metrics *m);

#endif
