/*
 * Tests for registry/docker_archive.c: small `docker save` archives made
 * here with libarchive, in the classic shape (<id>/layer.tar), skopeo's
 * (<diff_id>.tar with links, gzipped) and Docker 25's (an OCI layout
 * inside), are imported into an OCI layout: the manifest names the
 * config as it was and the layers, with the diff_ids the config lists;
 * images are picked by tag or "@N". What must be refused is, with its
 * code and message, and before anything is written: member paths and
 * links that escape, a missing manifest.json or member, a file that is no
 * tar, an unknown image; a layer whose diff_id is not the config's is
 * refused too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/hash.h"
#include "registry/docker_archive.h"
#include "registry/oci.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

/* A member: a file with `data`, or a symbolic link to `link`. */
struct member {
	const char *name;
	const void *data;
	size_t len;
	const char *link;
};

/* Writes a tar (gzipped if asked) of the members into `out`. */
static void make_tar(struct cnai_buf *out, const struct member *m, size_t n,
		     int gzip)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	size_t i, used = 0, cap = 1 << 20;
	char *mem = malloc(cap);

	assert_non_null(a);
	assert_non_null(mem);
	assert_int_equal(archive_write_set_format_pax_restricted(a),
			 ARCHIVE_OK);
	if (gzip)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, mem, cap, &used),
			 ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_mtime(e, 0, 0);
		if (m[i].link) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, m[i].link);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)m[i].len);
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (!m[i].link && m[i].len)
			assert_int_equal(archive_write_data(a, m[i].data,
							    m[i].len),
					 (la_ssize_t)m[i].len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	cnai_buf_add(out, mem, used);
	free(mem);
}

/* One layer tar, its diff_id, and a config listing it. */
struct image {
	struct cnai_buf layer, config;
	char diff_id[CNAI_DIGEST_LEN];
	char hex_tar[80]; /* "<diff_id hex>.tar", skopeo's layer name */
};

static void make_image(struct image *im, const char *content)
{
	struct member f = { "app/hello.txt", content, strlen(content), NULL };

	cnai_buf_init(&im->layer);
	cnai_buf_init(&im->config);
	make_tar(&im->layer, &f, 1, 0);
	assert_int_equal(cnai_sha256_buffer(im->diff_id, im->layer.buf,
					    im->layer.len), 0);
	snprintf(im->hex_tar, sizeof(im->hex_tar), "%s.tar", im->diff_id + 7);
	cnai_buf_addf(&im->config,
		      "{\"architecture\":\"amd64\",\"os\":\"linux\","
		      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
		      "[\"%s\"]}}", im->diff_id);
}

static void image_release(struct image *im)
{
	cnai_buf_release(&im->layer);
	cnai_buf_release(&im->config);
}

/* The archive of `m` as fx/<name>; its path in fx->path. */
static const char *write_archive(struct fixture *fx, const char *name,
				 const struct member *m, size_t n, int gzip)
{
	struct cnai_buf tar = CNAI_BUF_INIT;

	make_tar(&tar, m, n, gzip);
	assert_int_equal(fixture_write(fx, name, tar.buf, tar.len), 0);
	cnai_buf_release(&tar);
	return fixture_path(fx, name);
}

/* Classic `docker save`: config <hex>.json, layer abc/layer.tar. */
static const char *classic(struct fixture *fx, struct image *im,
			   const char *manifest)
{
	struct member m[3] = {
		{ "cfg.json", im->config.buf, im->config.len, NULL },
		{ "abc/layer.tar", im->layer.buf, im->layer.len, NULL },
		{ "manifest.json", manifest, strlen(manifest), NULL },
	};

	return write_archive(fx, "image.tar", m, 3, 0);
}

static const char classic_manifest[] =
	"[{\"Config\":\"cfg.json\",\"RepoTags\":[\"foo/bar:1\"],"
	"\"Layers\":[\"abc/layer.tar\"]}]";

