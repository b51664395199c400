"""Scores of many labellings of the same neighbourhoods: the accuracy-matched null.

Each null draw is a permutation of the coded values over all samples (docs/method.md,
"The accuracy-matched null"). Everything that depends on locations only (the point pattern
with its background points, the k-NN graph and its constants) is built once per centre;
each draw then costs a pass over the neighbourhood's *samples* only:

``S = sum_E z_a z_b - zbar * sum_a z_a (out_a + in_a) + zbar^2 |E|``

(``x = z - zbar``, background labels 0), which equals the statistic of
:func:`pygbs._kernels.stats.centred_statistic` up to rounding.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from pygbs._kernels import background as bg
from pygbs._kernels.performance import constant_labels
from pygbs._kernels.ssi import (
    METHOD_PYGBS,
    build_pattern,
    gather_samples,
    knn_graph,
    statistic_graph,
)
from pygbs._kernels.stats import (
    PYGBS_P_FLOOR,
    analytic_moments_sums,
    centred_statistic,
    graph_sums,
    log_norm_sf,
    pygbs_moments_counts,
    pygbs_pvalue,
    value_counts,
)


@njit(cache=True)
def sample_edges(nbr, n):
    """The parts of graph ``nbr`` that a labelling of its first ``n`` points needs.

    Returns ``(src, dst, degree, n_edges)``: the edges between samples, each sample's
    out- plus in-degree, and the number of edges of the whole graph.
    """
    m, w = nbr.shape
    deg = np.zeros(n)
    n_edges = 0.0
    ne = 0
    for a in range(m):
        for j in range(w):
            b = nbr[a, j]
            if b < 0:
                continue
            n_edges += 1.0
            if a < n:
                deg[a] += 1.0
            if b < n:
                deg[b] += 1.0
                if a < n:
                    ne += 1
    src = np.empty(ne, np.int64)
    dst = np.empty(ne, np.int64)
    e = 0
    for a in range(n):
        for j in range(w):
            b = nbr[a, j]
            if 0 <= b < n:
                src[e] = a
                dst[e] = b
                e += 1
    return src, dst, deg, n_edges


@njit(cache=True)
def _labels_statistic(z, src, dst, deg, n_edges, m):
    """``S`` of sample labels ``z`` (background 0) from :func:`sample_edges`."""
    n = z.shape[0]
    tot = 0.0
    for t in range(n):
        tot += z[t]
    zbar = tot / m
    pair = 0.0
    for e in range(src.shape[0]):
        pair += z[src[e]] * z[dst[e]]
    lin = 0.0
    for t in range(n):
        lin += z[t] * deg[t]
    return pair - zbar * lin + zbar * zbar * n_edges


@njit(cache=True)
def _with_background(z, n_bg):
    """Sorted distinct labels and counts of ``z`` plus ``n_bg`` background zeros."""
    cs, ns = value_counts(z)
    u = cs.shape[0]
    out_c = np.empty(u + 1)
    out_n = np.empty(u + 1)
    t = 0
    placed = n_bg == 0
    for i in range(u):
        if not placed and cs[i] > 0.0:
            out_c[t] = 0.0
            out_n[t] = n_bg
            t += 1
            placed = True
        out_c[t] = cs[i]
        out_n[t] = ns[i]
        t += 1
    if not placed:
        out_c[t] = 0.0
        out_n[t] = n_bg
        t += 1
    return out_c[:t], out_n[:t]


@njit(cache=True)
def _deviation_sums(z, n_bg):
    """Sums of squared and 4th-power deviations of ``z`` plus ``n_bg`` zeros."""
    n = z.shape[0]
    m = n + n_bg
    mean = 0.0
    for t in range(n):
        mean += z[t]
    mean /= m
    m2 = n_bg * mean * mean
    m4 = n_bg * mean**4
    for t in range(n):
        d = z[t] - mean
        m2 += d * d
        m4 += d**4
    return m2, m4


@njit(cache=True, parallel=True, nogil=True)  # nogil: pygbs.runtime.call_kernel
def marked_null_batch(
    lat, lon, coslat, xyz, draws, centres, indptr, indices, radius, active, rot, k,
    reference_rule, method,
):  # fmt: skip
    """Marked SSI of every active centre under each labelling ``draws[r]``.

    Parameters are those of :func:`pygbs._kernels.ssi.ssi_batch` (``method`` pygbs or
    analytic), with ``draws`` of shape (R, n): the coded values of all samples per draw.

    Returns
    -------
    out : (c, R) float64, NaN where not scored.
    """
    nc = centres.shape[0]
    n_draws = draws.shape[0]
    out = np.full((nc, n_draws), np.nan)
    table = bg.batch_bearings(indptr, radius, active)
    labels_only = method == METHOD_PYGBS
    for c in prange(nc):
        if not active[c]:
            continue
        ids = indices[indptr[c] : indptr[c + 1]]
        n = ids.shape[0]
        plat, plon, pcos, pxyz = build_pattern(lat, lon, coslat, xyz, ids, radius[c], rot[c], table)
        m = pxyz.shape[0]
        clat, clon = lat[centres[c]], lon[centres[c]]
        if labels_only:
            nbr = statistic_graph(
                plat, plon, pcos, pxyz, clat, clon, k, reference_rule, n, radius[c], table[2]
            )
        else:
            nbr = knn_graph(plat, plon, pcos, pxyz, clat, clon, k, reference_rule)
        src, dst, deg, n_edges = sample_edges(nbr, n)
        if labels_only:
            s0 = s1 = s2 = 0.0
        else:
            s0, s1, s2 = graph_sums(nbr)
        z = np.empty(n)
        for r in range(n_draws):
            for t in range(n):
                z[t] = draws[r, ids[t]]
            s = _labels_statistic(z, src, dst, deg, n_edges, m)
            if labels_only:
                cs, ns = _with_background(z, float(m - n))
                mu, sigma = pygbs_moments_counts(cs, ns)
                p = pygbs_pvalue(s, mu, sigma)
                out[c, r] = -math.log(p + PYGBS_P_FLOOR)
            else:
                m2, m4 = _deviation_sums(z, m - n)
                mu, sigma = analytic_moments_sums(m, m2, m4, s0, s1, s2)
                if sigma > 0.0:
                    zscore = abs(s - mu) / sigma
                    out[c, r] = -(math.log(2.0) + log_norm_sf(zscore))
    return out


@njit(cache=True, parallel=True, nogil=True)
def performance_null_batch(lat, lon, coslat, xyz, draws, centres, indptr, indices, active, k):
    """Performance SSI and Moran's I of every active centre under each labelling.

    Returns ``(ssi, moran)``, each (c, R): analytic performance SSI (0 for a constant
    labelling) and Moran's I (NaN for a constant labelling) among the samples.
    """
    nc = centres.shape[0]
    n_draws = draws.shape[0]
    ssi = np.full((nc, n_draws), np.nan)
    moran = np.full((nc, n_draws), np.nan)
    for c in prange(nc):
        if not active[c]:
            continue
        ids = indices[indptr[c] : indptr[c + 1]]
        n = ids.shape[0]
        plat, plon, pcos, pxyz = gather_samples(lat, lon, coslat, xyz, ids, n)
        nbr = knn_graph(plat, plon, pcos, pxyz, lat[centres[c]], lon[centres[c]], k, False)
        s0, s1, s2 = graph_sums(nbr)
        z = np.empty(n)
        for r in range(n_draws):
            for t in range(n):
                z[t] = draws[r, ids[t]]
            if constant_labels(z):
                ssi[c, r] = 0.0
                continue
            s = centred_statistic(z, nbr)
            m2, m4 = _deviation_sums(z, 0)
            mu, sigma = analytic_moments_sums(n, m2, m4, s0, s1, s2)
            moran[c, r] = s * n / (s0 * m2)
            if sigma > 0.0:
                zscore = abs(s - mu) / sigma
                ssi[c, r] = -(math.log(2.0) + log_norm_sf(zscore))
    return ssi, moran
