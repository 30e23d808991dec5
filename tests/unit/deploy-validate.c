/*
 * Tests for core/deploy/validate.c: each rule over values Kubernetes
 * accepts and values it refuses (with the reason given), the boundaries
 * (63, 253 characters), and the messages cnai_validate_flag() and
 * cnai_validate_pair() set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/deploy/validate.h"
#include "core/util/error.h"
#include "core/util/banned.h"

typedef int (*check_fn)(const char *s, struct cnai_buf *why);

struct bad {
	const char *value, *why;
};

static void accepts(check_fn fn, const char *const *good, size_t n)
{
	struct cnai_buf why = CNAI_BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		cnai_buf_reset(&why);
		if (fn(good[i], &why) != 0)
			fail_msg("'%s' refused: %s", good[i], why.buf);
		assert_string_equal(why.buf, "");
	}
	cnai_buf_release(&why);
}

static void refuses(check_fn fn, const struct bad *bad, size_t n)
{
	struct cnai_buf why = CNAI_BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		cnai_buf_reset(&why);
		if (fn(bad[i].value, &why) != CNAI_EINVALID)
			fail_msg("'%s' accepted", bad[i].value);
		if (!strstr(why.buf, bad[i].why))
			fail_msg("'%s': reason '%s', expected '%s'",
				 bad[i].value, why.buf, bad[i].why);
		/* and without a reason buffer, the same answer */
		assert_int_equal(fn(bad[i].value, NULL), CNAI_EINVALID);
	}
	cnai_buf_release(&why);
}

#define N(a) (sizeof(a) / sizeof(*(a)))

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_validate__dns_labels(void **state)
{
	static const char *const good1123[] = { "a", "0", "prod", "a-b",
						"9lives", "x1-2-3" };
	static const struct bad bad1123[] = {
		{ "", "empty" },
		{ "Prod", "other than a-z 0-9 '-'" },
		{ "a_b", "other than a-z 0-9 '-'" },
		{ "a.b", "other than a-z 0-9 '-'" },
		{ "a b", "other than a-z 0-9 '-'" },
		{ "a\nb", "other than a-z 0-9 '-'" },
		{ "-a", "start and end" },
		{ "a-", "start and end" },
	};
	static const struct bad bad1035[] = {
		{ "9lives", "start with a letter" },
		{ "0", "start with a letter" },
		{ "digits-", "start and end" },
		{ "Bad_Name", "other than a-z 0-9 '-'" },
	};
	char *s63 = repeat('a', 63), *s64 = repeat('a', 64);

	accepts(cnai_validate_dns1123_label, good1123, N(good1123));
	refuses(cnai_validate_dns1123_label, bad1123, N(bad1123));
	accepts(cnai_validate_dns1035_label, good1123, 1);
	refuses(cnai_validate_dns1035_label, bad1035, N(bad1035));
	refuses(cnai_validate_dns1035_label, bad1123, 6);
	assert_int_equal(cnai_validate_dns1123_label(s63, NULL), 0);
	assert_int_equal(cnai_validate_dns1035_label(s63, NULL), 0);
	assert_int_equal(cnai_validate_dns1123_label(s64, NULL), CNAI_EINVALID);
	assert_int_equal(cnai_validate_dns1035_label(s64, NULL), CNAI_EINVALID);
	free(s63);
	free(s64);
}

static void test_validate__dns_subdomain(void **state)
{
	static const char *const good[] = { "a", "example.com", "a-b.c-d",
					    "0.1.2", "x" };
	static const struct bad bad[] = {
		{ "", "empty" },
		{ ".a", "empty part" },
		{ "a.", "empty part" },
		{ "a..b", "empty part" },
		{ "a.-b", "start and end" },
		{ "a-.b", "start and end" },
		{ "A.com", "other than a-z 0-9 '-' '.'" },
		{ "a_b.com", "other than a-z 0-9 '-' '.'" },
	};
	char *s = repeat('a', 254);

	accepts(cnai_validate_dns1123_subdomain, good, N(good));
	refuses(cnai_validate_dns1123_subdomain, bad, N(bad));
	/* no 63 limit per part; 253 in all */
	s[253] = '\0';
	s[100] = '.';
	assert_int_equal(cnai_validate_dns1123_subdomain(s, NULL), 0);
	s[253] = 'a';
	assert_int_equal(cnai_validate_dns1123_subdomain(s, NULL),
			 CNAI_EINVALID);
	free(s);
}

