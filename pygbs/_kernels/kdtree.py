"""A 3-D k-d tree on unit vectors, in numba.

The tree is built over unit vectors and prunes with squared chord lengths, but candidates
are ranked by the haversine "reduced distance" ``h = sin^2(dlat/2) + cos(lat1) cos(lat2)
sin^2(dlon/2)`` computed from latitude/longitude in radians with the same floating-point
operations as scikit-learn's haversine metric (great-circle distance ``2 asin(sqrt(h))``).
Ranking on the same float values as the public reference implementation means that
points which are equidistant in exact arithmetic (a centre and its background ring) compare
the same way as there. Exact ties are broken by point index: the lower index wins, so every
query is deterministic whatever the build order.

The tree is a tuple of arrays ``(perm, start, end, left, lo, hi)``: ``perm`` orders the
points so that node ``j`` holds ``perm[start[j]:end[j]]``; ``left[j]`` is its first child
(``left[j] + 1`` the second) or -1 for a leaf; ``lo``/``hi`` its bounding box.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

LEAF_SIZE = 16
_STACK = 128  # depth of a median-split tree over < 2**60 points is far below this
_BIG = np.iinfo(np.int64).max
#: Safety factor on the chord bound used for pruning (chord^2 = 4 h in exact arithmetic;
#: the margin covers the rounding of chords between nearly coincident unit vectors).
_PRUNE = 1.0 + 1e-6
_PRUNE_ABS = 1e-28
#: Relative tolerance under which two distances are ties in the "strict" graph rule.
TIE_RTOL = 1e-9


@njit(cache=True, inline="always")
def rdist(lat1, lon1, coslat1, lat2, lon2, coslat2):
    """Haversine reduced distance, operation for operation as scikit-learn computes it.

    ``coslat`` = ``cos(lat)``, precomputed.
    """
    sin_0 = math.sin(0.5 * (lat1 - lat2))
    sin_1 = math.sin(0.5 * (lon1 - lon2))
    return sin_0 * sin_0 + coslat1 * coslat2 * sin_1 * sin_1


@njit(cache=True)
def cos_all(lat):
    """``cos`` of every latitude with the C library's ``cos`` (as scikit-learn uses)."""
    out = np.empty(lat.shape[0])
    for i in range(lat.shape[0]):
        out[i] = math.cos(lat[i])
    return out


@njit(cache=True)
def unit_vectors(lat, lon):
    """Unit vectors ``(cos lat cos lon, cos lat sin lon, sin lat)``.

    With the C library's scalar ``cos``/``sin``, not NumPy's CPU-dependent SIMD loops
    (docs/method.md, "Reproducibility across machines").
    """
    n = lat.shape[0]
    out = np.empty((n, 3))
    for i in range(n):
        c = math.cos(lat[i])
        out[i, 0] = c * math.cos(lon[i])
        out[i, 1] = c * math.sin(lon[i])
        out[i, 2] = math.sin(lat[i])
    return out


@njit(cache=True)
def h_to_angle(h):
    """Great-circle angle ``2 asin(sqrt(h))`` of haversine reduced distances (flat array).

    With the C library's scalar ``asin``, as scikit-learn computes it.
    """
    out = np.empty(h.shape[0])
    for i in range(h.shape[0]):
        out[i] = 2.0 * math.asin(math.sqrt(h[i]))
    return out


