/*
 * The distribution-spec client. One `struct cnai_registry` per repository;
 * each thread that moves blobs has its own curl handle (a `struct conn`)
 * while the auth header is shared under a mutex, so a token fetched by one
 * worker serves all. Every request goes through request(), which adds the
 * auth header, answers a 401 by fetching a token (or setting Basic) once,
 * and retries idempotent requests on network errors and 5xx with backoff.
 * Uploads are not retried request by request (a PATCH that reached the
 * server cannot be replayed); their blob is restarted instead.
 *
 * What a registry sends is not trusted: credentials and tokens go only to
 * the origin they are for (an upload Location or a redirect elsewhere gets
 * none), redirects are followed here rather than by curl so that this
 * rule is ours, every response is read up to a cap (a blob its size, a
 * manifest 4 MiB, a token 1 MiB) and a transfer that stalls is cut.
 */
#include "registry/distribution.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util/error.h"
#include "core/util/fs.h"
#include "registry/auth.h"
#include "registry/response.h"
#include "core/util/banned.h"

#ifndef CNAI_VERSION
#define CNAI_VERSION "0"
#endif

enum {
	DEFAULT_JOBS = 4,
	MAX_JOBS = 32,
	DEFAULT_TRIES = 3,
	BACKOFF_MS = 250,
	PROGRESS_STEP = 1 << 20,
	MAX_NEST = 4,
	MAX_REDIRECTS = 5,
	/* a transfer moving under 1 byte/s for this long is cut */
	DEFAULT_STALL_SECONDS = 30,
};
#define DEFAULT_CHUNK ((uint64_t)64 << 20)

static const char accept_manifests[] =
	"Accept: " CNAI_MEDIA_OCI_MANIFEST ", " CNAI_MEDIA_OCI_INDEX ", "
	CNAI_MEDIA_DOCKER_MANIFEST ", " CNAI_MEDIA_DOCKER_LIST;

struct cnai_registry {
	struct cnai_reference ref;
	char base[300]; /* "https://host:port" */
	int verify_tls;
	int push;
	struct cnai_registry_opts opts;
	int tries;
	long stall; /* seconds; CURLOPT_LOW_SPEED_TIME */
	uint64_t chunk;
	pthread_mutex_t mu;
	struct cnai_credentials creds;
	int creds_state; /* 0 not looked, 1 found, -1 none */
	char *auth;      /* "Authorization: ..." or NULL; under mu */
	CURL *curl;      /* the opening thread's handle */
};

struct conn {
	struct cnai_registry *r;
	CURL *h;
	int retryable; /* the last failure may pass on a new try */
};

/*
 * A range of a file sent as a request body, hashed as it goes: bytes
 * below *hashed (sent again after a rewind) are not hashed twice, so the
 * hash covers the file in order whatever curl re-reads.
 */
struct upload_src {
	int fd;
	const char *path;
	uint64_t base, len, pos;
	struct cnai_sha256 *hash;
	uint64_t *hashed;
	int err; /* 1 short file, 2 read error, 3 hash error */
	/* progress: bytes handed to curl, reported every PROGRESS_STEP */
	struct cnai_registry *r;
	const char *digest;
	uint64_t total, reported;
};

struct req {
	const char *method;
	char url[4096];
	const char *content_type;
	const char *accept;
	const char *what; /* names the response when it is too large */
	char content_range[64];
	const unsigned char *body;
	size_t body_len, body_pos;
	struct upload_src *src; /* instead of body: bytes of a file */
	int follow;
	/* response */
	char at[4096]; /* the URL that answered (url, or a redirect's) */
	long status;
	int too_large; /* the response passed resp.limit */
	struct cnai_buf resp;
	int sink_fd;
	struct cnai_sha256 *sink_hash;
	uint64_t sink_got, sink_max, sink_reported;
	int sink_err;
	const char *sink_digest; /* for progress */
	char location[4096];
	char ctype[160];
	char dcd[CNAI_DIGEST_LEN];
	char www[1024];
	char link[2048];
	uint64_t clen;
	int have_clen;
	char curl_err[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int oom(void)
{
	return cnai_error_set(CNAI_ERROR, "out of memory");
}

static void req_init(struct req *q, const char *method)
{
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->sink_fd = -1;
	cnai_buf_init(&q->resp);
	q->resp.limit = CNAI_OCI_MANIFEST_LIMIT;
}

static void req_release(struct req *q)
{
	cnai_buf_release(&q->resp);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- curl callbacks ---- */

static size_t header_cb(char *data, size_t size, size_t n, void *ctx)
{
	struct req *q = ctx;
	size_t len = size * n, nlen, vlen;
	const char *colon, *v;
	char *dst = NULL;
	size_t cap = 0;

	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		/* a new response (after a redirect or a 100): forget */
		q->location[0] = q->ctype[0] = q->dcd[0] = q->www[0] = '\0';
		q->link[0] = '\0';
		q->have_clen = 0;
		return len;
	}
	colon = memchr(data, ':', len);
	if (!colon)
		return len;
	nlen = (size_t)(colon - data);
	v = colon + 1;
	while (v < data + len && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(data + len - v);
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
			v[vlen - 1] == ' '))
		vlen--;
#define IS(name) (nlen == sizeof(name) - 1 && !strncasecmp(data, name, nlen))
	if (IS("Location"))
		dst = q->location, cap = sizeof(q->location);
	else if (IS("Content-Type"))
		dst = q->ctype, cap = sizeof(q->ctype);
	else if (IS("Docker-Content-Digest"))
		dst = q->dcd, cap = sizeof(q->dcd);
	else if (IS("WWW-Authenticate"))
		dst = q->www, cap = sizeof(q->www);
	else if (IS("Link"))
		dst = q->link, cap = sizeof(q->link);
	else if (IS("Content-Length")) {
		char tmp[32];

		if (vlen < sizeof(tmp)) {
			memcpy(tmp, v, vlen);
			tmp[vlen] = '\0';
			q->clen = strtoull(tmp, NULL, 10);
			q->have_clen = 1;
		}
	}
#undef IS
	if (dst) {
		if (vlen >= cap)
			vlen = cap - 1;
		memcpy(dst, v, vlen);
		dst[vlen] = '\0';
	}
	return len;
}

static size_t write_cb(char *data, size_t size, size_t n, void *ctx)
{
	struct conn *c = ((void **)ctx)[0];
	struct req *q = ((void **)ctx)[1];
	size_t len = size * n;
	long code = 0;

	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (q->sink_fd >= 0 && code >= 200 && code < 300) {
		/* never past the descriptor's size, 0 included */
		if (q->sink_got + len > q->sink_max ||
		    (q->have_clen && q->clen > q->sink_max)) {
			q->sink_err = 1;
			return 0;
		}
		if (cnai_sha256_update(q->sink_hash, data, len) < 0 ||
		    cnai_fs_write_all(q->sink_fd, data, len) < 0) {
			q->sink_err = 2;
			return 0;
		}
		q->sink_got += len;
		if (c->r->opts.progress &&
		    q->sink_got - q->sink_reported >= PROGRESS_STEP) {
			q->sink_reported = q->sink_got;
			c->r->opts.progress(c->r->opts.progress_ctx,
					    q->sink_digest, q->sink_got,
					    q->sink_max);
		}
		return len;
	}
	if (q->resp.len + len > q->resp.limit) {
		q->too_large = 1;
		return 0;
	}
	if (cnai_buf_add(&q->resp, data, len) < 0)
		return 0;
	return len;
}

static size_t file_read_cb(char *buf, size_t size, size_t n,
			   struct upload_src *u)
{
	size_t want = size * n;
	uint64_t off;
	ssize_t got;

