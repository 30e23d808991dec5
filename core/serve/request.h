/*
 * Infer requests read without a JSON tree of their numbers. The common
 * v2 request, one "input" of shape [N, F] for a model of F numeric
 * features, is decoded in one pass (cnai_serve_request_decode). Any other
 * request is split (cnai_serve_skeleton_parse): a small jansson tree of
 * what the general decoder (core/serve/infer.c) reads besides the data,
 * and, for each input, where its "data" lies in the body, which that
 * decoder then reads value by value (cnai_serve_values_next) straight
 * into the feature matrix.
 */
#ifndef CNAI_CORE_SERVE_REQUEST_H
#define CNAI_CORE_SERVE_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#include "core/ml/model.h"

/* The largest dimension a request's shape may give. */
enum { CNAI_SERVE_MAX_DIM = 1 << 20 };

struct cnai_serve_request {
	float *x;       /* N rows of the encoded matrix; caller frees */
	size_t n;       /* N */
	const char *id; /* the "id" string's characters in the body, or NULL */
	size_t idlen;
};

/*
 * Decodes `body` if it is exactly
 *   {"inputs": [{"name": "input", "shape": [N, F], "datatype": "FP32" or
 *   "FP64", "data": numbers or null, flat or one array per row}]}
 * with an optional "id" of printable ASCII, no escapes, no other keys,
 * and every value valid: then the result is what the general decoder
 * makes of it, to the bit. Returns 1 when decoded, 0 when the request is
 * anything else (nothing to free), CNAI_ERROR when out of memory.
 */
int cnai_serve_request_decode(struct cnai_serve_request *out,
			      const char *body, size_t len,
			      const struct cnai_ml_prep *p);

/* Arrays in "data" nest at most this deep (the general decoder's limit). */
enum { CNAI_SERVE_MAX_NESTING = 8 };

/* The most tensors a request's "inputs" may hold: a model takes one per
 * feature at most, and each would be a jansson object (a few hundred
 * bytes for the two of "{}"). */
enum { CNAI_SERVE_MAX_INPUTS = 4096 };

/* Where inputs[i]'s "data" is: its text in the body, flattened size. */
struct cnai_serve_span {
	const char *p, *end; /* NULL when the input has no data (or is not
			      * an object) */
	size_t count;        /* values, nested arrays flattened */
	int too_deep;        /* nested past CNAI_SERVE_MAX_NESTING */
};

struct cnai_serve_skeleton {
	/* The request as the general decoder reads it: the body with each
	 * input's "data" value replaced by 0 and what it never reads
	 * (unknown members, a non-string "id", the elements of a shape past
	 * the third) left out. */
	json_t *doc;
	struct cnai_serve_span *spans; /* [i]: the "inputs" array's i-th */
	size_t nspans;
	int too_many_inputs; /* over CNAI_SERVE_MAX_INPUTS: the rest left
			      * out of doc and spans */
	/* KServe v1's top-level "instances" value (p NULL without one),
	 * read with cnai_serve_elements_next and cnai_serve_members_next. */
	struct cnai_serve_span instances;
	/* A syntax error: where (1-based, columns in characters) and what. */
	int line, column;
	char text[80];
};

/*
 * Checks that `body` is JSON exactly as jansson would (its grammar, its
 * number ranges, its nesting limit) and splits it as above. Returns 0,
 * 1 for a syntax error (line, column and text set; out->doc NULL), or
 * CNAI_ERROR when out of memory. Release `out` in every case. The spans
 * point into `body`, which must outlive them.
 */
int cnai_serve_skeleton_parse(struct cnai_serve_skeleton *out,
			      const char *body, size_t len);
void cnai_serve_skeleton_release(struct cnai_serve_skeleton *sk);

/* One value of a data array, as jansson would have read it. */
enum cnai_serve_value_kind {
	CNAI_SERVE_NULL,
	CNAI_SERVE_INTEGER, /* `integer`, and `number` = (double)integer */
	CNAI_SERVE_REAL,    /* `number` */
	CNAI_SERVE_STRING,  /* `text`: see `escaped` */
	CNAI_SERVE_OTHER,   /* true, false or an object */
};

struct cnai_serve_value {
	enum cnai_serve_value_kind kind;
	long long integer;
	double number;
	const char *text; /* STRING: its characters; with `escaped`, the
			   * quoted JSON token (decode it with jansson) */
	size_t len;
	int escaped;
};

/* Reads the values of a span of a parsed skeleton in order: 1 and *v
 * set, or 0 at the end. */
struct cnai_serve_values {
	const char *p, *end;
};
void cnai_serve_values_init(struct cnai_serve_values *it,
			    const struct cnai_serve_span *span);
int cnai_serve_values_next(struct cnai_serve_value *v,
			   struct cnai_serve_values *it);

/*
 * The value in `span` (checked by the parser) as one value: an array is
 * CNAI_SERVE_OTHER, as an object is.
 */
void cnai_serve_value_at(struct cnai_serve_value *v,
			 const struct cnai_serve_span *span);

/* The elements of an array span (or the members of an object span), in
 * order, each as a span of its own; its key's JSON token in *key. */
void cnai_serve_elements_init(struct cnai_serve_values *it,
			      const struct cnai_serve_span *span);
int cnai_serve_elements_next(struct cnai_serve_span *el,
			     struct cnai_serve_values *it);
int cnai_serve_members_next(struct cnai_serve_span *key,
			    struct cnai_serve_span *value,
			    struct cnai_serve_values *it);

#endif
