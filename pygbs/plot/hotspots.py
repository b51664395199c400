"""Hotspot maps: the clusters of :func:`pygbs.stats.hotspots.local_hotspots` on a map.

Drawing only: the statistics, the graph and the labels are :mod:`pygbs.stats.hotspots`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from pygbs.errors import InputError
from pygbs.plot._axes import map_axes, marker_size, resolve_frame
from pygbs.plot.frame import MapFrame
from pygbs.stats.hotspots import (
    CLUSTER_LABELS,
    STAT_NAMES,
    GraphKind,
    Statistic,
    check_points,
    local_hotspots,
)

__all__ = ["CLUSTER_COLOURS", "plot_hotspots"]

logger = logging.getLogger(__name__)

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
_LEGEND = {
    "hot spot": "hot spot: good cluster",
    "cold spot": "cold spot: failure cluster",
    "good among bad": "outlier: good among bad",
    "bad among good": "outlier: bad among good",
}


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
    lon, lat = check_points(lon, lat)
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
    first = title or f"{STAT_NAMES[statistic]} of {table.attrs['values']}"
    second = (
        f"graph: {_graph_text(graph, k, distance_km)}; {permutations} permutations; "
        f"significant: {rule}{subset_note}"
    )
    ax.set_title(f"{first}\n{second}", fontsize=9)
    return ax
