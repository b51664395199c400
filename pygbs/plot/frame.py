"""Map frames: the Equal Earth projection, its central meridian and the visible extent.

Every map of :mod:`pygbs.plot` is drawn in the equal-area Equal Earth projection
(EPSG:8857 for world maps, the same projection re-centred on the data for regional maps),
so that a hexagon or a cluster covers the same area on the map wherever it lies on Earth.
A :class:`MapFrame` holds the projection and the extent; :func:`choose_frame` picks one
from the data, from an explicit ``(lon0, lon1, lat0, lat1)`` box or for the whole world.

Longitudes may wrap: an extent with ``lon0 > lon1`` (e.g. ``170, -170``) crosses the
antimeridian, and the data's own extent is found as the shortest arc of longitude that
holds every point, so a cluster around Fiji is not stretched over the whole globe.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyproj

from pygbs.errors import InputError

__all__ = [
    "EQUAL_EARTH_EPSG",
    "MapFrame",
    "choose_frame",
    "equal_earth_crs",
]

#: EPSG code of Equal Earth centred on Greenwich, used for world maps.
EQUAL_EARTH_EPSG = 8857
#: Data spanning more than this many degrees of longitude (padding included) gets a world map.
WORLD_LON_SPAN_DEG = 200.0
#: Padding around the data, as a fraction of its span, and its minimum in degrees.
PAD_FRACTION = 0.08
MIN_PAD_DEG = 2.0
#: Points per edge when a lon/lat box or the globe outline is projected.
_EDGE_POINTS = 181


def _wrap180(lon: np.ndarray | float) -> np.ndarray:
    """Longitudes into [-180, 180)."""
    return (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0


@functools.lru_cache(maxsize=32)
def equal_earth_crs(lon_0: float = 0.0) -> pyproj.CRS:
    """Equal Earth with central meridian ``lon_0`` (EPSG:8857 when ``lon_0 == 0``).

    Parameters
    ----------
    lon_0 : float, default=0.0
        Central meridian in degrees.

    Returns
    -------
    pyproj.CRS
        The projected CRS (metres).
    """
    if lon_0 == 0.0:
        return pyproj.CRS.from_epsg(EQUAL_EARTH_EPSG)
    return pyproj.CRS.from_proj4(
        f"+proj=eqearth +lon_0={float(lon_0)!r} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
    )


@functools.lru_cache(maxsize=32)
def _transformer(lon_0: float) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(
        pyproj.CRS.from_epsg(4326), equal_earth_crs(lon_0), always_xy=True
    )


@dataclass(frozen=True)
class MapFrame:
    """A projection and a visible extent.

    Attributes
    ----------
    lon_0 : float
        Central meridian of the Equal Earth projection, degrees in [-180, 180).
    extent : tuple of float or None
        ``(lon_min, lon_max, lat_min, lat_max)`` in degrees with ``lon_min < lon_max``
        (``lon_max`` may exceed 180 when the box crosses the antimeridian); None for the
        whole world.
    """

    lon_0: float = 0.0
    extent: tuple[float, float, float, float] | None = None

    @property
    def world(self) -> bool:
        """True for a whole-world frame."""
        return self.extent is None

    @property
    def crs(self) -> pyproj.CRS:
        """The projected CRS."""
        return equal_earth_crs(self.lon_0)

    def project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project lon/lat degrees to map metres (longitudes wrap around ``lon_0``).

        Parameters
        ----------
        lon, lat : array-like
            Degrees (WGS84). Latitudes must lie in [-90, 90].

        Returns
        -------
        x, y : ndarray
            Equal Earth coordinates in metres.
        """
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.clip(np.asarray(lat, dtype=np.float64), -90.0, 90.0)
        # Wrap relative to the central meridian ourselves, and only values beyond +-180:
        # a vertex exactly on the seam keeps its side, so polygons cut there stay whole.
        rel = lon - self.lon_0
        far = np.abs(rel) > 180.0
        rel = np.where(far, _wrap180(rel), rel)
        x, y = _transformer(self.lon_0).transform(rel + self.lon_0, lat)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def outline(self) -> tuple[np.ndarray, np.ndarray]:
        """The globe's outline in map metres (a closed ring)."""
        eps = 1e-6
        lats = np.linspace(-90.0, 90.0, _EDGE_POINTS)
        west = np.full_like(lats, self.lon_0 - 180.0 + eps)
        east = np.full_like(lats, self.lon_0 + 180.0 - eps)
        lon = np.concatenate([west, east[::-1], west[:1]])
        lat = np.concatenate([lats, lats[::-1], lats[:1]])
        x, y = _transformer(self.lon_0).transform(lon, lat)
        return np.asarray(x), np.asarray(y)

    def limits(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Axis limits ``((xmin, xmax), (ymin, ymax))`` in map metres."""
        if self.extent is None:
            x, y = self.outline()
        else:
            lon0, lon1, lat0, lat1 = self.extent
            lons = np.linspace(lon0, lon1, _EDGE_POINTS)
            lats = np.linspace(lat0, lat1, _EDGE_POINTS)
            lon = np.concatenate(
                [lons, np.full_like(lats, lon1), lons[::-1], np.full_like(lats, lon0)]
            )
            lat = np.concatenate(
                [np.full_like(lons, lat0), lats, np.full_like(lons, lat1), lats[::-1]]
            )
            x, y = self.project(lon, lat)
        return (float(x.min()), float(x.max())), (float(y.min()), float(y.max()))

    def describe(self) -> str:
        """A short text for titles and logs."""
        if self.extent is None:
            return f"world, Equal Earth (lon_0={self.lon_0:g})"
        lon0, lon1, lat0, lat1 = self.extent
        return (
            f"lon {_wrap180(lon0):.1f} to {_wrap180(lon1):.1f}, lat {lat0:.1f} to {lat1:.1f}, "
            f"Equal Earth (lon_0={self.lon_0:g})"
        )


def _round_meridian(lon: float) -> float:
    """Central meridian in [-180, 180), rounded to 0.1 degree (readable in captions)."""
    return float(_wrap180(round(float(lon), 1)))


def _shortest_arc(lon: np.ndarray) -> tuple[float, float]:
    """Smallest ``(start, end)`` arc of longitude holding every value (end may be > 180)."""
    lon = np.unique(_wrap180(lon))
    if lon.size == 1:
        return float(lon[0]), float(lon[0])
    gaps = np.diff(np.concatenate([lon, lon[:1] + 360.0]))
    i = int(np.argmax(gaps))  # the largest empty gap lies between lon[i] and lon[i + 1]
    start = float(lon[(i + 1) % lon.size])
    end = float(lon[i])
    if end < start:
        end += 360.0
    return start, end


def choose_frame(
    lon: np.ndarray | None = None,
    lat: np.ndarray | None = None,
    *,
    extent: Sequence[float] | None = None,
    world: bool = False,
) -> MapFrame:
    """Pick a map frame: the whole world, an explicit box, or the data's extent with padding.

    Parameters
    ----------
    lon, lat : array-like, optional
        The points to show (degrees). Needed unless ``world`` or ``extent`` is given.
    extent : sequence of 4 floats, optional
        ``(lon0, lon1, lat0, lat1)`` in degrees; ``lon0 > lon1`` crosses the antimeridian.
    world : bool, default=False
        Show the whole world (Equal Earth, EPSG:8857).

    Returns
    -------
    MapFrame
        The frame. Data spanning more than about 200 degrees of longitude gets a world map.

    Raises
    ------
    InputError
        For an extent that is not four finite numbers with longitudes in [-180, 180] and
        ``lat0 < lat1`` in [-90, 90],
        for ``world`` combined with ``extent``, or when no points are given.
    """
    if world and extent is not None:
        raise InputError("choose either world=True (--world) or an extent (--extent), not both")
    if world:
        return MapFrame(0.0, None)
    if extent is not None:
        box = np.asarray(extent, dtype=np.float64).ravel()
        if box.size != 4 or not np.isfinite(box).all():
            raise InputError(f"extent must be four numbers lon0 lon1 lat0 lat1; got {extent!r}")
        lon0, lon1, lat0, lat1 = (float(v) for v in box)
        if not (-180.0 <= lon0 <= 180.0 and -180.0 <= lon1 <= 180.0):
            raise InputError(
                f"extent longitudes must lie in [-180, 180] (lon0 > lon1 crosses the "
                f"antimeridian); got {extent!r}"
            )
        if not (-90.0 <= lat0 < lat1 <= 90.0):
            raise InputError(
                f"extent latitudes must satisfy -90 <= lat0 < lat1 <= 90; got {extent!r}"
            )
        lon0 = float(_wrap180(lon0)) if abs(lon0) != 180.0 else lon0
        lon1 = float(_wrap180(lon1)) if abs(lon1) != 180.0 else lon1
        if lon1 <= lon0:
            lon1 += 360.0
        if lon1 - lon0 >= 359.999:
            return MapFrame(0.0, (-180.0, 180.0, lat0, lat1))
        lon_c = _round_meridian(0.5 * (lon0 + lon1))
        return MapFrame(lon_c, (lon0, lon1, lat0, lat1))
    if lon is None or lat is None:
        raise InputError("choose_frame needs points (lon, lat), an extent or world=True")
    lon = np.asarray(lon, dtype=np.float64).ravel()
    lat = np.asarray(lat, dtype=np.float64).ravel()
    keep = np.isfinite(lon) & np.isfinite(lat)
    if not keep.any():
        raise InputError("no finite coordinates to choose a map extent from")
    lon, lat = lon[keep], lat[keep]
    start, end = _shortest_arc(lon)
    span = end - start
    pad_lon = max(MIN_PAD_DEG, PAD_FRACTION * span)
    lat_span = float(lat.max() - lat.min())
    pad_lat = max(MIN_PAD_DEG, PAD_FRACTION * lat_span)
    lat0 = max(-90.0, float(lat.min()) - pad_lat)
    lat1 = min(90.0, float(lat.max()) + pad_lat)
    if span + 2.0 * pad_lon > WORLD_LON_SPAN_DEG:
        return MapFrame(0.0, None)
    lon0, lon1 = start - pad_lon, end + pad_lon
    lon_c = _round_meridian(0.5 * (lon0 + lon1))
    return MapFrame(lon_c, (lon0, lon1, lat0, lat1))
