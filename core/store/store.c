/*
 * Store discovery, creation and opening. Creation builds the OCI layout
 * first and the database last, so a `.cnai/cnai.db` only exists in a store
 * whose layout is complete; an interrupted init can simply be re-run.
 */
#include "core/store/store_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util/fs.h"
#include "core/util/banned.h"

static const char oci_layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
static const char oci_index[] =
	"{\"schemaVersion\":2,"
	"\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	"\"manifests\":[]}";
static const char default_config[] =
	"# cnai store configuration (git config format)\n"
	"[core]\n"
	"\trepositoryformatversion = 1\n";

static int has_db(struct cnai_buf *tmp, const char *dir)
{
	cnai_buf_reset(tmp);
	if (cnai_buf_addf(tmp, "%s/cnai.db", dir) < 0)
		return cnai_buf_oom(tmp);
	return cnai_fs_exists(tmp->buf);
}

/* Accepts a .cnai folder itself or a folder that holds one. */
static int resolve_explicit(struct cnai_buf *out, const char *path)
{
	struct cnai_buf tmp = CNAI_BUF_INIT;
	int err = 0;

	if (has_db(&tmp, path) > 0) {
		err = cnai_fs_realpath(out, path);
		goto cleanup;
	}
	cnai_buf_reset(&tmp);
	if (cnai_buf_addf(&tmp, "%s/" CNAI_STORE_DIRNAME, path) < 0) {
		err = cnai_buf_oom(&tmp);
		goto cleanup;
	}
	if (cnai_fs_is_dir(tmp.buf)) {
		char *dir = cnai_buf_detach(&tmp);

		err = has_db(&tmp, dir) > 0
			      ? cnai_fs_realpath(out, dir)
			      : cnai_error_set(CNAI_ENOTFOUND,
					       "'%s' is not a cnai store "
					       "(no cnai.db)", dir);
		free(dir);
		goto cleanup;
	}
	err = cnai_error_set(CNAI_ENOTFOUND,
			     "'%s' is not a cnai store; run 'cnai init'", path);
cleanup:
	cnai_buf_release(&tmp);
	return err;
}

int cnai_store_discover(struct cnai_buf *out, const char *explicit_path,
			const char *cwd)
{
	struct cnai_buf dir = CNAI_BUF_INIT, probe = CNAI_BUF_INIT;
	char *slash;
	int err;

	if (explicit_path && *explicit_path)
		return resolve_explicit(out, explicit_path);
	if ((err = cnai_fs_realpath(&dir, cwd)) < 0)
		goto cleanup;
	for (;;) {
		cnai_buf_reset(&probe);
		if (cnai_buf_addf(&probe, "%s/" CNAI_STORE_DIRNAME,
				  strcmp(dir.buf, "/") ? dir.buf : "") < 0) {
			err = cnai_buf_oom(&probe);
			goto cleanup;
		}
		if (cnai_fs_is_dir(probe.buf)) {
			struct cnai_buf db = CNAI_BUF_INIT;
			int found = has_db(&db, probe.buf);

			cnai_buf_release(&db);
			if (found > 0) {
				err = cnai_buf_add(out, probe.buf, probe.len);
				goto cleanup;
			}
		}
		slash = strrchr(dir.buf, '/');
		if (!slash || dir.len <= 1)
			break;
		cnai_buf_truncate(&dir, slash == dir.buf ? 1
							 : (size_t)(slash - dir.buf));
	}
	err = cnai_error_set(CNAI_ENOTFOUND,
			     "not in a cnai store (or any parent); "
			     "run 'cnai init'");
cleanup:
	cnai_buf_release(&dir);
	cnai_buf_release(&probe);
	return err;
}

static int write_new(const char *root, const char *rel, const char *text)
{
	struct cnai_buf path = CNAI_BUF_INIT;
	int err;

	if (cnai_buf_addf(&path, "%s/%s", root, rel) < 0)
		return cnai_buf_oom(&path);
	err = cnai_fs_write_atomic(path.buf, text, strlen(text), 0644);
	cnai_buf_release(&path);
	return err;
}

