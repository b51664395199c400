"""Performance hotspots: local Getis-Ord Gi* and local Moran (LISA) on the sphere.

The statistics are PySAL's (:class:`esda.G_Local`, :class:`esda.Moran_Local`) with their
seeded permutation inference; this module only builds the spatial graph on the sphere,
labels the results and draws them. The graph (:func:`sphere_graph`) links each sample to
its ``k`` nearest samples, or to every sample within ``distance_km``, by great-circle
distance: the points are placed on the unit sphere and searched by chord length, which
orders pairs exactly as the great-circle distance does (chord = 2 sin(d / 2R)). A graph
built on raw degrees would treat a degree of longitude near the pole like one at the
equator; this one does not.

Labels, for a significance level ``alpha`` on the pseudo p-value ``p_sim``:

- ``"hot spot"``: Gi* above its expectation (or LISA high-high): a cluster of good
  performance;
- ``"cold spot"``: Gi* below (or LISA low-low): a cluster of failures;
- ``"good among bad"`` / ``"bad among good"``: LISA high-low / low-high outliers;
- ``"not significant"``; ``"isolate"``: a sample without neighbours (distance graph).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from libpysal.graph import Graph
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from scipy.spatial import cKDTree

from pygbs.errors import InputError
from pygbs.geo.scales import EARTH_RADIUS_KM
from pygbs.plot._axes import map_axes, marker_size, resolve_frame
from pygbs.plot.frame import MapFrame

__all__ = [
    "CLUSTER_COLOURS",
    "CLUSTER_LABELS",
    "local_hotspots",
    "plot_hotspots",
    "sphere_graph",
    "unit_vectors",
]

logger = logging.getLogger(__name__)

Statistic = Literal["gi", "lisa"]
GraphKind = Literal["knn", "distance"]

#: Cluster labels, in legend order.
CLUSTER_LABELS = (
    "hot spot",
    "cold spot",
    "good among bad",
    "bad among good",
    "not significant",
    "isolate",
)
CLUSTER_COLOURS = {
    "hot spot": "#d7191c",
    "cold spot": "#2c7bb6",
    "good among bad": "#fdae61",
    "bad among good": "#74add1",
    "not significant": "#c8c8c8",
    "isolate": "#6f6f6f",
}
#: Hotspot maps of more samples than this use a seeded random subset (permutation cost).
MAX_HOTSPOT_POINTS = 100_000
_STAT_NAMES = {"gi": "local Getis-Ord Gi*", "lisa": "local Moran's I (LISA)"}
# esda's Moran_Local quadrants: 1 high-high, 2 low-high, 3 low-low, 4 high-low.
_LISA_LABELS = {1: "hot spot", 2: "bad among good", 3: "cold spot", 4: "good among bad"}
_LEGEND = {
    "hot spot": "hot spot: good cluster",
    "cold spot": "cold spot: failure cluster",
    "good among bad": "outlier: good among bad",
    "bad among good": "outlier: bad among good",
}


@functools.lru_cache(maxsize=1)
def _esda() -> Any:
    """Import esda, letting numba cache its permutation kernels on disk.

    esda compiles its numba kernels without ``cache=True``, which costs tens of seconds in
    every new process. ``Dispatcher.enable_caching`` (numba's public API) turns the disk
    cache on for them (``NUMBA_CACHE_DIR`` or ``__pycache__``); nothing else changes. The
    engine that takes the statistic as a function argument cannot be cached that way (its
    signature differs in every process, so each process would compile it and write one
    more copy): esda calls :func:`pygbs.plot._esda_chunks.compute_chunk` instead, the same
    engine built once per statistic.
    """
    import esda
    import esda.crand
    import esda.getisord
    import esda.moran

    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover - esda then runs without numba
        return esda
    try:
        from pygbs.plot import _esda_chunks
    except ImportError:  # pragma: no cover - an esda without the names the engine calls
        _esda_chunks = None
    engine = esda.crand.compute_chunk
    for module in (esda.crand, esda.moran, esda.getisord):
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher) and obj is not engine:
                with contextlib.suppress(Exception):
                    obj.enable_caching()
    if _esda_chunks is not None and engine is _esda_chunks._esda_compute_chunk:
        esda.crand.compute_chunk = _esda_chunks.compute_chunk
    if _esda_chunks is not None and (
        esda.crand.vec_permutations is _esda_chunks._esda_vec_permutations
    ):
        esda.crand.vec_permutations = _esda_chunks.vec_permutations
    return esda


def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, shape (n, 3), from lon/lat degrees.

    Parameters
    ----------
    lon, lat : array-like
        Degrees.

    Returns
    -------
    ndarray of shape (n, 3)
        ``(cos lat cos lon, cos lat sin lon, sin lat)``.
    """
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    cos_phi = np.cos(phi)
    return np.column_stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)])


