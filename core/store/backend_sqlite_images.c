/* layer_cache rows, and the images packaged from a model, in SQLite. */
#include "core/store/backend_sqlite.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/util/banned.h"

int cnai_sqlite_layer_cache_get(struct cnai_store_cached_layer *out,
				struct cnai_store *st, const char *key)
{
	sqlite3_stmt *s = NULL;
	int err;

	if ((err = cnai_db_prepare(&s, &st->db,
				   "SELECT digest, diff_id, size, media_type "
				   "FROM layer_cache WHERE key = ?")) < 0)
		return err;
	cnai_db_bind_text(s, 1, key);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(out->digest, sizeof(out->digest), "%s",
			 (const char *)sqlite3_column_text(s, 0));
		snprintf(out->diff_id, sizeof(out->diff_id), "%s",
			 (const char *)sqlite3_column_text(s, 1));
		out->size = (uint64_t)sqlite3_column_int64(s, 2);
		snprintf(out->media_type, sizeof(out->media_type), "%s",
			 (const char *)sqlite3_column_text(s, 3));
	} else {
		err = CNAI_ENOTFOUND;
	}
	sqlite3_finalize(s);
	return err;
}

int cnai_sqlite_layer_cache_put(struct cnai_store *st, const char *key,
				const struct cnai_store_cached_layer *l)
{
	sqlite3_stmt *s = NULL;
	int err;

	if ((err = cnai_db_prepare(&s, &st->db,
				   "INSERT INTO layer_cache(key, digest, "
				   "diff_id, size, media_type, created) VALUES "
				   "(?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO "
				   "UPDATE SET digest = excluded.digest, diff_id "
				   "= excluded.diff_id, size = excluded.size, "
				   "media_type = excluded.media_type")) < 0)
		return err;
	cnai_db_bind_text(s, 1, key);
	cnai_db_bind_text(s, 2, l->digest);
	cnai_db_bind_text(s, 3, l->diff_id);
	sqlite3_bind_int64(s, 4, (int64_t)l->size);
	cnai_db_bind_text(s, 5, l->media_type);
	sqlite3_bind_int64(s, 6, cnai_db_now_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		err = cnai_db_error(&st->db, "caching a layer");
	sqlite3_finalize(s);
	return err;
}

int cnai_sqlite_images_of_model(struct cnai_image_info **out, size_t *n,
				struct cnai_store *st,
				const char *model_digest)
{
	struct cnai_image_info *a = NULL, *g;
	sqlite3_stmt *s = NULL;
	size_t count = 0;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = cnai_db_prepare(
		     &s, &st->db,
		     "SELECT i.ref, i.name, e.created FROM entities m JOIN "
		     "edges e ON e.src = m.id AND e.relation = 'packaged' JOIN "
		     "entities i ON i.id = e.dst AND i.kind = 'image' WHERE "
		     "m.kind = 'model_version' AND m.ref = ? ORDER BY "
		     "e.created DESC, i.id DESC")) < 0)
		return err;
	cnai_db_bind_text(s, 1, model_digest);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (!(g = realloc(a, (count + 1) * sizeof(*a)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		a = g;
		snprintf(a[count].digest, sizeof(a[count].digest), "%s",
			 (const char *)sqlite3_column_text(s, 0));
		a[count].name = cnai_db_column_strdup(s, 1);
		a[count].created = sqlite3_column_int64(s, 2);
		count++;
	}
	sqlite3_finalize(s);
	*out = a;
	*n = count;
	return err;
}
