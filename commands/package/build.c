/*
 * `cnai package MODEL`: the options, and what the store has to say to
 * registry/image.c's builder (the model's files, the run that made it,
 * the layer cache, a base image pulled from a registry); the image is
 * built in the store's OCI layout, then tagged and recorded in the store.
 * Timestamps come from SOURCE_DATE_EPOCH (0 when unset), so two stores
 * build the same digest from the same model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/package/package.h"
#include "commands/package/usage.h"
#include "core/store/blobs.h"
#include "core/store/images.h"
#include "core/store/models.h"
#include "core/store/runs.h"
#include "registry/distribution.h"
#include "registry/image.h"
#include "registry/layer.h"
#include "registry/oci.h"
#include "core/util/banned.h"

struct build_opts {
	const char *model, *base, *push;
	const char **tags, **labels, **annotations;
	size_t ntags;
	struct cnai_image_opts image; /* what the builder is told */
	char created_by[512];
};

static int push_str(const char ***list, size_t *n, const char *s)
{
	const char **g = realloc(*list, (*n + 1) * sizeof(**list));

	if (!g)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	*list = g;
	(*list)[(*n)++] = s;
	return 0;
}

static int check_kv(const char *const *list, size_t n, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *eq = strchr(list[i], '=');

		if (!eq || eq == list[i])
			return cnai_error_set(CNAI_EUSAGE, "%s '%s' is not "
					      "KEY=VALUE", what, list[i]);
	}
	return 0;
}

/* Every --tag, before anything is built: a bad second tag must not leave
 * the image built and the first tag moved. */
static int check_tags(const char *const *tags, size_t n)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++)
		if ((err = cnai_oci_tag_check(tags[i])) < 0)
			return err;
	return 0;
}

/*
 * --user: UID or UID:GID in digits. A serve image is built on scratch,
 * which has no /etc/passwd to turn a name into an id, and Kubernetes'
 * runAsNonRoot can only check a numeric user: a name would make an image
 * that no runtime starts.
 */
static int check_user(const char *user)
{
	const char *p = user;
	int part;

	for (part = 0; part < 2; part++) {
		size_t digits = strspn(p, "0123456789");

		if (digits == 0 || digits > 10 ||
		    strtoull(p, NULL, 10) > 0x7fffffffULL)
			break;
		p += digits;
		if (*p == '\0')
			return 0;
		if (*p++ != ':')
			break;
	}
	return cnai_error_set(CNAI_EUSAGE, "--user '%s': expected a numeric "
			      "UID or UID:GID (a serve image has no "
			      "/etc/passwd to look a name up)", user);
}

/*
 * The command that history's created_by names: the arguments, less those
 * that say only where the image goes or how the result is printed (--tag,
 * --push, --json), so that they do not change the image's digest.
 */
static void created_by(char *out, size_t size, int argc, char **argv)
{
	size_t len;
	int i;

	snprintf(out, size, "cnai package");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--tag") || !strcmp(a, "-t") ||
		    !strcmp(a, "--push")) {
			i++;
			continue;
		}
		if (!strncmp(a, "--tag=", 6) || !strncmp(a, "--push=", 7) ||
		    (!strncmp(a, "-t", 2) && a[2]) || !strcmp(a, "--json"))
			continue;
		len = strlen(out);
		snprintf(out + len, size - len, " %s", a);
	}
}

static int parse_opts(struct build_opts *o, int argc, char **argv,
		      struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "tag", required_argument, NULL, 't' },
		{ "base", required_argument, NULL, 'b' },
		{ "platform", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ "annotation", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "port", required_argument, NULL, 'P' },
		{ "compression", required_argument, NULL, 'c' },
		{ "license", required_argument, NULL, 'L' },
		{ "push", required_argument, NULL, 'U' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	int c, err = 0;

	o->image.port = 8080;
	o->image.user = "65532";
	while ((c = cnai_getopt(argc, argv, ":t:h", longopts,
				package_usage("build"), ctx)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "serve"))
				o->image.format = CNAI_IMAGE_SERVE;
			else if (!strcmp(optarg, "modelcar"))
				o->image.format = CNAI_IMAGE_MODELCAR;
			else if (!strcmp(optarg, "artifact"))
				o->image.format = CNAI_IMAGE_ARTIFACT;
			else
				return cnai_error_set(CNAI_EUSAGE,
						      "--format: '%s' is not "
						      "serve, modelcar or "
						      "artifact", optarg);
			break;
		case 't':
			err = push_str(&o->tags, &o->ntags, optarg);
			break;
		case 'b':
			o->base = optarg;
			break;
		case 'p':
			o->image.platform = optarg;
			break;
		case 'l':
			err = push_str(&o->labels, &o->image.nlabels, optarg);
			break;
		case 'a':
			err = push_str(&o->annotations,
				       &o->image.nannotations, optarg);
			break;
		case 'u':
			o->image.user = optarg;
			break;
		case 'P':
			if ((err = cnai_opt_int64(&o->image.port, optarg,
						  "--port")) == 0 &&
			    (o->image.port < 1 || o->image.port > 65535))
				err = cnai_error_set(CNAI_EUSAGE,
						     "--port: %lld is not 1 to "
						     "65535",
						     (long long)o->image.port);
			break;
		case 'c':
			err = cnai_layer_compression_parse(
				&o->image.compression, optarg);
			break;
		case 'L':
			o->image.license = optarg;
			break;
		case 'U':
			o->push = optarg;
			break;
		case CNAI_OPT_HELP:
			return 1;
		default:
			return CNAI_EUSAGE;
		}
		if (err < 0)
			return err;
	}
	if (argc - optind != 1)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      package_usage("build")->synopsis[0]);
	o->model = argv[optind];
	o->image.labels = o->labels;
	o->image.annotations = o->annotations;
	if ((err = check_kv(o->labels, o->image.nlabels, "--label")) < 0 ||
	    (err = check_kv(o->annotations, o->image.nannotations,
			    "--annotation")) < 0 ||
	    (err = check_user(o->image.user)) < 0 ||
	    (err = check_tags(o->tags, o->ntags)) < 0 ||
	    (err = cnai_source_date_epoch(&o->image.epoch, 0)) < 0)
		return err;
	created_by(o->created_by, sizeof(o->created_by), argc, argv);
	o->image.created_by = o->created_by;
	return 0;
}

