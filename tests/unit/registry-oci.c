/*
 * Tests for registry/oci.c: layouts, blobs (named by sha256, checked when
 * read), canonical documents (exact bytes, so digests are stable), tags in
 * index.json (moved, shared, removed), resolution by tag, digest and
 * platform, and the push order cnai_oci_walk() gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/hash.h"
#include "registry/oci.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

static const char *layout(struct fixture *fx)
{
	static char p[600];

	snprintf(p, sizeof(p), "%s/oci", fx->dir);
	return p;
}

static json_t *index_json(struct fixture *fx)
{
	json_t *j = NULL;

	assert_int_equal(cnai_oci_index_read(&j, layout(fx)), 0);
	return j;
}

static void put_desc(struct fixture *fx, struct cnai_oci_desc *d,
		     const char *text)
{
	assert_int_equal(cnai_oci_blob_put(d->digest, layout(fx), text,
					   strlen(text)), 0);
	snprintf(d->media_type, sizeof(d->media_type), "%s",
		 CNAI_MEDIA_OCI_MANIFEST);
	d->size = strlen(text);
}

static void test_oci__layout_init_is_idempotent(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf b = CNAI_BUF_INIT;
	char p[700];

	assert_int_equal(cnai_oci_layout_init(layout(fx)), 0);
	snprintf(p, sizeof(p), "%s/oci-layout", layout(fx));
	assert_int_equal(cnai_fs_read_file(&b, p, 0), 0);
	assert_string_equal(b.buf, "{\"imageLayoutVersion\":\"1.0.0\"}");
	snprintf(p, sizeof(p), "%s/blobs/sha256", layout(fx));
	assert_true(cnai_fs_is_dir(p));
	assert_int_equal(cnai_oci_layout_init(layout(fx)), 0);
	cnai_buf_release(&b);
}

static void test_oci__blob_read_refuses_a_tampered_blob(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf b = CNAI_BUF_INIT, p = CNAI_BUF_INIT;
	char d[CNAI_DIGEST_LEN];
	uint64_t size = 0;

	assert_int_equal(cnai_oci_layout_init(layout(fx)), 0);
	assert_int_equal(cnai_oci_blob_put(d, layout(fx), "abc", 3), 0);
	assert_true(cnai_oci_blob_exists(layout(fx), d));
	assert_int_equal(cnai_oci_blob_read(&b, layout(fx), d, 0), 0);
	assert_string_equal(b.buf, "abc");
	assert_int_equal(cnai_oci_blob_verify(&size, layout(fx), d), 0);
	assert_int_equal(size, 3);
	/* a blob is read-only; tamper as an owner could */
	assert_int_equal(cnai_oci_blob_path(&p, layout(fx), d), 0);
	assert_int_equal(chmod(p.buf, 0644), 0);
	assert_int_equal(cnai_fs_write_atomic(p.buf, "abd", 3, 0644), 0);
	cnai_buf_reset(&b);
	assert_int_equal(cnai_oci_blob_read(&b, layout(fx), d, 0),
			 CNAI_ECHECK);
	assert_non_null(strstr(fixture_errmsg(), "is corrupt"));
	assert_int_equal(cnai_oci_blob_verify(NULL, layout(fx), d),
			 CNAI_ECHECK);
	assert_int_equal(cnai_oci_blob_read(&b, layout(fx),
					    CNAI_OCI_EMPTY_DIGEST, 0),
			 CNAI_ENOTFOUND);
	/* no temporary file left behind */
	cnai_buf_reset(&p);
	cnai_buf_addf(&p, "%s/blobs/sha256", layout(fx));
	assert_int_equal(fixture_count_prefixed(p.buf, ".tmp"), 0);
	cnai_buf_release(&b);
	cnai_buf_release(&p);
}

