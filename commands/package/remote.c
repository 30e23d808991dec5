/*
 * package push / pull: the store's images to and from registries through
 * registry/distribution. A push carries the image's cosign attachments
 * along with it: the sha256-<hex>.sig and .att tags of the store, and the
 * sha256-<hex> index of its referrers (Sigstore bundles) — the referrers
 * tag schema, which a registry with the referrers API simply ignores
 * after indexing the referrers' subjects itself. The store records which
 * repositories each pushed or pulled blob is in, so a push to another
 * repository of the same registry mounts them from there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/package/package.h"
#include "commands/package/usage.h"
#include "core/store/blob_locations.h"
#include "core/store/images.h"
#include "core/store/store.h"
#include "core/util/buf.h"
#include "registry/distribution.h"
#include "core/util/banned.h"

/* Reads one line from stdin as the password (never from argv). */
static int password_stdin(struct cnai_buf *out)
{
	char chunk[512];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (cnai_buf_add(out, chunk, n) < 0 || out->len > 4096)
			return cnai_error_set(CNAI_EINVALID, "--password-stdin: "
					      "more than 4 KiB");
	out->len = strcspn(out->buf, "\r\n");
	out->buf[out->len] = '\0';
	return 0;
}

/* dest's repository with another tag: "host/repo:NEWTAG". */
static void retag(char *out, size_t size, const char *dest, const char *tag)
{
	struct cnai_reference r;

	if (cnai_reference_parse(&r, dest) < 0) {
		cnai_error_clear();
		snprintf(out, size, "%s", dest);
		return;
	}
	snprintf(out, size, "%s/%s:%s", r.registry, r.repository, tag);
}

/* Appends a blob's digest (layers and configs, not manifests) to the
 * JSON array `payload`. */
static int add_blob(const struct cnai_oci_desc *d, int is_manifest,
		    void *payload)
{
	if (is_manifest)
		return 0;
	return json_array_append_new(payload, json_string(d->digest)) < 0
		       ? cnai_error_set(CNAI_ERROR, "out of memory")
		       : 0;
}

/*
 * Where an image's blobs are, in `where`'s registry and repository, and
 * the digests of those blobs (a new JSON array, the caller's).
 */
static int image_blobs(json_t **out, struct cnai_reference *r,
		       struct cnai_ctx *ctx, const char *digest,
		       const char *where)
{
	struct cnai_oci_desc d;
	int err;

	if (!(*out = json_array()))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if ((err = cnai_reference_parse(r, where)) < 0 ||
	    (err = cnai_oci_resolve(&d, cnai_store_oci(ctx->store), digest)) < 0 ||
	    (err = cnai_oci_walk(cnai_store_oci(ctx->store), &d, add_blob, *out)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return err;
}

int package_record_blobs(struct cnai_ctx *ctx, const char *digest,
			 const char *where)
{
	struct cnai_reference r;
	json_t *blobs;
	int err;

	if ((err = image_blobs(&blobs, &r, ctx, digest, where)) < 0)
		return err;
	err = cnai_blob_locations_add(ctx->store, r.registry, r.repository,
				      blobs);
	json_decref(blobs);
	return err;
}

/*
 * The repository of dest's registry to mount the image's blobs from: the
 * one the store knows holds the most of them (NULL: none; every blob is
 * then uploaded, unless the registry has it already).
 */
static int mount_source(char **out, struct cnai_ctx *ctx, const char *digest,
			const char *dest)
{
	struct cnai_reference r;
	json_t *blobs;
	int err;

	*out = NULL;
	if ((err = image_blobs(&blobs, &r, ctx, digest, dest)) < 0)
		return err;
	err = cnai_blob_locations_best(out, ctx->store, r.registry,
				       r.repository, blobs);
	json_decref(blobs);
	return err;
}

int package_push_image(struct cnai_ctx *ctx, const char *ref,
		       const char *dest, int jobs, int insecure,
		       const char *username, const char *password)
{
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_oci_desc d, att;
	char digest[CNAI_DIGEST_LEN], tag[80], where[700], *mount = NULL;
	static const char *const kinds[] = { ".sig", ".att", "" };
	struct cnai_progress *bar = cnai_progress_new(ctx);
	json_t *pushed = json_array();
	size_t i;
	int err;

	o.jobs = jobs;
	o.insecure = insecure;
	o.username = username;
	o.password = password;
	o.progress = cnai_progress_transfer;
	o.progress_ctx = bar;
	if ((err = cnai_oci_resolve(&d, cnai_store_oci(ctx->store), ref)) < 0 ||
	    (err = mount_source(&mount, ctx, d.digest, dest)) < 0)
		goto cleanup;
	o.mount_from = mount;
	if ((err = cnai_registry_push(digest, cnai_store_oci(ctx->store), ref, dest,
				      &o)) < 0 ||
	    (err = package_record_blobs(ctx, d.digest, dest)) < 0)
		goto cleanup;
	json_array_append_new(pushed, json_pack("{s:s, s:s}", "ref", dest,
						"digest", digest));
	for (i = 0; i < 3; i++) {
		snprintf(tag, sizeof(tag), "sha256-%.64s%s", d.digest + 7,
			 kinds[i]);
		if (cnai_oci_resolve(&att, cnai_store_oci(ctx->store), tag) < 0) {
			cnai_error_clear();
			continue;
		}
		retag(where, sizeof(where), dest, tag);
		if ((err = cnai_registry_push(digest, cnai_store_oci(ctx->store), tag,
					      where, &o)) < 0)
			goto cleanup;
		json_array_append_new(pushed,
				      json_pack("{s:s, s:s}", "ref", where,
						"digest", digest));
	}
	if ((err = cnai_image_record(ctx->store, d.digest, dest, NULL)) < 0)
		goto cleanup;
	cnai_progress_free(bar); /* its last lines before ours */
	bar = NULL;
	if (ctx->json) {
		err = cnai_json_print(json_pack("{s:s, s:O}", "digest",
						d.digest, "pushed", pushed));
	} else {
		json_t *p;

		json_array_foreach(pushed, i, p)
			printf("pushed %s@%s\n",
			       json_string_value(json_object_get(p, "ref")),
			       json_string_value(json_object_get(p, "digest")));
	}
cleanup:
	cnai_progress_free(bar);
	json_decref(pushed);
	free(mount);
	return err;
}

struct remote_opts {
	int64_t jobs;
	int insecure, pw_stdin;
	const char *username, *tag, *platform;
};

static int parse_remote(struct remote_opts *o, int argc, char **argv,
			struct cnai_ctx *ctx, const char *sub, int nargs)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "insecure", no_argument, NULL, 'I' },
		{ "username", required_argument, NULL, 'u' },
		{ "password-stdin", no_argument, NULL, 'S' },
		{ "tag", required_argument, NULL, 't' },
		{ "platform", required_argument, NULL, 'p' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	int c, err;

	o->jobs = 4;
	while ((c = cnai_getopt(argc, argv, ":h", longopts, package_usage(sub),
				ctx)) != -1) {
		switch (c) {
		case 'j':
			if ((err = cnai_opt_int64(&o->jobs, optarg, "--jobs")) < 0)
				return err;
			if (o->jobs < 1 || o->jobs > 64)
				return cnai_error_set(CNAI_EUSAGE,
						      "--jobs: 1 to 64");
			break;
		case 'I':
			o->insecure = 1;
			break;
		case 'u':
			o->username = optarg;
			break;
		case 'S':
			o->pw_stdin = 1;
			break;
		case 't':
			o->tag = optarg;
			break;
		case 'p':
			o->platform = optarg;
			break;
		case CNAI_OPT_HELP:
			return 1;
		default:
			return CNAI_EUSAGE;
		}
	}
	if (argc - optind != nargs)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      package_usage(sub)->synopsis[0]);
	if (!o->username != !o->pw_stdin)
		return cnai_error_set(CNAI_EUSAGE, "--username and "
				      "--password-stdin go together");
	return 0;
}