static void test_validate__label_keys_and_values(void **state)
{
	static const char *const keys[] = {
		"team", "app.kubernetes.io/name", "A_b.c-D", "x/y", "9",
		"example.com/Some_Key",
	};
	static const struct bad bad_keys[] = {
		{ "", "empty" },
		{ "a b", "its name has a character other than" },
		{ "a\nb", "its name has a character other than" },
		{ "/a", "prefix before '/' is empty" },
		{ "a/", "name after '/' is empty" },
		{ "a/b/c", "its name has a character other than" },
		{ "Ex.com/a", "prefix is not a DNS-1123 subdomain" },
		{ "-a", "its name does not start and end" },
		{ "a_", "its name does not start and end" },
	};
	static const char *const values[] = { "", "a", "yes", "v1", "A-b_c.d",
					      "0x1F", "1e3" };
	static const struct bad bad_values[] = {
		{ "a b", "it has a character other than" },
		{ "a\n", "it has a character other than" },
		{ "1:20", "it has a character other than" },
		{ "-a", "it does not start and end" },
		{ "a.", "it does not start and end" },
	};
	char *name63 = repeat('n', 63), *name64 = repeat('n', 64),
	     *prefix253 = repeat('p', 253 + 1 + 63);

	accepts(cnai_validate_label_key, keys, N(keys));
	refuses(cnai_validate_label_key, bad_keys, N(bad_keys));
	accepts(cnai_validate_label_value, values, N(values));
	refuses(cnai_validate_label_value, bad_values, N(bad_values));
	assert_int_equal(cnai_validate_label_key(name63, NULL), 0);
	assert_int_equal(cnai_validate_label_value(name63, NULL), 0);
	assert_int_equal(cnai_validate_label_key(name64, NULL), CNAI_EINVALID);
	assert_int_equal(cnai_validate_label_value(name64, NULL),
			 CNAI_EINVALID);
	/* a 253-character prefix, '/', a 63-character name */
	prefix253[253] = '/';
	assert_int_equal(cnai_validate_label_key(prefix253, NULL), 0);
	free(name63);
	free(name64);
	free(prefix253);
}

static void test_validate__quantities(void **state)
{
	static const char *const good[] = {
		"1", "500m", "2", "1.5Gi", "128Mi", "1e3", "1E-3", "+1", ".5",
		"5.", "100n", "10u", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki",
		"1Ti", "1Pi", "1Ei", "0", "-0", "1e+2",
	};
	static const struct bad bad[] = {
		{ "", "empty" },
		{ "lots", "does not start with a number" },
		{ "1Gi';", "its suffix" },
		{ "1.5.5", "its suffix" },
		{ "1e3x", "its suffix" },
		{ "1 Gi", "its suffix" },
		{ "1gi", "its suffix" },
		{ "1K", "its suffix" },
		{ "1e", "its suffix" },
		{ ".", "does not start with a number" },
		{ "Gi", "does not start with a number" },
		{ "-1", "negative" },
		{ "-0.5m", "negative" },
		{ "1\n", "its suffix" },
	};

	accepts(cnai_validate_quantity, good, N(good));
	refuses(cnai_validate_quantity, bad, N(bad));
}

static void test_validate__env_names(void **state)
{
	static const char *const good[] = { "A", "_", "PATH", "a_1", "_X9" };
	static const struct bad bad[] = {
		{ "", "empty" },
		{ "1A", "starts with a digit" },
		{ "A B", "other than A-Z a-z 0-9 '_'" },
		{ "A\nB", "other than A-Z a-z 0-9 '_'" },
		{ "A-B", "other than A-Z a-z 0-9 '_'" },
		{ "A.B", "other than A-Z a-z 0-9 '_'" },
		{ "A=", "other than A-Z a-z 0-9 '_'" },
	};

	accepts(cnai_validate_env_name, good, N(good));
	refuses(cnai_validate_env_name, bad, N(bad));
}

