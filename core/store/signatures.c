/* Signature rows and their lineage (target -> signature/attestation). */
#include "core/store/signatures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store/lineage.h"
#include "core/util/hash.h"
#include "core/store/store_impl.h"
#include "core/util/banned.h"

int cnai_signature_record(struct cnai_store *st,
			  const struct cnai_signature_row *r)
{
	struct cnai_db *db = &st->db;
	char ref[CNAI_DIGEST_LEN], name[64];
	sqlite3_stmt *s = NULL;
	int64_t target, ent;
	int err;

	/* A signature's lineage id: the digest of its signature bytes. */
	if ((err = cnai_sha256_buffer(ref, r->signature,
				      strlen(r->signature))) < 0 ||
	    (err = cnai_store_begin_write(st)) < 0)
		return err;
	if ((err = cnai_db_prepare(&s, db,
				   "INSERT INTO signatures(target, kind, "
				   "identity, key_fingerprint, payload_digest, "
				   "signature, created) VALUES (?, ?, ?, ?, ?, "
				   "?, ?) ON CONFLICT DO NOTHING")) < 0)
		goto fail;
	cnai_db_bind_text(s, 1, r->target);
	cnai_db_bind_text(s, 2, r->kind);
	cnai_db_bind_text(s, 3, r->identity);
	cnai_db_bind_text(s, 4, r->key_fingerprint);
	cnai_db_bind_text(s, 5, r->payload_digest);
	cnai_db_bind_text(s, 6, r->signature);
	sqlite3_bind_int64(s, 7, cnai_db_now_ms());
	if (sqlite3_step(s) != SQLITE_DONE) {
		err = cnai_db_error(db, "recording the signature");
		goto fail;
	}
	snprintf(name, sizeof(name), "key %.12s", r->key_fingerprint);
	if ((err = cnai_lineage_entity(&target, st, r->target_kind, r->target,
				       r->target_name)) < 0 ||
	    (err = cnai_lineage_entity(&ent, st,
				       strcmp(r->kind, "attestation")
					       ? CNAI_ENTITY_SIGNATURE
					       : CNAI_ENTITY_ATTESTATION,
				       ref, name)) < 0 ||
	    (err = cnai_lineage_edge(st, target, ent,
				     strcmp(r->kind, "attestation") ? "signed"
								    : "attested")) <
		    0)
		goto fail;
	sqlite3_finalize(s);
	return cnai_store_commit(st);
fail:
	sqlite3_finalize(s);
	cnai_store_rollback(st);
	return err;
}

void cnai_signature_info_free_array(struct cnai_signature_info *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].kind);
		free(a[i].identity);
		free(a[i].key_fingerprint);
	}
	free(a);
}

int cnai_signature_list(struct cnai_signature_info **out, size_t *n,
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