@njit(cache=True)
def _select(pts, dim, perm, s, e, mid):
    """Reorder ``perm[s:e]`` so that ``perm[mid]`` has the median key ``pts[., dim]``.

    Smaller-or-equal keys end up before it and greater-or-equal after (Hoare quickselect
    with a median-of-three pivot: O(e - s), deterministic).
    """
    lo, hi = s, e - 1
    while hi > lo:
        a, b, c = pts[perm[lo], dim], pts[perm[(lo + hi) // 2], dim], pts[perm[hi], dim]
        pivot = max(min(a, b), min(max(a, b), c))
        i, j = lo, hi
        while i <= j:
            while pts[perm[i], dim] < pivot:
                i += 1
            while pts[perm[j], dim] > pivot:
                j -= 1
            if i <= j:
                perm[i], perm[j] = perm[j], perm[i]
                i += 1
                j -= 1
        if mid <= j:
            hi = j
        elif mid >= i:
            lo = i
        else:
            break


@njit(cache=True)
def build(pts, leaf_size=LEAF_SIZE):
    """Build the tree over ``pts`` (n, 3); returns ``(perm, start, end, left, lo, hi)``."""
    n = pts.shape[0]
    max_nodes = 4 * (n // max(leaf_size // 2, 1) + 2)
    perm = np.arange(n)
    start = np.zeros(max_nodes, np.int64)
    end = np.zeros(max_nodes, np.int64)
    left = -np.ones(max_nodes, np.int64)
    lo = np.zeros((max_nodes, 3))
    hi = np.zeros((max_nodes, 3))
    stack = np.empty(_STACK, np.int64)
    start[0], end[0] = 0, n
    count, sp = 1, 0
    stack[sp] = 0
    sp += 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        s, e = start[node], end[node]
        for d in range(3):
            lo[node, d] = np.inf
            hi[node, d] = -np.inf
        for t in range(s, e):
            p = perm[t]
            for d in range(3):
                v = pts[p, d]
                if v < lo[node, d]:
                    lo[node, d] = v
                if v > hi[node, d]:
                    hi[node, d] = v
        if e - s <= leaf_size:
            continue
        dim = 0
        spread = hi[node, 0] - lo[node, 0]
        for d in range(1, 3):
            if hi[node, d] - lo[node, d] > spread:
                spread = hi[node, d] - lo[node, d]
                dim = d
        if spread <= 0.0:  # all points coincide: keep one leaf
            continue
        mid = (s + e) // 2
        _select(pts, dim, perm, s, e, mid)
        left[node] = count
        start[count], end[count] = s, mid
        start[count + 1], end[count + 1] = mid, e
        stack[sp] = count
        stack[sp + 1] = count + 1
        sp += 2
        count += 2
    return perm, start[:count], end[:count], left[:count], lo[:count], hi[:count]


@njit(cache=True, inline="always")
def _box_dist2(lo, hi, node, q0, q1, q2):
    d2 = 0.0
    q = (q0, q1, q2)
    for d in range(3):
        if q[d] < lo[node, d]:
            t = lo[node, d] - q[d]
            d2 += t * t
        elif q[d] > hi[node, d]:
            t = q[d] - hi[node, d]
            d2 += t * t
    return d2


@njit(cache=True, inline="always")
def before(ha, ia, hb, ib, tie_rtol):
    """(distance, index) order; distances within ``tie_rtol`` (relative) count as ties."""
    if ha == hb or (tie_rtol > 0.0 and abs(ha - hb) <= tie_rtol * max(ha, hb)):
        return ia < ib
    return ha < hb


@njit(cache=True, inline="always")
def reset_best(k, out_h, out_i):
    """Empty the k-best lists (``out_h`` distances, ``out_i`` indices)."""
    for j in range(k):
        out_h[j] = np.inf
        out_i[j] = _BIG


@njit(cache=True, inline="always")
def offer(h, p, k, out_h, out_i, tie_rtol):
    """Insert point ``p`` at reduced distance ``h`` into the sorted k-best lists.

    Returns whether it was inserted.
    """
    if out_i[k - 1] != _BIG and not before(h, p, out_h[k - 1], out_i[k - 1], tie_rtol):
        return False
    j = k - 1
    while j > 0 and (out_i[j - 1] == _BIG or before(h, p, out_h[j - 1], out_i[j - 1], tie_rtol)):
        out_h[j] = out_h[j - 1]
        out_i[j] = out_i[j - 1]
        j -= 1
    out_h[j] = h
    out_i[j] = p
    return True


@njit(cache=True, inline="always")
def chord_bound(h, tie_rtol):
    """Squared chord beyond which no point can be closer than reduced distance ``h``."""
    return 4.0 * h * (_PRUNE + 2 * tie_rtol) + _PRUNE_ABS


@njit(cache=True, inline="always")
def finish_best(k, out_i):
    """Mark empty slots with -1; return the number of points found."""
    found = 0
    for j in range(k):
        if out_i[j] == _BIG:
            out_i[j] = -1
        else:
            found += 1
    return found


@njit(cache=True)
def knn(pts, lat, lon, coslat, tree, q, k, exclude, out_h, out_i, stack, tie_rtol=0.0):
    """The ``k`` nearest points of point ``q`` (not ``exclude``), by (distance, index).

    ``q`` indexes ``pts``/``lat``/``lon`` (queries are data points). Fills ``out_h``
    (reduced haversine distances) and ``out_i`` (indices, -1 where fewer than ``k`` points
    exist) and returns how many were found. With ``tie_rtol > 0``, distances equal to
    within that relative tolerance are ties (so that points equidistant in exact arithmetic
    are ordered by index, not by rounding noise).
    """
    perm, start, end, left, lo, hi = tree
    q0, q1, q2 = pts[q, 0], pts[q, 1], pts[q, 2]
    qlat, qlon, qcos = lat[q], lon[q], coslat[q]
    reset_best(k, out_h, out_i)
    sp = 0
    stack[sp] = 0
    sp += 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        bound = chord_bound(out_h[k - 1], tie_rtol)
        if _box_dist2(lo, hi, node, q0, q1, q2) > bound:
            continue
        c = left[node]
        if c < 0:
            for t in range(start[node], end[node]):
                p = perm[t]
                if p == exclude:
                    continue
                a = pts[p, 0] - q0
                b = pts[p, 1] - q1
                cc = pts[p, 2] - q2
                if a * a + b * b + cc * cc > bound:  # cheap chord test before the trig
                    continue
                h = rdist(qlat, qlon, qcos, lat[p], lon[p], coslat[p])
                if offer(h, p, k, out_h, out_i, tie_rtol):
                    bound = chord_bound(out_h[k - 1], tie_rtol)
        else:
            dl = _box_dist2(lo, hi, c, q0, q1, q2)
            dr = _box_dist2(lo, hi, c + 1, q0, q1, q2)
            if dl <= dr:  # push the farther child first so the nearer one is popped next
                stack[sp] = c + 1
                stack[sp + 1] = c
            else:
                stack[sp] = c
                stack[sp + 1] = c + 1
            sp += 2
    return finish_best(k, out_i)


@njit(cache=True)
def _within(pts, lat, lon, coslat, tree, q, h_max, out_i, out_h, fill):
    """Count (and if ``fill``, store) the points with reduced distance <= ``h_max``."""
    perm, start, end, left, lo, hi = tree
    q0, q1, q2 = pts[q, 0], pts[q, 1], pts[q, 2]
    stack = np.empty(_STACK, np.int64)
    sp = 0
    stack[sp] = 0
    sp += 1
    n = 0
    while sp > 0:
        sp -= 1
        node = stack[sp]
        bound = 4.0 * h_max * _PRUNE + _PRUNE_ABS
        if _box_dist2(lo, hi, node, q0, q1, q2) > bound:
            continue
        c = left[node]
        if c < 0:
            for t in range(start[node], end[node]):
                p = perm[t]
                a = pts[p, 0] - q0
                b = pts[p, 1] - q1
                cc = pts[p, 2] - q2
                if a * a + b * b + cc * cc > bound:
                    continue
                h = rdist(lat[q], lon[q], coslat[q], lat[p], lon[p], coslat[p])
                if h <= h_max:
                    if fill:
                        out_i[n] = p
                        out_h[n] = h
                    n += 1
        else:
            stack[sp] = c
            stack[sp + 1] = c + 1
            sp += 2
    return n


@njit(cache=True, parallel=True, nogil=True)  # nogil: pygbs.cancel.call_kernel
def knn_batch(pts, lat, lon, coslat, tree, queries, k):
    """Find the ``k`` nearest data points of each data point ``queries[i]``.

    The query itself is not excluded. Returns ``(idx, h)`` of shape (len(queries), k).
    """
    nq = queries.shape[0]
    idx = np.empty((nq, k), np.int64)
    hh = np.empty((nq, k))
    for i in prange(nq):
        stack = np.empty(_STACK, np.int64)
        knn(pts, lat, lon, coslat, tree, queries[i], k, -1, hh[i], idx[i], stack)
    return idx, hh


@njit(cache=True, parallel=True, nogil=True)  # nogil: pygbs.cancel.call_kernel
def radius_batch(pts, lat, lon, coslat, tree, queries, h_max):
    """Find all data points with reduced distance <= ``h_max[i]`` of each ``queries[i]``.

    Returns CSR ``(indptr, indices, h)`` sorted by (distance, index).
    """
    nq = queries.shape[0]
    counts = np.zeros(nq + 1, np.int64)
    dummy_i = np.empty(0, np.int64)
    dummy_h = np.empty(0)
    for i in prange(nq):
        counts[i + 1] = _within(
            pts, lat, lon, coslat, tree, queries[i], h_max[i], dummy_i, dummy_h, False
        )
    indptr = np.cumsum(counts)
    indices = np.empty(indptr[-1], np.int64)
    hs = np.empty(indptr[-1])
    for i in prange(nq):
        a, b = indptr[i], indptr[i + 1]
        ii = np.empty(b - a, np.int64)
        hh = np.empty(b - a)
        _within(pts, lat, lon, coslat, tree, queries[i], h_max[i], ii, hh, True)
        o1 = np.argsort(ii, kind="mergesort")
        ii = ii[o1]
        hh = hh[o1]
        o2 = np.argsort(hh, kind="mergesort")  # stable: equal distances keep index order
        indices[a:b] = ii[o2]
        hs[a:b] = hh[o2]
    return indptr, indices, hs
