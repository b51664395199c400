"""Moran-type statistic ``S = x^T W x`` over a sparse k-NN graph and its null moments.

``W`` is given as a neighbour table ``nbr`` of shape (m, w): row ``a`` lists the points
that ``a`` points to (binary, directed weights), padded with -1. Nothing here builds an
m x m matrix.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Added to ``p`` before the log in ``method="pygbs"`` (the reference's constant; it makes
#: the score saturate at ``-ln(1e-256) = 589.46``).
PYGBS_P_FLOOR = 1e-256
#: The reference's null moments hard-code k = 4 whatever ``k`` is; kept for parity.
PYGBS_K = 4.0
_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@njit(cache=True)
def centred_statistic(z, nbr):
    """``S = sum_a x_a sum_{b in N(a)} x_b`` with ``x = z - mean(z)``."""
    m, k = nbr.shape
    mean = 0.0
    for a in range(m):
        mean += z[a]
    mean /= m
    s = 0.0
    for a in range(m):
        acc = 0.0
        for j in range(k):
            b = nbr[a, j]
            if b >= 0:
                acc += z[b] - mean
        s += (z[a] - mean) * acc
    return s


@njit(cache=True)
def _value_counts_sorted(z):
    zs = np.sort(z)
    cs = np.empty(zs.shape[0])
    ns = np.empty(zs.shape[0])
    u = 0
    for i in range(zs.shape[0]):
        if u > 0 and zs[i] == cs[u - 1]:
            ns[u - 1] += 1.0
        else:
            cs[u] = zs[i]
            ns[u] = 1.0
            u += 1
    return cs[:u], ns[:u]


#: Up to this many distinct labels are counted by a linear scan (labels are usually
#: {0, 1} or {-1, 0, 1}); more fall back to a sort.
_FEW = 16


@njit(cache=True)
def value_counts(z):
    """Sorted distinct values of ``z`` and their counts (as float64)."""
    cs = np.empty(_FEW)
    ns = np.empty(_FEW)
    u = 0
    for i in range(z.shape[0]):
        v = z[i]
        t = 0
        while t < u and cs[t] != v:
            t += 1
        if t < u:
            ns[t] += 1.0
        elif u == _FEW:
            return _value_counts_sorted(z)
        else:
            cs[u] = v
            ns[u] = 1.0
            u += 1
    for i in range(1, u):  # insertion sort of the few distinct values
        c, n = cs[i], ns[i]
        j = i
        while j > 0 and cs[j - 1] > c:
            cs[j] = cs[j - 1]
            ns[j] = ns[j - 1]
            j -= 1
        cs[j] = c
        ns[j] = n
    return cs[:u], ns[:u]


@njit(cache=True)
def pygbs_moments(z):
    """Null mean and spread of ``S`` as the public PyGBS code computes them (docs/method.md, D3).

    Returns ``(mu, sigma)`` with ``sigma = sqrt(V) + 1``. The operation order follows the
    reference so results agree to the last bits.
    """
    cs, ns = value_counts(z)
    return pygbs_moments_counts(cs, ns)


@njit(cache=True)
def pygbs_moments_counts(cs, ns):
    """:func:`pygbs_moments` from the sorted distinct labels ``cs`` and their counts ``ns``."""
    u = cs.shape[0]
    big_n = 0.0
    tot = 0.0
    for i in range(u):
        big_n += ns[i]
        tot += cs[i] * ns[i]
    xbar = tot / big_n
    r = 0
    for i in range(1, u):
        if ns[i] > ns[r]:
            r = i
    mu = 0.0
    var = 0.0
    cr = cs[r] - xbar
    for i in range(u):
        ni = ns[i]
        ci = cs[i] - xbar
        for j in range(u):
            nj = ns[j]
            cj = cs[j] - xbar
            coef = ci * cj
            if i != j:
                lo_n, hi_n = min(ni, nj), max(ni, nj)
                mu += coef * (lo_n * PYGBS_K * hi_n / big_n)
                if i != r and j != r:
                    var_num = lo_n * (PYGBS_K * hi_n / big_n) * (1 - PYGBS_K * hi_n / big_n)
                    e = (coef - 2 * ci * cr + cr**2) ** 2
                    var += e * var_num
            else:
                mu += coef * (((ni - 1) * PYGBS_K * ni / big_n) - 1)
                if i != r:
                    var_num = (
                        2
                        * (ni - 1)
                        * PYGBS_K
                        * ni
                        / big_n
                        * (1 - (PYGBS_K * (2 * ni - 1)) / (3 * big_n))
                    )
                    var += (cs[i] - cs[r]) ** 4 * var_num
    return mu, math.sqrt(var) + 1.0


@njit(cache=True)
def pygbs_pvalue(s, mu, sigma):
    """Two-sided normal tail of the reference: ``t = min(S, 2 mu - S)``, ``2 Phi((t-mu)/sigma)``."""
    t = min(s, 2.0 * mu - s)
    return 2.0 * (0.5 * math.erfc(-((t - mu) / sigma) / _SQRT2))


@njit(cache=True)
def log_norm_sf(a):
    """``log(1 - Phi(a))`` for ``a >= 0``, accurate far into the tail (no underflow)."""
    if a < 30.0:
        return math.log(0.5 * math.erfc(a / _SQRT2))
    a2 = a * a
    # asymptotic series of the Mills ratio; relative error < 1e-12 for a >= 30
    series = 1.0 - 1.0 / a2 + 3.0 / a2**2 - 15.0 / a2**3 + 105.0 / a2**4
    return -0.5 * a2 - math.log(a) - _LOG_SQRT_2PI + math.log(series)


@njit(cache=True)
def graph_sums(nbr):
    """``S0, S1, S2`` of the binary directed weights given by ``nbr`` (Cliff & Ord)."""
    m, k = nbr.shape
    indeg = np.zeros(m)
    outdeg = np.zeros(m)
    mutual = 0.0
    for a in range(m):
        for j in range(k):
            b = nbr[a, j]
            if b < 0:
                continue
            outdeg[a] += 1.0
            indeg[b] += 1.0
            for t in range(k):
                if nbr[b, t] == a:
                    mutual += 1.0
                    break
    s0 = outdeg.sum()
    s1 = s0 + mutual  # 0.5 sum (w_ab + w_ba)^2 for 0/1 weights
    s2 = 0.0
    for a in range(m):
        s2 += (outdeg[a] + indeg[a]) ** 2
    return s0, s1, s2


@njit(cache=True)
def analytic_moments(z, s0, s1, s2):
    """Mean and standard deviation of ``S`` under randomisation.

    From Moran's I moments (esda's ``EI``, ``VI_rand``), rescaled by
    ``S = I * S0 * sum(x^2) / n``.
    """
    n = z.shape[0]
    mean = 0.0
    for a in range(n):
        mean += z[a]
    mean /= n
    m2 = 0.0
    m4 = 0.0
    for a in range(n):
        d = z[a] - mean
        m2 += d * d
        m4 += d**4
    return analytic_moments_sums(n, m2, m4, s0, s1, s2)


@njit(cache=True)
def analytic_moments_sums(n, m2, m4, s0, s1, s2):
    """:func:`analytic_moments` from ``n`` labels' sums of squared and 4th-power deviations."""
    if m2 == 0.0:
        return np.nan, np.nan
    kurt = (m4 / n) / ((m2 / n) ** 2)
    ei = -1.0 / (n - 1)
    aa = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0**2)
    bb = kurt * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0**2)
    vi = (aa - bb) / ((n - 1) * (n - 2) * (n - 3) * s0**2) - ei**2
    scale = s0 * m2 / n
    return ei * scale, math.sqrt(max(vi, 0.0)) * scale


@njit(cache=True)
def permutation_pvalue(z, nbr, s, permutations, seed):
    """``p = (1 + #{|S_perm - mean| >= |S - mean|}) / (P + 1)`` over seeded label shuffles.

    Returns ``(p, mean, std)`` of the permutation distribution.
    """
    # numba supports only the legacy global-state API; it is seeded per centre here
    np.random.seed(seed)  # noqa: NPY002
    zz = z.copy()
    sims = np.empty(permutations)
    for t in range(permutations):
        np.random.shuffle(zz)  # noqa: NPY002
        sims[t] = centred_statistic(zz, nbr)
    mean = sims.mean()
    dev = abs(s - mean)
    count = 0
    for t in range(permutations):
        if abs(sims[t] - mean) >= dev:
            count += 1
    return (1.0 + count) / (permutations + 1.0), mean, sims.std()
