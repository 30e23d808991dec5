/*
 * Tests for registry/reference.c and registry/auth.c: references as
 * docker spells them (Docker Hub defaults, ports, digests), loopback
 * detection, WWW-Authenticate parsing, and credentials from a temporary
 * DOCKER_CONFIG: auths, a credential helper (a script on PATH), "not
 * found", and a config that does not parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "registry/auth.h"
#include "registry/reference.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_reference__parses_like_docker(void **state)
{
	static const struct {
		const char *in, *registry, *repo, *tag, *digest;
	} cases[] = {
		{ "alpine", "docker.io", "library/alpine", "latest", "" },
		{ "alpine:3.19", "docker.io", "library/alpine", "3.19", "" },
		{ "team/model", "docker.io", "team/model", "latest", "" },
		{ "index.docker.io/team/model:v1", "docker.io", "team/model",
		  "v1", "" },
		{ "localhost/a", "localhost", "a", "latest", "" },
		{ "127.0.0.1:5000/a/b/c:t-1", "127.0.0.1:5000", "a/b/c", "t-1",
		  "" },
		{ "ghcr.io/o/r@sha256:" D64, "ghcr.io", "o/r", "",
		  "sha256:" D64 },
		{ "ghcr.io/o/r:v2@sha256:" D64, "ghcr.io", "o/r", "v2",
		  "sha256:" D64 },
		{ "[::1]:5000/x", "[::1]:5000", "x", "latest", "" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct cnai_reference r;

		assert_int_equal(cnai_reference_parse(&r, cases[i].in), 0);
		assert_string_equal(r.registry, cases[i].registry);
		assert_string_equal(r.repository, cases[i].repo);
		assert_string_equal(r.tag, cases[i].tag);
		assert_string_equal(r.digest, cases[i].digest);
	}
}

static void test_reference__refuses_bad_ones(void **state)
{
	static const char *const bad[] = {
		"", "Upper/case", "a//b", "a:", "a:-x", "a@sha256:abc",
		"host:5000/", "a/b:t@md5:" D64,
	};
	struct cnai_reference r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(cnai_reference_parse(&r, bad[i]),
				 CNAI_EINVALID);
	assert_int_equal(cnai_reference_parse(&r, "Upper/case"),
			 CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(), "image reference 'Upper/case': "
			    "the repository has a character other than "
			    "a-z 0-9 . _ - /");
}

static void test_reference__split_keeps_the_name_as_written(void **state)
{
	struct cnai_reference_parts p;
	const char *s;

	s = "localhost:5000/team/iris:3@sha256:" D64;
	cnai_reference_split(&p, s);
	assert_int_equal(p.name_len, strlen("localhost:5000/team/iris"));
	assert_int_equal(p.tag_len, 1);
	assert_int_equal(p.tag[0], '3');
	assert_string_equal(p.digest, "sha256:" D64);
	s = "localhost:5000/iris";
	cnai_reference_split(&p, s);
	assert_int_equal(p.name_len, strlen(s));
	assert_null(p.tag);
	assert_null(p.digest);
	s = "iris";
	cnai_reference_split(&p, s);
	assert_int_equal(p.name_len, 4);
	assert_null(p.tag);
}

static void test_reference__hosts_and_format(void **state)
{
	struct cnai_reference r;
	struct cnai_buf b = CNAI_BUF_INIT;

	assert_true(cnai_reference_is_loopback("localhost:5000"));
	assert_true(cnai_reference_is_loopback("127.0.0.1"));
	assert_true(cnai_reference_is_loopback("[::1]:80"));
	assert_false(cnai_reference_is_loopback("localhost.example.com"));
	assert_false(cnai_reference_is_loopback("ghcr.io"));
	assert_int_equal(cnai_reference_parse(&r, "alpine"), 0);
	assert_string_equal(cnai_reference_api_host(&r),
			    "registry-1.docker.io");
	assert_int_equal(cnai_reference_format(&b, &r), 0);
	assert_string_equal(b.buf, "docker.io/library/alpine:latest");
	assert_string_equal(cnai_reference_object(&r), "latest");
	assert_int_equal(cnai_reference_parse(&r, "h.io/a:t@sha256:" D64), 0);
	assert_string_equal(cnai_reference_object(&r), "sha256:" D64);
	cnai_buf_release(&b);
}

static void test_auth__challenges(void **state)
{
	struct cnai_auth_challenge c;

	assert_int_equal(cnai_auth_challenge_parse(
				 &c, "Bearer realm=\"https://auth.docker.io/"
				     "token\",service=\"registry.docker.io\","
				     "scope=\"repository:library/alpine:"
				     "pull\""),
			 0);
	assert_string_equal(c.scheme, "bearer");
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:library/alpine:pull");
	cnai_auth_challenge_release(&c);
	assert_int_equal(cnai_auth_challenge_parse(
				 &c, "Basic realm=\"a \\\"q\\\" b\", x=y"), 0);
	assert_string_equal(c.scheme, "basic");
	assert_string_equal(c.realm, "a \"q\" b");
	assert_null(c.service);
	cnai_auth_challenge_release(&c);
	assert_int_equal(cnai_auth_challenge_parse(&c, ""), CNAI_EINVALID);
}

static void with_config(struct fixture *fx, const char *json)
{
	assert_int_equal(fixture_write(fx, "config.json", json, strlen(json)),
			 0);
	setenv("DOCKER_CONFIG", fx->dir, 1);
}

static void test_auth__credentials_from_auths(void **state)
{
	struct fixture *fx = *state;
	struct cnai_credentials c;

	/* "alice:s3:cret" and "bob:pw" in base64 */
	with_config(fx, "{\"auths\":{"
			"\"https://index.docker.io/v1/\":"
			"{\"auth\":\"Ym9iOnB3\"},"
			"\"127.0.0.1:5000\":{\"auth\":\"YWxpY2U6czM6Y3JldA==\"}"
			"}}");
	assert_int_equal(cnai_credentials_lookup(&c, "127.0.0.1:5000"), 0);
	assert_string_equal(c.username, "alice");
	assert_string_equal(c.password, "s3:cret");
	cnai_credentials_release(&c);
	assert_int_equal(cnai_credentials_lookup(&c, "docker.io"), 0);
	assert_string_equal(c.username, "bob");
	assert_string_equal(c.password, "pw");
	cnai_credentials_release(&c);
	assert_int_equal(cnai_credentials_lookup(&c, "ghcr.io"),
			 CNAI_ENOTFOUND);
	with_config(fx, "{\"auths\": [");
	assert_int_equal(cnai_credentials_lookup(&c, "ghcr.io"),
			 CNAI_EINVALID);
	assert_non_null(strstr(fixture_errmsg(), "config.json:"));
	unsetenv("DOCKER_CONFIG");
}

