"""The point patterns and k-NN graphs of many SSI neighbourhoods, and SRI part ids, in numba.

The same per-centre steps as the SSI kernels (docs/method.md, D3 and D4), stopped before any
label is read: gather the samples, add the background grid (marked and unmarked SSI) or
not (performance SSI), build the directed k-NN graph with the strict rule and compute the
graph constants ``S0, S1, S2``. What they return depends on locations only, so a caller
that scores many labellings of the same samples (a training loss) computes it once.

The building blocks are those of the scores, imported, not copied:
:func:`pygbs._kernels.ssi.build_pattern`, :func:`~pygbs._kernels.ssi.gather_samples`,
:func:`~pygbs._kernels.ssi.knn_graph`, :func:`pygbs._kernels.stats.graph_sums` and, for
SRI (D5), :func:`pygbs._kernels.sri.part_ids`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from pygbs._kernels import background as bg
from pygbs._kernels.sri import part_ids
from pygbs._kernels.ssi import build_pattern, gather_samples, knn_graph
from pygbs._kernels.stats import graph_sums


@njit(cache=True, parallel=True, nogil=True)  # nogil: pygbs.cancel.call_kernel
def pattern_graphs_batch(
    lat, lon, coslat, xyz, centres, indptr, indices, radius, active, rot, k, background
):
    """Background sizes, k-NN edges and graph constants of every active centre.

    Parameters
    ----------
    lat, lon, coslat : (n,) radians and cosine of latitude of all samples; xyz : (n, 3)
        unit vectors.
    centres : (c,) sample id of each centre; ``indptr``/``indices``: CSR neighbourhoods.
    radius : (c,) radians; active : (c,) bool, the centres to build; rot : (c, 3, 3)
        rotation of the background grid onto each centre (read only with ``background``).
    k : neighbours per point (strict rule); background : add the background grid.

    Returns
    -------
    n_bg : (c,) int64 background points per centre (0 without ``background``).
    edge_ptr : (c + 1,) int64 CSR pointers into ``src``/``dst``.
    src, dst : int32 local point ids (samples ``0..n-1`` in neighbourhood order, then the
        background points); ``dst`` is -1 where the k-NN table was padded.
    sums : (c, 3) float64 ``S0, S1, S2`` (NaN for inactive centres).
    """
    nc = centres.shape[0]
    n_bg = np.zeros(nc, np.int64)
    counts = np.zeros(nc + 1, np.int64)
    max_rings = 1
    for c in range(nc):
        if not active[c]:
            continue
        n = indptr[c + 1] - indptr[c]
        m = n
        if background:
            _, rings, points = bg.grid_shape(radius[c], n)
            n_bg[c] = points
            m += points
            max_rings = max(max_rings, rings)
        counts[c + 1] = m * min(k, m - 1)
    edge_ptr = np.cumsum(counts)
    src = np.empty(edge_ptr[nc], np.int32)
    dst = np.empty(edge_ptr[nc], np.int32)
    sums = np.full((nc, 3), np.nan)
    table = bg.bearings(max_rings)
    for c in prange(nc):
        if not active[c]:
            continue
        ids = indices[indptr[c] : indptr[c + 1]]
        if background:
            plat, plon, pcos, pxyz = build_pattern(
                lat, lon, coslat, xyz, ids, radius[c], rot[c], table
            )
        else:
            plat, plon, pcos, pxyz = gather_samples(lat, lon, coslat, xyz, ids, ids.shape[0])
        nbr = knn_graph(plat, plon, pcos, pxyz, lat[centres[c]], lon[centres[c]], k, False)
        s0, s1, s2 = graph_sums(nbr)
        sums[c, 0] = s0
        sums[c, 1] = s1
        sums[c, 2] = s2
        e = edge_ptr[c]
        for a in range(nbr.shape[0]):
            for j in range(nbr.shape[1]):
                src[e] = a
                dst[e] = nbr[a, j]
                e += 1
    return n_bg, edge_ptr, src, dst, sums


@njit(cache=True, parallel=True, nogil=True)  # nogil: pygbs.cancel.call_kernel
def part_ids_batch(lat, lon, centres, indptr, indices, dist, radius, mode, scale, lag, n_splits):
    """SRI part of every neighbourhood entry (-1: in no part) and the parts per centre.

    Arguments as :func:`pygbs._kernels.sri.sri_kernel`; returns ``(part, n_parts)``.
    """
    nc = centres.shape[0]
    part = np.full(indices.shape[0], -1, np.int64)
    n_parts = np.zeros(nc, np.int64)
    for c in prange(nc):
        lo = indptr[c]
        hi = indptr[c + 1]
        p, total = part_ids(
            lat, lon, indices[lo:hi], dist[lo:hi], centres[c], radius[c], mode, scale[c],
            lag[c], n_splits,
        )  # fmt: skip
        part[lo:hi] = p
        n_parts[c] = total
    return part, n_parts
