/* libFuzzer target: the strict simple-signing payload parser. */
#include <stddef.h>
#include <stdint.h>

#include "core/util/error.h"
#include "registry/sigstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cnai_simplesign s;

	if (cnai_simplesign_parse(&s, (const char *)data, size) == 0)
		cnai_simplesign_release(&s);
	cnai_error_clear();
	return 0;
}
