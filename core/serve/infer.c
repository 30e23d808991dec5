/*
 * Request decoding and inference for the server. The encoding follows
 * core/ml's prep exactly (numeric: (x - mean) / std in float, a missing
 * value takes the training fill; categorical: one-hot over the training
 * categories, unknown = all zeros), so answers equal `cnai predict` on
 * the same rows.
 *
 * Each server thread keeps its own CPU backend (thread-local): backends
 * hold scratch state and are not shared between threads.
 */
#include "core/serve/infer.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/serve/json.h"
#include "core/serve/request.h"
#include "core/util/error.h"
#include "gpu/backend.h"
#include "core/util/banned.h"

/*
 * Each server thread keeps one single-threaded CPU backend for its whole
 * life; a thread-specific key closes it when libmicrohttpd's thread ends,
 * so a drained server exits with nothing left allocated.
 */
static pthread_key_t backend_key;
static pthread_once_t backend_once = PTHREAD_ONCE_INIT;
static int backend_key_ok;

static void backend_close(void *be)
{
	((struct cnai_backend *)be)->close(be);
}

static void backend_key_init(void)
{
	backend_key_ok = pthread_key_create(&backend_key, backend_close) == 0;
}

static int backend(struct cnai_backend **out)
{
	struct cnai_backend *be;
	int err;

	*out = NULL;
	pthread_once(&backend_once, backend_key_init);
	if (!backend_key_ok)
		return cnai_error_set(CNAI_ERROR, "cannot make a thread key");
	if ((be = pthread_getspecific(backend_key))) {
		*out = be;
		return 0;
	}
	if ((err = cnai_backend_cpu_open(&be, 1)) < 0)
		return err;
	if (pthread_setspecific(backend_key, be) != 0) {
		be->close(be);
		return cnai_error_set(CNAI_ERROR, "cannot keep a backend for "
				      "this thread");
	}
	*out = be;
	return 0;
}

/* A client error: HTTP 400 with the message as {"error": ...}. */
#define bad(status, ...) (*(status) = 400, \
			  cnai_error_set(CNAI_EINVALID, __VA_ARGS__))

/* ---- batching ---------------------------------------------------------- */

struct pending {
	const float *x;
	size_t n;
	float *out;
	int done, err;
	struct pending *next;
};

struct cnai_batcher {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pending *head, *tail;
	int leader;
	long window_us;
	size_t max_rows;
};