static const char *layout(struct fixture *fx)
{
	static char dir[600];

	snprintf(dir, sizeof(dir), "%s/layout", fx->dir);
	assert_int_equal(cnai_oci_layout_init(dir), 0);
	return dir;
}

static int blob_count(const char *dir)
{
	char p[700];

	snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
	return fixture_count_entries(p);
}

/* The imported manifest's config and single layer, checked against im. */
static void check_imported(const char *dir, const struct cnai_oci_desc *d,
			   const struct image *im, const char *layer_media)
{
	json_t *man, *layers;
	struct cnai_buf cfg = CNAI_BUF_INIT;
	char cfg_digest[CNAI_DIGEST_LEN];

	assert_string_equal(d->media_type, CNAI_MEDIA_OCI_MANIFEST);
	assert_int_equal(cnai_oci_json_read(&man, dir, d->digest), 0);
	/* the config is stored byte for byte */
	assert_int_equal(cnai_sha256_buffer(cfg_digest, im->config.buf,
					    im->config.len), 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(man, "config"), "digest")),
			    cfg_digest);
	assert_int_equal(cnai_oci_blob_read(&cfg, dir, cfg_digest, 0), 0);
	assert_int_equal(cfg.len, im->config.len);
	assert_memory_equal(cfg.buf, im->config.buf, cfg.len);
	layers = json_object_get(man, "layers");
	assert_int_equal(json_array_size(layers), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(layers, 0), "mediaType")),
			    layer_media);
	assert_true(cnai_oci_blob_exists(dir, json_string_value(json_object_get(
						      json_array_get(layers, 0),
						      "digest"))) == 1);
	cnai_buf_release(&cfg);
	json_decref(man);
}

/* index.json lists the manifest (untagged), so gc keeps it. */
static void check_listed(const char *dir, const struct cnai_oci_desc *d)
{
	json_t *idx, *m;
	size_t i;
	int found = 0;

	assert_int_equal(cnai_oci_index_read(&idx, dir), 0);
	json_array_foreach(json_object_get(idx, "manifests"), i, m) {
		json_t *dg = json_object_get(m, "digest");

		found |= json_is_string(dg) &&
			 !strcmp(json_string_value(dg), d->digest);
	}
	assert_true(found);
	json_decref(idx);
}

static void test_docker_archive__classic_save_imported(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_desc d;
	struct image im;
	const char *dir = layout(fx), *file;

	make_image(&im, "hello\n");
	file = classic(fx, &im, classic_manifest);
	lo.threads = 1;
	assert_int_equal(cnai_docker_archive_import(&d, dir, file, NULL, &lo),
			 0);
	/* an uncompressed layer is compressed as the options say */
	check_imported(dir, &d, &im, CNAI_MEDIA_LAYER_GZIP);
	check_listed(dir, &d);
	image_release(&im);
}

static void test_docker_archive__uncompressed_layer_kept(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_desc d;
	struct image im;
	const char *dir = layout(fx), *file;

	make_image(&im, "plain\n");
	file = classic(fx, &im, classic_manifest);
	lo.compression = CNAI_LAYER_NONE;
	assert_int_equal(cnai_docker_archive_import(&d, dir, file, NULL, &lo),
			 0);
	check_imported(dir, &d, &im, CNAI_MEDIA_LAYER_TAR);
	/* stored as it was: its digest is the diff_id */
	assert_true(cnai_oci_blob_exists(dir, im.diff_id) == 1);
	image_release(&im);
}

