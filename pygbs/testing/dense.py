"""Slow, dense reference implementation of SSI and SRI (docs/method.md, D2-D5).

Used by the tests (as an independent second implementation of the fast numba code) and
as the baseline of ``benchmarks/gbs_speed.py``; **not for users**. It deliberately works
the way the public PyGBS toolkit does:

- one Python loop over centres;
- neighbourhoods from a scikit-learn ``BallTree(metric="haversine", leaf_size=30)`` over
  all samples, in the tree's ascending-distance order (ties in the tree's own order);
- background points built at the north pole and rotated with scipy's
  ``Rotation.from_euler("yz", ...)``, as the reference does;
- a **dense** ``m x m`` k-NN weight matrix from ``BallTree.query(points, k + 1)`` with the
  point itself removed (like the reference: when ``k + 1`` or more points share a location
  the point itself may be missing from its own query, and its row then keeps ``k + 1``
  neighbours), and the statistic ``S = x^T W x`` by dense matrix products;
- the null moments of ``method="pygbs"`` written as the reference's double loop over the
  distinct label values, and the Cliff-Ord moments of ``method="analytic"`` from dense
  matrices.

Coordinates are ``(lat, lon)`` in **radians** throughout (scikit-learn's haversine
convention).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial.transform import Rotation
from scipy.special import log_ndtr
from scipy.stats import norm
from sklearn.neighbors import BallTree

__all__ = [
    "dense_background_points",
    "dense_neighbourhoods",
    "dense_score",
    "dense_sri",
    "dense_ssi",
    "dense_weight_matrix",
]

#: The reference's factor of the "auto" background density, ``ceil(5 n / (pi r^2))``.
_AUTO_DENSITY_FACTOR = 5
#: The reference's hard-coded neighbour count in the "pygbs" moments (whatever ``k`` is).
_PYGBS_K = 4
#: Added to p before the logarithm in the "pygbs" method (the reference's constant).
_PYGBS_P_FLOOR = 1e-256
#: Leaf size of the reference's BallTrees (ties are broken by the tree's order).
_LEAF_SIZE = 30
_METHODS = ("pygbs", "analytic")
_PARTITIONS = ("grid", "lag", "sector")


def _auto_density(radius: float, n: int) -> int:
    return int(np.ceil((_AUTO_DENSITY_FACTOR * n) / (np.pi * radius**2)))


def dense_background_points(
    center_lat: float, center_lon: float, radius: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Background points of a neighbourhood of ``n`` samples (docs/method.md, D3, background grid).

    Parameters
    ----------
    center_lat, center_lon : float
        Centre in radians.
    radius : float
        Neighbourhood radius in radians (``0 < radius < pi / 2``).
    n : int
        Number of samples in the neighbourhood (sets the "auto" density).

    Returns
    -------
    lat, lon : ndarray of float64
        The background points in radians, ring by ring, each ring from bearing ``-pi``.
    """
    density = _auto_density(radius, n)
    spacing = 1 / np.sqrt(density)
    n_rings = int(np.ceil(radius / spacing))
    g_lat, g_lon = [], []
    for ring in range(1, n_rings + 1):
        n_ring = int(np.ceil(2 * np.pi * ring))
        step = 2 * np.pi / n_ring
        g_lat.append(np.full(n_ring, np.pi / 2 - spacing * ring))
        g_lon.append(-np.pi + step * np.arange(n_ring))
    if not g_lat:
        return np.empty(0), np.empty(0)
    phi = np.concatenate(g_lat)
    theta = np.concatenate(g_lon)
    r = np.cos(phi)
    xyz = np.column_stack([np.cos(theta) * r, np.sin(theta) * r, np.sin(phi)])
    rot = Rotation.from_euler("yz", [0.5 * np.pi - center_lat, center_lon], degrees=False)
    xyz = rot.apply(xyz)
    return np.arcsin(xyz[:, 2]), np.arctan2(xyz[:, 1], xyz[:, 0])


