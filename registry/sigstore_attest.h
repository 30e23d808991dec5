/*
 * cosign 2's attestation form (sigstore_attest.c): DSSE envelopes as
 * layers of the target's "sha256-<hex>.att" attachment.
 */
#ifndef CNAI_REGISTRY_SIGSTORE_ATTEST_H
#define CNAI_REGISTRY_SIGSTORE_ATTEST_H

#include <jansson.h>
#include <stddef.h>

#include "core/util/buf.h"
#include "registry/cosign_key.h"
#include "registry/sigstore_target.h"

/*
 * The predicate type URI of cosign's --type name `type` ("slsaprovenance1",
 * "spdxjson", "custom"...); `type` itself when it is a URI (holds "://");
 * NULL for a name cosign does not know.
 */
const char *cnai_sigstore_predicate_uri(const char *type);

/*
 * Signs `stmt_text` (an in-toto Statement, as bytes) into a DSSE envelope
 * stored as blob `d` and appended, annotated with its predicateType
 * `uri`, to the attachment `tag` ("sha256-<hex>.att", set here).
 */
int cnai_sigstore_att_attach(char tag[80], struct cnai_oci_desc *d,
			     struct cnai_sigstore_target *t,
			     const struct cnai_cosign_key *key,
			     const struct cnai_buf *stmt_text, const char *uri);

/*
 * Checks layer `i` (0-based) of a ".att" attachment: an envelope that
 * verifies under `key`, over a Statement about the target, of predicate
 * type `want` (any when NULL). 1 with the statement appended to `ok`;
 * else 0 with "attestation N: REASON" appended to `why` ("; "-separated).
 * The thread's error is cleared either way.
 */
int cnai_sigstore_att_check(json_t *ok, struct cnai_buf *why, size_t i,
			    json_t *layer, struct cnai_sigstore_target *t,
			    const struct cnai_cosign_key *key,
			    const char *want);

#endif
