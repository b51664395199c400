"""Opening a table: CSV, CSV.gz, Parquet, DataFrame or GeoDataFrame, and finding its columns.

Reading only; what the columns mean is decided by :mod:`pygbs.io.predictions` (generic
columns) and :mod:`pygbs.io.torchspatial` (TorchSpatial's conventions). A private module of
:mod:`pygbs.io`: its names are used by the modules of that package only.
"""

from __future__ import annotations

import os
import re
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs.errors import EmptyInputError, InputError

__all__ = [
    "CSV_SUFFIXES",
    "LAT_NAMES",
    "LON_NAMES",
    "PARQUET_SUFFIXES",
    "Coords",
    "Loaded",
    "auto",
    "check_distinct",
    "columns_text",
    "load",
    "match",
    "numeric",
]

#: Longitude column names recognised (case-insensitively), in order of preference.
LON_NAMES: tuple[str, ...] = ("lon", "longitude", "lng", "long")
#: Latitude column names recognised (case-insensitively), in order of preference.
LAT_NAMES: tuple[str, ...] = ("lat", "latitude")

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
_UNNAMED_RE = re.compile(r"^Unnamed: \d+(?:\.\d+)?$")


@dataclass
class Loaded:
    """A table as read, before validation."""

    table: pd.DataFrame
    label: str
    geo_lon: np.ndarray | None = None
    geo_lat: np.ndarray | None = None


def load(source: Any) -> Loaded:
    """Read ``source`` into a DataFrame without the unnamed index column."""
    gpd = sys.modules.get("geopandas")
    if gpd is not None and isinstance(source, gpd.GeoDataFrame):
        return load_geodataframe(source)
    if isinstance(source, pd.DataFrame):
        check_unique_names(list(source.columns), "<DataFrame>")
        return Loaded(drop_unnamed(source), "<DataFrame>")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        label = str(source)
        table = read_file(path, label)
        check_unique_names(raw_header(path, table), label)
        return Loaded(drop_unnamed(table), label)
    raise TypeError(
        "source must be a path, a pandas DataFrame or a geopandas GeoDataFrame; "
        f"got {type(source).__name__}"
    )


def read_file(path: Path, label: str) -> pd.DataFrame:
    """Read a CSV / CSV.gz / Parquet file, turning failures into :class:`InputError`."""
    name = path.name.lower()
    is_csv = name.endswith(CSV_SUFFIXES)
    is_parquet = name.endswith(PARQUET_SUFFIXES)
    if not path.exists():
        raise InputError(f"{label}: file not found")
    if not path.is_file():
        raise InputError(f"{label}: not a file")
    if not (is_csv or is_parquet):
        raise InputError(
            f"{label}: unsupported file extension; expected one of "
            f"{', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}"
        )
    if path.stat().st_size == 0:  # a zero-byte CSV, CSV.gz or Parquet file
        raise EmptyInputError(f"{label}: the file is empty (0 bytes)")
    try:
        if is_csv:
            return pd.read_csv(path, low_memory=False)
        return pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise EmptyInputError(f"{label}: the file is empty") from None
    except (
        pd.errors.ParserError,
        UnicodeDecodeError,
        OSError,
        ValueError,
        EOFError,
        zlib.error,
    ) as exc:  # zlib.error, EOFError, gzip.BadGzipFile (an OSError): corrupt or cut gzip data
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        kind = "CSV" if is_csv else "Parquet"
        raise InputError(f"{label}: cannot read as {kind}: {first}") from None


def raw_header(path: Path, table: pd.DataFrame) -> list[Any]:
    """Column names as written in the file.

    pandas renames a repeated CSV header name (``lat,lat`` becomes ``lat, lat.1``), so the
    header row of a CSV file is read again as plain text; Parquet keeps its names.
    """
    if not path.name.lower().endswith(CSV_SUFFIXES):
        return list(table.columns)
    try:
        first = pd.read_csv(path, header=None, nrows=1, dtype=str, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError):
        return list(table.columns)
    return list(first.iloc[0]) if len(first) else list(table.columns)


