/*
 * Tests for registry/response.c: origins compared as curl reads URLs
 * (default ports, case, user information), Location and Link resolution,
 * token answers (control characters refused without showing the token),
 * a manifest's media type and the references a pull follows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util/error.h"
#include "registry/response.h"
#include "core/util/banned.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_response__origins(void **state)
{
	static const struct {
		const char *a, *b;
		int same;
	} cases[] = {
		{ "https://r.io/v2/", "https://r.io:443/upload?x=1", 1 },
		{ "https://R.IO/v2/", "https://r.io/v2/", 1 },
		{ "http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/x", 1 },
		{ "http://127.0.0.1:5000/v2/", "http://127.0.0.1:5001/v2/", 0 },
		{ "http://127.0.0.1:5000/v2/", "http://localhost:5000/v2/", 0 },
		{ "https://r.io/v2/", "http://r.io/v2/", 0 },
		{ "http://r.io/v2/", "http://r.io:443/v2/", 0 },
		/* the host curl connects to is evil.io */
		{ "http://r.io/v2/", "http://r.io@evil.io/v2/", 0 },
		{ "http://r.io/v2/", "not a url", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(cnai_registry_origin_same(cases[i].a,
							   cases[i].b),
				 cases[i].same);
}

static void test_response__locations(void **state)
{
	static const char base[] = "http://r.io:5000/v2/a/blobs/uploads/u1";
	char out[256];

	assert_int_equal(cnai_registry_url_resolve(out, sizeof(out), base,
						   "/v2/a/blobs/uploads/u2?s=1",
						   "digest=sha256:" D64), 0);
	assert_string_equal(out, "http://r.io:5000/v2/a/blobs/uploads/u2?s=1"
				 "&digest=sha256:" D64);
	assert_int_equal(cnai_registry_url_resolve(out, sizeof(out), base,
						   "u3", NULL), 0);
	assert_string_equal(out, "http://r.io:5000/v2/a/blobs/uploads/u3");
	assert_int_equal(cnai_registry_url_resolve(out, sizeof(out), base,
						   "https://s3.io/b?sig=1",
						   NULL), 0);
	assert_string_equal(out, "https://s3.io/b?sig=1");
	assert_int_equal(cnai_registry_url_resolve(out, sizeof(out), base,
						   "file:///etc/passwd", NULL),
			 CNAI_EINVALID);
	assert_string_equal(cnai_error_last()->message, "location "
			    "'file:///etc/passwd' is not an http(s) URL");
	assert_int_equal(cnai_registry_url_resolve(out, sizeof(out), base,
						   "http://u:p@s3.io/", NULL),
			 CNAI_EINVALID);
	assert_int_equal(cnai_registry_url_resolve(out, 16, base, "/long/path",
						   NULL), CNAI_EINVALID);
	cnai_error_clear();
}

static void test_response__link_next(void **state)
{
	char out[64];

	assert_int_equal(cnai_registry_link_next(out, sizeof(out),
						 "</v2/a/tags/list?n=1&last=b>;"
						 " rel=\"next\""), 1);
	assert_string_equal(out, "/v2/a/tags/list?n=1&last=b");
	assert_int_equal(cnai_registry_link_next(out, sizeof(out),
						 "</p>; rel=\"prev\", </n>; "
						 "rel=\"next\""), 1);
	assert_string_equal(out, "/n");
	assert_int_equal(cnai_registry_link_next(out, sizeof(out),
						 "</p>; rel=\"prev\""), 0);
	assert_int_equal(cnai_registry_link_next(out, sizeof(out), "<>; "
						 "rel=\"next\""), 0);
	assert_int_equal(cnai_registry_link_next(out, sizeof(out), "</x; "
						 "rel=\"next\""), 0);
}

static void test_response__tokens(void **state)
{
	static const char crlf[] = "{\"token\":\"s3cret\\r\\nX-Injected: 1\"}";
	static const char plain[] = "{\"token\":\"a.b\"}";
	static const char oauth[] = "{\"token\":\"\",\"access_token\":\"c\"}";
	char *tok = NULL;

	assert_int_equal(cnai_registry_token_parse(&tok, plain,
						   sizeof(plain) - 1,
						   "https://t/"), 0);
	assert_string_equal(tok, "a.b");
	free(tok);
	assert_int_equal(cnai_registry_token_parse(&tok, oauth,
						   sizeof(oauth) - 1,
						   "https://t/"), 0);
	assert_string_equal(tok, "c");
	free(tok);
	assert_int_equal(cnai_registry_token_parse(&tok, crlf,
						   sizeof(crlf) - 1,
						   "https://t/"), CNAI_ERROR);
	assert_null(tok);
	assert_string_equal(cnai_error_last()->message, "token server "
			    "'https://t/' answered a token with control "
			    "characters");
	assert_int_equal(cnai_registry_token_parse(&tok, "{}", 2, "https://t/"),
			 CNAI_ERROR);
	assert_string_equal(cnai_error_last()->message, "token server "
			    "'https://t/' answered no token");
	assert_int_equal(cnai_registry_token_parse(&tok, "[1]", 3,
						   "https://t/"), CNAI_ERROR);
	cnai_error_clear();
}

