/*
 * Model structure, initialisation and inference. Inference runs through
 * the backend ops table like training, in chunks, so predicting on a
 * large file needs little more memory than its encoded rows.
 */
#include "core/ml/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

static const char *const kind_names[] = { "linear", "logistic", "softmax",
					  "mlp" };
static const char *const act_names[] = { "none", "relu", "tanh", "gelu" };

int cnai_ml_kind_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(kind_names) / sizeof(*kind_names); i++)
		if (!strcmp(s, kind_names[i]))
			return (int)i;
	return -1;
}

const char *cnai_ml_kind_name(enum cnai_ml_kind k)
{
	return (unsigned)k < 4 ? kind_names[k] : NULL;
}

int cnai_act_parse(const char *s)
{
	size_t i;

	for (i = 1; i < sizeof(act_names) / sizeof(*act_names); i++)
		if (!strcmp(s, act_names[i]))
			return (int)i;
	return -1;
}

const char *cnai_act_name(enum cnai_act a)
{
	return (unsigned)a < 4 ? act_names[a] : NULL;
}

int cnai_ml_model_is_classifier(const struct cnai_ml_model *m)
{
	return m->head != CNAI_HEAD_IDENTITY;
}

int cnai_ml_model_nout(const struct cnai_ml_model *m)
{
	return m->head == CNAI_HEAD_SOFTMAX ? (int)m->nclasses : 1;
}

int cnai_ml_model_npred(const struct cnai_ml_model *m)
{
	return m->head == CNAI_HEAD_IDENTITY ? 1 : (int)m->nclasses;
}

void cnai_ml_shuffle(int32_t *idx, size_t n, uint64_t *s)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = (size_t)(cnai_ml_rand_unit(s) * (double)i);
		int32_t t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

