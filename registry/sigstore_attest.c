/*
 * cosign 2's attestations: a DSSE envelope over an in-toto Statement,
 * appended as a layer of the "sha256-<hex>.att" attachment manifest, and
 * checked layer by layer when verifying (cosign 3's bundles are
 * sigstore_bundle.c's).
 */
#include "registry/sigstore_attest.h"

#include <stdio.h>
#include <string.h>

#include "core/util/error.h"
#include "registry/sigstore.h"
#include "core/util/banned.h"

/* An envelope larger than this is refused unread: statements are small,
 * and a registry's blob is not to be trusted to be. */
enum { ENVELOPE_LIMIT = 16 << 20 };

/* cosign's --type names (pkg/cosign/attestation, options/predicate.go). */
static const struct {
	const char *name, *uri;
} predicate_types[] = {
	{ "slsaprovenance", "https://slsa.dev/provenance/v0.2" },
	{ "slsaprovenance02", "https://slsa.dev/provenance/v0.2" },
	{ "slsaprovenance1", "https://slsa.dev/provenance/v1" },
	{ "link", "https://in-toto.io/Link/v1" },
	{ "spdx", "https://spdx.dev/Document" },
	{ "spdxjson", "https://spdx.dev/Document" },
	{ "cyclonedx", "https://cyclonedx.org/bom" },
	{ "vuln", "https://cosign.sigstore.dev/attestation/vuln/v1" },
	{ "openvex", "https://openvex.dev/ns" },
	{ "custom", "https://cosign.sigstore.dev/attestation/v1" },
};

const char *cnai_sigstore_predicate_uri(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(predicate_types) / sizeof(*predicate_types); i++)
		if (!strcmp(type, predicate_types[i].name))
			return predicate_types[i].uri;
	return strstr(type, "://") ? type : NULL;
}

/* cosign 2's form: the envelope appended under sha256-<hex>.att. */
int cnai_sigstore_att_attach(char tag[80], struct cnai_oci_desc *d,
			     struct cnai_sigstore_target *t,
			     const struct cnai_cosign_key *key,
			     const struct cnai_buf *stmt_text, const char *uri)
{
	struct cnai_buf env = CNAI_BUF_INIT;
	json_t *layer;
	int err;

	if ((err = cnai_dsse_sign(&env, key, CNAI_INTOTO_PAYLOAD_TYPE,
				  stmt_text->buf, stmt_text->len, "")) < 0 ||
	    (err = cnai_sigstore_target_put_blob(d, t, env.buf, env.len,
						 CNAI_DSSE_MEDIA_TYPE)) < 0)
		goto cleanup;
	layer = cnai_oci_desc_json(d);
	json_object_set_new(layer, "annotations",
			    json_pack("{s:s}", "predicateType", uri));
	cnai_sigstore_target_attachment_tag(tag, t, "att");
	err = cnai_sigstore_target_append_layer(t, tag, layer);
cleanup:
	cnai_buf_release(&env);
	return err;
}

int cnai_sigstore_att_check(json_t *ok, struct cnai_buf *why, size_t i,
			    json_t *layer, struct cnai_sigstore_target *t,
			    const struct cnai_cosign_key *key, const char *want)
{
	struct cnai_buf blob = CNAI_BUF_INIT;
	struct cnai_dsse env = { 0 };
	struct cnai_oci_desc ld;
	const char *digest = json_string_value(json_object_get(layer, "digest"));
	const char *ptype, *sub;
	json_t *stmt = NULL, *s;
	size_t k;
	int matched = 0;

	cnai_buf_init(&env.payload);
	if (!digest || cnai_oci_desc_parse(&ld, layer) < 0 ||
	    cnai_sigstore_target_read_blob(&blob, t, digest,
					   ENVELOPE_LIMIT) < 0 ||
	    cnai_dsse_parse(&env, blob.buf, blob.len) < 0) {
		cnai_buf_addf(why, "%sattestation %zu: %s", why->len ? "; " : "",
			      i + 1, cnai_error_last() ? cnai_error_last()->message
						       : "no digest");
		goto cleanup;
	}
	if (strcmp(env.payload_type, CNAI_INTOTO_PAYLOAD_TYPE)) {
		cnai_buf_addf(why, "%sattestation %zu: payloadType '%s'",
			      why->len ? "; " : "", i + 1, env.payload_type);
		goto cleanup;
	}
	if (cnai_dsse_verify(&env, key) < 0) {
		cnai_buf_addf(why, "%sattestation %zu: signature does not verify "
			      "with this key", why->len ? "; " : "", i + 1);
		goto cleanup;
	}
	if (!(stmt = json_loadb(env.payload.buf, env.payload.len, 0, NULL))) {
		cnai_buf_addf(why, "%sattestation %zu: statement is not JSON",
			      why->len ? "; " : "", i + 1);
		goto cleanup;
	}
	ptype = json_string_value(json_object_get(stmt, "predicateType"));
	if (want && (!ptype || strcmp(ptype, want))) {
		cnai_buf_addf(why, "%sattestation %zu: predicateType '%s'",
			      why->len ? "; " : "", i + 1, ptype ? ptype : "");
		goto cleanup;
	}
	json_array_foreach(json_object_get(stmt, "subject"), k, s) {
		sub = json_string_value(json_object_get(
			json_object_get(s, "digest"), "sha256"));
		if (sub && !strcmp(sub, t->image.digest + 7))
			matched = 1;
	}
	if (!matched) {
		cnai_buf_addf(why, "%sattestation %zu: subject is not %s",
			      why->len ? "; " : "", i + 1, t->image.digest);
		goto cleanup;
	}
	json_array_append(ok, stmt);
cleanup:
	cnai_error_clear();
	json_decref(stmt);
	cnai_dsse_release(&env);
	cnai_buf_release(&blob);
	return matched;
}