def check_unique_names(names: Sequence[Any], label: str) -> None:
    """Refuse a header that repeats a column name (empty names are index columns)."""
    seen: dict[str, int] = {}
    for pos, name in enumerate(names):
        key = str(name).strip()
        if key == "" or _UNNAMED_RE.match(key):
            continue
        if key in seen:
            raise InputError(
                f"{label}: header row: column name {key!r} appears more than once (columns "
                f"{seen[key] + 1} and {pos + 1}); give every column a unique name"
            )
        seen[key] = pos


def drop_unnamed(table: pd.DataFrame) -> pd.DataFrame:
    """Drop unnamed index columns (``Unnamed: 0`` or an empty name); reset the index."""
    unnamed = [
        c for c in table.columns if isinstance(c, str) and (c.strip() == "" or _UNNAMED_RE.match(c))
    ]
    out = table.drop(columns=unnamed) if unnamed else table
    return out.reset_index(drop=True)


def load_geodataframe(gdf: Any) -> Loaded:
    """Take x/y of a point GeoDataFrame, in EPSG:4326."""
    label = "<GeoDataFrame>"
    geom_name = gdf.geometry.name
    geoms = gdf.geometry
    present = ~(geoms.isna() | geoms.is_empty).to_numpy()
    types = geoms.geom_type.to_numpy()
    bad = present & (types != "Point")
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{label}: column {geom_name!r}, row {row}: geometry must be Point; got {types[row]}"
        )
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        geoms = geoms.to_crs("EPSG:4326")
    lon = np.full(len(gdf), np.nan)
    lat = np.full(len(gdf), np.nan)
    if present.any():
        pts = geoms[present]
        lon[present] = pts.x.to_numpy(dtype=np.float64)
        lat[present] = pts.y.to_numpy(dtype=np.float64)
    table = pd.DataFrame(gdf.drop(columns=geom_name))
    return Loaded(drop_unnamed(table), label, lon, lat)


# --------------------------------------------------------------------------- columns


def columns_text(columns: Iterable[Any]) -> str:
    return ", ".join(repr(str(c)) for c in columns) or "(none)"


def match(columns: Sequence[Any], name: str, label: str) -> Any | None:
    """Exact column match, else a unique case-insensitive match, else None."""
    if name in columns:
        return name
    hits = [c for c in columns if str(c).strip().lower() == name.strip().lower()]
    if len(hits) > 1:
        raise InputError(
            f"{label}: column name {name!r} is ambiguous: matches {columns_text(hits)}"
        )
    return hits[0] if hits else None


def auto(columns: Sequence[Any], names: Sequence[str], label: str) -> Any | None:
    """First of ``names`` present (case-insensitively) among ``columns``."""
    for name in names:
        hit = match(columns, name, label)
        if hit is not None:
            return hit
    return None


@dataclass
class Coords:
    """Where a table's coordinates are: column names, values, and their provenance."""

    lon_col: str
    lat_col: str
    lon: Any
    lat: Any
    label: str
    source: str = "file"
    check: dict[str, Any] | None = None
    own_columns: tuple[Any, Any] | None = None


def check_distinct(lon_col: Any, lat_col: Any, label: str) -> None:
    """Longitude and latitude must come from two different columns."""
    if lon_col == lat_col:
        raise InputError(
            f"{label}: column {str(lon_col)!r} is given for both longitude and latitude "
            "(lon=/--lon and lat=/--lat); they must be two different columns"
        )


def numeric(values: Any, label: str, column: str) -> np.ndarray:
    """Float64 copy of a column; non-numeric entries raise naming the first row."""
    if not isinstance(values, pd.Series):
        return np.array(values, dtype=np.float64)
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64)
    coerced = pd.to_numeric(values, errors="coerce")
    bad = (values.notna() & coerced.isna()).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{label}: column {column!r}, row {row}: non-numeric value {values.iloc[row]!r}"
        )
    return pd.Series(coerced).to_numpy(dtype=np.float64, na_value=np.nan)