def dense_weight_matrix(lat: np.ndarray, lon: np.ndarray, k: int = 4) -> np.ndarray:
    """Dense binary k-NN weight matrix, as the reference builds it.

    Parameters
    ----------
    lat, lon : ndarray of float64, shape (m,)
        Points in radians.
    k : int, default=4
        Neighbours per point.

    Returns
    -------
    ndarray of int64, shape (m, m)
        ``W[i, j] = 1`` when ``j != i`` is among the ``k + 1`` nearest points of ``i``
        returned by ``BallTree.query`` (so ``k`` neighbours, or ``k + 1`` when ``i`` itself
        is not returned because of coincident points).
    """
    points = np.column_stack([lat, lon])
    m = points.shape[0]
    tree = BallTree(points, leaf_size=_LEAF_SIZE, metric="haversine")
    nbrs = tree.query(points, k=min(k + 1, m), return_distance=False)
    rows = np.repeat(np.arange(m), nbrs.shape[1])
    cols = nbrs.ravel()
    keep = rows != cols
    ones = np.ones(int(keep.sum()), dtype=np.int64)
    return sparse.coo_matrix((ones, (rows[keep], cols[keep])), shape=(m, m)).toarray()


def _pygbs_moments(z: np.ndarray) -> tuple[float, float]:
    """Mean and sigma of the "pygbs" null (docs/method.md, D3), the reference's double loop."""
    cs, ns = np.unique(z, return_counts=True)
    n_tot = np.sum(ns)
    xmean = np.sum(cs * ns) / n_tot
    r_max = int(np.argmax(ns))
    use = np.ones_like(cs)
    use[r_max] = 0
    mu = 0.0
    var = 0.0
    for ci, ni, ui in zip(cs, ns, use):
        for cj, nj, uj in zip(cs, ns, use):
            coef = (ci - xmean) * (cj - xmean)
            if ci != cj:
                mu += coef * (min(ni, nj) * _PYGBS_K * max(ni, nj) / n_tot)
                b = (
                    min(ni, nj)
                    * (_PYGBS_K * max(ni, nj) / n_tot)
                    * (1 - _PYGBS_K * max(ni, nj) / n_tot)
                )
                e = (coef - 2 * (ci - xmean) * (cs[r_max] - xmean) + (cs[r_max] - xmean) ** 2) ** 2
            else:
                mu += coef * (((ni - 1) * _PYGBS_K * ni / n_tot) - 1)
                b = (
                    2
                    * (ni - 1)
                    * _PYGBS_K
                    * ni
                    / n_tot
                    * (1 - (_PYGBS_K * (2 * ni - 1)) / (3 * n_tot))
                )
                e = (ci - cs[r_max]) ** 4
            var += e * b * ui * uj
    return float(mu), float(np.sqrt(var) + 1.0)


def _nan_result() -> dict[str, float]:
    return {"ssi": math.nan, "p": math.nan, "S": math.nan, "mu": math.nan, "sigma": math.nan}


