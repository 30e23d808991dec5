/*
 * Datasets: files a run read, known by digest. The content is not copied
 * into the store (data sets are large and live elsewhere); the digest,
 * shape and schema are, and the dataset becomes a lineage entity.
 */
#ifndef CNAI_CORE_STORE_DATASETS_H
#define CNAI_CORE_STORE_DATASETS_H

#include <stdint.h>

#include "core/store/store.h"

struct cnai_store_dataset_row {
	const char *digest, *path, *schema; /* schema may be NULL */
	uint64_t size;
	int64_t rows, columns; /* < 0: not a table */
};

/*
 * Records the dataset (idempotent on digest) and, when run_entity > 0, the
 * edge dataset -> run ("input"). Call inside a write transaction.
 */
int cnai_store_dataset_record(int64_t *entity_out, struct cnai_store *st,
			      const struct cnai_store_dataset_row *d,
			      int64_t run_entity);

#endif