static void test_validate__extended_resources(void **state)
{
	static const char *const good[] = { "nvidia.com/gpu", "amd.com/gpu",
					    "example.com/my_dev-1",
					    "gpu.intel.com/i915" };
	static const struct bad bad[] = {
		{ "", "empty" },
		{ "gpu", "no domain" },
		{ "kubernetes.io/gpu", "kubernetes.io domain" },
		{ "x.kubernetes.io/gpu", "kubernetes.io domain" },
		{ "requests.a.com/gpu", "requests." },
		{ "a.com/g\n", "its name has a character" },
		{ "A.com/gpu", "prefix is not a DNS-1123 subdomain" },
		{ "a.com/", "name after '/' is empty" },
	};

	accepts(cnai_validate_resource_name, good, N(good));
	refuses(cnai_validate_resource_name, bad, N(bad));
}

static void test_validate__images(void **state)
{
	static const char *const good[] = {
		"digits",
		"digits:1",
		"ghcr.io/org/model:v1.2",
		"localhost:5000/team/model",
		"127.0.0.1:5000/m@sha256:ba7816bf8f01cfea414140de5dae2223"
		"b00361a396177a9cb410ff61f20015ad",
		"[::1]:5000/m:latest",
		"a/b_c/d__e/f-g--h/i.j",
	};
	static const struct bad bad[] = {
		{ "", "empty" },
		{ "x\ny", "whitespace or a control character" },
		{ "x y", "whitespace or a control character" },
		{ "x\t", "whitespace or a control character" },
		{ "caf\xc3\xa9", "outside ASCII" },
		{ "Foo/bar", "the repository has a character" },
		{ "x:", "the tag" },
		{ "x:-a", "the tag starts with" },
		{ "x@sha256:00", "the digest" },
		{ "ex_ample.com:5000/x", "its registry" },
		{ "example.com:99999999/x", "its registry" },
		{ "a.b.:1/x", "its registry" },
		{ "a___b", "a component of its repository" },
		{ "a/.b", "a component of its repository" },
		{ "a/b-", "a component of its repository" },
		{ "a/b..c", "a component of its repository" },
	};

	char *long_repo = repeat('A', 1000);
	struct cnai_buf why = CNAI_BUF_INIT;

	accepts(cnai_validate_image, good, N(good));
	refuses(cnai_validate_image, bad, N(bad));
	/* the parser's message, cut by a long value, is not half used */
	assert_int_equal(cnai_validate_image(long_repo, &why), CNAI_EINVALID);
	assert_string_equal(why.buf, "it is not [registry/]repository[:tag]"
				     "[@digest]");
	cnai_buf_release(&why);
	free(long_repo);
	/* the parser's error does not stay behind */
	assert_null(cnai_error_last());
}

static void test_validate__cron(void **state)
{
	static const char *const good[] = {
		"0 3 * * *",     "*/15 * * * *",   "0 0 1 1 *",
		"0 9-17 * * 1-5", "0 0 * JAN-mar sun", "5,10,15 * * * ?",
		" 0 3 * * * ",   "0\t3 * * *",     "@daily",
		"@hourly",       "@every 1h30m",   "@every 90s",
		"59 23 31 12 6", "5/15 * * * *",   "@annually",
	};
	static const struct bad bad[] = {
		{ "", "empty" },
		{ "0 3 * *", "5 fields" },
		{ "0 3 * * * *", "5 fields" },
		{ "0 3 * * * * * *", "5 fields" },
		{ "60 * * * *", "its minute field '60'" },
		{ "* 24 * * *", "its hour field '24'" },
		{ "* * 0 * *", "its day-of-month field '0'" },
		{ "* * * 13 *", "its month field '13'" },
		{ "* * * * 7", "its day-of-week field '7'" },
		{ "5-1 * * * *", "its minute field '5-1'" },
		{ "*/0 * * * *", "its minute field '*/0'" },
		{ "1,,2 * * * *", "its minute field '1,,2'" },
		{ "0 3 * * *\nkind: x", "control character" },
		{ "TZ=UTC 0 3 * * *", "time zone" },
		{ "CRON_TZ=UTC 0 3 * * *", "time zone" },
		{ "@often", "@yearly" },
		{ "@every", "@yearly" },
		{ "@every soon", "@every wants a duration" },
		{ "@every 0s", "@every wants a duration" },
		{ "@every  1h", "@every wants a duration" },
		{ " @daily", "5 fields" },
		{ "@daily ", "@yearly" },
		{ "* * * foo *", "its month field 'foo'" },
		{ "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,99 * * * *",
		  "its minute field '1,2,3,4,5,6,7,8,9,10,11,12,13,14...'" },
	};

	accepts(cnai_validate_cron, good, N(good));
	refuses(cnai_validate_cron, bad, N(bad));
}

