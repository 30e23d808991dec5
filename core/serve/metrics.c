/*
 * Metrics storage: a small table of series under one mutex. Requests are
 * few per series and the critical sections are a few adds, so a mutex
 * costs less than getting lock-free counters right. The in-flight gauge,
 * moved twice per request and never looked up, is an atomic instead.
 */
#include "core/serve/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

enum { MAX_SERIES = 512 };

static const double latency_buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
					  0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
static const double batch_buckets[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256,
					512, 1024 };
#define NLAT (sizeof(latency_buckets) / sizeof(*latency_buckets))
#define NBATCH (sizeof(batch_buckets) / sizeof(*batch_buckets))

struct req_series {
	char model[128], endpoint[32];
	int code;
	unsigned long long count;
};

struct hist_series {
	char model[128];
	unsigned long long buckets[16], count;
	double sum;
};

struct load_series {
	char model[128];
	double seconds;
};

struct cnai_metrics {
	pthread_mutex_t lock;
	struct req_series req[MAX_SERIES];
	size_t nreq;
	struct hist_series lat[64], batch[64];
	size_t nlat, nbatch;
	struct load_series load[64];
	size_t nload;
	atomic_long inflight, body_bytes;
	atomic_ulong rejected[CNAI_METRICS_REJECT_COUNT];
};

/* The label values of enum cnai_metrics_reject, in its order. */
static const char *const reject_reasons[CNAI_METRICS_REJECT_COUNT] = {
	"inflight_bytes",
	"max_body",
	"request_line",
};

int cnai_metrics_new(struct cnai_metrics **out)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	pthread_mutex_init(&(*out)->lock, NULL);
	return 0;
}

void cnai_metrics_free(struct cnai_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct hist_series *hist(struct hist_series *h, size_t *n, size_t max,
				const char *model)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp(h[i].model, model))
			return &h[i];
	if (*n == max)
		return NULL;
	snprintf(h[*n].model, sizeof(h[*n].model), "%s", model);
	return &h[(*n)++];
}

static void observe(struct hist_series *h, const double *bounds,
		    size_t nb, double v)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < nb; i++)
		if (v <= bounds[i])
			h->buckets[i]++;
	h->count++;
	h->sum += v;
}

void cnai_metrics_request(struct cnai_metrics *m, const char *model,
			  const char *endpoint, int code, double seconds)
{
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nreq; i++)
		if (m->req[i].code == code &&
		    !strcmp(m->req[i].endpoint, endpoint) &&
		    !strcmp(m->req[i].model, model))
			break;
	if (i == m->nreq && m->nreq < MAX_SERIES) {
		snprintf(m->req[i].model, sizeof(m->req[i].model), "%s", model);
		snprintf(m->req[i].endpoint, sizeof(m->req[i].endpoint), "%s",
			 endpoint);
		m->req[i].code = code;
		m->nreq++;
	}
	if (i < m->nreq)
		m->req[i].count++;
	observe(hist(m->lat, &m->nlat, 64, model), latency_buckets, NLAT,
		seconds);
	pthread_mutex_unlock(&m->lock);
}

void cnai_metrics_batch(struct cnai_metrics *m, const char *model,
			size_t rows)
{
	pthread_mutex_lock(&m->lock);
	observe(hist(m->batch, &m->nbatch, 64, model), batch_buckets, NBATCH,
		(double)rows);
	pthread_mutex_unlock(&m->lock);
}

void cnai_metrics_inflight(struct cnai_metrics *m, int delta)
{
	atomic_fetch_add(&m->inflight, delta);
}

void cnai_metrics_body_bytes(struct cnai_metrics *m, long delta)
{
	atomic_fetch_add(&m->body_bytes, delta);
}

void cnai_metrics_rejected(struct cnai_metrics *m,
			   enum cnai_metrics_reject reason)
{
	atomic_fetch_add(&m->rejected[reason], 1);
}

void cnai_metrics_model_loaded(struct cnai_metrics *m, const char *model,
			       double seconds)
{
	pthread_mutex_lock(&m->lock);
	if (m->nload < 64) {
		snprintf(m->load[m->nload].model, sizeof(m->load[0].model),
			 "%s", model);
		m->load[m->nload++].seconds = seconds;
	}
	pthread_mutex_unlock(&m->lock);
}