	if (want > u->len - u->pos)
		want = (size_t)(u->len - u->pos);
	if (!want)
		return 0;
	do
		got = pread(u->fd, buf, want, (off_t)(u->base + u->pos));
	while (got < 0 && errno == EINTR);
	if (got <= 0) {
		u->err = got < 0 ? 2 : 1;
		return CURL_READFUNC_ABORT;
	}
	off = u->base + u->pos;
	if (off + (uint64_t)got > *u->hashed) {
		uint64_t skip = *u->hashed > off ? *u->hashed - off : 0;

		if (cnai_sha256_update(u->hash, buf + skip,
				       (size_t)((uint64_t)got - skip)) < 0) {
			u->err = 3;
			return CURL_READFUNC_ABORT;
		}
		*u->hashed = off + (uint64_t)got;
	}
	u->pos += (uint64_t)got;
	if (u->r && u->r->opts.progress &&
	    off + (uint64_t)got >= u->reported + PROGRESS_STEP) {
		u->reported = off + (uint64_t)got;
		u->r->opts.progress(u->r->opts.progress_ctx, u->digest,
				    u->reported, u->total);
	}
	return (size_t)got;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *ctx)
{
	struct req *q = ctx;
	size_t want = size * n, left = q->body_len - q->body_pos;

	if (q->src)
		return file_read_cb(buf, size, n, q->src);

	if (want > left)
		want = left;
	memcpy(buf, q->body + q->body_pos, want);
	q->body_pos += want;
	return want;
}

/* Rewinds a request's response side before another try. */
static int req_rewind(struct req *q)
{
	cnai_buf_reset(&q->resp);
	q->resp.oom = 0;
	q->too_large = 0;
	q->body_pos = 0;
	if (q->src)
		q->src->pos = 0;
	q->status = 0;
	q->sink_err = 0;
	if (q->sink_fd >= 0) {
		if (ftruncate(q->sink_fd, 0) < 0 ||
		    lseek(q->sink_fd, 0, SEEK_SET) < 0)
			return cnai_error_set_errno(CNAI_ERROR, "rewind");
		cnai_sha256_release(q->sink_hash);
		q->sink_got = q->sink_reported = 0;
		return cnai_sha256_init(q->sink_hash);
	}
	return 0;
}

/* ---- one HTTP exchange ---- */

/*
 * Adds a header line unless it has a control character: values come from
 * registries (tokens, media types) and a CR LF would start a header of
 * theirs. 0, or -1 (nothing added).
 */
static int add_header(struct curl_slist **hs, const char *line)
{
	struct curl_slist *n;
	const char *p;

	for (p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	if (!(n = curl_slist_append(*hs, line)))
		return -1;
	*hs = n;
	return 0;
}

/* One request to q->at, redirects not followed. */
static CURLcode perform(struct conn *c, struct req *q, const char *auth)
{
	struct cnai_registry *r = c->r;
	struct curl_slist *hs = NULL;
	void *wctx[2] = { c, q };
	char line[256];
	CURLcode rc;
	CURL *h = c->h;
	int bad = 0;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, q->at);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cnai/" CNAI_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, r->stall);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->curl_err);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r->verify_tls ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r->verify_tls ? 2L : 0L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, q);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)wctx);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	q->curl_err[0] = '\0';
	if (auth)
		bad |= add_header(&hs, auth);
	if (q->accept)
		bad |= add_header(&hs, q->accept);
	if (q->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s",
			 q->content_type);
		bad |= add_header(&hs, line);
	}
	if (q->content_range[0]) {
		snprintf(line, sizeof(line), "Content-Range: %s",
			 q->content_range);
		bad |= add_header(&hs, line);
	}
	bad |= add_header(&hs, "Expect:");
	if (bad) {
		curl_slist_free_all(hs);
		snprintf(q->curl_err, sizeof(q->curl_err), "a header has "
			 "control characters");
		return CURLE_BAD_FUNCTION_ARGUMENT;
	}
	if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(q->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				 q->body ? (const char *)q->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)q->body_len);
	} else if (!strcmp(q->method, "PUT") || !strcmp(q->method, "PATCH")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, q);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(q->src ? q->src->len :
						       q->body_len));
		if (!strcmp(q->method, "PATCH"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
	} else if (strcmp(q->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
	curl_slist_free_all(hs);
	return rc;
}

static int is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

/*
 * q->url, and the redirects of a `follow` request (GET and HEAD any, a
 * POST 307 and 308, which keep the method): `auth` goes only to URLs of
 * `origin`'s origin (registries redirect blob downloads to object
 * storage, which must not see the registry's credentials). q->at ends as
 * the URL that answered.
 */
static CURLcode exchange(struct conn *c, struct req *q, const char *auth,
			 const char *origin)
{
	char next[sizeof(q->at)];
	CURLcode rc;
	int hops;

	memcpy(q->at, q->url, sizeof(q->at));
	for (hops = 0;; hops++) {
		int mine = auth && cnai_registry_origin_same(q->at, origin);

		rc = perform(c, q, mine ? auth : NULL);
		if (rc != CURLE_OK || !q->follow || !is_redirect(q->status) ||
		    !q->location[0])
			return rc;
		if (strcmp(q->method, "GET") && strcmp(q->method, "HEAD") &&
		    q->status != 307 && q->status != 308)
			return rc;
		if (hops == MAX_REDIRECTS) {
			snprintf(q->curl_err, sizeof(q->curl_err), "more than "
				 "%d redirects", MAX_REDIRECTS);
			return CURLE_TOO_MANY_REDIRECTS;
		}
		if (cnai_registry_url_resolve(next, sizeof(next), q->at,
					      q->location, NULL) < 0) {
			snprintf(q->curl_err, sizeof(q->curl_err), "redirect: "
				 "%.200s", cnai_error_last()->message);
			cnai_error_clear();
			return CURLE_URL_MALFORMAT;
		}
		memcpy(q->at, next, sizeof(q->at));
		cnai_buf_reset(&q->resp);
		q->body_pos = 0;
	}
}

static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* ---- auth ---- */

static char *basic_header(const struct cnai_credentials *cr)
{
	struct cnai_buf plain = CNAI_BUF_INIT;
	size_t enc_len;
	char *out = NULL;

	cnai_buf_addf(&plain, "%s:%s", cr->username, cr->password);
	if (cnai_buf_oom(&plain) < 0)
		goto cleanup;
	enc_len = 4 * ((plain.len + 2) / 3);
	out = malloc(sizeof("Authorization: Basic ") + enc_len + 1);
	if (!out)
		goto cleanup;
	memcpy(out, "Authorization: Basic ", sizeof("Authorization: Basic "));
	EVP_EncodeBlock((unsigned char *)out +
				sizeof("Authorization: Basic ") - 1,
			(const unsigned char *)plain.buf, (int)plain.len);
cleanup:
	memset(plain.buf, 0, plain.len);
	cnai_buf_release(&plain);
	return out;
}

/* Credentials, looked up once: the options', else docker's. Under mu. */
static int get_creds(struct cnai_registry *r)
{
	int err;

	if (r->creds_state)
		return 0;
	if (r->opts.username && r->opts.password) {
		r->creds.username = strdup(r->opts.username);
		r->creds.password = strdup(r->opts.password);
		if (!r->creds.username || !r->creds.password)
			return oom();
		r->creds_state = 1;
		return 0;
	}
	err = cnai_credentials_lookup(&r->creds, r->ref.registry);
	if (err == CNAI_ENOTFOUND) {
		r->creds_state = -1;
		return 0;
	}
	if (err < 0)
		return err;
	r->creds_state = 1;
	return 0;
}

static int login_error(struct cnai_registry *r)
{
	return cnai_error_set(CNAI_ERROR, "registry '%s' requires "
			      "authentication and no credentials were found: "
			      "log in with 'docker login %s', put them in "
			      "$DOCKER_CONFIG/config.json or "
			      "~/.docker/config.json, or pass --username and "
			      "--password-stdin", r->ref.registry,
			      r->ref.registry);
}

/* "CODE: message; CODE: message" from a registry's JSON error body. */
static void error_text(struct cnai_buf *out, const struct req *q)
{
	json_t *j = json_loadb(q->resp.buf, q->resp.len, 0, NULL), *e;
	size_t i;

	json_array_foreach(json_object_get(j, "errors"), i, e) {
		const char *code = json_string_value(json_object_get(e,
								     "code"));
		const char *msg = json_string_value(json_object_get(e,
								    "message"));

		cnai_buf_addf(out, "%s%s: %s", i ? "; " : "",
			      code ? code : "ERROR", msg ? msg : "");
	}
	json_decref(j);
	if (!out->len)
		cnai_buf_addf(out, "HTTP %ld", q->status);
}

static int rejected_error(struct cnai_registry *r, const struct req *q)
{
	struct cnai_buf t = CNAI_BUF_INIT;
	int err;

	error_text(&t, q);
	err = cnai_error_set(CNAI_ERROR, "registry '%s' refused the "
			     "credentials of '%s': %s", r->ref.registry,
			     r->creds.username ? r->creds.username : "?",
			     t.buf);
	cnai_buf_release(&t);
	return err;
}

/* Appends "?name=value" or "&name=value", the value URL-escaped. */
static void add_param(struct cnai_buf *url, CURL *h, const char *name,
		      const char *value)
{
	char *esc = curl_easy_escape(h, value, 0);

	cnai_buf_addf(url, "%s%s=%s", strchr(url->buf, '?') ? "&" : "?", name,
		      esc ? esc : "");
	curl_free(esc);
}

/*
 * The token request's URL for a Bearer challenge `ch`: its realm (which
 * must be http(s)) with the service and the scopes this client needs (its
 * repository; the mount source's for a push that mounts; the challenge's
 * own when it names something else). `scope` gets the repository scope.
 */
static int token_url(struct cnai_buf *url, struct cnai_buf *scope,
		     struct conn *c, const struct cnai_auth_challenge *ch)
{
	struct cnai_registry *r = c->r;

	if (!ch->realm || !*ch->realm)
		return cnai_error_set(CNAI_ERROR, "registry '%s' asks for "
				      "Bearer authentication without a realm "
				      "(the token server's URL)",
				      r->ref.registry);
	if (strncmp(ch->realm, "https://", 8) &&
	    strncmp(ch->realm, "http://", 7))
		return cnai_error_set(CNAI_ERROR, "registry '%s': token realm "
				      "'%s' is not an http(s) URL",
				      r->ref.registry, ch->realm);
	cnai_buf_addf(scope, "repository:%s:%s", r->ref.repository,
		      r->push ? "pull,push" : "pull");
	cnai_buf_adds(url, ch->realm);
	if (ch->service)
		add_param(url, c->h, "service", ch->service);
	add_param(url, c->h, "scope", scope->buf);
	if (r->opts.mount_from && r->push) {
		struct cnai_buf s2 = CNAI_BUF_INIT;

		cnai_buf_addf(&s2, "repository:%s:pull", r->opts.mount_from);
		add_param(url, c->h, "scope", s2.buf);
		cnai_buf_release(&s2);
	}
	if (ch->scope && strcmp(ch->scope, scope->buf) &&
	    strncmp(ch->scope, "repository:", 11))
		add_param(url, c->h, "scope", ch->scope);
	return cnai_buf_oom(url);
}

/*
 * The error for a token server's answer `tq` (curl's code `rc`), or 0 when
 * it is a 200 to read the token from.
 */
static int token_answer_check(struct req *tq, CURLcode rc,
			      struct cnai_registry *r, const char *realm)
{
	struct cnai_buf t = CNAI_BUF_INIT;
	int err;

	if (rc != CURLE_OK && tq->too_large)
		return cnai_error_set(CNAI_ERROR, "token server '%s' answered "
				      "more than %u MiB", realm,
				      CNAI_REGISTRY_TOKEN_LIMIT >> 20);
	if (rc != CURLE_OK)
		return cnai_error_set(CNAI_ERROR, "token server '%s' cannot be "
				      "reached: %s", realm,
				      tq->curl_err[0] ? tq->curl_err
						      : curl_easy_strerror(rc));
	if (tq->status == 401 || tq->status == 403)
		return r->creds_state > 0 ? rejected_error(r, tq)
					  : login_error(r);
	if (tq->status != 200) {
		error_text(&t, tq);
		err = cnai_error_set(CNAI_ERROR, "token server '%s': %s",
				     realm, t.buf);
		cnai_buf_release(&t);
		return err;
	}
	return 0;
}

/*
 * Answers a 401: Basic sets the header from the credentials; Bearer gets
 * a token for our scopes from the challenge's realm.
 */
static int authenticate(struct conn *c, const char *www)
{
	struct cnai_registry *r = c->r;
	struct cnai_auth_challenge ch;
	struct cnai_buf url = CNAI_BUF_INIT, scope = CNAI_BUF_INIT;
	struct cnai_buf form = CNAI_BUF_INIT;
	struct req tq;
	char *tok = NULL, *hdr = NULL;
	CURLcode rc;
	int err;

	req_init(&tq, "GET");
	tq.resp.limit = CNAI_REGISTRY_TOKEN_LIMIT;
	if ((err = cnai_auth_challenge_parse(&ch, www)) < 0)
		goto done;
	pthread_mutex_lock(&r->mu);
	err = get_creds(r);
	pthread_mutex_unlock(&r->mu);
	if (err < 0)
		goto done;
	if (!strcmp(ch.scheme, "basic")) {
		if (r->creds_state < 0) {
			err = login_error(r);
			goto done;
		}
		if (!(hdr = basic_header(&r->creds))) {
			err = oom();
			goto done;
		}
		goto set;
	}
	if (strcmp(ch.scheme, "bearer")) {
		err = cnai_error_set(CNAI_ERROR, "registry '%s' asks for "
				     "unsupported authentication '%s'",
				     r->ref.registry, ch.scheme);
		goto done;
	}
	if ((err = token_url(&url, &scope, c, &ch)) < 0)
		goto done;
	if (url.len >= sizeof(tq.url)) {
		err = cnai_error_set(CNAI_ERROR, "token URL too long");
		goto done;
	}
	memcpy(tq.url, url.buf, url.len + 1);
	tq.follow = 1;
	if (r->creds_state > 0 && !strcmp(r->creds.username, "<token>")) {
		/* an identity token: OAuth2 refresh_token grant */
		char *e1 = curl_easy_escape(c->h, r->creds.password, 0);
		char *e2 = curl_easy_escape(c->h, ch.service ? ch.service : "",
					    0);
		char *e3 = curl_easy_escape(c->h, scope.buf, 0);

		cnai_buf_addf(&form, "grant_type=refresh_token&client_id=cnai"
			      "&refresh_token=%s&service=%s&scope=%s",
			      e1 ? e1 : "", e2 ? e2 : "", e3 ? e3 : "");
		curl_free(e1);
		curl_free(e2);
		curl_free(e3);
		tq.method = "POST";
		tq.body = (const unsigned char *)form.buf;
		tq.body_len = form.len;
		tq.content_type = "application/x-www-form-urlencoded";
		memcpy(tq.url, ch.realm, strlen(ch.realm) + 1);
		rc = exchange(c, &tq, NULL, NULL);
	} else {
		/* the registry named the realm: its origin gets them */
		char *basic = r->creds_state > 0 ? basic_header(&r->creds)
						 : NULL;

		rc = exchange(c, &tq, basic, tq.url);
		if (basic)
			memset(basic, 0, strlen(basic));
		free(basic);
	}
	if ((err = token_answer_check(&tq, rc, r, ch.realm)) < 0)
		goto done;
	if ((err = cnai_registry_token_parse(&tok, tq.resp.buf, tq.resp.len,
					     ch.realm)) < 0)
		goto done;
	if (!(hdr = malloc(strlen(tok) + sizeof("Authorization: Bearer ")))) {
		err = oom();
		goto done;
	}
	snprintf(hdr, strlen(tok) + sizeof("Authorization: Bearer "),
		 "Authorization: Bearer %s", tok);
set:
	pthread_mutex_lock(&r->mu);
	free(r->auth);
	r->auth = hdr;
	hdr = NULL;
	pthread_mutex_unlock(&r->mu);
	err = 0;
done:
	if (tok)
		memset(tok, 0, strlen(tok));
	free(tok);
	if (hdr)
		memset(hdr, 0, strlen(hdr));
	free(hdr);
	cnai_auth_challenge_release(&ch);
	cnai_buf_release(&url);
	cnai_buf_release(&scope);
	if (form.len)
		memset(form.buf, 0, form.len);
	cnai_buf_release(&form);
	req_release(&tq);
	return err;
}

static char *auth_copy(struct cnai_registry *r)
{
	char *a;

	pthread_mutex_lock(&r->mu);
	a = r->auth ? strdup(r->auth) : NULL;
	pthread_mutex_unlock(&r->mu);
	return a;
}

/* The error for a response over its cap: q->what names it. */
static int too_large_error(const struct cnai_registry *r, const struct req *q)
{
	if (q->what)
		return cnai_error_set(CNAI_EINVALID, "%s is over %zu MiB",
				      q->what, q->resp.limit >> 20);
	return cnai_error_set(CNAI_EINVALID, "registry '%s' answered more "
			      "than %zu MiB", r->ref.registry,
			      q->resp.limit >> 20);
}

/*
 * One request with auth and retries. `idempotent`: retried on network
 * errors and 5xx. Returns 0 with q->status set (any HTTP status), or an
 * error for a network failure or an auth failure (message set). A 401
 * from another origin than the registry's (an upload Location, a
 * redirect) is returned as it is: it gets no credentials.
 */
static int request(struct conn *c, struct req *q, int idempotent)
{
	struct cnai_registry *r = c->r;
	int attempt = 0, authed = 0, err, ours;

	c->retryable = 0;
	for (;;) {
		char *auth = auth_copy(r);
		CURLcode rc;

		if (attempt && (err = req_rewind(q)) < 0) {
			free(auth);
			return err;
		}
		rc = exchange(c, q, auth, r->base);
		if (auth)
			memset(auth, 0, strlen(auth));
		free(auth);
		attempt++;
		if (rc != CURLE_OK) {
			if (q->sink_err == 1)
				return cnai_error_set(CNAI_ECHECK, "blob '%s' "
						      "from '%s/%s' is larger "
						      "than its descriptor's "
						      "%llu bytes",
						      q->sink_digest,
						      r->ref.registry,
						      r->ref.repository,
						      (unsigned long long)
							      q->sink_max);
			if (q->too_large)
				return too_large_error(r, q);
			if (q->sink_err == 2)
				return CNAI_ERROR; /* set by the sink */
			if (q->src && q->src->err == 1)
				return cnai_error_set(CNAI_ECHECK, "blob '%s' is "
						      "shorter than its "
						      "descriptor says",
						      q->src->path);
			if (q->src && q->src->err == 2)
				return cnai_error_set_errno(CNAI_ERROR,
							    "cannot read '%s'",
							    q->src->path);
			if (q->src && q->src->err == 3)
				return CNAI_ERROR;
			if (retryable_curl(rc) && idempotent &&
			    attempt < r->tries) {
				sleep_ms(BACKOFF_MS << (attempt - 1));
				continue;
			}
			c->retryable = retryable_curl(rc);
			return cnai_error_set(CNAI_ERROR, "registry '%s' "
					      "cannot be reached: %s",
					      r->ref.registry,
					      q->curl_err[0] ? q->curl_err :
					      curl_easy_strerror(rc));
		}
		ours = cnai_registry_origin_same(q->at, r->base);
		if (q->status == 401 && ours && !authed && q->www[0]) {
			authed = 1;
			if ((err = authenticate(c, q->www)) < 0)
				return err;
			attempt--; /* not a failure */
			if ((err = req_rewind(q)) < 0)
				return err;
			continue;
		}
		if (q->status == 401 && ours) {
			pthread_mutex_lock(&r->mu);
			err = get_creds(r);
			pthread_mutex_unlock(&r->mu);
			if (err < 0)
				return err;
			return r->creds_state > 0 ? rejected_error(r, q) :
						    login_error(r);
		}
		if (q->status >= 500 && idempotent && attempt < r->tries) {
			sleep_ms(BACKOFF_MS << (attempt - 1));
			continue;
		}
		c->retryable = q->status >= 500 || q->status == 429;
		return 0;
	}
}

static int http_error(struct req *q, const char *fmt, ...)
	CNAI_PRINTF(2, 3);

/* "<what>: CODE: message" for an unexpected status. */
static int http_error(struct req *q, const char *fmt, ...)
{
	struct cnai_buf what = CNAI_BUF_INIT, t = CNAI_BUF_INIT;
	va_list ap;
	int err;

	va_start(ap, fmt);
	cnai_buf_vaddf(&what, fmt, ap);
	va_end(ap);
	error_text(&t, q);
	err = cnai_error_set(q->status == 404 ? CNAI_ENOTFOUND : CNAI_ERROR,
			     "%s: %s", what.buf, t.buf);
	cnai_buf_release(&what);
	cnai_buf_release(&t);
	return err;
}

static int set_url(struct req *q, const struct cnai_registry *r,
		   const char *fmt, ...) CNAI_PRINTF(3, 4);

static int set_url(struct req *q, const struct cnai_registry *r,
		   const char *fmt, ...)
{
	size_t n = strlen(r->base);
	va_list ap;
	int w;

	memcpy(q->url, r->base, n + 1);
	va_start(ap, fmt);
	w = vsnprintf(q->url + n, sizeof(q->url) - n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof(q->url) - n)
		return cnai_error_set(CNAI_EINVALID, "URL too long");
	return 0;
}

/*
 * An upload Location (or a tags page's Link), resolved against the
 * registry's base unless absolute already, with `extra` query appended.
 */
static int set_location(struct req *q, const struct cnai_registry *r,
			const char *loc, const char *extra)
{
	if (!loc[0])
		return cnai_error_set(CNAI_ERROR, "registry '%s' gave no "
				      "upload location", r->ref.registry);
	return cnai_registry_url_resolve(q->url, sizeof(q->url), r->base, loc,
					 extra);
}

/* The Location `q` answered with, made absolute against the URL that
 * answered (RFC 3986), into `loc`. */
static int keep_location(char *loc, size_t cap, const struct req *q,
			 const struct cnai_registry *r)
{
	if (!q->location[0])
		return cnai_error_set(CNAI_ERROR, "registry '%s' gave no "
				      "upload location", r->ref.registry);
	return cnai_registry_url_resolve(loc, cap, q->at, q->location, NULL);
}

/* ---- open ---- */

static int ping(struct conn *c)
{
	struct req q;
	int err;

	req_init(&q, "GET");
	if ((err = set_url(&q, c->r, "/v2/")) < 0)
		goto cleanup;
	q.follow = 1;
	if ((err = request(c, &q, 1)) < 0)
		goto cleanup;
	if (q.status != 200 && q.status != 404)
		err = http_error(&q, "registry '%s' (%s/v2/)",
				 c->r->ref.registry, c->r->base);
cleanup:
	req_release(&q);
	return err;
}

/*
 * How long a transfer may move less than a byte a second before it is cut
 * (and retried): $CNAI_REGISTRY_STALL_TIMEOUT, else 30 s. A registry that
 * sends less than the Content-Length it announced would otherwise hold a
 * pull for as long as it keeps the connection.
 */
static int stall_seconds(long *out)
{
	const char *s = getenv("CNAI_REGISTRY_STALL_TIMEOUT");
	char *end;
	long v;

	*out = DEFAULT_STALL_SECONDS;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 86400)
		return cnai_error_set(CNAI_EUSAGE, "CNAI_REGISTRY_STALL_"
				      "TIMEOUT '%s': not a number of seconds "
				      "from 1 to 86400", s);
	*out = v;
	return 0;
}

int cnai_registry_open(struct cnai_registry **out,
		       const struct cnai_reference *ref,
		       const struct cnai_registry_opts *opts, int push)
{
	static const struct cnai_registry_opts defaults =
		CNAI_REGISTRY_OPTS_INIT;
	struct cnai_registry *r;
	struct conn c;
	long stall;
	int err, loop;

	if (!opts)
		opts = &defaults;
	if ((err = stall_seconds(&stall)) < 0)
		return err;
	if (opts->username && opts->password &&
	    !cnai_credentials_valid(opts->username, opts->password))
		return cnai_error_set(CNAI_EINVALID, "the credentials given "
				      "for '%s' have control characters",
				      ref->registry);
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK)
		return cnai_error_set(CNAI_ERROR, "cannot start libcurl: %s",
				      curl_easy_strerror(curl_init_rc));
	if (!(r = calloc(1, sizeof(*r))))
		return oom();
	pthread_mutex_init(&r->mu, NULL);
	r->ref = *ref;
	r->opts = *opts;
	r->push = push;
	r->tries = opts->retries > 0 ? opts->retries : DEFAULT_TRIES;
	r->chunk = opts->chunk_size ? opts->chunk_size : DEFAULT_CHUNK;
	r->stall = stall;
	if (!(r->curl = curl_easy_init())) {
		cnai_registry_free(r);
		return oom();
	}
	loop = cnai_reference_is_loopback(ref->registry);
	r->verify_tls = !opts->insecure;
	snprintf(r->base, sizeof(r->base), "%s://%s",
		 loop ? "http" : "https", cnai_reference_api_host(ref));
	c.r = r;
	c.h = r->curl;
	err = ping(&c);
	if (err < 0 && opts->insecure && !loop) {
		/* an insecure registry may speak plain HTTP */
		cnai_error_clear();
		snprintf(r->base, sizeof(r->base), "http://%s",
			 cnai_reference_api_host(ref));
		err = ping(&c);
	}
	if (err < 0) {
		cnai_registry_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void cnai_registry_free(struct cnai_registry *r)
{
	if (!r)
		return;
	if (r->curl)
		curl_easy_cleanup(r->curl);
	cnai_credentials_release(&r->creds);
	if (r->auth)
		memset(r->auth, 0, strlen(r->auth));
	free(r->auth);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* ---- blobs ---- */

static int blob_exists(struct conn *c, const char *digest, uint64_t *size)
{
	struct req q;
	int err;

	req_init(&q, "HEAD");
	q.follow = 1;
	if ((err = set_url(&q, c->r, "/v2/%s/blobs/%s", c->r->ref.repository,
			   digest)) < 0 ||
	    (err = request(c, &q, 1)) < 0)
		goto cleanup;
	if (q.status == 200) {
		if (size)
			*size = q.clen;
		err = 1;
	} else if (q.status == 404) {
		err = 0;
	} else {
		err = http_error(&q, "checking blob '%s' in '%s/%s'", digest,
				 c->r->ref.registry, c->r->ref.repository);
	}
cleanup:
	req_release(&q);
	return err;
}

int cnai_registry_blob_exists(struct cnai_registry *r, const char *digest,
			      uint64_t *size_out)
{
	struct conn c = { r, r->curl, 0 };

	return blob_exists(&c, digest, size_out);
}

static void progress(struct cnai_registry *r, const char *digest,
		     uint64_t done, uint64_t total)
{
	if (r->opts.progress)
		r->opts.progress(r->opts.progress_ctx, digest, done, total);
}

static void cancel_upload(struct conn *c, const char *loc)
{
	struct req q;

	req_init(&q, "DELETE");
	if (set_location(&q, c->r, loc, NULL) == 0)
		request(c, &q, 0); /* best effort */
	cnai_error_clear();
	req_release(&q);
}

/*
 * A chunked upload's PATCH requests, in order from `loc` (each answer may
 * name the next URL, kept in `loc`), reading `src` chunk by chunk; `q` is
 * the caller's request, reused for each and released by the caller.
 */
static int upload_chunks(struct conn *c, struct req *q,
			 struct upload_src *src, char *loc, size_t loc_size,
			 const struct cnai_oci_desc *d)
{
	struct cnai_registry *r = c->r;
	int err;

	while (src->base < d->size) {
		src->len = d->size - src->base < r->chunk ? d->size - src->base
							  : r->chunk;
		src->pos = 0;
		req_release(q);
		req_init(q, "PATCH");
		if ((err = set_location(q, r, loc, NULL)) < 0)
			return err;
		q->src = src;
		q->content_type = "application/octet-stream";
		snprintf(q->content_range, sizeof(q->content_range),
			 "%llu-%llu", (unsigned long long)src->base,
			 (unsigned long long)(src->base + src->len - 1));
		if ((err = request(c, q, 0)) < 0)
			return err;
		if (q->status != 202)
			return http_error(q, "uploading blob '%s' to '%s/%s'",
					  d->digest, r->ref.registry,
					  r->ref.repository);
		if (q->location[0] &&
		    (err = keep_location(loc, loc_size, q, r)) < 0)
			return err;
		src->base += src->len;
		progress(r, d->digest, src->base, d->size);
	}
	return 0;
}

static int blob_push_once(struct conn *c, const char *dir,
			  const struct cnai_oci_desc *d, const char *path)
{
	struct cnai_registry *r = c->r;
	struct cnai_sha256 h = { NULL };
	struct upload_src src;
	char loc[4096], got[CNAI_DIGEST_LEN], extra[128];
	struct req q;
	struct stat st;
	uint64_t hashed = 0;
	int fd = -1, err, chunked = d->size >= r->chunk;

	req_init(&q, "POST");
	loc[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = cnai_error_set_errno(errno == ENOENT ? CNAI_ENOTFOUND :
					   CNAI_ERROR, "cannot read blob '%s'",
					   path);
		goto cleanup;
	}
	if (fstat(fd, &st) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "stat '%s'", path);
		goto cleanup;
	}
	if ((uint64_t)st.st_size != d->size) {
		err = cnai_error_set(CNAI_ECHECK, "blob '%s' in '%s' is "
				     "corrupt: %llu bytes, its descriptor says "
				     "%llu", d->digest, dir,
				     (unsigned long long)st.st_size,
				     (unsigned long long)d->size);
		goto cleanup;
	}
	if ((err = cnai_sha256_init(&h)) < 0)
		goto cleanup;
	memset(&src, 0, sizeof(src));
	src.fd = fd;
	src.path = path;
	src.hash = &h;
	src.hashed = &hashed;
	src.r = r;
	src.digest = d->digest;
	src.total = d->size;
	progress(r, d->digest, 0, d->size);
	/* start an upload, or mount */
	if (r->opts.mount_from) {
		char *e1 = curl_easy_escape(c->h, d->digest, 0);
		char *e2 = curl_easy_escape(c->h, r->opts.mount_from, 0);

		err = set_url(&q, r, "/v2/%s/blobs/uploads/?mount=%s&from=%s",
			      r->ref.repository, e1 ? e1 : "", e2 ? e2 : "");
		curl_free(e1);
		curl_free(e2);
	} else {
		err = set_url(&q, r, "/v2/%s/blobs/uploads/",
			      r->ref.repository);
	}
	if (err < 0 || (err = request(c, &q, 0)) < 0)
		goto cleanup;
	if (q.status == 201 && r->opts.mount_from) {
		progress(r, d->digest, d->size, d->size);
		goto cleanup; /* mounted */
	}
	if (q.status != 202) {
		err = http_error(&q, "starting upload of blob '%s' to '%s/%s'",
				 d->digest, r->ref.registry, r->ref.repository);
		goto cleanup;
	}
	if ((err = keep_location(loc, sizeof(loc), &q, r)) < 0)
		goto cleanup;
	if (chunked && (err = upload_chunks(c, &q, &src, loc, sizeof(loc),
					     d)) < 0)
		goto cleanup;
	if (chunked) {
		/* all bytes are hashed: refuse before the closing PUT */
		if ((err = cnai_sha256_final(&h, got)) < 0)
			goto cleanup;
		if (strcmp(got, d->digest)) {
			cancel_upload(c, loc);
			goto corrupt;
		}
	}
	req_release(&q);
	req_init(&q, "PUT");
	snprintf(extra, sizeof(extra), "digest=%s", d->digest);
	if ((err = set_location(&q, r, loc, extra)) < 0)
		goto cleanup;
	q.content_type = "application/octet-stream";
	if (!chunked) {
		/* monolithic: the registry checks the digest as well */
		src.base = 0;
		src.len = d->size;
		q.src = &src;
	}
	if ((err = request(c, &q, 0)) < 0)
		goto cleanup;
	if (!chunked) {
		if ((err = cnai_sha256_final(&h, got)) < 0)
			goto cleanup;
		if (strcmp(got, d->digest))
			goto corrupt;
	}
	if (q.status != 201) {
		err = http_error(&q, "uploading blob '%s' to '%s/%s'",
				 d->digest, r->ref.registry, r->ref.repository);
		goto cleanup;
	}
	progress(r, d->digest, d->size, d->size);
	goto cleanup;
corrupt:
	err = cnai_error_set(CNAI_ECHECK, "blob '%s' in '%s' is corrupt: its "
			     "content hashes to '%s'", d->digest, dir, got);
cleanup:
	cnai_sha256_release(&h);
	if (fd >= 0)
		close(fd);
	req_release(&q);
	return err;
}

static int blob_push(struct conn *c, const char *dir,
		     const struct cnai_oci_desc *d)
{
	struct cnai_buf path = CNAI_BUF_INIT;
	int attempt, err;

	if ((err = blob_exists(c, d->digest, NULL)) < 0)
		return err;
	if (err == 1) {
		progress(c->r, d->digest, d->size, d->size);
		return 0;
	}
	if ((err = cnai_oci_blob_path(&path, dir, d->digest)) < 0)
		return err;
	for (attempt = 1;; attempt++) {
		err = blob_push_once(c, dir, d, path.buf);
		if (err == 0 || !c->retryable || attempt >= c->r->tries)
			break;
		cnai_error_clear();
		sleep_ms(BACKOFF_MS << (attempt - 1));
	}
	cnai_buf_release(&path);
	return err;
}

int cnai_registry_blob_push(struct cnai_registry *r, const char *dir,
			    const struct cnai_oci_desc *d)
{
	struct conn c = { r, r->curl, 0 };

	return blob_push(&c, dir, d);
}

static int blob_pull(struct conn *c, const char *dir,
		     const struct cnai_oci_desc *d)
{
	struct cnai_registry *r = c->r;
	struct cnai_oci_blob_writer w;
	struct cnai_sha256 h = { NULL };
	char got[CNAI_DIGEST_LEN];
	struct req q;
	int err;

	if (cnai_oci_blob_exists(dir, d->digest)) {
		progress(r, d->digest, d->size, d->size);
		return 0;
	}
	if ((err = cnai_oci_blob_open(&w, dir)) < 0)
		return err;
	progress(r, d->digest, 0, d->size);
	req_init(&q, "GET");
	q.follow = 1;
	q.sink_fd = w.fd;
	q.sink_hash = &h;
	q.sink_max = d->size;
	q.sink_digest = d->digest;
	if ((err = cnai_sha256_init(&h)) < 0 ||
	    (err = set_url(&q, r, "/v2/%s/blobs/%s", r->ref.repository,
			   d->digest)) < 0 ||
	    (err = request(c, &q, 1)) < 0)
		goto cleanup;
	if (q.status != 200) {
		err = http_error(&q, "fetching blob '%s' from '%s/%s'",
				 d->digest, r->ref.registry, r->ref.repository);
		goto cleanup;
	}
	if ((err = cnai_sha256_final(&h, got)) < 0)
		goto cleanup;
	if (q.sink_got != d->size || strcmp(got, d->digest)) {
		err = cnai_error_set(CNAI_ECHECK, "blob '%s' from '%s/%s' does "
				     "not match its descriptor (%llu bytes, "
				     "sha256 '%s')", d->digest,
				     r->ref.registry, r->ref.repository,
				     (unsigned long long)q.sink_got, got);
		goto cleanup;
	}
	err = cnai_oci_blob_commit(&w, d->digest);
	progress(r, d->digest, d->size, d->size);
cleanup:
	if (err < 0)
		cnai_oci_blob_abort(&w);
	cnai_sha256_release(&h);
	req_release(&q);
	return err;
}

int cnai_registry_blob_pull(struct cnai_registry *r, const char *dir,
			    const struct cnai_oci_desc *d)
{
	struct conn c = { r, r->curl, 0 };

	return blob_pull(&c, dir, d);
}

/* ---- manifests and tags ---- */

int cnai_registry_manifest_put(struct cnai_registry *r, const char *reference,
			       const char *media_type, const void *data,
			       size_t len, char digest_out[CNAI_DIGEST_LEN])
{
	struct conn c = { r, r->curl, 0 };
	char digest[CNAI_DIGEST_LEN];
	struct req q;
	int err;

	req_init(&q, "PUT");
	if ((err = cnai_sha256_buffer(digest, data, len)) < 0 ||
	    (err = set_url(&q, r, "/v2/%s/manifests/%s", r->ref.repository,
			   reference)) < 0)
		goto cleanup;
	q.body = data;
	q.body_len = len;
	q.content_type = media_type;
	if ((err = request(&c, &q, 1)) < 0)
		goto cleanup;
	if (q.status != 201 && q.status != 200) {
		err = http_error(&q, "pushing manifest '%s/%s:%s'",
				 r->ref.registry, r->ref.repository,
				 reference);
		goto cleanup;
	}
	if (digest_out)
		memcpy(digest_out, digest, CNAI_DIGEST_LEN);
cleanup:
	req_release(&q);
	return err;
}

int cnai_registry_manifest_get(struct cnai_registry *r, const char *reference,
			       struct cnai_buf *body,
			       struct cnai_oci_desc *out)
{
	struct conn c = { r, r->curl, 0 };
	struct cnai_buf what = CNAI_BUF_INIT;
	struct req q;
	int err;

	req_init(&q, "GET");
	q.accept = accept_manifests;
	q.follow = 1;
	if (cnai_buf_addf(&what, "manifest '%s/%s:%s'", r->ref.registry,
			  r->ref.repository, reference) < 0) {
		err = cnai_buf_oom(&what);
		goto cleanup;
	}
	q.what = what.buf;
	if ((err = set_url(&q, r, "/v2/%s/manifests/%s", r->ref.repository,
			   reference)) < 0)
		goto cleanup;
	if ((err = request(&c, &q, 1)) < 0)
		goto cleanup;
	if (q.status != 200) {
		err = http_error(&q, "fetching %s", what.buf);
		goto cleanup;
	}
	memset(out, 0, sizeof(*out));
	if ((err = cnai_sha256_buffer(out->digest, q.resp.buf,
				      q.resp.len)) < 0)
		goto cleanup;
	if (!strncmp(reference, "sha256:", 7) && strcmp(reference,
							out->digest)) {
		err = cnai_error_set(CNAI_ECHECK, "manifest '%s' from "
				     "'%s/%s' hashes to '%s'", reference,
				     r->ref.registry, r->ref.repository,
				     out->digest);
		goto cleanup;
	}
	if ((err = cnai_registry_manifest_media_type(
		     out->media_type, sizeof(out->media_type), q.resp.buf,
		     q.resp.len, q.ctype, what.buf)) < 0)
		goto cleanup;
	out->size = q.resp.len;
	cnai_buf_reset(body);
	if (cnai_buf_add(body, q.resp.buf, q.resp.len) < 0)
		err = cnai_buf_oom(body);
cleanup:
	cnai_buf_release(&what);
	req_release(&q);
	return err;
}

int cnai_registry_tags_list(struct cnai_registry *r, json_t **out)
{
	struct conn c = { r, r->curl, 0 };
	json_t *all = json_array(), *j = NULL, *t;
	char next[4096], target[4096];
	struct req q;
	int err = 0, pages;
	size_t i;

	if (!all)
		return oom();
	snprintf(next, sizeof(next), "/v2/%s/tags/list", r->ref.repository);
	for (pages = 0; next[0] && pages < 1000; pages++) {
		req_init(&q, "GET");
		q.follow = 1;
		if ((err = set_location(&q, r, next, NULL)) < 0 ||
		    (err = request(&c, &q, 1)) < 0)
			goto page_done;
		if (q.status != 200) {
			err = http_error(&q, "listing tags of '%s/%s'",
					 r->ref.registry, r->ref.repository);
			goto page_done;
		}
		if (!(j = json_loadb(q.resp.buf, q.resp.len, 0, NULL))) {
			err = cnai_error_set(CNAI_ERROR, "tags of '%s/%s': not "
					     "JSON", r->ref.registry,
					     r->ref.repository);
			goto page_done;
		}
		json_array_foreach(json_object_get(j, "tags"), i, t)
			if (json_is_string(t))
				json_array_append(all, t);
		json_decref(j);
		j = NULL;
		/* Link: </v2/x/tags/list?last=a&n=100>; rel="next" */
		next[0] = '\0';
		if (cnai_registry_link_next(target, sizeof(target), q.link) &&
		    (err = cnai_registry_url_resolve(next, sizeof(next), q.at,
						     target, NULL)) < 0)
			goto page_done;
page_done:
		req_release(&q);
		if (err < 0)
			break;
	}
	if (err < 0) {
		json_decref(all);
		return err;
	}
	*out = all;
	return 0;
}

/*
 * The referrers API answers 200 with an index (empty when nothing refers
 * to the digest) wherever it exists; a 404 means the registry lacks it,
 * and the caller falls back to the "sha256-<hex>" tag schema.
 */
int cnai_registry_referrers(struct cnai_registry *r, const char *digest,
			    json_t **out)
{
	struct conn c = { r, r->curl, 0 };
	json_t *j = NULL;
	struct req q;
	int err;

	*out = NULL;
	req_init(&q, "GET");
	q.accept = "Accept: " CNAI_MEDIA_OCI_INDEX;
	q.follow = 1;
	if ((err = set_url(&q, r, "/v2/%s/referrers/%s", r->ref.repository,
			   digest)) < 0 ||
	    (err = request(&c, &q, 1)) < 0)
		goto cleanup;
	if (q.status == 404) {
		err = cnai_error_set(CNAI_ENOTFOUND, "'%s' has no referrers "
				     "API", r->ref.registry);
		goto cleanup;
	}
	if (q.status != 200) {
		err = http_error(&q, "listing referrers of '%s/%s@%s'",
				 r->ref.registry, r->ref.repository, digest);
		goto cleanup;
	}
	if (q.resp.oom || !(j = json_loadb(q.resp.buf, q.resp.len, 0, NULL)) ||
	    !json_is_array(json_object_get(j, "manifests"))) {
		json_decref(j);
		err = cnai_error_set(CNAI_EINVALID, "referrers of '%s/%s@%s': "
				     "not an image index", r->ref.registry,
				     r->ref.repository, digest);
		goto cleanup;
	}
	*out = j;
cleanup:
	req_release(&q);
	return err;
}

/* ---- parallel blob transfers ---- */

typedef int (*blob_fn)(struct conn *c, const char *dir,
		       const struct cnai_oci_desc *d);

struct pool {
	struct cnai_registry *r;
	const char *dir;
	const struct cnai_oci_desc *blobs;
	size_t n, next;
	blob_fn fn;
	pthread_mutex_t mu;
	int err;
	char msg[sizeof(((struct cnai_error *)0)->message)];
};

static void pool_fail(struct pool *p, int err)
{
	const struct cnai_error *e = cnai_error_last();

	pthread_mutex_lock(&p->mu);
	if (!p->err) {
		p->err = err;
		snprintf(p->msg, sizeof(p->msg), "%s",
			 e ? e->message : "blob transfer failed");
	}
	pthread_mutex_unlock(&p->mu);
}

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	struct conn c = { p->r, NULL, 0 };

	if (!(c.h = curl_easy_init())) {
		cnai_error_set(CNAI_ERROR, "out of memory");
		pool_fail(p, CNAI_ERROR);
		return NULL;
	}
	for (;;) {
		size_t i;
		int err;

		pthread_mutex_lock(&p->mu);
		if (p->err || p->next == p->n) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if ((err = p->fn(&c, p->dir, &p->blobs[i])) < 0)
			pool_fail(p, err);
	}
	curl_easy_cleanup(c.h);
	return NULL;
}

static int run_pool(struct cnai_registry *r, const char *dir,
		    const struct cnai_oci_desc *blobs, size_t n, blob_fn fn)
{
	struct pool p;
	pthread_t th[MAX_JOBS];
	int jobs = r->opts.jobs > 0 ? r->opts.jobs : DEFAULT_JOBS, started = 0;
	int i;

	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	if ((size_t)jobs > n)
		jobs = (int)n;
	if (jobs <= 1) {
		struct conn c = { r, r->curl, 0 };
		size_t k;
		int err;

		for (k = 0; k < n; k++)
			if ((err = fn(&c, dir, &blobs[k])) < 0)
				return err;
		return 0;
	}
	memset(&p, 0, sizeof(p));
	p.r = r;
	p.dir = dir;
	p.blobs = blobs;
	p.n = n;
	p.fn = fn;
	pthread_mutex_init(&p.mu, NULL);
	for (i = 0; i < jobs; i++) {
		if (pthread_create(&th[i], NULL, pool_worker, &p) != 0)
			break;
		started++;
	}
	if (!started) {
		pthread_mutex_destroy(&p.mu);
		return cnai_error_set(CNAI_ERROR, "cannot start a thread");
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	if (p.err)
		return cnai_error_set(p.err, "%s", p.msg);
	return 0;
}

/* ---- whole images ---- */

struct desc_list {
	struct cnai_oci_desc *v;
	size_t n, alloc;
};

static int list_has(const struct desc_list *l, const char *digest)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].digest, digest))
			return 1;
	return 0;
}

