/*
 * model.onnx: the whole prediction pipeline as an ONNX graph (IR 8,
 * opset 13, plus ai.onnx.ml 2 when a feature is categorical), built with
 * the protobuf-c code generated from Debian's onnx.proto.
 *
 * Inputs: "input" float [N, numeric features] in the order of
 * cnai-model.json's features, and one string [N, 1] tensor per
 * categorical feature, named after it. Graph:
 *   numeric:      Where(IsNaN(x), fill, x) -> Sub(mean) -> Div(std)
 *   categorical:  LabelEncoder(category -> index, "" -> mode,
 *                 unknown -> K) -> OneHot(depth K) -> Reshape [N, K]
 *   Concat -> (Gemm -> activation)* -> Gemm -> head
 * Outputs: "probabilities" [N, classes] and "label" [N] (the class,
 * int64 when every class is an integer, else string), or "prediction"
 * [N, 1] for regression. The float operations are the ones cnai predict
 * performs, in the same order.
 */
#include "core/ml/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/number.h"
#include "core/util/error.h"
#include "onnx/onnx.pb-c.h"
#include "core/util/banned.h"

enum { T_FLOAT = 1, T_INT64 = 7, T_STRING = 8 };

struct gb {
	void **arena;
	size_t narena, carena;
	Onnx__NodeProto **nodes;
	size_t nnodes, cnodes;
	Onnx__TensorProto **inits;
	size_t ninits, cinits;
	int counter, oom;
};

/* Appends p; when own, p is freed if it cannot be kept. */
static void *push_ptr(void ***arr, size_t *n, size_t *cap, void *p, int *oom,
		      int own)
{
	if (!p) {
		*oom = 1;
		return NULL;
	}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void **g = realloc(*arr, nc * sizeof(*g));

		if (!g) {
			*oom = 1;
			if (own)
				free(p);
			return NULL;
		}
		*arr = g;
		*cap = nc;
	}
	(*arr)[(*n)++] = p;
	return p;
}

static void *A(struct gb *g, size_t size)
{
	return push_ptr(&g->arena, &g->narena, &g->carena, calloc(1, size),
			&g->oom, 1);
}

static char *S(struct gb *g, const char *s)
{
	return push_ptr(&g->arena, &g->narena, &g->carena, strdup(s),
			&g->oom, 1);
}

static char *tmp(struct gb *g, const char *prefix)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_%d", prefix, g->counter++);
	return S(g, name);
}

static Onnx__NodeProto *node(struct gb *g, const char *op,
			     const char *domain, const char *const *in,
			     size_t nin, const char *out)
{
	Onnx__NodeProto *n = A(g, sizeof(*n));
	size_t i;

	if (!n)
		return NULL;
	onnx__node_proto__init(n);
	n->op_type = S(g, op);
	if (domain)
		n->domain = S(g, domain);
	n->name = tmp(g, op);
	n->n_input = nin;
	n->input = A(g, (nin ? nin : 1) * sizeof(char *));
	n->n_output = 1;
	n->output = A(g, sizeof(char *));
	if (!n->input || !n->output)
		return NULL;
	for (i = 0; i < nin; i++)
		n->input[i] = S(g, in[i]);
	n->output[0] = S(g, out);
	/* the arena owns n; the list only points at it */
	push_ptr((void ***)&g->nodes, &g->nnodes, &g->cnodes, n, &g->oom, 0);
	return n;
}

static Onnx__AttributeProto *attr(struct gb *g, Onnx__NodeProto *n,
				  const char *name,
				  Onnx__AttributeProto__AttributeType type)
{
	Onnx__AttributeProto *a = A(g, sizeof(*a)), **l;

	if (!a || !n)
		return NULL;
	onnx__attribute_proto__init(a);
	a->name = S(g, name);
	a->has_type = 1;
	a->type = type;
	l = A(g, (n->n_attribute + 1) * sizeof(*l));
	if (!l)
		return NULL;
	if (n->n_attribute)
		memcpy(l, n->attribute, n->n_attribute * sizeof(*l));
	l[n->n_attribute++] = a;
	n->attribute = l;
	return a;
}

static void attr_int(struct gb *g, Onnx__NodeProto *n, const char *name,
		     int64_t v)
{
	Onnx__AttributeProto *a =
		attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

	if (a) {
		a->has_i = 1;
		a->i = v;
	}
}

