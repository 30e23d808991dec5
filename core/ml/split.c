/*
 * Train/validation splits and target standardisation for 'cnai train'.
 * The split's random stream is the seed mixed with a constant, so that
 * the rows held out do not move in step with the initial weights, which
 * draw from the plain seed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ml/model.h"
#include "core/ml/split.h"
#include "core/util/error.h"
#include "core/util/banned.h"

size_t cnai_split_count(size_t n, double fraction)
{
	size_t nval = (size_t)floor(fraction * (double)n + 0.5);

	if (fraction > 0 && !nval)
		nval = 1;
	return nval;
}

int cnai_split_shuffle(int32_t *train, int32_t *val, size_t n, size_t nval,
		       uint64_t seed)
{
	uint64_t rng = seed ^ 0x5b117ull;
	int32_t *perm = malloc((n ? n : 1) * sizeof(*perm));
	size_t i;

	if (!perm)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < n; i++)
		perm[i] = (int32_t)i;
	cnai_ml_shuffle(perm, n, &rng);
	memcpy(val, perm, nval * sizeof(int32_t));
	memcpy(train, perm + nval, (n - nval) * sizeof(int32_t));
	free(perm);
	return 0;
}

void cnai_split_standardize(float *y, float *mean, float *std,
			    const double *target, size_t n,
			    const int32_t *train, size_t ntrain)
{
	double m = 0, sq = 0;
	size_t i;

	for (i = 0; i < ntrain; i++)
		m += target[train[i]];
	m /= (double)ntrain;
	for (i = 0; i < ntrain; i++)
		sq += (target[train[i]] - m) * (target[train[i]] - m);
	*mean = (float)m;
	*std = (float)sqrt(sq / (double)ntrain);
	if (!(*std > 0))
		*std = 1.0f;
	for (i = 0; i < n; i++)
		y[i] = (float)((target[i] - *mean) / *std);
}
