/*
 * cosign 3's image signatures: Sigstore bundles attached as OCI 1.1
 * referrers of a target (sigstore_target.h), and their verification (see
 * sigstore_bundle.c).
 */
#ifndef CNAI_REGISTRY_SIGSTORE_BUNDLE_H
#define CNAI_REGISTRY_SIGSTORE_BUNDLE_H

#include <jansson.h>

#include "registry/cosign_key.h"
#include "registry/sigstore_target.h"

struct cnai_sigstore_bundle_result {
	struct cnai_oci_desc manifest;   /* the referrer manifest */
	char bundle_digest[CNAI_DIGEST_LEN];
	char signature[200];             /* base64 DSSE signature */
};

/*
 * The creation time a bundle's manifest is annotated with (RFC 3339):
 * $SOURCE_DATE_EPOCH, else now. CNAI_EUSAGE for a malformed
 * SOURCE_DATE_EPOCH: callers ask before they write anything.
 */
int cnai_sigstore_bundle_created(char out[32]);

/*
 * Signs the target in the bundle form for `identity` (the subject's
 * name) with `annotations` (an object, may be empty) and attaches it,
 * made at `created` (see cnai_sigstore_bundle_created).
 */
int cnai_sigstore_bundle_attach(struct cnai_sigstore_bundle_result *res,
				struct cnai_sigstore_target *t,
				const struct cnai_cosign_key *key,
				const char *identity, json_t *annotations,
				const char *created);

/*
 * Signs an in-toto Statement (its subject the target) into a bundle and
 * attaches it; the referrer is annotated with its predicateType.
 */
int cnai_sigstore_bundle_attach_statement(
	struct cnai_sigstore_bundle_result *res, struct cnai_sigstore_target *t,
	const struct cnai_cosign_key *key, json_t *statement,
	const char *created);

/*
 * Checks every bundle referring to the target: each that verifies under
 * `key` for the target's digest and identity, with the annotations of
 * `want`, appends its claim (cosign's critical/optional shape) to
 * `verified`; each that does not appends a reason to `reasons`. `found`
 * counts the bundles seen. A referrers index that is bad (not JSON, not
 * an index: see cnai_oci_manifest_check()) is noted in `skipped` (see
 * cnai_sigstore_skip()); errors only when the referrers cannot be listed.
 */
int cnai_sigstore_bundle_verify(size_t *found, json_t *verified,
				json_t *reasons, json_t *skipped,
				struct cnai_sigstore_target *t,
				const struct cnai_cosign_key *key,
				json_t *want);

/*
 * The same for attestations: bundles whose verified statement is about
 * the target with a predicate other than a signature's (or exactly
 * `predicate_type` when not NULL); each statement goes to `statements`.
 */
int cnai_sigstore_bundle_verify_attestations(size_t *found, json_t *statements,
					     json_t *reasons, json_t *skipped,
					     struct cnai_sigstore_target *t,
					     const struct cnai_cosign_key *key,
					     const char *predicate_type);

#endif
