/*
 * A trained model on disk is a folder of three files:
 *   model.onnx         the whole pipeline (imputation, standardisation,
 *                      one-hot, network, head) for onnxruntime; onnx.c
 *   model.safetensors  the weights, dense_<i>.weight [in, out] and
 *                      dense_<i>.bias [out], F32
 *   cnai-model.json    features and their order, preprocessing, classes,
 *                      architecture, and what the caller adds (metrics,
 *                      dataset digests, training options)
 * cnai predict reads the last two.
 */
#ifndef CNAI_CORE_ML_IO_H
#define CNAI_CORE_ML_IO_H

#include <jansson.h>

#include "core/ml/model.h"
#include "core/util/buf.h"

#define CNAI_MODEL_JSON "cnai-model.json"
#define CNAI_MODEL_ONNX "model.onnx"
#define CNAI_MODEL_SAFETENSORS "model.safetensors"

/*
 * Writes the three files into `dir` (created if needed), each atomically.
 * `extra`: members merged into cnai-model.json (borrowed).
 */
int cnai_ml_model_save(const struct cnai_ml_model *m, const char *dir,
		       json_t *extra);
/* The JSON description of m (new reference), without extra members. */
json_t *cnai_ml_model_json(const struct cnai_ml_model *m);
/*
 * Loads a model folder. CNAI_ENOTFOUND when `dir` has no
 * cnai-model.json; CNAI_EINVALID naming the file for a malformed one or
 * weights that do not match the architecture. *json_out (optional) gets
 * the whole cnai-model.json (caller decrefs).
 */
int cnai_ml_model_load(struct cnai_ml_model **out, json_t **json_out,
		       const char *dir);

/*
 * Loads the folder `dir` as predict and serve do and compares it with
 * `m`, the model saved there: kind, head, features (names, kinds,
 * categories), classes or target scaling, layer shapes and weights, bit
 * for bit. A model that does not load back as trained must never be
 * registered. 0 when equal; CNAI_ERROR naming the folder and what
 * differs (the message of the load that failed, if it failed).
 */
int cnai_ml_model_check_saved(const struct cnai_ml_model *m,
			      const char *dir);

/* safetensors file of m's weights into `buf`. */
int cnai_ml_safetensors_write(struct cnai_buf *buf,
			      const struct cnai_ml_model *m);
/* ONNX ModelProto of the whole pipeline into `buf` (onnx.c). */
int cnai_ml_onnx_write(struct cnai_buf *buf, const struct cnai_ml_model *m);

#endif