static void test_validate__numbers_text_and_sweeps(void **state)
{
	static const char *const decimals[] = { "50", "0.5", "100", "007" };
	static const struct bad bad_decimals[] = {
		{ "", "not a number" },  { "0", "it is 0" },
		{ "0.00", "it is 0" },   { "-1", "not a number" },
		{ "5\n", "not a number" }, { "1e3", "not a number" },
		{ ".5", "not a number" }, { "5.", "not a number" },
	};
	static const char *const texts[] = { "", "a\nb: c", "caf\xc3\xa9",
					     "\xf0\x9f\x98\x80" };
	static const struct bad bad_texts[] = {
		{ "\xff", "UTF-8" },          { "\xc3", "UTF-8" },
		{ "\xc0\xaf", "UTF-8" },      { "\xed\xa0\x80", "UTF-8" },
		{ "\xf4\x90\x80\x80", "UTF-8" },
	};
	static const struct bad bad_lines[] = {
		{ "", "empty" },
		{ "a\nb", "control character" },
		{ "a\x7f", "control character" },
		{ "a\xc2\x85", "control character" },
		{ "a\xe2\x80\xa8", "control character" },
		{ "\xff", "UTF-8" },
	};
	static const char *const keys[] = { "lr", "hidden", "batch-size",
					    "weight_decay" };
	static const struct bad bad_keys[] = {
		{ "", "empty" },
		{ "LR", "start with a letter" },
		{ "l r", "other than" },
		{ "1lr", "start with a letter" },
	};
	static const char *const sweeps[] = { "0.1", "0.1,0.01", "a b,c" };
	static const struct bad bad_sweeps[] = {
		{ "", "no values" },
		{ "0.1,", "an empty value" },
		{ ",0.1", "an empty value" },
		{ "0.1,,0.2", "an empty value" },
		{ "\xff", "UTF-8" },
	};

	accepts(cnai_validate_positive_decimal, decimals, N(decimals));
	refuses(cnai_validate_positive_decimal, bad_decimals,
		N(bad_decimals));
	accepts(cnai_validate_text, texts, N(texts));
	refuses(cnai_validate_text, bad_texts, N(bad_texts));
	accepts(cnai_validate_line, texts + 2, 2);
	refuses(cnai_validate_line, bad_lines, N(bad_lines));
	accepts(cnai_validate_train_key, keys, N(keys));
	refuses(cnai_validate_train_key, bad_keys, N(bad_keys));
	accepts(cnai_validate_sweep_values, sweeps, N(sweeps));
	refuses(cnai_validate_sweep_values, bad_sweeps, N(bad_sweeps));
}

