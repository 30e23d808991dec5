/*
 * HTTP handling. One request context per connection request accumulates
 * the body (refusing more than max_body with 413 as soon as it is known),
 * then the route answers with a JSON body. Every answer is counted in the
 * metrics and, when logging is on, written as one line to stderr from the
 * completion callback (so its status and time are final).
 */
#include "core/serve/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/serve/json.h"
#include "core/util/error.h"
#include "core/util/banned.h"

struct cnai_server {
	struct MHD_Daemon *d;
	struct cnai_serve_model *models;
	size_t nmodels;
	struct cnai_metrics *mx;
	struct cnai_server_opts o;
	atomic_int ready;
	atomic_long inflight;
	int port;
	pthread_mutex_t log_lock;
};

struct request {
	struct cnai_server *s;
	struct cnai_buf body;
	struct timespec start;
	/* unknown_model: r->model is what the URL asked for, not a model
	 * we serve; it is logged but not made a metrics label (a client
	 * must not be able to add series). */
	int too_large, status, unknown_model;
	char model[128];
	const char *endpoint; /* a literal: the metrics label */
	size_t bytes_out;
};

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Queues `resp` with its Content-Type and records the answer. */
static enum MHD_Result queue(struct MHD_Connection *c, struct request *r,
			     int status, const char *type,
			     struct MHD_Response *resp, size_t len)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	/* Draining: keep-alive clients are told to reconnect (elsewhere). */
	if (!atomic_load(&r->s->ready))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
					"close");
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	r->bytes_out = len;
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, struct request *r,
				 int status, const char *type,
				 const char *text, size_t len)
{
	return queue(c, r, status, type,
		     MHD_create_response_from_buffer(len, (void *)text,
						     MHD_RESPMEM_MUST_COPY),
		     len);
}

/* Hands out's memory to MHD, which frees it once sent: an answer of
 * 256 rows is not copied again. `out` is left empty. */
static enum MHD_Result send_buf(struct MHD_Connection *c, struct request *r,
				int status, const char *type,
				struct cnai_buf *out)
{
	size_t len = out->len;
	char *text = cnai_buf_detach(out);
	struct MHD_Response *resp =
		text ? MHD_create_response_from_buffer(len, text,
						       MHD_RESPMEM_MUST_FREE)
		     : NULL;

	if (!resp)
		free(text);
	return queue(c, r, status, type, resp, len);
}

static enum MHD_Result send_json(struct MHD_Connection *c, struct request *r,
				 int status, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	enum MHD_Result ret;

	json_decref(doc);
	if (!text)
		return MHD_NO;
	ret = send_text(c, r, status, "application/json", text, strlen(text));
	free(text);
	return ret;
}


static enum MHD_Result send_error(struct MHD_Connection *c, struct request *r,
				  int status, const char *msg)
{
	struct cnai_buf body = CNAI_BUF_INIT;
	enum MHD_Result ret = MHD_NO;

	cnai_buf_adds(&body, "{\"error\":");
	cnai_serve_json_add_string(&body, msg);
	cnai_buf_addch(&body, '}');
	if (!cnai_buf_oom(&body))
		ret = send_text(c, r, status, "application/json", body.buf,
				body.len);
	cnai_error_clear();
	cnai_buf_release(&body);
	return ret;
}

/* The model's name as the URL gives it, cut to fit (for logs). */
static void set_model(struct request *r, const char *name, size_t len)
{
	if (len >= sizeof(r->model))
		len = sizeof(r->model) - 1;
	memcpy(r->model, name, len);
	r->model[len] = '\0';
}

/* "/v2/models/NAME[/versions/V]..." -> model, and what follows. */
static struct cnai_serve_model *find_model(struct cnai_server *s,
					   const char *name, size_t len,
					   const char *version, size_t vlen)
{
	size_t i;

	for (i = 0; i < s->nmodels; i++)
		if (strlen(s->models[i].name) == len &&
		    !strncmp(s->models[i].name, name, len) &&
		    (!version || (strlen(s->models[i].version) == vlen &&
				  !strncmp(s->models[i].version, version,
					   vlen))))
			return &s->models[i];
	return NULL;
}