int cnai_serve_model_batching(struct cnai_serve_model *sm, long window_us,
			      size_t max_rows)
{
	struct cnai_batcher *b;

	if (window_us <= 0)
		return 0;
	if (!(b = calloc(1, sizeof(*b))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->window_us = window_us;
	b->max_rows = max_rows ? max_rows : 256;
	sm->batcher = b;
	return 0;
}

void cnai_serve_model_release(struct cnai_serve_model *sm)
{
	if (sm->batcher) {
		pthread_mutex_destroy(&sm->batcher->lock);
		pthread_cond_destroy(&sm->batcher->cond);
		free(sm->batcher);
	}
	cnai_ml_model_free(sm->m);
	free(sm->name);
	free(sm->version);
	memset(sm, 0, sizeof(*sm));
}

static int predict_now(struct cnai_serve_model *sm, struct cnai_metrics *mx,
		       const float *x, size_t n, float *out)
{
	struct cnai_backend *be;
	int err;

	if ((err = backend(&be)) < 0)
		return err;
	if (mx)
		cnai_metrics_batch(mx, sm->name, n);
	return cnai_ml_model_predict(sm->m, be, x, n, out);
}

/*
 * The first request to arrive leads: it waits the window, takes queued
 * requests up to max_rows, runs them as one matrix product and hands each
 * its rows. Others wait for their `done`.
 */
static int predict(struct cnai_serve_model *sm, struct cnai_metrics *mx,
		   const float *x, size_t n, float *out)
{
	struct cnai_batcher *b = sm->batcher;
	struct pending me = { x, n, out, 0, 0, NULL };
	size_t width = sm->m->prep.width, npred = cnai_ml_model_npred(sm->m);

	if (!b || n >= b->max_rows)
		return predict_now(sm, mx, x, n, out);
	pthread_mutex_lock(&b->lock);
	if (b->tail)
		b->tail->next = &me;
	else
		b->head = &me;
	b->tail = &me;
	while (!me.done) {
		struct pending *take, *p, *last = NULL;
		struct timespec ts = { 0, b->window_us * 1000 };
		size_t rows = 0, off;
		float *bx, *bout;
		int err;

		if (b->leader) {
			pthread_cond_wait(&b->cond, &b->lock);
			continue;
		}
		b->leader = 1;
		pthread_mutex_unlock(&b->lock);
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&b->lock);
		take = b->head;
		for (p = take; p && (rows + p->n <= b->max_rows || !rows);
		     p = p->next) {
			rows += p->n;
			last = p;
		}
		b->head = last->next;
		if (!b->head)
			b->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&b->lock);
		bx = malloc(rows * width * sizeof(float));
		bout = malloc(rows * npred * sizeof(float));
		err = bx && bout ? 0 : cnai_error_set(CNAI_ERROR, "out of memory");
		for (p = take, off = 0; !err && p; off += p->n, p = p->next)
			memcpy(bx + off * width, p->x, p->n * width * sizeof(float));
		if (!err)
			err = predict_now(sm, mx, bx, rows, bout);
		for (p = take, off = 0; p; off += p->n, p = p->next) {
			if (!err)
				memcpy(p->out, bout + off * npred,
				       p->n * npred * sizeof(float));
			p->err = err;
		}
		free(bx);
		free(bout);
		pthread_mutex_lock(&b->lock);
		for (p = take; p; p = p->next)
			p->done = 1;
		b->leader = 0;
		pthread_cond_broadcast(&b->cond);
	}
	pthread_mutex_unlock(&b->lock);
	return me.err;
}

/* ---- decoding ---------------------------------------------------------- */

/*
 * A tensor of the request: its name, datatype and shape from the
 * skeleton's small jansson tree, its values where the body has them (the
 * span), read one by one as they are encoded. A 100 MB request is never
 * a tree of a hundred million jansson values.
 */
struct tensor {
	const char *name, *datatype;
	size_t dims[8], ndims, count;
	const struct cnai_serve_span *span;
};

static int parse_tensor(struct tensor *t, json_t *in,
			const struct cnai_serve_span *span, int *status)
{
	json_t *shape = json_object_get(in, "shape"), *d;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->name = json_string_value(json_object_get(in, "name"));
	t->datatype = json_string_value(json_object_get(in, "datatype"));
	if (!t->name || !t->datatype || !json_is_array(shape) ||
	    !json_object_get(in, "data") || !span || !span->p)
		return bad(status, "each input needs name, shape, datatype "
			   "and data");
	if (strcmp(t->datatype, "FP32") && strcmp(t->datatype, "FP64") &&
	    strcmp(t->datatype, "INT32") && strcmp(t->datatype, "INT64") &&
	    strcmp(t->datatype, "BYTES"))
		return bad(status, "input '%s': datatype '%s' is not FP32, "
			   "FP64, INT32, INT64 or BYTES", t->name, t->datatype);
	t->ndims = json_array_size(shape);
	if (t->ndims < 1 || t->ndims > 2)
		return bad(status, "input '%s': shape must be [N] or [N, F]",
			   t->name);
	t->count = 1;
	json_array_foreach(shape, i, d) {
		if (!json_is_integer(d) || json_integer_value(d) < 0 ||
		    json_integer_value(d) > CNAI_SERVE_MAX_DIM)
			return bad(status, "input '%s': bad shape%s", t->name,
				   "");
		t->dims[i] = (size_t)json_integer_value(d);
		t->count *= t->dims[i];
	}
	if (span->too_deep)
		return bad(status, "input '%s': data nested too deeply",
			   t->name);
	if (span->count != t->count) {
		char msg[128];

		snprintf(msg, sizeof(msg), "%zu values for shape of %zu",
			 span->count, t->count);
		return bad(status, "input '%s': %s", t->name, msg);
	}
	t->span = span;
	return 0;
}

