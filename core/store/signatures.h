/*
 * Signatures and attestations the store knows of: what was signed (a
 * manifest digest), by which key (fingerprint), for which identity. Each is
 * also a lineage entity with an edge from what it signs.
 */
#ifndef CNAI_CORE_STORE_SIGNATURES_H
#define CNAI_CORE_STORE_SIGNATURES_H

#include <stddef.h>
#include <stdint.h>

#include "core/store/store.h"

struct cnai_signature_row {
	const char *target;      /* sha256:... of what is signed */
	const char *target_kind; /* lineage kind of the target: image, ... */
	const char *target_name; /* for the target's lineage entity */
	const char *kind;        /* "signature" or "attestation" */
	const char *identity;
	const char *key_fingerprint;
	const char *payload_digest;
	const char *signature; /* base64 */
};

/* Records one, idempotently, with its lineage entity and edge. */
int cnai_signature_record(struct cnai_store *st,
			  const struct cnai_signature_row *row);

struct cnai_signature_info {
	char *kind, *identity, *key_fingerprint;
	int64_t created;
};
/* Everything recorded about `target`, oldest first. */
int cnai_signature_list(struct cnai_signature_info **out, size_t *n,
			struct cnai_store *st, const char *target);
void cnai_signature_info_free_array(struct cnai_signature_info *a, size_t n);

#endif
