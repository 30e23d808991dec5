/*
 * Tests for core/util/yaml.c's emitter: which strings must be quoted so
 * that YAML 1.1 and 1.2 readers read them back as strings, that every
 * string scalar survives emit + parse unchanged and quoted where needed,
 * that plain non-strings of a template stay as they were, and that a
 * value that is not UTF-8 is an error, not undefined behaviour.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util/error.h"
#include "core/util/yaml.h"
#include "core/util/banned.h"

#define N(a) (sizeof(a) / sizeof(*(a)))

/* Strings some YAML reader takes for something else. */
static const char *const non_strings[] = {
	"", "~", "null", "Null", "NULL", "nULl",
	"true", "False", "TRUE", "yes", "No", "YES", "on", "Off", "oN",
	"y", "Y", "n", "N", "=", "<<",
	"0", "12", "-12", "+12", "012", "089", "0o17", "0O17", "0x1F", "0X1f",
	"-0x1F", "0b101", "-0b1", "0b", "1_000", "1__", "-_1", "+_1",
	"1:20", "1:20:30", "-1:20", "190:20:30.15", "1:99",
	"1.5", ".5", "5.", "-1.5", "1e3", "1E3", "1.0e-3", "12e+5", "1_0.5",
	".inf", ".Inf", "-.INF", "+.inf", ".nan", ".NaN", "+inf", "-Infinity",
	"+nan",
	"2001-12-14", "2001-1-1", "2001-12-14t21:59:43.10-05:00",
	"2001-12-14 21:59:43.10 -5", "2002-12-14T00:00:00Z",
};

/* Strings every reader keeps as strings. */
static const char *const strings[] = {
	"a", "v1", "1.2.3", "1-2", "inf", "nan", "Infinity", "yess", "nope",
	"0.1.0", "1e", "1.0e", "x1:20", "1:20x", "2001-12", "2001-12-14x",
	"+", "-", ".", "..", "_1", "=x", "<<x", "~x",
};

/* Strings libyaml quotes for their syntax, whatever their type. */
static const char *const syntax[] = {
	"a: b", "- x", "#c", "'q'", "\"q\"", "{a}", "[1]", "&a", "*a",
	"!tag", "%x", "@x", "`x", "|", ">", " lead", "trail ", "a\nb",
	"a\rb", "a\tb", "---", "...", "? x", "a\xc2\x85" "b",
	"a\xe2\x80\xa8" "b", "a\xe2\x80\xa9" "b", "\xef\xbb\xbf" "x",
	"caf\xc3\xa9", "{{ .Values.x }}", "!!python/object", "a\x01b",
	"\x7f", "a\n\nb\n", "\n", "a #b", "a:b", "key: value # not",
};

static void test_yaml__needs_quotes(void **state)
{
	size_t i;

	for (i = 0; i < N(non_strings); i++)
		if (!cnai_yaml_needs_quotes(non_strings[i]))
			fail_msg("'%s' left plain", non_strings[i]);
	for (i = 0; i < N(strings); i++)
		if (cnai_yaml_needs_quotes(strings[i]))
			fail_msg("'%s' quoted", strings[i]);
}

/* Emits {v: s, s: [s]} and parses it back. */
static void round_trip(const char *s)
{
	struct cnai_yaml *doc = cnai_yaml_map(), *seq = cnai_yaml_seq(),
			 **back = NULL, *v;
	struct cnai_buf text = CNAI_BUF_INIT;
	size_t n = 0;

	assert_int_equal(cnai_yaml_set(doc, "v", cnai_yaml_str(s)), 0);
	assert_int_equal(cnai_yaml_append(seq, cnai_yaml_str(s)), 0);
	assert_int_equal(cnai_yaml_set(doc, s, seq), 0);
	assert_int_equal(cnai_yaml_emit(&text, &doc, 1), 0);
	if (cnai_yaml_parse(&back, &n, text.buf, text.len, "t") < 0)
		fail_msg("'%s': %s\n%s", s, cnai_error_last()->message,
			 text.buf);
	assert_int_equal(n, 1);
	v = cnai_yaml_get(back[0], "v");
	assert_non_null(v);
	if (v->type != CNAI_YAML_STR || strcmp(v->value, s))
		fail_msg("'%s' came back as '%s' (type %d)\n%s", s, v->value,
			 (int)v->type, text.buf);
	v = cnai_yaml_get(back[0], s);
	assert_non_null(v);
	assert_int_equal(v->kind, CNAI_YAML_SEQ);
	assert_int_equal(v->items[0]->type, CNAI_YAML_STR);
	assert_string_equal(v->items[0]->value, s);
	cnai_yaml_free(back[0]);
	free(back);
	cnai_yaml_free(doc);
	cnai_buf_release(&text);
}

