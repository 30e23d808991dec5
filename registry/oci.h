/*
 * OCI image layouts (image-spec v1.1 "image-layout"): blobs named by their
 * sha256, index.json with tags as "org.opencontainers.image.ref.name"
 * annotations, and the documents that live in them: image configs, image
 * manifests, indexes and artifact manifests.
 *
 * Every function takes the layout's folder (for cnai, the store's oci/
 * path; this module knows nothing of the store). Blobs are written to a
 * temporary file in blobs/sha256, fsynced and renamed to their digest, so a
 * crash never leaves a partial blob under a digest name. Documents are
 * serialised as canonical JSON (compact, keys sorted; jansson's
 * JSON_COMPACT | JSON_SORT_KEYS): the same inputs give the same digest.
 */
#ifndef CNAI_REGISTRY_OCI_H
#define CNAI_REGISTRY_OCI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/util/buf.h"
#include "core/util/hash.h"
#include "registry/layer.h"

#define CNAI_MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define CNAI_MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define CNAI_MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define CNAI_MEDIA_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define CNAI_MEDIA_DOCKER_MANIFEST \
	"application/vnd.docker.distribution.manifest.v2+json"
#define CNAI_MEDIA_DOCKER_LIST \
	"application/vnd.docker.distribution.manifest.list.v2+json"
#define CNAI_MEDIA_DOCKER_CONFIG \
	"application/vnd.docker.container.image.v1+json"
#define CNAI_MEDIA_DOCKER_LAYER_GZIP \
	"application/vnd.docker.image.rootfs.diff.tar.gzip"
/* The empty descriptor's blob is the two bytes "{}". */
#define CNAI_OCI_EMPTY_DIGEST                                     \
	"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61" \
	"caaff8a"
#define CNAI_OCI_REF_NAME "org.opencontainers.image.ref.name"
/* Registries refuse manifests over 4 MiB; so do we. */
#define CNAI_OCI_MANIFEST_LIMIT (4u << 20)

/* A content descriptor without its optional fields. */
struct cnai_oci_desc {
	char media_type[160];
	char digest[CNAI_DIGEST_LEN];
	uint64_t size;
};

struct cnai_oci_platform {
	char os[32];
	char architecture[32];
	char variant[32]; /* "" when none */
};

/* ---- layouts and blobs ---- */

/*
 * Creates `dir`, blobs/sha256, oci-layout and an empty index.json where
 * they are missing; leaves an existing layout as it is.
 */
int cnai_oci_layout_init(const char *dir);

/* Appends "<dir>/blobs/sha256/<hex>"; CNAI_EINVALID for a bad digest. */
int cnai_oci_blob_path(struct cnai_buf *out, const char *dir,
		       const char *digest);

/* 1 if the layout has the blob, 0 if not (or the digest is malformed). */
int cnai_oci_blob_exists(const char *dir, const char *digest);

/*
 * A blob being written: cnai_oci_blob_open() makes a temporary file (write
 * to `fd`), cnai_oci_blob_commit() fsyncs and renames it to `digest` (or
 * drops it when the blob is already there), cnai_oci_blob_abort() removes
 * it. abort after commit, or twice, is a no-op.
 */
struct cnai_oci_blob_writer {
	int fd;
	struct cnai_buf tmp;
	struct cnai_buf dir;
};

int cnai_oci_blob_open(struct cnai_oci_blob_writer *w, const char *dir);
int cnai_oci_blob_commit(struct cnai_oci_blob_writer *w, const char *digest);
void cnai_oci_blob_abort(struct cnai_oci_blob_writer *w);

/* Stores `len` bytes as a blob; its digest goes to `digest`. */
int cnai_oci_blob_put(char digest[CNAI_DIGEST_LEN], const char *dir,
		      const void *data, size_t len);

/*
 * Reads a whole blob into `out` and checks its sha256 (CNAI_ECHECK naming
 * the blob when it differs, CNAI_ENOTFOUND when absent). `limit` caps the
 * size (0 = none).
 */
int cnai_oci_blob_read(struct cnai_buf *out, const char *dir,
		       const char *digest, size_t limit);

/*
 * Re-hashes a blob: 0 if it matches its name, CNAI_ECHECK (naming it) if
 * not, CNAI_ENOTFOUND if absent. `size_out` may be NULL.
 */
int cnai_oci_blob_verify(uint64_t *size_out, const char *dir,
			 const char *digest);

/* cnai_layer_build() into a new blob of the layout. */
int cnai_oci_layer_build(struct cnai_layer_info *out, const char *dir,
			 const struct cnai_layer_entry *entries, size_t n,
			 const struct cnai_layer_opts *opts);

/* cnai_layer_raw(): the file `src` as a blob of the layout. */
int cnai_oci_layer_raw(struct cnai_layer_info *out, const char *dir,
		       const char *src);

/* ---- JSON documents ---- */

/* Appends the canonical serialisation of `doc` (compact, sorted keys). */
int cnai_oci_json_canonical(struct cnai_buf *out, const json_t *doc);

