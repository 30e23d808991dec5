/*
 * package ls / inspect / export: the store's images, read from its OCI
 * layout. Export writes either another OCI layout or a `docker save`
 * style archive (registry/image_export.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/package/package.h"
#include "commands/package/usage.h"
#include "core/store/store.h"
#include "registry/image_export.h"
#include "registry/oci.h"
#include "core/util/banned.h"

/* cosign's sha256-<hex>.sig/.att tags and the referrers tag schema's
 * sha256-<hex> index: about an image, not images. */
static int is_attachment(const char *tag)
{
	size_t n = strlen(tag);

	return !strncmp(tag, "sha256-", 7) &&
	       (n == 7 + 64 || (n > 4 && (!strcmp(tag + n - 4, ".sig") ||
					  !strcmp(tag + n - 4, ".att"))));
}

/* Sum of the config and layer sizes of an image manifest. */
static uint64_t image_size(json_t *man)
{
	uint64_t total = (uint64_t)json_integer_value(
		json_object_get(json_object_get(man, "config"), "size"));
	json_t *l;
	size_t i;

	json_array_foreach(json_object_get(man, "layers"), i, l)
		total += (uint64_t)json_integer_value(json_object_get(l, "size"));
	return total;
}

static const char *kind_of(json_t *man)
{
	const char *at = json_string_value(json_object_get(man, "artifactType"));
	json_t *ann = json_object_get(man, "annotations");
	size_t n = json_array_size(json_object_get(man, "layers"));

	if (at)
		return "artifact";
	if (!json_object_get(ann, "ai.cnai.model.name"))
		return "image";
	return n >= 2 ? "serve" : "modelcar";
}

int package_ls(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const char *const header[] = { "TAG", "DIGEST", "KIND", "MODEL",
					      "SIZE" };
	static const struct option longopts[] = { CNAI_OPTS_COMMON,
						   { NULL, 0, NULL, 0 } };
	struct cnai_table t = { 0 };
	json_t *index = NULL, *e, *out = json_array();
	size_t i;
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":h", longopts, package_usage("ls"),
				ctx)) != -1) {
		json_decref(out);
		return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	}
	if (optind < argc) {
		json_decref(out);
		return cnai_error_set(CNAI_EUSAGE, "'package ls' takes no "
				      "arguments");
	}
	if ((err = cnai_oci_index_read(&index, cnai_store_oci(ctx->store))) < 0 ||
	    (err = cnai_table_init(&t, 5, header)) < 0)
		goto cleanup;
	json_array_foreach(json_object_get(index, "manifests"), i, e) {
		const char *tag = json_string_value(json_object_get(
			json_object_get(e, "annotations"), CNAI_OCI_REF_NAME));
		const char *digest = json_string_value(
			json_object_get(e, "digest"));
		json_t *man = NULL, *ann;
		char model[300] = "-", size[32], short_d[32];
		const char *row[5] = { tag, short_d, NULL, model, size };

		if (!tag || !digest || is_attachment(tag))
			continue;
		if (cnai_oci_json_read(&man, cnai_store_oci(ctx->store), digest) < 0) {
			cnai_error_clear();
			continue;
		}
		ann = json_object_get(man, "annotations");
		if (json_object_get(ann, "ai.cnai.model.name"))
			snprintf(model, sizeof(model), "%s@%s",
				 json_string_value(json_object_get(
					 ann, "ai.cnai.model.name")),
				 json_string_value(json_object_get(
					 ann, "ai.cnai.model.version")) ?: "?");
		snprintf(size, sizeof(size), "%llu",
			 (unsigned long long)image_size(man));
		snprintf(short_d, sizeof(short_d), "sha256:%.12s", digest + 7);
		row[2] = kind_of(man);
		err = cnai_table_add(&t, row);
		json_array_append_new(
			out, json_pack("{s:s, s:s, s:s, s:s, s:I}", "tag", tag,
				       "digest", digest, "kind", row[2],
				       "model", model, "size",
				       (json_int_t)image_size(man)));
		json_decref(man);
		if (err < 0)
			goto cleanup;
	}
	if (ctx->json)
		err = cnai_json_print(json_incref(out));
	else
		cnai_table_print(&t, ctx);
cleanup:
	json_decref(index);
	json_decref(out);
	cnai_table_release(&t);
	return err;
}

static void print_list(const char *label, json_t *arr)
{
	json_t *v;
	size_t i;

	if (!json_array_size(arr))
		return;
	printf("%-14s", label);
	json_array_foreach(arr, i, v)
		printf("%s%s", i ? " " : "", json_string_value(v));
	printf("\n");
}