static Onnx__TensorProto *tensor(struct gb *g, const char *name, int type,
				 const int64_t *dims, size_t ndims)
{
	Onnx__TensorProto *t = A(g, sizeof(*t));

	if (!t)
		return NULL;
	onnx__tensor_proto__init(t);
	t->name = S(g, name);
	t->has_data_type = 1;
	t->data_type = type;
	t->n_dims = ndims;
	t->dims = A(g, (ndims ? ndims : 1) * sizeof(int64_t));
	if (t->dims && ndims)
		memcpy(t->dims, dims, ndims * sizeof(int64_t));
	return t;
}

static void add_init(struct gb *g, Onnx__TensorProto *t)
{
	if (t)
		push_ptr((void ***)&g->inits, &g->ninits, &g->cinits, t,
			 &g->oom, 0);
}

/* The arena owns every message; lists only point at them. */
static const char *init_float(struct gb *g, const char *prefix,
			      const float *v, const int64_t *dims,
			      size_t ndims)
{
	char *name = tmp(g, prefix);
	Onnx__TensorProto *t = name ? tensor(g, name, T_FLOAT, dims, ndims)
				    : NULL;
	size_t n = 1, i;

	if (!t)
		return NULL;
	for (i = 0; i < ndims; i++)
		n *= (size_t)dims[i];
	t->has_raw_data = 1;
	t->raw_data.len = n * sizeof(float);
	t->raw_data.data = A(g, n * sizeof(float) + 1);
	if (t->raw_data.data)
		memcpy(t->raw_data.data, v, n * sizeof(float));
	add_init(g, t);
	return name;
}

static const char *init_scalar(struct gb *g, const char *prefix, float v)
{
	return init_float(g, prefix, &v, NULL, 0);
}

static const char *init_int64(struct gb *g, const char *prefix,
			      const int64_t *v, const int64_t *dims,
			      size_t ndims)
{
	char *name = tmp(g, prefix);
	Onnx__TensorProto *t = name ? tensor(g, name, T_INT64, dims, ndims)
				    : NULL;
	size_t n = 1, i;

	if (!t)
		return NULL;
	for (i = 0; i < ndims; i++)
		n *= (size_t)dims[i];
	t->n_int64_data = n;
	t->int64_data = A(g, (n ? n : 1) * sizeof(int64_t));
	if (t->int64_data)
		memcpy(t->int64_data, v, n * sizeof(int64_t));
	add_init(g, t);
	return name;
}

static const char *init_strings(struct gb *g, const char *prefix,
				char *const *v, size_t n)
{
	char *name = tmp(g, prefix);
	int64_t dim = (int64_t)n;
	Onnx__TensorProto *t = name ? tensor(g, name, T_STRING, &dim, 1)
				    : NULL;
	size_t i;

	if (!t)
		return NULL;
	t->n_string_data = n;
	t->string_data = A(g, (n ? n : 1) * sizeof(ProtobufCBinaryData));
	for (i = 0; t->string_data && i < n; i++) {
		t->string_data[i].data = (uint8_t *)S(g, v[i]);
		t->string_data[i].len = strlen(v[i]);
	}
	add_init(g, t);
	return name;
}

/* A value's type: dims < 0 are the batch dimension "N". */
static Onnx__ValueInfoProto *value_info(struct gb *g, const char *name,
					int type, const int64_t *dims,
					size_t ndims)
{
	Onnx__ValueInfoProto *v = A(g, sizeof(*v));
	Onnx__TypeProto *tp = A(g, sizeof(*tp));
	Onnx__TypeProto__Tensor *tt = A(g, sizeof(*tt));
	Onnx__TensorShapeProto *sh = A(g, sizeof(*sh));
	size_t i;

	if (!v || !tp || !tt || !sh)
		return NULL;
	onnx__value_info_proto__init(v);
	onnx__type_proto__init(tp);
	onnx__type_proto__tensor__init(tt);
	onnx__tensor_shape_proto__init(sh);
	v->name = S(g, name);
	v->type = tp;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	tt->has_elem_type = 1;
	tt->elem_type = type;
	tt->shape = sh;
	sh->n_dim = ndims;
	sh->dim = A(g, (ndims ? ndims : 1) * sizeof(*sh->dim));
	for (i = 0; sh->dim && i < ndims; i++) {
		Onnx__TensorShapeProto__Dimension *d = A(g, sizeof(*d));

		if (!d)
			return NULL;
		onnx__tensor_shape_proto__dimension__init(d);
		if (dims[i] < 0) {
			d->value_case =
				ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
			d->dim_param = S(g, "N");
		} else {
			d->value_case =
				ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			d->dim_value = dims[i];
		}
		sh->dim[i] = d;
	}
	return v;
}