static void test_validate__flag_messages(void **state)
{
	char *long_value = repeat('x', 150);

	assert_int_equal(cnai_validate_flag("--cpu", NULL,
					    CNAI_VALIDATE_QUANTITY), 0);
	assert_int_equal(cnai_validate_flag("--cpu", "lots",
					    CNAI_VALIDATE_QUANTITY),
			 CNAI_EUSAGE);
	assert_string_equal(cnai_error_last()->message,
			    "--cpu 'lots' is not a quantity (as 500m, 2, "
			    "1.5Gi, 1e3): it does not start with a number");
	/* one line whatever the value holds; long values are cut */
	assert_int_equal(cnai_validate_flag("--image", "a\nb\x01\xff",
					    CNAI_VALIDATE_IMAGE),
			 CNAI_EUSAGE);
	assert_string_equal(cnai_error_last()->message,
			    "--image 'a\\nb\\x01\\xff' is not an image "
			    "reference: it has whitespace or a control "
			    "character");
	long_value[120] = ' ';
	assert_int_equal(cnai_validate_flag("--image", long_value,
					    CNAI_VALIDATE_IMAGE),
			 CNAI_EUSAGE);
	assert_non_null(strstr(cnai_error_last()->message, "xxx...' is not"));
	cnai_error_clear();
	free(long_value);
}

static void test_validate__pair_messages(void **state)
{
	assert_int_equal(cnai_validate_pair("--label", "team=vision",
					    CNAI_VALIDATE_LABEL_KEY,
					    CNAI_VALIDATE_LABEL_VALUE), 0);
	assert_int_equal(cnai_validate_pair("--label", "team=",
					    CNAI_VALIDATE_LABEL_KEY,
					    CNAI_VALIDATE_LABEL_VALUE), 0);
	assert_int_equal(cnai_validate_pair("--env", "A=b=c",
					    CNAI_VALIDATE_ENV_NAME,
					    CNAI_VALIDATE_TEXT), 0);
	assert_int_equal(cnai_validate_pair("--label", "a b=x",
					    CNAI_VALIDATE_LABEL_KEY,
					    CNAI_VALIDATE_LABEL_VALUE),
			 CNAI_EUSAGE);
	assert_string_equal(cnai_error_last()->message,
			    "--label 'a b=x': the key 'a b' is not a qualified "
			    "name (label or annotation key): its name has a "
			    "character other than A-Z a-z 0-9 '-' '_' '.'");
	assert_int_equal(cnai_validate_pair("--env", "A B=1",
					    CNAI_VALIDATE_ENV_NAME,
					    CNAI_VALIDATE_TEXT),
			 CNAI_EUSAGE);
	assert_string_equal(cnai_error_last()->message,
			    "--env 'A B=1': the name 'A B' is not an "
			    "environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
			    ": it has a character other than A-Z a-z 0-9 '_'");
	assert_int_equal(cnai_validate_pair("--label", "k=a b",
					    CNAI_VALIDATE_LABEL_KEY,
					    CNAI_VALIDATE_LABEL_VALUE),
			 CNAI_EUSAGE);
	assert_string_equal(cnai_error_last()->message,
			    "--label 'k=a b': the value 'a b' is not a label "
			    "value: it has a character other than A-Z a-z 0-9 "
			    "'-' '_' '.'");
	assert_int_equal(cnai_validate_pair("--env", "=1",
					    CNAI_VALIDATE_ENV_NAME,
					    CNAI_VALIDATE_TEXT),
			 CNAI_EUSAGE);
	assert_string_equal(cnai_error_last()->message,
			    "--env '=1' is not KEY=VALUE");
	assert_int_equal(cnai_validate_pair("--env", "novalue",
					    CNAI_VALIDATE_ENV_NAME,
					    CNAI_VALIDATE_TEXT),
			 CNAI_EUSAGE);
	cnai_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate__dns_labels),
		cmocka_unit_test(test_validate__dns_subdomain),
		cmocka_unit_test(test_validate__label_keys_and_values),
		cmocka_unit_test(test_validate__quantities),
		cmocka_unit_test(test_validate__env_names),
		cmocka_unit_test(test_validate__extended_resources),
		cmocka_unit_test(test_validate__images),
		cmocka_unit_test(test_validate__cron),
		cmocka_unit_test(test_validate__numbers_text_and_sweeps),
		cmocka_unit_test(test_validate__flag_messages),
		cmocka_unit_test(test_validate__pair_messages),
	};

	return cmocka_run_group_tests_name("deploy-validate", tests, NULL,
					   NULL);
}
