/*
 * Building images of a model version. Every input that changes bytes is
 * fixed: entries sorted, owner 0:0, mtimes and `created` from
 * SOURCE_DATE_EPOCH (0 when unset), canonical JSON; so two stores build the
 * same digest from the same model. Layers whose inputs are unchanged (by
 * cnai_layer_key) come from the store's layer cache without recompressing.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/package/package.h"
#include "commands/package/progress.h"
#include "core/store/blobs.h"
#include "core/store/images.h"
#include "core/store/models.h"
#include "core/store/runs.h"
#include "registry/distribution.h"
#include "registry/docker_archive.h"
#include "registry/elfdeps.h"
#include "registry/layer.h"
#include "registry/oci.h"
#include "core/util/banned.h"

enum format { FMT_SERVE, FMT_MODELCAR, FMT_ARTIFACT };

struct build_opts {
	const char *model, *base, *platform, *user, *license, *push;
	const char **tags, **labels, **annotations;
	size_t ntags, nlabels, nannotations;
	enum format format;
	int64_t port;
	enum cnai_layer_compression compression;
	int64_t epoch;
	char created[32];
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

	o->port = 8080;
	o->user = "65532";
	while ((c = cnai_getopt(argc, argv, ":t:h", longopts,
				package_usage("build"), ctx)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "serve"))
				o->format = FMT_SERVE;
			else if (!strcmp(optarg, "modelcar"))
				o->format = FMT_MODELCAR;
			else if (!strcmp(optarg, "artifact"))
				o->format = FMT_ARTIFACT;
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
			o->platform = optarg;
			break;
		case 'l':
			err = push_str(&o->labels, &o->nlabels, optarg);
			break;
		case 'a':
			err = push_str(&o->annotations, &o->nannotations,
				       optarg);
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'P':
			if ((err = cnai_opt_int64(&o->port, optarg, "--port")) ==
				    0 &&
			    (o->port < 1 || o->port > 65535))
				err = cnai_error_set(CNAI_EUSAGE,
						     "--port: %lld is not 1 to "
						     "65535",
						     (long long)o->port);
			break;
		case 'c':
			err = cnai_layer_compression_parse(&o->compression,
							   optarg);
			break;
		case 'L':
			o->license = optarg;
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
	if ((err = check_kv(o->labels, o->nlabels, "--label")) < 0 ||
	    (err = check_kv(o->annotations, o->nannotations,
			    "--annotation")) < 0 ||
	    (err = check_user(o->user)) < 0 ||
	    (err = check_tags(o->tags, o->ntags)) < 0 ||
	    (err = cnai_source_date_epoch(&o->epoch, 0)) < 0)
		return err;
	cnai_oci_time(o->created, o->epoch);
	created_by(o->created_by, sizeof(o->created_by), argc, argv);
	return 0;
}

/* Builds (or reuses) one layer of `entries` in the store. */
static int layer(struct cnai_layer_info *out, struct cnai_store *st,
		 const struct cnai_layer_entry *entries, size_t n,
		 const struct build_opts *o)
{
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_store_cached_layer cached;
	char key[CNAI_DIGEST_LEN];
	int err;

	lo.compression = o->compression;
	lo.mtime = o->epoch;
	if ((err = cnai_layer_key(key, entries, n, &lo)) < 0)
		return err;
	if (cnai_store_layer_cache_get(&cached, st, key) == 0) {
		memset(out, 0, sizeof(*out));
		snprintf(out->digest, sizeof(out->digest), "%s", cached.digest);
		snprintf(out->diff_id, sizeof(out->diff_id), "%s",
			 cached.diff_id);
		out->size = cached.size;
		out->media_type = cnai_layer_media_type(o->compression);
		return 0;
	}
	cnai_error_clear();
	if ((err = cnai_oci_layer_build(out, cnai_store_oci(st), entries, n,
					&lo)) < 0)
		return err;
	snprintf(cached.digest, sizeof(cached.digest), "%s", out->digest);
	snprintf(cached.diff_id, sizeof(cached.diff_id), "%s", out->diff_id);
	snprintf(cached.media_type, sizeof(cached.media_type), "%s",
		 out->media_type);
	cached.size = out->size;
	return cnai_store_layer_cache_put(st, key, &cached);
}