/* 1 when every class label is an integer (then labels are int64). */
static int int_classes(const struct cnai_ml_model *m, int64_t *vals)
{
	size_t i;

	for (i = 0; i < m->nclasses; i++) {
		double d;
		const char *c = m->classes[i];

		if (cnai_number_parse(&d, c, strlen(c)) < 0 || d != floor(d) ||
		    fabs(d) > 9e15)
			return 0;
		vals[i] = (int64_t)d;
	}
	return 1;
}

static const char *numeric_part(struct gb *g, const struct cnai_ml_prep *p)
{
	float *mean = A(g, p->nnumeric * sizeof(float) + 1);
	float *std = A(g, p->nnumeric * sizeof(float) + 1);
	float *fill = A(g, p->nnumeric * sizeof(float) + 1);
	int64_t dims[2] = { 1, (int64_t)p->nnumeric };
	const char *in[3];
	char *isnan_o = tmp(g, "isnan"), *filled = tmp(g, "imputed");
	char *centred = tmp(g, "centred"), *scaled = tmp(g, "scaled");
	size_t i;

	if (!mean || !std || !fill || g->oom)
		return NULL;
	for (i = 0; i < p->nnumeric; i++) {
		mean[i] = p->f[i].mean;
		std[i] = p->f[i].std;
		fill[i] = p->f[i].fill;
	}
	in[0] = "input";
	node(g, "IsNaN", NULL, in, 1, isnan_o);
	in[0] = isnan_o;
	in[1] = init_float(g, "fill", fill, dims, 2);
	in[2] = "input";
	node(g, "Where", NULL, in, 3, filled);
	in[0] = filled;
	in[1] = init_float(g, "mean", mean, dims, 2);
	node(g, "Sub", NULL, in, 2, centred);
	in[0] = centred;
	in[1] = init_float(g, "std", std, dims, 2);
	node(g, "Div", NULL, in, 2, scaled);
	return scaled;
}

static const char *categorical_part(struct gb *g,
				    const struct cnai_ml_feature *f)
{
	size_t k = f->ncats, i;
	int64_t *vals = A(g, (k + 1) * sizeof(int64_t));
	char **keys = A(g, (k + 1) * sizeof(char *));
	int64_t depth = (int64_t)k, shape[2] = { -1, (int64_t)k }, two = 2;
	float onoff[2] = { 0.0f, 1.0f };
	char *idx = tmp(g, "category"), *hot = tmp(g, "onehot3");
	char *flat = tmp(g, "onehot");
	const char *in[3];
	Onnx__NodeProto *n;
	Onnx__AttributeProto *a;

	if (!vals || !keys || g->oom)
		return NULL;
	for (i = 0; i < k; i++) {
		keys[i] = f->cats[i];
		vals[i] = (int64_t)i;
	}
	keys[k] = ""; /* an empty cell is the mode */
	vals[k] = (int64_t)f->mode;
	in[0] = f->name;
	n = node(g, "LabelEncoder", "ai.onnx.ml", in, 1, idx);
	if ((a = attr(g, n, "keys_strings",
		      ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS))) {
		a->n_strings = k + 1;
		a->strings = A(g, (k + 1) * sizeof(ProtobufCBinaryData));
		for (i = 0; a->strings && i <= k; i++) {
			a->strings[i].data = (uint8_t *)S(g, keys[i]);
			a->strings[i].len = strlen(keys[i]);
		}
	}
	if ((a = attr(g, n, "values_int64s",
		      ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS))) {
		a->n_ints = k + 1;
		a->ints = vals;
	}
	/* unknown -> K: out of OneHot's range, so all zeros */
	attr_int(g, n, "default_int64", (int64_t)k);
	in[0] = idx;
	in[1] = init_int64(g, "depth", &depth, NULL, 0);
	in[2] = init_float(g, "onoff", onoff, &two, 1);
	n = node(g, "OneHot", NULL, in, 3, hot);
	attr_int(g, n, "axis", -1);
	in[0] = hot;
	in[1] = init_int64(g, "shape", shape, &two, 1);
	node(g, "Reshape", NULL, in, 2, flat);
	return flat;
}

