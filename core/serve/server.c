/*
 * HTTP handling. One request context per connection request accumulates
 * the body (refusing more than max_body with 413 as soon as it is known),
 * then the route answers with a JSON body. Every answer is counted in the
 * metrics and, when logging is on, written as one line to stderr from the
 * completion callback (so its status and time are final).
 *
 * Clients are untrusted, so memory is bounded for all of them together:
 * the bodies held at once share one budget (max_inflight), reserved as a
 * body is declared or grows and given back when its request ends, however
 * it ends; a request the budget cannot hold gets 503 and Retry-After.
 *
 * The listening socket is ours, not libmicrohttpd's: an acceptor thread
 * reads the start of each new connection and hands it to libmicrohttpd
 * only once it begins like an HTTP request (a method, then a space).
 * libmicrohttpd 0.9.75 closes a garbage request line without an answer,
 * and keeps a connection that sends bytes without a line end open until
 * --timeout; here both get a 400 and are closed at once.
 */
#include "core/serve/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdint.h>
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
	atomic_size_t body_bytes; /* reserved by requests, <= max_inflight */
	int port;
	pthread_mutex_t log_lock;
	int lfd;                  /* the listening socket (the acceptor's) */
	int stopfd;               /* eventfd: tells the acceptor to stop */
	pthread_t acceptor;
};

