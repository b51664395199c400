"""Numba kernel of the spatial relative information (SRI, docs/method.md, D5).

Arrays in, arrays out: no pandas, no ``None``, no Python objects. The validated entry
point is :func:`pygbs.stats.sri.sri_scores`; this module trusts its input.

Conventions shared with :mod:`pygbs.testing.dense` (the slow NumPy reference), so that both give
bit-identical part memberships and histograms:

- a part index is derived from the half-open interval definition by an integer guess and
  an explicit correction against the interval bounds ``lo + j * width`` (never by a bare
  ``floor``), so a value sitting exactly on a bound falls where docs/method.md, D5 puts it;
- histogram edges are those of ``numpy.histogram(values_of_G, bins)``: the min-max range
  of the neighbourhood (widened by 0.5 on both sides when all values are equal), edges
  ``first + i * (last - first) / bins``, every bin half-open except the last one.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["PARTITION_GRID", "PARTITION_LAG", "PARTITION_SECTOR", "plane_xy", "sri_kernel"]

#: Integer codes of the partitions, as passed to :func:`sri_kernel`.
PARTITION_GRID = 0
PARTITION_LAG = 1
PARTITION_SECTOR = 2

_TWO_PI = 2.0 * math.pi


@njit(cache=True)
def _interval_index(x, lo, width, n):
    """Index ``j`` with ``lo + j*width <= x < lo + (j+1)*width``, or -1 if not in ``[0, n)``."""
    j = int(math.floor((x - lo) / width))
    # Correct the guess against the bounds of docs/method.md, D5 (rounding of the division).
    if j > n:
        j = n
    if j < -1:
        j = -1
    while j >= 0 and x < lo + j * width:
        j -= 1
    while j < n and x >= lo + (j + 1) * width:
        j += 1
    if j < 0 or j >= n:
        return -1
    return j


@njit(cache=True)
def _wrap_lon(d):
    """Wrap a longitude difference (radians) into ``[-pi, pi)``."""
    while d >= math.pi:
        d -= _TWO_PI
    while d < -math.pi:
        d += _TWO_PI
    return d


@njit(cache=True)
def plane_xy(lat_c, cos_c, sin_c, lon_c, lat_s, lon_s):
    """Azimuthal equidistant coordinates (radians) of a sample around a centre.

    ``x = d sin(bearing)`` (east) and ``y = d cos(bearing)`` (north), with ``d`` the
    great-circle distance and the bearing measured from north: distances and directions
    from the centre are kept exactly, at any latitude (the grid partition lays its
    square cells on these coordinates). The centre itself is (0, 0); its antipode, which
    has no bearing, is put due south at distance pi.
    """
    dlon = lon_s - lon_c
    cos2 = math.cos(lat_s)
    sin2 = math.sin(lat_s)
    cos_dlon = math.cos(dlon)
    east = math.sin(dlon) * cos2
    north = cos_c * sin2 - sin_c * cos2 * cos_dlon
    up = sin_c * sin2 + cos_c * cos2 * cos_dlon
    norm = math.sqrt(east * east + north * north)  # sin(d)
    if norm == 0.0:
        if up >= 0.0 or lat_s == lat_c:
            return 0.0, 0.0
        return 0.0, -math.pi
    f = math.atan2(norm, up) / norm  # d / sin(d)
    return east * f, north * f


@njit(cache=True)
def _hist_edges(vals, bins):
    """Edges of ``numpy.histogram(vals, bins)`` (min-max range; +-0.5 when all equal)."""
    first = vals[0]
    last = vals[0]
    for v in vals:
        if v < first:
            first = v
        if v > last:
            last = v
    if first == last:
        first -= 0.5
        last += 0.5
    step = (last - first) / bins
    edges = np.empty(bins + 1)
    for i in range(bins):
        edges[i] = i * step + first
    edges[bins] = last
    return edges


@njit(cache=True)
def _bin_index(v, edges, bins):
    """Bin of ``v`` with ``edges[b] <= v < edges[b+1]``; the last bin is closed."""
    first = edges[0]
    last = edges[bins]
    b = int((v - first) / (last - first) * bins)
    if b < 0:
        b = 0
    if b > bins - 1:
        b = bins - 1
    while b > 0 and v < edges[b]:
        b -= 1
    while b < bins - 1 and v >= edges[b + 1]:
        b += 1
    return b


@njit(cache=True)
def _part_ids(lat, lon, idx, dist, c, radius, mode, scale, lag, n_splits):
    """Part of every neighbourhood sample (-1: in no part), and the number of parts."""
    n = idx.shape[0]
    part = np.full(n, -1, dtype=np.int64)
    lat_c = lat[c]
    lon_c = lon[c]
    if mode == PARTITION_GRID:
        # square cells on the centre's azimuthal equidistant plane (docs/method.md)
        kk = int(math.ceil(radius / scale))
        side = 2 * kk
        lo = -kk * scale
        cos_c = math.cos(lat_c)
        sin_c = math.sin(lat_c)
        for t in range(n):
            s = idx[t]
            x, y = plane_xy(lat_c, cos_c, sin_c, lon_c, lat[s], lon[s])
            a = _interval_index(y, lo, scale, side)
            b = _interval_index(x, lo, scale, side)
            if a >= 0 and b >= 0:
                part[t] = a * side + b
        return part, side * side
    if mode == PARTITION_LAG:
        n_lags = int(math.ceil(radius / lag))
        for t in range(n):
            part[t] = _interval_index(dist[t], 0.0, lag, n_lags)
        return part, n_lags
    # PARTITION_SECTOR
    width = _TWO_PI / n_splits
    cos_c = math.cos(lat_c)
    sin_c = math.sin(lat_c)
    for t in range(n):
        s = idx[t]
        dlon = lon[s] - lon_c
        if lat[s] == lat_c and _wrap_lon(dlon) == 0.0:
            # The centre (and any sample at its exact location): bearing undefined.
            part[t] = 0
            continue
        cos2 = math.cos(lat[s])
        theta = math.atan2(
            math.sin(dlon) * cos2, cos_c * math.sin(lat[s]) - sin_c * cos2 * math.cos(dlon)
        )
        if theta >= math.pi:  # atan2 may return +pi, which is the bearing -pi
            theta -= _TWO_PI
        j = _interval_index(theta, -math.pi, width, n_splits)
        # Rounding of n * width can leave a bearing just below pi outside every sector:
        # it belongs to the last one.
        part[t] = j if j >= 0 else n_splits - 1
    return part, n_splits


@njit(cache=True)
def _sri_one(
    lat, lon, values, c, idx, dist, radius, mode, scale, lag, n_splits, threshold, bins, eps
):
    """SRI of one neighbourhood and the number of kept parts (NaN, 0 if none kept)."""
    n = idx.shape[0]
    if n == 0:
        return np.nan, 0
    vals = np.empty(n)
    for t in range(n):
        vals[t] = values[idx[t]]
    edges = _hist_edges(vals, bins)
    bin_of = np.empty(n, dtype=np.int64)
    p_g = np.zeros(bins)
    for t in range(n):
        b = _bin_index(vals[t], edges, bins)
        bin_of[t] = b
        p_g[b] += 1.0
    for b in range(bins):
        p_g[b] /= n

    part, n_total = _part_ids(lat, lon, idx, dist, c, radius, mode, scale, lag, n_splits)
    order = np.argsort(part, kind="mergesort")
    counts = np.zeros(bins)
    num = 0.0
    den = 0.0
    kept = 0
    t = 0
    while t < n:
        p = part[order[t]]
        u = t
        while u < n and part[order[u]] == p:
            u += 1
        size = u - t
        if p >= 0 and size >= threshold:
            counts[:] = 0.0
            for q in range(t, u):
                counts[bin_of[order[q]]] += 1.0
            kl = 0.0
            for b in range(bins):
                if p_g[b] > 0.0:
                    kl += p_g[b] * math.log(p_g[b] / (counts[b] / size + eps))
            num += kl * size
            den += size
            kept += 1
        t = u
    if kept == 0:
        return np.nan, 0
    return num / den, kept


@njit(cache=True, parallel=True, nogil=True)  # nogil: pygbs.runtime.call_kernel
def sri_kernel(
    lat,
    lon,
    values,
    centres,
    indptr,
    indices,
    dist,
    radius,
    mode,
    scale,
    lag,
    n_splits,
    threshold,
    bins,
    eps,
):
    """SRI of every centre's neighbourhood.

    Parameters
    ----------
    lat, lon : ndarray of float64, shape (n_samples,)
        Sample coordinates in radians.
    values : ndarray of float64, shape (n_samples,)
        Coded performance values.
    centres : ndarray of int64, shape (n_centres,)
        Row id of each centre.
    indptr : ndarray of int64, shape (n_centres + 1,)
        CSR row pointers into ``indices`` and ``dist``.
    indices : ndarray of int64
        Sample ids of every neighbourhood (centre included).
    dist : ndarray of float64
        Great-circle distance (radians) of each entry of ``indices`` to its centre.
    radius : ndarray of float64, shape (n_centres,)
        Neighbourhood radius (radians).
    mode : int
        :data:`PARTITION_GRID`, :data:`PARTITION_LAG` or :data:`PARTITION_SECTOR`.
    scale, lag : ndarray of float64, shape (n_centres,)
        Grid cell side and ring width (radians) per centre; only the one of ``mode`` is read.
    n_splits : int
        Number of direction sectors.
    threshold : int
        Parts with fewer samples are skipped.
    bins : int
        Number of histogram bins.
    eps : float
        Added to the part's bin probabilities inside the logarithm.

    Returns
    -------
    sri : ndarray of float64, shape (n_centres,)
        Size-weighted mean KL divergence over the kept parts; NaN where none is kept.
    n_parts : ndarray of int64, shape (n_centres,)
        Number of kept parts.
    """
    n_c = centres.shape[0]
    sri = np.empty(n_c)
    n_parts = np.zeros(n_c, dtype=np.int64)
    for i in prange(n_c):
        lo = indptr[i]
        hi = indptr[i + 1]
        s, k = _sri_one(
            lat,
            lon,
            values,
            centres[i],
            indices[lo:hi],
            dist[lo:hi],
            radius[i],
            mode,
            scale[i],
            lag[i],
            n_splits,
            threshold,
            bins,
            eps,
        )
        sri[i] = s
        n_parts[i] = k
    return sri, n_parts
