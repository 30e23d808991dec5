/*
 * Splitting rows into training and validation sets, and standardising
 * regression targets with the training rows' mean and deviation. Seeded,
 * so the same seed gives the same split on every machine.
 */
#ifndef CNAI_CORE_ML_SPLIT_H
#define CNAI_CORE_ML_SPLIT_H

#include <stddef.h>
#include <stdint.h>

/*
 * How many of n rows a validation fraction holds out: rounded, at least
 * one when fraction > 0. The caller checks that some are left to train.
 */
size_t cnai_split_count(size_t n, double fraction);

/*
 * A seeded shuffle of rows [0, n): the first nval go to val, the other
 * n - nval to train (both arrays the caller's, large enough). CNAI_ERROR
 * when memory runs out.
 */
int cnai_split_shuffle(int32_t *train, int32_t *val, size_t n, size_t nval,
		       uint64_t seed);

/*
 * y[i] = (target[i] - mean) / std for every i < n, with mean and std
 * (population) of the training rows train[0, ntrain) (ntrain > 0); a
 * constant target gets std 1. *mean and *std get the values used.
 */
void cnai_split_standardize(float *y, float *mean, float *std,
			    const double *target, size_t n,
			    const int32_t *train, size_t ntrain);

#endif
