/*
 * The training loop. Everything per batch runs on the backend: rows are
 * gathered on the device from the whole (uploaded or wrapped) matrix by
 * an index permutation uploaded once per epoch, so the host only counts.
 * Buffers are allocated once for the largest batch.
 */
#include "core/ml/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util/error.h"
#include "core/util/banned.h"

static const char *const optim_names[] = { "sgd", "momentum", "adam",
					   "adamw" };

int cnai_ml_optim_parse(const char *s)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (!strcmp(s, optim_names[i]))
			return (int)i;
	return -1;
}

const char *cnai_ml_optim_name(enum cnai_ml_optim o)
{
	return (unsigned)o < 4 ? optim_names[o] : NULL;
}

void cnai_ml_train_opts_init(struct cnai_ml_train_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->optimizer = CNAI_OPTIM_ADAM;
	o->lr = 0.001f;
	o->momentum = 0.9f;
	o->beta1 = 0.9f;
	o->beta2 = 0.999f;
	o->eps = 1e-8f;
	o->epochs = 20;
	o->batch_size = 32;
}

struct layer_dev {
	float *w, *b, *dw, *db;
	float *mw, *vw, *mb, *vb; /* optimiser state (v unused by sgd) */
	float *z, *a, *drop, *g;  /* batch activations and gradient */
};

