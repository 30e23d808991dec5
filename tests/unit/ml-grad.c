/*
 * Gradient checks for every layer and loss: the trainer's own forward and
 * backward pass (cnai_ml_batch_gradient, CPU backend) against central
 * finite differences of its loss, for each activation (none, relu, tanh,
 * gelu), each head and loss (softmax + cross-entropy, sigmoid + binary
 * cross-entropy, identity + squared error), with and without dropout.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/ml/model.h"
#include "core/ml/train.h"
#include "gpu/backend.h"
#include "core/util/banned.h"

enum { ROWS = 7, WIDTH = 5, CLASSES = 3 };

static struct cnai_backend *be;

static int setup(void **state)
{
	return cnai_backend_cpu_open(&be, 1);
}

static int teardown(void **state)
{
	be->close(be);
	return 0;
}

static void check(enum cnai_ml_kind kind, enum cnai_ml_head head,
		  enum cnai_act act, float dropout)
{
	static const int hidden[2] = { 4, 3 };
	struct cnai_ml_model m;
	float x[ROWS * WIDTH], y[ROWS], *grad, *params[8];
	int32_t labels[ROWS];
	size_t sizes[8], np = 0, i, l, k, nparams;
	uint64_t s = 42;
	double loss, lp, lm, worst = 0;

	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.head = head;
	m.act = act;
	m.dropout = dropout;
	m.nclasses = head == CNAI_HEAD_SOFTMAX ? CLASSES : 2;
	m.prep.width = WIDTH;
	m.y_std = 1.0f;
	assert_int_equal(cnai_ml_model_init_layers(&m, hidden, 2, 7), 0);
	for (l = 0; l < m.nlayers; l++) {
		for (k = 0; k < (size_t)m.layers[l].out; k++)
			m.layers[l].b[k] =
				(float)(cnai_ml_rand_unit(&s) - 0.5);
		params[np] = m.layers[l].w;
		sizes[np++] = (size_t)m.layers[l].in * m.layers[l].out;
		params[np] = m.layers[l].b;
		sizes[np++] = (size_t)m.layers[l].out;
	}
	for (i = 0; i < ROWS * WIDTH; i++)
		x[i] = (float)(2 * cnai_ml_rand_unit(&s) - 1);
	for (i = 0; i < ROWS; i++) {
		labels[i] = (int32_t)(cnai_ml_rand(&s) % m.nclasses);
		y[i] = (float)(2 * cnai_ml_rand_unit(&s) - 1);
	}
	nparams = cnai_ml_model_nparams(&m);
	grad = calloc(nparams, sizeof(float));
	assert_non_null(grad);
	assert_int_equal(cnai_ml_batch_gradient(&m, be, x, labels, y, ROWS,
						dropout > 0, 99, &loss, grad),
			 0);
	assert_true(isfinite(loss));
	k = 0;
	for (l = 0; l < np; l++)
		for (i = 0; i < sizes[l]; i++, k++) {
			float keep = params[l][i];
			const float h = 1e-3f;
			double num, diff;

			params[l][i] = keep + h;
			cnai_ml_batch_gradient(&m, be, x, labels, y, ROWS,
					       dropout > 0, 99, &lp, NULL);
			params[l][i] = keep - h;
			cnai_ml_batch_gradient(&m, be, x, labels, y, ROWS,
					       dropout > 0, 99, &lm, NULL);
			params[l][i] = keep;
			num = (lp - lm) / (2.0 * h);
			diff = fabs(num - grad[k]) /
			       (2e-3 + 0.02 * fabs(num));
			if (diff > worst)
				worst = diff;
			if (diff > 1.0)
				fail_msg("parameter %zu of tensor %zu: "
					 "analytic %g, numeric %g", i, l,
					 (double)grad[k], num);
		}
	assert_int_equal(k, nparams);
	free(grad);
	m.nclasses = 0;
	for (l = 0; l < m.nlayers; l++) {
		free(m.layers[l].w);
		free(m.layers[l].b);
	}
	free(m.layers);
}

static void test_grad__softmax_regression(void **state)
{
	check(CNAI_ML_SOFTMAX, CNAI_HEAD_SOFTMAX, CNAI_ACT_NONE, 0);
}

static void test_grad__logistic_regression(void **state)
{
	check(CNAI_ML_LOGISTIC, CNAI_HEAD_SIGMOID, CNAI_ACT_NONE, 0);
}

static void test_grad__linear_regression(void **state)
{
	check(CNAI_ML_LINEAR, CNAI_HEAD_IDENTITY, CNAI_ACT_NONE, 0);
}

static void test_grad__mlp_relu_softmax(void **state)
{
	check(CNAI_ML_MLP, CNAI_HEAD_SOFTMAX, CNAI_ACT_RELU, 0);
}

static void test_grad__mlp_tanh_softmax(void **state)
{
	check(CNAI_ML_MLP, CNAI_HEAD_SOFTMAX, CNAI_ACT_TANH, 0);
}

static void test_grad__mlp_gelu_softmax(void **state)
{
	check(CNAI_ML_MLP, CNAI_HEAD_SOFTMAX, CNAI_ACT_GELU, 0);
}

static void test_grad__mlp_tanh_sigmoid(void **state)
{
	check(CNAI_ML_MLP, CNAI_HEAD_SIGMOID, CNAI_ACT_TANH, 0);
}

static void test_grad__mlp_gelu_mse(void **state)
{
	check(CNAI_ML_MLP, CNAI_HEAD_IDENTITY, CNAI_ACT_GELU, 0);
}

static void test_grad__mlp_relu_mse(void **state)
{
	check(CNAI_ML_MLP, CNAI_HEAD_IDENTITY, CNAI_ACT_RELU, 0);
}

static void test_grad__mlp_tanh_dropout(void **state)
{
	check(CNAI_ML_MLP, CNAI_HEAD_SOFTMAX, CNAI_ACT_TANH, 0.3f);
}

static void test_grad__mlp_gelu_dropout_mse(void **state)
{
	check(CNAI_ML_MLP, CNAI_HEAD_IDENTITY, CNAI_ACT_GELU, 0.5f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grad__softmax_regression),
		cmocka_unit_test(test_grad__logistic_regression),
		cmocka_unit_test(test_grad__linear_regression),
		cmocka_unit_test(test_grad__mlp_relu_softmax),
		cmocka_unit_test(test_grad__mlp_tanh_softmax),
		cmocka_unit_test(test_grad__mlp_gelu_softmax),
		cmocka_unit_test(test_grad__mlp_tanh_sigmoid),
		cmocka_unit_test(test_grad__mlp_gelu_mse),
		cmocka_unit_test(test_grad__mlp_relu_mse),
		cmocka_unit_test(test_grad__mlp_tanh_dropout),
		cmocka_unit_test(test_grad__mlp_gelu_dropout_mse),
	};

	return cmocka_run_group_tests_name("ml-grad", tests, setup, teardown);
}