static int list_add(struct desc_list *l, const struct cnai_oci_desc *d)
{
	if (list_has(l, d->digest))
		return 0;
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 16;
		struct cnai_oci_desc *nv = realloc(l->v, na * sizeof(*nv));

		if (!nv)
			return oom();
		l->v = nv;
		l->alloc = na;
	}
	l->v[l->n++] = *d;
	return 0;
}

struct push_plan {
	struct desc_list blobs, manifests;
};

static int plan_fn(const struct cnai_oci_desc *d, int is_manifest,
		   void *payload)
{
	struct push_plan *p = payload;

	return list_add(is_manifest ? &p->manifests : &p->blobs, d);
}

static int put_manifest_from(struct cnai_registry *r, const char *dir,
			     const struct cnai_oci_desc *d,
			     const char *reference)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	int err;

	if ((err = cnai_oci_blob_read(&b, dir, d->digest,
				      CNAI_OCI_MANIFEST_LIMIT)) == 0)
		err = cnai_registry_manifest_put(r, reference, d->media_type,
						 b.buf, b.len, NULL);
	cnai_buf_release(&b);
	return err;
}

int cnai_registry_push(char digest_out[CNAI_DIGEST_LEN], const char *dir,
		       const char *local_ref, const char *dest,
		       const struct cnai_registry_opts *opts)
{
	struct push_plan plan = { { NULL, 0, 0 }, { NULL, 0, 0 } };
	struct cnai_registry *r = NULL;
	struct cnai_reference ref;
	struct cnai_oci_desc root;
	size_t i;
	int err;

	if ((err = cnai_reference_parse(&ref, dest)) < 0 ||
	    (err = cnai_oci_resolve(&root, dir, local_ref)) < 0)
		return err;
	if (ref.digest[0] && strcmp(ref.digest, root.digest))
		return cnai_error_set(CNAI_EINVALID, "'%s' names digest '%s' "
				      "but '%s' is '%s'", dest, ref.digest,
				      local_ref, root.digest);
	if ((err = cnai_oci_walk(dir, &root, plan_fn, &plan)) < 0 ||
	    (err = cnai_registry_open(&r, &ref, opts, 1)) < 0)
		goto cleanup;
	/* every blob first; manifests only once all are there */
	if ((err = run_pool(r, dir, plan.blobs.v, plan.blobs.n,
			    blob_push)) < 0)
		goto cleanup;
	for (i = 0; i < plan.manifests.n; i++) {
		const struct cnai_oci_desc *d = &plan.manifests.v[i];

		if (!strcmp(d->digest, root.digest))
			continue;
		if ((err = put_manifest_from(r, dir, d, d->digest)) < 0)
			goto cleanup;
	}
	if ((err = put_manifest_from(r, dir, &root,
				     ref.tag[0] ? ref.tag : root.digest)) < 0)
		goto cleanup;
	memcpy(digest_out, root.digest, CNAI_DIGEST_LEN);
cleanup:
	cnai_registry_free(r);
	free(plan.blobs.v);
	free(plan.manifests.v);
	return err;
}

