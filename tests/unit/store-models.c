/*
 * Tests for core/store/models.c: model names and references (every @ form,
 * digests and their prefixes, the ambiguous and malformed cases),
 * registering (idempotence, folders, input errors that write nothing, the
 * run link), version numbers never reused after removal, aliases (set,
 * move, remove, their history, removal refused while aliased) and export
 * (refusing to overwrite, catching a corrupt blob). Manifest digests are
 * set by hand where a test needs a known prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/store/blobs.h"
#include "core/store/lineage.h"
#include "core/store/models.h"
#include "core/store/runs.h"
#include "core/store/store_impl.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

static int64_t count(struct fixture *fx, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	assert_int_equal(cnai_db_prepare(&st, &fx->st->db, sql), 0);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int blobs(struct fixture *fx)
{
	return fixture_count_entries(fixture_path(fx, ".cnai/oci/blobs/sha256"));
}

/*
 * Registers the file `rel` (written with `content` first, unless NULL) as
 * the next version of `name`; returns the version number.
 */
static int64_t reg(struct fixture *fx, const char *name, const char *rel,
		   const char *content, int expect_created)
{
	struct cnai_model_version *v = NULL;
	char path[512];
	const char *paths[1] = { path };
	int created = -1;
	int64_t n;

	if (content)
		assert_int_equal(fixture_write(fx, rel, content,
					       strlen(content)),
				 0);
	snprintf(path, sizeof(path), "%s", fixture_path(fx, rel));
	if (cnai_model_register(&v, &created, fx->st, name, paths, 1, NULL) <
	    0)
		fail_msg("register: %s", fixture_errmsg());
	assert_int_equal(created, expect_created);
	n = v->version;
	cnai_model_version_free(v);
	return n;
}

/* The version `ref` resolves to, or the (negative) error. */
static int64_t resolve(struct fixture *fx, const char *ref)
{
	struct cnai_model_version *v = NULL;
	int64_t n;
	int err;

	if ((err = cnai_model_resolve(&v, fx->st, ref)) < 0) {
		assert_null(v);
		return err;
	}
	n = v->version;
	cnai_model_version_free(v);
	return n;
}

/* Expects `ref` to fail with `code` and a message containing `msg`. */
static void resolve_fails(struct fixture *fx, const char *ref, int code,
			  const char *msg)
{
	cnai_error_clear();
	assert_int_equal(resolve(fx, ref), code);
	if (!strstr(fixture_errmsg(), msg))
		fail_msg("'%s': message '%s' lacks '%s'", ref, fixture_errmsg(),
			 msg);
}

