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

from pygbs._kernels.kdtree import chord_bound, finish_best, offer, rdist, reset_best


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


@njit(cache=True, inline="always")
def knn_cells(plat, plon, pcos, xyz, grid, q, k, exclude, out_h, out_i, tie_rtol):
    """The ``k`` nearest pattern points of point ``q`` (not ``exclude``); see module doc."""
    px, py, x0, y0, cs, nside, cell_start, items = grid
    reset_best(k, out_h, out_i)
    cx = min(int((px[q] - x0) / cs), nside - 1)
    cy = min(int((py[q] - y0) / cs), nside - 1)
    qlat, qlon, qcos = plat[q], plon[q], pcos[q]
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
                # skip cells whose planar distance already exceeds the k-th neighbour
                if 0 <= gx < nside and dx * dx + dy * dy <= bound:
                    c = gy * nside + gx
                    for t in range(cell_start[c], cell_start[c + 1]):
                        p = items[t]
                        if p == exclude:
                            continue
                        a = xyz[p, 0] - q0
                        b = xyz[p, 1] - q1
                        d = xyz[p, 2] - q2
                        if a * a + b * b + d * d > bound:  # cheap chord test first
                            continue
                        h = rdist(qlat, qlon, qcos, plat[p], plon[p], pcos[p])
                        if offer(h, p, k, out_h, out_i, tie_rtol):
                            bound = chord_bound(out_h[k - 1], tie_rtol)
                if step == 0:
                    break
                gx += step
        # every point within planar distance ring * cs of q has been seen
        reach = ring * cs
        if bound < reach * reach:
            break
        if ring > nside:
            break
        ring += 1
    return finish_best(k, out_i)