int cnai_store_init(struct cnai_buf *root_out, const char *dir, int *created)
{
	struct cnai_buf root = CNAI_BUF_INIT, path = CNAI_BUF_INIT;
	struct cnai_store st = { 0 };
	int err;

	*created = 0;
	if (!cnai_fs_is_dir(dir))
		return cnai_error_set(CNAI_ENOTFOUND, "'%s' is not a folder",
				      dir);
	if ((err = cnai_fs_realpath(&root, dir)) < 0)
		goto cleanup;
	if (cnai_buf_adds(&root, strcmp(root.buf, "/") ? "/" CNAI_STORE_DIRNAME
						       : CNAI_STORE_DIRNAME) <
	    0) {
		err = cnai_buf_oom(&root);
		goto cleanup;
	}
	if ((err = has_db(&path, root.buf)) != 0) {
		if (err > 0)
			err = cnai_buf_add(root_out, root.buf, root.len);
		goto cleanup;
	}
	cnai_buf_reset(&path);
	if (cnai_buf_addf(&path, "%s/oci/blobs/sha256", root.buf) < 0) {
		err = cnai_buf_oom(&path);
		goto cleanup;
	}
	if ((err = cnai_fs_mkdir_p(path.buf, 0755)) < 0 ||
	    (err = write_new(root.buf, "oci/oci-layout", oci_layout)) < 0 ||
	    (err = write_new(root.buf, "oci/index.json", oci_index)) < 0 ||
	    (err = write_new(root.buf, "config", default_config)) < 0)
		goto cleanup;
	st.root = root.buf;
	st.backend = &cnai_store_backend_sqlite;
	if ((err = st.backend->open(&st, 1)) < 0)
		goto cleanup;
	st.backend->close(&st);
	*created = 1;
	err = cnai_buf_add(root_out, root.buf, root.len);
cleanup:
	cnai_buf_release(&root);
	cnai_buf_release(&path);
	return err;
}

int cnai_store_open(struct cnai_store **out, const char *root)
{
	struct cnai_store *st = calloc(1, sizeof(*st));
	struct cnai_buf path = CNAI_BUF_INIT;
	int err;

	*out = NULL;
	if (!st)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	st->root = strdup(root);
	if (!st->root || cnai_buf_addf(&path, "%s/oci", root) < 0) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto fail;
	}
	st->oci = cnai_buf_detach(&path);
	st->backend = &cnai_store_backend_sqlite;
	if (st->backend->version != CNAI_STORE_BACKEND_VERSION) {
		err = cnai_error_set(CNAI_ERROR, "store backend '%s' has "
				     "interface version %u, not %u",
				     st->backend->name, st->backend->version,
				     CNAI_STORE_BACKEND_VERSION);
		goto fail;
	}
	if ((err = st->backend->open(st, 0)) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	cnai_buf_release(&path);
	cnai_store_free(st);
	return err;
}

void cnai_store_free(struct cnai_store *st)
{
	if (!st)
		return;
	if (st->backend)
		st->backend->close(st);
	free(st->root);
	free(st->oci);
	free(st);
}

const char *cnai_store_root(const struct cnai_store *st)
{
	return st->root;
}

const char *cnai_store_oci(const struct cnai_store *st)
{
	return st->oci;
}

int64_t cnai_store_now_ms(void)
{
	return cnai_db_now_ms();
}

int cnai_store_path(struct cnai_buf *out, const struct cnai_store *st,
		    const char *rel)
{
	if (cnai_buf_addf(out, "%s/%s", st->root, rel) < 0)
		return cnai_buf_oom(out);
	return 0;
}

int cnai_store_begin_write(struct cnai_store *st)
{
	return st->backend->begin_write(st);
}

int cnai_store_commit(struct cnai_store *st)
{
	return st->backend->commit(st);
}

void cnai_store_rollback(struct cnai_store *st)
{
	st->backend->rollback(st);
}

int cnai_store_check_integrity(struct cnai_store *st,
			       cnai_store_problem_fn fn, void *payload)
{
	return st->backend->check_integrity(st, fn, payload);
}

int cnai_store_checkpoint(struct cnai_store *st)
{
	return st->backend->checkpoint(st);
}

int cnai_store_deployments_foreach(struct cnai_store *st, const char *name,
				   cnai_store_deployment_fn fn, void *payload)
{
	return st->backend->deployments_foreach(st, name, fn, payload);
}
