/*
 * The model registry: named models with numbered versions. A version is a
 * manifest of its files (path, digest, size, media type) stored as an OCI
 * artifact manifest in the store's layout (ModelPack conventions), so a
 * version is itself content addressed; its digest is the manifest's.
 * Aliases (digits@prod) point at versions and move atomically, with a
 * history of who moved them when.
 */
#ifndef CNAI_CORE_STORE_MODELS_H
#define CNAI_CORE_STORE_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/store/store.h"

#define CNAI_MODEL_ARTIFACT_TYPE "application/vnd.cncf.model.manifest.v1+json"
#define CNAI_MODEL_CONFIG_TYPE "application/vnd.cncf.model.config.v1+json"

struct cnai_model_file {
	char *path;   /* inside the model: "model.onnx", "sub/x.bin" */
	char digest[72];
	uint64_t size;
	char *media_type;
};

struct cnai_model_version {
	int64_t id;
	char *name;
	int64_t version;
	char manifest_digest[72]; /* the version's digest */
	char *flavor;             /* onnx, safetensors, cnai, files */
	char *description;
	char *run;                /* producing run's uuid, or NULL */
	int64_t created;
	char *created_by;
	struct cnai_model_file *files;
	size_t nfiles;
	char **aliases; /* aliases pointing here */
	size_t naliases;
};

struct cnai_model_register_opts {
	const char *run;         /* run reference (id, prefix, name) or NULL */
	const char *flavor;      /* NULL: guessed from the files */
	const char *description;
	const char *const *tags; /* "k=v" strings */
	size_t ntags;
};

/*
 * Registers the files (or the files under the folders) at `paths` as the
 * next version of `name`, in one transaction. If a version of `name` with
 * identical content exists, *created is 0 and that version is returned.
 * Files in a folder are named by their path relative to it; single files
 * by their base name. Errors: CNAI_EINVALID for a bad name or a duplicate
 * path, CNAI_ENOTFOUND for a missing file or run.
 */
int cnai_model_register(struct cnai_model_version **out, int *created,
			struct cnai_store *st, const char *name,
			const char *const *paths, size_t npaths,
			const struct cnai_model_register_opts *opts);

/*
 * Resolves a model reference: NAME (latest), NAME@latest, NAME@VERSION,
 * NAME@ALIAS, or a manifest digest sha256:... (a unique prefix of 4+ hex
 * digits allowed). CNAI_ENOTFOUND / CNAI_EAMBIGUOUS with a message naming
 * what was not found.
 */
int cnai_model_resolve(struct cnai_model_version **out, struct cnai_store *st,
		       const char *ref);
void cnai_model_version_free(struct cnai_model_version *v);

/* 1 if `name` is a valid model name: [a-z0-9][a-z0-9._-]{0,127}. */
int cnai_model_name_is_valid(const char *name);

/* Models with their version count and latest version, for listings. */
struct cnai_model_summary {
	char *name;
	int64_t versions, latest, created;
	char **aliases; /* "prod=3" */
	size_t naliases;
};
int cnai_model_list(struct cnai_model_summary **out, size_t *n,
		    struct cnai_store *st);
void cnai_model_summary_free_array(struct cnai_model_summary *a, size_t n);
/* Every version of one model, newest first (files not loaded). */
int cnai_model_versions(struct cnai_model_version ***out, size_t *n,
			struct cnai_store *st, const char *name);
void cnai_model_version_free_array(struct cnai_model_version **a, size_t n);

/* Tags of a version. */
int cnai_model_version_tags(char ***keys, char ***values, size_t *n,
			    struct cnai_store *st,
			    const struct cnai_model_version *v);

/*
 * Points alias at version `version` of `name` (moving it if it exists),
 * recording who and when. An alias is [a-z][a-z0-9_-]*, not "latest".
 */
int cnai_model_alias_set(struct cnai_store *st, const char *name,
			 const char *alias, int64_t version);
/* CNAI_ENOTFOUND when the alias does not exist. */
int cnai_model_alias_remove(struct cnai_store *st, const char *name,
			    const char *alias);

struct cnai_alias_event {
	char *alias, *user;
	int64_t version; /* 0: removed */
	int64_t time;
};
/* Alias history of a model, oldest first. */
int cnai_model_alias_history(struct cnai_alias_event **out, size_t *n,
			     struct cnai_store *st, const char *name);
void cnai_alias_event_free_array(struct cnai_alias_event *a, size_t n);

/*
 * Removes a version. Refused (CNAI_EINVALID naming the aliases) while an
 * alias points at it, unless `force`, which removes those aliases too.
 * Its blobs stay until `cnai gc`.
 */
int cnai_model_version_remove(struct cnai_store *st,
			      const struct cnai_model_version *v, int force);

/*
 * Writes the version's files under `dir` (created if needed), verifying
 * each blob's digest as it is copied. Refuses to overwrite existing files
 * unless `force`.
 */
int cnai_model_export(struct cnai_store *st,
		      const struct cnai_model_version *v, const char *dir,
		      int force);

#endif