struct pull_walk {
	struct cnai_registry *r;
	const char *dir;
	const struct cnai_oci_platform *want;
	struct cnai_oci_desc *chosen;
	struct desc_list *blobs;
	int depth;
};

static int pull_manifest(struct cnai_registry *r, const char *dir,
			 const char *reference, struct cnai_oci_desc *got,
			 const struct cnai_oci_platform *want,
			 struct cnai_oci_desc *chosen,
			 struct desc_list *blobs, int depth);

/* What a manifest names: a child manifest is pulled, a blob listed. */
static int pull_ref(const struct cnai_oci_desc *d, int is_manifest,
		    void *payload)
{
	struct pull_walk *w = payload;
	struct cnai_oci_desc sub;
	int err;

	if (!is_manifest)
		return list_add(w->blobs, d);
	if ((err = pull_manifest(w->r, w->dir, d->digest, &sub, w->want,
				 w->chosen, w->blobs, w->depth + 1)) < 0)
		return err;
	if (w->want && !cnai_registry_media_is_index(d->media_type))
		*w->chosen = sub;
	return 0;
}

/*
 * Fetches manifest `d` (stored as a blob), and what it names: the blobs
 * into `blobs`, the manifests of an index recursively (only the one for
 * `want` when given; *chosen gets it).
 */
