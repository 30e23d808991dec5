/*
 * The common v2 infer request, decoded without a JSON tree: one "input"
 * of shape [N, F] for a model of F numeric features, as every client that
 * sends a batch of rows does. Anything else is left to the general
 * decoder (core/serve/infer.c), which also answers every error.
 */
#ifndef CNAI_CORE_SERVE_REQUEST_H
#define CNAI_CORE_SERVE_REQUEST_H

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

#endif