static enum MHD_Result route_models(struct cnai_server *s,
				    struct MHD_Connection *c,
				    struct request *r, const char *method,
				    const char *rest)
{
	const char *slash = strchr(rest, '/'), *version = NULL, *tail;
	size_t len = slash ? (size_t)(slash - rest) : strlen(rest), vlen = 0;
	struct cnai_serve_model *m;
	struct cnai_buf out = CNAI_BUF_INIT;
	int status = 500, err;
	enum MHD_Result ret;

	tail = slash ? slash : "";
	if (!strncmp(tail, "/versions/", 10)) {
		version = tail + 10;
		vlen = strcspn(version, "/");
		tail = version + vlen;
	}
	set_model(r, rest, len);
	if (!(m = find_model(s, rest, len, version, vlen))) {
		char msg[300];

		snprintf(msg, sizeof(msg), "model '%.*s'%s%.*s not found",
			 (int)len, rest, version ? " version " : "",
			 (int)vlen, version ? version : "");
		r->endpoint = "unknown";
		r->unknown_model = 1;
		return send_error(c, r, 404, msg);
	}
	if (!*tail && !strcmp(method, "GET")) {
		r->endpoint = "metadata";
		return send_json(c, r, 200, cnai_serve_model_metadata(m));
	}
	if (!strcmp(tail, "/ready") && !strcmp(method, "GET")) {
		r->endpoint = "model_ready";
		return send_json(c, r, s->ready ? 200 : 503,
				 json_pack("{s:s, s:b}", "name", m->name,
					   "ready", s->ready));
	}
	if (!strcmp(tail, "/infer")) {
		r->endpoint = "infer";
		if (strcmp(method, "POST"))
			return send_error(c, r, 405, "use POST for infer");
		err = cnai_serve_infer_v2(&out, &status, m, s->mx, r->body.buf,
					  r->body.len);
		ret = err < 0 ? send_error(c, r, status,
					   cnai_error_last()->message)
			      : send_buf(c, r, 200, "application/json", &out);
		cnai_error_clear();
		cnai_buf_release(&out);
		return ret;
	}
	r->endpoint = "unknown";
	return send_error(c, r, 404, "no such endpoint");
}

static enum MHD_Result route(struct cnai_server *s, struct MHD_Connection *c,
			     struct request *r, const char *method,
			     const char *url)
{
	struct cnai_buf out = CNAI_BUF_INIT;
	enum MHD_Result ret;

	if (!strcmp(url, "/v2/health/live")) {
		r->endpoint = "live";
		return send_json(c, r, 200, json_pack("{s:b}", "live", 1));
	}
	if (!strcmp(url, "/v2/health/ready")) {
		r->endpoint = "ready";
		return send_json(c, r, s->ready ? 200 : 503,
				 json_pack("{s:b}", "ready", s->ready));
	}
	if (!strcmp(url, "/v2") || !strcmp(url, "/v2/")) {
		r->endpoint = "server_metadata";
		return send_json(c, r, 200,
				 json_pack("{s:s, s:s, s:[s]}", "name", "cnai",
					   "version", CNAI_VERSION,
					   "extensions", "model_repository"));
	}
	if (!strcmp(url, "/metrics")) {
		r->endpoint = "metrics";
		if (cnai_metrics_render(&out, s->mx) < 0) {
			cnai_buf_release(&out);
			return send_error(c, r, 500, "metrics");
		}
		ret = send_text(c, r, 200, "text/plain; version=0.0.4",
				out.buf, out.len);
		cnai_buf_release(&out);
		return ret;
	}
	if (!strncmp(url, "/v2/models/", 11))
		return route_models(s, c, r, method, url + 11);
	if (!strncmp(url, "/v1/models/", 11)) {
		const char *colon = strrchr(url + 11, ':');
		struct cnai_serve_model *m;
		int status = 500, err;

		r->endpoint = "v1_predict";
		if (!colon || strcmp(colon, ":predict") || strcmp(method, "POST"))
			return send_error(c, r, 404, "no such endpoint (POST "
					  "/v1/models/NAME:predict)");
		set_model(r, url + 11, (size_t)(colon - url - 11));
		if (!(m = find_model(s, url + 11, (size_t)(colon - url - 11),
				     NULL, 0))) {
			r->unknown_model = 1;
			return send_error(c, r, 404, "model not found");
		}
		err = cnai_serve_predict_v1(&out, &status, m, s->mx,
					    r->body.buf, r->body.len);
		ret = err < 0 ? send_error(c, r, status,
					   cnai_error_last()->message)
			      : send_buf(c, r, 200, "application/json", &out);
		cnai_error_clear();
		cnai_buf_release(&out);
		return ret;
	}
	r->endpoint = "unknown";
	return send_error(c, r, 404, "no such endpoint");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct cnai_server *s = cls;
	struct request *r = *con_cls;
	const char *cl;
	unsigned long long length;

	(void)version;
	if (!r) {
		if (!(r = calloc(1, sizeof(*r))))
			return MHD_NO;
		r->s = s;
		r->endpoint = "";
		cnai_buf_init(&r->body);
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		*con_cls = r;
		atomic_fetch_add(&s->inflight, 1);
		cnai_metrics_inflight(s->mx, 1);
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		length = cl ? strtoull(cl, NULL, 10) : 0;
		if (length > s->o.max_body) {
			r->too_large = 1;
			r->endpoint = "too_large";
			return send_error(c, r, 413, "request body over the "
					  "--max-body limit");
		}
		/* The body arrives in pieces: one allocation, not a series
		 * of copies (a failure shows in cnai_buf_oom later); only
		 * up to 1 MiB, so that a client that sends nothing after its
		 * header does not hold --max-body of memory. */
		if (length)
			cnai_buf_grow(&r->body, length < (1 << 20)
							? (size_t)length
							: (size_t)1 << 20);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_large && r->body.len + *upload_size > s->o.max_body)
			r->too_large = 1;
		if (!r->too_large)
			cnai_buf_add(&r->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->too_large) {
		r->endpoint = "too_large";
		return send_error(c, r, 413, "request body over the --max-body "
				  "limit");
	}
	if (cnai_buf_oom(&r->body) < 0) {
		cnai_error_clear();
		return send_error(c, r, 500, "out of memory");
	}
	return route(s, c, r, method, url);
}

