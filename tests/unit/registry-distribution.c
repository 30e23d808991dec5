/*
 * Tests for registry/distribution.c against tests/tools/fake-registry.py,
 * started by each test on 127.0.0.1 with the options it scripts (plain
 * HTTP, as for any loopback registry) and stopped at teardown; its log of
 * requests says what the client sent. Blobs go up once (a HEAD finds them
 * the second time) and come down verified, a corrupt one is refused and
 * not named; manifests go up with their media type and come back by tag
 * or digest; a missing one is CNAI_ENOTFOUND with the registry's error,
 * an oversized one is refused; Bearer tokens are fetched from the realm
 * of the challenge, Basic credentials are sent, and a registry that wants
 * credentials nobody gave says how to log in; a large blob goes up in
 * chunks, a 503 is retried; a whole image pushed is pulled back under the
 * same digest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/hash.h"
#include "registry/distribution.h"
#include "registry/oci.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

#define REPO "team/model"

/* The fake registry of the running test (one at a time). */
static pid_t fake_pid = -1;
static char fake_host[64]; /* 127.0.0.1:PORT */

/* Starts the fake registry with `opts` (NULL-terminated); skips the test
 * when python3 or the script is not there. */
static void start_fake(struct fixture *fx, const char *const *opts)
{
	const char *root = getenv("CNAI_ROOT");
	char script[600], portfile[600], logfile[600], *argv[24];
	struct cnai_buf port = CNAI_BUF_INIT;
	size_t n = 0, i;
	int tries;

	snprintf(script, sizeof(script), "%s/tests/tools/fake-registry.py",
		 root ? root : ".");
	if (access(script, R_OK) < 0 || access("/usr/bin/python3", X_OK) < 0)
		skip();
	snprintf(portfile, sizeof(portfile), "%s/port", fx->dir);
	snprintf(logfile, sizeof(logfile), "%s/fake.log", fx->dir);
	argv[n++] = "/usr/bin/python3";
	argv[n++] = script;
	argv[n++] = portfile;
	argv[n++] = logfile;
	for (i = 0; opts && opts[i] && n < 23; i++)
		argv[n++] = (char *)opts[i];
	argv[n] = NULL;
	fake_pid = fork();
	assert_true(fake_pid >= 0);
	if (fake_pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	/* it writes the port once it listens */
	for (tries = 0; tries < 400; tries++) {
		struct timespec ts = { 0, 25 * 1000 * 1000 };

		if (cnai_fs_read_file(&port, portfile, 0) == 0 && port.len)
			break;
		cnai_error_clear();
		if (waitpid(fake_pid, NULL, WNOHANG) == fake_pid) {
			fake_pid = -1;
			fail_msg("the fake registry exited");
		}
		nanosleep(&ts, NULL);
	}
	assert_true(port.len > 0);
	snprintf(fake_host, sizeof(fake_host), "127.0.0.1:%s", port.buf);
	cnai_buf_release(&port);
}

static int setup(void **state)
{
	struct fixture *fx;

	if (fixture_setup_dir(state) < 0)
		return -1;
	fx = *state;
	/* no credentials but the ones a test gives */
	setenv("DOCKER_CONFIG", fx->dir, 1);
	setenv("HOME", fx->dir, 1);
	fake_pid = -1;
	return 0;
}

static int teardown(void **state)
{
	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
		fake_pid = -1;
	}
	return fixture_teardown(state);
}

