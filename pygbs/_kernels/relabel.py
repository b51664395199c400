"""Scores of many labellings of one point pattern whose graph is built once.

The accuracy-matched null (docs/method.md, D7) relabels the samples of each
neighbourhood with every null draw. The graph depends on locations only; each draw then
costs a pass over the neighbourhood's *samples* only:

``S = sum_E z_a z_b - zbar * sum_a z_a (out_a + in_a) + zbar^2 |E|``

(``x = z - zbar``, background labels 0), which equals the statistic of
:func:`pygbs._kernels.stats.centred_statistic` up to rounding.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from pygbs._kernels.stats import (
    PYGBS_P_FLOOR,
    analytic_moments_sums,
    log_norm_sf,
    pygbs_moments_counts,
    pygbs_pvalue,
    value_counts,
)

#: Null methods of :func:`score_relabelled` (the values of ``pygbs._kernels.ssi``).
_PYGBS = 0


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
def labels_statistic(z, src, dst, deg, n_edges, m):
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
def counts_with_background(z, n_bg, cs, ns):
    """Sorted distinct labels of ``z`` plus ``n_bg`` background zeros, and their counts.

    ``cs`` and ``ns`` (length ``len(z) + 1`` at least) receive them; returns how many.
    Labels of +-1 only are counted without a sort.
    """
    n = z.shape[0]
    n_pos = 0
    n_neg = 0
    for t in range(n):
        if z[t] == 1.0:
            n_pos += 1
        elif z[t] == -1.0:
            n_neg += 1
    u = 0
    if n_pos + n_neg == n:
        if n_neg > 0:
            cs[u] = -1.0
            ns[u] = n_neg
            u += 1
        if n_bg > 0:
            cs[u] = 0.0
            ns[u] = n_bg
            u += 1
        if n_pos > 0:
            cs[u] = 1.0
            ns[u] = n_pos
            u += 1
        return u
    vc, vn = value_counts(z)
    placed = n_bg == 0
    for i in range(vc.shape[0]):
        if not placed and vc[i] > 0.0:
            cs[u] = 0.0
            ns[u] = n_bg
            u += 1
            placed = True
        cs[u] = vc[i]
        ns[u] = vn[i]
        u += 1
    if not placed:
        cs[u] = 0.0
        ns[u] = n_bg
        u += 1
    return u


@njit(cache=True)
def deviation_sums(z, n_bg):
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


@njit(cache=True)
def score_relabelled(nbr, ids, m, draws, method, s0, s1, s2, out):
    """SSI of the pattern with graph ``nbr`` under every labelling ``draws[r, ids]``.

    The first ``len(ids)`` of the ``m`` points are the samples ``ids``, the others
    background points (label 0). ``method``: 0 the reference's null (pygbs), else the
    analytic one with the graph constants ``s0, s1, s2``. Fills ``out[r]`` (NaN where the
    analytic variance is 0).
    """
    n = ids.shape[0]
    src, dst, deg, n_edges = sample_edges(nbr, n)
    z = np.empty(n)
    cs = np.empty(n + 1)
    ns = np.empty(n + 1)
    for r in range(draws.shape[0]):
        for t in range(n):
            z[t] = draws[r, ids[t]]
        s = labels_statistic(z, src, dst, deg, n_edges, m)
        if method == _PYGBS:
            u = counts_with_background(z, m - n, cs, ns)
            mu, sigma = pygbs_moments_counts(cs[:u], ns[:u])
            out[r] = -math.log(pygbs_pvalue(s, mu, sigma) + PYGBS_P_FLOOR)
        else:
            m2, m4 = deviation_sums(z, m - n)
            mu, sigma = analytic_moments_sums(m, m2, m4, s0, s1, s2)
            out[r] = -(math.log(2.0) + log_norm_sf(abs(s - mu) / sigma)) if sigma > 0 else np.nan