static void test_docker_archive__skopeo_links_and_pick_by_tag(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_desc d, d2;
	struct image im;
	struct cnai_buf man = CNAI_BUF_INIT;
	const char *dir = layout(fx), *file;

	make_image(&im, "skopeo\n");
	cnai_buf_addf(&man, "[{\"Config\":\"cfg.json\",\"RepoTags\":"
			    "[\"docker.io/foo/bar:1\"],\"Layers\":"
			    "[\"abc/layer.tar\"]}]");
	{
		struct member m[4] = {
			{ im.hex_tar, im.layer.buf, im.layer.len, NULL },
			{ "cfg.json", im.config.buf, im.config.len, NULL },
			{ "abc/layer.tar", NULL, 0, NULL },
			{ "manifest.json", man.buf, man.len, NULL },
		};

		/* the link is relative to its folder */
		char target[100];

		snprintf(target, sizeof(target), "../%s", im.hex_tar);
		m[2].link = target;
		file = write_archive(fx, "skopeo.tar", m, 4, 1); /* gzipped */
	}
	lo.threads = 1;
	/* "foo/bar:1" is docker's short spelling of the tag */
	assert_int_equal(cnai_docker_archive_import(&d, dir, file, "foo/bar:1",
						    &lo), 0);
	check_imported(dir, &d, &im, CNAI_MEDIA_LAYER_GZIP);
	assert_int_equal(cnai_docker_archive_import(&d2, dir, file, "@0", &lo),
			 0);
	assert_string_equal(d2.digest, d.digest); /* reproducible */
	cnai_buf_release(&man);
	image_release(&im);
}

static void test_docker_archive__docker25_oci_layout_shape(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_desc d;
	struct image im;
	struct cnai_buf man = CNAI_BUF_INIT;
	char cfg_digest[CNAI_DIGEST_LEN], cfg_path[200], layer_path[200];
	const char *dir = layout(fx), *file;

	make_image(&im, "oci\n");
	assert_int_equal(cnai_sha256_buffer(cfg_digest, im.config.buf,
					    im.config.len), 0);
	snprintf(cfg_path, sizeof(cfg_path), "blobs/sha256/%s",
		 cfg_digest + 7);
	snprintf(layer_path, sizeof(layer_path), "blobs/sha256/%s",
		 im.diff_id + 7);
	cnai_buf_addf(&man, "[{\"Config\":\"%s\",\"RepoTags\":[\"x:1\"],"
			    "\"Layers\":[\"%s\"]}]", cfg_path, layer_path);
	{
		struct member m[4] = {
			{ "oci-layout", "{}", 2, NULL },
			{ cfg_path, im.config.buf, im.config.len, NULL },
			{ layer_path, im.layer.buf, im.layer.len, NULL },
			{ "manifest.json", man.buf, man.len, NULL },
		};

		file = write_archive(fx, "image.tar", m, 4, 0);
	}
	lo.threads = 1;
	assert_int_equal(cnai_docker_archive_import(&d, dir, file, "x:1", &lo),
			 0);
	check_imported(dir, &d, &im, CNAI_MEDIA_LAYER_GZIP);
	cnai_buf_release(&man);
	image_release(&im);
}

static void test_docker_archive__gzip_layer_stored_as_is(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_desc d;
	struct image im;
	struct cnai_buf gz = CNAI_BUF_INIT;
	char gz_digest[CNAI_DIGEST_LEN];
	const char *dir = layout(fx), *file;
	struct member inner = { "app/hello.txt", "gz\n", 3, NULL };

	make_image(&im, "gz\n");
	make_tar(&gz, &inner, 1, 1);
	assert_int_equal(cnai_sha256_buffer(gz_digest, gz.buf, gz.len), 0);
	{
		struct member m[3] = {
			{ "cfg.json", im.config.buf, im.config.len, NULL },
			{ "abc/layer.tar", gz.buf, gz.len, NULL },
			{ "manifest.json", classic_manifest,
			  strlen(classic_manifest), NULL },
		};

		file = write_archive(fx, "image.tar", m, 3, 0);
	}
	assert_int_equal(cnai_docker_archive_import(&d, dir, file, NULL, &lo),
			 0);
	assert_true(cnai_oci_blob_exists(dir, gz_digest) == 1);
	cnai_buf_release(&gz);
	image_release(&im);
}

/* Imports `file` expecting `code` and exactly `msg` (its one "%s" is
 * the file), and checks that the layout got no blob. */