static void test_auth__credentials_from_a_helper(void **state)
{
	struct fixture *fx = *state;
	struct cnai_credentials c;
	static const char helper[] =
		"#!/bin/sh\n"
		"read server\n"
		"[ \"$1\" = get ] || exit 2\n"
		"case $server in\n"
		"reg.example.com) printf '{\"ServerURL\":\"%s\",\"Username\":"
		"\"carol\",\"Secret\":\"tok\"}' \"$server\" ;;\n"
		"*) echo 'credentials not found in native keychain'\n"
		"   exit 1 ;;\n"
		"esac\n";
	const char *path = getenv("PATH");
	char newpath[4096];

	assert_int_equal(fixture_write(fx, "docker-credential-fake", helper,
				       sizeof(helper) - 1), 0);
	assert_int_equal(chmod(fixture_path(fx, "docker-credential-fake"),
			       0755), 0);
	snprintf(newpath, sizeof(newpath), "%s:%s", fx->dir,
		 path ? path : "/usr/bin:/bin");
	setenv("PATH", newpath, 1);
	with_config(fx, "{\"credHelpers\":{\"reg.example.com\":\"fake\"},"
			"\"credsStore\":\"fake\",\"auths\":{\"other.io\":"
			"{\"auth\":\"Ym9iOnB3\"}}}");
	assert_int_equal(cnai_credentials_lookup(&c, "reg.example.com"), 0);
	assert_string_equal(c.username, "carol");
	assert_string_equal(c.password, "tok");
	cnai_credentials_release(&c);
	/* the store has nothing for other.io: the auths entry serves */
	assert_int_equal(cnai_credentials_lookup(&c, "other.io"), 0);
	assert_string_equal(c.username, "bob");
	cnai_credentials_release(&c);
	assert_int_equal(cnai_credentials_lookup(&c, "none.io"),
			 CNAI_ENOTFOUND);
	with_config(fx, "{\"credsStore\":\"missing-helper\"}");
	assert_int_equal(cnai_credentials_lookup(&c, "none.io"), CNAI_ERROR);
	assert_non_null(strstr(fixture_errmsg(), "'docker-credential-missing"
				"-helper' is not installed"));
	setenv("PATH", path ? path : "/usr/bin:/bin", 1);
	unsetenv("DOCKER_CONFIG");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_dir, \
						fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_reference__parses_like_docker),
		T(test_reference__refuses_bad_ones),
		T(test_reference__split_keeps_the_name_as_written),
		T(test_reference__hosts_and_format),
		T(test_auth__challenges),
		T(test_auth__credentials_from_auths),
		T(test_auth__credentials_from_a_helper),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