def _check_points(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=np.float64).ravel()
    lat = np.asarray(lat, dtype=np.float64).ravel()
    if lon.shape != lat.shape:
        raise InputError(f"lon and lat differ in length: {lon.size} and {lat.size}")
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lat) > 90.0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"row {row}: coordinates ({lon[row]!r}, {lat[row]!r}) are missing or out of range"
        )
    return lon, lat


def sphere_graph(
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    graph: GraphKind = "knn",
    k: int = 8,
    distance_km: float | None = None,
) -> Graph:
    """Binary spatial graph of the samples by great-circle distance.

    Parameters
    ----------
    lon, lat : array-like of shape (n,)
        Degrees.
    graph : {'knn', 'distance'}, default='knn'
        ``"knn"``: each sample's ``k`` nearest other samples (directed; ties between equally
        distant samples, e.g. duplicates of one site, are broken by the k-d tree's order).
        ``"distance"``: every other sample within ``distance_km`` (symmetric); samples with
        none are isolates (a self-loop of weight 0, libpysal's convention).
    k : int, default=8
        Neighbours per sample for ``"knn"``; must be below n.
    distance_km : float, optional
        Band radius in km for ``"distance"`` (required there).

    Returns
    -------
    libpysal.graph.Graph
        Ids 0..n-1 in input order, weights 1.

    Raises
    ------
    InputError
        For an unknown ``graph``, ``k`` out of range, or a missing or non-positive
        ``distance_km``.
    """
    lon, lat = _check_points(lon, lat)
    n = lon.size
    xyz = unit_vectors(lon, lat)
    tree = cKDTree(xyz)
    if graph == "knn":
        if int(k) != k or not 1 <= k < n:
            raise InputError(f"k must be an integer in [1, {n - 1}] for {n} samples; got {k!r}")
        k = int(k)
        _, idx = tree.query(xyz, k=k + 1)
        idx = np.asarray(idx, dtype=np.int64).reshape(n, k + 1)
        own = idx == np.arange(n)[:, None]
        keep = ~own
        # A sample that is not in its own list (k+1 duplicates of its site) drops the last.
        keep[~own.any(axis=1), -1] = False
        focal = np.repeat(np.arange(n), k)
        neighbor = idx[keep]
        return Graph.from_arrays(focal, neighbor, np.ones(n * k))
    if graph == "distance":
        if distance_km is None or not np.isfinite(distance_km) or distance_km <= 0:
            raise InputError(
                f"distance_km must be a positive number for graph='distance'; got {distance_km!r}"
            )
        angle = min(float(distance_km) / EARTH_RADIUS_KM, np.pi)
        chord = 2.0 * np.sin(angle / 2.0)
        pairs = tree.query_pairs(chord, output_type="ndarray")
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        focal = np.concatenate([pairs[:, 0], pairs[:, 1]])
        neighbor = np.concatenate([pairs[:, 1], pairs[:, 0]])
        weight = np.ones(focal.size)
        lonely = np.setdiff1d(np.arange(n), focal)
        focal = np.concatenate([focal, lonely])
        neighbor = np.concatenate([neighbor, lonely])
        weight = np.concatenate([weight, np.zeros(lonely.size)])
        order = np.lexsort((neighbor, focal))
        return Graph.from_arrays(focal[order], neighbor[order], weight[order])
    raise InputError(f"graph must be one of ('knn', 'distance'); got {graph!r}")


def _prepare_values(values: np.ndarray, statistic: str) -> tuple[np.ndarray, str]:
    """Values fed to esda and a description; ±1 codes become 1 (good) / 0 (bad) for Gi*."""
    y = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise InputError(f"row {row}: value {y[row]!r} is not finite")
    if statistic == "gi":
        if np.isin(y, (-1.0, 1.0)).all():
            return (y > 0).astype(np.float64), "coded performance (good = 1, bad = 0)"
        if (y < 0).any():
            raise InputError(
                "Gi* needs non-negative values (±1 codes are mapped to 1/0 automatically); "
                "use statistic='lisa' for signed values"
            )
        return y, "values"
    desc = "coded performance (good = +1, bad = -1)" if np.isin(y, (-1.0, 1.0)).all() else "values"
    return y, desc


