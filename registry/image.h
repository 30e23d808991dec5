/*
 * Images of a model, assembled in an OCI image layout (see oci.h): the
 * serve image (the model under /models/NAME, the running cnai binary and
 * every shared library it needs, `cnai serve` as its command), KServe's
 * modelcar (the model files under /models only), or the model's
 * ModelPack artifact manifest, annotated. The builder knows layouts and
 * files only: where the model's files come from, which run made it and
 * where layers are cached are the caller's to say (a store, for cnai).
 *
 * Every input that changes bytes is fixed: entries sorted, owner 0:0,
 * mtimes and `created` from the epoch given (SOURCE_DATE_EPOCH), canonical
 * JSON; so two layouts build the same digest from the same model.
 */
#ifndef CNAI_REGISTRY_IMAGE_H
#define CNAI_REGISTRY_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "registry/layer.h"
#include "registry/oci.h"

enum cnai_image_format {
	CNAI_IMAGE_SERVE,
	CNAI_IMAGE_MODELCAR,
	CNAI_IMAGE_ARTIFACT,
};

/* One file of the model: `src` on disk, `path` inside the model. */
struct cnai_image_file {
	const char *src;
	const char *path;
};

/* The model version an image is of; strings borrowed. */
struct cnai_image_model {
	const char *name;
	int64_t version;
	const char *manifest_digest; /* its ModelPack manifest, in the layout */
	const struct cnai_image_file *files;
	size_t nfiles;
	/* The run that made it, for annotations; each may be NULL. */
	const char *run_id, *git_remote, *git_commit;
};

/*
 * Where built layers are remembered, so that a layer whose inputs are
 * unchanged (same cnai_layer_key) is not compressed again. get() fills
 * digest, diff_id and size and returns 0 for a layer it has (its blob in
 * the layout), anything else when it has none (the error is cleared);
 * put() records a layer built, its error fails the build.
 */
struct cnai_image_cache {
	int (*get)(void *arg, const char *key, struct cnai_layer_info *out);
	int (*put)(void *arg, const char *key,
		   const struct cnai_layer_info *layer);
	void *arg;
};

/* How to build; strings borrowed. A zeroed struct plus user and port is
 * a serve image on scratch for linux/amd64. */
struct cnai_image_opts {
	enum cnai_image_format format;
	const char *platform;          /* "os/arch[/variant]", NULL: amd64 */
	const char *user;              /* numeric UID[:GID] (serve) */
	int64_t port;                  /* serving port (serve) */
	const char *license;           /* SPDX, or NULL */
	const char *const *labels;     /* "KEY=VALUE" config labels */
	size_t nlabels;
	const char *const *annotations; /* "KEY=VALUE" manifest annotations */
	size_t nannotations;
	enum cnai_layer_compression compression;
	int64_t epoch;                 /* every timestamp */
	const char *created_by;        /* history's created_by */
	const struct cnai_image_cache *cache; /* NULL: none */
};

/*
 * CNAI_EUSAGE when a serve image is asked for another platform than the
 * one this binary runs on (a serve image holds this binary), or the
 * platform is malformed; else 0.
 */
int cnai_image_check_platform(const struct cnai_image_opts *o);

/*
 * 1 when --base `base` names an image in a file rather than a tag or a
 * registry: "oci:DIR[:REF]", "docker-archive:FILE[:REF]", or a path to a
 * `docker save` tar (a name ending .tar, .tar.gz or .tgz, or a file that
 * exists). 0 otherwise.
 */
int cnai_image_base_is_file(const char *base);

/*
 * Copies such a base image into `layout` (an OCI layout's image listed
 * untagged in the layout's index, a docker archive's converted with its
 * uncompressed layers compressed as `compression` says) and sets *root to
 * it. Without REF the other layout must hold one image (CNAI_EINVALID).
 */
int cnai_image_base_import(struct cnai_oci_desc *root, const char *layout,
			   const char *base,
			   enum cnai_layer_compression compression);

/*
 * Builds the image of `m` into `layout` and sets *out to its manifest.
 * `base` is the base image's root (a manifest or index in the layout,
 * `base_name` naming it in messages), or NULL for scratch; an artifact
 * takes none. A base for another platform than o->platform is
 * CNAI_EINVALID. The manifest is stored by digest, not tagged.
 */
int cnai_image_build(struct cnai_oci_desc *out, const char *layout,
		     const struct cnai_image_model *m,
		     const struct cnai_oci_desc *base, const char *base_name,
		     const struct cnai_image_opts *o);

#endif
