/*
 * Tests for core/util/fs.c: atomic writes (the content, the mode, no
 * temporary left behind whether the write succeeds or fails), reading with
 * a limit, mkdir -p, the temporary-file helpers, and opening a folder
 * below another without following symbolic links, and removing a tree
 * (never through a symbolic link).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

static void test_fs__write_atomic_writes_content_and_mode(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf b = CNAI_BUF_INIT;
	struct stat sb;
	char path[600];

	snprintf(path, sizeof(path), "%s/file", fx->dir);
	assert_int_equal(cnai_fs_write_atomic(path, "hello\n", 6, 0640), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(cnai_fs_read_file(&b, path, 0), 0);
	assert_string_equal(b.buf, "hello\n");
	/* Only the target is there: the temporary was renamed onto it. */
	assert_int_equal(fixture_count_entries(fx->dir), 1);
	cnai_buf_release(&b);
}

static void test_fs__write_atomic_replaces_without_temp(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf b = CNAI_BUF_INIT;
	char path[600];
	int i;

	snprintf(path, sizeof(path), "%s/config", fx->dir);
	for (i = 0; i < 5; i++) {
		char text[32];
		int n = snprintf(text, sizeof(text), "version %d", i);

		assert_int_equal(cnai_fs_write_atomic(path, text, (size_t)n,
						      0644), 0);
	}
	assert_int_equal(cnai_fs_read_file(&b, path, 0), 0);
	assert_string_equal(b.buf, "version 4");
	assert_int_equal(fixture_count_entries(fx->dir), 1);
	assert_int_equal(fixture_count_prefixed(fx->dir, ".tmp-"), 0);
	cnai_buf_release(&b);
}

static void test_fs__write_atomic_empty_file(void **state)
{
	struct fixture *fx = *state;
	struct stat sb;
	char path[600];

	snprintf(path, sizeof(path), "%s/empty", fx->dir);
	assert_int_equal(cnai_fs_write_atomic(path, "", 0, 0600), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);
}

