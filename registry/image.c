/*
 * The image builder. A build is: the base's config and layers (or a fresh
 * config for scratch), our layers (each looked up in the caller's cache
 * by cnai_layer_key before it is compressed), the config completed with
 * every diff_id and stored once, and the manifest stored last; so a failed
 * build leaves only blobs that gc removes, never a tag or a half-listed
 * config.
 */
#include "registry/image.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util/error.h"
#include "registry/docker_archive.h"
#include "registry/elfdeps.h"
#include "core/util/banned.h"

/* What one build carries around: the options and the timestamp made of
 * their epoch. */
struct build {
	const char *layout;
	const struct cnai_image_opts *o;
	char created[32];
};

/* Builds (or takes from the cache) one layer of `entries`. */
static int layer(struct cnai_layer_info *out, const struct build *b,
		 const struct cnai_layer_entry *entries, size_t n)
{
	const struct cnai_image_cache *cache = b->o->cache;
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	char key[CNAI_DIGEST_LEN];
	int err;

	lo.compression = b->o->compression;
	lo.mtime = b->o->epoch;
	if ((err = cnai_layer_key(key, entries, n, &lo)) < 0)
		return err;
	memset(out, 0, sizeof(*out));
	if (cache && cache->get(cache->arg, key, out) == 0) {
		out->media_type = cnai_layer_media_type(b->o->compression);
		return 0;
	}
	cnai_error_clear();
	if ((err = cnai_oci_layer_build(out, b->layout, entries, n, &lo)) < 0)
		return err;
	return cache ? cache->put(cache->arg, key, out) : 0;
}

/* The model's files under `prefix` ("/models/NAME" or "/models"). */
static int model_layer(struct cnai_layer_info *out, const struct build *b,
		       const struct cnai_image_model *m, const char *prefix)
{
	struct cnai_layer_entry *e = calloc(m->nfiles ? m->nfiles : 1,
					    sizeof(*e));
	char **paths = calloc(m->nfiles ? m->nfiles : 1, sizeof(*paths));
	size_t i;
	int err = 0;

	if (!e || !paths) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < m->nfiles && !err; i++) {
		if (asprintf(&paths[i], "%s/%s", prefix, m->files[i].path) < 0)
			err = cnai_error_set(CNAI_ERROR, "out of memory");
		e[i].src = m->files[i].src;
		e[i].path = paths[i];
		e[i].mode = 0644; /* blobs are 0444 in the store */
	}
	if (!err)
		err = layer(out, b, e, m->nfiles);
cleanup:
	for (i = 0; paths && i < m->nfiles; i++)
		free(paths[i]);
	free(paths);
	free(e);
	return err;
}

/* The cnai binary and every library it needs, loader included. */
static int runtime_layer(struct cnai_layer_info *out, const struct build *b)
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
	err = layer(out, b, e, deps.n + 1);
cleanup:
	free(e);
	cnai_elf_deps_release(&deps);
	return err;
}

