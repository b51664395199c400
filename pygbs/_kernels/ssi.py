"""Spatial self-information of many neighbourhoods at once (docs/method.md, D3), in numba.

For each centre: gather the neighbourhood's samples, add its background points (made by
:mod:`pygbs._kernels.background`), build the directed k-NN graph of all ``m`` points on a
cell grid (:mod:`pygbs._kernels.cells`; sparse: an (m, k) table), compute
``S`` for the unmarked labels (samples 1, background 0) and the marked labels (samples
their coded value, background 0), and the null distribution by the chosen method.
Unmarked and marked scores share the point pattern and the graph unless the unmarked
pattern is restricted to the good samples (``presence="good"``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from pygbs._kernels import background as bg
from pygbs._kernels import cells, kdtree
from pygbs._kernels.relabel import score_relabelled
from pygbs._kernels.stats import (
    PYGBS_P_FLOOR,
    analytic_moments,
    centred_statistic,
    graph_sums,
    log_norm_sf,
    permutation_pvalue,
    pygbs_moments,
    pygbs_pvalue,
)

METHOD_PYGBS = 0
METHOD_ANALYTIC = 1
METHOD_PERMUTATION = 2

#: Columns of the per-score output block.
OUT_SSI, OUT_P, OUT_S, OUT_MU, OUT_SIGMA = 0, 1, 2, 3, 4
N_OUT = 5


@njit(cache=True)
def gather_samples(lat, lon, coslat, xyz, ids, m):
    """Arrays of ``m`` pattern points whose first ``len(ids)`` are the samples ``ids``."""
    plat = np.empty(m)
    plon = np.empty(m)
    pcos = np.empty(m)
    pxyz = np.empty((m, 3))
    for t in range(ids.shape[0]):
        i = ids[t]
        plat[t] = lat[i]
        plon[t] = lon[i]
        pcos[t] = coslat[i]
        pxyz[t, 0] = xyz[i, 0]
        pxyz[t, 1] = xyz[i, 1]
        pxyz[t, 2] = xyz[i, 2]
    return plat, plon, pcos, pxyz


@njit(cache=True)
def build_pattern(lat, lon, coslat, xyz, ids, radius, rot, table, angles=False):
    """Samples ``ids`` then the background points: (lat, lon, cos lat, xyz) of all.

    The background grid fills a neighbourhood of ``radius`` rotated by ``rot``
    (``table``: :func:`pygbs._kernels.background.bearings` of enough rings).

    Without ``angles``, the background points' lat/lon/cos lat are NaN: the k-NN graph
    needs them only for near-ties and computes them then (they cost more than the rest of
    the grid).
    """
    n = ids.shape[0]
    density, rings, points = bg.grid_shape(radius, n)
    m = n + points
    plat, plon, pcos, pxyz = gather_samples(lat, lon, coslat, xyz, ids, m)
    bg.fill_grid(density, rings, rot, table, plat[n:], plon[n:], pxyz[n:], True, angles)
    for t in range(n, m):
        if angles:
            pcos[t] = math.cos(plat[t])
        else:
            plat[t] = np.nan
            plon[t] = np.nan
            pcos[t] = np.nan
    return plat, plon, pcos, pxyz


@njit(cache=True)
def _graph(plat, plon, pcos, xyz, center_lat, center_lon, k, reference_rule, n, radius, first):
    """:func:`knn_graph`; with ``n >= 0``, :func:`statistic_graph` of ``n`` samples.

    ``radius`` and ``first`` (of the background grid) are used only with ``n >= 0``.
    """
    m = xyz.shape[0]
    kk = min(k, m - 1)
    width = kk + 1 if reference_rule else kk
    grid = cells.build_cells(xyz, center_lat, center_lon)
    if n >= 0:
        rings = bg.grid_shape(radius, n)[1]
        skip = cells.background_only(xyz, n, rings, first, grid, kk)
    else:
        skip = np.zeros(0, np.bool_)
    tol = 0.0 if reference_rule else kdtree.TIE_RTOL
    nbr = cells.knn_table(plat, plon, pcos, xyz, grid, width, reference_rule, tol, skip)
    if reference_rule:
        # the reference rule queried each point itself too: drop it where present (in
        # place, the later entries move up and the row ends with -1)
        for a in range(m):
            t = 0
            for j in range(width):
                b = nbr[a, j]
                if b != a and b >= 0:
                    nbr[a, t] = b
                    t += 1
            for j in range(t, width):
                nbr[a, j] = -1
    for a in range(skip.shape[0]):
        if skip[a]:
            for j in range(kk):
                nbr[a, j] = a
    return nbr


@njit(cache=True)
def knn_graph(plat, plon, pcos, xyz, center_lat, center_lon, k, reference_rule):
    """Directed k-NN table of the ``m`` pattern points, -1 padded.

    Strict rule: each point's ``k`` nearest *other* points by great-circle distance;
    distances equal to within a relative ``kdtree.TIE_RTOL`` are ties, broken by index, so
    points equidistant in exact arithmetic (a background ring and the centre) are ordered
    the same way wherever the neighbourhood lies on the globe; shape (m, k).

    Reference rule (``reference_rule=True``, what the public PyGBS code does): distances are
    compared exactly as computed in floating point (so rounding decides between points that
    are equidistant in exact arithmetic, as there), and the ``k + 1`` nearest points are
    queried *including* the point itself, which is dropped if it is among them. A point
    with ``k + 1`` or more coincident points of lower index is then not in its own list and
    keeps ``k + 1`` neighbours; shape (m, k + 1).
    """
    no_grid = np.zeros(1, np.int64)
    return _graph(
        plat, plon, pcos, xyz, center_lat, center_lon, k, reference_rule, -1, 0.0, no_grid
    )


@njit(cache=True)
def statistic_graph(
    plat, plon, pcos, xyz, center_lat, center_lon, k, reference_rule, n, radius, first
):
    """:func:`knn_graph` as far as the statistic ``S`` of a labelling needs it.

    The pattern is ``n`` samples then the automatic background grid of a neighbourhood of
    ``radius`` (:func:`build_pattern`; ``first``: the ring offsets of
    :func:`pygbs._kernels.background.bearings`). Where
    :func:`pygbs._kernels.cells.background_only` proves that a background point's
    nearest points are all background points, its row is not searched: it lists the
    point itself as often as it has neighbours. Every background point has the label 0,
    so :func:`pygbs._kernels.stats.centred_statistic` adds the same terms in the same
    order as on the full graph and ``S`` is the same to the last bit; the graph constants
    (``S0``, ``S1``, ``S2``) and permutations need :func:`knn_graph`.
    """
    return _graph(
        plat, plon, pcos, xyz, center_lat, center_lon, k, reference_rule, n, radius, first
    )


@njit(cache=True)
def score_pattern(z, nbr, method, permutations, seed, out):
    """Fill ``out[:N_OUT]`` with (ssi, p, S, mu, sigma) of labels ``z`` on graph ``nbr``."""
    s = centred_statistic(z, nbr)
    out[OUT_S] = s
    if method == METHOD_PYGBS:
        mu, sigma = pygbs_moments(z)
        p = pygbs_pvalue(s, mu, sigma)
        out[OUT_SSI] = -math.log(p + PYGBS_P_FLOOR)
    elif method == METHOD_ANALYTIC:
        s0, s1, s2 = graph_sums(nbr)
        mu, sigma = analytic_moments(z, s0, s1, s2)
        if not (sigma > 0.0):
            p = np.nan
            out[OUT_SSI] = np.nan
        else:
            zscore = abs(s - mu) / sigma
            logp = math.log(2.0) + log_norm_sf(zscore)
            p = math.exp(logp)
            out[OUT_SSI] = -logp
    else:
        p, mu, sigma = permutation_pvalue(z, nbr, s, permutations, seed)
        out[OUT_SSI] = -math.log(p)
    out[OUT_P] = p
    out[OUT_MU] = mu
    out[OUT_SIGMA] = sigma


@njit(cache=True)
def _good_ids(ids, good):
    n_good = 0
    for t in range(ids.shape[0]):
        if good[ids[t]]:
            n_good += 1
    gids = np.empty(n_good, np.int64)
    g = 0
    for t in range(ids.shape[0]):
        if good[ids[t]]:
            gids[g] = ids[t]
            g += 1
    return gids


@njit(cache=True, parallel=True, nogil=True)  # nogil: pygbs.runtime.call_kernel
def ssi_batch(
    lat,
    lon,
    coslat,
    xyz,
    marks,
    good,
    centres,
    indptr,
    indices,
    radius,
    active,
    rot,
    k,
    reference_rule,
    method,
    want_unmarked,
    want_marked,
    unmarked_good_only,
    permutations,
    seed,
    draws,
):
    """Score every active centre; returns ``(out, n_points, null_out)``.

    Parameters
    ----------
    lat, lon, coslat : (n,) radians and cosine of latitude of all samples; xyz : (n, 3) unit
        vectors. marks : (n,) coded values (non-zero).
    good : (n,) bool, the samples kept when ``unmarked_good_only``.
    centres : (c,) sample id of each centre; ``indptr``/``indices``: CSR neighbourhoods
        (sorted by distance, ties by id).
    radius : (c,) radius of each neighbourhood (radians); active : (c,) bool, the centres
        to score; rot : (c, 3, 3) rotation of the background grid onto each centre.
    k, reference_rule, method, permutations, seed : see :func:`pygbs.stats.ssi.ssi_scores`.
    draws : (R, n) coded values of every sample under each null draw (R may be 0): the
        marked pattern is scored under each on the same graph
        (:func:`pygbs._kernels.relabel.score_relabelled`).

    Returns
    -------
    out : (c, 2, N_OUT) float64; ``out[:, 0]`` unmarked and ``out[:, 1]`` marked blocks of
        (ssi, p, S, mu, sigma); NaN where not scored.
    n_points : (c, 2) int64 size ``m`` of each pattern (samples + background), 0 if skipped.
    null_out : (c, R) marked SSI under each draw; NaN where not scored.
    """
    nc = centres.shape[0]
    out = np.full((nc, 2, N_OUT), np.nan)
    n_points = np.zeros((nc, 2), np.int64)
    n_draws = draws.shape[0]
    null_out = np.full((nc, n_draws), np.nan)
    table = bg.batch_bearings(indptr, radius, active)
    # the pygbs method's S needs only the labels of each point's neighbours (D3)
    labels_only = method == METHOD_PYGBS
    for c in prange(nc):
        if not active[c]:
            continue
        ids = indices[indptr[c] : indptr[c + 1]]
        n = ids.shape[0]
        cseed = (seed * 1000003 + centres[c]) % 4294967296
        plat, plon, pcos, pxyz = build_pattern(lat, lon, coslat, xyz, ids, radius[c], rot[c], table)
        m = pxyz.shape[0]
        clat, clon = lat[centres[c]], lon[centres[c]]
        n_labels = n if labels_only else -1
        nbr = _graph(
            plat, plon, pcos, pxyz, clat, clon, k, reference_rule, n_labels, radius[c], table[2]
        )
        if want_marked:
            z = np.zeros(m)
            for t in range(n):
                z[t] = marks[ids[t]]
            score_pattern(z, nbr, method, permutations, cseed, out[c, 1])
            n_points[c, 1] = m
            if n_draws > 0:
                s0 = s1 = s2 = 0.0
                if method != METHOD_PYGBS:
                    s0, s1, s2 = graph_sums(nbr)
                score_relabelled(nbr, ids, m, draws, method, s0, s1, s2, null_out[c])
        if want_unmarked and not unmarked_good_only:
            z = np.zeros(m)
            z[:n] = 1.0
            score_pattern(z, nbr, method, permutations, cseed, out[c, 0])
            n_points[c, 0] = m
        elif want_unmarked:
            gids = _good_ids(ids, good)
            if gids.shape[0] == 0:
                continue
            glat, glon, gcos, gxyz = build_pattern(
                lat, lon, coslat, xyz, gids, radius[c], rot[c], table
            )
            n_labels = gids.shape[0] if labels_only else -1
            gnbr = _graph(
                glat, glon, gcos, gxyz, clat, clon, k, reference_rule, n_labels, radius[c], table[2]
            )
            z = np.zeros(gxyz.shape[0])
            z[: gids.shape[0]] = 1.0
            score_pattern(z, gnbr, method, permutations, cseed, out[c, 0])
            n_points[c, 0] = gxyz.shape[0]
    return out, n_points, null_out