static void test_models__name_validity(void **state)
{
	static const char *const good[] = { "digits", "a", "0", "m-1.2_x",
					    "9lives" };
	static const char *const bad[] = { "", "Digits", "-a", ".a", "_a",
					   "a b", "a/b", "a@b", "é", "a:b" };
	char longest[130];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_true(cnai_model_name_is_valid(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (cnai_model_name_is_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	memset(longest, 'a', 128);
	longest[128] = '\0';
	assert_true(cnai_model_name_is_valid(longest));
	longest[128] = 'a';
	longest[129] = '\0';
	assert_false(cnai_model_name_is_valid(longest));
}

static void test_models__resolve_every_form(void **state)
{
	struct fixture *fx = *state;
	struct cnai_model_version *v = NULL;
	char ref[80];

	assert_int_equal(reg(fx, "digits", "w.bin", "one", 1), 1);
	assert_int_equal(reg(fx, "digits", "w.bin", "two", 1), 2);
	assert_int_equal(reg(fx, "digits", "w.bin", "three", 1), 3);
	assert_int_equal(cnai_model_alias_set(fx->st, "digits", "prod", 2), 0);

	assert_int_equal(resolve(fx, "digits"), 3);
	assert_int_equal(resolve(fx, "digits@latest"), 3);
	assert_int_equal(resolve(fx, "digits@1"), 1);
	assert_int_equal(resolve(fx, "digits@prod"), 2);

	assert_int_equal(cnai_model_resolve(&v, fx->st, "digits@1"), 0);
	assert_string_equal(v->name, "digits");
	assert_int_equal(strlen(v->manifest_digest), 71);
	assert_int_equal(resolve(fx, v->manifest_digest), 1);
	snprintf(ref, sizeof(ref), "%.11s", v->manifest_digest);
	assert_int_equal(resolve(fx, ref), 1); /* sha256: + 4 hex */
	assert_int_equal(v->nfiles, 1);
	assert_string_equal(v->files[0].path, "w.bin");
	assert_int_equal(v->files[0].size, 3);
	cnai_model_version_free(v);
}

static void test_models__resolve_bad_references(void **state)
{
	struct fixture *fx = *state;

	reg(fx, "digits", "w.bin", "one", 1);
	resolve_fails(fx, "@", CNAI_EINVALID, "'@' is not a model reference");
	resolve_fails(fx, "@prod", CNAI_EINVALID, "is not a model reference");
	resolve_fails(fx, "digits@", CNAI_EINVALID, "is not a model reference");
	resolve_fails(fx, "", CNAI_EINVALID, "is not a model reference");
	resolve_fails(fx, "Digits@1", CNAI_EINVALID,
		      "'Digits' is not a valid model name");
	resolve_fails(fx, "digits@nosuchalias", CNAI_ENOTFOUND,
		      "model 'digits' has no alias 'nosuchalias'");
	resolve_fails(fx, "digits@9", CNAI_ENOTFOUND,
		      "model 'digits' has no version 9");
	/* 0 is no version number, so it is looked up as an alias. */
	resolve_fails(fx, "digits@0", CNAI_ENOTFOUND, "has no alias '0'");
	resolve_fails(fx, "letters", CNAI_ENOTFOUND,
		      "model 'letters' not found");
	resolve_fails(fx, "letters@prod", CNAI_ENOTFOUND,
		      "model 'letters' not found");
	resolve_fails(fx, "sha256:abc", CNAI_EINVALID, "is too short");
	resolve_fails(fx, "sha256:", CNAI_EINVALID, "is too short");
	resolve_fails(fx, "sha256:ABCD", CNAI_EINVALID,
		      "'sha256:ABCD' is not a sha256 digest");
	resolve_fails(fx, "sha256:zzzz", CNAI_EINVALID, "not a sha256 digest");
}

static void test_models__resolve_ambiguous_prefix(void **state)
{
	struct fixture *fx = *state;

	reg(fx, "digits", "w.bin", "one", 1);
	reg(fx, "digits", "w.bin", "two", 1);
	reg(fx, "letters", "w.bin", "one", 1);
	assert_int_equal(
		cnai_db_exec(&fx->st->db,
			     "UPDATE model_versions SET manifest = 'sha256:abcd"
			     "1' || substr(manifest, 13) WHERE version = 1 AND "
			     "model = (SELECT id FROM models WHERE name = "
			     "'digits');"
			     "UPDATE model_versions SET manifest = 'sha256:abcd"
			     "2' || substr(manifest, 13) WHERE version = 2;"
			     "UPDATE model_versions SET manifest = 'sha256:ffff"
			     "f' || substr(manifest, 13) WHERE model = (SELECT "
			     "id FROM models WHERE name = 'letters')"),
		0);
	resolve_fails(fx, "sha256:abcd", CNAI_EAMBIGUOUS,
		      "digest 'sha256:abcd' is ambiguous: digits@1, digits@2");
	assert_int_equal(resolve(fx, "sha256:abcd1"), 1);
	assert_int_equal(resolve(fx, "sha256:abcd2"), 2);
	assert_int_equal(resolve(fx, "sha256:ffff"), 1);
	resolve_fails(fx, "sha256:abcd3", CNAI_ENOTFOUND,
		      "no model version has digest 'sha256:abcd3'");
}

static void test_models__register_is_idempotent(void **state)
{
	struct fixture *fx = *state;
	int before;

	assert_int_equal(reg(fx, "digits", "w.bin", "one", 1), 1);
	before = blobs(fx);
	assert_int_equal(before, 3); /* file, config, manifest */
	assert_int_equal(reg(fx, "digits", "w.bin", NULL, 0), 1);
	assert_int_equal(blobs(fx), before);
	assert_int_equal(count(fx, "SELECT count(*) FROM model_versions"), 1);
	/* Other content is a new version; the first content still the old. */
	assert_int_equal(reg(fx, "digits", "w.bin", "two", 1), 2);
	assert_int_equal(reg(fx, "digits", "w.bin", "one", 0), 1);
}

static void test_models__register_folder_keeps_relative_paths(void **state)
{
	struct fixture *fx = *state;
	struct cnai_model_version *v = NULL;
	const char *paths[2];
	char dir[512], single[512];
	int created = 0;

	snprintf(dir, sizeof(dir), "%s", fixture_path(fx, "m"));
	assert_int_equal(cnai_fs_mkdir_p(fixture_path(fx, "m/sub"), 0755), 0);
	assert_int_equal(fixture_write(fx, "m/z.onnx", "z", 1), 0);
	assert_int_equal(fixture_write(fx, "m/sub/a.txt", "a", 1), 0);
	assert_int_equal(fixture_write(fx, "top.json", "{}", 2), 0);
	snprintf(single, sizeof(single), "%s", fixture_path(fx, "top.json"));
	paths[0] = dir;
	paths[1] = single;
	assert_int_equal(cnai_model_register(&v, &created, fx->st, "net", paths,
					     2, NULL),
			 0);
	assert_int_equal(created, 1);
	assert_string_equal(v->flavor, "onnx");
	assert_int_equal(v->nfiles, 3);
	assert_string_equal(v->files[0].path, "sub/a.txt");
	assert_string_equal(v->files[0].media_type,
			    "application/vnd.cncf.model.doc.v1.raw");
	assert_string_equal(v->files[1].path, "top.json");
	assert_string_equal(v->files[1].media_type,
			    "application/vnd.cncf.model.weight.config.v1.raw");
	assert_string_equal(v->files[2].path, "z.onnx");
	assert_string_equal(v->files[2].media_type,
			    "application/vnd.cncf.model.weight.v1.raw");
	assert_true(cnai_blob_exists(fx->st, v->files[2].digest));
	assert_true(cnai_blob_exists(fx->st, v->manifest_digest));
	cnai_model_version_free(v);
}

/* Each input error fails before anything reaches the store. */
static void test_models__register_input_errors_write_nothing(void **state)
{
	struct fixture *fx = *state;
	struct cnai_model_register_opts o = { 0 };
	struct cnai_model_version *v = NULL;
	const char *tags[] = { "novalue" };
	char ok[512], missing[512], fifo[512], empty[512];
	const char *paths[2] = { ok, missing };
	int created = -1;

	assert_int_equal(fixture_write(fx, "ok.bin", "ok", 2), 0);
	snprintf(ok, sizeof(ok), "%s", fixture_path(fx, "ok.bin"));
	snprintf(missing, sizeof(missing), "%s", fixture_path(fx, "gone.bin"));
	snprintf(fifo, sizeof(fifo), "%s", fixture_path(fx, "pipe"));
	snprintf(empty, sizeof(empty), "%s", fixture_path(fx, "empty"));
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(mkdir(empty, 0755), 0);

	assert_int_equal(cnai_model_register(&v, &created, fx->st, "digits",
					     paths, 2, NULL),
			 CNAI_ENOTFOUND);
	assert_non_null(strstr(fixture_errmsg(), "gone.bin"));
	paths[1] = fifo;
	assert_int_equal(cnai_model_register(&v, &created, fx->st, "digits",
					     paths, 2, NULL),
			 CNAI_EINVALID);
	assert_non_null(strstr(fixture_errmsg(), "is not a file or a folder"));
	paths[1] = ok; /* the same path twice */
	assert_int_equal(cnai_model_register(&v, &created, fx->st, "digits",
					     paths, 2, NULL),
			 CNAI_EINVALID);
	assert_non_null(strstr(fixture_errmsg(), "two files would both be "
						 "'ok.bin'"));
	assert_int_equal(cnai_model_register(&v, &created, fx->st, "digits",
					     (const char *const[]){ empty }, 1,
					     NULL),
			 CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(), "no files to register");
	assert_int_equal(cnai_model_register(&v, &created, fx->st, "Digits",
					     paths, 1, NULL),
			 CNAI_EINVALID);
	o.tags = tags;
	o.ntags = 1;
	assert_int_equal(cnai_model_register(&v, &created, fx->st, "digits",
					     paths, 1, &o),
			 CNAI_EUSAGE);
	assert_string_equal(fixture_errmsg(), "--tag 'novalue' is not KEY=VALUE");
	o.ntags = 0;
	o.flavor = "pickle";
	assert_int_equal(cnai_model_register(&v, &created, fx->st, "digits",
					     paths, 1, &o),
			 CNAI_EUSAGE);
	o.flavor = NULL;
	o.run = "nosuchrun";
	assert_int_equal(cnai_model_register(&v, &created, fx->st, "digits",
					     paths, 1, &o),
			 CNAI_ENOTFOUND);

	assert_null(v);
	assert_int_equal(created, 0);
	assert_int_equal(blobs(fx), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM models"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM model_versions"), 0);
}

static void test_models__register_links_the_run(void **state)
{
	struct fixture *fx = *state;
	struct cnai_run_spec spec = { 0 };
	struct cnai_model_register_opts o = { 0 };
	struct cnai_model_version *v = NULL;
	struct cnai_run *r = NULL;
	const char *tags[] = { "stage=dev" };
	char path[512];
	const char *paths[1] = { path };
	char **k = NULL, **val = NULL;
	size_t nt = 0;
	int created = 0;

	spec.name = "train";
	spec.git_dirty = -1;
	assert_int_equal(cnai_run_create(&r, fx->st, &spec), 0);
	assert_int_equal(fixture_write(fx, "w.bin", "w", 1), 0);
	snprintf(path, sizeof(path), "%s", fixture_path(fx, "w.bin"));
	o.run = "train";
	o.description = "first";
	o.tags = tags;
	o.ntags = 1;
	assert_int_equal(cnai_model_register(&v, &created, fx->st, "digits",
					     paths, 1, &o),
			 0);
	assert_string_equal(v->run, r->uuid);
	assert_string_equal(v->description, "first");
	assert_int_equal(cnai_model_version_tags(&k, &val, &nt, fx->st, v), 0);
	assert_int_equal(nt, 1);
	assert_string_equal(k[0], "stage");
	assert_string_equal(val[0], "dev");
	free(k[0]);
	free(val[0]);
	free(k);
	free(val);
	assert_int_equal(count(fx, "SELECT count(*) FROM edges e JOIN entities "
				   "s ON s.id = e.src JOIN entities d ON d.id "
				   "= e.dst WHERE s.kind = 'run' AND d.kind = "
				   "'model_version' AND e.relation = "
				   "'produced'"),
			 1);
	cnai_model_version_free(v);
	cnai_run_free(r);
}

static void test_models__numbers_never_reused_after_remove(void **state)
{
	struct fixture *fx = *state;
	struct cnai_model_version *v = NULL;

	reg(fx, "digits", "w.bin", "one", 1);
	reg(fx, "digits", "w.bin", "two", 1);
	assert_int_equal(cnai_model_resolve(&v, fx->st, "digits@2"), 0);
	assert_int_equal(cnai_model_version_remove(fx->st, v, 0), 0);
	cnai_model_version_free(v);
	assert_int_equal(resolve(fx, "digits"), 1);
	/* The removed content comes back as a new number. */
	assert_int_equal(reg(fx, "digits", "w.bin", "two", 1), 3);
	assert_int_equal(cnai_model_resolve(&v, fx->st, "digits@1"), 0);
	assert_int_equal(cnai_model_version_remove(fx->st, v, 0), 0);
	cnai_model_version_free(v);
	assert_int_equal(cnai_model_resolve(&v, fx->st, "digits@3"), 0);
	assert_int_equal(cnai_model_version_remove(fx->st, v, 0), 0);
	cnai_model_version_free(v);
	resolve_fails(fx, "digits", CNAI_ENOTFOUND,
		      "model 'digits' has no versions");
	assert_int_equal(reg(fx, "digits", "w.bin", "one", 1), 4);
	assert_int_equal(count(fx, "SELECT count(*) FROM model_files"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM entities WHERE kind "
				   "= 'model_version'"),
			 1);
}

static void test_models__alias_set_move_remove_history(void **state)
{
	struct fixture *fx = *state;
	struct cnai_alias_event *h = NULL;
	size_t n = 0;

	reg(fx, "digits", "w.bin", "one", 1);
	reg(fx, "digits", "w.bin", "two", 1);
	assert_int_equal(cnai_model_alias_set(fx->st, "digits", "prod", 1), 0);
	assert_int_equal(resolve(fx, "digits@prod"), 1);
	assert_int_equal(cnai_model_alias_set(fx->st, "digits", "prod", 2), 0);
	assert_int_equal(resolve(fx, "digits@prod"), 2);
	assert_int_equal(count(fx, "SELECT count(*) FROM aliases"), 1);
	assert_int_equal(cnai_model_alias_remove(fx->st, "digits", "prod"), 0);
	resolve_fails(fx, "digits@prod", CNAI_ENOTFOUND, "no alias 'prod'");
	assert_int_equal(cnai_model_alias_remove(fx->st, "digits", "prod"),
			 CNAI_ENOTFOUND);
	assert_string_equal(fixture_errmsg(),
			    "model 'digits' has no alias 'prod'");

	assert_int_equal(cnai_model_alias_history(&h, &n, fx->st, "digits"), 0);
	assert_int_equal(n, 3);
	assert_string_equal(h[0].alias, "prod");
	assert_int_equal(h[0].version, 1);
	assert_int_equal(h[1].version, 2);
	assert_int_equal(h[2].version, 0); /* removed */
	assert_true(h[0].time > 0 && h[0].time <= h[1].time &&
		    h[1].time <= h[2].time);
	cnai_alias_event_free_array(h, n);
}

static void test_models__alias_errors_write_nothing(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = { "", "Prod", "latest", "1st",
					   "a b", "a@b" };
	size_t i;

	reg(fx, "digits", "w.bin", "one", 1);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(cnai_model_alias_set(fx->st, "digits", bad[i],
						      1),
				 CNAI_EINVALID);
		assert_non_null(strstr(fixture_errmsg(), "not a valid alias"));
	}
	assert_int_equal(cnai_model_alias_set(fx->st, "digits", "prod", 2),
			 CNAI_ENOTFOUND);
	assert_string_equal(fixture_errmsg(), "model 'digits' has no version 2");
	assert_int_equal(cnai_model_alias_set(fx->st, "letters", "prod", 1),
			 CNAI_ENOTFOUND);
	assert_string_equal(fixture_errmsg(), "model 'letters' not found");
	assert_int_equal(count(fx, "SELECT count(*) FROM aliases"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM alias_history"), 0);
}

static void test_models__remove_refused_while_aliased(void **state)
{
	struct fixture *fx = *state;
	struct cnai_model_version *v = NULL;

	reg(fx, "digits", "w.bin", "one", 1);
	assert_int_equal(cnai_model_alias_set(fx->st, "digits", "prod", 1), 0);
	assert_int_equal(cnai_model_alias_set(fx->st, "digits", "canary", 1),
			 0);
	assert_int_equal(cnai_model_resolve(&v, fx->st, "digits@prod"), 0);
	assert_int_equal(cnai_model_version_remove(fx->st, v, 0),
			 CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(),
			    "digits@1 is aliased (canary, prod); move the "
			    "alias or use --force");
	assert_int_equal(count(fx, "SELECT count(*) FROM model_versions"), 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM alias_history"), 2);
	assert_int_equal(cnai_model_version_remove(fx->st, v, 1), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM model_versions"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM aliases"), 0);
	assert_int_equal(count(fx, "SELECT count(*) FROM alias_history WHERE "
				   "version IS NULL"),
			 2);
	cnai_model_version_free(v);
}

static void test_models__export_writes_and_refuses_to_overwrite(void **state)
{
	struct fixture *fx = *state;
	struct cnai_model_version *v = NULL;
	struct cnai_buf got = CNAI_BUF_INIT;
	char out[512];

	reg(fx, "digits", "w.bin", "weights", 1);
	assert_int_equal(cnai_model_resolve(&v, fx->st, "digits"), 0);
	snprintf(out, sizeof(out), "%s", fixture_path(fx, "out"));
	assert_int_equal(cnai_model_export(fx->st, v, out, 0), 0);
	assert_int_equal(cnai_fs_read_file(&got, fixture_path(fx, "out/w.bin"),
					   0),
			 0);
	assert_string_equal(got.buf, "weights");
	assert_int_equal(fixture_write(fx, "out/w.bin", "mine", 4), 0);
	assert_int_equal(cnai_model_export(fx->st, v, out, 0), CNAI_EEXISTS);
	assert_non_null(strstr(fixture_errmsg(), "exists; use --force"));
	cnai_buf_reset(&got);
	assert_int_equal(cnai_fs_read_file(&got, fixture_path(fx, "out/w.bin"),
					   0),
			 0);
	assert_string_equal(got.buf, "mine");
	assert_int_equal(cnai_model_export(fx->st, v, out, 1), 0);
	cnai_buf_reset(&got);
	assert_int_equal(cnai_fs_read_file(&got, fixture_path(fx, "out/w.bin"),
					   0),
			 0);
	assert_string_equal(got.buf, "weights");
	assert_int_equal(fixture_count_entries(out), 1); /* no temporaries */
	cnai_buf_release(&got);
	cnai_model_version_free(v);
}

static void test_models__export_detects_a_corrupt_blob(void **state)
{
	struct fixture *fx = *state;
	struct cnai_model_version *v = NULL;
	struct cnai_buf blob = CNAI_BUF_INIT;
	const char *paths[1];
	char dir[512], out[512];
	int created;
	FILE *f;

	assert_int_equal(cnai_fs_mkdir_p(fixture_path(fx, "m"), 0755), 0);
	assert_int_equal(fixture_write(fx, "m/a.bin", "aaa", 3), 0);
	assert_int_equal(fixture_write(fx, "m/b.bin", "bbb", 3), 0);
	snprintf(dir, sizeof(dir), "%s", fixture_path(fx, "m"));
	paths[0] = dir;
	assert_int_equal(cnai_model_register(&v, &created, fx->st, "digits",
					     paths, 1, NULL),
			 0);
	/* The second file's blob is damaged: the first must not appear. */
	assert_int_equal(cnai_blob_path(&blob, fx->st, v->files[1].digest), 0);
	chmod(blob.buf, 0644);
	assert_non_null(f = fopen(blob.buf, "wb"));
	fputs("BBB", f);
	fclose(f);
	snprintf(out, sizeof(out), "%s", fixture_path(fx, "out"));
	assert_int_equal(cnai_model_export(fx->st, v, out, 0), CNAI_ECHECK);
	assert_non_null(strstr(fixture_errmsg(), "'b.bin': blob sha256:"));
	assert_non_null(strstr(fixture_errmsg(), "is corrupt"));
	assert_int_equal(fixture_count_entries(out), 0);
	/* A missing blob is reported as such. */
	unlink(blob.buf);
	assert_int_equal(cnai_model_export(fx->st, v, out, 0), CNAI_ENOTFOUND);
	assert_non_null(strstr(fixture_errmsg(), "run 'cnai fsck'"));
	assert_int_equal(fixture_count_entries(out), 0);
	cnai_buf_release(&blob);
	cnai_model_version_free(v);
}

static void test_models__list_and_versions(void **state)
{
	struct fixture *fx = *state;
	struct cnai_model_summary *m = NULL;
	struct cnai_model_version **vs = NULL;
	size_t n = 0;

	reg(fx, "digits", "w.bin", "one", 1);
	reg(fx, "digits", "w.bin", "two", 1);
	reg(fx, "alpha", "w.bin", "one", 1);
	assert_int_equal(cnai_model_alias_set(fx->st, "digits", "prod", 1), 0);
	assert_int_equal(cnai_model_list(&m, &n, fx->st), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].name, "alpha");
	assert_string_equal(m[1].name, "digits");
	assert_int_equal(m[1].versions, 2);
	assert_int_equal(m[1].latest, 2);
	assert_int_equal(m[1].naliases, 1);
	assert_string_equal(m[1].aliases[0], "prod=1");
	cnai_model_summary_free_array(m, n);

	assert_int_equal(cnai_model_versions(&vs, &n, fx->st, "digits"), 0);
	assert_int_equal(n, 2);
	assert_int_equal(vs[0]->version, 2);
	assert_int_equal(vs[1]->version, 1);
	assert_int_equal(vs[1]->naliases, 1);
	cnai_model_version_free_array(vs, n);
	assert_int_equal(cnai_model_versions(&vs, &n, fx->st, "nosuch"),
			 CNAI_ENOTFOUND);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup_store, \
						fixture_teardown)
		T(test_models__name_validity),
		T(test_models__resolve_every_form),
		T(test_models__resolve_bad_references),
		T(test_models__resolve_ambiguous_prefix),
		T(test_models__register_is_idempotent),
		T(test_models__register_folder_keeps_relative_paths),
		T(test_models__register_input_errors_write_nothing),
		T(test_models__register_links_the_run),
		T(test_models__numbers_never_reused_after_remove),
		T(test_models__alias_set_move_remove_history),
		T(test_models__alias_errors_write_nothing),
		T(test_models__remove_refused_while_aliased),
		T(test_models__export_writes_and_refuses_to_overwrite),
		T(test_models__export_detects_a_corrupt_blob),
		T(test_models__list_and_versions),
#undef T
	};

	return cmocka_run_group_tests_name("store-models", tests, NULL, NULL);
}