struct request {
	struct cnai_server *s;
	struct cnai_buf body;
	struct timespec start;
	/* unknown_model: r->model is what the URL asked for, not a model
	 * we serve; it is logged but not made a metrics label (a client
	 * must not be able to add series). */
	int too_large, over_budget, status, unknown_model;
	size_t reserved; /* bytes of s->body_bytes this request holds */
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


/* {"error": msg}, with Retry-After when retry_after_s > 0. */
static enum MHD_Result send_error_retry(struct MHD_Connection *c,
					struct request *r, int status,
					const char *msg, int retry_after_s)
{
	struct cnai_buf body = CNAI_BUF_INIT;
	struct MHD_Response *resp = NULL;
	char secs[16];
	size_t len;

	cnai_buf_adds(&body, "{\"error\":");
	cnai_serve_json_add_string(&body, msg);
	cnai_buf_addch(&body, '}');
	len = body.len;
	if (!cnai_buf_oom(&body))
		resp = MHD_create_response_from_buffer(body.len, body.buf,
						       MHD_RESPMEM_MUST_COPY);
	if (resp && retry_after_s > 0) {
		snprintf(secs, sizeof(secs), "%d", retry_after_s);
		MHD_add_response_header(resp, "Retry-After", secs);
	}
	cnai_error_clear();
	cnai_buf_release(&body);
	return queue(c, r, status, "application/json", resp, len);
}

static enum MHD_Result send_error(struct MHD_Connection *c, struct request *r,
				  int status, const char *msg)
{
	return send_error_retry(c, r, status, msg, 0);
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

/*
 * Takes n more bytes of the body budget for r: 0 when the bodies held
 * would then exceed max_inflight (nothing taken).
 */
static int reserve(struct cnai_server *s, struct request *r, size_t n)
{
	size_t cur = atomic_load(&s->body_bytes);

	do {
		if (n > s->o.max_inflight - cur)
			return 0;
	} while (!atomic_compare_exchange_weak(&s->body_bytes, &cur, cur + n));
	r->reserved += n;
	cnai_metrics_body_bytes(s->mx, (long)n);
	return 1;
}

/* Frees r's body and gives its bytes back to the budget; again: no-op. */
static void release_body(struct request *r)
{
	cnai_buf_release(&r->body);
	if (!r->reserved)
		return;
	atomic_fetch_sub(&r->s->body_bytes, r->reserved);
	cnai_metrics_body_bytes(r->s->mx, -(long)r->reserved);
	r->reserved = 0;
}

static enum MHD_Result too_large(struct MHD_Connection *c, struct request *r)
{
	r->endpoint = "too_large";
	cnai_metrics_rejected(r->s->mx, CNAI_METRICS_REJECT_MAX_BODY);
	return send_error(c, r, 413, "request body over the --max-body limit");
}

/* The budget is spent by other requests: this one may succeed soon. */
static enum MHD_Result over_budget(struct MHD_Connection *c,
				   struct request *r)
{
	r->endpoint = "busy";
	cnai_metrics_rejected(r->s->mx, CNAI_METRICS_REJECT_INFLIGHT_BYTES);
	return send_error_retry(c, r, 503, "server busy: request bodies in "
				"flight over the --max-inflight-bytes limit; "
				"retry", 1);
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
	size_t n;
	enum MHD_Result ret;

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
		if (length > s->o.max_body)
			return too_large(c, r);
		/* A declared length is reserved whole, now: answered before
		 * the body is sent (and before 100 Continue), so a client
		 * turned away costs nothing. */
		if (length && !reserve(s, r, (size_t)length))
			return over_budget(c, r);
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
	if ((n = *upload_size)) {
		*upload_size = 0;
		if (r->too_large || r->over_budget)
			return MHD_YES;
		/* A chunked body reserves as it grows; past a limit it is
		 * dropped at once, and answered when it ends (libmicrohttpd
		 * takes an answer only before or after the body). */
		if (r->body.len + n > s->o.max_body)
			r->too_large = 1;
		else if (r->body.len + n > r->reserved &&
			 !reserve(s, r, r->body.len + n - r->reserved))
			r->over_budget = 1;
		if (r->too_large || r->over_budget)
			release_body(r);
		else
			cnai_buf_add(&r->body, upload, n);
		return MHD_YES;
	}
	if (r->too_large)
		return too_large(c, r);
	if (r->over_budget)
		return over_budget(c, r);
	if (cnai_buf_oom(&r->body) < 0) {
		cnai_error_clear();
		release_body(r);
		return send_error(c, r, 500, "out of memory");
	}
	ret = route(s, c, r, method, url);
	/* The answer is queued and owns its own memory. */
	release_body(r);
	return ret;
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
	/* Every end, the client's going and the server's stop included. */
	release_body(r);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
	cnai_metrics_inflight(s->mx, -1);
}

/* ---- the acceptor ------------------------------------------------------ */

/* The start of a request line looked at: a method is shorter. */
enum { SNIFF_BYTES = 32, MAX_PENDING = 4000 };

/* A connection accepted and not yet handed to libmicrohttpd. */
struct pending_conn {
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct timespec since;
};

static const char request_line_error[] =
	"HTTP/1.1 400 Bad Request\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 39\r\n"
	"Connection: close\r\n\r\n"
	"{\"error\":\"malformed HTTP request line\"}";

/* RFC 9110's tchar: what a method is made of. */
static int is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/*
 * What the first bytes say: 1 a method and a space (an HTTP request as
 * far as can be told; libmicrohttpd judges the rest), 0 not yet known,
 * -1 not HTTP. Empty lines before the request line are allowed, as RFC
 * 9112 asks.
 */
static int sniff(const unsigned char *b, size_t n, int more)
{
	size_t i = 0, m;

	while (i < n && (b[i] == '\r' || b[i] == '\n'))
		i++;
	for (m = i; i < n && is_tchar(b[i]); i++)
		;
	if (i < n)
		return b[i] == ' ' && i > m ? 1 : -1;
	return more && n < SNIFF_BYTES ? 0 : -1;
}

/* 400 and close; what the client sent is read first, so that closing
 * does not reset the connection before it reads the answer. */
static void reject_conn(struct cnai_server *s, int fd)
{
	char sink[4096];
	int i;

	for (i = 0; i < 16 && recv(fd, sink, sizeof(sink), 0) > 0; i++)
		;
	if (send(fd, request_line_error, sizeof(request_line_error) - 1,
		 MSG_NOSIGNAL) > 0)
		shutdown(fd, SHUT_WR);
	close(fd);
	cnai_metrics_rejected(s->mx, CNAI_METRICS_REJECT_REQUEST_LINE);
	cnai_metrics_request(s->mx, "", "request_line", 400, 0);
}

/* Looks at p's first bytes: 1 when p is done with (handed over or
 * closed), 0 to wait for more. */
static int examine(struct cnai_server *s, struct pending_conn *p, int hup,
		   int epfd)
{
	unsigned char b[SNIFF_BYTES];
	ssize_t n = recv(p->fd, b, sizeof(b), MSG_PEEK);
	int verdict;

	if (n < 0 && (errno == EAGAIN || errno == EINTR) && !hup)
		return 0;
	verdict = n <= 0 ? -2 : sniff(b, (size_t)n, !hup);
	if (!verdict)
		return 0;
	/* out of our set first: once handed over, the descriptor is
	 * libmicrohttpd's, and may be closed and its number reused */
	epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
	if (verdict == -2)
		close(p->fd);
	else if (verdict < 0)
		reject_conn(s, p->fd);
	else /* libmicrohttpd owns (and closes) the socket from here on */
		MHD_add_connection(s->d, p->fd,
				   (const struct sockaddr *)&p->addr,
				   p->addrlen);
	return 1;
}

/* Forgets list[i] (its descriptor closed or handed over already). */
static void drop(struct pending_conn **list, size_t *n, size_t i)
{
	free(list[i]);
	list[i] = list[--*n];
}

static void accept_all(struct cnai_server *s, int epfd,
		       struct pending_conn **list, size_t *n)
{
	struct pending_conn *p;
	struct epoll_event ev;
	int fd;

	for (;;) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);

		fd = accept4(s->lfd, (struct sockaddr *)&addr, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (*n == MAX_PENDING || !(p = calloc(1, sizeof(*p)))) {
			close(fd);
			continue;
		}
		p->fd = fd;
		p->addr = addr;
		p->addrlen = len;
		clock_gettime(CLOCK_MONOTONIC, &p->since);
		/* edge-triggered: peeking leaves the bytes readable, so
		 * wake again only when more arrive */
		ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = p;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(p);
			continue;
		}
		list[(*n)++] = p;
	}
}

