/*
 * Tests for core/ml/onnx.c: the ONNX export of small hand-built models,
 * read back with protobuf-c, has the header onnxruntime needs (IR 8,
 * opset 13, ai.onnx.ml 2 only with a categorical feature), the inputs and
 * outputs cnai-model(5) documents with their types and shapes, the nodes
 * of the pipeline in order and wired one into the next, and the model's
 * numbers as initializers, bit for bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/ml/io.h"
#include "core/ml/model.h"
#include "core/util/buf.h"
#include "onnx/onnx.pb-c.h"
#include "core/util/banned.h"

enum { T_FLOAT = 1, T_INT64 = 7, T_STRING = 8 };

static Onnx__ModelProto *export(const struct cnai_ml_model *m)
{
	struct cnai_buf b = CNAI_BUF_INIT;
	Onnx__ModelProto *p;

	assert_int_equal(cnai_buf_adds(&b, "prefix"), 0);
	assert_int_equal(cnai_ml_onnx_write(&b, m), 0);
	/* appended to what the buffer held */
	assert_memory_equal(b.buf, "prefix", 6);
	p = onnx__model_proto__unpack(NULL, b.len - 6,
				      (const uint8_t *)b.buf + 6);
	assert_non_null(p);
	cnai_buf_release(&b);
	return p;
}

/* The graph's op types, space-separated, in order. */
static void assert_ops(const Onnx__GraphProto *g, const char *want)
{
	char got[1024] = "";
	size_t i, len = 0;

	for (i = 0; i < g->n_node; i++)
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
					i ? " " : "", g->node[i]->op_type);
	assert_string_equal(got, want);
}

static const Onnx__TensorProto *init(const Onnx__GraphProto *g,
				     const char *name)
{
	size_t i;

	for (i = 0; i < g->n_initializer; i++)
		if (!strcmp(g->initializer[i]->name, name))
			return g->initializer[i];
	fail_msg("no initializer '%s'", name);
	return NULL;
}

/* Node i's input j is an initializer holding exactly floats v[0, n). */
static void assert_init_floats(const Onnx__GraphProto *g, size_t i, size_t j,
			       const float *v, size_t n)
{
	const Onnx__TensorProto *t;

	assert_true(i < g->n_node && j < g->node[i]->n_input);
	t = init(g, g->node[i]->input[j]);
	assert_int_equal(t->data_type, T_FLOAT);
	assert_int_equal(t->raw_data.len, n * sizeof(float));
	assert_memory_equal(t->raw_data.data, v, n * sizeof(float));
}