static void test_response__media_type(void **state)
{
	static const char schema1[] = "{\"schemaVersion\":1}";
	static const char body[] = "{\"mediaType\":\"a/b\"}";
	char mt[16];

	assert_int_equal(cnai_registry_manifest_media_type(
				 mt, sizeof(mt), body, sizeof(body) - 1,
				 "c/d", "manifest 'x'"), 0);
	assert_string_equal(mt, "a/b");
	assert_int_equal(cnai_registry_manifest_media_type(
				 mt, sizeof(mt), "{}", 2, "c/d; charset=utf-8",
				 "manifest 'x'"), 0);
	assert_string_equal(mt, "c/d");
	assert_int_equal(cnai_registry_manifest_media_type(
				 mt, sizeof(mt), schema1, sizeof(schema1) - 1,
				 "application/vnd.docker.distribution."
				 "manifest.v1+prettyjws", "manifest 'x'"),
			 CNAI_EINVALID);
	assert_int_equal(cnai_registry_manifest_media_type(
				 mt, sizeof(mt), "{}", 2, "", "manifest 'x'"),
			 CNAI_EINVALID);
	assert_string_equal(cnai_error_last()->message, "manifest 'x' is of "
			    "an unsupported type '' (Docker schema 1?)");
	cnai_error_clear();
}

struct seen {
	char digests[8][CNAI_DIGEST_LEN];
	int manifest[8];
	size_t n;
};

static int see(const struct cnai_oci_desc *d, int is_manifest, void *payload)
{
	struct seen *s = payload;

	assert_true(s->n < 8);
	memcpy(s->digests[s->n], d->digest, CNAI_DIGEST_LEN);
	s->manifest[s->n++] = is_manifest;
	return 0;
}

#define DESC(mt, c) \
	"{\"mediaType\":\"" mt "\",\"digest\":\"sha256:" c D64 "\",\"size\":1"
#define IMG CNAI_MEDIA_OCI_MANIFEST
#define INDEX CNAI_MEDIA_OCI_INDEX

static void test_response__refs(void **state)
{
	static const struct cnai_oci_platform arm = { "linux", "arm64", "v8" };
	json_t *index = json_loads(
		"{\"manifests\":[" DESC(IMG, "") ",\"platform\":{\"os\":"
		"\"linux\",\"architecture\":\"amd64\"}}," DESC(IMG, "")
		",\"platform\":{\"os\":\"linux\",\"architecture\":"
		"\"arm64\"}}]}", 0, NULL);
	json_t *image = json_loads(
		"{\"config\":" DESC("c", "") "},\"layers\":[" DESC("l", "") "},"
		DESC("application/vnd.docker.image.rootfs.foreign.diff.tar."
		     "gzip", "") "}]}", 0, NULL);
	json_t *bad = json_loads("{\"layers\":[{\"digest\":1}]}", 0, NULL);
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(cnai_registry_manifest_refs(index, INDEX, NULL, see,
						     &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.manifest[0], 1);
	memset(&s, 0, sizeof(s));
	/* arm64 without a variant is v8 */
	assert_int_equal(cnai_registry_manifest_refs(index, INDEX, &arm, see,
						     &s), 0);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	/* config and layer; the foreign layer is not fetched */
	assert_int_equal(cnai_registry_manifest_refs(image, IMG, NULL, see, &s),
			 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.manifest[0] + s.manifest[1], 0);
	assert_int_equal(cnai_registry_manifest_refs(bad, IMG, NULL, see, &s),
			 CNAI_EINVALID);
	cnai_error_clear();
	json_decref(index);
	json_decref(image);
	json_decref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response__origins),
		cmocka_unit_test(test_response__locations),
		cmocka_unit_test(test_response__link_next),
		cmocka_unit_test(test_response__tokens),
		cmocka_unit_test(test_response__media_type),
		cmocka_unit_test(test_response__refs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