/* The store's layer cache, for the builder (struct cnai_image_cache). */
static int cache_get(void *arg, const char *key, struct cnai_layer_info *out)
{
	struct cnai_store_cached_layer cached;
	int err;

	if ((err = cnai_store_layer_cache_get(&cached, arg, key)) != 0)
		return err;
	snprintf(out->digest, sizeof(out->digest), "%s", cached.digest);
	snprintf(out->diff_id, sizeof(out->diff_id), "%s", cached.diff_id);
	out->size = cached.size;
	return 0;
}

static int cache_put(void *arg, const char *key,
		     const struct cnai_layer_info *l)
{
	struct cnai_store_cached_layer cached;

	snprintf(cached.digest, sizeof(cached.digest), "%s", l->digest);
	snprintf(cached.diff_id, sizeof(cached.diff_id), "%s", l->diff_id);
	snprintf(cached.media_type, sizeof(cached.media_type), "%s",
		 l->media_type);
	cached.size = l->size;
	return cnai_store_layer_cache_put(arg, key, &cached);
}

/* What the builder needs to know of version `v`, out of the store. */
struct model_input {
	struct cnai_image_model m;
	struct cnai_image_file *files;
	struct cnai_buf *src;
	struct cnai_run *run;
};

static int model_input(struct model_input *in, struct cnai_store *st,
		       const struct cnai_model_version *v)
{
	size_t i, n = v->nfiles ? v->nfiles : 1;
	int err;

	in->m.name = v->name;
	in->m.version = v->version;
	in->m.manifest_digest = v->manifest_digest;
	in->m.nfiles = v->nfiles;
	in->files = calloc(n, sizeof(*in->files));
	in->src = calloc(n, sizeof(*in->src));
	if (!in->files || !in->src)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	in->m.files = in->files;
	for (i = 0; i < v->nfiles; i++)
		cnai_buf_init(&in->src[i]);
	for (i = 0; i < v->nfiles; i++) {
		if ((err = cnai_blob_path(&in->src[i], st,
					  v->files[i].digest)) < 0)
			return err;
		in->files[i].src = in->src[i].buf;
		in->files[i].path = v->files[i].path;
	}
	if (!v->run)
		return 0;
	in->m.run_id = v->run;
	if (cnai_run_lookup(&in->run, st, v->run) == 0) {
		in->m.git_remote = in->run->git_remote;
		in->m.git_commit = in->run->git_commit;
	}
	cnai_error_clear();
	return 0;
}

static void model_input_release(struct model_input *in, size_t nfiles)
{
	size_t i;

	for (i = 0; in->src && i < nfiles; i++)
		cnai_buf_release(&in->src[i]);
	free(in->src);
	free(in->files);
	cnai_run_free(in->run);
}

/* Pulls a registry base into the store, tagged by its reference. */
static int base_from_registry(struct cnai_oci_desc *out, struct cnai_ctx *ctx,
			      const char *ref, const char *platform)
{
	struct cnai_registry_opts ro = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_store *st = ctx->store;
	struct cnai_progress *bar;
	char digest[CNAI_DIGEST_LEN];
	int err;

	ro.platform = platform ? platform : "linux/amd64";
	ro.progress = cnai_progress_transfer;
	ro.progress_ctx = bar = cnai_progress_new(ctx);
	err = cnai_registry_pull(digest, ref, cnai_store_oci(st), ref, &ro);
	cnai_progress_free(bar);
	if (err < 0 || (err = cnai_image_record(st, digest, ref, NULL)) < 0 ||
	    (err = package_record_blobs(ctx, digest, ref)) < 0)
		return err;
	return cnai_oci_resolve(out, cnai_store_oci(st), digest);
}

