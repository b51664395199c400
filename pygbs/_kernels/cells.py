"""All-points k-nearest-neighbour search inside one neighbourhood, on a cell grid.

A neighbourhood's pattern (samples + background) lies in a spherical cap. Its points are
rotated so the centre is the north pole and bucketed on a square grid of the tangent
plane, about one point per cell. A query scans rings of cells outwards and stops once no
unscanned cell can hold a point closer than its current k-th neighbour: the planar
distance in the tangent plane is a lower bound of the chord between unit vectors. Ranking
uses the haversine reduced distance (:func:`pygbs._kernels.kdtree.rdist`) and the same
(distance, index) order as the k-d tree, so results do not depend on the search order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from pygbs._kernels.kdtree import _before, rdist


@njit(cache=True)
def build_cells(xyz, center_lat, center_lon):
    """Bucket the points; returns ``(px, py, x0, y0, cs, nside, cell_start, items)``."""
    m = xyz.shape[0]
    a = 0.5 * math.pi - center_lat
    ca, sa = math.cos(a), math.sin(a)
    cb, sb = math.cos(center_lon), math.sin(center_lon)
    px = np.empty(m)
    py = np.empty(m)
    for t in range(m):
        u = xyz[t, 0] * cb + xyz[t, 1] * sb
        px[t] = u * ca - xyz[t, 2] * sa
        py[t] = -xyz[t, 0] * sb + xyz[t, 1] * cb
    x0, x1 = px.min(), px.max()
    y0, y1 = py.min(), py.max()
    width = max(x1 - x0, y1 - y0)
    nside = max(1, int(math.sqrt(m)))
    cs = width / nside if width > 0 else 1.0
    nside += 1
    counts = np.zeros(nside * nside + 1, np.int64)
    cell = np.empty(m, np.int64)
    for t in range(m):
        cx = min(int((px[t] - x0) / cs), nside - 1)
        cy = min(int((py[t] - y0) / cs), nside - 1)
        cell[t] = cy * nside + cx
        counts[cell[t] + 1] += 1
    cell_start = np.cumsum(counts)
    fill = cell_start[:-1].copy()
    items = np.empty(m, np.int64)
    for t in range(m):
        items[fill[cell[t]]] = t
        fill[cell[t]] += 1
    return px, py, x0, y0, cs, nside, cell_start, items


#: Chord^2 values this close (relative) may order differently from the haversine reduced
#: distance through rounding: such near-ties are settled with the exact haversine values.
_CLOSE = 1e-5
_CLOSE_ABS = 1e-24
#: Extra slots kept beyond the k nearest to hold a near-tie group at the k-th place.
EXTRA = 8


@njit(cache=True, inline="always")
def _close(a, b):
    return abs(a - b) <= _CLOSE * max(a, b) + _CLOSE_ABS


@njit(cache=True, inline="always")
def knn_cells_set(plat, plon, pcos, xyz, grid, q, k, exclude, out_i, tie_rtol, bd2, bi, bh):
    """The *set* of the ``k`` nearest pattern points of ``q``, mostly without trigonometry.

    The same set as ranking every point by its haversine reduced distance with the
    (distance, index) rule (order inside the set is by chord). Candidates are ranked by
    squared chord; only when chords tie to within ``_CLOSE`` at the k-th place are the tied
    points compared by their exact haversine reduced distance. The buffers ``bd2``, ``bi``,
    ``bh`` hold the candidates (at least ``k``); returns the number found, or -1 when a tie
    group fills the whole buffer, in which case the caller retries with a larger one.
    """
    px, py, x0, y0, cs, nside, cell_start, items = grid
    kk = bd2.shape[0]
    n = 0
    cx = min(int((px[q] - x0) / cs), nside - 1)
    cy = min(int((py[q] - y0) / cs), nside - 1)
    q0, q1, q2 = xyz[q, 0], xyz[q, 1], xyz[q, 2]
    qx, qy = px[q] - x0, py[q] - y0
    bound = np.inf
    ring = 0
    while True:
        for gy in range(cy - ring, cy + ring + 1):
            if gy < 0 or gy >= nside:
                continue
            on_edge_y = gy == cy - ring or gy == cy + ring
            step = 1 if on_edge_y else 2 * ring
            dy = max(gy * cs - qy, qy - (gy + 1) * cs, 0.0)
            gx = cx - ring
            while gx <= cx + ring:
                dx = max(gx * cs - qx, qx - (gx + 1) * cs, 0.0)
                if 0 <= gx < nside and dx * dx + dy * dy <= bound:
                    c = gy * nside + gx
                    for t in range(cell_start[c], cell_start[c + 1]):
                        p = items[t]
                        if p == exclude:
                            continue
                        a = xyz[p, 0] - q0
                        b = xyz[p, 1] - q1
                        d = xyz[p, 2] - q2
                        d2 = a * a + b * b + d * d
                        if d2 > bound:
                            continue
                        # insert into the buffer sorted by (d2, index)
                        if n == kk and (d2 > bd2[kk - 1] or (d2 == bd2[kk - 1] and p > bi[kk - 1])):
                            continue
                        j = n if n < kk else kk - 1
                        while j > 0 and (bd2[j - 1] > d2 or (bd2[j - 1] == d2 and bi[j - 1] > p)):
                            bd2[j] = bd2[j - 1]
                            bi[j] = bi[j - 1]
                            j -= 1
                        bd2[j] = d2
                        bi[j] = p
                        if n < kk:
                            n += 1
                        if n >= k:
                            bound = bd2[k - 1] * (1.0 + 2.0 * _CLOSE) + 2.0 * _CLOSE_ABS
                            if n == kk and bd2[kk - 1] < bound:
                                bound = bd2[kk - 1]
                if step == 0:
                    break
                gx += step
        reach = ring * cs
        if bound < reach * reach:
            break
        if ring > nside:
            break
        ring += 1
    if n <= k:
        for j in range(n):
            out_i[j] = bi[j]
        for j in range(n, k):
            out_i[j] = -1
        return n
    # the near-tie group around the k-th place: positions j0..j1 (contiguous, sorted)
    ref = bd2[k - 1]
    j0 = k - 1
    while j0 > 0 and _close(bd2[j0 - 1], ref):
        j0 -= 1
    j1 = k - 1
    while j1 + 1 < n and _close(bd2[j1 + 1], ref):
        j1 += 1
    if j1 == k - 1:
        for j in range(k):
            out_i[j] = bi[j]
        return k
    if j1 == kk - 1:
        return -1  # the group may continue beyond the buffer
    for j in range(j0):
        out_i[j] = bi[j]
    qlat, qlon, qcos = plat[q], plon[q], pcos[q]
    for j in range(j0, j1 + 1):
        o = bi[j]
        bh[j] = rdist(qlat, qlon, qcos, plat[o], plon[o], pcos[o])
    # pick the k - j0 first of the group by (distance, index): selection by insertion
    for j in range(j0 + 1, j1 + 1):
        h, o = bh[j], bi[j]
        t = j
        while t > j0 and _before(h, o, bh[t - 1], bi[t - 1], tie_rtol):
            bh[t] = bh[t - 1]
            bi[t] = bi[t - 1]
            t -= 1
        bh[t] = h
        bi[t] = o
    for j in range(j0, k):
        out_i[j] = bi[j]
    return k
