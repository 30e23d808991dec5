/* signatures rows in SQLite. */
#include "core/store/backend_sqlite.h"

#include <stdlib.h>

#include "core/store/signatures.h"
#include "core/util/banned.h"

int cnai_sqlite_signature_insert(struct cnai_store *st,
				 const struct cnai_signature_row *r)
{
	sqlite3_stmt *s = NULL;
	int err;

	if ((err = cnai_db_prepare(&s, &st->db,
				   "INSERT INTO signatures(target, kind, "
				   "identity, key_fingerprint, payload_digest, "
				   "signature, created) VALUES (?, ?, ?, ?, ?, "
				   "?, ?) ON CONFLICT DO NOTHING")) < 0)
		return err;
	cnai_db_bind_text(s, 1, r->target);
	cnai_db_bind_text(s, 2, r->kind);
	cnai_db_bind_text(s, 3, r->identity);
	cnai_db_bind_text(s, 4, r->key_fingerprint);
	cnai_db_bind_text(s, 5, r->payload_digest);
	cnai_db_bind_text(s, 6, r->signature);
	sqlite3_bind_int64(s, 7, cnai_db_now_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		err = cnai_db_error(&st->db, "recording the signature");
	sqlite3_finalize(s);
	return err;
}

int cnai_sqlite_signature_list(struct cnai_signature_info **out, size_t *n,
			       struct cnai_store *st, const char *target)
{
	struct cnai_signature_info *a = NULL, *g;
	sqlite3_stmt *s = NULL;
	size_t count = 0;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = cnai_db_prepare(&s, &st->db,
				   "SELECT kind, identity, key_fingerprint, "
				   "created FROM signatures WHERE target = ? "
				   "ORDER BY id")) < 0)
		return err;
	cnai_db_bind_text(s, 1, target);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (!(g = realloc(a, (count + 1) * sizeof(*a)))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		a = g;
		a[count].kind = cnai_db_column_strdup(s, 0);
		a[count].identity = cnai_db_column_strdup(s, 1);
		a[count].key_fingerprint = cnai_db_column_strdup(s, 2);
		a[count].created = sqlite3_column_int64(s, 3);
		count++;
	}
	sqlite3_finalize(s);
	*out = a;
	*n = count;
	return err;
}