/*
 * The --base image in the store's layout: copied in from a layout or a
 * `docker save` tar, a tag or digest there already, or a registry
 * reference pulled first. Sets *root to NULL for scratch.
 */
static int resolve_base(const struct cnai_oci_desc **root,
			struct cnai_oci_desc *d, struct cnai_ctx *ctx,
			const struct build_opts *o)
{
	struct cnai_store *st = ctx->store;
	struct cnai_oci_platform want;
	int err;

	*root = NULL;
	if (o->image.platform &&
	    (err = cnai_oci_platform_parse(&want, o->image.platform)) < 0)
		return err;
	if (!o->base || !strcmp(o->base, "scratch"))
		return 0;
	*root = d;
	if (cnai_image_base_is_file(o->base))
		return cnai_image_base_import(d, cnai_store_oci(st), o->base,
					      o->image.compression);
	if ((err = cnai_oci_resolve(d, cnai_store_oci(st), o->base)) == 0)
		return 0;
	/* Not in the store: a registry reference ("host/repo:tag") is
	 * pulled into it first, as `cnai package pull` would. */
	if (!strchr(o->base, '/'))
		return cnai_error_set(err, "base image '%s' not found in the "
				      "store; 'cnai package pull' it first",
				      o->base);
	cnai_error_clear();
	return base_from_registry(d, ctx, o->base, o->image.platform);
}

/* Builds the image of `v` in the store's layout. */
static int build(struct cnai_oci_desc *out, struct cnai_ctx *ctx,
		 const struct cnai_model_version *v, struct build_opts *o)
{
	struct cnai_image_cache cache = { cache_get, cache_put, ctx->store };
	struct model_input in = { 0 };
	const struct cnai_oci_desc *root = NULL;
	struct cnai_oci_desc base;
	int err;

	o->image.cache = &cache;
	if ((err = model_input(&in, ctx->store, v)) < 0 ||
	    (o->image.format != CNAI_IMAGE_ARTIFACT &&
	     (err = resolve_base(&root, &base, ctx, o)) < 0))
		goto cleanup;
	err = cnai_image_build(out, cnai_store_oci(ctx->store), &in.m, root, o->base,
			       &o->image);
cleanup:
	model_input_release(&in, v->nfiles);
	o->image.cache = NULL;
	return err;
}

static int default_tag(char *out, size_t size,
		       const struct cnai_model_version *v,
		       enum cnai_image_format f)
{
	static const char *const suffix[] = { "", "-modelcar", "-artifact" };

	snprintf(out, size, "%s:%lld%s", v->name, (long long)v->version,
		 suffix[f]);
	return 0;
}

int package_build(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct build_opts o = { 0 };
	struct cnai_model_version *v = NULL;
	struct cnai_oci_desc d;
	struct cnai_oci_platform plat;
	char tag[400];
	size_t i;
	int err;

	if ((err = parse_opts(&o, argc, argv, ctx)) != 0)
		goto cleanup;
	if ((err = cnai_image_check_platform(&o.image)) < 0 ||
	    (err = cnai_model_resolve(&v, ctx->store, o.model)) < 0)
		goto cleanup;
	if (o.image.format == CNAI_IMAGE_ARTIFACT && o.base) {
		err = cnai_error_set(CNAI_EUSAGE, "--base makes no sense with "
				     "--format artifact");
		goto cleanup;
	}
	if ((err = build(&d, ctx, v, &o)) < 0)
		goto cleanup;
	if (cnai_oci_platform_parse(&plat, o.image.platform
						   ? o.image.platform
						   : "linux/amd64") < 0)
		goto cleanup;
	if (!o.ntags) {
		default_tag(tag, sizeof(tag), v, o.image.format);
		err = cnai_oci_tag(cnai_store_oci(ctx->store), tag, &d,
				   o.image.format == CNAI_IMAGE_ARTIFACT
					   ? NULL
					   : &plat);
	}
	for (i = 0; !err && i < o.ntags; i++)
		err = cnai_oci_tag(cnai_store_oci(ctx->store), o.tags[i], &d,
				   o.image.format == CNAI_IMAGE_ARTIFACT
					   ? NULL
					   : &plat);
	if (err < 0 ||
	    (err = cnai_image_record(ctx->store, d.digest,
				     o.ntags ? o.tags[0] : tag,
				     v->manifest_digest)) < 0)
		goto cleanup;
	if (ctx->json)
		err = cnai_json_print(json_pack(
			"{s:s, s:s, s:s, s:I}", "digest", d.digest, "tag",
			o.ntags ? o.tags[0] : tag, "media_type", d.media_type,
			"size", (json_int_t)d.size));
	else
		printf("%s %s\n", o.ntags ? o.tags[0] : tag, d.digest);
	if (!err && o.push)
		err = package_push_image(ctx, d.digest, o.push, 4, 0, NULL,
					 NULL);
cleanup:
	cnai_model_version_free(v);
	free(o.tags);
	free(o.labels);
	free(o.annotations);
	return err > 0 ? 0 : err;
}