/* One value as the datatype says: numbers for FP/INT, NaN refused. */
static int number(float *out, int *missing, const struct cnai_serve_value *v,
		  const struct tensor *t, int *status)
{
	*missing = 0;
	if (v->kind == CNAI_SERVE_NULL) {
		*missing = 1;
		return 0;
	}
	if (v->kind != CNAI_SERVE_INTEGER && v->kind != CNAI_SERVE_REAL)
		return bad(status, "input '%s': %s values must be numbers "
			   "(NaN is not allowed; use null for a missing value)",
			   t->name, t->datatype);
	if (t->datatype[0] == 'I' && v->kind != CNAI_SERVE_INTEGER)
		return bad(status, "input '%s': %s values must be integers",
			   t->name, t->datatype);
	if (!strcmp(t->datatype, "INT32") &&
	    (v->integer < INT32_MIN || v->integer > INT32_MAX))
		return bad(status, "input '%s': %lld is out of range for INT32",
			   t->name, v->integer);
	*out = (float)v->number;
	if (!isfinite(*out))
		return bad(status, "input '%s': value out of range for %s",
			   t->name, t->datatype);
	return 0;
}

/* A category as the body spells it: not NUL-terminated. */
struct cat_key {
	const char *s;
	size_t len;
};

/* strcmp's order (the categories are sorted by it) on a counted key. */
static int cmp_cat(const void *a, const void *b)
{
	const struct cat_key *k = a;
	const char *cat = *(char *const *)b;
	size_t n = strlen(cat);
	int d = memcmp(k->s, cat, k->len < n ? k->len : n);

	return d ? d : (k->len > n) - (k->len < n);
}

/* Encodes feature `f` of one row from a request value into `o`. */
static int encode(float *o, const struct cnai_ml_feature *f,
		  const struct cnai_serve_value *v, const struct tensor *t,
		  int *status)
{
	float x = 0;
	int missing, err;

	if (f->categorical) {
		struct cat_key key = { v->text, v->len };
		json_t *s = NULL;
		char *const *hit;

		memset(o, 0, f->ncats * sizeof(float));
		if (v->kind == CNAI_SERVE_NULL) {
			o[f->mode] = 1.0f;
			return 0;
		}
		if (v->kind != CNAI_SERVE_STRING)
			return bad(status, "feature '%s' is categorical: send "
				   "strings (datatype BYTES)", f->name);
		/* escapes: jansson decodes the token (checked already) */
		if (v->escaped &&
		    (s = json_loadb(v->text, v->len, JSON_DECODE_ANY, NULL))) {
			key.s = json_string_value(s);
			key.len = json_string_length(s);
		}
		hit = bsearch(&key, f->cats, f->ncats, sizeof(char *), cmp_cat);
		if (hit)
			o[hit - f->cats] = 1.0f;
		json_decref(s);
		return 0;
	}
	if ((err = number(&x, &missing, v, t, status)) < 0)
		return err;
	if (missing)
		x = f->fill;
	*o = (x - f->mean) / f->std;
	return 0;
}

static size_t feature_offset(const struct cnai_ml_prep *p, size_t j)
{
	size_t k, off = 0;

	for (k = 0; k < j; k++)
		off += p->f[k].categorical ? p->f[k].ncats : 1;
	return off;
}