int cnai_ml_model_init_layers(struct cnai_ml_model *m, const int *hidden,
			      size_t nhidden, uint64_t seed)
{
	uint64_t s = seed ^ 0x5eed5eed5eedull;
	int in = (int)m->prep.width;
	size_t l, i;

	if (m->kind != CNAI_ML_MLP)
		nhidden = 0;
	m->nlayers = nhidden + 1;
	if (!(m->layers = calloc(m->nlayers, sizeof(*m->layers))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (l = 0; l < m->nlayers; l++) {
		struct cnai_ml_dense *d = &m->layers[l];
		int out = l < nhidden ? hidden[l] : cnai_ml_model_nout(m);
		double bound = sqrt(6.0 / (in + out));
		size_t nw = (size_t)in * out;

		d->in = in;
		d->out = out;
		d->w = malloc(nw * sizeof(float));
		d->b = calloc((size_t)out, sizeof(float));
		if (!d->w || !d->b)
			return cnai_error_set(CNAI_ERROR, "out of memory");
		for (i = 0; i < nw; i++)
			d->w[i] = (float)((2 * cnai_ml_rand_unit(&s) - 1) *
					  bound);
		in = out;
	}
	return 0;
}

size_t cnai_ml_model_nparams(const struct cnai_ml_model *m)
{
	size_t n = 0, l;

	for (l = 0; l < m->nlayers; l++)
		n += (size_t)m->layers[l].in * m->layers[l].out +
		     (size_t)m->layers[l].out;
	return n;
}

void cnai_ml_model_free(struct cnai_ml_model *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nlayers; i++) {
		free(m->layers[i].w);
		free(m->layers[i].b);
	}
	free(m->layers);
	cnai_ml_prep_release(&m->prep);
	free(m->target);
	for (i = 0; i < m->nclasses; i++)
		free(m->classes[i]);
	free(m->classes);
	free(m);
}

enum { PREDICT_CHUNK = 4096 };

int cnai_ml_model_predict(const struct cnai_ml_model *m,
			  struct cnai_backend *be, const float *x, size_t n,
			  float *out)
{
	void **w = NULL, **b = NULL;
	float *in = NULL, *buf[2] = { NULL, NULL };
	size_t l, r, widest = 0, chunk;
	int nout = cnai_ml_model_nout(m), npred = cnai_ml_model_npred(m);
	int err = 0;

	w = calloc(m->nlayers, sizeof(*w));
	b = calloc(m->nlayers, sizeof(*b));
	if (!w || !b) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	for (l = 0; l < m->nlayers; l++) {
		const struct cnai_ml_dense *d = &m->layers[l];
		size_t wb = (size_t)d->in * d->out * sizeof(float);

		if ((size_t)d->out > widest)
			widest = (size_t)d->out;
		if (!(w[l] = be->alloc(be->ctx, wb)) ||
		    !(b[l] = be->alloc(be->ctx, d->out * sizeof(float)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		if ((err = be->upload(be->ctx, w[l], d->w, wb)) < 0 ||
		    (err = be->upload(be->ctx, b[l], d->b,
				      d->out * sizeof(float))) < 0)
			goto cleanup;
	}
	/* Scratch for at most a chunk of rows, and no more than asked: a
	 * 1-row request (cnai serve) must not pay for 4,096 rows. */
	chunk = n < PREDICT_CHUNK ? (n ? n : 1) : PREDICT_CHUNK;
	in = be->alloc(be->ctx, chunk * m->prep.width * sizeof(float));
	buf[0] = be->alloc(be->ctx, chunk * widest * sizeof(float));
	buf[1] = be->alloc(be->ctx, chunk * widest * sizeof(float));
	if (!in || !buf[0] || !buf[1]) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	for (r = 0; r < n; r += PREDICT_CHUNK) {
		int rows = (int)(n - r < PREDICT_CHUNK ? n - r : PREDICT_CHUNK);
		const float *a = in;
		float *o = NULL;
		size_t i;

		if ((err = be->upload(be->ctx, in, x + r * m->prep.width,
				      (size_t)rows * m->prep.width *
					      sizeof(float))) < 0)
			goto cleanup;
		for (l = 0; l < m->nlayers; l++) {
			const struct cnai_ml_dense *d = &m->layers[l];
			int last = l + 1 == m->nlayers;

			o = buf[l & 1];
			be->gemm(be->ctx, 0, 0, rows, d->out, d->in, 1.0f, a,
				 d->in, w[l], d->out, 0.0f, o, d->out);
			be->bias_act_fwd(be->ctx, o, o, b[l], rows, d->out,
					 last ? CNAI_ACT_NONE : m->act);
			a = o;
		}
		if (m->head == CNAI_HEAD_SOFTMAX)
			be->softmax(be->ctx, o, rows, nout);
		else if (m->head == CNAI_HEAD_SIGMOID)
			be->sigmoid(be->ctx, o, (size_t)rows);
		if ((err = be->download(be->ctx, out + r * npred, o,
					(size_t)rows * nout *
						sizeof(float))) < 0)
			goto cleanup;
		if (m->head == CNAI_HEAD_SIGMOID) {
			/* [1 - p, p], expanded back to front in place */
			float *p = out + r * npred;

			for (i = (size_t)rows; i-- > 0;) {
				float pi = p[i];

				p[2 * i + 1] = pi;
				p[2 * i] = 1.0f - pi;
			}
		} else if (m->head == CNAI_HEAD_IDENTITY) {
			float *p = out + r;

			for (i = 0; i < (size_t)rows; i++) {
				float v = p[i] * m->y_std;

				p[i] = v + m->y_mean;
			}
		}
	}
cleanup:
	for (l = 0; w && l < m->nlayers; l++) {
		if (w[l])
			be->free(be->ctx, w[l]);
		if (b[l])
			be->free(be->ctx, b[l]);
	}
	if (in)
		be->free(be->ctx, in);
	if (buf[0])
		be->free(be->ctx, buf[0]);
	if (buf[1])
		be->free(be->ctx, buf[1]);
	free(w);
	free(b);
	return err;
}
