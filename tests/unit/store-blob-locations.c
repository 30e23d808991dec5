/*
 * Tests for core/store/blob_locations.c: the repository to mount from is
 * the one of the same registry holding the most of an image's blobs,
 * never the repository pushed to, and none when no other repository of
 * that registry has any.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/store/blob_locations.h"
#include "core/store/store.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

static void test_blob_locations__best_holds_most_blobs(void **state)
{
	struct fixture *fx = *state;
	json_t *one = json_pack("[s]", "sha256:aa");
	json_t *three = json_pack("[s, s, s]", "sha256:aa", "sha256:bb",
				  "sha256:cc");
	char *repo = NULL;

	assert_int_equal(cnai_blob_locations_add(fx->st, "r:5000", "one", one),
			 0);
	assert_int_equal(cnai_blob_locations_add(fx->st, "r:5000", "two",
						 three), 0);
	assert_int_equal(cnai_blob_locations_add(fx->st, "other:5000", "three",
						 three), 0);
	/* recording again is not an error, and counts once */
	assert_int_equal(cnai_blob_locations_add(fx->st, "r:5000", "one", one),
			 0);
	assert_int_equal(cnai_blob_locations_best(&repo, fx->st, "r:5000",
						  "new", three), 0);
	assert_string_equal(repo, "two");
	free(repo);
	/* never the repository pushed to */
	assert_int_equal(cnai_blob_locations_best(&repo, fx->st, "r:5000",
						  "two", three), 0);
	assert_string_equal(repo, "one");
	free(repo);
	json_decref(one);
	json_decref(three);
}

static void test_blob_locations__none_elsewhere_is_null(void **state)
{
	struct fixture *fx = *state;
	json_t *blobs = json_pack("[s, s]", "sha256:aa", "sha256:bb");
	char *repo = (char *)"unset";

	assert_int_equal(cnai_blob_locations_best(&repo, fx->st, "r:5000", "a",
						  blobs), 0);
	assert_null(repo);
	assert_int_equal(cnai_blob_locations_add(fx->st, "r:5000", "a", blobs),
			 0);
	assert_int_equal(cnai_blob_locations_best(&repo, fx->st, "r:5000", "a",
						  blobs), 0);
	assert_null(repo);
	assert_int_equal(cnai_blob_locations_best(&repo, fx->st, "q:5000", "b",
						  blobs), 0);
	assert_null(repo);
	json_decref(blobs);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_store, \
						fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_blob_locations__best_holds_most_blobs),
		T(test_blob_locations__none_elsewhere_is_null),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
