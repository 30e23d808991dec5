/*
 * libFuzzer target: the DSSE envelope parser, and the Sigstore bundle
 * parser that digs an envelope out of a bundle, then PAE over what each
 * decoded and verification against a fixed key (which must never crash,
 * whatever the signatures hold).
 */
#include <stddef.h>
#include <stdint.h>

#include "core/util/error.h"
#include "registry/sigstore.h"

static struct cnai_cosign_key *key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cnai_dsse env;

	if (!key && cnai_cosign_key_generate(&key) < 0)
		return 0;
	if (cnai_dsse_parse(&env, (const char *)data, size) == 0) {
		(void)cnai_dsse_verify(&env, key);
		cnai_dsse_release(&env);
	}
	cnai_error_clear();
	if (cnai_bundle_dsse_parse(&env, (const char *)data, size) == 0) {
		(void)cnai_dsse_verify(&env, key);
		cnai_dsse_release(&env);
	}
	cnai_error_clear();
	return 0;
}
