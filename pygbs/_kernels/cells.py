"""All-points k-nearest-neighbour search inside one neighbourhood, on a cell grid.

A neighbourhood's pattern (samples + background) lies in a spherical cap. Its points are
rotated so the centre is the north pole and bucketed on a square grid of the tangent
plane (``CELL_LOAD`` points per cell on average); the points' unit vectors are stored in
cell order, rows of cells one after the other, so a row of a block of cells is one
contiguous run of memory. The planar distance in the tangent plane is a lower bound of
the chord between unit vectors, which gives the stopping rules below.

Each query first tries a *fast path*: it scans the ``(2 BLOCK + 1)^2`` cells around its
own (a smaller square block, down to the query's own cell, where that one holds more than
``FAST_CAP`` points: inside a dense cluster of samples) and keeps, without branching, the
points whose squared chord is at most a threshold ``T`` (the previous query's k-th squared
chord times ``T_SLACK``: consecutive points are mostly neighbours with similar spacing);
only those few are sorted. The result is accepted when it provably equals the full
ranking: at least ``k`` points survived, every point that could belong to the k-th place
(the near-tie window below) is under ``T``, and the window lies inside the scanned block.
Otherwise the query is redone by the general search, which scans rings of cells outwards
until no unscanned cell can hold a closer point. (Branch-free filtering matters: inserting
every candidate into a sorted list costs about twice as much, through mispredicted
branches.)

Ranking uses squared chords and, only for near-ties at the k-th place, the haversine
reduced distance (:func:`pygbs._kernels.kdtree.rdist`) with the same (distance, index)
order as the k-d tree, so results do not depend on the search order or on ``T``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from pygbs._kernels.kdtree import before, rdist

#: Average points per grid cell, and the half-width (in cells) of the fast path's block.
#: With 0.5 points per cell a 5 x 5 block holds the near-tie window of nearly every point
#: of a background grid (measured: no general searches at nn50 on the yfcc file).
CELL_LOAD = 0.5
BLOCK = 2
#: The fast path's threshold is the previous query's k-th squared chord times this.
T_SLACK = 1.6
#: A block with more points than this (a cluster of samples) is shrunk; when even the
#: query's own cell holds more, the query goes to the general search.
FAST_CAP = 64
#: Chord^2 values this close (relative) may order differently from the haversine reduced
#: distance through rounding: such near-ties are settled with the exact haversine values.
_CLOSE = 1e-5
_CLOSE_ABS = 1e-24
#: Extra slots kept beyond the k nearest to hold a near-tie group at the k-th place.
EXTRA = 8

#: Return codes of the searches besides a count of neighbours found.
_OVERFLOW = -1  # a near-tie group fills the whole buffer: retry with a larger one
_BLOCK_TOO_SMALL = -2  # the fast path cannot decide: use the general search


@njit(cache=True)
def build_cells(xyz, center_lat, center_lon):
    """Bucket the points.

    Returns ``(px, py, cs, nside, cell_start, items, sxyz, cell)``: tangent-plane
    coordinates relative to the grid's corner, cell size and cells per side, the CSR of
    cells (row-major) over point ids ``items``, the unit vectors in that order, and each
    point's cell.
    """
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
    px -= x0
    py -= y0
    width = max(x1 - x0, y1 - y0)
    nside = max(1, int(math.sqrt(m / CELL_LOAD)))
    cs = width / nside if width > 0 else 1.0
    nside += 1
    counts = np.zeros(nside * nside + 1, np.int64)
    cell = np.empty(m, np.int64)
    for t in range(m):
        cx = min(int(px[t] / cs), nside - 1)
        cy = min(int(py[t] / cs), nside - 1)
        cell[t] = cy * nside + cx
        counts[cell[t] + 1] += 1
    cell_start = np.cumsum(counts)
    fill = cell_start[:-1].copy()
    items = np.empty(m, np.int64)
    sxyz = np.empty((m, 3))
    for t in range(m):
        f = fill[cell[t]]
        items[f] = t
        sxyz[f, 0] = xyz[t, 0]
        sxyz[f, 1] = xyz[t, 1]
        sxyz[f, 2] = xyz[t, 2]
        fill[cell[t]] = f + 1
    return px, py, cs, nside, cell_start, items, sxyz, cell


@njit(cache=True, inline="always")
def _close(a, b):
    return abs(a - b) <= _CLOSE * max(a, b) + _CLOSE_ABS


@njit(cache=True, inline="always")
def _window(bd2, n, k):
    """Squared chord up to which points may belong to the k-th place (sorted ``bd2``)."""
    bound = bd2[k - 1] * (1.0 + 2.0 * _CLOSE) + 2.0 * _CLOSE_ABS
    if n == bd2.shape[0] and bd2[n - 1] < bound:
        bound = bd2[n - 1]
    return bound


@njit(cache=True, inline="always")
def _outside(px, py, cs, nside, cx, cy, h, q, bound):
    """Whether a point within ``bound`` (squared) of ``q`` may lie outside a block.

    The block has half-width ``h`` around cell ``(cx, cy)``; a side on the grid's edge has
    nothing beyond it.
    """
    qx, qy = px[q], py[q]
    if cx - h > 0 and bound >= (qx - (cx - h) * cs) ** 2:
        return True
    if cx + h < nside - 1 and bound >= ((cx + h + 1) * cs - qx) ** 2:
        return True
    if cy - h > 0 and bound >= (qy - (cy - h) * cs) ** 2:
        return True
    return cy + h < nside - 1 and bound >= ((cy + h + 1) * cs - qy) ** 2


@njit(cache=True, inline="always")
def _angles(plat, plon, pcos, xyz, o):
    """Latitude, longitude and cos(latitude) of point ``o``.

    NaN entries (background points, whose angles are needed only here) are computed from
    the unit vector the way the background grid computes them, and stored.
    """
    if math.isnan(plat[o]):
        plat[o] = math.asin(xyz[o, 2])
        plon[o] = math.atan2(xyz[o, 1], xyz[o, 0])
        pcos[o] = math.cos(plat[o])
    return plat[o], plon[o], pcos[o]


@njit(cache=True, inline="always")
def _settle(plat, plon, pcos, xyz, q, k, out_i, tie_rtol, bd2, bi, bh, n):
    """Write the k nearest of the sorted candidates ``bd2``/``bi`` (``n``) to ``out_i``.

    A near-tie group at the k-th place is settled with haversine distances. Returns the
    number written, or ``_OVERFLOW`` when the group reaches the buffer's end.
    """
    kk = bd2.shape[0]
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
        return _OVERFLOW  # the group may continue beyond the buffer
    for j in range(j0):
        out_i[j] = bi[j]
    qlat, qlon, qcos = _angles(plat, plon, pcos, xyz, q)
    for j in range(j0, j1 + 1):
        olat, olon, ocos = _angles(plat, plon, pcos, xyz, bi[j])
        bh[j] = rdist(qlat, qlon, qcos, olat, olon, ocos)
    # pick the k - j0 first of the group by (distance, index): selection by insertion
    for j in range(j0 + 1, j1 + 1):
        h, o = bh[j], bi[j]
        t = j
        while t > j0 and before(h, o, bh[t - 1], bi[t - 1], tie_rtol):
            bh[t] = bh[t - 1]
            bi[t] = bi[t - 1]
            t -= 1
        bh[t] = h
        bi[t] = o
    for j in range(j0, k):
        out_i[j] = bi[j]
    return k


@njit(cache=True, inline="always")
def _chord2(xyz, a, b):
    """Squared chord between points ``a`` and ``b`` (as the searches compute it)."""
    e0 = xyz[b, 0] - xyz[a, 0]
    e1 = xyz[b, 1] - xyz[a, 1]
    e2 = xyz[b, 2] - xyz[a, 2]
    return e0 * e0 + e1 * e1 + e2 * e2


@njit(cache=True)
def background_only(xyz, n, rings, first, grid, k):
    """The background points whose ``k`` nearest other points are all background points.

    Points ``n..m`` of the pattern are the background grid, ring after ring (ring ``l``
    at ``n + first[l - 1]:n + first[l]``, :func:`pygbs._kernels.background.bearings`).
    The largest squared chord from a background point to its ``ceil(k / 2)`` nearest grid
    points on each side along its ring (``2 ceil(k / 2) >= k`` distinct points, so an upper
    bound of its k-th nearest distance), widened by twice the near-tie window of the
    search, gives a bound; the point is flagged when no sample lies in the tangent-plane
    square that holds every point within that bound (the planar distance is a lower bound
    of the chord, see the module docstring), counted in O(1) from 2-D prefix sums of the
    samples per cell. Returns a bool array of length ``m``, False for the samples and
    wherever the bound does not prove it.

    A tighter bound (adding points of the neighbouring rings) or checking the samples of
    the square one by one decided more points but cost more than it saved (measured with
    ``benchmarks/knn_phases.py``; docs/benchmarks.md).
    """
    px, py, cs, nside, cell_start, items, sxyz, cell = grid
    m = xyz.shape[0]
    skip = np.zeros(m, np.bool_)
    h = (k + 1) // 2
    pre = np.zeros((nside + 1, nside + 1), np.int64)
    for t in range(n):
        c = cell[t]
        cy = c // nside
        pre[cy + 1, c - cy * nside + 1] += 1
    for y in range(1, nside + 1):
        for x in range(1, nside + 1):
            pre[y, x] += pre[y - 1, x] + pre[y, x - 1] - pre[y - 1, x - 1]
    for ring in range(1, rings + 1):
        b0 = n + first[ring - 1]
        nl = first[ring] - first[ring - 1]
        if 2 * h > nl - 1:
            continue  # too few points on this ring for the bound
        for j in range(nl):
            a = b0 + j
            u = 0.0
            for o in range(1, h + 1):
                u = max(u, _chord2(xyz, a, b0 + (j + o) % nl))
                u = max(u, _chord2(xyz, a, b0 + (j - o + nl) % nl))
            # twice the near-tie window of _window (rounding of the candidates' chords)
            bound = u * (1.0 + 4.0 * _CLOSE) + 4.0 * _CLOSE_ABS
            r = math.sqrt(bound) * (1.0 + 1e-9) + 1e-15  # and of the plane coordinates
            x0 = max(int((px[a] - r) / cs), 0)
            x1 = min(int((px[a] + r) / cs), nside - 1)
            y0 = max(int((py[a] - r) / cs), 0)
            y1 = min(int((py[a] + r) / cs), nside - 1)
            inside = pre[y1 + 1, x1 + 1] - pre[y0, x1 + 1] - pre[y1 + 1, x0] + pre[y0, x0]
            skip[a] = inside == 0
    return skip


@njit(cache=True)
def knn_table(plat, plon, pcos, xyz, grid, k, reference_rule, tie_rtol, skip):
    """The ``k`` nearest points of every point, as an (m, k) table padded with -1.

    ``plat``, ``plon``, ``pcos`` may hold NaN for points whose angles have not been
    computed (they are derived from ``xyz`` when a near-tie needs them). The rows of the
    points with ``skip[q]`` True are not searched and stay -1 (``skip`` may be empty:
    every row is searched).

    ``reference_rule``: a point is its own candidate (the caller drops it), else it is
    excluded. Each query takes the fast path of the module docstring (inline here: per
    call overhead would cost as much as the search); the queries it cannot decide are
    collected and handed to :func:`knn_search` after the loop (a call site inside the
    loop would cost reference counting on every query, taken or not). A query decided by
    the fast path with a near-tie at the k-th place (a few per cent) keeps its ranked
    candidates, and :func:`_settle` picks its neighbours after the loop: with the
    haversine distances inside the loop, the loop ran 25-30 % slower on every query.
    """
    px, py, cs, nside, cell_start, items, sxyz, cell = grid
    m = xyz.shape[0]
    nbr = np.full((m, k), -1, np.int64)
    row = np.empty(k, np.int64)
    bd2 = np.empty(k + EXTRA)
    bi = np.empty(k + EXTRA, np.int64)
    bh = np.empty(k + EXTRA)
    cd = np.empty(FAST_CAP)
    ct = np.empty(FAST_CAP, np.int64)
    pending = np.empty(m, np.int64)
    n_pending = 0
    # candidates of the queries with a near-tie at the k-th place, settled after the loop
    tie_cap = m // 4 + 8
    tie_q = np.empty(tie_cap, np.int64)
    tie_n = np.empty(tie_cap, np.int64)
    tie_d2 = np.empty((tie_cap, k + EXTRA))
    tie_i = np.empty((tie_cap, k + EXTRA), np.int64)
    n_tie = 0
    thr = np.inf  # squared chord threshold, from the previous query's k-th neighbour
    any_skip = skip.shape[0] > 0
    for q in range(m):
        if any_skip and skip[q]:
            continue
        exclude = -1 if reference_rule else q
        c = cell[q]
        cy = c // nside
        cx = c - cy * nside
        q0, q1, q2 = xyz[q, 0], xyz[q, 1], xyz[q, 2]
        h = BLOCK  # the block's half-width: smaller around a dense cell
        retried = False
        nc = 0
        while True:
            gx0 = max(cx - h, 0)
            gx1 = min(cx + h, nside - 1)
            nc = 0
            for gy in range(max(cy - h, 0), min(cy + h, nside - 1) + 1):
                t0 = cell_start[gy * nside + gx0]
                t1 = cell_start[gy * nside + gx1 + 1]
                if nc + (t1 - t0) > FAST_CAP:
                    nc = -1  # a cluster: too many points for this block
                    break
                for t in range(t0, t1):
                    a = sxyz[t, 0] - q0
                    b = sxyz[t, 1] - q1
                    d = sxyz[t, 2] - q2
                    d2 = a * a + b * b + d * d
                    p = items[t]
                    cd[nc] = d2
                    ct[nc] = p
                    nc += (d2 <= thr) & (p != exclude)  # keep without branching
            if nc < 0 and h > 0:
                h -= 1  # try the smaller block around the query's cell
            elif 0 <= nc < k and thr < np.inf and not retried:
                thr = np.inf  # this point's neighbours are farther: once more, no threshold
                retried = True
            else:
                break
        found = _BLOCK_TOO_SMALL
        if nc >= k:
            # place the few survivors by their rank in (squared chord, index) order,
            # counted without branching
            kk = bd2.shape[0]
            for i in range(nc):
                di, ii = cd[i], ct[i]
                r = 0
                for j in range(nc):
                    r += (cd[j] < di) | ((cd[j] == di) & (ct[j] < ii))
                if r < kk:
                    bd2[r] = di
                    bi[r] = ii
            n = min(nc, kk)
            bound = _window(bd2, n, k)
            if bound <= thr and not _outside(px, py, cs, nside, cx, cy, h, q, bound):
                if n == k or not _close(bd2[k], bd2[k - 1]):
                    found = k  # no near-tie at the k-th place: the k first, as ranked
                elif n_tie < tie_cap:
                    found = k  # decided by _settle after the loop, from these candidates
                    tie_q[n_tie] = q
                    tie_n[n_tie] = n
                    for j in range(n):
                        tie_d2[n_tie, j] = bd2[j]
                        tie_i[n_tie, j] = bi[j]
                    n_tie += 1
                    thr = bd2[k - 1] * T_SLACK
                    continue
        if found < 0:  # undecided
            pending[n_pending] = q
            n_pending += 1
            thr = bd2[k - 1] * T_SLACK if nc >= k else thr * 2.0
            continue
        thr = bd2[k - 1] * T_SLACK
        for j in range(k):
            nbr[q, j] = bi[j]
    for t in range(n_tie):
        q = tie_q[t]
        found = _settle(
            plat, plon, pcos, xyz, q, k, row, tie_rtol, tie_d2[t], tie_i[t], bh, tie_n[t]
        )
        if found < 0:  # the tie group fills the buffer: the general search decides
            pending[n_pending] = q
            n_pending += 1
            continue
        for j in range(k):
            nbr[q, j] = row[j]
    _search_pending(
        plat, plon, pcos, xyz, grid, k, reference_rule, tie_rtol, pending[:n_pending], nbr
    )
    return nbr


@njit(cache=True)
def _search_pending(plat, plon, pcos, xyz, grid, k, reference_rule, tie_rtol, queries, nbr):
    """Rows of ``nbr`` for ``queries`` by the general search.

    A tie group that overflows the buffer is retried with room for every point.
    """
    m = xyz.shape[0]
    row = np.empty(k, np.int64)
    bd2 = np.empty(k + EXTRA)
    bi = np.empty(k + EXTRA, np.int64)
    bh = np.empty(k + EXTRA)
    big_d2 = np.empty(m + 1)
    big_i = np.empty(m + 1, np.int64)
    big_h = np.empty(m + 1)
    for q in queries:
        exclude = -1 if reference_rule else q
        found = knn_search(plat, plon, pcos, xyz, grid, q, k, exclude, row, tie_rtol, bd2, bi, bh)
        if found == _OVERFLOW:
            knn_search(
                plat, plon, pcos, xyz, grid, q, k, exclude, row, tie_rtol, big_d2, big_i, big_h
            )
        for j in range(k):
            nbr[q, j] = row[j]


@njit(cache=True, inline="always")
def _scan(sxyz, items, t0, t1, q0, q1, q2, exclude, k, n, bound, bd2, bi):
    """Insert the points ``t0..t1`` (cell order) into the sorted buffer ``bd2``/``bi``."""
    kk = bd2.shape[0]
    for t in range(t0, t1):
        a = sxyz[t, 0] - q0
        b = sxyz[t, 1] - q1
        d = sxyz[t, 2] - q2
        d2 = a * a + b * b + d * d
        if d2 > bound:
            continue
        p = items[t]
        if p == exclude:
            continue
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
            bound = _window(bd2, n, k)
    return n, bound


@njit(cache=True)
def knn_search(plat, plon, pcos, xyz, grid, q, k, exclude, out_i, tie_rtol, bd2, bi, bh):
    """The general search: the set of the ``k`` nearest pattern points of ``q``.

    The same set as ranking every point by its haversine reduced distance with the
    (distance, index) rule. Scans the rings of cells around ``q``'s cell outwards,
    keeping candidates in the sorted buffers ``bd2``/``bi`` (at least ``k`` slots), until
    no unscanned cell can hold a point of the near-tie window. Returns the number found,
    or ``_OVERFLOW`` when a tie group fills the whole buffer (retry with a larger one).
    """
    px, py, cs, nside, cell_start, items, sxyz, cell = grid
    c = cell[q]
    cy = c // nside
    cx = c - cy * nside
    q0, q1, q2 = xyz[q, 0], xyz[q, 1], xyz[q, 2]
    qx, qy = px[q], py[q]
    n = 0
    bound = np.inf
    ring = 0
    while True:
        for gy in range(cy - ring, cy + ring + 1):
            if gy < 0 or gy >= nside:
                continue
            dy = max(gy * cs - qy, qy - (gy + 1) * cs, 0.0)
            if dy * dy > bound:
                continue
            if gy == cy - ring or gy == cy + ring:
                # a whole row of the ring: one contiguous run, trimmed to the bound
                a0 = max(cx - ring, 0)
                a1 = min(cx + ring, nside - 1)
                dy2 = dy * dy
                while a0 <= a1 and max(a0 * cs - qx, qx - (a0 + 1) * cs, 0.0) ** 2 + dy2 > bound:
                    a0 += 1
                while a1 >= a0 and max(a1 * cs - qx, qx - (a1 + 1) * cs, 0.0) ** 2 + dy2 > bound:
                    a1 -= 1
                if a0 <= a1:
                    n, bound = _scan(
                        sxyz,
                        items,
                        cell_start[gy * nside + a0],
                        cell_start[gy * nside + a1 + 1],
                        q0,
                        q1,
                        q2,
                        exclude,
                        k,
                        n,
                        bound,
                        bd2,
                        bi,
                    )
            else:
                for gx in (cx - ring, cx + ring):
                    if 0 <= gx < nside:
                        dx = max(gx * cs - qx, qx - (gx + 1) * cs, 0.0)
                        if dx * dx + dy * dy <= bound:
                            g = gy * nside + gx
                            n, bound = _scan(
                                sxyz,
                                items,
                                cell_start[g],
                                cell_start[g + 1],
                                q0,
                                q1,
                                q2,
                                exclude,
                                k,
                                n,
                                bound,
                                bd2,
                                bi,
                            )
        if ring >= nside or not _outside(px, py, cs, nside, cx, cy, ring, q, bound):
            break
        ring += 1
    return _settle(plat, plon, pcos, xyz, q, k, out_i, tie_rtol, bd2, bi, bh, n)
