/*
 * Tests for registry/image.c: the image builder on a bare OCI layout, with
 * no store behind it. A modelcar holds the model's files under /models in
 * one layer; the same inputs give the same digest; the caller's layer
 * cache is asked before a layer is compressed and told of each one built;
 * an artifact is the model's manifest with the annotations added.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "registry/image.h"
#include "registry/oci.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

/* A cache of one entry, counting what the builder asks. */
struct cache {
	int gets, hits, puts;
	char key[CNAI_DIGEST_LEN];
	struct cnai_layer_info layer;
};

static int cache_get(void *arg, const char *key, struct cnai_layer_info *out)
{
	struct cache *c = arg;

	c->gets++;
	if (!c->puts || strcmp(key, c->key))
		return cnai_error_set(CNAI_ENOTFOUND, "no layer");
	c->hits++;
	memcpy(out->digest, c->layer.digest, sizeof(out->digest));
	memcpy(out->diff_id, c->layer.diff_id, sizeof(out->diff_id));
	out->size = c->layer.size;
	return 0;
}

static int cache_put(void *arg, const char *key,
		     const struct cnai_layer_info *l)
{
	struct cache *c = arg;

	c->puts++;
	snprintf(c->key, sizeof(c->key), "%s", key);
	c->layer = *l;
	return 0;
}

/* A layout in the fixture's folder and a model of one file in it. */
static void setup_model(struct fixture *fx, char layout[600],
			struct cnai_image_file *file,
			struct cnai_image_model *m)
{
	static char src[700];

	snprintf(layout, 600, "%s/oci", fx->dir);
	assert_int_equal(cnai_oci_layout_init(layout), 0);
	assert_int_equal(fixture_write(fx, "model.onnx", "weights", 7), 0);
	snprintf(src, sizeof(src), "%s/model.onnx", fx->dir);
	file->src = src;
	file->path = "model.onnx";
	memset(m, 0, sizeof(*m));
	m->name = "tiny";
	m->version = 3;
	m->manifest_digest = "sha256:"
			     "0000000000000000000000000000000000000000000000000"
			     "000000000000000";
	m->files = file;
	m->nfiles = 1;
}

static void test_image__modelcar_is_reproducible_and_cached(void **state)
{
	struct fixture *fx = *state;
	struct cnai_image_opts o = { 0 };
	struct cache c = { 0 };
	struct cnai_image_cache cache = { cache_get, cache_put, &c };
	struct cnai_image_file file;
	struct cnai_image_model m;
	struct cnai_oci_desc a, b;
	json_t *man = NULL;
	char layout[600];

	setup_model(fx, layout, &file, &m);
	o.format = CNAI_IMAGE_MODELCAR;
	o.created_by = "test";
	o.cache = &cache;
	assert_int_equal(cnai_image_build(&a, layout, &m, NULL, NULL, &o), 0);
	assert_int_equal(c.puts, 1);
	assert_int_equal(c.hits, 0);
	/* The second build takes its layer from the cache: same digest. */
	assert_int_equal(cnai_image_build(&b, layout, &m, NULL, NULL, &o), 0);
	assert_int_equal(c.hits, 1);
	assert_int_equal(c.puts, 1);
	assert_string_equal(a.digest, b.digest);
	assert_int_equal(cnai_oci_json_read(&man, layout, a.digest), 0);
	assert_int_equal(json_array_size(json_object_get(man, "layers")), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(man, "annotations"),
				    "org.opencontainers.image.title")),
			    "tiny");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(man, "annotations"),
				    "org.opencontainers.image.created")),
			    "1970-01-01T00:00:00Z");
	json_decref(man);
}

static void test_image__base_for_another_platform_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct cnai_image_opts o = { 0 };
	struct cnai_image_file file;
	struct cnai_image_model m;
	struct cnai_oci_desc base, out;
	char layout[600];

	setup_model(fx, layout, &file, &m);
	/* An arm64 modelcar serves as the base of an amd64 one. */
	o.format = CNAI_IMAGE_MODELCAR;
	o.created_by = "test";
	o.platform = "linux/arm64";
	assert_int_equal(cnai_image_build(&base, layout, &m, NULL, NULL, &o),
			 0);
	o.platform = NULL;
	assert_int_equal(cnai_image_build(&out, layout, &m, &base, "arm",
					  &o),
			 CNAI_EINVALID);
	assert_non_null(strstr(fixture_errmsg(), "base image 'arm' is for "
				"linux/arm64, not linux/amd64"));
	/* With the platform it is for, it is a base like any other. */
	o.platform = "linux/arm64";
	assert_int_equal(cnai_image_build(&out, layout, &m, &base, "arm", &o),
			 0);
	assert_string_not_equal(out.digest, base.digest);
}

static void test_image__serve_refuses_a_foreign_platform(void **state)
{
	struct cnai_image_opts o = { 0 };

	(void)state;
	o.format = CNAI_IMAGE_SERVE;
	o.platform = "plan9/mips";
	assert_int_equal(cnai_image_check_platform(&o), CNAI_EUSAGE);
	o.format = CNAI_IMAGE_MODELCAR;
	assert_int_equal(cnai_image_check_platform(&o), 0);
	cnai_error_clear();
}

static void test_image__artifact_adds_annotations(void **state)
{
	struct fixture *fx = *state;
	static const char *const ann[] = { "team=ml" };
	struct cnai_image_opts o = { 0 };
	struct cnai_image_file file;
	struct cnai_image_model m;
	struct cnai_oci_desc mp, out;
	json_t *doc = json_pack("{s:i, s:s, s:{s:s}}", "schemaVersion", 2,
				"mediaType", CNAI_MEDIA_OCI_MANIFEST,
				"annotations", "keep", "me"),
	       *man = NULL, *a;
	char layout[600];

	setup_model(fx, layout, &file, &m);
	assert_int_equal(cnai_oci_json_put(&mp, layout, doc, NULL), 0);
	m.manifest_digest = mp.digest;
	o.format = CNAI_IMAGE_ARTIFACT;
	o.annotations = ann;
	o.nannotations = 1;
	assert_int_equal(cnai_image_build(&out, layout, &m, NULL, NULL, &o), 0);
	assert_int_equal(cnai_oci_json_read(&man, layout, out.digest), 0);
	a = json_object_get(man, "annotations");
	assert_string_equal(json_string_value(json_object_get(a, "keep")), "me");
	assert_string_equal(json_string_value(json_object_get(a, "team")), "ml");
	assert_string_equal(json_string_value(json_object_get(
				    a, "ai.cnai.model.digest")),
			    mp.digest);
	json_decref(doc);
	json_decref(man);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_dir, \
						fixture_teardown)
		T(test_image__modelcar_is_reproducible_and_cached),
		T(test_image__base_for_another_platform_is_refused),
		T(test_image__serve_refuses_a_foreign_platform),
		T(test_image__artifact_adds_annotations),
#undef T
	};

	return cmocka_run_group_tests_name("registry-image", tests, NULL, NULL);
}