def dense_ssi(
    lat: np.ndarray,
    lon: np.ndarray,
    values: np.ndarray,
    center_lat: float,
    center_lon: float,
    radius: float,
    *,
    k: int = 4,
    method: str = "pygbs",
) -> dict[str, float]:
    """SSI of one neighbourhood, dense (docs/method.md, D3).

    Parameters
    ----------
    lat, lon : ndarray of float64, shape (n,)
        The neighbourhood's samples in radians (their order matters only for ties).
    values : ndarray of float64, shape (n,)
        Sample labels: 1 for unmarked SSI, the coded value for marked SSI (never 0).
    center_lat, center_lon : float
        Centre in radians.
    radius : float
        Neighbourhood radius in radians; ``radius <= 0`` gives NaN (no background grid).
    k : int, default=4
        Neighbours per point in the weight matrix.
    method : {'pygbs', 'analytic'}, default='pygbs'
        Null distribution: the reference's moments, or Cliff-Ord's under randomisation.

    Returns
    -------
    dict
        ``ssi`` (``-ln(p + 1e-256)`` for "pygbs", ``-ln p`` in log space for "analytic"),
        ``p``, ``S = x^T W x``, and the null ``mu`` and ``sigma`` of ``S``.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}")
    lat = np.asarray(lat, dtype=np.float64)
    n = lat.shape[0]
    if n == 0 or not radius > 0:
        return _nan_result()
    b_lat, b_lon = dense_background_points(center_lat, center_lon, radius, n)
    all_lat = np.concatenate([lat, b_lat])
    all_lon = np.concatenate([np.asarray(lon, dtype=np.float64), b_lon])
    z = np.concatenate([np.asarray(values, dtype=np.float64), np.zeros(b_lat.shape[0])])
    w = dense_weight_matrix(all_lat, all_lon, k)
    x = z.reshape((1, -1)) - np.mean(z)
    s = float(np.matmul(x, np.matmul(w, x.T)).flatten()[0])
    if method == "pygbs":
        mu, sigma = _pygbs_moments(z)
        low = min(s, 2 * mu - s)
        p = float(2 * norm.cdf(low, loc=mu, scale=sigma))
        return {"ssi": float(-np.log(p + _PYGBS_P_FLOOR)), "p": p, "S": s, "mu": mu, "sigma": sigma}
    return _analytic(z, w.astype(np.float64), s)


def _analytic(z: np.ndarray, w: np.ndarray, s: float) -> dict[str, float]:
    """Cliff-Ord moments of Moran's I under randomisation (esda ``EI``, ``VI_rand``)."""
    m = z.shape[0]
    d = z - z.mean()
    z2ss = float(d @ d)
    s0 = float(w.sum())
    if m < 4 or z2ss == 0.0 or s0 == 0.0:
        return _nan_result()
    s1 = float(0.5 * ((w + w.T) ** 2).sum())
    s2 = float(((w.sum(axis=1) + w.sum(axis=0)) ** 2).sum())
    n2 = m * m
    s02 = s0 * s0
    moran_i = m / s0 * s / z2ss
    ei = -1.0 / (m - 1)
    kurt = (np.sum(d**4) / m) / (z2ss / m) ** 2
    a = m * ((n2 - 3 * m + 3) * s1 - m * s2 + 3 * s02)
    b = kurt * ((n2 - m) * s1 - 2 * m * s2 + 6 * s02)
    vi = (a - b) / ((m - 1) * (m - 2) * (m - 3) * s02) - ei * ei
    if not vi > 0:
        return _nan_result()
    zscore = (moran_i - ei) / math.sqrt(vi)
    log_p = math.log(2.0) + float(log_ndtr(-abs(zscore)))
    to_s = s0 * z2ss / m  # S = I * S0 * sum(d^2) / m
    return {
        "ssi": -log_p,
        "p": math.exp(log_p),
        "S": s,
        "mu": ei * to_s,
        "sigma": math.sqrt(vi) * to_s,
    }


