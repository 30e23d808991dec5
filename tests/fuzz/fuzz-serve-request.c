/*
 * libFuzzer target: the infer request readers (core/serve/request.c),
 * hand-written JSON scanners that read request bodies from the network.
 * Whatever the body, the fast path must decode or decline without
 * reading past it; a decoded request holds exactly N rows of four encoded
 * features, each finite (a NaN here would mean a number was misread).
 * The skeleton parser must accept exactly the bodies jansson accepts (the
 * answers would change otherwise), its spans must lie in the body, and
 * reading a span must give as many values as it counted; v1's instances
 * must read as elements and members within their span.
 */
#include <jansson.h>
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

/* Each element of an array span, or member of an object span, and the
 * elements and members of those, lie within it. */
static void check_elements(const struct cnai_serve_span *s, int depth)
{
	struct cnai_serve_values it;
	struct cnai_serve_span el, key;
	struct cnai_serve_value v;

	if (*s->p != '[' && *s->p != '{') {
		cnai_serve_value_at(&v, s);
		return;
	}
	cnai_serve_elements_init(&it, s);
	while (*s->p == '[' ? cnai_serve_elements_next(&el, &it)
			    : cnai_serve_members_next(&key, &el, &it)) {
		if (el.p < s->p || el.end > s->end || el.p >= el.end)
			abort();
		if (depth < 2)
			check_elements(&el, depth + 1);
	}
}

static void check_skeleton(const char *body, size_t size)
{
	struct cnai_serve_skeleton sk;
	struct cnai_serve_values it;
	struct cnai_serve_value v;
	json_t *j = json_loadb(body, size, 0, NULL);
	int rc = cnai_serve_skeleton_parse(&sk, body, size);
	size_t i, n;

	if (rc != CNAI_ERROR && (rc == 0) != (j != NULL))
		abort();
	for (i = 0; rc == 0 && i < sk.nspans; i++) {
		const struct cnai_serve_span *s = &sk.spans[i];

		if (!s->p)
			continue;
		if (s->p < body || s->end > body + size || s->p >= s->end)
			abort();
		cnai_serve_values_init(&it, s);
		for (n = 0; cnai_serve_values_next(&v, &it); n++)
			if (it.p > s->end)
				abort();
		if (n != s->count)
			abort();
	}
	if (rc == 0 && sk.instances.p)
		check_elements(&sk.instances, 0);
	cnai_serve_skeleton_release(&sk);
	json_decref(j);
}

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
	check_skeleton(body, size);
	cnai_error_clear();
	free(body);
	return 0;
}
