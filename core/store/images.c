/*
 * The layer cache (a hit only while its blob exists) and image lineage;
 * the rows are the backend's (backend_sqlite_images.c).
 */
#include "core/store/images.h"

#include <stdlib.h>

#include "core/store/blobs.h"
#include "core/store/lineage.h"
#include "core/store/store_impl.h"
#include "core/util/banned.h"

int cnai_store_layer_cache_get(struct cnai_store_cached_layer *out,
			       struct cnai_store *st, const char *key)
{
	int err;

	if ((err = st->backend->layer_cache_get(out, st, key)) < 0)
		return err;
	/* gc may have removed the blob: then it is a miss. */
	return cnai_blob_exists(st, out->digest) ? 0 : CNAI_ENOTFOUND;
}

int cnai_store_layer_cache_put(struct cnai_store *st, const char *key,
			       const struct cnai_store_cached_layer *l)
{
	return st->backend->layer_cache_put(st, key, l);
}

int cnai_image_record(struct cnai_store *st, const char *image_digest,
		      const char *tag, const char *model_digest)
{
	int64_t img, model;
	int err;

	if ((err = cnai_store_begin_write(st)) < 0)
		return err;
	if ((err = cnai_lineage_entity(&img, st, CNAI_ENTITY_IMAGE,
				       image_digest, tag)) < 0 ||
	    (model_digest &&
	     ((err = cnai_lineage_entity(&model, st, CNAI_ENTITY_MODEL,
					 model_digest, NULL)) < 0 ||
	      (err = cnai_lineage_edge(st, model, img, "packaged")) < 0))) {
		cnai_store_rollback(st);
		return err;
	}
	return cnai_store_commit(st);
}

void cnai_image_info_free_array(struct cnai_image_info *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(a[i].name);
	free(a);
}

int cnai_images_of_model(struct cnai_image_info **out, size_t *n,
			 struct cnai_store *st, const char *model_digest)
{
	return st->backend->images_of_model(out, n, st, model_digest);
}
