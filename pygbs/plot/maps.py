"""Per-centre score maps, sample-density maps and :func:`write_maps`.

A centre map colours each centre of a :class:`~pygbs.GeoBiasResult` by its score (SSI or
SRI) at one scale; a density map shows where the samples are. Both are drawn on the
Natural Earth basemap in the Equal Earth projection (:mod:`pygbs.plot.frame`), and switch
from one marker per point to hexagon aggregates above :data:`HEXBIN_ABOVE` points, so a
million points render in seconds.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from pygbs.cancel import check_cancelled
from pygbs.errors import InputError
from pygbs.geo.scales import parse_scale
from pygbs.io.atomic import atomic_path
from pygbs.plot._axes import (
    HEXBIN_ABOVE,
    clip_to_globe,
    figure_size,
    hex_area_km2,
    hex_gridsize,
    inside,
    map_axes,
    marker_size,
    resolve_frame,
)
from pygbs.plot.frame import MapFrame, choose_frame
from pygbs.plot.hotspots import plot_hotspots
from pygbs.stats.registry import REGISTRY

__all__ = [
    "SCORE_COLUMNS",
    "plot_centres",
    "plot_density",
    "score_label",
    "write_maps",
]

logger = logging.getLogger(__name__)

#: Score columns of ``GeoBiasResult.centres``: (display name, units), from the registry
#: of :mod:`pygbs.stats.registry`.
SCORE_COLUMNS: dict[str, tuple[str, str]] = {
    d.column: (d.label, d.units) for d in REGISTRY.values()
}
#: Samples below which a density map shows markers instead of hexagon counts.
DENSITY_SCATTER_BELOW = 1000
_FORMATS = ("png", "svg", "pdf")


def score_label(score_column: str, scale: str | None = None, units: bool = True) -> str:
    """Human-readable name of a score column, e.g. ``"marked SSI at 100km (nats, -ln p)"``."""
    name, unit = SCORE_COLUMNS.get(score_column, (score_column, ""))
    text = name if scale is None else f"{name} at {scale}"
    return f"{text} ({unit})" if units and unit else text


def _scale_name(scale: Any) -> str:
    name = getattr(scale, "name", None)
    if isinstance(name, str):
        return name
    text = str(scale)
    try:
        return parse_scale(text).name
    except InputError:
        return text


def _centres_table(result_or_centres: Any) -> pd.DataFrame:
    centres = getattr(result_or_centres, "centres", result_or_centres)
    if not isinstance(centres, pd.DataFrame):
        raise TypeError(
            "expected a GeoBiasResult or its centres DataFrame; "
            f"got {type(result_or_centres).__name__}"
        )
    missing = [c for c in ("lon", "lat", "scale") if c not in centres.columns]
    if missing:
        raise InputError(f"centres table lacks column(s) {missing}; has {list(centres.columns)}")
    return centres


def _select(centres: pd.DataFrame, score_column: str, scale: Any) -> tuple[pd.DataFrame, str]:
    if score_column not in centres.columns:
        present = [c for c in SCORE_COLUMNS if c in centres.columns]
        raise InputError(
            f"score column {score_column!r} not in the centres table; choose from {present}"
        )
    name = _scale_name(scale)
    labels = centres["scale"].astype(str)
    rows = centres[labels == name]
    if rows.empty:
        raise InputError(
            f"scale {name!r} not in the centres table; choose from {sorted(labels.unique())}"
        )
    return rows, name


def _robust_limits(
    values: np.ndarray, vmin: float | None, vmax: float | None
) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    lo = float(np.percentile(finite, 2)) if vmin is None and finite.size else vmin
    hi = float(np.percentile(finite, 98)) if vmax is None and finite.size else vmax
    lo = 0.0 if lo is None else float(lo)
    hi = 1.0 if hi is None else float(hi)
    if hi <= lo:
        hi = lo + (abs(lo) * 0.01 or 1.0)
    return lo, hi


def _extend(values: np.ndarray, lo: float, hi: float) -> str:
    below = bool((values < lo).any())
    above = bool((values > hi).any())
    return {(False, False): "neither", (True, False): "min", (False, True): "max"}.get(
        (below, above), "both"
    )


def plot_centres(
    result_or_centres_df: Any,
    score_column: str,
    scale: Any,
    ax: Axes | None = None,
    *,
    frame: MapFrame | None = None,
    extent: Sequence[float] | None = None,
    world: bool = False,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    basemap: bool = True,
    hexbin_above: int = HEXBIN_ABOVE,
    colorbar: bool = True,
    title: str | None = None,
) -> Axes:
    """Map each centre coloured by its score at one scale.

    Parameters
    ----------
    result_or_centres_df : GeoBiasResult or pandas.DataFrame
        A result, or its ``centres`` table (columns ``lon``, ``lat``, ``scale`` and the
        score column).
    score_column : str
        ``"unmarked_ssi"``, ``"marked_ssi"``, ``"sri_grid"``, ``"sri_lag"`` or
        ``"sri_sector"``.
    scale : str or Scale
        The scale to show (``"100km"``, ``"nn50"``, ...).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure (``ax.figure``) is made if None.
    frame : MapFrame, optional
        Projection and extent; overrides ``extent`` and ``world``.
    extent : sequence of 4 floats, optional
        ``(lon0, lon1, lat0, lat1)``; by default the centres' extent with padding.
    world : bool, default=False
        Show the whole world.
    cmap : str, default="viridis"
        Matplotlib colour map.
    vmin, vmax : float, optional
        Colour limits; default to the 2nd and 98th percentiles of the scores (values
        beyond them get the end colours, shown by arrows on the colour bar). Pass the same
        limits to compare maps.
    basemap : bool, default=True
        Draw coastlines and country borders.
    hexbin_above : int, default=50000
        Above this many centres, draw hexagons coloured by the mean score inside them.
    colorbar : bool, default=True
        Add a colour bar titled with the score, scale and units.
    title : str, optional
        Defaults to the score, the scale, the number of centres and the mean score.

    Returns
    -------
    matplotlib.axes.Axes
        The map axes.

    Raises
    ------
    InputError
        For a score column or scale not in the table.
    """
    centres = _centres_table(result_or_centres_df)
    rows, scale_name = _select(centres, score_column, scale)
    lon = rows["lon"].to_numpy(np.float64)
    lat = rows["lat"].to_numpy(np.float64)
    values = rows[score_column].to_numpy(np.float64)
    frame = resolve_frame(lon, lat, frame, extent, world)
    ax, _ = map_axes(frame, ax, basemap=basemap)
    x, y = frame.project(lon, lat)
    scored = np.isfinite(values)
    n_scored = int(scored.sum())
    if n_scored > hexbin_above:
        gridsize = hex_gridsize(frame)
        keep = scored & inside(frame, x, y)
        (x0, x1), (y0, y1) = frame.limits()
        mappable = ax.hexbin(
            x[keep],
            y[keep],
            C=values[keep],
            reduce_C_function=np.mean,
            gridsize=gridsize,
            extent=(x0, x1, y0, y1),
            cmap=cmap,
            mincnt=1,
            linewidths=0,
            edgecolors="face",
            zorder=3,
        )
        clip_to_globe(mappable, ax, frame)
        drawn = np.asarray(mappable.get_array(), dtype=np.float64)
        note = f"hexagon mean of {n_scored:,} centres"
    else:
        order = np.argsort(values[scored], kind="stable")  # high scores drawn on top
        mappable = ax.scatter(
            x[scored][order],
            y[scored][order],
            c=values[scored][order],
            cmap=cmap,
            s=marker_size(n_scored),
            linewidths=0,
            zorder=3,
            rasterized=n_scored > 5000,
        )
        drawn = values[scored]
        note = f"{n_scored:,} centres"
    lo, hi = _robust_limits(drawn, vmin, vmax)
    mappable.set_norm(Normalize(lo, hi))
    if (~scored).any():
        n_not = int((~scored).sum())
        ax.scatter(
            x[~scored],
            y[~scored],
            s=max(1.0, 0.5 * marker_size(n_not)),
            marker="x",
            color="#8c8c8c",
            linewidths=0.5,
            zorder=2.5,
            label=f"not scored ({n_not:,})",
        )
        ax.legend(loc="lower left", fontsize=7, frameon=False)
    if colorbar:
        cbar = ax.figure.colorbar(
            mappable,
            ax=ax,
            orientation="horizontal",
            shrink=0.6,
            aspect=40,
            pad=0.02,
            extend=_extend(drawn, lo, hi),
        )
        cbar.set_label(score_label(score_column, scale_name), fontsize=9)
        cbar.ax.tick_params(labelsize=8)
    if title is None:
        mean = float(np.mean(values[scored])) if n_scored else math.nan
        title = f"{score_label(score_column, scale_name, units=False)}: {note}, mean {mean:.3g}"
    ax.set_title(title, fontsize=10)
    return ax


def plot_density(
    lon: np.ndarray,
    lat: np.ndarray,
    ax: Axes | None = None,
    *,
    frame: MapFrame | None = None,
    extent: Sequence[float] | None = None,
    world: bool = False,
    cmap: str = "magma_r",
    basemap: bool = True,
    scatter_below: int = DENSITY_SCATTER_BELOW,
    colorbar: bool = True,
    title: str | None = None,
) -> Axes:
    """Map where the samples are: hexagon counts (log colour scale), or markers when few.

    The projection is equal-area, so every hexagon covers the same area on Earth and the
    counts are densities; the colour bar states that area.

    Parameters
    ----------
    lon, lat : array-like
        Sample coordinates in degrees.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made if None.
    frame, extent, world
        As in :func:`plot_centres`.
    cmap : str, default="magma_r"
        Colour map of the counts.
    basemap : bool, default=True
        Draw coastlines and country borders.
    scatter_below : int, default=1000
        With fewer samples, draw one translucent marker per sample.
    colorbar : bool, default=True
        Add a colour bar (hexagon counts only).
    title : str, optional
        Defaults to the number of samples.

    Returns
    -------
    matplotlib.axes.Axes
        The map axes.
    """
    lon = np.asarray(lon, dtype=np.float64).ravel()
    lat = np.asarray(lat, dtype=np.float64).ravel()
    if lon.shape != lat.shape:
        raise InputError(f"lon and lat differ in length: {lon.size} and {lat.size}")
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    frame = resolve_frame(lon, lat, frame, extent, world)
    ax, _ = map_axes(frame, ax, basemap=basemap)
    x, y = frame.project(lon, lat)
    n = int(lon.size)
    if n < scatter_below:
        ax.scatter(x, y, s=marker_size(n), color="#b2182b", alpha=0.6, linewidths=0, zorder=3)
    elif inside(frame, x, y).any():  # hexagons need at least one sample in view
        gridsize = hex_gridsize(frame)
        keep = inside(frame, x, y)
        (x0, x1), (y0, y1) = frame.limits()
        mappable = ax.hexbin(
            x[keep],
            y[keep],
            gridsize=gridsize,
            extent=(x0, x1, y0, y1),
            cmap=cmap,
            norm=LogNorm(),
            mincnt=1,
            linewidths=0,
            edgecolors="face",
            zorder=3,
        )
        clip_to_globe(mappable, ax, frame)
        if colorbar:
            cbar = ax.figure.colorbar(
                mappable, ax=ax, orientation="horizontal", shrink=0.6, aspect=40, pad=0.02
            )
            area = hex_area_km2(frame, gridsize)
            cbar.set_label(
                f"samples per hexagon (each about {area:,.0f} km², equal-area)", fontsize=9
            )
            cbar.ax.tick_params(labelsize=8)
    ax.set_title(title or f"Sample density: {n:,} samples", fontsize=10)
    return ax


def _save(fig: Figure, stem: Path, formats: Sequence[str], dpi: int) -> list[Path]:
    paths = []
    for fmt in formats:
        check_cancelled()
        path = stem.with_suffix(f".{fmt}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
        paths.append(path)
    return paths


def _check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    if isinstance(formats, str):
        formats = (formats,)
    out = tuple(str(f).lower().lstrip(".") for f in formats)
    bad = [f for f in out if f not in _FORMATS]
    if bad or not out:
        raise InputError(
            f"image format(s) {bad or list(formats)} not supported; choose from {list(_FORMATS)}"
        )
    return out


def _present_scores(centres: pd.DataFrame) -> list[str]:
    return [c for c in SCORE_COLUMNS if c in centres.columns and centres[c].notna().any()]


def _sample_points(result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """Per-sample lon, lat and coded values a result holds (coded None when it has none).

    A result read back from disk holds no samples (see :func:`pygbs.api.attach_samples`);
    its centres are drawn instead.
    """
    pred = getattr(result, "predictions", None)
    coded = getattr(result, "coded", None)
    if pred is None:
        centres = _centres_table(result)
        first = centres.drop_duplicates("row") if "row" in centres.columns else centres
        return (
            first["lon"].to_numpy(np.float64),
            first["lat"].to_numpy(np.float64),
            None,
            "centres",
        )
    return np.asarray(pred.lon), np.asarray(pred.lat), coded, "samples"


def write_maps(
    result: Any,
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    extent: Sequence[float] | None = None,
    world: bool = False,
    *,
    hotspots: bool = True,
    hotspot_options: Mapping[str, Any] | None = None,
    basemap: bool = True,
    dpi: int = 150,
) -> list[Path]:
    """Write every map of a result: score maps per score and scale, density, hotspots.

    Files (one per format): ``centres_<score>_<scale>``, ``density``, and, when the
    per-sample coded performance is available (the result holds its predictions, or the
    source file named in its summary can be read again), ``hotspots_gi`` and
    ``hotspots_lisa``. All maps share one frame, so they can be laid side by side.

    Parameters
    ----------
    result : GeoBiasResult
        A scored result (from :func:`pygbs.score` or ``GeoBiasResult.read``).
    out_dir : path-like
        Output folder (created). Each file is written atomically.
    formats : sequence of {'png', 'svg', 'pdf'}, default=('png',)
        Image formats.
    extent : sequence of 4 floats, optional
        ``(lon0, lon1, lat0, lat1)``; by default the data's extent with padding.
    world : bool, default=False
        Whole-world maps.
    hotspots : bool, default=True
        Also write the Getis-Ord Gi* and local Moran hotspot maps.
    hotspot_options : mapping, optional
        Keyword arguments of :func:`pygbs.plot.plot_hotspots` (``graph``, ``k``,
        ``distance_km``, ``permutations``, ``alpha``, ``seed``, ``max_points``).
    basemap : bool, default=True
        Draw coastlines and country borders.
    dpi : int, default=150
        Resolution of raster images.

    Returns
    -------
    list of Path
        The files written, in order.
    """
    formats = _check_formats(formats)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    centres = _centres_table(result)
    lon_s, lat_s, coded, kind = _sample_points(result)
    frame = choose_frame(
        np.concatenate([lon_s, centres["lon"].to_numpy(np.float64)]),
        np.concatenate([lat_s, centres["lat"].to_numpy(np.float64)]),
        extent=extent,
        world=world,
    )
    if extent is not None:
        x, y = frame.project(lon_s, lat_s)
        if not inside(frame, x, y).any():
            raise InputError(
                f"extent {' '.join(f'{v:g}' for v in extent)} holds none of the "
                f"{lon_s.size} {kind}; choose an extent around the data"
            )
    size = figure_size(frame)
    written: list[Path] = []
    scales = list(dict.fromkeys(centres["scale"].astype(str)))
    for column in _present_scores(centres):
        for scale in scales:
            fig = Figure(figsize=size, layout="constrained")
            plot_centres(centres, column, scale, fig.add_subplot(), frame=frame, basemap=basemap)
            safe = scale.replace("/", "_").replace(" ", "_")
            written += _save(fig, out / f"centres_{column}_{safe}", formats, dpi)
    fig = Figure(figsize=size, layout="constrained")
    plot_density(
        lon_s,
        lat_s,
        fig.add_subplot(),
        frame=frame,
        basemap=basemap,
        title=None if kind == "samples" else f"Centre density: {lon_s.size:,} centres",
    )
    written += _save(fig, out / "density", formats, dpi)
    if hotspots and coded is None:
        logger.warning("no per-sample performance available: hotspot maps skipped")
    elif hotspots and lon_s.size <= int((hotspot_options or {}).get("k", 8)):
        logger.warning(
            "only %d samples: hotspot maps skipped (the k-NN graph needs more samples than "
            "its %d neighbours per sample, hotspot_options k, --hotspot-k)",
            lon_s.size,
            int((hotspot_options or {}).get("k", 8)),
        )
    elif hotspots:
        options = dict(hotspot_options or {})
        for statistic in ("gi", "lisa"):
            fig = Figure(figsize=size, layout="constrained")
            plot_hotspots(
                lon_s,
                lat_s,
                coded,
                statistic=statistic,
                ax=fig.add_subplot(),
                frame=frame,
                basemap=basemap,
                **options,
            )
            written += _save(fig, out / f"hotspots_{statistic}", formats, dpi)
    return written
