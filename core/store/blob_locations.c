/*
 * Where blobs are in registries: the transaction around a recording; the
 * statements are the backend's (backend_sqlite_blob_locations.c).
 */
#include "core/store/blob_locations.h"

#include "core/store/store_impl.h"
#include "core/util/banned.h"

int cnai_blob_locations_add(struct cnai_store *st, const char *registry,
			    const char *repository, const json_t *digests)
{
	int err;

	if ((err = cnai_store_begin_write(st)) < 0)
		return err;
	if ((err = st->backend->blob_locations_add(st, registry, repository,
						   digests)) < 0) {
		cnai_store_rollback(st);
		return err;
	}
	return cnai_store_commit(st);
}

int cnai_blob_locations_best(char **out, struct cnai_store *st,
			     const char *registry, const char *except,
			     const json_t *digests)
{
	return st->backend->blob_locations_best(out, st, registry, except,
						digests);
}
