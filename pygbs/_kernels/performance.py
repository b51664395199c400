"""Performance SSI of many neighbourhoods at once, in numba (docs/method.md, D4).

For each centre the pattern is the neighbourhood's samples alone (no background points):
their coded performance ``v`` on the directed k-NN graph among them (strict rule: exactly
``k`` other samples, near-ties broken by index), the statistic ``S = x^T W x`` and its
analytic (Moran's I under randomisation) or permutation null. A neighbourhood whose
samples all share one coded value has ``p = 1`` and SSI 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from pygbs._kernels.ssi import (
    METHOD_PERMUTATION,
    N_OUT,
    OUT_P,
    OUT_S,
    OUT_SSI,
    gather_samples,
    knn_graph,
    score_pattern,
)
from pygbs._kernels.stats import graph_sums

#: Column of Moran's I in the output of :func:`performance_batch` (after the N_OUT columns
#: of :func:`pygbs._kernels.ssi.score_pattern`).
OUT_I = N_OUT


@njit(cache=True)
def constant_labels(z):
    """Whether every value of ``z`` is the same."""
    for t in range(1, z.shape[0]):
        if z[t] != z[0]:
            return False
    return True


@njit(cache=True, parallel=True)
def performance_batch(
    lat, lon, coslat, xyz, marks, centres, indptr, indices, active, k, method, permutations, seed
):
    """Score every active centre; returns ``out`` of shape (c, N_OUT + 1), NaN where skipped.

    The last column (:data:`OUT_I`) is Moran's I of the coded values on the same graph,
    ``I = n S / (S0 sum x^2)``; NaN where every sample has the same coded value.

    Parameters
    ----------
    lat, lon, coslat : (n,) radians and cosine of latitude of all samples; xyz : (n, 3)
        unit vectors; marks : (n,) coded values.
    centres : (c,) sample id of each centre; ``indptr``/``indices``: CSR neighbourhoods.
    active : (c,) bool, the centres to score.
    k : neighbours per sample; method : ``METHOD_ANALYTIC`` or ``METHOD_PERMUTATION``;
    permutations, seed : the permutation test (seeded per centre as for the other SSIs).
    """
    nc = centres.shape[0]
    out = np.full((nc, N_OUT + 1), np.nan)
    for c in prange(nc):
        if not active[c]:
            continue
        ids = indices[indptr[c] : indptr[c + 1]]
        n = ids.shape[0]
        z = np.empty(n)
        for t in range(n):
            z[t] = marks[ids[t]]
        if constant_labels(z):
            out[c, OUT_SSI] = 0.0
            out[c, OUT_P] = 1.0
            continue
        plat, plon, pcos, pxyz = gather_samples(lat, lon, coslat, xyz, ids, n)
        nbr = knn_graph(plat, plon, pcos, pxyz, lat[centres[c]], lon[centres[c]], k, False)
        cseed = (seed * 1000003 + centres[c]) % 4294967296
        score_pattern(z, nbr, method, permutations if method == METHOD_PERMUTATION else 0,
                      cseed, out[c])  # fmt: skip
        s0 = graph_sums(nbr)[0]
        mean = z.mean()
        m2 = 0.0
        for t in range(n):
            m2 += (z[t] - mean) ** 2
        out[c, OUT_I] = out[c, OUT_S] * n / (s0 * m2)
    return out
