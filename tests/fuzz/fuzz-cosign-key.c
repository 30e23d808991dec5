/*
 * libFuzzer target: the cosign key-file reader (PEM armour, JSON, scrypt
 * parameters, secretbox). Built with CNAI_FUZZING, which lowers the scrypt
 * cost ceiling so that each input stays fast; every other check is the
 * production code's.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/util/error.h"
#include "registry/cosign_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cnai_cosign_key *key = NULL;

	if (cnai_cosign_key_decrypt(&key, (const char *)data, size, "x", 1,
				    "fuzz.key") == 0)
		cnai_cosign_key_free(key);
	if (cnai_cosign_key_read_public(&key, (const char *)data, size,
					"fuzz.pub") == 0)
		cnai_cosign_key_free(key);
	cnai_error_clear();
	return 0;
}
