/*
 * Tests for core/util/proc.c: the shell-quoted command line, the child's
 * environment with variables set, and a child fed on its stdin (its exit
 * status, and a command that is not on PATH).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util/error.h"
#include "core/util/proc.h"
#include "core/util/banned.h"

static void test_proc__command_line_quotes_what_a_shell_would_split(
	void **state)
{
	char *const argv[] = { "python", "train.py", "--name", "a b",
			       "it's", "", NULL };
	char *s = cnai_proc_command_line(6, argv);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s, "python train.py --name 'a b' 'it'\\''s' ''");
	free(s);
}

static void test_proc__env_sets_and_replaces(void **state)
{
	const char *const set[] = { "CNAI_TEST_A=new", "CNAI_TEST_B=b", NULL };
	char **env = NULL;
	size_t i, a = 0, b = 0, keep = 0;

	(void)state;
	setenv("CNAI_TEST_A", "old", 1);
	setenv("CNAI_TEST_KEEP", "k", 1);
	assert_int_equal(cnai_proc_env_new(&env, set), 0);
	for (i = 0; env[i]; i++) {
		a += !strncmp(env[i], "CNAI_TEST_A=", 12);
		b += !strcmp(env[i], "CNAI_TEST_B=b");
		keep += !strcmp(env[i], "CNAI_TEST_KEEP=k");
		if (!strncmp(env[i], "CNAI_TEST_A=", 12))
			assert_string_equal(env[i], "CNAI_TEST_A=new");
	}
	assert_int_equal(a, 1);
	assert_int_equal(b, 1);
	assert_int_equal(keep, 1);
	cnai_proc_env_free(env);
	cnai_proc_env_free(NULL);
}

static void test_proc__run_input_reports_the_exit(void **state)
{
	char *const ok[] = { "sh", "-c", "test \"$(cat)\" = hello", NULL };
	char *const no[] = { "sh", "-c", "cat >/dev/null; exit 3", NULL };
	char *const none[] = { "cnai-no-such-command", NULL };
	struct cnai_proc_result r;

	(void)state;
	assert_int_equal(cnai_proc_run_input(&r, ok, "hello", 5), 0);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(cnai_proc_run_input(&r, no, "x", 1), 0);
	assert_int_equal(r.exit_code, 3);
	assert_int_equal(cnai_proc_run_input(&r, none, "x", 1),
			 CNAI_ENOTFOUND);
	cnai_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_proc__command_line_quotes_what_a_shell_would_split),
		cmocka_unit_test(test_proc__env_sets_and_replaces),
		cmocka_unit_test(test_proc__run_input_reports_the_exit),
	};

	return cmocka_run_group_tests_name("util-proc", tests, NULL, NULL);
}