/* The model's files under `prefix` ("/models/NAME" or "/models"). */
static int model_layer(struct cnai_layer_info *out, struct cnai_store *st,
		       const struct cnai_model_version *v, const char *prefix,
		       const struct build_opts *o)
{
	struct cnai_layer_entry *e = calloc(v->nfiles ? v->nfiles : 1,
					    sizeof(*e));
	struct cnai_buf *src = calloc(v->nfiles ? v->nfiles : 1, sizeof(*src));
	char **paths = calloc(v->nfiles ? v->nfiles : 1, sizeof(*paths));
	size_t i;
	int err = 0;

	if (!e || !src || !paths) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < v->nfiles && !err; i++) {
		cnai_buf_init(&src[i]);
		if ((err = cnai_blob_path(&src[i], st, v->files[i].digest)) < 0)
			break;
		if (asprintf(&paths[i], "%s/%s", prefix, v->files[i].path) < 0)
			err = cnai_error_set(CNAI_ERROR, "out of memory");
		e[i].src = src[i].buf;
		e[i].path = paths[i];
		e[i].mode = 0644; /* blobs are 0444 in the store */
	}
	if (!err)
		err = layer(out, st, e, v->nfiles, o);
cleanup:
	for (i = 0; src && paths && i < v->nfiles; i++) {
		cnai_buf_release(&src[i]);
		free(paths[i]);
	}
	free(src);
	free(paths);
	free(e);
	return err;
}

