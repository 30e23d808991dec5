#!/usr/bin/env python3
"""Writes a CSV for the drift benchmarks on stdout: N rows, NUM numerical
columns (normal, log-normal and uniform, shortest float text of 6
significant digits) and CAT categorical ones (3 to 40 string values).
Usage: drift-gen.py N NUM CAT SEED SHIFTED (SHIFTED=1: a third of the
numerical columns move, one categorical column changes its shares)."""
import sys
import numpy as np
import pandas as pd

n, num, cat, seed, shifted = (int(a) for a in sys.argv[1:6])
rng = np.random.default_rng(seed)
cols = {}
for j in range(num):
    shift = 0.3 if shifted and j % 3 == 0 else 0.0
    kind = j % 3
    if kind == 0:
        x = rng.normal(10 * j + shift, 1 + j % 4, n)
    elif kind == 1:
        x = rng.lognormal(1 + shift, 0.5, n)
    else:
        x = rng.uniform(0 + shift, 100, n)
    cols['n%02d' % j] = x
for j in range(cat):
    k = 3 + 9 * j
    p = np.arange(1, k + 1, dtype=float)
    if shifted and j == 0:
        p = p[::-1]
    p /= p.sum()
    cols['c%d' % j] = np.array(['v%d_%d' % (j, i) for i in range(k)])[rng.choice(k, n, p=p)]
df = pd.DataFrame(cols)
df.to_csv(sys.stdout, index=False, float_format='%.6g', chunksize=100000)