static const char *activation(struct gb *g, const char *x, enum cnai_act act)
{
	const char *in[2];
	char *out = tmp(g, "act");

	in[0] = x;
	switch (act) {
	case CNAI_ACT_NONE:
		return x;
	case CNAI_ACT_RELU:
		node(g, "Relu", NULL, in, 1, out);
		return out;
	case CNAI_ACT_TANH:
		node(g, "Tanh", NULL, in, 1, out);
		return out;
	case CNAI_ACT_GELU: {
		/* 0.5 x (1 + erf(x / sqrt 2)), as gpu/cpu.c computes it */
		char *s = tmp(g, "gelu_scaled"), *e = tmp(g, "gelu_erf");
		char *e1 = tmp(g, "gelu_1p"), *h = tmp(g, "gelu_half");

		in[1] = init_scalar(g, "inv_sqrt2", (float)M_SQRT1_2);
		node(g, "Mul", NULL, in, 2, s);
		in[0] = s;
		node(g, "Erf", NULL, in, 1, e);
		in[0] = e;
		in[1] = init_scalar(g, "one", 1.0f);
		node(g, "Add", NULL, in, 2, e1);
		in[0] = x;
		in[1] = init_scalar(g, "half", 0.5f);
		node(g, "Mul", NULL, in, 2, h);
		in[0] = h;
		in[1] = e1;
		node(g, "Mul", NULL, in, 2, out);
		return out;
	}
	}
	return x;
}

static void free_arena(struct gb *g)
{
	size_t i;

	for (i = 0; i < g->narena; i++)
		free(g->arena[i]);
	free(g->arena);
	free(g->nodes);
	free(g->inits);
}

/*
 * Adds the model's head after `x` (the last layer's output): the target
 * unscaled for a regression ("prediction"), or the class probabilities and
 * the label for a classifier. Fills `outputs` and returns their number.
 */
static size_t add_head(struct gb *g, const struct cnai_ml_model *m,
		       const char *x, Onnx__ValueInfoProto **outputs)
{
	const char *in[3];
	int64_t dims[2];

	if (m->head == CNAI_HEAD_IDENTITY) {
		char *s = tmp(g, "unscaled");
		float ystd = m->y_std, ymean = m->y_mean;

		in[0] = x;
		in[1] = init_scalar(g, "target_std", ystd);
		node(g, "Mul", NULL, in, 2, s);
		in[0] = s;
		in[1] = init_scalar(g, "target_mean", ymean);
		node(g, "Add", NULL, in, 2, "prediction");
		dims[0] = -1;
		dims[1] = 1;
		outputs[0] = value_info(g, "prediction", T_FLOAT, dims, 2);
		return 1;
	} else {
		int64_t *cv = A(g, (m->nclasses + 1) * sizeof(int64_t));
		int64_t nc = (int64_t)m->nclasses;
		int ints = cv && int_classes(m, cv);
		char *am = tmp(g, "argmax");
		Onnx__NodeProto *n;

		in[0] = x;
		if (m->head == CNAI_HEAD_SOFTMAX) {
			n = node(g, "Softmax", NULL, in, 1, "probabilities");
			attr_int(g, n, "axis", 1);
		} else {
			char *p = tmp(g, "p1"), *q = tmp(g, "p0");

			node(g, "Sigmoid", NULL, in, 1, p);
			in[0] = init_scalar(g, "one", 1.0f);
			in[1] = p;
			node(g, "Sub", NULL, in, 2, q);
			in[0] = q;
			in[1] = p;
			n = node(g, "Concat", NULL, in, 2, "probabilities");
			attr_int(g, n, "axis", 1);
		}
		in[0] = "probabilities";
		n = node(g, "ArgMax", NULL, in, 1, am);
		attr_int(g, n, "axis", 1);
		attr_int(g, n, "keepdims", 0);
		in[0] = ints ? init_int64(g, "classes", cv, &nc, 1)
			     : init_strings(g, "classes", m->classes,
					    m->nclasses);
		in[1] = am;
		node(g, "Gather", NULL, in, 2, "label");
		dims[0] = -1;
		dims[1] = nc;
		outputs[0] = value_info(g, "probabilities", T_FLOAT, dims, 2);
		outputs[1] = value_info(g, "label", ints ? T_INT64 : T_STRING,
					dims, 1);
		return 2;
	}
}

