/* Dataset rows and their lineage entities. */
#include "core/store/datasets.h"

#include "core/store/store_impl.h"

#include <string.h>

#include "core/store/lineage.h"
#include "core/util/banned.h"

int cnai_store_dataset_record(int64_t *entity_out, struct cnai_store *s,
			      const struct cnai_store_dataset_row *d,
			      int64_t run_entity)
{
	struct cnai_db *db = &s->db;
	const char *base = strrchr(d->path, '/');
	sqlite3_stmt *st = NULL;
	int64_t entity;
	int err;

	if ((err = cnai_db_prepare(&st, db,
				   "INSERT INTO datasets(digest, path, size, "
				   "rows, columns, schema, created) VALUES (?, "
				   "?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) <
	    0)
		return err;
	cnai_db_bind_text(st, 1, d->digest);
	cnai_db_bind_text(st, 2, d->path);
	sqlite3_bind_int64(st, 3, (int64_t)d->size);
	if (d->rows >= 0) {
		sqlite3_bind_int64(st, 4, d->rows);
		sqlite3_bind_int64(st, 5, d->columns);
	}
	cnai_db_bind_text(st, 6, d->schema);
	sqlite3_bind_int64(st, 7, cnai_db_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		err = cnai_db_error(db, "recording a dataset");
	sqlite3_finalize(st);
	if (err < 0 ||
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