/* A value's element type and shape ("N" for the batch, else numbers). */
static void assert_value(const Onnx__ValueInfoProto *v, const char *name,
			 int type, const char *shape)
{
	const Onnx__TypeProto__Tensor *t;
	char got[64] = "";
	size_t i, len = 0;

	assert_string_equal(v->name, name);
	assert_int_equal(v->type->value_case,
			 ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE);
	t = v->type->tensor_type;
	assert_int_equal(t->elem_type, type);
	for (i = 0; i < t->shape->n_dim; i++) {
		const Onnx__TensorShapeProto__Dimension *d = t->shape->dim[i];

		if (d->value_case ==
		    ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
			len += (size_t)snprintf(got + len, sizeof(got) - len,
						"%s%s", i ? "," : "",
						d->dim_param);
		else
			len += (size_t)snprintf(got + len, sizeof(got) - len,
						"%s%lld", i ? "," : "",
						(long long)d->dim_value);
	}
	assert_string_equal(got, shape);
}

/* Every node but the first few reads what an earlier one wrote or a
 * graph input or initializer: nothing dangles. */
static void assert_wired(const Onnx__GraphProto *g)
{
	size_t i, j, k;

	for (i = 0; i < g->n_node; i++)
		for (j = 0; j < g->node[i]->n_input; j++) {
			const char *in = g->node[i]->input[j];
			int found = 0;

			for (k = 0; k < g->n_input && !found; k++)
				found = !strcmp(g->input[k]->name, in);
			for (k = 0; k < g->n_initializer && !found; k++)
				found = !strcmp(g->initializer[k]->name, in);
			for (k = 0; k < i && !found; k++)
				found = !strcmp(g->node[k]->output[0], in);
			if (!found)
				fail_msg("node %zu (%s) reads '%s', which "
					 "nothing wrote", i,
					 g->node[i]->op_type, in);
		}
	for (i = 0; i < g->n_output; i++) {
		int found = 0;

		for (k = 0; k < g->n_node && !found; k++)
			found = !strcmp(g->node[k]->output[0],
					g->output[i]->name);
		assert_true(found);
	}
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n,
					const char *name)
{
	size_t i;

	for (i = 0; i < n->n_attribute; i++)
		if (!strcmp(n->attribute[i]->name, name))
			return n->attribute[i];
	fail_msg("%s has no attribute '%s'", n->op_type, name);
	return NULL;
}

/* Two numeric features (a, b) and a categorical one (color: red, green,
 * blue; mode green), one hidden layer of 4, three classes by name. */
static float w1[5 * 4], b1[4], w2[4 * 3], b2[3];
static struct cnai_ml_feature feats[3];
static char *cats[] = { "red", "green", "blue" };
static char *species[] = { "setosa", "versicolor", "virginica" };
static struct cnai_ml_dense layers[2];

static void softmax_model(struct cnai_ml_model *m)
{
	size_t i;

	for (i = 0; i < 20; i++)
		w1[i] = (float)i * 0.25f - 2.0f;
	for (i = 0; i < 12; i++)
		w2[i] = 1.0f / (float)(i + 1);
	for (i = 0; i < 4; i++)
		b1[i] = (float)i;
	for (i = 0; i < 3; i++)
		b2[i] = -(float)i;
	memset(feats, 0, sizeof(feats));
	feats[0] = (struct cnai_ml_feature){ "a", 0, 1.5f, 0.5f, 1.25f,
					     NULL, 0, 0 };
	feats[1] = (struct cnai_ml_feature){ "b", 0, -3.0f, 2.0f, -2.75f,
					     NULL, 0, 0 };
	feats[2] = (struct cnai_ml_feature){ "color", 1, 0, 0, 0, cats, 3, 1 };
	layers[0] = (struct cnai_ml_dense){ 5, 4, w1, b1 };
	layers[1] = (struct cnai_ml_dense){ 4, 3, w2, b2 };
	memset(m, 0, sizeof(*m));
	m->kind = CNAI_ML_MLP;
	m->head = CNAI_HEAD_SOFTMAX;
	m->act = CNAI_ACT_RELU;
	m->layers = layers;
	m->nlayers = 2;
	m->prep.f = feats;
	m->prep.n = 3;
	m->prep.nnumeric = 2;
	m->prep.width = 5;
	m->target = "species";
	m->classes = species;
	m->nclasses = 3;
}

static void test_onnx__header_and_opsets(void **state)
{
	struct cnai_ml_model m;
	Onnx__ModelProto *p;

	softmax_model(&m);
	p = export(&m);
	assert_int_equal(p->ir_version, 8);
	assert_string_equal(p->producer_name, "cnai");
	assert_int_equal(p->n_opset_import, 2);
	assert_string_equal(p->opset_import[0]->domain, "");
	assert_int_equal(p->opset_import[0]->version, 13);
	assert_string_equal(p->opset_import[1]->domain, "ai.onnx.ml");
	assert_int_equal(p->opset_import[1]->version, 2);
	assert_string_equal(p->graph->name, "cnai");
	onnx__model_proto__free_unpacked(p, NULL);
}

static void test_onnx__softmax_classifier_graph(void **state)
{
	static const float mean[] = { 1.5f, -3.0f }, std[] = { 0.5f, 2.0f },
			   fill[] = { 1.25f, -2.75f };
	struct cnai_ml_model m;
	Onnx__ModelProto *p;
	const Onnx__GraphProto *g;
	const Onnx__AttributeProto *a;
	const Onnx__TensorProto *t;
	size_t i;

	softmax_model(&m);
	p = export(&m);
	g = p->graph;
	assert_ops(g, "IsNaN Where Sub Div LabelEncoder OneHot Reshape Concat "
		      "Gemm Relu Gemm Softmax ArgMax Gather");
	assert_wired(g);
	assert_int_equal(g->n_input, 2);
	assert_value(g->input[0], "input", T_FLOAT, "N,2");
	assert_value(g->input[1], "color", T_STRING, "N,1");
	assert_int_equal(g->n_output, 2);
	assert_value(g->output[0], "probabilities", T_FLOAT, "N,3");
	assert_value(g->output[1], "label", T_STRING, "N");

	/* imputation and standardisation with the features' numbers */
	assert_string_equal(g->node[0]->input[0], "input");
	assert_init_floats(g, 1, 1, fill, 2);
	assert_init_floats(g, 2, 1, mean, 2);
	assert_init_floats(g, 3, 1, std, 2);

	/* categories to indexes, "" to the mode, anything else to K */
	assert_string_equal(g->node[4]->domain, "ai.onnx.ml");
	assert_string_equal(g->node[4]->input[0], "color");
	a = attr(g->node[4], "keys_strings");
	assert_int_equal(a->n_strings, 4);
	for (i = 0; i < 3; i++)
		assert_memory_equal(a->strings[i].data, cats[i],
				    strlen(cats[i]));
	assert_int_equal(a->strings[3].len, 0);
	a = attr(g->node[4], "values_int64s");
	assert_int_equal(a->n_ints, 4);
	assert_int_equal(a->ints[0], 0);
	assert_int_equal(a->ints[2], 2);
	assert_int_equal(a->ints[3], 1); /* the mode */
	assert_int_equal(attr(g->node[4], "default_int64")->i, 3);
	t = init(g, g->node[5]->input[1]);
	assert_int_equal(t->int64_data[0], 3); /* OneHot depth */

	/* the layers' weights and biases, bit for bit, in shape */
	assert_init_floats(g, 8, 1, w1, 20);
	assert_init_floats(g, 8, 2, b1, 4);
	t = init(g, g->node[8]->input[1]);
	assert_int_equal(t->n_dims, 2);
	assert_int_equal(t->dims[0], 5);
	assert_int_equal(t->dims[1], 4);
	assert_init_floats(g, 10, 1, w2, 12);
	assert_init_floats(g, 10, 2, b2, 3);
	assert_int_equal(attr(g->node[11], "axis")->i, 1);
	assert_int_equal(attr(g->node[12], "keepdims")->i, 0);

	/* the label is the class name */
	t = init(g, g->node[13]->input[0]);
	assert_int_equal(t->data_type, T_STRING);
	assert_int_equal(t->n_string_data, 3);
	assert_memory_equal(t->string_data[2].data, "virginica", 9);
	onnx__model_proto__free_unpacked(p, NULL);
}

static void test_onnx__logistic_with_integer_classes(void **state)
{
	static float w[2] = { 0.5f, -1.0f }, b[1] = { 0.125f };
	static struct cnai_ml_dense l[1] = { { 2, 1, w, b } };
	static char *cls[] = { "0", "7" };
	struct cnai_ml_model m;
	Onnx__ModelProto *p;
	const Onnx__GraphProto *g;
	const Onnx__TensorProto *t;

	softmax_model(&m);
	m.kind = CNAI_ML_LOGISTIC;
	m.head = CNAI_HEAD_SIGMOID;
	m.prep.n = m.prep.nnumeric = m.prep.width = 2; /* numeric only */
	m.layers = l;
	m.nlayers = 1;
	m.classes = cls;
	m.nclasses = 2;
	p = export(&m);
	g = p->graph;
	assert_int_equal(p->n_opset_import, 1); /* no ai.onnx.ml */
	assert_ops(g, "IsNaN Where Sub Div Gemm Sigmoid Sub Concat ArgMax "
		      "Gather");
	assert_wired(g);
	assert_int_equal(g->n_input, 1);
	assert_value(g->output[0], "probabilities", T_FLOAT, "N,2");
	/* p0 = 1 - p1 first: the columns are the classes in order */
	assert_string_equal(g->node[6]->input[1], g->node[5]->output[0]);
	assert_string_equal(g->node[7]->input[0], g->node[6]->output[0]);
	assert_string_equal(g->node[7]->input[1], g->node[5]->output[0]);
	/* integer classes: an int64 label */
	assert_value(g->output[1], "label", T_INT64, "N");
	t = init(g, g->node[9]->input[0]);
	assert_int_equal(t->data_type, T_INT64);
	assert_int_equal(t->n_int64_data, 2);
	assert_int_equal(t->int64_data[0], 0);
	assert_int_equal(t->int64_data[1], 7);
	onnx__model_proto__free_unpacked(p, NULL);
}

static void test_onnx__regression_unscales_the_target(void **state)
{
	static float w1g[2 * 3] = { 1, 2, 3, 4, 5, 6 }, b1g[3] = { 0 },
		     w2g[3] = { 0.5f, 0.25f, 0.125f }, b2g[1] = { 1 };
	static struct cnai_ml_dense l[2] = { { 2, 3, w1g, b1g },
					     { 3, 1, w2g, b2g } };
	struct cnai_ml_model m;
	Onnx__ModelProto *p;
	const Onnx__GraphProto *g;
	float ystd = 12.5f, ymean = -40.0f;

	softmax_model(&m);
	m.kind = CNAI_ML_MLP;
	m.head = CNAI_HEAD_IDENTITY;
	m.act = CNAI_ACT_GELU;
	m.prep.n = m.prep.nnumeric = m.prep.width = 2;
	m.layers = l;
	m.nlayers = 2;
	m.classes = NULL;
	m.nclasses = 0;
	m.y_mean = ymean;
	m.y_std = ystd;
	p = export(&m);
	g = p->graph;
	/* GELU as 0.5 x (1 + erf(x / sqrt 2)), then y * std + mean */
	assert_ops(g, "IsNaN Where Sub Div Gemm Mul Erf Add Mul Mul Gemm Mul "
		      "Add");
	assert_wired(g);
	assert_int_equal(g->n_output, 1);
	assert_value(g->output[0], "prediction", T_FLOAT, "N,1");
	assert_init_floats(g, 11, 1, &ystd, 1);
	assert_init_floats(g, 12, 1, &ymean, 1);
	assert_string_equal(g->node[12]->output[0], "prediction");
	onnx__model_proto__free_unpacked(p, NULL);
}

static void test_onnx__categorical_only_input(void **state)
{
	static float w[3 * 2] = { 1, 0, 0, 1, 1, 1 }, b[2] = { 0, 0 };
	static struct cnai_ml_dense l[1] = { { 3, 2, w, b } };
	struct cnai_ml_model m;
	Onnx__ModelProto *p;
	const Onnx__GraphProto *g;

	softmax_model(&m);
	m.prep.f = &feats[2];
	m.prep.n = 1;
	m.prep.nnumeric = 0;
	m.prep.width = 3;
	m.layers = l;
	m.nlayers = 1;
	m.classes = species;
	m.nclasses = 2;
	p = export(&m);
	g = p->graph;
	/* no "input" tensor and no Concat of a single part */
	assert_int_equal(g->n_input, 1);
	assert_value(g->input[0], "color", T_STRING, "N,1");
	assert_ops(g, "LabelEncoder OneHot Reshape Gemm Softmax ArgMax Gather");
	assert_wired(g);
	onnx__model_proto__free_unpacked(p, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_onnx__header_and_opsets),
		cmocka_unit_test(test_onnx__softmax_classifier_graph),
		cmocka_unit_test(test_onnx__logistic_with_integer_classes),
		cmocka_unit_test(test_onnx__regression_unscales_the_target),
		cmocka_unit_test(test_onnx__categorical_only_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