static int pull_manifest(struct cnai_registry *r, const char *dir,
			 const char *reference, struct cnai_oci_desc *got,
			 const struct cnai_oci_platform *want,
			 struct cnai_oci_desc *chosen,
			 struct desc_list *blobs, int depth)
{
	struct pull_walk w = { r, dir, want, chosen, blobs, depth };
	struct cnai_buf body = CNAI_BUF_INIT;
	char stored[CNAI_DIGEST_LEN], name[1024];
	json_t *doc = NULL;
	int err;

	if (depth > MAX_NEST)
		return cnai_error_set(CNAI_EINVALID, "manifests in '%s/%s' "
				      "nest too deep", r->ref.registry,
				      r->ref.repository);
	if ((err = cnai_registry_manifest_get(r, reference, &body, got)) < 0)
		goto cleanup;
	/* Checked before it is stored or anything it names is fetched. */
	snprintf(name, sizeof(name), "manifest '%s' from '%s/%s'",
		 got->digest, r->ref.registry, r->ref.repository);
	if ((err = cnai_oci_manifest_parse(&doc, body.buf, body.len,
					   got->media_type, name)) < 0 ||
	    (err = cnai_oci_blob_put(stored, dir, body.buf, body.len)) < 0)
		goto cleanup;
	if ((err = cnai_registry_manifest_refs(doc, got->media_type, want,
					       pull_ref, &w)) < 0)
		goto cleanup;
	if (!cnai_registry_media_is_index(got->media_type) && !want &&
	    !chosen->digest[0])
		*chosen = *got;
cleanup:
	json_decref(doc);
	cnai_buf_release(&body);
	return err;
}