int package_push(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct remote_opts o = { 0 };
	struct cnai_buf pw = CNAI_BUF_INIT;
	int err;

	if ((err = parse_remote(&o, argc, argv, ctx, "push", 2)) != 0)
		return err > 0 ? 0 : err;
	if (o.pw_stdin && (err = password_stdin(&pw)) < 0)
		goto cleanup;
	err = package_push_image(ctx, argv[optind], argv[optind + 1],
				 (int)o.jobs, o.insecure, o.username,
				 o.pw_stdin ? pw.buf : NULL);
cleanup:
	cnai_buf_release(&pw);
	return err;
}

int package_pull(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct cnai_registry_opts ro = CNAI_REGISTRY_OPTS_INIT;
	struct remote_opts o = { 0 };
	struct cnai_reference r;
	struct cnai_buf pw = CNAI_BUF_INIT;
	struct cnai_progress *bar;
	char digest[CNAI_DIGEST_LEN], tag[700];
	const char *src;
	int err;

	if ((err = parse_remote(&o, argc, argv, ctx, "pull", 1)) != 0)
		return err > 0 ? 0 : err;
	src = argv[optind];
	if ((err = cnai_reference_parse(&r, src)) < 0)
		goto cleanup;
	if (o.pw_stdin && (err = password_stdin(&pw)) < 0)
		goto cleanup;
	if (o.tag)
		snprintf(tag, sizeof(tag), "%s", o.tag);
	else
		snprintf(tag, sizeof(tag), "%s/%s:%s", r.registry,
			 r.repository, r.tag[0] ? r.tag : "latest");
	ro.insecure = o.insecure;
	ro.username = o.username;
	ro.password = o.pw_stdin ? pw.buf : NULL;
	ro.jobs = (int)o.jobs;
	ro.platform = o.platform;
	ro.progress = cnai_progress_transfer;
	ro.progress_ctx = bar = cnai_progress_new(ctx);
	err = cnai_registry_pull(digest, src, cnai_store_oci(ctx->store), tag, &ro);
	cnai_progress_free(bar);
	if (err < 0 ||
	    (err = cnai_image_record(ctx->store, digest, tag, NULL)) < 0 ||
	    (err = package_record_blobs(ctx, digest, src)) < 0)
		goto cleanup;
	if (ctx->json)
		err = cnai_json_print(json_pack("{s:s, s:s, s:s}", "source",
						src, "tag", tag, "digest",
						digest));
	else
		printf("%s %s\n", tag, digest);
cleanup:
	cnai_buf_release(&pw);
	return err;
}
