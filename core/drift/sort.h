/*
 * Module-internal (core/drift): sorting a column's doubles, which both the
 * exact path (read.c) and the quantile sketch's compactions (sketch.c)
 * need. It sits in a file of its own so that neither of the two depends
 * on the other for it.
 */
#ifndef CNAI_CORE_DRIFT_SORT_H
#define CNAI_CORE_DRIFT_SORT_H

#include <stddef.h>

/* Sorts ascending (LSD radix on the IEEE bits; -0.0 must not occur). */
int cnai_drift__sort(double *v, size_t n);

#endif