def local_hotspots(
    lon: np.ndarray,
    lat: np.ndarray,
    values: np.ndarray,
    *,
    statistic: Statistic = "gi",
    graph: GraphKind = "knn",
    k: int = 8,
    distance_km: float | None = None,
    permutations: int = 999,
    alpha: float = 0.05,
    seed: int = 0,
    correction: Literal["fdr"] | None = None,
    weights: Graph | None = None,
) -> pd.DataFrame:
    """Local hotspot statistics of per-sample performance, with permutation inference.

    Parameters
    ----------
    lon, lat : array-like of shape (n,)
        Sample coordinates in degrees.
    values : array-like of shape (n,)
        Coded performance (+1 good / -1 bad) or any numeric value. For Gi*, ±1 codes
        are analysed as 1/0 (the local share of good samples); other values must be
        non-negative.
    statistic : {'gi', 'lisa'}, default='gi'
        ``"gi"``: :class:`esda.G_Local` with ``star=True`` on binary weights (the sample
        itself included). ``"lisa"``: :class:`esda.Moran_Local` on row-standardised
        weights.
    graph, k, distance_km
        The graph, see :func:`sphere_graph`.
    permutations : int, default=999
        Conditional permutations for ``p_sim``.
    alpha : float, default=0.05
        Significance level for the labels.
    seed : int, default=0
        Seed of the permutations.
    correction : {None, 'fdr'}, default=None
        ``"fdr"``: call significant only ``p_sim <= esda.fdr(p_sim, alpha)``
        (Benjamini-Hochberg), instead of ``p_sim < alpha``.
    weights : libpysal.graph.Graph, optional
        A graph to use instead of building one (ids 0..n-1).

    Returns
    -------
    pandas.DataFrame
        One row per sample: ``lon``, ``lat``, ``value`` (as analysed), ``n_neighbours``,
        ``statistic`` (esda's ``Gs`` or ``Is``), ``z`` (Gi*: esda's ``Zs``, the sign
        of which tells hot from cold; NaN for LISA), ``p_sim``, ``quadrant`` (LISA
        only), ``significant`` and ``cluster`` (a label of :data:`CLUSTER_LABELS`).
        ``attrs`` records every parameter. Isolates get NaN statistics. A constant value
        gives NaN statistics and no significant sample. ``p_sim`` is esda's pseudo
        p-value, one-sided in the direction of the observed statistic ("directed").

    Raises
    ------
    InputError
        For a bad option, mismatched lengths or non-finite values.
    """
    esda = _esda()
    if statistic not in _STAT_NAMES:
        raise InputError(f"statistic must be one of ('gi', 'lisa'); got {statistic!r}")
    if correction not in (None, "fdr"):
        raise InputError(f"correction must be None or 'fdr'; got {correction!r}")
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must lie in (0, 1); got {alpha!r}")
    if int(permutations) != permutations or permutations < 1:
        raise InputError(f"permutations must be a positive integer; got {permutations!r}")
    lon, lat = _check_points(lon, lat)
    y, described = _prepare_values(values, statistic)
    if y.size != lon.size:
        raise InputError(f"values has {y.size} entries for {lon.size} coordinates")
    w = (
        weights
        if weights is not None
        else sphere_graph(lon, lat, graph=graph, k=k, distance_km=distance_km)
    )
    n = lon.size
    card = w.cardinalities.reindex(range(n)).to_numpy()
    lonely = card == 0
    out = pd.DataFrame({"lon": lon, "lat": lat, "value": y, "n_neighbours": card})
    stat = np.full(n, np.nan)
    z = np.full(n, np.nan)
    p = np.full(n, np.nan)
    quad = np.full(n, np.nan)
    constant = bool(np.ptp(y) == 0.0)
    if constant:
        logger.warning("all values are equal: no hotspot can be significant")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # esda 2.x warns that its default ("directed", folded one-sided p_sim) will
            # change; the local classes do not take the option yet, and we keep it.
            warnings.simplefilter("ignore", DeprecationWarning)
            if statistic == "gi":
                res = esda.G_Local(
                    y,
                    w,
                    transform="B",
                    star=True,
                    permutations=int(permutations),
                    keep_simulations=False,
                    n_jobs=1,
                    seed=int(seed),
                )
                stat, z, p = np.asarray(res.Gs), np.asarray(res.Zs), np.asarray(res.p_sim)
            else:
                res = esda.Moran_Local(
                    y,
                    w,
                    transformation="r",
                    permutations=int(permutations),
                    keep_simulations=False,
                    n_jobs=1,
                    seed=int(seed),
                )
                stat, p = np.asarray(res.Is), np.asarray(res.p_sim)
                quad = np.asarray(res.q, dtype=np.float64)
        stat, z, p = stat.astype(np.float64), z.astype(np.float64), p.astype(np.float64)
        stat[lonely] = z[lonely] = p[lonely] = quad[lonely] = np.nan
    if correction == "fdr" and np.isfinite(p).any():
        cut = float(esda.fdr(p[np.isfinite(p)], alpha))
        significant = np.isfinite(p) & (p <= cut)
    else:
        significant = np.isfinite(p) & (p < alpha)
    labels = np.full(n, "not significant", dtype=object)
    if statistic == "gi":
        labels[significant & (z > 0)] = "hot spot"
        labels[significant & (z < 0)] = "cold spot"
    else:
        for q, label in _LISA_LABELS.items():
            labels[significant & (quad == q)] = label
    labels[lonely] = "isolate"
    out["statistic"] = stat
    out["z"] = z
    out["p_sim"] = p
    out["quadrant"] = quad
    out["significant"] = significant
    out["cluster"] = pd.Categorical(labels, categories=CLUSTER_LABELS)
    out.attrs.update(
        statistic=statistic,
        values=described,
        graph=graph if weights is None else "given",
        k=int(k) if graph == "knn" else None,
        distance_km=None if graph == "knn" else distance_km,
        permutations=int(permutations),
        alpha=float(alpha),
        seed=int(seed),
        correction=correction,
    )
    return out


