/*
 * Datasets and their lineage entities; the rows are the backend's
 * (backend_sqlite_datasets.c).
 */
#include "core/store/datasets.h"

#include <string.h>

#include "core/store/lineage.h"
#include "core/store/store_impl.h"
#include "core/util/banned.h"

int cnai_store_dataset_record(int64_t *entity_out, struct cnai_store *s,
			      const struct cnai_store_dataset_row *d,
			      int64_t run_entity)
{
	const char *base = strrchr(d->path, '/');
	int64_t entity;
	int err;

	if ((err = s->backend->dataset_insert(s, d)) < 0 ||
	    (err = cnai_lineage_entity(&entity, s, CNAI_ENTITY_DATASET,
				       d->digest, base ? base + 1 : d->path)) <
		    0)
		return err;
	if (run_entity > 0 &&
	    (err = cnai_lineage_edge(s, entity, run_entity, "input")) < 0)
		return err;
	if (entity_out)
		*entity_out = entity;
	return 0;
}