/*
 * Stores `doc` canonically as a blob and describes it in `out` with
 * `media_type` (a document's own "mediaType" when NULL).
 */
int cnai_oci_json_put(struct cnai_oci_desc *out, const char *dir,
		      const json_t *doc, const char *media_type);

/* Parses a JSON blob (checked against its digest, 4 MiB at most). */
int cnai_oci_json_read(json_t **out, const char *dir, const char *digest);

/* The empty descriptor ("{}", application/vnd.oci.empty.v1+json), stored. */
int cnai_oci_empty_put(struct cnai_oci_desc *out, const char *dir);

/* A new JSON descriptor {mediaType, digest, size}; NULL on OOM. */
json_t *cnai_oci_desc_json(const struct cnai_oci_desc *d);

/* Reads mediaType, digest, size of a descriptor object (CNAI_EINVALID). */
int cnai_oci_desc_parse(struct cnai_oci_desc *out, const json_t *j);

/* Sets doc.annotations[key] = value (the object is created if needed). */
int cnai_oci_annotate(json_t *doc, const char *key, const char *value);

/* "1970-01-01T00:00:00Z" for an epoch (RFC 3339, UTC). */
void cnai_oci_time(char out[32], int64_t epoch);

/*
 * The epoch reproducible builds use: $SOURCE_DATE_EPOCH, or `fallback`
 * when it is unset or empty. CNAI_EUSAGE when it is not a number of
 * seconds.
 */
int cnai_source_date_epoch(int64_t *out, int64_t fallback);

/* ---- image configs ---- */

/*
 * What an image config says. NULL fields are left out (or, for
 * cnai_oci_config_set(), left as they are). String lists end with NULL;
 * labels are "KEY=VALUE"; exposed_ports are "8080/tcp" (a bare "8080" gets
 * "/tcp").
 */
struct cnai_oci_image_opts {
	const char *os;           /* default "linux" */
	const char *architecture; /* default "amd64" */
	const char *variant;
	const char *created;      /* RFC 3339, see cnai_oci_time() */
	const char *author;
	const char *const *entrypoint;
	const char *const *cmd;
	const char *const *env;   /* "KEY=VALUE" */
	const char *user;
	const char *working_dir;
	const char *const *exposed_ports;
	const char *const *labels;
};

/* A new config {architecture, os, config{...}, rootfs, history: []}. */
int cnai_oci_config_new(json_t **out, const struct cnai_oci_image_opts *o);

/*
 * Applies `o` to an existing config (a base image's): fields given
 * replace, labels and env entries are merged by key, ports are added.
 */
int cnai_oci_config_set(json_t *config, const struct cnai_oci_image_opts *o);

/*
 * Appends a layer: its diff_id to rootfs.diff_ids and a history entry
 * {created, created_by, comment}. `created` and `created_by` are required
 * (umoci 0.4.7 crashes on an entry without "created").
 */
int cnai_oci_config_add_layer(json_t *config, const char *diff_id,
			      const char *created, const char *created_by,
			      const char *comment);

/* A history entry with "empty_layer": true (a config-only change). */
int cnai_oci_config_add_history(json_t *config, const char *created,
				const char *created_by, const char *comment);

/* ---- manifests and indexes ---- */

/*
 * A new image manifest {schemaVersion 2, mediaType, config, layers: []}
 * with "artifactType" when `artifact_type` is given (an artifact manifest:
 * pass the empty descriptor or e.g. a ModelPack config as `config`).
 */
int cnai_oci_manifest_new(json_t **out, const struct cnai_oci_desc *config,
			  const char *artifact_type);

/* Appends a layer descriptor; `annotations` (may be NULL) is stolen. */
int cnai_oci_manifest_add_layer(json_t *manifest,
				const struct cnai_oci_desc *layer,
				json_t *annotations);

/* A new, empty image index. */
int cnai_oci_index_new(json_t **out);

/*
 * Appends a manifest descriptor to an index, with its platform when `p` is
 * not NULL; `annotations` (may be NULL) is stolen.
 */
int cnai_oci_index_add(json_t *index, const struct cnai_oci_desc *d,
		       const struct cnai_oci_platform *p, json_t *annotations);

/* Parses "os/arch[/variant]"; CNAI_EINVALID naming the text. */
int cnai_oci_platform_parse(struct cnai_oci_platform *out, const char *s);

/*
 * Reads a descriptor's or config's "os", "architecture" and "variant"
 * members of `j` (absent ones, or a NULL `j`, as empty) into `out`.
 */
void cnai_oci_platform_read(struct cnai_oci_platform *out, const json_t *j);

/* 1 if a manifest for `have` runs where `want` is asked (variant only when
 * `want` names one). */
int cnai_oci_platform_match(const struct cnai_oci_platform *want,
			    const struct cnai_oci_platform *have);