int package_inspect(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = { CNAI_OPTS_COMMON,
						   { NULL, 0, NULL, 0 } };
	struct cnai_oci_desc d, cd;
	json_t *man = NULL, *cfg = NULL, *l, *v;
	const char *k;
	size_t i;
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":h", longopts,
				package_usage("inspect"), ctx)) != -1)
		return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	if (argc - optind != 1)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      package_usage("inspect")->synopsis[0]);
	if ((err = cnai_oci_resolve(&d, cnai_store_oci(ctx->store), argv[optind])) < 0 ||
	    (err = cnai_oci_json_read(&man, cnai_store_oci(ctx->store), d.digest)) < 0)
		goto cleanup;
	if (cnai_oci_desc_parse(&cd, json_object_get(man, "config")) == 0 &&
	    strstr(cd.media_type, "image.config") &&
	    (err = cnai_oci_json_read(&cfg, cnai_store_oci(ctx->store), cd.digest)) < 0)
		goto cleanup;
	cnai_error_clear();
	if (ctx->json) {
		err = cnai_json_print(json_pack("{s:s, s:s, s:O, s:O?}",
						"digest", d.digest,
						"media_type", d.media_type,
						"manifest", man, "config",
						cfg));
		goto cleanup;
	}
	printf("%-14s%s\n%-14s%s\n", "digest", d.digest, "media type",
	       d.media_type);
	if (json_string_value(json_object_get(man, "artifactType")))
		printf("%-14s%s\n", "artifact type",
		       json_string_value(json_object_get(man, "artifactType")));
	if (cfg) {
		json_t *cc = json_object_get(cfg, "config");

		printf("%-14s%s/%s\n", "platform",
		       json_string_value(json_object_get(cfg, "os")) ?: "",
		       json_string_value(json_object_get(cfg, "architecture")) ?: "");
		printf("%-14s%s\n", "created",
		       json_string_value(json_object_get(cfg, "created")) ?: "-");
		print_list("entrypoint", json_object_get(cc, "Entrypoint"));
		print_list("env", json_object_get(cc, "Env"));
		if (json_string_value(json_object_get(cc, "User")))
			printf("%-14s%s\n", "user",
			       json_string_value(json_object_get(cc, "User")));
		json_object_foreach(json_object_get(cc, "ExposedPorts"), k, v)
			printf("%-14s%s\n", "port", k);
	}
	json_object_foreach(json_object_get(man, "annotations"), k, v)
		printf("%-14s%s=%s\n", "annotation", k, json_string_value(v));
	printf("\nlayers:\n");
	json_array_foreach(json_object_get(man, "layers"), i, l)
		printf("  %s  %10lld  %s\n",
		       json_string_value(json_object_get(l, "digest")),
		       (long long)json_integer_value(json_object_get(l, "size")),
		       json_string_value(json_object_get(l, "mediaType")));
	printf("\ntotal %llu bytes\n", (unsigned long long)image_size(man));
cleanup:
	json_decref(man);
	json_decref(cfg);
	return err;
}

int package_export(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "oci-layout", required_argument, NULL, 'o' },
		{ "docker-archive", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *layout = NULL, *archive = NULL;
	struct cnai_oci_desc d;
	int c, err, force = 0;

	while ((c = cnai_getopt(argc, argv, ":fh", longopts,
				package_usage("export"), ctx)) != -1) {
		if (c == 'o')
			layout = optarg;
		else if (c == 'd')
			archive = optarg;
		else if (c == 'f')
			force = 1;
		else
			return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	}
	if (argc - optind != 1 || !layout == !archive)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      package_usage("export")->synopsis[0]);
	if (force && layout)
		return cnai_error_set(CNAI_EUSAGE, "--force: only with "
				      "--docker-archive (export adds to a "
				      "layout, it overwrites nothing there)");
	if ((err = cnai_oci_resolve(&d, cnai_store_oci(ctx->store), argv[optind])) < 0)
		return err;
	if (archive)
		err = cnai_image_export_archive(cnai_store_oci(ctx->store), &d,
						argv[optind], archive, force);
	else
		err = cnai_image_export_layout(cnai_store_oci(ctx->store), &d,
					       argv[optind], layout);
	if (!err && !ctx->json)
		printf("exported %s %s to %s\n", argv[optind], d.digest,
		       archive ? archive : layout);
	else if (!err)
		err = cnai_json_print(json_pack("{s:s, s:s, s:s}", "ref",
						argv[optind], "digest",
						d.digest, "to",
						archive ? archive : layout));
	return err;
}