/* Label values: backslash, quote and newline escaped. */
static void label(struct cnai_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			cnai_buf_addch(b, '\\');
		if (*s == '\n') {
			cnai_buf_adds(b, "\\n");
			continue;
		}
		cnai_buf_addch(b, *s);
	}
}

static void render_hist(struct cnai_buf *b, const char *name,
			const char *help, const char *unit_suffix,
			const struct hist_series *h, size_t n,
			const double *bounds, size_t nb)
{
	size_t i, k;

	cnai_buf_addf(b, "# HELP %s%s %s\n# TYPE %s%s histogram\n", name,
		      unit_suffix, help, name, unit_suffix);
	for (i = 0; i < n; i++) {
		for (k = 0; k < nb; k++) {
			cnai_buf_addf(b, "%s%s_bucket{model=\"", name,
				      unit_suffix);
			label(b, h[i].model);
			cnai_buf_addf(b, "\",le=\"%g\"} %llu\n", bounds[k],
				      h[i].buckets[k]);
		}
		cnai_buf_addf(b, "%s%s_bucket{model=\"", name, unit_suffix);
		label(b, h[i].model);
		cnai_buf_addf(b, "\",le=\"+Inf\"} %llu\n", h[i].count);
		cnai_buf_addf(b, "%s%s_sum{model=\"", name, unit_suffix);
		label(b, h[i].model);
		cnai_buf_addf(b, "\"} %.9g\n", h[i].sum);
		cnai_buf_addf(b, "%s%s_count{model=\"", name, unit_suffix);
		label(b, h[i].model);
		cnai_buf_addf(b, "\"} %llu\n", h[i].count);
	}
}

int cnai_metrics_render(struct cnai_buf *b, struct cnai_metrics *m)
{
	size_t i;

	pthread_mutex_lock(&m->lock);
	cnai_buf_adds(b, "# HELP cnai_http_requests_total Requests served, by "
			 "model, endpoint and status code.\n"
			 "# TYPE cnai_http_requests_total counter\n");
	for (i = 0; i < m->nreq; i++) {
		cnai_buf_adds(b, "cnai_http_requests_total{model=\"");
		label(b, m->req[i].model);
		cnai_buf_addf(b, "\",endpoint=\"%s\",code=\"%d\"} %llu\n",
			      m->req[i].endpoint, m->req[i].code,
			      m->req[i].count);
	}
	render_hist(b, "cnai_http_request_duration", "Request latency.",
		    "_seconds", m->lat, m->nlat, latency_buckets, NLAT);
	render_hist(b, "cnai_inference_batch_size", "Rows per inference call.",
		    "", m->batch, m->nbatch, batch_buckets, NBATCH);
	cnai_buf_addf(b, "# HELP cnai_http_requests_in_flight Requests being "
			 "served.\n# TYPE cnai_http_requests_in_flight gauge\n"
			 "cnai_http_requests_in_flight %ld\n",
		      atomic_load(&m->inflight));
	cnai_buf_addf(b, "# HELP cnai_http_request_body_in_flight_bytes "
			 "Request body bytes held (the --max-inflight-bytes "
			 "budget).\n"
			 "# TYPE cnai_http_request_body_in_flight_bytes gauge\n"
			 "cnai_http_request_body_in_flight_bytes %ld\n",
		      atomic_load(&m->body_bytes));
	/* Every reason, also at 0: a rate() needs the series before the
	 * first rejection. */
	cnai_buf_adds(b, "# HELP cnai_http_requests_rejected_total Requests "
			 "turned away before routing, by reason.\n"
			 "# TYPE cnai_http_requests_rejected_total counter\n");
	for (i = 0; i < CNAI_METRICS_REJECT_COUNT; i++)
		cnai_buf_addf(b, "cnai_http_requests_rejected_total"
			      "{reason=\"%s\"} %lu\n", reject_reasons[i],
			      atomic_load(&m->rejected[i]));
	cnai_buf_adds(b, "# HELP cnai_model_load_seconds Time to load each "
			 "model.\n# TYPE cnai_model_load_seconds gauge\n");
	for (i = 0; i < m->nload; i++) {
		cnai_buf_adds(b, "cnai_model_load_seconds{model=\"");
		label(b, m->load[i].model);
		cnai_buf_addf(b, "\"} %.6f\n", m->load[i].seconds);
	}
	pthread_mutex_unlock(&m->lock);
	return cnai_buf_oom(b);
}
