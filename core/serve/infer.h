/*
 * Inference requests: the KServe Open Inference Protocol v2 JSON and
 * KServe v1 `instances`, decoded into the model's encoded feature matrix
 * (the same encoding as training and `cnai predict`) and answered with
 * the model's outputs. Requests for the same model may be batched.
 */
#ifndef CNAI_CORE_SERVE_INFER_H
#define CNAI_CORE_SERVE_INFER_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#include "core/ml/model.h"
#include "core/serve/metrics.h"
#include "core/util/buf.h"

struct cnai_batcher;

struct cnai_serve_model {
	char *name;
	char *version;           /* "1" for a folder, the registry version */
	struct cnai_ml_model *m; /* owned */
	struct cnai_batcher *batcher; /* NULL: batching off */
	double load_seconds;
};

/* Turns batching on: requests within window_us, up to max_rows rows. */
int cnai_serve_model_batching(struct cnai_serve_model *sm, long window_us,
			      size_t max_rows);
void cnai_serve_model_release(struct cnai_serve_model *sm);

/*
 * Answers a v2 infer request. On success *status is 200 and `out` holds
 * the response; on a client error *status is 400 and the return value is
 * CNAI_EINVALID with the message set (the caller wraps it as
 * {"error": ...}).
 */
int cnai_serve_infer_v2(struct cnai_buf *out, int *status,
			struct cnai_serve_model *sm, struct cnai_metrics *mx,
			const char *body, size_t len);
/* KServe v1: {"instances": [[...], ...]} -> {"predictions": [...]}. */
int cnai_serve_predict_v1(struct cnai_buf *out, int *status,
			  struct cnai_serve_model *sm, struct cnai_metrics *mx,
			  const char *body, size_t len);
/* GET /v2/models/NAME: name, versions, platform, inputs, outputs. */
json_t *cnai_serve_model_metadata(const struct cnai_serve_model *sm);

#endif
