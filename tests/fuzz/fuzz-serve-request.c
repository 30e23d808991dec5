/*
 * libFuzzer target: the infer request fast path (core/serve/request.c), a
 * hand-written JSON scanner that reads request bodies from the network.
 * Whatever the body, it must decode or decline without reading past it;
 * a decoded request holds exactly N rows of four encoded features, each
 * finite (a NaN here would mean a number was misread).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/serve/request.h"
#include "core/util/error.h"

static struct cnai_ml_feature features[4] = {
	{ "a", 0, 0.5f, 2.0f, 0.0f, NULL, 0, 0 },
	{ "b", 0, -1.0f, 0.25f, 1.0f, NULL, 0, 0 },
	{ "c", 0, 0.0f, 1.0f, 0.0f, NULL, 0, 0 },
	{ "d", 0, 3.0f, 10.0f, 2.0f, NULL, 0, 0 },
};
static const struct cnai_ml_prep prep = { features, 4, 4, 4 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cnai_serve_request req;
	/* a copy of exactly `size` bytes, so ASan sees any read past it */
	char *body = malloc(size ? size : 1);
	size_t i;

	if (!body)
		return 0;
	for (i = 0; i < size; i++)
		body[i] = (char)data[i];
	if (cnai_serve_request_decode(&req, body, size, &prep) == 1) {
		for (i = 0; i < req.n * prep.width; i++)
			if (isnan(req.x[i]))
				abort();
		if (req.id && (req.id < body || req.id + req.idlen > body + size))
			abort();
		free(req.x);
	}
	cnai_error_clear();
	free(body);
	return 0;
}