def _graph_text(graph: str, k: int, distance_km: float | None) -> str:
    if graph == "knn":
        return f"{k} nearest neighbours (great-circle)"
    return f"all samples within {distance_km:g} km (great-circle)"


def plot_hotspots(
    lon: np.ndarray,
    lat: np.ndarray,
    coded_values: np.ndarray,
    *,
    statistic: Statistic = "gi",
    graph: GraphKind = "knn",
    k: int = 8,
    distance_km: float | None = None,
    permutations: int = 999,
    alpha: float = 0.05,
    seed: int = 0,
    correction: Literal["fdr"] | None = None,
    max_points: int = MAX_HOTSPOT_POINTS,
    ax: Axes | None = None,
    frame: MapFrame | None = None,
    extent: Sequence[float] | None = None,
    world: bool = False,
    basemap: bool = True,
    title: str | None = None,
) -> Axes:
    """Map significant hot spots, cold spots and outliers of per-sample performance.

    The title states the statistic, the graph, the number of permutations and the
    significance rule; the legend counts the samples in each class.

    Parameters
    ----------
    lon, lat : array-like of shape (n,)
        Sample coordinates in degrees.
    coded_values : array-like of shape (n,)
        Coded performance (+1 good / -1 bad), or other values (see
        :func:`local_hotspots`).
    statistic, graph, k, distance_km, permutations, alpha, seed, correction
        As in :func:`local_hotspots`.
    max_points : int, default=100000
        With more samples, the statistics use a seeded random subset of this size (the
        map says so).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made if None.
    frame, extent, world, basemap
        As in :func:`pygbs.plot.plot_centres`.
    title : str, optional
        Replaces the first title line (the statistic's name).

    Returns
    -------
    matplotlib.axes.Axes
        The map axes (call :func:`local_hotspots` for the values themselves).
    """
    lon, lat = _check_points(lon, lat)
    values = np.asarray(coded_values, dtype=np.float64).ravel()
    if values.size != lon.size:
        raise InputError(f"coded_values has {values.size} entries for {lon.size} coordinates")
    n_all = lon.size
    subset_note = ""
    if n_all > max_points:
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(n_all, size=int(max_points), replace=False))
        lon, lat, values = lon[pick], lat[pick], values[pick]
        subset_note = f"; random subset of {lon.size:,} of {n_all:,} samples (seed {seed})"
    table = local_hotspots(
        lon,
        lat,
        values,
        statistic=statistic,
        graph=graph,
        k=k,
        distance_km=distance_km,
        permutations=permutations,
        alpha=alpha,
        seed=seed,
        correction=correction,
    )
    frame = resolve_frame(lon, lat, frame, extent, world)
    ax, _ = map_axes(frame, ax, basemap=basemap)
    x, y = frame.project(lon, lat)
    size = marker_size(lon.size)
    handles = []
    for label in CLUSTER_LABELS:
        mask = (table["cluster"] == label).to_numpy()
        count = int(mask.sum())
        if label in ("good among bad", "bad among good") and statistic == "gi":
            continue
        if count:
            quiet = label in ("not significant", "isolate")
            ax.scatter(
                x[mask],
                y[mask],
                s=size * (0.5 if quiet else 1.0),
                color=CLUSTER_COLOURS[label],
                linewidths=0,
                zorder=2.6 if quiet else 3,
                rasterized=count > 5000,
            )
        if count or label != "isolate":
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="o",
                    markersize=5,
                    color=CLUSTER_COLOURS[label],
                    label=f"{_LEGEND.get(label, label)} ({count:,})",
                )
            )
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=True, framealpha=0.85)
    rule = f"FDR {alpha:g}" if correction == "fdr" else f"p_sim < {alpha:g}"
    first = title or f"{_STAT_NAMES[statistic]} of {table.attrs['values']}"
    second = (
        f"graph: {_graph_text(graph, k, distance_km)}; {permutations} permutations; "
        f"significant: {rule}{subset_note}"
    )
    ax.set_title(f"{first}\n{second}", fontsize=9)
    return ax