static void test_oci__config_and_manifest_are_canonical(void **state)
{
	struct fixture *fx = *state;
	static const char *const ep[] = { "/usr/local/bin/cnai", "serve",
					   "/models/digits", NULL };
	static const char *const env[] = { "PATH=/usr/bin", NULL };
	static const char *const ports[] = { "8080", NULL };
	static const char *const labels[] = { "b=2", "a=1", NULL };
	struct cnai_oci_image_opts o = { NULL };
	struct cnai_oci_desc cd, ld, md;
	struct cnai_buf b = CNAI_BUF_INIT;
	json_t *cfg = NULL, *man = NULL;
	char created[32];

	assert_int_equal(cnai_oci_layout_init(layout(fx)), 0);
	cnai_oci_time(created, 0);
	assert_string_equal(created, "1970-01-01T00:00:00Z");
	o.created = created;
	o.entrypoint = ep;
	o.env = env;
	o.exposed_ports = ports;
	o.labels = labels;
	o.user = "65532";
	o.working_dir = "/models";
	assert_int_equal(cnai_oci_config_new(&cfg, &o), 0);
	assert_int_equal(cnai_oci_config_add_layer(
				 cfg, CNAI_OCI_EMPTY_DIGEST, created,
				 "cnai package digits", NULL), 0);
	assert_int_equal(cnai_oci_json_canonical(&b, cfg), 0);
	assert_string_equal(
		b.buf,
		"{\"architecture\":\"amd64\",\"config\":{\"Entrypoint\":"
		"[\"/usr/local/bin/cnai\",\"serve\",\"/models/digits\"],"
		"\"Env\":[\"PATH=/usr/bin\"],\"ExposedPorts\":{\"8080/tcp\":"
		"{}},\"Labels\":{\"a\":\"1\",\"b\":\"2\"},\"User\":\"65532\","
		"\"WorkingDir\":\"/models\"},\"created\":"
		"\"1970-01-01T00:00:00Z\",\"history\":[{\"created\":"
		"\"1970-01-01T00:00:00Z\",\"created_by\":\"cnai package "
		"digits\"}],\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[\"" 
		CNAI_OCI_EMPTY_DIGEST "\"],\"type\":\"layers\"}}");
	assert_int_equal(cnai_oci_json_put(&cd, layout(fx), cfg,
					   CNAI_MEDIA_OCI_CONFIG), 0);
	assert_int_equal(cd.size, b.len);
	memset(&ld, 0, sizeof(ld));
	snprintf(ld.media_type, sizeof(ld.media_type), "%s",
		 CNAI_MEDIA_LAYER_GZIP);
	memcpy(ld.digest, CNAI_OCI_EMPTY_DIGEST, CNAI_DIGEST_LEN);
	ld.size = 2;
	assert_int_equal(cnai_oci_manifest_new(&man, &cd, NULL), 0);
	assert_int_equal(cnai_oci_manifest_add_layer(man, &ld, NULL), 0);
	assert_int_equal(cnai_oci_annotate(man, "org.opencontainers.image."
					   "created", created), 0);
	assert_int_equal(cnai_oci_json_put(&md, layout(fx), man, NULL), 0);
	assert_string_equal(md.media_type, CNAI_MEDIA_OCI_MANIFEST);
	cnai_buf_reset(&b);
	assert_int_equal(cnai_oci_json_canonical(&b, man), 0);
	assert_non_null(strstr(b.buf, "{\"annotations\":{\"org.opencontainers"
				      ".image.created\":\"1970-01-01T00:00:00Z"
				      "\"},\"config\":{\"digest\":"));
	assert_non_null(strstr(b.buf, "\"schemaVersion\":2}"));
	/* a base config: env merged by key, labels added */
	{
		static const char *const env2[] = { "PATH=/bin", "X=1", NULL };
		struct cnai_oci_image_opts o2 = { NULL };
		json_t *e;

		o2.env = env2;
		assert_int_equal(cnai_oci_config_set(cfg, &o2), 0);
		e = json_object_get(json_object_get(cfg, "config"), "Env");
		assert_int_equal(json_array_size(e), 2);
		assert_string_equal(json_string_value(json_array_get(e, 0)),
				    "PATH=/bin");
	}
	json_decref(cfg);
	json_decref(man);
	cnai_buf_release(&b);
}

static void test_oci__artifact_manifest_has_empty_config(void **state)
{
	struct fixture *fx = *state;
	struct cnai_oci_desc e, m;
	json_t *man = NULL, *c;

	assert_int_equal(cnai_oci_layout_init(layout(fx)), 0);
	assert_int_equal(cnai_oci_empty_put(&e, layout(fx)), 0);
	assert_string_equal(e.digest, CNAI_OCI_EMPTY_DIGEST);
	assert_int_equal(e.size, 2);
	assert_int_equal(cnai_oci_manifest_new(
				 &man, &e,
				 "application/vnd.cncf.model.manifest.v1+json"),
			 0);
	assert_int_equal(cnai_oci_json_put(&m, layout(fx), man, NULL), 0);
	c = json_object_get(man, "config");
	assert_string_equal(json_string_value(json_object_get(c, "mediaType")),
			    CNAI_MEDIA_OCI_EMPTY);
	assert_string_equal(json_string_value(json_object_get(
				    man, "artifactType")),
			    "application/vnd.cncf.model.manifest.v1+json");
	json_decref(man);
}

