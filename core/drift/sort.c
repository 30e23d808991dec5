/*
 * The sort of core/drift/sort.h: qsort for short arrays, else an LSD
 * radix sort on the doubles' IEEE bits mapped to unsigned integers that
 * order as the values do.
 */
#include "core/drift/sort.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* LSD radix sort of unsigned keys, 11 bits a pass; a pass whose digit
 * every key shares moves nothing and is skipped. */
static int radix_u64(uint64_t *k, size_t n)
{
	uint64_t *tmp = malloc(n * sizeof(*tmp)), *src = k, *dst = tmp,
		 differ = 0;
	size_t (*cnt)[2048] = calloc(6, sizeof(*cnt)), i, pass, npass = 0;

	if (!tmp || !cnt) {
		free(tmp);
		free(cnt);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	/* digits above the highest bit in which keys differ never move */
	for (i = 0; i < n; i++)
		differ |= k[i] ^ k[0];
	while (npass < 6 && (differ >> (npass * 11)))
		npass++;
	for (i = 0; i < n; i++)
		for (pass = 0; pass < npass; pass++)
			cnt[pass][(k[i] >> (pass * 11)) & 2047]++;
	for (pass = 0; pass < npass; pass++) {
		unsigned shift = (unsigned)(pass * 11);
		size_t sum = 0, c;
		uint64_t *t;

		if (cnt[pass][(src[0] >> shift) & 2047] == n)
			continue;
		for (c = 0; c < 2048; c++) {
			size_t x = cnt[pass][c];

			cnt[pass][c] = sum;
			sum += x;
		}
		for (i = 0; i < n; i++)
			dst[cnt[pass][(src[i] >> shift) & 2047]++] = src[i];
		t = src, src = dst, dst = t;
	}
	if (src != k)
		memcpy(k, src, n * sizeof(*k));
	free(cnt);
	free(tmp);
	return 0;
}

int cnai_drift__sort(double *v, size_t n)
{
	uint64_t *k = (uint64_t *)v;
	size_t i;
	int err;

	if (n < 4096) {
		qsort(v, n, sizeof(*v), cmp_double);
		return 0;
	}
	/* order-preserving map of IEEE bits to unsigned integers */
	for (i = 0; i < n; i++)
		k[i] = (k[i] >> 63) ? ~k[i] : k[i] | (1ULL << 63);
	err = radix_u64(k, n);
	for (i = 0; i < n; i++)
		k[i] = (k[i] >> 63) ? k[i] & ~(1ULL << 63) : ~k[i];
	return err;
}