int cnai_registry_pull(char digest_out[CNAI_DIGEST_LEN], const char *src,
		       const char *dir, const char *tag,
		       const struct cnai_registry_opts *opts)
{
	struct desc_list blobs = { NULL, 0, 0 };
	struct cnai_registry *r = NULL;
	struct cnai_oci_platform want;
	struct cnai_oci_desc root, chosen;
	struct cnai_reference ref;
	int err, narrowed;

	memset(&chosen, 0, sizeof(chosen));
	if ((err = cnai_reference_parse(&ref, src)) < 0)
		return err;
	if (opts && opts->platform &&
	    (err = cnai_oci_platform_parse(&want, opts->platform)) < 0)
		return err;
	if ((err = cnai_oci_layout_init(dir)) < 0 ||
	    (err = cnai_registry_open(&r, &ref, opts, 0)) < 0)
		goto cleanup;
	if ((err = pull_manifest(r, dir, cnai_reference_object(&ref), &root,
				 opts && opts->platform ? &want : NULL,
				 &chosen, &blobs, 0)) < 0)
		goto cleanup;
	narrowed = opts && opts->platform &&
		   cnai_registry_media_is_index(root.media_type);
	if (narrowed && !chosen.digest[0]) {
		err = cnai_error_set(CNAI_ENOTFOUND, "'%s' has no image for "
				     "'%s'", src, opts->platform);
		goto cleanup;
	}
	if (!narrowed)
		chosen = root;
	if ((err = run_pool(r, dir, blobs.v, blobs.n, blob_pull)) < 0)
		goto cleanup;
	if ((err = tag ? cnai_oci_tag(dir, tag, &chosen, NULL) :
			 cnai_oci_index_put(dir, &chosen)) < 0)
		goto cleanup;
	memcpy(digest_out, chosen.digest, CNAI_DIGEST_LEN);
cleanup:
	cnai_registry_free(r);
	free(blobs.v);
	return err;
}

int cnai_registry_tags(json_t **out, const char *repo,
		       const struct cnai_registry_opts *opts)
{
	struct cnai_registry *r = NULL;
	struct cnai_reference ref;
	int err;

	if ((err = cnai_reference_parse(&ref, repo)) < 0 ||
	    (err = cnai_registry_open(&r, &ref, opts, 0)) < 0)
		return err;
	err = cnai_registry_tags_list(r, out);
	cnai_registry_free(r);
	return err;
}