/* Text log fields: no spaces or control characters, "-" when empty. */
static void add_text_field(struct cnai_buf *b, const char *s)
{
	if (!*s)
		cnai_buf_addch(b, '-');
	for (; *s; s++)
		cnai_buf_addch(b, (unsigned char)*s <= 0x20 ||
					  (unsigned char)*s == 0x7f
				  ? '?'
				  : *s);
}

static void log_request(struct cnai_server *s, struct MHD_Connection *c,
			const struct request *r, double secs)
{
	const union MHD_ConnectionInfo *ci;
	struct cnai_buf line = CNAI_BUF_INIT;
	char addr[64] = "-", when[32];
	time_t now = time(NULL);
	struct tm tm;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)ci->client_addr)
				   ->sin_addr,
			  addr, sizeof(addr));
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (s->o.log == 1) {
		cnai_buf_addf(&line, "{\"time\":\"%s\",\"remote\":\"%s\","
			      "\"endpoint\":\"%s\",\"model\":", when, addr,
			      r->endpoint);
		cnai_serve_json_add_string(&line, r->model);
		cnai_buf_addf(&line, ",\"status\":%d,\"bytes\":%zu,"
			      "\"duration_ms\":%.3f}\n", r->status,
			      r->bytes_out, secs * 1000);
	} else {
		cnai_buf_addf(&line, "%s %s %s ", when, addr, r->endpoint);
		add_text_field(&line, r->model);
		cnai_buf_addf(&line, " %d %zu %.3fms\n", r->status,
			      r->bytes_out, secs * 1000);
	}
	/* One write per line, so lines from the threads never interleave. */
	if (!cnai_buf_oom(&line)) {
		pthread_mutex_lock(&s->log_lock);
		fwrite(line.buf, 1, line.len, stderr);
		pthread_mutex_unlock(&s->log_lock);
	}
	cnai_error_clear();
	cnai_buf_release(&line);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct cnai_server *s = cls;
	struct request *r = *con_cls;
	double secs;

	(void)toe;
	if (!r)
		return;
	secs = since(&r->start);
	if (r->status)
		cnai_metrics_request(s->mx, r->unknown_model ? "" : r->model,
				     r->endpoint, r->status, secs);
	if (s->o.log && r->status)
		log_request(s, c, r, secs);
	cnai_buf_release(&r->body);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
	cnai_metrics_inflight(s->mx, -1);
}

int cnai_server_start(struct cnai_server **out,
		      struct cnai_serve_model *models, size_t nmodels,
		      struct cnai_metrics *metrics,
		      const struct cnai_server_opts *o)
{
	struct cnai_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in addr;
	const union MHD_DaemonInfo *di;

	*out = NULL;
	if (!s)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->host, &addr.sin_addr) != 1) {
		free(s);
		return cnai_error_set(CNAI_EUSAGE, "--host: '%s' is not an "
				      "IPv4 address", o->host);
	}
	s->models = models;
	s->nmodels = nmodels;
	s->mx = metrics;
	s->o = *o;
	pthread_mutex_init(&s->log_lock, NULL);
	/* The models are loaded before the server starts: ready from the
	 * first request on (false again only when draining). */
	s->ready = 1;
	s->d = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL, NULL,
		handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)(o->threads > 0 ? o->threads : 2),
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)(o->timeout_s > 0 ? o->timeout_s : 10),
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
		MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
	if (!s->d) {
		pthread_mutex_destroy(&s->log_lock);
		free(s);
		return cnai_error_set(CNAI_ERROR, "cannot listen on %s:%d "
				      "(port in use, or not allowed)", o->host,
				      o->port);
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : o->port;
	*out = s;
	return 0;
}

int cnai_server_port(const struct cnai_server *s)
{
	return s->port;
}

int cnai_server_stop(struct cnai_server *s, int grace_ms)
{
	MHD_socket lfd;
	int waited = 0, left;

	if (!s)
		return 0;
	/* Readiness first, so a load balancer stops sending; then no new
	 * connections; then requests in flight get the grace period. */
	s->ready = 0;
	/* The listen socket stays ours to close, after MHD_stop_daemon (its
	 * threads may still hold it); shut down now, so new connections are
	 * refused instead of waiting in the backlog until we exit. */
	lfd = MHD_quiesce_daemon(s->d);
	if (lfd != MHD_INVALID_SOCKET)
		shutdown(lfd, SHUT_RDWR);
	while (atomic_load(&s->inflight) > 0 && waited < grace_ms) {
		usleep(10000);
		waited += 10;
	}
	left = (int)atomic_load(&s->inflight);
	MHD_stop_daemon(s->d);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	pthread_mutex_destroy(&s->log_lock);
	free(s);
	return left;
}
