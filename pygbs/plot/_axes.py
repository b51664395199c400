"""Shared plumbing of the maps: figures, frames, graticules, marker sizes, hexbin grids.

Private: the public functions live in :mod:`pygbs.plot.maps` and
:mod:`pygbs.plot.hotspots`. Figures are plain :class:`matplotlib.figure.Figure` objects
(no pyplot state), so writing hundreds of maps leaks nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from pygbs.plot.basemap import draw_basemap
from pygbs.plot.frame import MapFrame, choose_frame

__all__ = [
    "HEXBIN_ABOVE",
    "clip_to_globe",
    "MAP_WIDTH_IN",
    "hex_gridsize",
    "map_axes",
    "marker_size",
    "resolve_frame",
]

#: Above this many points, maps aggregate into hexagons instead of drawing one marker each.
HEXBIN_ABOVE = 50_000
#: Width of a map figure in inches; its height follows the frame's aspect ratio.
MAP_WIDTH_IN = 9.0
#: Extra height (inches) for the title and the colour bar.
_DECORATION_IN = 1.1
_GRATICULE_STEPS = (1.0, 2.0, 5.0, 10.0, 15.0, 30.0)


def resolve_frame(
    lon: np.ndarray,
    lat: np.ndarray,
    frame: MapFrame | None,
    extent: Sequence[float] | None,
    world: bool,
) -> MapFrame:
    """The given frame, else one chosen from the extent, ``world`` or the points."""
    if frame is not None:
        return frame
    return choose_frame(lon, lat, extent=extent, world=world)


def figure_size(frame: MapFrame, width: float = MAP_WIDTH_IN) -> tuple[float, float]:
    """Figure size (inches) that fits the frame's aspect ratio plus decorations."""
    (x0, x1), (y0, y1) = frame.limits()
    aspect = (y1 - y0) / max(x1 - x0, 1.0)
    height = float(np.clip(width * aspect, 2.5, 1.4 * width)) + _DECORATION_IN
    return width, round(height, 2)


def map_axes(
    frame: MapFrame,
    ax: Axes | None = None,
    *,
    basemap: bool = True,
    figsize: tuple[float, float] | None = None,
) -> tuple[Axes, str | None]:
    """Create (or prepare) map axes: basemap, graticule, limits, equal aspect, no ticks.

    Parameters
    ----------
    frame : MapFrame
        Projection and extent.
    ax : Axes, optional
        Axes to draw into; a new :class:`~matplotlib.figure.Figure` is created if None.
    basemap : bool, default=True
        Draw the country polygons.
    figsize : tuple of float, optional
        Size of a new figure; defaults to :func:`figure_size`.

    Returns
    -------
    ax : Axes
        The map axes.
    source : str or None
        The basemap source drawn, None when none was.
    """
    if ax is None:
        fig = Figure(figsize=figsize or figure_size(frame), dpi=100, layout="constrained")
        ax = fig.add_subplot()
    source = draw_basemap(ax, frame, basemap=basemap)
    _graticule(ax, frame)
    (x0, x1), (y0, y1) = frame.limits()
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    caption = "Equal Earth" + (
        " (EPSG:8857)" if frame.lon_0 == 0.0 else f", lon_0={frame.lon_0:.1f}"
    )
    if source is not None:
        caption += " · basemap: Natural Earth"
    ax.text(
        0.995,
        0.005,
        caption,
        transform=ax.transAxes,
        fontsize=6,
        color="#707070",
        ha="right",
        va="bottom",
        zorder=6,
    )
    return ax, source


def _graticule(ax: Axes, frame: MapFrame) -> None:
    """Light meridians and parallels (every 30 degrees on world maps)."""
    if frame.extent is None:
        step = 30.0
        lon0, lon1, lat0, lat1 = frame.lon_0 - 180.0, frame.lon_0 + 180.0, -90.0, 90.0
    else:
        lon0, lon1, lat0, lat1 = frame.extent
        span = max(lon1 - lon0, lat1 - lat0)
        step = next((s for s in _GRATICULE_STEPS if span / s <= 8), 30.0)
    eps = 1e-6
    dense = np.linspace(-90.0, 90.0, 181)
    for lon in np.arange(np.ceil(lon0 / step) * step, lon1 + 1e-9, step):
        x, y = frame.project(np.full_like(dense, lon), dense)
        ax.plot(x, y, color="#d2d2d2", linewidth=0.3, zorder=1.5)
    lons = np.linspace(frame.lon_0 - 180.0 + eps, frame.lon_0 + 180.0 - eps, 361)
    for lat in np.arange(np.ceil(lat0 / step) * step, lat1 + 1e-9, step):
        if abs(lat) >= 90.0:
            continue
        x, y = frame.project(lons, np.full_like(lons, lat))
        ax.plot(x, y, color="#d2d2d2", linewidth=0.3, zorder=1.5)


def marker_size(n: int) -> float:
    """Scatter marker area (points^2) that keeps n markers readable."""
    return float(np.clip(300.0 / np.sqrt(max(n, 1)), 1.0, 30.0))


def hex_gridsize(frame: MapFrame) -> tuple[int, int]:
    """(nx, ny) hexagons across the frame, about 150 across a world map."""
    (x0, x1), (y0, y1) = frame.limits()
    nx = 150 if frame.extent is None else 100
    ny = max(1, int(round(nx * (y1 - y0) / (x1 - x0) / np.sqrt(3.0))))
    return nx, ny


def hex_area_km2(frame: MapFrame, gridsize: tuple[int, int]) -> float:
    """Area of one hexagon (km^2): Equal Earth is equal-area, so it is the same everywhere."""
    (x0, x1), (y0, y1) = frame.limits()
    sx = (x1 - x0) / gridsize[0]
    sy = (y1 - y0) / gridsize[1]
    return sx * sy / 2.0 / 1e6


def clip_to_globe(artist: Any, ax: Axes, frame: MapFrame) -> None:
    """Clip an artist (e.g. a hexagon layer) to the globe's outline."""
    x, y = frame.outline()
    patch = Polygon(np.column_stack([x, y]), closed=True, transform=ax.transData)
    artist.set_clip_path(patch)


def inside(frame: MapFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of projected points within the frame's axis limits."""
    (x0, x1), (y0, y1) = frame.limits()
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
