/*
 * Signatures and their lineage (target -> signature/attestation): the
 * lineage id, the transaction and the edges; the rows are the backend's
 * (backend_sqlite_signatures.c).
 */
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
	char ref[CNAI_DIGEST_LEN], name[64];
	int64_t target, ent;
	int err;

	/* A signature's lineage id: the digest of its signature bytes. */
	if ((err = cnai_sha256_buffer(ref, r->signature,
				      strlen(r->signature))) < 0 ||
	    (err = cnai_store_begin_write(st)) < 0)
		return err;
	if ((err = st->backend->signature_insert(st, r)) < 0)
		goto fail;
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
	return cnai_store_commit(st);
fail:
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
	return st->backend->signature_list(out, n, st, target);
}