static void test_yaml__strings_round_trip(void **state)
{
	size_t i;

	for (i = 0; i < N(non_strings); i++)
		round_trip(non_strings[i]);
	for (i = 0; i < N(strings); i++)
		round_trip(strings[i]);
	for (i = 0; i < N(syntax); i++)
		round_trip(syntax[i]);
}

static void test_yaml__quoted_in_the_text(void **state)
{
	struct cnai_yaml *doc = cnai_yaml_map();
	struct cnai_buf text = CNAI_BUF_INIT;

	cnai_yaml_set(doc, "a", cnai_yaml_str("1:20"));
	cnai_yaml_set(doc, "b", cnai_yaml_str("yes"));
	cnai_yaml_set(doc, "c", cnai_yaml_str("v1"));
	cnai_yaml_set(doc, "d", cnai_yaml_int(80));
	cnai_yaml_set(doc, "on", cnai_yaml_bool(1));
	assert_int_equal(cnai_yaml_emit(&text, &doc, 1), 0);
	assert_string_equal(text.buf, "---\na: \"1:20\"\nb: \"yes\"\nc: v1\n"
				      "d: 80\n\"on\": true\n");
	cnai_yaml_free(doc);
	cnai_buf_release(&text);
}

static void test_yaml__template_plain_values_stay_plain(void **state)
{
	static const char tmpl[] = "a: yes\nb: 1:20\nc: 0o17\nd: '1:20'\n"
				   "e: 2001-12-14\nf: text\n";
	struct cnai_yaml **docs = NULL;
	struct cnai_buf text = CNAI_BUF_INIT;
	size_t n = 0;

	assert_int_equal(cnai_yaml_parse(&docs, &n, tmpl, strlen(tmpl), "t"),
			 0);
	assert_int_equal(cnai_yaml_emit(&text, docs, n), 0);
	assert_string_equal(text.buf, "---\na: yes\nb: 1:20\nc: 0o17\n"
				      "d: \"1:20\"\ne: 2001-12-14\nf: text\n");
	cnai_yaml_free(docs[0]);
	free(docs);
	cnai_buf_release(&text);
}

static void test_yaml__invalid_utf8_is_an_error(void **state)
{
	/* a bad byte, a cut sequence, an overlong '/', a surrogate, and
	 * U+13FFFF: libyaml's emitter lets the last two through, its reader
	 * refuses them */
	static const char *const bad[] = { "\xff", "a\xc3", "\xc0\xaf",
					   "\xed\xa0\x80",
					   "t\xf7\xa0\xa0\xa0" };
	size_t i;

	for (i = 0; i < N(bad); i++) {
		struct cnai_yaml *doc = cnai_yaml_map();
		struct cnai_buf text = CNAI_BUF_INIT;

		cnai_yaml_set(doc, "a", cnai_yaml_str(bad[i]));
		assert_int_equal(cnai_yaml_emit(&text, &doc, 1), CNAI_EINVALID);
		assert_string_equal(cnai_error_last()->message,
				    "a value is not valid UTF-8");
		cnai_error_clear();
		cnai_yaml_free(doc);
		cnai_buf_release(&text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml__needs_quotes),
		cmocka_unit_test(test_yaml__strings_round_trip),
		cmocka_unit_test(test_yaml__quoted_in_the_text),
		cmocka_unit_test(test_yaml__template_plain_values_stay_plain),
		cmocka_unit_test(test_yaml__invalid_utf8_is_an_error),
	};

	return cmocka_run_group_tests_name("util-yaml", tests, NULL, NULL);
}