static void test_fs__write_atomic_failure_leaves_no_temp(void **state)
{
	struct fixture *fx = *state;
	char path[600];

	/* A non-empty folder as the target: rename() fails after the data
	 * was written, and the temporary must be removed. */
	snprintf(path, sizeof(path), "%s/target", fx->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(fixture_write(fx, "target/keep", "x", 1), 0);
	assert_int_equal(cnai_fs_write_atomic(path, "data", 4, 0644),
			 CNAI_ERROR);
	assert_non_null(strstr(fixture_errmsg(), "cannot rename to '"));
	assert_int_equal(fixture_count_prefixed(fx->dir, ".tmp-"), 0);
	assert_int_equal(fixture_count_entries(fx->dir), 1);
	assert_true(cnai_fs_is_dir(path));
}

static void test_fs__write_atomic_into_missing_folder_fails(void **state)
{
	struct fixture *fx = *state;
	char path[600];

	snprintf(path, sizeof(path), "%s/no/such/file", fx->dir);
	assert_int_equal(cnai_fs_write_atomic(path, "x", 1, 0644),
			 CNAI_ERROR);
	assert_non_null(strstr(fixture_errmsg(), "cannot create a file in"));
	assert_int_equal(fixture_count_entries(fx->dir), 0);
}

static void test_fs__read_file_appends(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf b = CNAI_BUF_INIT;

	assert_int_equal(fixture_write(fx, "f", "abc", 3), 0);
	cnai_buf_adds(&b, ">");
	assert_int_equal(cnai_fs_read_file(&b, fixture_path(fx, "f"), 0), 0);
	assert_string_equal(b.buf, ">abc");
	cnai_buf_release(&b);
}

static void test_fs__read_file_limit(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf b = CNAI_BUF_INIT;
	char expect[700];
	char *big = malloc(200000);

	assert_non_null(big);
	memset(big, 'q', 200000);
	assert_int_equal(fixture_write(fx, "big", big, 200000), 0);
	/* Exactly at the limit is fine. */
	assert_int_equal(cnai_fs_read_file(&b, fixture_path(fx, "big"),
					   200000), 0);
	assert_int_equal(b.len, 200000);
	cnai_buf_reset(&b);
	/* One byte over, in a later read chunk, is refused by name. */
	assert_int_equal(cnai_fs_read_file(&b, fixture_path(fx, "big"),
					   199999), CNAI_EINVALID);
	snprintf(expect, sizeof(expect),
		 "%s: larger than the limit of 199999 bytes", fx->path);
	assert_string_equal(fixture_errmsg(), expect);
	/* Over the limit in the first chunk. */
	cnai_buf_reset(&b);
	assert_int_equal(cnai_fs_read_file(&b, fixture_path(fx, "big"), 10),
			 CNAI_EINVALID);
	cnai_buf_release(&b);
	free(big);
}

static void test_fs__read_missing_file_is_not_found(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf b = CNAI_BUF_INIT;
	char expect[700];

	assert_int_equal(cnai_fs_read_file(&b, fixture_path(fx, "nope"), 0),
			 CNAI_ENOTFOUND);
	snprintf(expect, sizeof(expect),
		 "cannot read '%s': No such file or directory", fx->path);
	assert_string_equal(fixture_errmsg(), expect);
	assert_int_equal(b.len, 0);
	cnai_buf_release(&b);
}

static void test_fs__mkdir_p_creates_parents(void **state)
{
	struct fixture *fx = *state;
	char path[600];

	snprintf(path, sizeof(path), "%s/a/b/c/", fx->dir);
	assert_int_equal(cnai_fs_mkdir_p(path, 0755), 0);
	assert_true(cnai_fs_is_dir(fixture_path(fx, "a/b/c")));
	/* Again: existing folders are fine. */
	assert_int_equal(cnai_fs_mkdir_p(path, 0755), 0);
}

static void test_fs__mkdir_p_refuses_a_file_in_the_way(void **state)
{
	struct fixture *fx = *state;
	char path[600], want[700];

	assert_int_equal(fixture_write(fx, "file", "x", 1), 0);
	snprintf(path, sizeof(path), "%s/file/sub", fx->dir);
	assert_int_equal(cnai_fs_mkdir_p(path, 0755), CNAI_ERROR);
	/* named by the component in the way */
	snprintf(want, sizeof(want), "cannot create '%s/file': %s", fx->dir,
		 strerror(ENOTDIR));
	assert_string_equal(fixture_errmsg(), want);
	/* the file itself as the folder to make */
	assert_int_equal(cnai_fs_mkdir_p(fixture_path(fx, "file"), 0755),
			 CNAI_ERROR);
	snprintf(want, sizeof(want), "cannot create '%s/file': %s", fx->dir,
		 strerror(ENOTDIR));
	assert_string_equal(fixture_errmsg(), want);
}

static void test_fs__exists_and_is_dir(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(fixture_write(fx, "f", "x", 1), 0);
	assert_true(cnai_fs_exists(fixture_path(fx, "f")));
	assert_false(cnai_fs_is_dir(fixture_path(fx, "f")));
	assert_true(cnai_fs_is_dir(fx->dir));
	assert_false(cnai_fs_exists(fixture_path(fx, "g")));
	/* A dangling link exists (lstat), though it points nowhere. */
	assert_int_equal(symlink("nowhere", fixture_path(fx, "link")), 0);
	assert_true(cnai_fs_exists(fixture_path(fx, "link")));
}

static void test_fs__tmpfile_and_rename(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf tmp = CNAI_BUF_INIT, b = CNAI_BUF_INIT;
	struct stat sb;
	int fd = -1;

	assert_int_equal(cnai_fs_tmpfile(&tmp, &fd, fx->dir), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(cnai_fs_write_all(fd, "payload", 7), 0);
	assert_int_equal(cnai_fs_fsync_close_rename(&fd, tmp.buf,
						    fixture_path(fx, "dst")),
			 0);
	assert_int_equal(fd, -1);
	assert_int_equal(cnai_fs_read_file(&b, fixture_path(fx, "dst"), 0), 0);
	assert_string_equal(b.buf, "payload");
	assert_int_equal(fixture_count_entries(fx->dir), 1);
	assert_int_equal(cnai_fs_fsync_dir(fx->dir), 0);
	cnai_buf_release(&tmp);
	cnai_buf_release(&b);
}

static void test_fs__realpath_resolves_links(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf out = CNAI_BUF_INIT;
	char want[600];

	assert_int_equal(mkdir(fixture_path(fx, "real"), 0755), 0);
	assert_int_equal(symlink("real", fixture_path(fx, "alias")), 0);
	assert_int_equal(cnai_fs_realpath(&out, fixture_path(fx, "alias/.")),
			 0);
	snprintf(want, sizeof(want), "%s/real", fx->dir);
	assert_string_equal(out.buf, want);
	cnai_buf_reset(&out);
	assert_int_equal(cnai_fs_realpath(&out, fixture_path(fx, "missing")),
			 CNAI_ERROR);
	cnai_buf_release(&out);
}

static void test_fs__open_below_creates_and_finds_folders(void **state)
{
	struct fixture *fx = *state;
	struct stat sb;
	int root, fd = -1;

	root = open(fx->dir, O_RDONLY | O_DIRECTORY);
	assert_true(root >= 0);
	assert_int_equal(cnai_fs_open_below(&fd, root, "a/b", 0, "top"),
			 CNAI_ENOTFOUND);
	assert_string_equal(fixture_errmsg(), "'top/a' does not exist");
	assert_int_equal(fd, -1);
	assert_int_equal(cnai_fs_open_below(&fd, root, "a/./b", 1, "top"), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	close(fd);
	assert_true(cnai_fs_is_dir(fixture_path(fx, "a/b")));
	/* "" is the folder itself */
	assert_int_equal(cnai_fs_open_below(&fd, root, "", 0, "top"), 0);
	close(fd);
	close(root);
}

static void test_fs__open_below_follows_no_link(void **state)
{
	struct fixture *fx = *state;
	int root, fd = -1;

	assert_int_equal(mkdir(fixture_path(fx, "real"), 0755), 0);
	assert_int_equal(mkdir(fixture_path(fx, "top"), 0755), 0);
	assert_int_equal(symlink("../real", fixture_path(fx, "top/link")), 0);
	assert_int_equal(symlink("nowhere", fixture_path(fx, "top/dangling")),
			 0);
	assert_int_equal(fixture_write(fx, "top/file", "x", 1), 0);
	root = open(fixture_path(fx, "top"), O_RDONLY | O_DIRECTORY);
	assert_true(root >= 0);
	/* a link to a folder, even with create: nothing made through it */
	assert_int_equal(cnai_fs_open_below(&fd, root, "link/sub", 1, "top"),
			 CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(), "'top/link' is a symbolic link "
			    "(not followed below 'top')");
	assert_int_equal(fixture_count_entries(fixture_path(fx, "real")), 0);
	/* a dangling one is not created through either */
	assert_int_equal(cnai_fs_open_below(&fd, root, "dangling", 1, "top"),
			 CNAI_EINVALID);
	assert_false(cnai_fs_exists(fixture_path(fx, "top/nowhere")));
	assert_int_equal(cnai_fs_open_below(&fd, root, "file/sub", 1, "top"),
			 CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(), "'top/file' is not a folder");
	assert_int_equal(cnai_fs_open_below(&fd, root, "../real", 0, "top"),
			 CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(), "'top/..' leaves 'top'");
	assert_int_equal(fd, -1);
	close(root);
}

static void test_fs__tmpfile_at_makes_a_new_file(void **state)
{
	struct fixture *fx = *state;
	struct cnai_buf a = CNAI_BUF_INIT, b = CNAI_BUF_INIT;
	struct stat sb;
	int root, fa = -1, fb = -1;

	root = open(fx->dir, O_RDONLY | O_DIRECTORY);
	assert_true(root >= 0);
	assert_int_equal(cnai_fs_tmpfile_at(&a, &fa, root, "top"), 0);
	assert_int_equal(cnai_fs_tmpfile_at(&b, &fb, root, "top"), 0);
	assert_int_equal(strncmp(a.buf, ".tmp-", 5), 0);
	assert_int_equal(a.len, 11);
	assert_string_not_equal(a.buf, b.buf);
	assert_int_equal(fstatat(root, a.buf, &sb, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(fixture_count_entries(fx->dir), 2);
	close(fa);
	close(fb);
	close(root);
	cnai_buf_release(&a);
	cnai_buf_release(&b);
}

static void test_fs__remove_tree_removes_everything_below(void **state)
{
	struct fixture *fx = *state;
	char top[600], path[700];

	snprintf(top, sizeof(top), "%s/top", fx->dir);
	snprintf(path, sizeof(path), "%s/a/b/c", top);
	assert_int_equal(cnai_fs_mkdir_p(path, 0755), 0);
	assert_int_equal(fixture_write(fx, "top/file", "x", 1), 0);
	assert_int_equal(fixture_write(fx, "top/a/b/c/deep", "y", 1), 0);
	/* An empty folder beside a full one. */
	snprintf(path, sizeof(path), "%s/a/empty", top);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(cnai_fs_remove_tree(top), 0);
	assert_false(cnai_fs_exists(top));
	assert_int_equal(fixture_count_entries(fx->dir), 0);
	/* Gone already: nothing to do, no error. */
	assert_int_equal(cnai_fs_remove_tree(top), 0);
}

static void test_fs__remove_tree_follows_no_link(void **state)
{
	struct fixture *fx = *state;
	char top[600], outside[600], link_path[700];

	snprintf(top, sizeof(top), "%s/top", fx->dir);
	snprintf(outside, sizeof(outside), "%s/outside", fx->dir);
	assert_int_equal(mkdir(top, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	assert_int_equal(fixture_write(fx, "outside/keep", "k", 1), 0);
	snprintf(link_path, sizeof(link_path), "%s/link", top);
	assert_int_equal(symlink(outside, link_path), 0);
	assert_int_equal(cnai_fs_remove_tree(top), 0);
	assert_false(cnai_fs_exists(top));
	assert_true(cnai_fs_exists(fixture_path(fx, "outside/keep")));
	/* A link named as the tree itself: the link goes, not its target. */
	snprintf(link_path, sizeof(link_path), "%s/alias", fx->dir);
	assert_int_equal(symlink(outside, link_path), 0);
	assert_int_equal(cnai_fs_remove_tree(link_path), 0);
	assert_true(cnai_fs_exists(fixture_path(fx, "outside/keep")));
	assert_int_equal(fixture_count_entries(fx->dir), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_dir, \
						fixture_teardown)
		T(test_fs__write_atomic_writes_content_and_mode),
		T(test_fs__write_atomic_replaces_without_temp),
		T(test_fs__write_atomic_empty_file),
		T(test_fs__write_atomic_failure_leaves_no_temp),
		T(test_fs__write_atomic_into_missing_folder_fails),
		T(test_fs__read_file_appends),
		T(test_fs__read_file_limit),
		T(test_fs__read_missing_file_is_not_found),
		T(test_fs__mkdir_p_creates_parents),
		T(test_fs__mkdir_p_refuses_a_file_in_the_way),
		T(test_fs__open_below_creates_and_finds_folders),
		T(test_fs__open_below_follows_no_link),
		T(test_fs__tmpfile_at_makes_a_new_file),
		T(test_fs__exists_and_is_dir),
		T(test_fs__tmpfile_and_rename),
		T(test_fs__realpath_resolves_links),
		T(test_fs__remove_tree_removes_everything_below),
		T(test_fs__remove_tree_follows_no_link),
#undef T
	};

	return cmocka_run_group_tests_name("util-fs", tests, NULL, NULL);
}