/*
 * The OCI media type of a Docker one (schema 2 manifest and list, config,
 * gzip and foreign layers: the same bytes under OCI names); any other type
 * is returned as it is. A static string or `mt` itself.
 */
const char *cnai_oci_media_type_oci(const char *mt);

/* ---- manifests and indexes from outside ---- */

/*
 * How many layers one image manifest, and manifests one index, may list.
 * Docker itself stops at 127 layers; pull, the docker-archive importer and
 * signature verification all hold documents to these caps.
 */
#define CNAI_OCI_MAX_LAYERS 1000
#define CNAI_OCI_MAX_MANIFESTS 1000

/*
 * Checks a manifest or index that came from outside (a registry, an
 * archive, a signature tag) before anything it names is fetched, stored
 * or trusted:
 *   - its type is an OCI or Docker schema 2 image manifest or index: the
 *     document's "mediaType", which must agree with `media_type` (the type
 *     it was served or listed as; NULL or "" when unknown); with neither,
 *     a document with "manifests" is taken as an index;
 *   - "schemaVersion" is 2;
 *   - a manifest has a "config" descriptor, a "layers" array of at most
 *     CNAI_OCI_MAX_LAYERS descriptors and no "manifests"; an image (no
 *     "artifactType", an image config) at least one layer;
 *   - an index has a "manifests" array of at most CNAI_OCI_MAX_MANIFESTS
 *     descriptors and no "config" or "layers";
 *   - every descriptor (also "subject") has a media type of the form
 *     type/subtype, a "sha256:<64 hex>" digest and an integer size >= 0.
 * `name` starts the message ("manifest 'x' from 'y'"). 0, or CNAI_EINVALID
 * naming the field ("layers[3]: size -1 is negative").
 */
int cnai_oci_manifest_check(const json_t *doc, const char *media_type,
			    const char *name);

/*
 * Parses `len` bytes (CNAI_OCI_MANIFEST_LIMIT at most) as JSON and checks
 * them with cnai_oci_manifest_check(). `out` (may be NULL) gets the
 * document, the caller's to json_decref(); NULL on error.
 */
int cnai_oci_manifest_parse(json_t **out, const void *data, size_t len,
			    const char *media_type, const char *name);

/* ---- tags: index.json ---- */

/*
 * Whether `tag` is an image-spec ref.name: 0, or CNAI_EINVALID with the
 * message. Commands check their tags with it before writing anything.
 */
int cnai_oci_tag_check(const char *tag);

/*
 * Points `tag` at `d` in index.json (annotation ref.name): an entry with
 * the same tag is replaced, so a tag that moves leaves no trace; an entry
 * of the same digest without a tag is replaced too. `p` (may be NULL) is
 * recorded as the descriptor's platform. index.json is rewritten
 * atomically under a lock on the file.
 */
int cnai_oci_tag(const char *dir, const char *tag,
		 const struct cnai_oci_desc *d,
		 const struct cnai_oci_platform *p);

/* Adds `d` to index.json without a tag, unless it is there already. */
int cnai_oci_index_put(const char *dir, const struct cnai_oci_desc *d);

/* Removes a tag; CNAI_ENOTFOUND if no entry has it. */
int cnai_oci_untag(const char *dir, const char *tag);

/* Reads index.json (the caller json_decref()s it). */
int cnai_oci_index_read(json_t **out, const char *dir);

/*
 * Finds what `ref` names: a tag of index.json, or a digest ("sha256:...")
 * listed there or present as a blob (its "mediaType" field says what it
 * is). CNAI_ENOTFOUND naming the reference otherwise.
 */
int cnai_oci_resolve(struct cnai_oci_desc *out, const char *dir,
		     const char *ref);

/*
 * Narrows `in` to one image manifest: when it is an index (OCI or Docker
 * list), picks the manifest for `want` (NULL = linux/amd64), following
 * nested indexes; an image manifest is returned as it is. CNAI_ENOTFOUND
 * listing the platforms there are when none matches.
 */
int cnai_oci_resolve_platform(struct cnai_oci_desc *out, const char *dir,
			      const struct cnai_oci_desc *in,
			      const struct cnai_oci_platform *want);

/*
 * Calls fn for each blob an image (manifest or index) needs, children
 * before the document that names them (layers and config, then the
 * manifest): the order to push in. Stops at the first error fn returns.
 */
typedef int (*cnai_oci_blob_fn)(const struct cnai_oci_desc *d, int is_manifest,
				void *payload);
int cnai_oci_walk(const char *dir, const struct cnai_oci_desc *root,
		  cnai_oci_blob_fn fn, void *payload);

/*
 * Copies the image `root` of layout `src` with every blob it needs into
 * layout `dst` (created if needed; blobs hard-linked when both are on one
 * file system, else copied and re-hashed) and tags it `tag` there (NULL:
 * listed in index.json without a tag). CNAI_ECHECK for a corrupt blob.
 */
int cnai_oci_copy_image(const char *dst, const char *src,
			const struct cnai_oci_desc *root, const char *tag);

#endif