struct state {
	struct cnai_backend *be;
	struct cnai_ml_model *m;
	const struct cnai_ml_train_opts *o;
	struct layer_dev *L;
	float *x, *xb, *yv, *yb, *loss;
	int32_t *lab, *lb, *idx, *vidx;
	int x_wrapped;
	float *host_out; /* validation outputs */
	int64_t step;
	int dropped; /* the last forward applied dropout */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *dalloc(struct state *s, size_t bytes, int *err)
{
	void *p = s->be->alloc(s->be->ctx, bytes);

	if (!p && *err == 0)
		*err = cnai_error_set(CNAI_ERROR,
				      "out of %s memory (%zu bytes)",
				      s->be->name, bytes);
	return p;
}

static void dfree(struct state *s, void *p)
{
	if (p)
		s->be->free(s->be->ctx, p);
}

static void state_release(struct state *s)
{
	size_t l;

	for (l = 0; s->L && l < s->m->nlayers; l++) {
		struct layer_dev *d = &s->L[l];

		dfree(s, d->w);
		dfree(s, d->b);
		dfree(s, d->dw);
		dfree(s, d->db);
		dfree(s, d->mw);
		dfree(s, d->vw);
		dfree(s, d->mb);
		dfree(s, d->vb);
		if (d->a != d->z)
			dfree(s, d->a);
		dfree(s, d->z);
		dfree(s, d->drop);
		dfree(s, d->g);
	}
	free(s->L);
	if (!s->x_wrapped)
		dfree(s, s->x);
	dfree(s, s->xb);
	dfree(s, s->yv);
	dfree(s, s->yb);
	dfree(s, s->loss);
	dfree(s, s->lab);
	dfree(s, s->lb);
	dfree(s, s->idx);
	dfree(s, s->vidx);
	free(s->host_out);
}

static int state_init(struct state *s, const struct cnai_ml_data *d, int B)
{
	struct cnai_backend *be = s->be;
	const struct cnai_ml_model *m = s->m;
	size_t width = m->prep.width, l, xb = d->n * width * sizeof(float);
	int err = 0, nout = cnai_ml_model_nout(m);

	if (!(s->L = calloc(m->nlayers, sizeof(*s->L))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (be->wrap && (s->x = be->wrap(be->ctx, (void *)d->x)))
		s->x_wrapped = 1;
	else if ((s->x = dalloc(s, xb, &err)))
		err = be->upload(be->ctx, s->x, d->x, xb);
	s->xb = dalloc(s, (size_t)B * width * sizeof(float), &err);
	s->loss = dalloc(s, sizeof(float), &err);
	s->idx = dalloc(s, (d->ntrain ? d->ntrain : 1) * sizeof(int32_t), &err);
	s->vidx = dalloc(s, (d->nval ? d->nval : 1) * sizeof(int32_t), &err);
	if (cnai_ml_model_is_classifier(m)) {
		s->lab = dalloc(s, d->n * sizeof(int32_t), &err);
		s->lb = dalloc(s, (size_t)B * sizeof(int32_t), &err);
		if (!err)
			err = be->upload(be->ctx, s->lab, d->labels,
					 d->n * sizeof(int32_t));
	} else {
		s->yv = dalloc(s, d->n * sizeof(float), &err);
		s->yb = dalloc(s, (size_t)B * sizeof(float), &err);
		if (!err)
			err = be->upload(be->ctx, s->yv, d->y,
					 d->n * sizeof(float));
	}
	if (!err && d->nval)
		err = be->upload(be->ctx, s->vidx, d->val,
				 d->nval * sizeof(int32_t));
	for (l = 0; !err && l < m->nlayers; l++) {
		const struct cnai_ml_dense *dn = &m->layers[l];
		struct layer_dev *L = &s->L[l];
		size_t nw = (size_t)dn->in * dn->out * sizeof(float);
		size_t nb = (size_t)dn->out * sizeof(float);
		size_t na = (size_t)B * dn->out * sizeof(float);
		int hidden = l + 1 < m->nlayers;

		L->w = dalloc(s, nw, &err);
		L->b = dalloc(s, nb, &err);
		L->dw = dalloc(s, nw, &err);
		L->db = dalloc(s, nb, &err);
		L->mw = dalloc(s, nw, &err);
		L->mb = dalloc(s, nb, &err);
		if (s->o->optimizer >= CNAI_OPTIM_ADAM) {
			L->vw = dalloc(s, nw, &err);
			L->vb = dalloc(s, nb, &err);
		}
		L->z = dalloc(s, na, &err);
		L->a = hidden ? dalloc(s, na, &err) : L->z;
		if (hidden && m->dropout > 0)
			L->drop = dalloc(s, na, &err);
		L->g = dalloc(s, na, &err);
		if (!err)
			err = be->upload(be->ctx, L->w, dn->w, nw);
		if (!err)
			err = be->upload(be->ctx, L->b, dn->b, nb);
	}
	if (!err && !(s->host_out = malloc((d->nval ? d->nval : 1) *
					   (size_t)nout * sizeof(float))))
		err = cnai_error_set(CNAI_ERROR, "out of memory");
	return err;
}

/* Forward over `rows` gathered rows; returns the output (logits). */
static float *forward(struct state *s, int rows, int train)
{
	struct cnai_backend *be = s->be;
	const struct cnai_ml_model *m = s->m;
	const float *in = s->xb;
	size_t l;

	s->dropped = train && m->dropout > 0;
	for (l = 0; l < m->nlayers; l++) {
		const struct cnai_ml_dense *dn = &m->layers[l];
		struct layer_dev *L = &s->L[l];
		int hidden = l + 1 < m->nlayers;

		be->gemm(be->ctx, 0, 0, rows, dn->out, dn->in, 1.0f, in,
			 dn->in, L->w, dn->out, 0.0f, L->z, dn->out);
		be->bias_act_fwd(be->ctx, L->z, L->a, L->b, rows, dn->out,
				 hidden ? m->act : CNAI_ACT_NONE);
		in = L->a;
		if (hidden && train && m->dropout > 0) {
			uint64_t seed = s->o->seed ^
					((uint64_t)s->step << 8 | l);

			be->copy(be->ctx, L->drop, L->a,
				 (size_t)rows * dn->out * sizeof(float));
			be->dropout(be->ctx, L->drop, (size_t)rows * dn->out,
				    m->dropout, seed);
			in = L->drop;
		}
	}
	return s->L[m->nlayers - 1].z;
}

/* Loss of the gathered batch into *s->loss; gradient into the top g. */
static void loss(struct state *s, float *out, int rows, float scale)
{
	struct cnai_backend *be = s->be;
	struct layer_dev *top = &s->L[s->m->nlayers - 1];

	switch (s->m->head) {
	case CNAI_HEAD_SOFTMAX:
		be->softmax_xent(be->ctx, out, s->lb, top->g, s->loss, rows,
				 (int)s->m->nclasses, scale);
		break;
	case CNAI_HEAD_SIGMOID:
		be->sigmoid_bce(be->ctx, out, s->lb, top->g, s->loss, rows,
				scale);
		break;
	case CNAI_HEAD_IDENTITY:
		be->mse(be->ctx, out, s->yb, top->g, s->loss, rows, 1, scale);
		break;
	}
}

static void backward(struct state *s, int rows)
{
	struct cnai_backend *be = s->be;
	const struct cnai_ml_model *m = s->m;
	size_t l = m->nlayers;

	while (l-- > 0) {
		const struct cnai_ml_dense *dn = &m->layers[l];
		struct layer_dev *L = &s->L[l];
		int hidden = l + 1 < m->nlayers;
		const float *in = l == 0       ? s->xb
				  : s->dropped ? s->L[l - 1].drop
					       : s->L[l - 1].a;

		be->bias_act_bwd(be->ctx, L->g, L->z, L->a, L->db, rows,
				 dn->out, hidden ? m->act : CNAI_ACT_NONE);
		be->gemm(be->ctx, 1, 0, dn->in, dn->out, rows, 1.0f, in,
			 dn->in, L->g, dn->out, 0.0f, L->dw, dn->out);
		if (l > 0) {
			struct layer_dev *P = &s->L[l - 1];

			be->gemm(be->ctx, 0, 1, rows, dn->in, dn->out, 1.0f,
				 L->g, dn->out, L->w, dn->out, 0.0f, P->g,
				 dn->in);
			if (s->dropped)
				be->dropout(be->ctx, P->g,
					    (size_t)rows * dn->in, m->dropout,
					    s->o->seed ^
						    ((uint64_t)s->step << 8 |
						     (l - 1)));
		}
	}
}

static void update(struct state *s)
{
	struct cnai_backend *be = s->be;
	const struct cnai_ml_train_opts *o = s->o;
	size_t l;

	s->step++;
	for (l = 0; l < s->m->nlayers; l++) {
		const struct cnai_ml_dense *dn = &s->m->layers[l];
		struct layer_dev *L = &s->L[l];
		size_t nw = (size_t)dn->in * dn->out, nb = (size_t)dn->out;

		switch (o->optimizer) {
		case CNAI_OPTIM_SGD:
		case CNAI_OPTIM_MOMENTUM: {
			float mu = o->optimizer == CNAI_OPTIM_SGD ? 0.0f
								  : o->momentum;

			be->sgd(be->ctx, L->w, L->dw, L->mw, nw, o->lr, mu,
				o->weight_decay);
			be->sgd(be->ctx, L->b, L->db, L->mb, nb, o->lr, mu,
				0.0f);
			break;
		}
		case CNAI_OPTIM_ADAM:
		case CNAI_OPTIM_ADAMW: {
			int dec = o->optimizer == CNAI_OPTIM_ADAMW;

			be->adam(be->ctx, L->w, L->dw, L->mw, L->vw, nw, o->lr,
				 o->beta1, o->beta2, o->eps, o->weight_decay,
				 dec, s->step);
			be->adam(be->ctx, L->b, L->db, L->mb, L->vb, nb, o->lr,
				 o->beta1, o->beta2, o->eps, 0.0f, dec,
				 s->step);
			break;
		}
		}
	}
}

static void gather(struct state *s, const int32_t *idx, int rows)
{
	struct cnai_backend *be = s->be;

	be->gather_rows(be->ctx, s->xb, s->x, idx, rows,
			(int)s->m->prep.width);
	if (s->lab)
		be->gather_i32(be->ctx, s->lb, s->lab, idx, rows);
	else
		be->gather_rows(be->ctx, s->yb, s->yv, idx, rows, 1);
}

static int validate(struct state *s, const struct cnai_ml_data *d, int B,
		    struct cnai_ml_epoch *e)
{
	struct cnai_backend *be = s->be;
	const struct cnai_ml_model *m = s->m;
	int nout = cnai_ml_model_nout(m), err;
	float zero = 0.0f, total;
	size_t r, i;
	double ok = 0, sse = 0, sst = 0, ymean = 0;

	if ((err = be->upload(be->ctx, s->loss, &zero, sizeof(float))) < 0)
		return err;
	for (r = 0; r < d->nval; r += (size_t)B) {
		int rows = (int)(d->nval - r < (size_t)B ? d->nval - r
							  : (size_t)B);
		float *out;

		gather(s, s->vidx + r, rows);
		out = forward(s, rows, 0);
		if ((err = be->download(be->ctx, s->host_out + r * nout, out,
					(size_t)rows * nout *
						sizeof(float))) < 0)
			return err;
		loss(s, out, rows, 0.0f);
	}
	if ((err = be->download(be->ctx, &total, s->loss, sizeof(float))) < 0)
		return err;
	e->has_val = 1;
	e->val_loss = total / (double)d->nval;
	if (cnai_ml_model_is_classifier(m)) {
		for (i = 0; i < d->nval; i++) {
			const float *o = s->host_out + i * nout;
			int32_t pred = 0, k;

			if (m->head == CNAI_HEAD_SIGMOID)
				pred = o[0] > 0.0f;
			else
				for (k = 1; k < nout; k++)
					if (o[k] > o[pred])
						pred = k;
			ok += pred == d->labels[d->val[i]];
		}
		e->val_accuracy = ok / (double)d->nval;
	} else {
		for (i = 0; i < d->nval; i++)
			ymean += d->y[d->val[i]];
		ymean /= (double)d->nval;
		for (i = 0; i < d->nval; i++) {
			double y = d->y[d->val[i]], p = s->host_out[i];

			sse += (p - y) * (p - y);
			sst += (y - ymean) * (y - ymean);
		}
		e->val_rmse = sqrt(sse / (double)d->nval) * m->y_std;
		e->val_r2 = sst > 0 ? 1.0 - sse / sst : 0.0;
	}
	return 0;
}

/* Copies the device weights into the model's host arrays. */
static int download_weights(struct state *s)
{
	size_t l;
	int err;

	for (l = 0; l < s->m->nlayers; l++) {
		struct cnai_ml_dense *dn = &s->m->layers[l];

		if ((err = s->be->download(s->be->ctx, dn->w, s->L[l].w,
					   (size_t)dn->in * dn->out *
						   sizeof(float))) < 0 ||
		    (err = s->be->download(s->be->ctx, dn->b, s->L[l].b,
					   (size_t)dn->out *
						   sizeof(float))) < 0)
			return err;
	}
	return 0;
}

int cnai_ml_train(struct cnai_ml_model *m, struct cnai_backend *be,
		  const struct cnai_ml_data *d,
		  const struct cnai_ml_train_opts *o, cnai_ml_epoch_fn on_epoch,
		  cnai_ml_batch_fn on_batch, void *payload,
		  struct cnai_ml_epoch *final)
{
	struct state s = { be, m, o, NULL, NULL, NULL, NULL, NULL, NULL,
			   NULL, NULL, NULL, NULL, 0, NULL, 0, 0 };
	int B = o->batch_size, ep, since_best = 0, err;
	int32_t *perm = NULL;
	double best = INFINITY;
	uint64_t rng = o->seed;
	struct cnai_ml_epoch e, best_e;

	memset(final, 0, sizeof(*final));
	memset(&best_e, 0, sizeof(best_e));
	if (o->epochs < 1 || B < 1 || !d->ntrain)
		return cnai_error_set(CNAI_EINVALID,
				      "nothing to train: %d epochs, batch "
				      "size %d, %zu rows", o->epochs, B,
				      d->ntrain);
	if ((size_t)B > d->ntrain)
		B = (int)d->ntrain;
	if ((err = state_init(&s, d, B)) < 0)
		goto cleanup;
	if (!(perm = malloc(d->ntrain * sizeof(*perm)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	memcpy(perm, d->train, d->ntrain * sizeof(*perm));
	for (ep = 1; ep <= o->epochs; ep++) {
		double t0 = now();
		float zero = 0.0f, total;
		size_t r;

		memset(&e, 0, sizeof(e));
		e.epoch = ep;
		cnai_ml_shuffle(perm, d->ntrain, &rng);
		if ((err = be->upload(be->ctx, s.idx, perm,
				      d->ntrain * sizeof(int32_t))) < 0 ||
		    (err = be->upload(be->ctx, s.loss, &zero,
				      sizeof(float))) < 0)
			goto cleanup;
		for (r = 0; r < d->ntrain; r += (size_t)B) {
			int rows = (int)(d->ntrain - r < (size_t)B
						 ? d->ntrain - r
						 : (size_t)B);

			gather(&s, s.idx + r, rows);
			loss(&s, forward(&s, rows, 1), rows, 1.0f / rows);
			backward(&s, rows);
			update(&s);
			if (on_batch &&
			    (err = on_batch(ep, r + rows, d->ntrain,
					    payload)) < 0)
				goto cleanup;
		}
		if ((err = be->download(be->ctx, &total, s.loss,
					sizeof(float))) < 0)
			goto cleanup;
		e.train_loss = total / (double)d->ntrain;
		e.seconds = now() - t0;
		e.samples_per_second =
			e.seconds > 0 ? d->ntrain / e.seconds : 0;
		if (!isfinite(e.train_loss)) {
			err = cnai_error_set(CNAI_EINVALID,
					     "training diverged at epoch %d "
					     "(loss %g); lower --lr", ep,
					     e.train_loss);
			goto cleanup;
		}
		if (d->nval && (err = validate(&s, d, B, &e)) < 0)
			goto cleanup;
		if (e.has_val && e.val_loss < best) {
			best = e.val_loss;
			e.best = 1;
			since_best = 0;
			if (o->patience > 0 &&
			    (err = download_weights(&s)) < 0)
				goto cleanup;
			best_e = e;
		} else if (e.has_val) {
			since_best++;
		}
		if (o->patience > 0 && since_best >= o->patience)
			e.stopped = 1;
		if (on_epoch && (err = on_epoch(&e, payload)) < 0)
			goto cleanup;
		if (e.stopped)
			break;
	}
	if (o->patience > 0 && best_e.epoch) {
		*final = best_e;
	} else {
		*final = e;
		err = download_weights(&s);
	}
cleanup:
	free(perm);
	state_release(&s);
	return err;
}

int cnai_ml_batch_gradient(struct cnai_ml_model *m, struct cnai_backend *be,
			   const float *x, const int32_t *labels,
			   const float *y, size_t n, int dropout,
			   uint64_t seed, double *loss_out, float *grad)
{
	struct cnai_ml_train_opts o;
	struct cnai_ml_data d = { 0 };
	struct state s = { be, m, &o, NULL, NULL, NULL, NULL, NULL, NULL,
			   NULL, NULL, NULL, NULL, 0, NULL, 0, 0 };
	int32_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	float zero = 0.0f, total;
	size_t i, l, off = 0;
	int err;

	if (!idx)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	cnai_ml_train_opts_init(&o);
	o.seed = seed;
	for (i = 0; i < n; i++)
		idx[i] = (int32_t)i;
	d.x = x;
	d.labels = labels;
	d.y = y;
	d.n = n;
	d.train = idx;
	d.ntrain = n;
	if ((err = state_init(&s, &d, (int)n)) < 0 ||
	    (err = be->upload(be->ctx, s.idx, idx, n * sizeof(int32_t))) < 0 ||
	    (err = be->upload(be->ctx, s.loss, &zero, sizeof(float))) < 0)
		goto cleanup;
	gather(&s, s.idx, (int)n);
	loss(&s, forward(&s, (int)n, dropout), (int)n, 1.0f / (float)n);
	backward(&s, (int)n);
	if ((err = be->download(be->ctx, &total, s.loss, sizeof(float))) < 0)
		goto cleanup;
	*loss_out = total / (double)n;
	for (l = 0; grad && l < m->nlayers; l++) {
		const struct cnai_ml_dense *dn = &m->layers[l];
		size_t nw = (size_t)dn->in * dn->out;

		if ((err = be->download(be->ctx, grad + off, s.L[l].dw,
					nw * sizeof(float))) < 0 ||
		    (err = be->download(be->ctx, grad + off + nw, s.L[l].db,
					(size_t)dn->out * sizeof(float))) < 0)
			goto cleanup;
		off += nw + (size_t)dn->out;
	}
cleanup:
	state_release(&s);
	free(idx);
	return err;
}