static void refused(struct fixture *fx, const char *dir, const char *file,
		    const char *image, int code, const char *msg)
{
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_desc d;
	char want[2048];
	const char *at = strstr(msg, "%s");
	int before = blob_count(dir);

	assert_int_equal(cnai_docker_archive_import(&d, dir, file, image, &lo),
			 code);
	assert_non_null(at);
	snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - msg), msg, file,
		 at + 2);
	assert_string_equal(fixture_errmsg(), want);
	assert_int_equal(blob_count(dir), before);
}

static void test_docker_archive__escaping_member_refused(void **state)
{
	struct fixture *fx = *state;
	struct image im;
	const char *dir = layout(fx);
	char file[600];

	make_image(&im, "x\n");
	{
		struct member m[4] = {
			{ "cfg.json", im.config.buf, im.config.len, NULL },
			{ "abc/layer.tar", im.layer.buf, im.layer.len, NULL },
			{ "../evil", "x", 1, NULL },
			{ "manifest.json", classic_manifest,
			  strlen(classic_manifest), NULL },
		};

		snprintf(file, sizeof(file), "%s",
			 write_archive(fx, "a.tar", m, 4, 0));
	}
	refused(fx, dir, file, NULL, CNAI_EINVALID,
		"'%s': member '../evil' escapes the archive; refusing it");
	image_release(&im);
}

static void test_docker_archive__escaping_link_refused(void **state)
{
	struct fixture *fx = *state;
	struct image im;
	const char *dir = layout(fx);
	char file[600];

	make_image(&im, "x\n");
	{
		struct member m[3] = {
			{ "cfg.json", im.config.buf, im.config.len, NULL },
			{ "abc/layer.tar", NULL, 0, "../../etc/passwd" },
			{ "manifest.json", classic_manifest,
			  strlen(classic_manifest), NULL },
		};

		snprintf(file, sizeof(file), "%s",
			 write_archive(fx, "a.tar", m, 3, 0));
	}
	refused(fx, dir, file, NULL, CNAI_EINVALID,
		"'%s': link target '../../etc/passwd' escapes the archive; "
		"refusing it");
	image_release(&im);
}

static void test_docker_archive__escaping_manifest_path_refused(void **state)
{
	struct fixture *fx = *state;
	struct image im;
	const char *dir = layout(fx), *file;

	make_image(&im, "x\n");
	file = classic(fx, &im, "[{\"Config\":\"/etc/passwd\",\"Layers\":[]}]");
	refused(fx, dir, file, NULL, CNAI_EINVALID,
		"'%s': manifest.json path '/etc/passwd' escapes the archive; "
		"refusing it");
	image_release(&im);
}

static void test_docker_archive__missing_member_refused(void **state)
{
	struct fixture *fx = *state;
	struct image im;
	const char *dir = layout(fx), *file;

	make_image(&im, "x\n");
	file = classic(fx, &im,
		       "[{\"Config\":\"cfg.json\",\"Layers\":[\"gone.tar\"]}]");
	refused(fx, dir, file, NULL, CNAI_EINVALID,
		"'%s': manifest.json names 'gone.tar', which the archive does "
		"not hold");
	image_release(&im);
}

static void test_docker_archive__no_manifest_json_refused(void **state)
{
	struct fixture *fx = *state;
	const char *dir = layout(fx), *file;
	struct member m = { "other.json", "{}", 2, NULL };

	file = write_archive(fx, "a.tar", &m, 1, 0);
	refused(fx, dir, file, NULL, CNAI_EINVALID,
		"'%s' has no manifest.json: it is not a 'docker save' "
		"archive");
}

static void test_docker_archive__not_a_tar_refused(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_desc d;
	const char *dir = layout(fx);
	char file[600];
	char junk[2048];

	memset(junk, 'z', sizeof(junk));
	assert_int_equal(fixture_write(fx, "junk.tar", junk, sizeof(junk)), 0);
	snprintf(file, sizeof(file), "%s", fixture_path(fx, "junk.tar"));
	assert_int_equal(cnai_docker_archive_import(&d, dir, file, NULL, &lo),
			 CNAI_EINVALID);
	snprintf(junk, sizeof(junk), "'%s' is not a tar archive: ", file);
	assert_true(!strncmp(fixture_errmsg(), junk, strlen(junk)));
	assert_int_equal(blob_count(dir), 0);
}