/* The OCI and cnai annotations (and labels) describing the model. */
static json_t *describe(const struct cnai_image_model *m,
			const struct build *b)
{
	const struct cnai_image_opts *o = b->o;
	json_t *a = json_object();
	char version[32];
	size_t i;

	snprintf(version, sizeof(version), "%lld", (long long)m->version);
	json_object_set_new(a, "org.opencontainers.image.created",
			    json_string(b->created));
	json_object_set_new(a, "org.opencontainers.image.title",
			    json_string(m->name));
	json_object_set_new(a, "org.opencontainers.image.version",
			    json_string(version));
	if (o->license)
		json_object_set_new(a, "org.opencontainers.image.licenses",
				    json_string(o->license));
	json_object_set_new(a, "ai.cnai.model.name", json_string(m->name));
	json_object_set_new(a, "ai.cnai.model.version", json_string(version));
	json_object_set_new(a, "ai.cnai.model.digest",
			    json_string(m->manifest_digest));
	if (m->run_id) {
		json_object_set_new(a, "ai.cnai.run.id",
				    json_string(m->run_id));
		if (m->git_remote)
			json_object_set_new(a,
					    "org.opencontainers.image.source",
					    json_string(m->git_remote));
		if (m->git_commit)
			json_object_set_new(a,
					    "org.opencontainers.image.revision",
					    json_string(m->git_commit));
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

/* Label list "K=V" from the annotations plus the labels (they win). */
static const char **labels_of(json_t *annotations,
			      const struct cnai_image_opts *o, char ***owned,
			      size_t *nowned)
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

int cnai_image_check_platform(const struct cnai_image_opts *o)
{
	static const struct cnai_oci_platform host = { "linux", HOST_ARCH, "" };
	struct cnai_oci_platform want;
	int err;

	if (o->format != CNAI_IMAGE_SERVE || !o->platform)
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
	return cnai_error_set(CNAI_EINVALID,
			      "base image '%s' is for %s/%s%s%s, "
			      "not %s/%s%s%s; pick a base for that platform "
			      "or pass --platform",
			      base, have.os, have.architecture,
			      have.variant[0] ? "/" : "", have.variant,
			      want->os, want->architecture,
			      want->variant[0] ? "/" : "", want->variant);
}

/* "PATH[:REF]" as skopeo spells its transports: the first ':' ends the
 * path; returns REF, or NULL when there is none. */
static const char *split_path_ref(char path[PATH_MAX], const char *spec)
{
	const char *colon = strchr(spec, ':');

	snprintf(path, PATH_MAX, "%.*s",
		 (int)(colon ? (size_t)(colon - spec) : strlen(spec)), spec);
	return colon ? colon + 1 : NULL;
}

/*
 * "DIR[:REF]" (after "oci:", as skopeo writes it: the first ':' ends the
 * folder): an image of another OCI layout, copied into `layout` (listed
 * in its index.json untagged, so gc keeps it). Without REF the layout must
 * hold one image.
 */
static int base_from_layout(struct cnai_oci_desc *out, const char *layout,
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
	return cnai_oci_copy_image(layout, dir, out, NULL);
}

/*
 * A `docker save` archive: "FILE[:REF]" after "docker-archive:" (REF a
 * RepoTag or "@N", as skopeo says), or a plain path to one. Its image is
 * imported, uncompressed layers compressed as ours are.
 */
static int base_from_archive(struct cnai_oci_desc *out, const char *layout,
			     const char *spec, int with_ref,
			     enum cnai_layer_compression compression)
{
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	char file[PATH_MAX];
	const char *ref = NULL;

	if (with_ref)
		ref = split_path_ref(file, spec);
	else
		snprintf(file, sizeof(file), "%s", spec);
	lo.compression = compression;
	return cnai_docker_archive_import(out, layout, file, ref, &lo);
}

/* A base that is no prefix's but a path to a tar: a name ending in .tar
 * (.tar.gz, .tgz), or a file that exists. Tags and registry references
 * are neither. */
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

int cnai_image_base_is_file(const char *base)
{
	return !strncmp(base, "oci:", 4) ||
	       !strncmp(base, "docker-archive:", 15) || is_archive_path(base);
}

int cnai_image_base_import(struct cnai_oci_desc *root, const char *layout,
			   const char *base,
			   enum cnai_layer_compression compression)
{
	int archive = !strncmp(base, "docker-archive:", 15);

	if (!strncmp(base, "oci:", 4))
		return base_from_layout(root, layout, base + 4);
	return base_from_archive(root, layout, base + (archive ? 15 : 0),
				 archive, compression);
}

/* The base image's config and layers, or a fresh config for scratch. */
static int load_base(json_t **config, json_t **layers, const struct build *b,
		     const struct cnai_oci_desc *root, const char *base_name)
{
	static const struct cnai_oci_platform amd64 = { "linux", "amd64", "" };
	struct cnai_oci_platform want, *wp = NULL;
	struct cnai_oci_desc img, cfg_d;
	json_t *man = NULL;
	int err;

	*config = NULL;
	*layers = json_array();
	if (b->o->platform) {
		if ((err = cnai_oci_platform_parse(&want, b->o->platform)) < 0)
			return err;
		wp = &want;
	}
	if (!root) {
		struct cnai_oci_image_opts io = { 0 };

		io.os = wp ? wp->os : "linux";
		io.architecture = wp ? wp->architecture : "amd64";
		io.created = b->created;
		return cnai_oci_config_new(config, &io);
	}
	if ((err = cnai_oci_resolve_platform(&img, b->layout, root, wp)) < 0 ||
	    (err = cnai_oci_json_read(&man, b->layout, img.digest)) < 0)
		return err;
	if ((err = cnai_oci_desc_parse(&cfg_d,
				       json_object_get(man, "config"))) < 0 ||
	    (err = cnai_oci_json_read(config, b->layout, cfg_d.digest)) < 0 ||
	    (err = check_base_platform(*config, base_name,
				       wp ? wp : &amd64)) < 0) {
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
		     const struct cnai_layer_info *l, const struct build *b,
		     const char *comment)
{
	struct cnai_oci_desc d;
	int err;

	snprintf(d.media_type, sizeof(d.media_type), "%s", l->media_type);
	/* Both CNAI_DIGEST_LEN arrays: a copy, no truncation to consider. */
	memcpy(d.digest, l->digest, sizeof(d.digest));
	d.size = l->size;
	if ((err = cnai_oci_config_add_layer(config, l->diff_id, b->created,
					     b->o->created_by, comment)) < 0)
		return err;
	return json_array_append_new(layers, cnai_oci_desc_json(&d)) < 0
		       ? cnai_error_set(CNAI_ERROR, "out of memory")
		       : 0;
}

/* The strings a serve image's config points at, kept alive while it is
 * set. */
struct serve_config {
	char models_dir[300], port[16], env_model[200], env_version[64];
	char port_arg[16];
	const char *entrypoint[4], *ports[2], *env[4], *cmd[5];
};

/* `cnai serve` of the model as the config's command, its port exposed. */
static void serve_config(struct cnai_oci_image_opts *io,
			 struct serve_config *s,
			 const struct cnai_image_model *m,
			 const struct cnai_image_opts *o)
{
	s->entrypoint[0] = "/usr/local/bin/cnai";
	s->entrypoint[1] = "serve";
	s->entrypoint[2] = s->models_dir;
	s->entrypoint[3] = NULL;
	snprintf(s->port, sizeof(s->port), "%lld/tcp", (long long)o->port);
	s->ports[0] = s->port;
	s->ports[1] = NULL;
	snprintf(s->env_model, sizeof(s->env_model), "CNAI_MODEL=%s", m->name);
	snprintf(s->env_version, sizeof(s->env_version),
		 "CNAI_MODEL_VERSION=%lld", (long long)m->version);
	s->env[0] = "PATH=/usr/local/bin:/usr/bin:/bin";
	s->env[1] = s->env_model;
	s->env[2] = s->env_version;
	s->env[3] = NULL;
	/* Cmd, not Entrypoint: `docker run -p` reaches the server, and
	 * Kubernetes `args` (cnai deploy) replace these. */
	snprintf(s->port_arg, sizeof(s->port_arg), "%lld", (long long)o->port);
	s->cmd[0] = "--host";
	s->cmd[1] = "0.0.0.0";
	s->cmd[2] = "--port";
	s->cmd[3] = s->port_arg;
	s->cmd[4] = NULL;
	io->cmd = s->cmd;
	io->entrypoint = s->entrypoint;
	io->exposed_ports = s->ports;
	io->env = s->env;
	io->user = o->user;
	io->working_dir = "/";
}

/*
 * Our layers, built (or taken from the cache) before the config is
 * touched: the runtime and the model's files for serve, the model's files
 * alone for a modelcar. `comment`s are for the config's history.
 */
static int our_layers(struct cnai_layer_info out[2], const char *comment[2],
		      size_t *n, const struct build *b,
		      const struct cnai_image_model *m, const char *models_dir)
{
	int err;

	if (b->o->format == CNAI_IMAGE_MODELCAR) {
		*n = 1;
		comment[0] = "model files (modelcar)";
		return model_layer(&out[0], b, m, "/models");
	}
	*n = 2;
	comment[0] = "cnai and its shared libraries";
	comment[1] = "model files";
	if ((err = runtime_layer(&out[0], b)) < 0)
		return err;
	return model_layer(&out[1], b, m, models_dir);
}

static int build_image(struct cnai_oci_desc *out, const struct build *b,
		       const struct cnai_image_model *m,
		       const struct cnai_oci_desc *base, const char *base_name)
{
	struct cnai_oci_image_opts io = { 0 };
	struct cnai_layer_info ours[2];
	const char *comment[2];
	struct serve_config sc;
	struct cnai_oci_desc cfg_d;
	json_t *config = NULL, *layers = NULL, *manifest = NULL,
	       *annotations = describe(m, b), *l;
	const char **labels = NULL;
	char **owned = NULL;
	size_t i, nours = 0, nowned = 0;
	int err;

	snprintf(sc.models_dir, sizeof(sc.models_dir), "/models/%s", m->name);
	if ((err = load_base(&config, &layers, b, base, base_name)) < 0 ||
	    (err = our_layers(ours, comment, &nours, b, m,
			      sc.models_dir)) < 0)
		goto cleanup;
	labels = labels_of(annotations, b->o, &owned, &nowned);
	io.labels = labels;
	io.created = b->created;
	if (b->o->format == CNAI_IMAGE_SERVE)
		serve_config(&io, &sc, m, b->o);
	if ((err = cnai_oci_config_set(config, &io)) < 0)
		goto cleanup;
	/* Base layers first, then ours; the config last, once it lists
	 * every diff_id, so no intermediate config blob is left behind. */
	for (i = 0; i < nours; i++)
		if ((err = add_layer(config, layers, &ours[i], b,
				     comment[i])) < 0)
			goto cleanup;
	if ((err = cnai_oci_json_put(&cfg_d, b->layout, config,
				     CNAI_MEDIA_OCI_CONFIG)) < 0 ||
	    (err = cnai_oci_manifest_new(&manifest, &cfg_d, NULL)) < 0)
		goto cleanup;
	json_array_foreach(layers, i, l) {
		struct cnai_oci_desc d;

		if ((err = cnai_oci_desc_parse(&d, l)) < 0 ||
		    (err = cnai_oci_manifest_add_layer(manifest, &d, NULL)) < 0)
			goto cleanup;
	}
	json_object_set(manifest, "annotations", annotations);
	err = cnai_oci_json_put(out, b->layout, manifest, NULL);
cleanup:
	for (i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(labels);
	json_decref(config);
	json_decref(layers);
	json_decref(manifest);
	json_decref(annotations);
	return err;
}

/* The version's ModelPack manifest, with our annotations added. */
static int build_artifact(struct cnai_oci_desc *out, const struct build *b,
			  const struct cnai_image_model *m)
{
	json_t *man = NULL, *annotations = describe(m, b), *a;
	const char *k;
	json_t *val;
	int err;

	if ((err = cnai_oci_json_read(&man, b->layout,
				      m->manifest_digest)) < 0)
		goto cleanup;
	a = json_object_get(man, "annotations");
	if (!json_is_object(a)) {
		a = json_object();
		json_object_set_new(man, "annotations", a);
	}
	json_object_foreach(annotations, k, val)
		json_object_set(a, k, val);
	err = cnai_oci_json_put(out, b->layout, man, NULL);
cleanup:
	json_decref(man);
	json_decref(annotations);
	return err;
}

int cnai_image_build(struct cnai_oci_desc *out, const char *layout,
		     const struct cnai_image_model *m,
		     const struct cnai_oci_desc *base, const char *base_name,
		     const struct cnai_image_opts *o)
{
	struct build b = { layout, o, "" };

	cnai_oci_time(b.created, o->epoch);
	if (o->format == CNAI_IMAGE_ARTIFACT)
		return build_artifact(out, &b, m);
	return build_image(out, &b, m, base, base_name);
}