/* The span of inputs[k] (NULL when the skeleton has none). */
static const struct cnai_serve_span *
span_of(const struct cnai_serve_skeleton *sk, size_t k)
{
	return k < sk->nspans ? &sk->spans[k] : NULL;
}

/*
 * Builds the encoded matrix from the request's inputs: either one input
 * [N, F] holding every feature in the model's order, or one input per
 * feature (by name) of shape [N] or [N, 1].
 */
static int decode_inputs(float **xout, size_t *nout, json_t *inputs,
			 const struct cnai_serve_skeleton *sk,
			 const struct cnai_ml_model *m, int *status)
{
	const struct cnai_ml_prep *p = &m->prep;
	struct cnai_serve_values it;
	struct cnai_serve_value v;
	struct tensor t;
	json_t *in;
	float *x = NULL;
	size_t n = 0, i, j, k, off, nin = json_array_size(inputs), found;
	int err = 0;

	if (!json_is_array(inputs) || !nin)
		return bad(status, "'inputs' must be a non-empty array");
	*xout = NULL;
	in = json_array_get(inputs, 0);
	if ((err = parse_tensor(&t, in, span_of(sk, 0), status)) < 0)
		goto cleanup;
	if (nin == 1 && t.ndims == 2 && p->n != 1) {
		/* one matrix, features in the model's order */
		char want[64];

		/* The name the metadata gives it: a client that sends another
		 * tensor is talking about a different model. */
		if (strcmp(t.name, "input")) {
			err = bad(status, "unknown input '%s' (send 'input' of "
				  "shape [N, %zu], or one input per feature)",
				  t.name, p->n);
			goto cleanup;
		}
		if (t.dims[1] != p->n) {
			snprintf(want, sizeof(want), "%zu", p->n);
			err = bad(status, "input '%s': the model takes %s "
				  "features per row", t.name, want);
			goto cleanup;
		}
		n = t.dims[0];
		if (!(x = calloc(n ? n * p->width : 1, sizeof(float)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		cnai_serve_values_init(&it, t.span);
		for (i = 0; i < n && !err; i++) {
			float *row = x + i * p->width;

			/* the row's columns in order: a running offset */
			for (j = 0; j < p->n && !err; j++) {
				cnai_serve_values_next(&v, &it);
				err = encode(row, &p->f[j], &v, &t, status);
				row += p->f[j].categorical ? p->f[j].ncats : 1;
			}
		}
		goto cleanup;
	}
	/* one input per feature */
	n = t.dims[0];
	if (!(x = calloc(n ? n * p->width : 1, sizeof(float)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	for (j = 0; j < p->n && !err; j++) {
		found = nin;
		json_array_foreach(inputs, k, in) {
			const char *name = json_string_value(
				json_object_get(in, "name"));

			if (name && !strcmp(name, p->f[j].name))
				found = k;
		}
		if (found == nin) {
			err = bad(status, "no input for feature '%s' (send one "
				  "input per feature, or one [N, F] input)",
				  p->f[j].name);
			break;
		}
		if ((err = parse_tensor(&t, json_array_get(inputs, found),
					span_of(sk, found), status)) < 0)
			break;
		if (t.count != n) {
			err = bad(status, "input '%s': expected %s values "
				  "(one per row)", t.name,
				  t.ndims ? "N" : "N");
			break;
		}
		off = feature_offset(p, j);
		cnai_serve_values_init(&it, t.span);
		for (i = 0; i < n && !err; i++) {
			cnai_serve_values_next(&v, &it);
			err = encode(x + i * p->width + off, &p->f[j], &v, &t,
				     status);
		}
	}
	if (!err)
		json_array_foreach(inputs, k, in) {
			const char *name = json_string_value(
				json_object_get(in, "name"));

			for (j = 0; name && j < p->n; j++)
				if (!strcmp(name, p->f[j].name))
					break;
			if (!name || j == p->n) {
				err = bad(status, "unknown input '%s' (the "
					  "model's features are its inputs)",
					  name ? name : "");
				break;
			}
		}
cleanup:
	if (err < 0) {
		free(x);
		return err;
	}
	*xout = x;
	*nout = n;
	return 0;
}

/* The class with the highest probability in each row of `pred`. */
static int argmax(const float *row, int npred)
{
	int best = 0, k;

	for (k = 1; k < npred; k++)
		if (row[k] > row[best])
			best = k;
	return best;
}

/* Appends n values as a JSON array; a NaN or infinity is a server error
 * (JSON has no such number, and a client must not get a shorter array). */
static int add_floats(struct cnai_buf *b, const float *v, size_t n)
{
	size_t i;

	cnai_buf_addch(b, '[');
	for (i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			return cnai_error_set(CNAI_ERROR, "the model's output "
					      "is NaN or infinite for this "
					      "input");
		if (i)
			cnai_buf_addch(b, ',');
		cnai_serve_json_add_float(b, v[i]);
	}
	return cnai_buf_addch(b, ']');
}

/* Appends each row's label: the classifier's answer as strings. */
static void add_labels(struct cnai_buf *b, const struct cnai_ml_model *m,
		       const float *pred, size_t n)
{
	int npred = cnai_ml_model_npred(m);
	size_t i;

	cnai_buf_addch(b, '[');
	for (i = 0; i < n; i++) {
		if (i)
			cnai_buf_addch(b, ',');
		cnai_serve_json_add_string(
			b, m->classes[argmax(pred + i * npred, npred)]);
	}
	cnai_buf_addch(b, ']');
}

/* A count in decimal, without printf's format parsing per answer. */
static void add_count(struct cnai_buf *b, size_t v)
{
	char text[24], *p = text + sizeof(text);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	cnai_buf_add(b, p, (size_t)(text + sizeof(text) - p));
}

/* {"name":NAME,"datatype":TYPE,"shape":[n(, k)],"data": */
static void add_output_head(struct cnai_buf *b, const char *name,
			    const char *type, size_t n, int k)
{
	cnai_buf_adds(b, "{\"name\":\"");
	cnai_buf_adds(b, name);
	cnai_buf_adds(b, "\",\"datatype\":\"");
	cnai_buf_adds(b, type);
	cnai_buf_adds(b, "\",\"shape\":[");
	add_count(b, n);
	if (k >= 0) {
		cnai_buf_addch(b, ',');
		add_count(b, (size_t)k);
	}
	cnai_buf_adds(b, "],\"data\":");
}

/*
 * "outputs": probabilities [n, k] and label [n] for a classifier,
 * predictions [n] otherwise; as jansson wrote them before (keys in this
 * order, floats with 9 significant digits: every float exactly, as
 * `cnai predict` prints them).
 */
static int add_outputs(struct cnai_buf *b, const struct cnai_ml_model *m,
		       const float *pred, size_t n)
{
	int npred = cnai_ml_model_npred(m), err;

	/* digits, point, exponent, comma: about 12 bytes a value */
	cnai_buf_grow(b, n * (size_t)npred * 12 + 128);
	cnai_buf_addch(b, '[');
	if (cnai_ml_model_is_classifier(m)) {
		add_output_head(b, "probabilities", "FP32", n, npred);
		if ((err = add_floats(b, pred, n * (size_t)npred)) < 0)
			return err;
		cnai_buf_adds(b, "},");
		add_output_head(b, "label", "BYTES", n, -1);
		add_labels(b, m, pred, n);
	} else {
		add_output_head(b, "predictions", "FP32", n, -1);
		if ((err = add_floats(b, pred, n)) < 0)
			return err;
	}
	cnai_buf_adds(b, "}]");
	return cnai_buf_oom(b);
}

static int run(float **pred, struct cnai_serve_model *sm,
	       struct cnai_metrics *mx, const float *x, size_t n)
{
	size_t npred = (size_t)cnai_ml_model_npred(sm->m);

	if (!(*pred = malloc((n ? n : 1) * npred * sizeof(float))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (!n)
		return 0;
	return predict(sm, mx, x, n, *pred);
}

/* The request as a jansson tree; 400 when it is not JSON. */
static int load_json(json_t **out, int *status, const char *body, size_t len)
{
	json_error_t jerr;

	if (!(*out = json_loadb(body, len, 0, &jerr))) {
		*status = 400;
		return cnai_error_set(CNAI_EINVALID, "malformed JSON at line "
				      "%d, column %d: %s", jerr.line,
				      jerr.column, jerr.text);
	}
	return 0;
}

/* Up to this size, a body that is not JSON goes to jansson for its
 * error, word for word as before; a larger one is not made a tree (its
 * numbers would take 8 times its size) and gets the scanner's. */
enum { JANSSON_ERROR_MAX = 1 << 20 };

/* The request's skeleton; 400 when it is not JSON. Release sk always. */
static int parse_request(struct cnai_serve_skeleton *sk, int *status,
			 const char *body, size_t len)
{
	json_t *req = NULL;
	int err = cnai_serve_skeleton_parse(sk, body, len);

	if (err != 1)
		return err;
	if (len <= JANSSON_ERROR_MAX &&
	    load_json(&req, status, body, len) < 0)
		return CNAI_EINVALID;
	json_decref(req);
	*status = 400;
	return cnai_error_set(CNAI_EINVALID, "malformed JSON at line %d, "
			      "column %d: %s", sk->line, sk->column, sk->text);
}

/* Any v2 request: the encoded rows and, if the request has a string
 * "id", its JSON text in id_json. */
static int decode_general(float **x, size_t *n, struct cnai_buf *id_json,
			  int *status, const struct cnai_serve_model *sm,
			  const char *body, size_t len)
{
	struct cnai_serve_skeleton sk;
	json_t *id;
	int err;

	if ((err = parse_request(&sk, status, body, len)) < 0)
		goto cleanup;
	if (!json_is_object(sk.doc))
		err = bad(status, "the request must be a JSON object");
	else if (sk.too_many_inputs)
		err = bad(status, "'inputs' holds more than %d tensors",
			  CNAI_SERVE_MAX_INPUTS);
	else
		err = decode_inputs(x, n, json_object_get(sk.doc, "inputs"),
				    &sk, sm->m, status);
	id = json_object_get(sk.doc, "id");
	if (!err && json_is_string(id))
		err = cnai_serve_json_add_string(id_json, json_string_value(id));
cleanup:
	cnai_serve_skeleton_release(&sk);
	return err;
}

/* The rows of a v2 request: the fast decoder's when it takes the
 * request, else the general one's. */
static int decode_v2(float **x, size_t *n, struct cnai_buf *id_json,
		     int *status, const struct cnai_serve_model *sm,
		     const char *body, size_t len)
{
	struct cnai_serve_request fast;
	int err = cnai_serve_request_decode(&fast, body, len, &sm->m->prep);

	if (err <= 0)
		return err < 0 ? err
			       : decode_general(x, n, id_json, status, sm,
						body, len);
	*x = fast.x;
	*n = fast.n;
	if (fast.id) { /* printable ASCII without escapes: as it was */
		cnai_buf_addch(id_json, '"');
		cnai_buf_add(id_json, fast.id, fast.idlen);
		cnai_buf_addch(id_json, '"');
	}
	return cnai_buf_oom(id_json);
}

/* {"model_name":..,"model_version":..,"outputs":[..](,"id":..)}: the
 * keys in the order jansson kept them before. */
static int respond_v2(struct cnai_buf *out, const struct cnai_serve_model *sm,
		      const float *pred, size_t n,
		      const struct cnai_buf *id_json)
{
	int err;

	cnai_buf_adds(out, "{\"model_name\":");
	cnai_serve_json_add_string(out, sm->name);
	cnai_buf_adds(out, ",\"model_version\":");
	cnai_serve_json_add_string(out, sm->version);
	cnai_buf_adds(out, ",\"outputs\":");
	if ((err = add_outputs(out, sm->m, pred, n)) < 0)
		return err;
	if (id_json->len) {
		cnai_buf_adds(out, ",\"id\":");
		cnai_buf_add(out, id_json->buf, id_json->len);
	}
	cnai_buf_addch(out, '}');
	return cnai_buf_oom(out);
}

int cnai_serve_infer_v2(struct cnai_buf *out, int *status,
			struct cnai_serve_model *sm, struct cnai_metrics *mx,
			const char *body, size_t len)
{
	struct cnai_buf id_json = CNAI_BUF_INIT;
	float *x = NULL, *pred = NULL;
	size_t n = 0;
	int err;

	*status = 500;
	if ((err = decode_v2(&x, &n, &id_json, status, sm, body, len)) < 0 ||
	    (err = run(&pred, sm, mx, x, n)) < 0 ||
	    (err = respond_v2(out, sm, pred, n, &id_json)) < 0)
		goto cleanup;
	*status = 200;
cleanup:
	cnai_buf_release(&id_json);
	free(x);
	free(pred);
	return err;
}

/* {"predictions":[..]}: labels for a classifier, else values. */
static int respond_v1(struct cnai_buf *out, const struct cnai_ml_model *m,
		      const float *pred, size_t n)
{
	int err;

	cnai_buf_adds(out, "{\"predictions\":");
	if (cnai_ml_model_is_classifier(m))
		add_labels(out, m, pred, n);
	else if ((err = add_floats(out, pred, n)) < 0)
		return err;
	cnai_buf_addch(out, '}');
	return cnai_buf_oom(out);
}

/*
 * One v1 instance into `row`: [v1, v2, ...] in feature order, or
 * {name: v}; read from the body as the v2 data are.
 */
static int encode_instance(float *row, const struct cnai_serve_span *inst,
			   const struct cnai_ml_prep *p,
			   struct cnai_serve_span *by_feature,
			   const struct tensor *t, int *status)
{
	struct cnai_serve_values it;
	struct cnai_serve_span el, key;
	struct cnai_serve_value v;
	size_t j, count = 0;
	int err = 0;

	if (*inst->p == '[') {
		cnai_serve_elements_init(&it, inst);
		while (cnai_serve_elements_next(&el, &it))
			count++;
		if (count != p->n) {
			char want[32];

			snprintf(want, sizeof(want), "%zu", p->n);
			return bad(status, "each instance needs %s values",
				   want);
		}
		cnai_serve_elements_init(&it, inst);
		for (j = 0; j < p->n && !err; j++) {
			cnai_serve_elements_next(&el, &it);
			cnai_serve_value_at(&v, &el);
			err = encode(row + feature_offset(p, j), &p->f[j], &v,
				     t, status);
		}
		return err;
	}
	memset(by_feature, 0, p->n * sizeof(*by_feature));
	if (*inst->p == '{') {
		/* the last of a name counts, as in jansson */
		cnai_serve_elements_init(&it, inst);
		while (cnai_serve_members_next(&key, &el, &it)) {
			struct cat_key name = { key.p + 1,
						(size_t)(key.end - key.p - 2) };
			json_t *k = NULL;

			/* escapes: jansson decodes the key (checked already) */
			if (memchr(name.s, '\\', name.len) &&
			    (k = json_loadb(key.p, (size_t)(key.end - key.p),
					    JSON_DECODE_ANY, NULL))) {
				name.s = json_string_value(k);
				name.len = json_string_length(k);
			}
			for (j = 0; j < p->n; j++)
				if (!cmp_cat(&name, &p->f[j].name))
					by_feature[j] = el;
			json_decref(k);
		}
	}
	for (j = 0; j < p->n && !err; j++) {
		if (!by_feature[j].p)
			return bad(status, "instance without feature '%s'",
				   p->f[j].name);
		cnai_serve_value_at(&v, &by_feature[j]);
		err = encode(row + feature_offset(p, j), &p->f[j], &v, t,
			     status);
	}
	return err;
}

int cnai_serve_predict_v1(struct cnai_buf *out, int *status,
			  struct cnai_serve_model *sm, struct cnai_metrics *mx,
			  const char *body, size_t len)
{
	const struct cnai_ml_prep *p = &sm->m->prep;
	const struct tensor t = { "instances", "FP64", { 0 }, 0, 0, NULL };
	struct cnai_serve_skeleton sk;
	struct cnai_serve_span inst, *by_feature = NULL;
	struct cnai_serve_values it;
	float *x = NULL, *pred = NULL;
	size_t n = 0, i;
	int err;

	*status = 500;
	if ((err = parse_request(&sk, status, body, len)) < 0)
		goto cleanup;
	if (!json_is_object(sk.doc) || !sk.instances.p ||
	    *sk.instances.p != '[') {
		err = bad(status, "expected {\"instances\": [...]}");
		goto cleanup;
	}
	cnai_serve_elements_init(&it, &sk.instances);
	while (cnai_serve_elements_next(&inst, &it))
		n++;
	if (!(x = calloc(n ? n * p->width : 1, sizeof(float))) ||
	    !(by_feature = calloc(p->n ? p->n : 1, sizeof(*by_feature)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	cnai_serve_elements_init(&it, &sk.instances);
	for (i = 0; i < n; i++) {
		cnai_serve_elements_next(&inst, &it);
		if ((err = encode_instance(x + i * p->width, &inst, p,
					   by_feature, &t, status)) < 0)
			goto cleanup;
	}
	if ((err = run(&pred, sm, mx, x, n)) < 0 ||
	    (err = respond_v1(out, sm->m, pred, n)) < 0)
		goto cleanup;
	*status = 200;
cleanup:
	cnai_serve_skeleton_release(&sk);
	free(by_feature);
	free(x);
	free(pred);
	return err;
}

json_t *cnai_serve_model_metadata(const struct cnai_serve_model *sm)
{
	const struct cnai_ml_prep *p = &sm->m->prep;
	json_t *inputs = json_array(), *outputs = json_array();
	int npred = cnai_ml_model_npred(sm->m), numeric = 1;
	size_t j;

	for (j = 0; j < p->n; j++)
		if (p->f[j].categorical)
			numeric = 0;
	if (numeric)
		json_array_append_new(inputs,
				      json_pack("{s:s, s:s, s:[i, I]}", "name",
						"input", "datatype", "FP32",
						"shape", -1, (json_int_t)p->n));
	for (j = 0; j < p->n; j++)
		json_array_append_new(
			inputs, json_pack("{s:s, s:s, s:[i]}", "name",
					  p->f[j].name, "datatype",
					  p->f[j].categorical ? "BYTES" : "FP32",
					  "shape", -1));
	if (cnai_ml_model_is_classifier(sm->m)) {
		json_array_append_new(outputs,
				      json_pack("{s:s, s:s, s:[i, i]}", "name",
						"probabilities", "datatype",
						"FP32", "shape", -1, npred));
		json_array_append_new(outputs,
				      json_pack("{s:s, s:s, s:[i]}", "name",
						"label", "datatype", "BYTES",
						"shape", -1));
	} else {
		json_array_append_new(outputs,
				      json_pack("{s:s, s:s, s:[i]}", "name",
						"predictions", "datatype",
						"FP32", "shape", -1));
	}
	return json_pack("{s:s, s:[s], s:s, s:o, s:o}", "name", sm->name,
			 "versions", sm->version, "platform", "cnai",
			 "inputs", inputs, "outputs", outputs);
}