static void test_docker_archive__image_choice(void **state)
{
	struct fixture *fx = *state;
	struct image im;
	const char *dir = layout(fx);
	char file[600];
	static const char two[] =
		"[{\"Config\":\"cfg.json\",\"RepoTags\":[\"a:1\"],"
		"\"Layers\":[\"abc/layer.tar\"]},"
		"{\"Config\":\"cfg.json\",\"RepoTags\":[],"
		"\"Layers\":[\"abc/layer.tar\"]}]";

	make_image(&im, "x\n");
	snprintf(file, sizeof(file), "%s", classic(fx, &im, two));
	refused(fx, dir, file, "b:2", CNAI_ENOTFOUND,
		"'%s' has no image 'b:2' (it has: a:1, @1)");
	{
		struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
		struct cnai_oci_desc d;
		char msg[1400];

		/* no name given: which one is asked for */
		assert_int_equal(cnai_docker_archive_import(&d, dir, file, NULL,
							    &lo),
				 CNAI_EINVALID);
		snprintf(msg, sizeof(msg), "'%s' holds 2 images; name one as "
			 "docker-archive:%s:<repo>:<tag> (it has: a:1, @1)",
			 file, file);
		assert_string_equal(fixture_errmsg(), msg);
		assert_int_equal(blob_count(dir), 0);
	}
	image_release(&im);
}

static void test_docker_archive__diff_id_mismatch_refused(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_desc d;
	struct image im, other;
	const char *dir = layout(fx), *file;
	char want[1400];

	make_image(&im, "one\n");
	make_image(&other, "two\n");
	/* the config of another layer */
	{
		struct member m[3] = {
			{ "cfg.json", other.config.buf, other.config.len,
			  NULL },
			{ "abc/layer.tar", im.layer.buf, im.layer.len, NULL },
			{ "manifest.json", classic_manifest,
			  strlen(classic_manifest), NULL },
		};

		file = write_archive(fx, "image.tar", m, 3, 0);
	}
	assert_int_equal(cnai_docker_archive_import(&d, dir, file, NULL, &lo),
			 CNAI_EINVALID);
	snprintf(want, sizeof(want), "'%s': layer 'abc/layer.tar' has diff_id "
		 "'%s', the config says '%s'", file, im.diff_id,
		 other.diff_id);
	assert_string_equal(fixture_errmsg(), want);
	image_release(&im);
	image_release(&other);
}

static void test_docker_archive__missing_file_not_found(void **state)
{
	struct fixture *fx = *state;
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_desc d;
	const char *dir = layout(fx);
	char file[600], want[700];

	snprintf(file, sizeof(file), "%s/absent.tar", fx->dir);
	assert_int_equal(cnai_docker_archive_import(&d, dir, file, NULL, &lo),
			 CNAI_ENOTFOUND);
	snprintf(want, sizeof(want), "cannot open '%s': ", file);
	assert_true(!strncmp(fixture_errmsg(), want, strlen(want)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup_dir, \
					     fixture_teardown)
		T(test_docker_archive__classic_save_imported),
		T(test_docker_archive__uncompressed_layer_kept),
		T(test_docker_archive__skopeo_links_and_pick_by_tag),
		T(test_docker_archive__docker25_oci_layout_shape),
		T(test_docker_archive__gzip_layer_stored_as_is),
		T(test_docker_archive__escaping_member_refused),
		T(test_docker_archive__escaping_link_refused),
		T(test_docker_archive__escaping_manifest_path_refused),
		T(test_docker_archive__missing_member_refused),
		T(test_docker_archive__no_manifest_json_refused),
		T(test_docker_archive__not_a_tar_refused),
		T(test_docker_archive__image_choice),
		T(test_docker_archive__diff_id_mismatch_refused),
		T(test_docker_archive__missing_file_not_found),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