/* The cnai binary and every library it needs, loader included. */
static int runtime_layer(struct cnai_layer_info *out, struct cnai_store *st,
			 const struct build_opts *o)
{
	struct cnai_elf_deps deps = { 0 };
	struct cnai_layer_entry *e = NULL;
	char self[PATH_MAX];
	ssize_t n;
	size_t i;
	int err;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot find the cnai "
					    "binary");
	self[n] = '\0';
	/* OpenBLAS (gpu/cpu.c) and libmicrohttpd (core/serve, through
	 * core/util/lazy.h) are dlopen'ed: no DT_NEEDED names them, and
	 * `cnai serve` needs both. */
	if ((err = cnai_elf_deps(&deps, self)) < 0 ||
	    (err = cnai_elf_deps_add_dlopen(&deps, "libopenblas.so.0")) < 0 ||
	    (err = cnai_elf_deps_add_dlopen(&deps, "libmicrohttpd.so.12")) < 0)
		goto cleanup;
	if (!(e = calloc(deps.n + 1, sizeof(*e)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	e[0].src = self;
	e[0].path = "/usr/local/bin/cnai";
	e[0].mode = 0755;
	for (i = 0; i < deps.n; i++) {
		e[i + 1].src = deps.files[i].source;
		e[i + 1].path = deps.files[i].path;
		e[i + 1].mode = 0755;
	}
	err = layer(out, st, e, deps.n + 1, o);
cleanup:
	free(e);
	cnai_elf_deps_release(&deps);
	return err;
}

/* The OCI and cnai annotations (and labels) describing the model. */
static json_t *describe(struct cnai_store *st,
			const struct cnai_model_version *v,
			const struct build_opts *o)
{
	json_t *a = json_object();
	struct cnai_run *run = NULL;
	char version[32];
	size_t i;

	snprintf(version, sizeof(version), "%lld", (long long)v->version);
	json_object_set_new(a, "org.opencontainers.image.created",
			    json_string(o->created));
	json_object_set_new(a, "org.opencontainers.image.title",
			    json_string(v->name));
	json_object_set_new(a, "org.opencontainers.image.version",
			    json_string(version));
	if (o->license)
		json_object_set_new(a, "org.opencontainers.image.licenses",
				    json_string(o->license));
	json_object_set_new(a, "ai.cnai.model.name", json_string(v->name));
	json_object_set_new(a, "ai.cnai.model.version", json_string(version));
	json_object_set_new(a, "ai.cnai.model.digest",
			    json_string(v->manifest_digest));
	if (v->run) {
		json_object_set_new(a, "ai.cnai.run.id", json_string(v->run));
		if (cnai_run_lookup(&run, st, v->run) == 0) {
			if (run->git_remote)
				json_object_set_new(
					a, "org.opencontainers.image.source",
					json_string(run->git_remote));
			if (run->git_commit)
				json_object_set_new(
					a, "org.opencontainers.image.revision",
					json_string(run->git_commit));
		}
		cnai_error_clear();
		cnai_run_free(run);
	}
	for (i = 0; i < o->nannotations; i++) {
		const char *eq = strchr(o->annotations[i], '=');
		char *k = strndup(o->annotations[i],
				  (size_t)(eq - o->annotations[i]));

		json_object_set_new(a, k, json_string(eq + 1));
		free(k);
	}
	return a;
}

/* Label list "K=V" from the annotations plus --label (they win). */
static const char **labels_of(json_t *annotations, const struct build_opts *o,
			      char ***owned, size_t *nowned)
{
	size_t n = json_object_size(annotations) + o->nlabels, i = 0, j;
	const char **list = calloc(n + 1, sizeof(*list));
	const char *k;
	json_t *v;

	*owned = calloc(n + 1, sizeof(**owned));
	*nowned = 0;
	if (!list || !*owned)
		return list;
	json_object_foreach(annotations, k, v) {
		if (asprintf(&(*owned)[*nowned], "%s=%s", k,
			     json_string_value(v)) >= 0)
			list[i++] = (*owned)[(*nowned)++];
	}
	for (j = 0; j < o->nlabels; j++)
		list[i++] = o->labels[j];
	list[i] = NULL;
	return list;
}

/*
 * The platform this cnai binary is built for. A serve image carries the
 * binary itself, so it runs on this platform only.
 */
#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define HOST_ARCH "ppc64le"
#elif defined(__s390x__)
#define HOST_ARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_ARCH "riscv64"
#elif defined(__i386__)
#define HOST_ARCH "386"
#else
#define HOST_ARCH "unknown"
#endif

static int check_serve_platform(const struct build_opts *o)
{
	static const struct cnai_oci_platform host = { "linux", HOST_ARCH, "" };
	struct cnai_oci_platform want;
	int err;

	if (o->format != FMT_SERVE || !o->platform)
		return 0;
	if ((err = cnai_oci_platform_parse(&want, o->platform)) < 0)
		return err;
	if (strcmp(want.os, host.os) ||
	    strcmp(want.architecture, host.architecture))
		return cnai_error_set(CNAI_EUSAGE, "--platform %s: a serve "
				      "image holds this cnai binary, which "
				      "runs on linux/%s only; use --format "
				      "modelcar for other platforms",
				      o->platform, HOST_ARCH);
	return 0;
}

/* CNAI_EINVALID unless a base config is for the platform wanted. */
static int check_base_platform(json_t *config, const char *base,
			       const struct cnai_oci_platform *want)
{
	struct cnai_oci_platform have = { "", "", "" };
	const char *os = json_string_value(json_object_get(config, "os"));
	const char *ar = json_string_value(json_object_get(config,
							   "architecture"));
	const char *va = json_string_value(json_object_get(config, "variant"));

	snprintf(have.os, sizeof(have.os), "%s", os ? os : "");
	snprintf(have.architecture, sizeof(have.architecture), "%s",
		 ar ? ar : "");
	snprintf(have.variant, sizeof(have.variant), "%s", va ? va : "");
	if (cnai_oci_platform_match(want, &have))
		return 0;
	return cnai_error_set(CNAI_EINVALID, "base image '%s' is for %s/%s%s%s, "
			      "not %s/%s%s%s; pick a base for that platform "
			      "or pass --platform", base, have.os,
			      have.architecture, have.variant[0] ? "/" : "",
			      have.variant, want->os, want->architecture,
			      want->variant[0] ? "/" : "", want->variant);
}

/*
 * "DIR[:REF]" (after "oci:", as skopeo writes it: the first ':' ends the
 * folder): an image of another OCI layout, copied into the store (listed
 * in its index.json untagged, so gc keeps it). Without REF the layout must
 * hold one image.
 */
/* "PATH[:REF]" as skopeo spells its transports: the first ':' ends the
 * path; returns REF, or NULL when there is none. */
static const char *split_path_ref(char path[PATH_MAX], const char *spec)
{
	const char *colon = strchr(spec, ':');

	snprintf(path, PATH_MAX, "%.*s",
		 (int)(colon ? (size_t)(colon - spec) : strlen(spec)), spec);
	return colon ? colon + 1 : NULL;
}

static int base_from_layout(struct cnai_oci_desc *out, struct cnai_store *st,
			    const char *spec)
{
	char dir[PATH_MAX];
	const char *ref = split_path_ref(dir, spec);
	json_t *index = NULL, *list;
	int err;

	if (ref) {
		if ((err = cnai_oci_resolve(out, dir, ref)) < 0)
			return err;
	} else {
		if ((err = cnai_oci_index_read(&index, dir)) < 0)
			return err;
		list = json_object_get(index, "manifests");
		if (json_array_size(list) != 1)
			err = cnai_error_set(CNAI_EINVALID, "layout '%s' holds "
					     "%zu images; name one as "
					     "oci:%s:<tag>", dir,
					     json_array_size(list), dir);
		else
			err = cnai_oci_desc_parse(out, json_array_get(list, 0));
		json_decref(index);
		if (err < 0)
			return err;
	}
	return cnai_oci_copy_image(cnai_store_oci(st), dir, out, NULL);
}

/*
 * A `docker save` archive: "FILE[:REF]" after "docker-archive:" (REF a
 * RepoTag or "@N", as skopeo says), or a plain path to one. Its image is
 * imported into the store, uncompressed layers compressed as ours are.
 */
static int base_from_archive(struct cnai_oci_desc *out, struct cnai_store *st,
			     const char *spec, int with_ref,
			     const struct build_opts *o)
{
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	char file[PATH_MAX];
	const char *ref = NULL;

	if (with_ref)
		ref = split_path_ref(file, spec);
	else
		snprintf(file, sizeof(file), "%s", spec);
	lo.compression = o->compression;
	return cnai_docker_archive_import(out, cnai_store_oci(st), file, ref,
					  &lo);
}

/* A --base that is no prefix's but a path to a tar: a name ending in .tar
 * (.tar.gz, .tgz), or a file that exists. Store tags and registry
 * references are neither. */
static int is_archive_path(const char *base)
{
	static const char *const ends[] = { ".tar", ".tar.gz", ".tgz" };
	size_t len = strlen(base), i;
	struct stat sb;

	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		if (len > strlen(ends[i]) &&
		    !strcmp(base + len - strlen(ends[i]), ends[i]))
			return 1;
	return stat(base, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Pulls a registry base into the store, tagged by its reference. */
static int base_from_registry(struct cnai_oci_desc *out, struct cnai_ctx *ctx,
			      const char *ref, const char *platform)
{
	struct cnai_registry_opts ro = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_store *st = ctx->store;
	struct package_progress *bar;
	char digest[CNAI_DIGEST_LEN];
	int err;

	ro.platform = platform ? platform : "linux/amd64";
	ro.progress = package_progress_update;
	ro.progress_ctx = bar = package_progress_new(ctx);
	err = cnai_registry_pull(digest, ref, cnai_store_oci(st), ref, &ro);
	package_progress_free(bar);
	if (err < 0 || (err = cnai_image_record(st, digest, ref, NULL)) < 0 ||
	    (err = package_record_blobs(ctx, digest, ref)) < 0)
		return err;
	return cnai_oci_resolve(out, cnai_store_oci(st), digest);
}

/* The base image's manifest and config, or a fresh config for scratch. */
static int load_base(json_t **config, json_t **layers, struct cnai_ctx *ctx,
		     const struct build_opts *o)
{
	struct cnai_store *st = ctx->store;
	static const struct cnai_oci_platform amd64 = { "linux", "amd64", "" };
	struct cnai_oci_platform want, *wp = NULL;
	struct cnai_oci_desc root, img;
	struct cnai_oci_desc cfg_d;
	json_t *man = NULL;
	int archive, err;

	*config = NULL;
	*layers = json_array();
	if (o->platform) {
		if ((err = cnai_oci_platform_parse(&want, o->platform)) < 0)
			return err;
		wp = &want;
	}
	if (!o->base || !strcmp(o->base, "scratch")) {
		struct cnai_oci_image_opts io = { 0 };

		io.os = wp ? wp->os : "linux";
		io.architecture = wp ? wp->architecture : "amd64";
		io.created = o->created;
		return cnai_oci_config_new(config, &io);
	}
	archive = !strncmp(o->base, "docker-archive:", 15);
	if (!strncmp(o->base, "oci:", 4)) {
		if ((err = base_from_layout(&root, st, o->base + 4)) < 0)
			return err;
	} else if (archive || is_archive_path(o->base)) {
		if ((err = base_from_archive(&root, st,
					     o->base + (archive ? 15 : 0),
					     archive, o)) < 0)
			return err;
	} else if ((err = cnai_oci_resolve(&root, cnai_store_oci(st),
					   o->base)) < 0) {
		/* Not in the store: a registry reference ("host/repo:tag")
		 * is pulled into it first, as `cnai package pull` would. */
		if (!strchr(o->base, '/'))
			return cnai_error_set(err, "base image '%s' not found "
					      "in the store; 'cnai package "
					      "pull' it first", o->base);
		cnai_error_clear();
		if ((err = base_from_registry(&root, ctx, o->base,
					      o->platform)) < 0)
			return err;
	}
	if ((err = cnai_oci_resolve_platform(&img, cnai_store_oci(st), &root,
					     wp)) < 0 ||
	    (err = cnai_oci_json_read(&man, cnai_store_oci(st), img.digest)) <
		    0)
		return err;
	if ((err = cnai_oci_desc_parse(&cfg_d,
				       json_object_get(man, "config"))) < 0 ||
	    (err = cnai_oci_json_read(config, cnai_store_oci(st),
				      cfg_d.digest)) < 0 ||
	    (err = check_base_platform(*config, o->base, wp ? wp : &amd64)) <
		    0) {
		json_decref(man);
		return err;
	}
	json_decref(*layers);
	*layers = json_incref(json_object_get(man, "layers"));
	json_decref(man);
	if (!json_is_array(*layers)) {
		json_decref(*layers);
		*layers = json_array();
	}
	return 0;
}

/* Records a layer of ours in the config and the list for the manifest. */
static int add_layer(json_t *config, json_t *layers,
		     const struct cnai_layer_info *l, const struct build_opts *o,
		     const char *comment)
{
	struct cnai_oci_desc d;
	int err;

	snprintf(d.media_type, sizeof(d.media_type), "%s", l->media_type);
	snprintf(d.digest, sizeof(d.digest), "%s", l->digest);
	d.size = l->size;
	if ((err = cnai_oci_config_add_layer(config, l->diff_id, o->created,
					     o->created_by, comment)) < 0)
		return err;
	return json_array_append_new(layers, cnai_oci_desc_json(&d)) < 0
		       ? cnai_error_set(CNAI_ERROR, "out of memory")
		       : 0;
}

static int build_image(struct cnai_oci_desc *out, struct cnai_ctx *ctx,
		       const struct cnai_model_version *v,
		       const struct build_opts *o)
{
	struct cnai_store *st = ctx->store;
	struct cnai_layer_info runtime, model;
	struct cnai_oci_image_opts io = { 0 };
	struct cnai_oci_desc cfg_d;
	json_t *config = NULL, *base_layers = NULL, *manifest = NULL,
	       *annotations = describe(st, v, o), *l;
	char models_dir[300], port[16], env_model[200], **owned = NULL;
	const char *entrypoint[4], *ports[2], *env[4], *cmd[5], **labels = NULL;
	char env_version[64], port_arg[16];
	size_t i, nowned = 0;
	int err;

	snprintf(models_dir, sizeof(models_dir), "/models/%s", v->name);
	if ((err = load_base(&config, &base_layers, ctx, o)) < 0)
		goto cleanup;
	if (o->format == FMT_SERVE &&
	    ((err = runtime_layer(&runtime, st, o)) < 0 ||
	     (err = model_layer(&model, st, v, models_dir, o)) < 0))
		goto cleanup;
	if (o->format == FMT_MODELCAR &&
	    (err = model_layer(&model, st, v, "/models", o)) < 0)
		goto cleanup;
	labels = labels_of(annotations, o, &owned, &nowned);
	io.labels = labels;
	io.created = o->created;
	if (o->format == FMT_SERVE) {
		entrypoint[0] = "/usr/local/bin/cnai";
		entrypoint[1] = "serve";
		entrypoint[2] = models_dir;
		entrypoint[3] = NULL;
		snprintf(port, sizeof(port), "%lld/tcp", (long long)o->port);
		ports[0] = port;
		ports[1] = NULL;
		snprintf(env_model, sizeof(env_model), "CNAI_MODEL=%s",
			 v->name);
		snprintf(env_version, sizeof(env_version),
			 "CNAI_MODEL_VERSION=%lld", (long long)v->version);
		env[0] = "PATH=/usr/local/bin:/usr/bin:/bin";
		env[1] = env_model;
		env[2] = env_version;
		env[3] = NULL;
		/* Cmd, not Entrypoint: `docker run -p` reaches the server, and
		 * Kubernetes `args` (cnai deploy) replace these. */
		snprintf(port_arg, sizeof(port_arg), "%lld",
			 (long long)o->port);
		cmd[0] = "--host";
		cmd[1] = "0.0.0.0";
		cmd[2] = "--port";
		cmd[3] = port_arg;
		cmd[4] = NULL;
		io.cmd = cmd;
		io.entrypoint = entrypoint;
		io.exposed_ports = ports;
		io.env = env;
		io.user = o->user;
		io.working_dir = "/";
	}
	if ((err = cnai_oci_config_set(config, &io)) < 0)
		goto cleanup;
	/* Base layers first, then ours; the config last, once it lists
	 * every diff_id, so no intermediate config blob is left behind. */
	if (o->format == FMT_SERVE &&
	    ((err = add_layer(config, base_layers, &runtime, o,
			      "cnai and its shared libraries")) < 0 ||
	     (err = add_layer(config, base_layers, &model, o,
			      "model files")) < 0))
		goto cleanup;
	if (o->format == FMT_MODELCAR &&
	    (err = add_layer(config, base_layers, &model, o,
			     "model files (modelcar)")) < 0)
		goto cleanup;
	if ((err = cnai_oci_json_put(&cfg_d, cnai_store_oci(st), config,
				     CNAI_MEDIA_OCI_CONFIG)) < 0 ||
	    (err = cnai_oci_manifest_new(&manifest, &cfg_d, NULL)) < 0)
		goto cleanup;
	json_array_foreach(base_layers, i, l) {
		struct cnai_oci_desc d;

		if ((err = cnai_oci_desc_parse(&d, l)) < 0 ||
		    (err = cnai_oci_manifest_add_layer(manifest, &d, NULL)) < 0)
			goto cleanup;
	}
	json_object_set(manifest, "annotations", annotations);
	err = cnai_oci_json_put(out, cnai_store_oci(st), manifest, NULL);
cleanup:
	for (i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(labels);
	json_decref(config);
	json_decref(base_layers);
	json_decref(manifest);
	json_decref(annotations);
	return err;
}

/* The version's ModelPack manifest, with our annotations added. */
static int build_artifact(struct cnai_oci_desc *out, struct cnai_store *st,
			  const struct cnai_model_version *v,
			  const struct build_opts *o)
{
	json_t *man = NULL, *annotations = describe(st, v, o), *a;
	const char *k;
	json_t *val;
	int err;

	if ((err = cnai_oci_json_read(&man, cnai_store_oci(st),
				      v->manifest_digest)) < 0)
		goto cleanup;
	a = json_object_get(man, "annotations");
	if (!json_is_object(a)) {
		a = json_object();
		json_object_set_new(man, "annotations", a);
	}
	json_object_foreach(annotations, k, val)
		json_object_set(a, k, val);
	err = cnai_oci_json_put(out, cnai_store_oci(st), man, NULL);
cleanup:
	json_decref(man);
	json_decref(annotations);
	return err;
}

static int default_tag(char *out, size_t size,
		       const struct cnai_model_version *v, enum format f)
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
	if ((err = check_serve_platform(&o)) < 0 ||
	    (err = cnai_model_resolve(&v, ctx->store, o.model)) < 0)
		goto cleanup;
	if (o.format == FMT_ARTIFACT && o.base) {
		err = cnai_error_set(CNAI_EUSAGE, "--base makes no sense with "
				     "--format artifact");
		goto cleanup;
	}
	err = o.format == FMT_ARTIFACT ? build_artifact(&d, ctx->store, v, &o)
				       : build_image(&d, ctx, v, &o);
	if (err < 0)
		goto cleanup;
	if (cnai_oci_platform_parse(&plat, o.platform ? o.platform
						      : "linux/amd64") < 0)
		goto cleanup;
	if (!o.ntags) {
		default_tag(tag, sizeof(tag), v, o.format);
		err = cnai_oci_tag(cnai_store_oci(ctx->store), tag, &d,
				   o.format == FMT_ARTIFACT ? NULL : &plat);
	}
	for (i = 0; !err && i < o.ntags; i++)
		err = cnai_oci_tag(cnai_store_oci(ctx->store), o.tags[i], &d,
				   o.format == FMT_ARTIFACT ? NULL : &plat);
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
