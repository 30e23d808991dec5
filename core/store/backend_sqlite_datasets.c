/* datasets rows in SQLite. */
#include "core/store/backend_sqlite.h"

#include "core/util/banned.h"

int cnai_sqlite_dataset_insert(struct cnai_store *st,
			       const struct cnai_store_dataset_row *d)
{
	sqlite3_stmt *s = NULL;
	int err;

	if ((err = cnai_db_prepare(&s, &st->db,
				   "INSERT INTO datasets(digest, path, size, "
				   "rows, columns, schema, created) VALUES (?, "
				   "?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) <
	    0)
		return err;
	cnai_db_bind_text(s, 1, d->digest);
	cnai_db_bind_text(s, 2, d->path);
	sqlite3_bind_int64(s, 3, (int64_t)d->size);
	if (d->rows >= 0) {
		sqlite3_bind_int64(s, 4, d->rows);
		sqlite3_bind_int64(s, 5, d->columns);
	}
	cnai_db_bind_text(s, 6, d->schema);
	sqlite3_bind_int64(s, 7, cnai_db_now_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		err = cnai_db_error(&st->db, "recording a dataset");
	sqlite3_finalize(s);
	return err;
}
