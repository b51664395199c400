"""Geary's C of performance among a neighbourhood's samples, in numba.

For each centre: the neighbourhood's samples alone (no background points), their coded
performance ``z`` on the directed k-NN graph among them (strict rule, as performance SSI
and Moran's I: exactly ``k`` other samples, near-ties broken by index, binary weights),

    C = (n - 1) sum_ij w_ij (z_i - z_j)^2 / (2 S0 sum_i (z_i - mean)^2),

its expectation 1 and its variance under normality or randomisation (Cliff and Ord; the
formulas of ``esda.Geary``), the z-value ``(C - 1) / sd`` and the one-sided p-value in the
direction of ``C - 1`` (as ``esda.Geary``'s ``p_norm`` / ``p_rand``). C is unchanged by
a common factor of the weights, so binary and row-standardised k-NN weights give the same C
and the same variances. A neighbourhood whose samples share one coded value has no C (NaN).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from pygbs._kernels.performance import constant_labels
from pygbs._kernels.relabel import deviation_sums
from pygbs._kernels.ssi import gather_samples, knn_graph
from pygbs._kernels.stats import graph_sums

#: ``variance`` of :func:`geary_batch`: values drawn from a normal distribution ...
VARIANCE_NORMAL = 0
#: ... or a random permutation of the observed values.
VARIANCE_RANDOMIZATION = 1
#: Columns of the output of :func:`geary_batch`.
OUT_C, OUT_Z, OUT_P = 0, 1, 2

_SQRT2 = math.sqrt(2.0)


@njit(cache=True)
def geary_statistic(z, nbr, s0, m2):
    """Geary's C of the values ``z`` on the directed graph ``nbr`` (-1 padded)."""
    n, k = nbr.shape
    num = 0.0
    for a in range(n):
        for j in range(k):
            b = nbr[a, j]
            if b < 0:
                continue
            d = z[a] - z[b]
            num += d * d
    return (n - 1) * num / (2.0 * s0 * m2)


@njit(cache=True)
def geary_variance(n, m2, m4, s0, s1, s2, variance):
    """Variance of C under the null (``variance``: normal or randomisation); ``n >= 4``."""
    s02 = s0 * s0
    if variance == VARIANCE_NORMAL:
        return ((2.0 * s1 + s2) * (n - 1) - 4.0 * s02) / (2.0 * (n + 1) * s02)
    kurt = (m4 / n) / ((m2 / n) ** 2)
    n2 = n * n
    a = (n - 1) * s1 * (n2 - 3 * n + 3 - (n - 1) * kurt)
    b = 0.25 * ((n - 1) * s2 * (n2 + 3 * n - 6 - (n2 - n + 2) * kurt))
    c = s02 * (n2 - 3 - (n - 1) ** 2 * kurt)
    return (a - b + c) / (n * (n - 2) * (n - 3) * s02)


@njit(cache=True, parallel=True)
def geary_batch(lat, lon, coslat, xyz, marks, centres, indptr, indices, active, k, variance):
    """C, its z-value and p-value of every active centre: shape (c, 3), NaN where skipped.

    Parameters
    ----------
    lat, lon, coslat : (n,) radians and cosine of latitude of all samples; xyz : (n, 3)
        unit vectors; marks : (n,) coded values.
    centres : (c,) sample id of each centre; ``indptr``/``indices``: CSR neighbourhoods.
    active : (c,) bool, the centres to score (at least 4 samples).
    k : neighbours per sample; variance : :data:`VARIANCE_NORMAL` or
    :data:`VARIANCE_RANDOMIZATION`.
    """
    nc = centres.shape[0]
    out = np.full((nc, 3), np.nan)
    for c in prange(nc):
        if not active[c]:
            continue
        ids = indices[indptr[c] : indptr[c + 1]]
        n = ids.shape[0]
        z = np.empty(n)
        for t in range(n):
            z[t] = marks[ids[t]]
        if constant_labels(z):
            continue
        plat, plon, pcos, pxyz = gather_samples(lat, lon, coslat, xyz, ids, n)
        nbr = knn_graph(plat, plon, pcos, pxyz, lat[centres[c]], lon[centres[c]], k, False)
        s0, s1, s2 = graph_sums(nbr)
        m2, m4 = deviation_sums(z, 0)
        value = geary_statistic(z, nbr, s0, m2)
        out[c, OUT_C] = value
        var = geary_variance(float(n), m2, m4, s0, s1, s2, variance)
        if var > 0.0:
            zval = (value - 1.0) / math.sqrt(var)
            out[c, OUT_Z] = zval
            out[c, OUT_P] = 0.5 * math.erfc(abs(zval) / _SQRT2)
    return out


@njit(cache=True, parallel=True, nogil=True)
def geary_null_batch(lat, lon, coslat, xyz, draws, centres, indptr, indices, active, k):
    """Geary's C of every active centre under each labelling ``draws[r]``: shape (c, R).

    The k-NN graph among a neighbourhood's samples and its sums are built once per centre
    and every labelling is scored on them; NaN where not scored or the labelling is
    constant on the neighbourhood.
    """
    nc = centres.shape[0]
    n_draws = draws.shape[0]
    out = np.full((nc, n_draws), np.nan)
    for c in prange(nc):
        if not active[c]:
            continue
        ids = indices[indptr[c] : indptr[c + 1]]
        n = ids.shape[0]
        plat, plon, pcos, pxyz = gather_samples(lat, lon, coslat, xyz, ids, n)
        nbr = knn_graph(plat, plon, pcos, pxyz, lat[centres[c]], lon[centres[c]], k, False)
        s0 = graph_sums(nbr)[0]
        z = np.empty(n)
        for r in range(n_draws):
            for t in range(n):
                z[t] = draws[r, ids[t]]
            if constant_labels(z):
                continue
            m2 = deviation_sums(z, 0)[0]
            out[c, r] = geary_statistic(z, nbr, s0, m2)
    return out
