/*
 * Tests for cnai_ml_model_check_saved (core/ml/io.c): a model folder is
 * read back as predict reads it and compared with the model trained. A
 * feature name JSON cannot hold (not UTF-8) once left a cnai-model.json
 * that never loaded ("layer shapes do not chain") behind a training that
 * exited 0; the check turns that into an error before anything is
 * registered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/ml/io.h"
#include "core/ml/model.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

/* A logistic model over two numeric features named a and `b`. */
static struct cnai_ml_model *two_features(const char *b)
{
	struct cnai_ml_model *m = calloc(1, sizeof(*m));
	size_t i;

	assert_non_null(m);
	m->kind = CNAI_ML_LOGISTIC;
	m->head = CNAI_HEAD_SIGMOID;
	m->prep.n = m->prep.nnumeric = m->prep.width = 2;
	m->prep.f = calloc(2, sizeof(*m->prep.f));
	assert_non_null(m->prep.f);
	m->prep.f[0].name = strdup("a");
	m->prep.f[1].name = strdup(b);
	for (i = 0; i < 2; i++) {
		m->prep.f[i].mean = (float)i;
		m->prep.f[i].std = 1.0f;
	}
	m->target = strdup("y");
	m->nclasses = 2;
	m->classes = calloc(2, sizeof(char *));
	assert_non_null(m->classes);
	m->classes[0] = strdup("no");
	m->classes[1] = strdup("yes");
	assert_int_equal(cnai_ml_model_init_layers(m, NULL, 0, 3), 0);
	return m;
}

static void test_check__a_saved_model_loads_back_equal(void **state)
{
	struct fixture *fx = *state;
	struct cnai_ml_model *m = two_features("b");
	const char *dir = fixture_path(fx, "m");

	assert_int_equal(cnai_ml_model_save(m, dir, NULL), 0);
	assert_int_equal(cnai_ml_model_check_saved(m, dir), 0);
	cnai_ml_model_free(m);
}

static void test_check__a_name_json_cannot_hold_is_caught(void **state)
{
	struct fixture *fx = *state;
	struct cnai_ml_model *m = two_features("b\xff");
	char dir[600], want[1400];

	snprintf(dir, sizeof(dir), "%s", fixture_path(fx, "m"));
	assert_int_equal(cnai_ml_model_save(m, dir, NULL), 0);
	assert_int_equal(cnai_ml_model_check_saved(m, dir), CNAI_ERROR);
	snprintf(want, sizeof(want), "the model written to '%s' does not load "
		 "back (%s/cnai-model.json: layer shapes do not chain)", dir,
		 dir);
	assert_string_equal(fixture_errmsg(), want);
	cnai_ml_model_free(m);
}

static void test_check__other_weights_are_caught(void **state)
{
	struct fixture *fx = *state;
	struct cnai_ml_model *m = two_features("b");
	char dir[600], want[1400];

	snprintf(dir, sizeof(dir), "%s", fixture_path(fx, "m"));
	assert_int_equal(cnai_ml_model_save(m, dir, NULL), 0);
	m->layers[0].b[0] += 1.0f;
	assert_int_equal(cnai_ml_model_check_saved(m, dir), CNAI_ERROR);
	snprintf(want, sizeof(want),
		 "the model written to '%s' loads back with other weights",
		 dir);
	assert_string_equal(fixture_errmsg(), want);
	cnai_ml_model_free(m);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_dir, \
						 fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_check__a_saved_model_loads_back_equal),
		T(test_check__a_name_json_cannot_hold_is_caught),
		T(test_check__other_weights_are_caught),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