static void test_oci__tag_moves_and_is_shared(void **state)
{
	struct fixture *fx = *state;
	struct cnai_oci_desc a, b, r;
	json_t *idx;

	assert_int_equal(cnai_oci_layout_init(layout(fx)), 0);
	put_desc(fx, &a, "{\"mediaType\":\"x\",\"n\":1}");
	put_desc(fx, &b, "{\"mediaType\":\"x\",\"n\":2}");
	assert_int_equal(cnai_oci_tag(layout(fx), "v1", &a, NULL), 0);
	assert_int_equal(cnai_oci_tag(layout(fx), "latest", &a, NULL), 0);
	assert_int_equal(cnai_oci_tag(layout(fx), "v1", &b, NULL), 0);
	idx = index_json(fx);
	assert_int_equal(json_array_size(json_object_get(idx, "manifests")),
			 2);
	json_decref(idx);
	assert_int_equal(cnai_oci_resolve(&r, layout(fx), "v1"), 0);
	assert_string_equal(r.digest, b.digest);
	assert_int_equal(cnai_oci_resolve(&r, layout(fx), "latest"), 0);
	assert_string_equal(r.digest, a.digest);
	assert_int_equal(cnai_oci_resolve(&r, layout(fx), a.digest), 0);
	assert_int_equal(r.size, a.size);
	assert_int_equal(cnai_oci_untag(layout(fx), "latest"), 0);
	assert_int_equal(cnai_oci_resolve(&r, layout(fx), "latest"),
			 CNAI_ENOTFOUND);
	assert_non_null(strstr(fixture_errmsg(), "no image 'latest'"));
	assert_int_equal(cnai_oci_untag(layout(fx), "latest"), CNAI_ENOTFOUND);
	/* an untagged blob is found by digest through its mediaType */
	assert_int_equal(cnai_oci_resolve(&r, layout(fx), a.digest), 0);
	assert_string_equal(r.media_type, "x");
	assert_int_equal(cnai_oci_tag(layout(fx), "-bad", &a, NULL),
			 CNAI_EINVALID);
}

static void make_platform_image(struct fixture *fx, struct cnai_oci_desc *out,
				const char *arch)
{
	struct cnai_buf b = CNAI_BUF_INIT;

	cnai_buf_addf(&b, "{\"mediaType\":\"%s\",\"arch\":\"%s\"}",
		      CNAI_MEDIA_OCI_MANIFEST, arch);
	put_desc(fx, out, b.buf);
	cnai_buf_release(&b);
}

static void test_oci__resolve_platform_of_an_index(void **state)
{
	struct fixture *fx = *state;
	struct cnai_oci_platform amd, arm, want;
	struct cnai_oci_desc a, r, ix, got;
	json_t *idx = NULL;

	assert_int_equal(cnai_oci_layout_init(layout(fx)), 0);
	make_platform_image(fx, &a, "amd64");
	make_platform_image(fx, &r, "arm64");
	assert_int_equal(cnai_oci_platform_parse(&amd, "linux/amd64"), 0);
	assert_int_equal(cnai_oci_platform_parse(&arm, "linux/arm64/v8"), 0);
	assert_string_equal(arm.variant, "v8");
	assert_int_equal(cnai_oci_index_new(&idx), 0);
	assert_int_equal(cnai_oci_index_add(idx, &a, &amd, NULL), 0);
	assert_int_equal(cnai_oci_index_add(idx, &r, &arm, NULL), 0);
	assert_int_equal(cnai_oci_json_put(&ix, layout(fx), idx, NULL), 0);
	assert_string_equal(ix.media_type, CNAI_MEDIA_OCI_INDEX);
	assert_int_equal(cnai_oci_resolve_platform(&got, layout(fx), &ix,
						   NULL), 0);
	assert_string_equal(got.digest, a.digest);
	assert_int_equal(cnai_oci_platform_parse(&want, "linux/arm64"), 0);
	assert_int_equal(cnai_oci_resolve_platform(&got, layout(fx), &ix,
						   &want), 0);
	assert_string_equal(got.digest, r.digest);
	assert_int_equal(cnai_oci_platform_parse(&want, "linux/s390x"), 0);
	assert_int_equal(cnai_oci_resolve_platform(&got, layout(fx), &ix,
						   &want), CNAI_ENOTFOUND);
	assert_non_null(strstr(fixture_errmsg(), "no image for linux/s390x "
				"(it has: linux/amd64, linux/arm64/v8)"));
	/* a plain manifest is its own answer */
	assert_int_equal(cnai_oci_resolve_platform(&got, layout(fx), &a,
						   &want), 0);
	assert_string_equal(got.digest, a.digest);
	assert_int_equal(cnai_oci_platform_parse(&want, "linux"),
			 CNAI_EINVALID);
	json_decref(idx);
}

