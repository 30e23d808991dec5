#!/usr/bin/env python3
"""The peer of scripts/bench/drift-*.sh: what a Python user runs for a
drift check without Evidently -- pandas reads both files, scipy computes
Evidently's default test per column (reference > 1000 rows: normed
Wasserstein for numerical columns with more than 5 values, else
Jensen-Shannon over shares), and the data set rule (share >= 0.5).
Usage: drift-peer.py REFERENCE CURRENT OUT.json"""
import json
import sys

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

ref = pd.read_csv(sys.argv[1])
cur = pd.read_csv(sys.argv[2])
out = {}
for name in ref.columns:
    r = ref[name].replace([np.inf, -np.inf], np.nan).dropna()
    c = cur[name].replace([np.inf, -np.inf], np.nan).dropna()
    numerical = pd.api.types.is_float_dtype(c) or (
        pd.api.types.is_integer_dtype(c) and c.nunique() > 10)
    n_unique = pd.concat([r, c]).nunique()
    if len(r) <= 1000:
        sys.exit("peer: the benchmark data has more than 1000 rows")
    if numerical and n_unique > 5:
        score = stats.wasserstein_distance(r, c) / max(np.std(r), 0.001)
        out[name] = ('wasserstein', score, bool(score >= 0.1))
        continue
    if numerical and r.nunique() > 20:
        edges = np.histogram_bin_edges(pd.concat([r, c]).values, bins='sturges')
        p = np.histogram(r, edges)[0] / len(r)
        q = np.histogram(c, edges)[0] / len(c)
    else:
        keys = sorted(set(r.unique()) | set(c.unique()))
        rv, cv = r.value_counts(), c.value_counts()
        p = np.array([rv.get(k, 0) for k in keys]) / len(r)
        q = np.array([cv.get(k, 0) for k in keys]) / len(c)
    score = distance.jensenshannon(p, q)
    out[name] = ('jensenshannon', score, bool(score >= 0.1))
share = sum(d for _, _, d in out.values()) / len(out)
json.dump(out, open(sys.argv[3], 'w'))
print('dataset drift:', share >= 0.5, 'share', share)
