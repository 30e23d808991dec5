/*
 * git-config files through libgit2. Each call opens the file on its own
 * (no cache): config commands are rare and the file is tiny.
 */
#include "core/util/config.h"

#include <git2.h>
#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

static int git_fail(int code, const char *path, const char *key)
{
	const git_error *e = git_error_last();

	return cnai_error_set(code, "%s: %s%s%s", path, key ? key : "",
			      key ? ": " : "",
			      e && e->message ? e->message : "config error");
}

static int open_file(git_config **cfg, const char *path)
{
	git_libgit2_init();
	if (git_config_open_ondisk(cfg, path) < 0) {
		int err = git_fail(CNAI_ERROR, path, NULL);

		git_libgit2_shutdown();
		return err;
	}
	return 0;
}

static void close_file(git_config *cfg)
{
	git_config_free(cfg);
	git_libgit2_shutdown();
}

static int check_key(const char *key)
{
	const char *dot = strchr(key, '.'), *last = strrchr(key, '.');

	if (!dot || dot == key || !last[1])
		return cnai_error_set(CNAI_EUSAGE,
				      "key '%s' has no section: use "
				      "section.name (for example core.editor)",
				      key);
	return 0;
}

int cnai_config_get(struct cnai_buf *out, const char *path, const char *key)
{
	git_config *cfg = NULL;
	git_buf value = GIT_BUF_INIT;
	int err, rc;

	if ((err = check_key(key)) < 0 || (err = open_file(&cfg, path)) < 0)
		return err;
	rc = git_config_get_string_buf(&value, cfg, key);
	if (rc == GIT_ENOTFOUND)
		err = cnai_error_set(CNAI_ENOTFOUND, "config key '%s' is not "
				     "set", key);
	else if (rc < 0)
		err = git_fail(CNAI_EINVALID, path, key);
	else if (cnai_buf_add(out, value.ptr, value.size) < 0)
		err = cnai_buf_oom(out);
	git_buf_dispose(&value);
	close_file(cfg);
	return err;
}

int cnai_config_set(const char *path, const char *key, const char *value)
{
	git_config *cfg = NULL;
	int err;

	if ((err = check_key(key)) < 0 || (err = open_file(&cfg, path)) < 0)
		return err;
	if (git_config_set_string(cfg, key, value) < 0)
		err = git_fail(CNAI_EINVALID, path, key);
	close_file(cfg);
	return err;
}

int cnai_config_unset(const char *path, const char *key)
{
	git_config *cfg = NULL;
	int err, rc;

	if ((err = check_key(key)) < 0 || (err = open_file(&cfg, path)) < 0)
		return err;
	rc = git_config_delete_entry(cfg, key);
	if (rc == GIT_ENOTFOUND)
		err = cnai_error_set(CNAI_ENOTFOUND, "config key '%s' is not "
				     "set", key);
	else if (rc < 0)
		err = git_fail(CNAI_EINVALID, path, key);
	close_file(cfg);
	return err;
}

int cnai_config_foreach(const char *path, cnai_config_fn fn, void *payload)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *entry;
	int err, rc;

	if ((err = open_file(&cfg, path)) < 0)
		return err;
	if (git_config_iterator_new(&it, cfg) < 0) {
		err = git_fail(CNAI_ERROR, path, NULL);
		goto cleanup;
	}
	while ((rc = git_config_next(&entry, it)) == 0) {
		if ((err = fn(entry->name, entry->value, payload)) < 0)
			break;
	}
	if (!err && rc != GIT_ITEROVER)
		err = git_fail(CNAI_ERROR, path, NULL);
cleanup:
	git_config_iterator_free(it);
	close_file(cfg);
	return err;
}