int cnai_ml_onnx_write(struct cnai_buf *buf, const struct cnai_ml_model *m)
{
	struct gb g = { 0 };
	Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
	Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
	Onnx__OperatorSetIdProto ops[2] = { ONNX__OPERATOR_SET_ID_PROTO__INIT,
					    ONNX__OPERATOR_SET_ID_PROTO__INIT };
	Onnx__OperatorSetIdProto *opp[2] = { &ops[0], &ops[1] };
	Onnx__ValueInfoProto **inputs, *outputs[2];
	const char **parts, *x, *in[3];
	size_t nparts = 0, ninputs = 0, i, len;
	int64_t dims[2];
	int ncat = (int)(m->prep.n - m->prep.nnumeric), err = 0;
	uint8_t *bytes;

	inputs = A(&g, (m->prep.n + 1) * sizeof(*inputs));
	parts = A(&g, (m->prep.n + 1) * sizeof(*parts));
	if (!inputs || !parts)
		goto oom;
	if (m->prep.nnumeric) {
		dims[0] = -1;
		dims[1] = (int64_t)m->prep.nnumeric;
		inputs[ninputs++] = value_info(&g, "input", T_FLOAT, dims, 2);
		parts[nparts++] = numeric_part(&g, &m->prep);
	}
	for (i = m->prep.nnumeric; i < m->prep.n; i++) {
		dims[0] = -1;
		dims[1] = 1;
		inputs[ninputs++] = value_info(&g, m->prep.f[i].name, T_STRING,
					       dims, 2);
		parts[nparts++] = categorical_part(&g, &m->prep.f[i]);
	}
	if (g.oom)
		goto oom;
	x = parts[0];
	if (nparts > 1) {
		Onnx__NodeProto *n;

		x = tmp(&g, "features");
		n = node(&g, "Concat", NULL, parts, nparts, x);
		attr_int(&g, n, "axis", 1);
	}
	for (i = 0; i < m->nlayers; i++) {
		const struct cnai_ml_dense *d = &m->layers[i];
		int64_t wd[2] = { d->in, d->out }, bd = d->out;
		char *z = tmp(&g, "dense");

		in[0] = x;
		in[1] = init_float(&g, "weight", d->w, wd, 2);
		in[2] = init_float(&g, "bias", d->b, &bd, 1);
		node(&g, "Gemm", NULL, in, 3, z);
		x = i + 1 < m->nlayers ? activation(&g, z, m->act) : z;
	}
	graph.n_output = add_head(&g, m, x, outputs);
	if (g.oom)
		goto oom;
	graph.name = "cnai";
	graph.node = g.nodes;
	graph.n_node = g.nnodes;
	graph.initializer = g.inits;
	graph.n_initializer = g.ninits;
	graph.input = inputs;
	graph.n_input = ninputs;
	graph.output = outputs;
	ops[0].domain = "";
	ops[0].has_version = 1;
	ops[0].version = 13;
	ops[1].domain = "ai.onnx.ml";
	ops[1].has_version = 1;
	ops[1].version = 2;
	model.has_ir_version = 1;
	model.ir_version = 8;
	model.opset_import = opp;
	model.n_opset_import = ncat ? 2 : 1;
	model.producer_name = "cnai";
	model.producer_version = CNAI_VERSION;
	model.graph = &graph;
	len = onnx__model_proto__get_packed_size(&model);
	if ((err = cnai_buf_grow(buf, len)) < 0)
		goto cleanup;
	bytes = (uint8_t *)buf->buf + buf->len;
	onnx__model_proto__pack(&model, bytes);
	buf->len += len;
	buf->buf[buf->len] = '\0';
	goto cleanup;
oom:
	err = cnai_error_set(CNAI_ERROR, "out of memory");
cleanup:
	free_arena(&g);
	return err;
}