static void *acceptor(void *cls)
{
	struct cnai_server *s = cls;
	struct pending_conn **list = calloc(MAX_PENDING, sizeof(*list));
	struct epoll_event ev, events[64];
	size_t n = 0, i;
	int epfd = epoll_create1(EPOLL_CLOEXEC), k, got, stop = 0;

	if (!list || epfd < 0)
		goto cleanup;
	ev.events = EPOLLIN;
	ev.data.ptr = &s->lfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, s->lfd, &ev);
	ev.data.ptr = &s->stopfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, s->stopfd, &ev);
	while (!stop) {
		got = epoll_wait(epfd, events, 64, 250);
		for (k = 0; k < got; k++) {
			struct pending_conn *p = events[k].data.ptr;

			if (events[k].data.ptr == &s->stopfd) {
				stop = 1;
			} else if (events[k].data.ptr == &s->lfd) {
				accept_all(s, epfd, list, &n);
			} else {
				for (i = 0; i < n && list[i] != p; i++)
					;
				if (i < n &&
				    examine(s, p, !!(events[k].events &
						     (EPOLLRDHUP | EPOLLHUP |
						      EPOLLERR)), epfd))
					drop(list, &n, i);
			}
		}
		/* the idle timeout, as libmicrohttpd's for its connections */
		for (i = 0; i < n;)
			if (since(&list[i]->since) > s->o.timeout_s) {
				close(list[i]->fd);
				drop(list, &n, i);
			} else {
				i++;
			}
	}
cleanup:
	for (i = 0; i < n; i++) {
		close(list[i]->fd);
		free(list[i]);
	}
	free(list);
	if (epfd >= 0)
		close(epfd);
	return NULL;
}

/* The listening socket for host:port; CNAI_ERROR (message set) if not. */
static int listen_on(int *out, const struct sockaddr_in *addr,
		     const struct cnai_server_opts *o)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
	    one = 1;

	*out = -1;
	if (fd < 0)
		return cnai_error_set_errno(CNAI_ERROR, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 ||
	    listen(fd, 1024) < 0) {
		close(fd);
		return cnai_error_set(CNAI_ERROR, "cannot listen on %s:%d "
				      "(port in use, or not allowed)", o->host,
				      o->port);
	}
	*out = fd;
	return 0;
}

int cnai_server_start(struct cnai_server **out,
		      struct cnai_serve_model *models, size_t nmodels,
		      struct cnai_metrics *metrics,
		      const struct cnai_server_opts *o)
{
	struct cnai_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in addr, any;
	socklen_t alen = sizeof(addr);
	MHD_socket mfd;
	int err;

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
	if (!s->o.max_inflight)
		s->o.max_inflight = SIZE_MAX;
	if (s->o.timeout_s <= 0)
		s->o.timeout_s = 10;
	s->stopfd = -1;
	pthread_mutex_init(&s->log_lock, NULL);
	if ((err = listen_on(&s->lfd, &addr, o)) < 0)
		goto fail;
	getsockname(s->lfd, (struct sockaddr *)&addr, &alen);
	s->port = ntohs(addr.sin_port);
	/* The models are loaded before the server starts: ready from the
	 * first request on (false again only when draining). */
	s->ready = 1;
	/* libmicrohttpd gets its connections from the acceptor (a thread
	 * pool and MHD_USE_NO_LISTEN_SOCKET do not go together in 0.9.75):
	 * it listens on a loopback port of its own only until told to stop
	 * listening, below. */
	memset(&any, 0, sizeof(any));
	any.sin_family = AF_INET;
	any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL, NULL,
		handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&any,
		MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)(o->threads > 0 ? o->threads : 2),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->o.timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
		MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
	if (!s->d) {
		err = cnai_error_set(CNAI_ERROR, "cannot start the HTTP "
				     "server");
		goto fail;
	}
	mfd = MHD_quiesce_daemon(s->d);
	if (mfd != MHD_INVALID_SOCKET)
		close(mfd);
	if ((s->stopfd = eventfd(0, EFD_CLOEXEC)) < 0 ||
	    pthread_create(&s->acceptor, NULL, acceptor, s) != 0) {
		err = cnai_error_set(CNAI_ERROR, "cannot start the acceptor");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->lfd >= 0)
		close(s->lfd);
	pthread_mutex_destroy(&s->log_lock);
	free(s);
	return err;
}

int cnai_server_port(const struct cnai_server *s)
{
	return s->port;
}

int cnai_server_stop(struct cnai_server *s, int grace_ms)
{
	uint64_t one = 1;
	int waited = 0, left;

	if (!s)
		return 0;
	/* Readiness first, so a load balancer stops sending; then no new
	 * connections (the acceptor ends and the listening socket closes,
	 * so they are refused instead of waiting in the backlog until we
	 * exit); then requests in flight get the grace period. */
	s->ready = 0;
	if (write(s->stopfd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->acceptor, NULL);
	close(s->lfd);
	while (atomic_load(&s->inflight) > 0 && waited < grace_ms) {
		usleep(10000);
		waited += 10;
	}
	left = (int)atomic_load(&s->inflight);
	MHD_stop_daemon(s->d);
	close(s->stopfd);
	pthread_mutex_destroy(&s->log_lock);
	free(s);
	return left;
}