/* Lines of the fake's log that start with `prefix`. */
static int log_count(struct fixture *fx, const char *prefix)
{
	struct cnai_buf log = CNAI_BUF_INIT;
	const char *p;
	int n = 0;

	if (cnai_fs_read_file(&log, fixture_path(fx, "fake.log"), 0) < 0) {
		cnai_error_clear();
		return 0;
	}
	for (p = log.buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		n += !strncmp(p, prefix, strlen(prefix));
	cnai_buf_release(&log);
	return n;
}

static struct cnai_registry *open_reg(const char *tag,
				      const struct cnai_registry_opts *o,
				      int push)
{
	struct cnai_reference ref;
	struct cnai_registry *r = NULL;
	char s[200];
	int err;

	snprintf(s, sizeof(s), "%s/" REPO ":%s", fake_host, tag);
	assert_int_equal(cnai_reference_parse(&ref, s), 0);
	err = cnai_registry_open(&r, &ref, o, push);
	if (err)
		fail_msg("open: %d %s", err, fixture_errmsg());
	return r;
}

/* A layout under the fixture holding one blob of `text`, in `d`. */
static const char *layout_with_blob(struct fixture *fx, const char *name,
				    const char *text, struct cnai_oci_desc *d)
{
	static char dir[2][600];
	static int which;
	char *out = dir[which++ % 2];

	snprintf(out, 600, "%s/%s", fx->dir, name);
	assert_int_equal(cnai_oci_layout_init(out), 0);
	memset(d, 0, sizeof(*d));
	snprintf(d->media_type, sizeof(d->media_type), "%s",
		 CNAI_MEDIA_LAYER_TAR);
	d->size = strlen(text);
	assert_int_equal(cnai_oci_blob_put(d->digest, out, text,
					   strlen(text)), 0);
	return out;
}

static const char *const anonymous[] = { "--anonymous", NULL };

static void test_distribution__blob_pushed_once_then_skipped(void **state)
{
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_oci_desc d;
	struct cnai_registry *r;
	const char *dir;
	uint64_t size = 0;
	char head[200];

	start_fake(fx, anonymous);
	dir = layout_with_blob(fx, "a", "hello blob\n", &d);
	r = open_reg("v1", &o, 1);
	assert_int_equal(cnai_registry_blob_exists(r, d.digest, NULL), 0);
	assert_int_equal(cnai_registry_blob_push(r, dir, &d), 0);
	assert_int_equal(cnai_registry_blob_exists(r, d.digest, &size), 1);
	assert_int_equal(size, d.size);
	assert_int_equal(log_count(fx, "POST /v2/" REPO "/blobs/uploads/"),
			 1);
	/* the second time a HEAD finds it: no upload */
	assert_int_equal(cnai_registry_blob_push(r, dir, &d), 0);
	assert_int_equal(log_count(fx, "POST "), 1);
	assert_int_equal(log_count(fx, "PUT "), 1);
	snprintf(head, sizeof(head), "HEAD /v2/" REPO "/blobs/%s", d.digest);
	assert_int_equal(log_count(fx, head), 4); /* 2 checks, 2 pushes */
	cnai_registry_free(r);
}

/* Pushes a blob of `text` (in chunks of `chunk` bytes, 0: the default)
 * from one layout and pulls it into another: the bytes come back. */
static void push_then_pull(struct fixture *fx, const char *text,
			   uint64_t chunk)
{
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_oci_desc d, other;
	struct cnai_registry *r;
	struct cnai_buf got = CNAI_BUF_INIT;
	const char *src, *dst;

	start_fake(fx, anonymous);
	src = layout_with_blob(fx, "a", text, &d);
	dst = layout_with_blob(fx, "b", "something else", &other);
	o.chunk_size = chunk;
	r = open_reg("v1", &o, 1);
	assert_int_equal(cnai_registry_blob_push(r, src, &d), 0);
	assert_int_equal(cnai_oci_blob_exists(dst, d.digest), 0);
	assert_int_equal(cnai_registry_blob_pull(r, dst, &d), 0);
	assert_int_equal(cnai_oci_blob_read(&got, dst, d.digest, 0), 0);
	assert_string_equal(got.buf, text);
	cnai_buf_release(&got);
	cnai_registry_free(r);
}

static void test_distribution__large_blob_goes_in_chunks(void **state)
{
	/* 24 bytes in chunks of 10: PATCH 10, 10, 4, then the closing PUT */
	push_then_pull(*state, "twenty-four bytes of it\n", 10);
	assert_int_equal(log_count(*state, "PATCH /v2/" REPO "/blobs/uploads/"),
			 3);
}

static void test_distribution__blob_pulled_and_verified(void **state)
{
	/* a small blob in one POST and PUT */
	push_then_pull(*state, "pull me\n", 0);
	assert_int_equal(log_count(*state, "PATCH "), 0);
	assert_int_equal(log_count(*state, "GET /v2/" REPO "/blobs/"), 1);
}

static void test_distribution__missing_blob_not_found(void **state)
{
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_oci_desc d, gone;
	struct cnai_registry *r;
	const char *dst;

	start_fake(fx, anonymous);
	dst = layout_with_blob(fx, "b", "local", &d);
	/* a descriptor of bytes the registry never got */
	layout_with_blob(fx, "c", "never pushed", &gone);
	r = open_reg("v1", &o, 0);
	assert_int_equal(cnai_registry_blob_pull(r, dst, &gone),
			 CNAI_ENOTFOUND);
	assert_non_null(strstr(fixture_errmsg(),
			       "BLOB_UNKNOWN: blob unknown to registry"));
	assert_int_equal(cnai_oci_blob_exists(dst, gone.digest), 0);
	cnai_registry_free(r);
}

static void test_distribution__corrupt_blob_refused(void **state)
{
	static const char *const opts[] = { "--anonymous", "--corrupt-blobs",
					    NULL };
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_oci_desc d, other;
	struct cnai_registry *r;
	const char *src, *dst;
	char want[400];

	start_fake(fx, opts);
	src = layout_with_blob(fx, "a", "precious bytes\n", &d);
	dst = layout_with_blob(fx, "b", "x", &other);
	r = open_reg("v1", &o, 1);
	assert_int_equal(cnai_registry_blob_push(r, src, &d), 0);
	assert_int_equal(cnai_registry_blob_pull(r, dst, &d), CNAI_ECHECK);
	snprintf(want, sizeof(want), "blob '%s' from '%s/" REPO "' does not "
		 "match its descriptor", d.digest, fake_host);
	assert_non_null(strstr(fixture_errmsg(), want));
	/* never stored under its name */
	assert_int_equal(cnai_oci_blob_exists(dst, d.digest), 0);
	cnai_registry_free(r);
}

static const char manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":"
	"\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
	"{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":"
	"\"" CNAI_OCI_EMPTY_DIGEST "\",\"size\":2},\"layers\":[]}";

static void test_distribution__manifest_put_and_get(void **state)
{
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_registry *r;
	struct cnai_buf body = CNAI_BUF_INIT;
	struct cnai_oci_desc got;
	char digest[CNAI_DIGEST_LEN], want[CNAI_DIGEST_LEN];
	json_t *tags = NULL;

	start_fake(fx, anonymous);
	r = open_reg("v1", &o, 1);
	assert_int_equal(cnai_registry_manifest_put(r, "v1",
						    CNAI_MEDIA_OCI_MANIFEST,
						    manifest,
						    sizeof(manifest) - 1,
						    digest), 0);
	assert_int_equal(cnai_sha256_buffer(want, manifest,
					    sizeof(manifest) - 1), 0);
	assert_string_equal(digest, want);
	assert_int_equal(cnai_registry_manifest_get(r, "v1", &body, &got), 0);
	assert_int_equal(body.len, sizeof(manifest) - 1);
	assert_memory_equal(body.buf, manifest, body.len);
	assert_string_equal(got.media_type, CNAI_MEDIA_OCI_MANIFEST);
	assert_string_equal(got.digest, want);
	assert_int_equal(got.size, sizeof(manifest) - 1);
	cnai_buf_reset(&body);
	assert_int_equal(cnai_registry_manifest_get(r, want, &body, &got), 0);
	assert_string_equal(got.digest, want);
	assert_int_equal(cnai_registry_tags_list(r, &tags), 0);
	assert_int_equal(json_array_size(tags), 1);
	assert_string_equal(json_string_value(json_array_get(tags, 0)), "v1");
	json_decref(tags);
	cnai_buf_release(&body);
	cnai_registry_free(r);
}

/* GETs manifest `tag` from a registry scripted by `opts`: it must fail
 * with `code` and "<prefix>'HOST/REPO:TAG'<suffix>". */
static void manifest_get_fails(struct fixture *fx, const char *const *opts,
			       const char *tag, int code, const char *prefix,
			       const char *suffix)
{
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_registry *r;
	struct cnai_buf body = CNAI_BUF_INIT;
	struct cnai_oci_desc got;
	char want[300];

	start_fake(fx, opts);
	r = open_reg("v1", &o, 0);
	assert_int_equal(cnai_registry_manifest_get(r, tag, &body, &got),
			 code);
	snprintf(want, sizeof(want), "%s'%s/" REPO ":%s'%s", prefix,
		 fake_host, tag, suffix);
	assert_string_equal(fixture_errmsg(), want);
	cnai_buf_release(&body);
	cnai_registry_free(r);
}

static void test_distribution__missing_manifest_not_found(void **state)
{
	manifest_get_fails(*state, anonymous, "nope", CNAI_ENOTFOUND,
			   "fetching manifest ",
			   ": MANIFEST_UNKNOWN: manifest unknown");
}

static void test_distribution__oversized_manifest_refused(void **state)
{
	static const char *const opts[] = { "--anonymous", "--huge-manifests",
					    NULL };

	manifest_get_fails(*state, opts, "v1", CNAI_EINVALID, "manifest ",
			   " is over 4 MiB");
}

static void test_distribution__unavailable_registry_retried(void **state)
{
	static const char *const opts[] = { "--anonymous", "--fail", "2",
					    NULL };

	/* two 503s, then the answer: the third try gets the 404 */
	manifest_get_fails(*state, opts, "v1", CNAI_ENOTFOUND,
			   "fetching manifest ",
			   ": MANIFEST_UNKNOWN: manifest unknown");
	assert_int_equal(log_count(*state, "GET /v2/" REPO "/manifests/v1"),
			 3);
}

static void test_distribution__no_referrers_api_not_found(void **state)
{
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_registry *r;
	json_t *idx = NULL;
	char want[200];

	start_fake(fx, anonymous);
	r = open_reg("v1", &o, 0);
	assert_int_equal(cnai_registry_referrers(r, CNAI_OCI_EMPTY_DIGEST,
						 &idx), CNAI_ENOTFOUND);
	assert_null(idx);
	snprintf(want, sizeof(want), "'%s' has no referrers API", fake_host);
	assert_string_equal(fixture_errmsg(), want);
	cnai_registry_free(r);
}

static void test_distribution__bearer_token_from_the_realm(void **state)
{
	static const char *const opts[] = { "--token", "tok-unit", NULL };
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_registry *r;
	struct cnai_buf body = CNAI_BUF_INIT;
	struct cnai_oci_desc got;

	start_fake(fx, opts);
	r = open_reg("v1", &o, 1);
	assert_int_equal(cnai_registry_manifest_put(r, "v1",
						    CNAI_MEDIA_OCI_MANIFEST,
						    manifest,
						    sizeof(manifest) - 1,
						    NULL), 0);
	assert_int_equal(cnai_registry_manifest_get(r, "v1", &body, &got), 0);
	/* asked with the service and a push scope, then sent */
	assert_true(log_count(fx, "token ") >= 1);
	assert_true(log_count(fx, "token service=fake&scope=repository%3A"
				  "team%2Fmodel%3Apull%2Cpush") +
			    log_count(fx, "token service=fake&scope=repository:"
					  "team/model:pull,push") >= 1);
	assert_true(log_count(fx, "auth Bearer tok-unit") >= 2);
	cnai_buf_release(&body);
	cnai_registry_free(r);
}

static void test_distribution__basic_credentials_sent(void **state)
{
	static const char *const opts[] = { "--basic", "u:p", NULL };
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_registry *r;
	json_t *tags = NULL;

	start_fake(fx, opts);
	o.username = "u";
	o.password = "p";
	r = open_reg("v1", &o, 0);
	assert_int_equal(cnai_registry_tags_list(r, &tags), 0);
	assert_int_equal(json_array_size(tags), 0);
	assert_true(log_count(fx, "auth Basic dTpw") >= 1); /* base64 u:p */
	assert_int_equal(log_count(fx, "token "), 0);
	json_decref(tags);
	cnai_registry_free(r);
}

/* Opens (push) and reads the tags of a registry scripted by `opts`,
 * which must fail with CNAI_ERROR: the message in fx->path. */
static void auth_fails(struct fixture *fx, const char *const *opts,
		       const struct cnai_registry_opts *o)
{
	struct cnai_reference ref;
	struct cnai_registry *r = NULL;
	json_t *tags = NULL;
	char s[200];
	int err;

	start_fake(fx, opts);
	snprintf(s, sizeof(s), "%s/" REPO ":v1", fake_host);
	assert_int_equal(cnai_reference_parse(&ref, s), 0);
	err = cnai_registry_open(&r, &ref, o, 0);
	if (err == 0)
		err = cnai_registry_tags_list(r, &tags);
	assert_int_equal(err, CNAI_ERROR);
	assert_null(tags);
	cnai_registry_free(r);
}

static void test_distribution__no_credentials_says_how_to_log_in(void **state)
{
	static const char *const opts[] = { "--basic", "u:p", NULL };
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	char want[600];

	auth_fails(fx, opts, &o);
	snprintf(want, sizeof(want), "registry '%s' requires authentication "
		 "and no credentials were found: log in with 'docker login "
		 "%s', put them in $DOCKER_CONFIG/config.json or "
		 "~/.docker/config.json, or pass --username and "
		 "--password-stdin", fake_host, fake_host);
	assert_string_equal(fixture_errmsg(), want);
}

static void test_distribution__wrong_credentials_refused(void **state)
{
	static const char *const opts[] = { "--user", "u:p", NULL };
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	char want[600];

	o.username = "u";
	o.password = "wrong";
	auth_fails(fx, opts, &o);
	/* the token server's refusal, with the user named */
	snprintf(want, sizeof(want), "registry '%s' refused the credentials "
		 "of 'u': UNAUTHORIZED: bad credentials", fake_host);
	assert_string_equal(fixture_errmsg(), want);
}

static void test_distribution__challenge_without_realm_refused(void **state)
{
	static const char *const opts[] = { "--no-realm", NULL };
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	char want[600];

	auth_fails(fx, opts, &o);
	snprintf(want, sizeof(want), "registry '%s' asks for Bearer "
		 "authentication without a realm (the token server's URL)",
		 fake_host);
	assert_string_equal(fixture_errmsg(), want);
}

static void test_distribution__unreachable_registry_named(void **state)
{
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_reference ref;
	struct cnai_registry *r = NULL;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char s[200], want[200];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* a port that was free a moment ago: nothing listens there */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(s, sizeof(s), "127.0.0.1:%d/" REPO ":v1", ntohs(sa.sin_port));
	assert_int_equal(cnai_reference_parse(&ref, s), 0);
	o.retries = 1;
	assert_int_equal(cnai_registry_open(&r, &ref, &o, 0), CNAI_ERROR);
	assert_null(r);
	snprintf(want, sizeof(want), "registry '127.0.0.1:%d' cannot be "
		 "reached", ntohs(sa.sin_port));
	assert_non_null(strstr(fixture_errmsg(), want));
}

static void test_distribution__image_pushed_and_pulled(void **state)
{
	struct fixture *fx = *state;
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_oci_desc layer, cfg, man;
	struct cnai_buf got = CNAI_BUF_INIT;
	json_t *m = NULL;
	const char *src;
	char pushed[CNAI_DIGEST_LEN], pulled[CNAI_DIGEST_LEN], dest[200],
		dst[600];

	start_fake(fx, anonymous);
	src = layout_with_blob(fx, "a", "layer bytes\n", &layer);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.media_type, sizeof(cfg.media_type), "%s",
		 CNAI_MEDIA_OCI_CONFIG);
	cfg.size = 2;
	assert_int_equal(cnai_oci_blob_put(cfg.digest, src, "{}", 2), 0);
	assert_int_equal(cnai_oci_manifest_new(&m, &cfg, NULL), 0);
	assert_int_equal(cnai_oci_manifest_add_layer(m, &layer, NULL), 0);
	assert_int_equal(cnai_oci_json_put(&man, src, m, NULL), 0);
	assert_int_equal(cnai_oci_tag(src, "v1", &man, NULL), 0);

	o.jobs = 2;
	snprintf(dest, sizeof(dest), "%s/" REPO ":v1", fake_host);
	assert_int_equal(cnai_registry_push(pushed, src, "v1", dest, &o), 0);
	assert_string_equal(pushed, man.digest);
	/* blobs before the manifest that names them */
	assert_int_equal(log_count(fx, "PUT /v2/" REPO "/manifests/v1"), 1);

	snprintf(dst, sizeof(dst), "%s/pulled", fx->dir);
	assert_int_equal(cnai_registry_pull(pulled, dest, dst, "copy", &o), 0);
	assert_string_equal(pulled, man.digest);
	assert_int_equal(cnai_oci_blob_read(&got, dst, layer.digest, 0), 0);
	assert_string_equal(got.buf, "layer bytes\n");
	{
		struct cnai_oci_desc t;

		assert_int_equal(cnai_oci_resolve(&t, dst, "copy"), 0);
		assert_string_equal(t.digest, man.digest);
	}
	json_decref(m);
	cnai_buf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_distribution__blob_pushed_once_then_skipped),
		T(test_distribution__large_blob_goes_in_chunks),
		T(test_distribution__blob_pulled_and_verified),
		T(test_distribution__missing_blob_not_found),
		T(test_distribution__corrupt_blob_refused),
		T(test_distribution__manifest_put_and_get),
		T(test_distribution__missing_manifest_not_found),
		T(test_distribution__oversized_manifest_refused),
		T(test_distribution__unavailable_registry_retried),
		T(test_distribution__no_referrers_api_not_found),
		T(test_distribution__bearer_token_from_the_realm),
		T(test_distribution__basic_credentials_sent),
		T(test_distribution__no_credentials_says_how_to_log_in),
		T(test_distribution__wrong_credentials_refused),
		T(test_distribution__challenge_without_realm_refused),
		T(test_distribution__unreachable_registry_named),
		T(test_distribution__image_pushed_and_pulled),
#undef T
	};

	/* a test that fails must not leave its registry running */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