def dense_neighbourhoods(
    lat: np.ndarray,
    lon: np.ndarray,
    centres: np.ndarray,
    *,
    radius: float | None = None,
    knn: int | None = None,
    k_max: int | None = 100,
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Neighbourhoods of the centres from a haversine BallTree, as the reference makes them.

    Parameters
    ----------
    lat, lon : ndarray of float64, shape (n_samples,)
        All samples in radians.
    centres : ndarray of int, shape (n_centres,)
        Row ids of the centres.
    radius : float, optional
        Distance scale (radians): the ``k_max`` nearest samples (the centre included), then
        those within ``radius``. ``k_max=None``: every sample within ``radius``.
    knn : int, optional
        Nearest-neighbour scale: the first ``knn`` entries of the ``max(knn, k_max)``
        nearest (the reference's partitioner list), the centre included; the radius is
        the largest of their distances.
    k_max : int or None, default=100
        Size of the reference partitioner's k-NN query.

    Returns
    -------
    list of (indices, dist, radius)
        Per centre: sample ids and distances (radians) in the tree's ascending-distance
        order, and the neighbourhood radius.
    """
    if (radius is None) == (knn is None):
        raise ValueError("give exactly one of radius (distance scale) and knn (nn scale)")
    points = np.column_stack([lat, lon])
    n = points.shape[0]
    centres = np.asarray(centres, dtype=np.int64)
    tree = BallTree(points, leaf_size=_LEAF_SIZE, metric="haversine")
    out = []
    if knn is not None:
        kq = min(max(knn, k_max or knn), n)
        dist, ind = tree.query(points[centres], k=kq, return_distance=True)
        for d, i in zip(dist[:, :knn], ind[:, :knn]):
            out.append((i.astype(np.int64), d, float(d.max())))
        return out
    if k_max is None:
        ind, dist = tree.query_radius(
            points[centres], r=radius, return_distance=True, sort_results=True
        )
        return [(i.astype(np.int64), d, float(radius)) for i, d in zip(ind, dist)]
    dist, ind = tree.query(points[centres], k=min(k_max, n), return_distance=True)
    for d, i in zip(dist, ind):
        keep = d <= radius
        out.append((i[keep].astype(np.int64), d[keep], float(radius)))
    return out


def dense_score(
    lat: np.ndarray,
    lon: np.ndarray,
    values: np.ndarray,
    centres: np.ndarray,
    *,
    radius: float | None = None,
    knn: int | None = None,
    k_max: int | None = 100,
    k: int = 4,
    method: str = "pygbs",
    unmarked: bool = True,
    marked: bool = True,
    min_points: int = 1,
) -> pd.DataFrame:
    """Unmarked and marked SSI of every centre, one centre at a time.

    Parameters
    ----------
    lat, lon : ndarray of float64, shape (n_samples,)
        All samples in radians.
    values : ndarray of float64, shape (n_samples,)
        Coded values (the marks of marked SSI).
    centres : ndarray of int, shape (n_centres,)
        Row ids of the centres.
    radius, knn, k_max
        The scale, see :func:`dense_neighbourhoods`.
    k : int, default=4
        Neighbours per point in the weight matrix.
    method : {'pygbs', 'analytic'}, default='pygbs'
        Null distribution.
    unmarked, marked : bool, default=True
        Which scores to compute (the other column is NaN).
    min_points : int, default=1
        Neighbourhoods with fewer samples get NaN.

    Returns
    -------
    DataFrame
        Columns ``row``, ``n_neighbours``, ``radius`` (radians), ``unmarked_ssi``,
        ``marked_ssi``; one row per centre.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.int64)
    hoods = dense_neighbourhoods(lat, lon, centres, radius=radius, knn=knn, k_max=k_max)
    rows = []
    for c, (idx, _, r) in zip(centres, hoods):
        scores = {"unmarked_ssi": math.nan, "marked_ssi": math.nan}
        if idx.shape[0] >= min_points:
            for name, wanted, labels in (
                ("unmarked_ssi", unmarked, np.ones(idx.shape[0])),
                ("marked_ssi", marked, values[idx]),
            ):
                if wanted:
                    scores[name] = dense_ssi(
                        lat[idx], lon[idx], labels, lat[c], lon[c], r, k=k, method=method
                    )["ssi"]
        rows.append({"row": int(c), "n_neighbours": int(idx.shape[0]), "radius": r, **scores})
    return pd.DataFrame(
        rows, columns=["row", "n_neighbours", "radius", "unmarked_ssi", "marked_ssi"]
    )


def _wrap(d: np.ndarray) -> np.ndarray:
    d = d.copy()
    while np.any(d >= np.pi):
        d[d >= np.pi] -= 2 * np.pi
    while np.any(d < -np.pi):
        d[d < -np.pi] += 2 * np.pi
    return d


def _plane_xy(
    lat_c: float, lon_c: float, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Azimuthal equidistant (east, north) coordinates around the centre, radians."""
    dlon = lon - lon_c
    east = np.sin(dlon) * np.cos(lat)
    north = np.cos(lat_c) * np.sin(lat) - np.sin(lat_c) * np.cos(lat) * np.cos(dlon)
    up = np.sin(lat_c) * np.sin(lat) + np.cos(lat_c) * np.cos(lat) * np.cos(dlon)
    norm = np.sqrt(east * east + north * north)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(norm > 0, np.arctan2(norm, up) / norm, 0.0)
    x, y = east * f, north * f
    antipode = (norm == 0) & (up < 0) & (lat != lat_c)
    return np.where(antipode, 0.0, x), np.where(antipode, -np.pi, y)


def _parts(
    lat: np.ndarray,
    lon: np.ndarray,
    idx: np.ndarray,
    dist: np.ndarray,
    c: int,
    radius: float,
    partition: str,
    scale: float,
    lag: float,
    n_splits: int,
) -> list[np.ndarray]:
    """Positions (within ``idx``) of the samples of each part, as boolean masks."""
    parts = []
    if partition == "grid":
        kk = int(np.ceil(radius / scale))
        x, y = _plane_xy(lat[c], lon[c], lat[idx], lon[idx])
        for a in range(-kk, kk):
            in_a = (y >= a * scale) & (y < (a + 1) * scale)
            for b in range(-kk, kk):
                parts.append(in_a & (x >= b * scale) & (x < (b + 1) * scale))
        return parts
    if partition == "lag":
        for j in range(int(np.ceil(radius / lag))):
            parts.append((dist >= j * lag) & (dist < (j + 1) * lag))
        return parts
    lat2 = lat[idx]
    dlon = lon[idx] - lon[c]
    cos2 = np.cos(lat2)
    theta = np.arctan2(
        np.sin(dlon) * cos2,
        np.cos(lat[c]) * np.sin(lat2) - np.sin(lat[c]) * cos2 * np.cos(dlon),
    )
    theta = np.where(theta >= np.pi, theta - 2 * np.pi, theta)
    at_centre = (lat2 == lat[c]) & (_wrap(dlon) == 0.0)
    width = 2 * np.pi / n_splits
    for j in range(n_splits):
        parts.append(
            ~at_centre & (theta >= -np.pi + j * width) & (theta < -np.pi + (j + 1) * width)
        )
    parts[0] |= at_centre
    parts[-1] |= ~np.logical_or.reduce(parts)  # a bearing rounded just below pi
    return parts


def dense_sri(
    lat: np.ndarray,
    lon: np.ndarray,
    values: np.ndarray,
    centres: np.ndarray,
    neighbourhoods: list[tuple[np.ndarray, np.ndarray, float]],
    *,
    partition: str,
    scale: float | None = None,
    lag: float | None = None,
    n_splits: int = 8,
    threshold: int = 20,
    bins: int | None = None,
    eps: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray]:
    """SRI of every centre, one centre and one part at a time (docs/method.md, D5).

    Same semantics as :func:`pygbs.stats.sri.sri_scores` (see its module docstring for the
    choices it makes, stated in docs/method.md, D5), written with NumPy masks and
    ``numpy.histogram``.

    Parameters
    ----------
    lat, lon : ndarray of float64, shape (n_samples,)
        All samples in radians.
    values : ndarray of float64, shape (n_samples,)
        Coded values.
    centres : ndarray of int, shape (n_centres,)
        Row ids of the centres.
    neighbourhoods : list of (indices, dist, radius)
        As returned by :func:`dense_neighbourhoods`.
    partition : {'grid', 'lag', 'sector'}
        The partition.
    scale, lag : float, optional
        Grid cell side and ring width (radians); default ``radius / 2`` and ``radius / 4``.
    n_splits : int, default=8
        Direction sectors.
    threshold : int, default=20
        Parts with fewer samples are skipped.
    bins : int, optional
        Histogram bins; default 2 when all values are +-1, else 10.
    eps : float, default=1e-8
        Smoothing of the part's probabilities.

    Returns
    -------
    sri : ndarray of float64, shape (n_centres,)
        NaN where no part is kept.
    n_parts : ndarray of int64, shape (n_centres,)
        Number of parts kept.
    """
    if partition not in _PARTITIONS:
        raise ValueError(f"partition must be one of {_PARTITIONS}; got {partition!r}")
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if bins is None:
        bins = 2 if np.all(np.abs(values) == 1.0) else 10
    out = np.full(len(neighbourhoods), np.nan)
    kept = np.zeros(len(neighbourhoods), dtype=np.int64)
    for i, (c, (idx, dist, r)) in enumerate(zip(centres, neighbourhoods)):
        if idx.shape[0] == 0:
            continue
        g_vals = values[idx]
        g_counts, edges = np.histogram(g_vals, bins=bins)
        p_g = g_counts / g_vals.shape[0]
        safe_r = r if r > 0 else 1.0  # r = 0: no grid cell and no ring, as in pygbs.stats.sri
        sc = safe_r / 2 if scale is None else scale
        lg = safe_r / 4 if lag is None else lag
        num = den = 0.0
        for mask in _parts(lat, lon, idx, np.asarray(dist), int(c), r, partition, sc, lg, n_splits):
            size = int(mask.sum())
            if size < threshold:
                continue
            p_p = np.histogram(g_vals[mask], bins=edges)[0] / size
            nz = p_g > 0
            num += size * float(np.sum(p_g[nz] * np.log(p_g[nz] / (p_p[nz] + eps))))
            den += size
            kept[i] += 1
        if kept[i]:
            out[i] = num / den
    return out, kept