struct order {
	char seen[8][CNAI_DIGEST_LEN];
	int manifest[8];
	int n;
};

static int record(const struct cnai_oci_desc *d, int is_manifest, void *p)
{
	struct order *o = p;

	if (o->n < 8) {
		memcpy(o->seen[o->n], d->digest, CNAI_DIGEST_LEN);
		o->manifest[o->n] = is_manifest;
	}
	o->n++;
	return 0;
}

static void test_oci__walk_gives_children_before_parents(void **state)
{
	struct fixture *fx = *state;
	struct cnai_oci_desc cfg, l1, man, ix;
	struct cnai_oci_platform amd;
	struct order o;
	json_t *m = NULL, *idx = NULL;

	memset(&o, 0, sizeof(o));
	assert_int_equal(cnai_oci_layout_init(layout(fx)), 0);
	assert_int_equal(cnai_oci_empty_put(&cfg, layout(fx)), 0);
	put_desc(fx, &l1, "layer bytes");
	assert_int_equal(cnai_oci_manifest_new(&m, &cfg, "a/b"), 0);
	assert_int_equal(cnai_oci_manifest_add_layer(m, &l1, NULL), 0);
	assert_int_equal(cnai_oci_json_put(&man, layout(fx), m, NULL), 0);
	assert_int_equal(cnai_oci_platform_parse(&amd, "linux/amd64"), 0);
	assert_int_equal(cnai_oci_index_new(&idx), 0);
	assert_int_equal(cnai_oci_index_add(idx, &man, &amd, NULL), 0);
	assert_int_equal(cnai_oci_json_put(&ix, layout(fx), idx, NULL), 0);
	assert_int_equal(cnai_oci_walk(layout(fx), &ix, record, &o), 0);
	assert_int_equal(o.n, 4);
	assert_string_equal(o.seen[0], cfg.digest);
	assert_string_equal(o.seen[1], l1.digest);
	assert_string_equal(o.seen[2], man.digest);
	assert_true(o.manifest[2]);
	assert_string_equal(o.seen[3], ix.digest);
	assert_true(o.manifest[3]);
	assert_false(o.manifest[0] || o.manifest[1]);
	json_decref(m);
	json_decref(idx);
}

static void test_oci__copy_image_to_another_layout(void **state)
{
	struct fixture *fx = *state;
	struct cnai_oci_desc cfg, l1, man, r;
	json_t *m = NULL;
	char dst[700], p[800];

	snprintf(dst, sizeof(dst), "%s/copy", fx->dir);
	assert_int_equal(cnai_oci_layout_init(layout(fx)), 0);
	assert_int_equal(cnai_oci_empty_put(&cfg, layout(fx)), 0);
	put_desc(fx, &l1, "layer bytes");
	assert_int_equal(cnai_oci_manifest_new(&m, &cfg, "a/b"), 0);
	assert_int_equal(cnai_oci_manifest_add_layer(m, &l1, NULL), 0);
	assert_int_equal(cnai_oci_json_put(&man, layout(fx), m, NULL), 0);
	assert_int_equal(cnai_oci_copy_image(dst, layout(fx), &man, "v1"), 0);
	assert_int_equal(cnai_oci_resolve(&r, dst, "v1"), 0);
	assert_string_equal(r.digest, man.digest);
	snprintf(p, sizeof(p), "%s/blobs/sha256", dst);
	assert_int_equal(fixture_count_entries(p), 3);
	assert_true(cnai_oci_blob_exists(dst, l1.digest));
	assert_string_equal(cnai_oci_media_type_oci(CNAI_MEDIA_DOCKER_MANIFEST),
			    CNAI_MEDIA_OCI_MANIFEST);
	assert_string_equal(cnai_oci_media_type_oci(
				    CNAI_MEDIA_DOCKER_LAYER_GZIP),
			    CNAI_MEDIA_LAYER_GZIP);
	assert_string_equal(cnai_oci_media_type_oci("x/y"), "x/y");
	json_decref(m);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_dir, \
						fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_oci__layout_init_is_idempotent),
		T(test_oci__blob_read_refuses_a_tampered_blob),
		T(test_oci__config_and_manifest_are_canonical),
		T(test_oci__artifact_manifest_has_empty_config),
		T(test_oci__tag_moves_and_is_shared),
		T(test_oci__resolve_platform_of_an_index),
		T(test_oci__walk_gives_children_before_parents),
		T(test_oci__copy_image_to_another_layout),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
