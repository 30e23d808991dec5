/*
 * What the store knows about the images it built: the layer cache (inputs
 * key -> built layer, for reuse without recompressing) and the link from a
 * model version to the images packaged from it (through lineage).
 */
#ifndef CNAI_CORE_STORE_IMAGES_H
#define CNAI_CORE_STORE_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#include "core/store/store.h"

struct cnai_store_cached_layer {
	char digest[72], diff_id[72], media_type[128];
	uint64_t size;
};

/* The cached layer for `key` whose blob still exists; CNAI_ENOTFOUND. */
int cnai_store_layer_cache_get(struct cnai_store_cached_layer *out,
			       struct cnai_store *st, const char *key);
int cnai_store_layer_cache_put(struct cnai_store *st, const char *key,
			       const struct cnai_store_cached_layer *l);

/*
 * Records an image built from a model version (lineage: model_version ->
 * image, "packaged"); `tag` names the image entity.
 */
int cnai_image_record(struct cnai_store *st, const char *image_digest,
		      const char *tag, const char *model_digest);

struct cnai_image_info {
	char digest[72];
	char *name; /* the lineage entity's name: its tag */
	int64_t created;
};
/* Images packaged from a model version, newest first. */
int cnai_images_of_model(struct cnai_image_info **out, size_t *n,
			 struct cnai_store *st, const char *model_digest);
void cnai_image_info_free_array(struct cnai_image_info *a, size_t n);

#endif
