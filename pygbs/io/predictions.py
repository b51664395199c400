"""Reading prediction tables: CSV, CSV.gz, Parquet, DataFrame or GeoDataFrame.

:func:`read_predictions` turns one model's per-sample prediction table into a
:class:`~pygbs.predictions.Predictions`. It recognises the TorchSpatial layouts
(classification with an unnamed index column, regression, ``*_no_prior`` files without
coordinates) and the foundation-model tables (``hit@1`` coded -1/+1) without options.

Row numbers in error messages are 0-based data rows of the input table (the header is not
counted), before rows without coordinates are dropped.
"""

from __future__ import annotations

import logging
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

from pygbs.errors import CoordinatesError, EmptyInputError, InputError, NoCoordinatesError
from pygbs.hints import offers
from pygbs.predictions import Predictions
from pygbs.regression import derive_value

__all__ = [
    "LAT_NAMES",
    "LON_NAMES",
    "is_binary_name",
    "is_lower_better_name",
    "looks_encoded",
    "read_predictions",
]

logger = logging.getLogger(__name__)

#: Longitude column names recognised (case-insensitively), in order of preference.
LON_NAMES: tuple[str, ...] = ("lon", "longitude", "lng", "long")
#: Latitude column names recognised (case-insensitively), in order of preference.
LAT_NAMES: tuple[str, ...] = ("lat", "latitude")

#: Value columns taken by default when present, in order of preference.
_PREFERRED_VALUES: tuple[str, ...] = ("hit@1", "relative_error")
#: Other names that are clearly a per-sample performance value.
_OBVIOUS_VALUES: frozenset[str] = frozenset(
    {
        "reciprocal_rank",
        "true_class_prob",
        "true_class_probability",
        "value",
        "performance",
        "error",
        "abs_error",
        "absolute_error",
        "relative_error",
        "abs_relative_error",
        "squared_error",
        "distance_error",
        "residual",
        "correct",
        "is_correct",
    }
)
#: Hit indicator names: ``hit@1``, ``hits@3``, ``hit_5``, ``acc@1``, ``top1``, ``correct``.
_BINARY_RE = re.compile(r"^(?:(?:hits?|acc|top)[@_\-]?\d+|hit|correct|is_correct)$")
#: Name tokens of metrics where a lower value is better.
_LOWER_TOKENS: frozenset[str] = frozenset(
    {"error", "errors", "err", "residual", "residuals", "loss", "mae", "mse", "rmse", "mape"}
)
_CSV_SUFFIXES = (".csv", ".csv.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_UNNAMED_RE = re.compile(r"^Unnamed: \d+(?:\.\d+)?$")


def is_binary_name(name: str) -> bool:
    """Whether a column name denotes a hit indicator (``hit@k`` style).

    Parameters
    ----------
    name : str
        Column name.

    Returns
    -------
    bool
        True for ``hit@1``, ``hit@3``, ``hits@k``, ``hit_k``, ``acc@k``, ``topk``, ``hit``,
        ``correct`` and ``is_correct`` (case-insensitive).
    """
    return bool(_BINARY_RE.match(str(name).strip().lower()))


def is_lower_better_name(name: str) -> bool:
    """Whether a column name denotes an error-like metric (lower is better).

    Parameters
    ----------
    name : str
        Column name.

    Returns
    -------
    bool
        True when a ``_``/``-``/space separated token of the lower-cased name is one of
        error, err, residual, loss, mae, mse, rmse, mape (``relative_error``, ``abs_error``,
        ``absolute_error``, ...), or when the name is ``rank``.
    """
    low = str(name).strip().lower()
    tokens = set(re.split(r"[^a-z0-9]+", low))
    return low == "rank" or bool(tokens & _LOWER_TOKENS)


@dataclass
class _Loaded:
    """A table as read, before validation."""

    table: pd.DataFrame
    label: str
    geo_lon: np.ndarray | None = None
    geo_lat: np.ndarray | None = None


def read_predictions(
    source: str | os.PathLike[str] | pd.DataFrame,
    lon: str | None = None,
    lat: str | None = None,
    value: str | None = None,
    *,
    coords_from: str | os.PathLike[str] | pd.DataFrame | None = None,
    warn_encoded: bool = True,
) -> Predictions:
    """Read one model's per-sample prediction table.

    Parameters
    ----------
    source : str, path-like, pandas.DataFrame or geopandas.GeoDataFrame
        A ``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq`` file, or a table. A GeoDataFrame
        with point geometry gives the coordinates from its geometry (reprojected to
        EPSG:4326 when it has another CRS) unless ``lon``/``lat`` name columns.
    lon, lat : str, optional
        Coordinate column names (degrees). By default found case-insensitively among
        ``lon, longitude, lng, long`` and ``lat, latitude``.
    value : str, optional
        Performance column. By default ``hit@1`` if present, else ``relative_error``, else
        the single obvious performance column (``hit@3``, ``reciprocal_rank``,
        ``true_class_prob``, ``true_class_probability``, ``value``, ``error``, ...).
        ``absolute_error`` of a table without such a column but with predictions and labels
        columns (``predictions``, ``labels``) is derived as ``|prediction - label|``.
    coords_from : str, path-like or pandas.DataFrame, optional
        Another prediction table of the same dataset, row-aligned with ``source``, whose
        coordinates are used for a ``source`` without coordinate columns (e.g. the
        TorchSpatial ``*_no_prior`` files), or for a ``source`` whose coordinate columns
        are not degrees but the TorchSpatial ``wrap`` encoding of them (``lon`` holds
        sin(pi * lon / 180), ``lat`` holds sin(pi * lat / 90); the TorchSpatial ``*_wrap``
        files). The encoding is checked row by row against ``coords_from`` before its
        coordinates are used (docs/cli.md, "Coordinates that are not degrees").
    warn_encoded : bool, default=True
        Warn when every coordinate lies within [-1, 1] (they may be encoded); False for a
        caller that checks this itself (:func:`looks_encoded`).

    Returns
    -------
    Predictions
        The rows with both coordinates, in file order, numbered 0..n-1; rows missing a
        coordinate are dropped and counted in ``n_missing_coords``. ``coords_source`` and
        ``coords_check`` record where the coordinates came from.

    Raises
    ------
    InputError
        With a one-line message naming the file, column and row: missing file, unsupported
        extension, empty table, a column name that appears twice in the header, no
        coordinate columns, the same column for longitude and latitude, unknown or
        ambiguous value column, non-numeric values, latitude outside [-90, 90], longitude
        outside [-180, 360) (infinite coordinates included), a missing or infinite value on
        a row with coordinates, a hit column that is not 0/1 or -1/+1, a ``coords_from``
        table with a different number of rows, or encoded coordinates that do not match
        ``coords_from``. The subclasses
        :class:`~pygbs.errors.EmptyInputError` (an empty file, no data rows, no row with
        both coordinates), :class:`~pygbs.errors.NoCoordinatesError` (no coordinate
        columns) and :class:`~pygbs.errors.CoordinatesError` (encoded coordinates that do
        not match ``coords_from``, or a table without coordinates whose row count differs
        from ``coords_from``'s) tell those cases apart.

    Notes
    -----
    An unnamed index column (``Unnamed: 0`` or an empty name, as written by
    ``DataFrame.to_csv``) is dropped. Longitudes in [180, 360) are kept as given.
    """
    return _read_predictions(
        source, lon, lat, value, coords_from=coords_from, strict=True, warn_encoded=warn_encoded
    )


def _read_predictions(
    source: str | os.PathLike[str] | pd.DataFrame,
    lon: str | None = None,
    lat: str | None = None,
    value: str | None = None,
    *,
    coords_from: str | os.PathLike[str] | pd.DataFrame | None = None,
    strict: bool = True,
    warn_encoded: bool = True,
) -> Predictions:
    """Read one table, as :func:`read_predictions`.

    With ``strict=False``, ``coords_from`` is ignored for a table whose own coordinates
    are degrees (``pygbs compare`` passes it for every file and applies it where needed).
    ``warn_encoded=False`` drops the warning about coordinates within [-1, 1] (for a
    caller that replaces them).
    """
    loaded = _load(source)
    table, label = loaded.table, loaded.label
    n_rows = len(table)
    if n_rows == 0:
        raise EmptyInputError(f"{label}: the table has no data rows")

    coords = _coordinates(loaded, lon, lat, coords_from, strict)
    lon_col, lat_col, lon_raw, lat_raw = coords.lon_col, coords.lat_col, coords.lon, coords.lat
    coord_label = coords.label
    if coords.source.startswith("coords-from:") and coords.own_columns:
        table = table.copy()  # encoded columns: replaced by the reference's degrees
        table[coords.own_columns[0]] = np.asarray(lon_raw, dtype=np.float64)
        table[coords.own_columns[1]] = np.asarray(lat_raw, dtype=np.float64)
    elif coords.source.startswith("coords-from:"):
        table = table.copy()
        table.insert(0, "lat", lat_raw)
        table.insert(0, "lon", lon_raw)
    elif loaded.geo_lon is not None and lon is None and lat is None:
        table = table.copy()
        if "lat" not in table.columns:
            table.insert(0, "lat", lat_raw)
        if "lon" not in table.columns:
            table.insert(0, "lon", lon_raw)

    if value is not None and _match(list(table.columns), value, label) is None:
        derived = derive_value(table, value, label)  # e.g. absolute_error of a regression
        if derived is not None:
            table = table.copy()
            table[value] = derived
    value_col = _value_column(table, value, label, exclude={lon_col, lat_col})

    lon_arr = _numeric(lon_raw, coord_label, lon_col)
    lat_arr = _numeric(lat_raw, coord_label, lat_col)
    raw_value = table[value_col]
    is_bool = pd.api.types.is_bool_dtype(raw_value.dtype)
    val_arr = _numeric(raw_value, label, value_col)

    keep = ~(np.isnan(lon_arr) | np.isnan(lat_arr))
    n_keep = int(keep.sum())
    if n_keep == 0:
        raise EmptyInputError(
            f"{coord_label}: none of the {n_rows} rows has both coordinates "
            f"(columns {lon_col!r}, {lat_col!r})"
        )
    _check_range(
        ~((lat_arr >= -90.0) & (lat_arr <= 90.0)) & keep,
        lat_arr,
        coord_label,
        lat_col,
        "latitude",
        "[-90, 90]",
    )
    _check_range(
        ~((lon_arr >= -180.0) & (lon_arr < 360.0)) & keep,
        lon_arr,
        coord_label,
        lon_col,
        "longitude",
        "[-180, 360)",
    )
    nan_value = np.isnan(val_arr) & keep
    if nan_value.any():
        row = int(np.flatnonzero(nan_value)[0])
        raise InputError(
            f"{label}: column {value_col!r}, row {row}: missing value on a row with "
            f"coordinates ({int(nan_value.sum())} such rows)"
        )

    inf_value = np.isinf(val_arr) & keep
    if inf_value.any():
        row = int(np.flatnonzero(inf_value)[0])
        raise InputError(
            f"{label}: column {value_col!r}, row {row}: value {float(val_arr[row])!r} is not "
            f"finite ({int(inf_value.sum())} such rows)"
        )

    binary = is_bool or is_binary_name(value_col)
    if binary:
        _check_binary(val_arr, keep, label, value_col)

    kept = np.flatnonzero(keep)
    out_lon = np.ascontiguousarray(lon_arr[kept])
    out_lat = np.ascontiguousarray(lat_arr[kept])
    if warn_encoded and coords.source == "file" and looks_encoded(out_lon, out_lat):
        logger.warning(
            "%s: all %d coordinates lie within [-1, 1]; they may be normalised or encoded "
            "rather than degrees (e.g. TorchSpatial 'wrap' files); they are used as degrees "
            "(pass coords_from= / --coords-from with a degree file of the same rows to "
            "check and replace them)",
            coord_label,
            n_keep,
        )
    if n_rows - n_keep:
        logger.info("%s: dropped %d of %d rows without coordinates", label, n_rows - n_keep, n_rows)
    return Predictions(
        lon=out_lon,
        lat=out_lat,
        value=np.ascontiguousarray(val_arr[kept]),
        value_name=str(value_col),
        source=label,
        n_rows=n_rows,
        n_missing_coords=n_rows - n_keep,
        table=table.iloc[kept].reset_index(drop=True),
        binary=binary,
        lower_is_better=is_lower_better_name(value_col),
        coords_source=coords.source,
        coords_check=coords.check,
    )


# --------------------------------------------------------------------------- loading


def _load(source: Any) -> _Loaded:
    """Read ``source`` into a DataFrame without the unnamed index column."""
    gpd = sys.modules.get("geopandas")
    if gpd is not None and isinstance(source, gpd.GeoDataFrame):
        return _load_geodataframe(source)
    if isinstance(source, pd.DataFrame):
        _check_unique_names(list(source.columns), "<DataFrame>")
        return _Loaded(_drop_unnamed(source), "<DataFrame>")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        label = str(source)
        table = _read_file(path, label)
        _check_unique_names(_raw_header(path, table), label)
        return _Loaded(_drop_unnamed(table), label)
    raise TypeError(
        "source must be a path, a pandas DataFrame or a geopandas GeoDataFrame; "
        f"got {type(source).__name__}"
    )


def _read_file(path: Path, label: str) -> pd.DataFrame:
    """Read a CSV / CSV.gz / Parquet file, turning failures into :class:`InputError`."""
    name = path.name.lower()
    is_csv = name.endswith(_CSV_SUFFIXES)
    is_parquet = name.endswith(_PARQUET_SUFFIXES)
    if not path.exists():
        raise InputError(f"{label}: file not found")
    if not path.is_file():
        raise InputError(f"{label}: not a file")
    if not (is_csv or is_parquet):
        raise InputError(
            f"{label}: unsupported file extension; expected one of "
            f"{', '.join(_CSV_SUFFIXES + _PARQUET_SUFFIXES)}"
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


def _raw_header(path: Path, table: pd.DataFrame) -> list[Any]:
    """Column names as written in the file.

    pandas renames a repeated CSV header name (``lat,lat`` becomes ``lat, lat.1``), so the
    header row of a CSV file is read again as plain text; Parquet keeps its names.
    """
    if not path.name.lower().endswith(_CSV_SUFFIXES):
        return list(table.columns)
    try:
        first = pd.read_csv(path, header=None, nrows=1, dtype=str, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError):
        return list(table.columns)
    return list(first.iloc[0]) if len(first) else list(table.columns)


def _check_unique_names(names: Sequence[Any], label: str) -> None:
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


def _drop_unnamed(table: pd.DataFrame) -> pd.DataFrame:
    """Drop unnamed index columns (``Unnamed: 0`` or an empty name); reset the index."""
    unnamed = [
        c for c in table.columns if isinstance(c, str) and (c.strip() == "" or _UNNAMED_RE.match(c))
    ]
    out = table.drop(columns=unnamed) if unnamed else table
    return out.reset_index(drop=True)


def _load_geodataframe(gdf: Any) -> _Loaded:
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
    return _Loaded(_drop_unnamed(table), label, lon, lat)


# --------------------------------------------------------------------------- columns


def _coordinates_hint() -> str:
    """How to give coordinates, naming only the options the running command has."""
    lonlat = offers("--lon") and offers("--lat")
    text = (
        "pass lon=/lat= (--lon/--lat)" if lonlat else "rename the coordinate columns to lon and lat"
    )
    if offers("--coords-from"):
        text += (
            f", or {'' if lonlat else 'pass '}coords_from=OTHER_FILE (--coords-from OTHER_FILE) to "
            "take them from a row-aligned prediction file of the same dataset"
        )
    return text


def _columns_text(columns: Iterable[Any]) -> str:
    return ", ".join(repr(str(c)) for c in columns) or "(none)"


def _match(columns: Sequence[Any], name: str, label: str) -> Any | None:
    """Exact column match, else a unique case-insensitive match, else None."""
    if name in columns:
        return name
    hits = [c for c in columns if str(c).strip().lower() == name.strip().lower()]
    if len(hits) > 1:
        raise InputError(
            f"{label}: column name {name!r} is ambiguous: matches {_columns_text(hits)}"
        )
    return hits[0] if hits else None


def _auto(columns: Sequence[Any], names: Sequence[str], label: str) -> Any | None:
    """First of ``names`` present (case-insensitively) among ``columns``."""
    for name in names:
        hit = _match(columns, name, label)
        if hit is not None:
            return hit
    return None


@dataclass
class _Coords:
    """Where a table's coordinates are: column names, values, and their provenance."""

    lon_col: str
    lat_col: str
    lon: Any
    lat: Any
    label: str
    source: str = "file"
    check: dict[str, Any] | None = None
    own_columns: tuple[Any, Any] | None = None


def _coordinates(
    loaded: _Loaded, lon: str | None, lat: str | None, coords_from: Any, strict: bool = True
) -> _Coords:
    """Locate the coordinates (the table's own, or ``coords_from``'s row by row)."""
    table, label = loaded.table, loaded.label
    cols = list(table.columns)
    lon_col = _match(cols, lon, label) if lon is not None else _auto(cols, LON_NAMES, label)
    lat_col = _match(cols, lat, label) if lat is not None else _auto(cols, LAT_NAMES, label)
    has_geo = loaded.geo_lon is not None and lon is None and lat is None

    if coords_from is not None:
        found = (lon_col, lat_col, _auto(cols, LON_NAMES, label), _auto(cols, LAT_NAMES, label))
        own = list(dict.fromkeys(c for c in found if c is not None))
        if lon_col is not None and lat_col is not None and not has_geo:
            _check_distinct(lon_col, lat_col, label)
            own_lon = _numeric(table[lon_col], label, str(lon_col))
            own_lat = _numeric(table[lat_col], label, str(lat_col))
            if looks_encoded(own_lon, own_lat):
                return _encoded_from(
                    loaded, lon_col, lat_col, own_lon, own_lat, coords_from, lon, lat
                )
            if not strict:
                return _Coords(str(lon_col), str(lat_col), table[lon_col], table[lat_col], label)
        if not strict and has_geo:
            return _Coords("lon", "lat", loaded.geo_lon, loaded.geo_lat, label, "geometry")
        if has_geo or own:
            what = "point geometry" if has_geo else f"coordinate column(s) {_columns_text(own)}"
            raise InputError(
                f"{label}: the table already has {what}; coords_from is only for tables "
                "without coordinates or whose coordinates are encoded (not degrees)"
            )
        other, olon_col, olat_col, olon, olat = _reference(coords_from, lon, lat)
        _check_distinct(olon_col, olat_col, other.label)
        if len(other.table) != len(table):
            raise CoordinatesError(
                f"{label}: has {len(table)} rows but coords_from {other.label} has "
                f"{len(other.table)} rows; they must be row-aligned"
            )
        check = {"kind": "row-count", "reference": other.label, "rows": len(table)}
        return _Coords(
            olon_col, olat_col, olon, olat, other.label, f"coords-from:{other.label}", check
        )

    if has_geo:
        return _Coords("lon", "lat", loaded.geo_lon, loaded.geo_lat, label, "geometry")
    for given, found in ((lon, lon_col), (lat, lat_col)):
        if given is not None and found is None:
            raise InputError(
                f"{label}: column {given!r} not found; available columns: {_columns_text(cols)}"
            )
    if lon_col is None and lat_col is None:
        raise NoCoordinatesError(
            f"{label}: no coordinate columns (looked for {'/'.join(LON_NAMES)} and "
            f"{'/'.join(LAT_NAMES)}; columns: {_columns_text(cols)}); {_coordinates_hint()}"
        )
    if lon_col is None or lat_col is None:
        missing = "longitude" if lon_col is None else "latitude"
        names = LON_NAMES if lon_col is None else LAT_NAMES
        raise InputError(
            f"{label}: no {missing} column (looked for {'/'.join(names)}; columns: "
            f"{_columns_text(cols)}); pass {'lon' if lon_col is None else 'lat'}=NAME"
        )
    _check_distinct(lon_col, lat_col, label)
    return _Coords(str(lon_col), str(lat_col), table[lon_col], table[lat_col], label)


def _reference(
    coords_from: Any, lon: str | None, lat: str | None
) -> tuple[_Loaded, str, str, Any, Any]:
    """Load ``coords_from``: (table, lon name, lat name, lon values, lat values)."""
    other = _load(coords_from)
    ocols = list(other.table.columns)
    if other.geo_lon is not None and lon is None and lat is None:
        return other, "lon", "lat", other.geo_lon, other.geo_lat
    olon_col = (
        _match(ocols, lon, other.label) if lon is not None else _auto(ocols, LON_NAMES, other.label)
    )
    olat_col = (
        _match(ocols, lat, other.label) if lat is not None else _auto(ocols, LAT_NAMES, other.label)
    )
    if olon_col is None or olat_col is None:
        missing = "longitude" if olon_col is None else "latitude"
        raise InputError(
            f"{other.label}: coords_from table has no {missing} column "
            f"(columns: {_columns_text(ocols)})"
        )
    return other, str(olon_col), str(olat_col), other.table[olon_col], other.table[olat_col]


# --------------------------------------------------------------------------- encoded coordinates

#: The coordinate encodings recognised in place of degrees, as ``name: (lon factor, lat
#: factor)``: the stored columns are ``sin(lon_factor * lon)`` and ``sin(lat_factor * lat)``
#: of the degrees. TorchSpatial's ``wrap`` files store the first two features of the wrap
#: encoding, sin(pi * lon / 180) and sin(pi * lat / 90) (docs/cli.md).
ENCODINGS: dict[str, tuple[float, float]] = {"wrap": (np.pi / 180.0, np.pi / 90.0)}
_ENCODING_TEXT = {"wrap": ("sin(pi * lon / 180)", "sin(pi * lat / 90)")}
#: Tolerance of the encoding check, in units of the stored values' float precision (the
#: sine is evaluated in that precision and the reference degrees are rounded to theirs).
_ULPS = 16.0


def looks_encoded(lon: np.ndarray, lat: np.ndarray) -> bool:
    """Whether coordinates look encoded rather than degrees.

    Parameters
    ----------
    lon, lat : ndarray
        Coordinates as read (NaN = missing).

    Returns
    -------
    bool
        True when at least two rows have both values and every present value lies within
        [-1, 1] (sines and cosines, or normalised values).
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    both = ~(np.isnan(lon) | np.isnan(lat))
    if int(both.sum()) < 2:
        return False
    present = np.concatenate([lon[~np.isnan(lon)], lat[~np.isnan(lat)]])
    return bool(np.all(np.abs(present) <= 1.0))


def _precision(values: np.ndarray) -> tuple[str, float]:
    """``("float32", eps)`` when every value is a float32 number, else ``("float64", eps)``.

    A value counts as float32 when it is one exactly (written with all digits) or when it
    is the shortest decimal of one (written with up to 9 significant digits).
    """
    v = values[np.isfinite(values)]
    if v.size > 4096:  # an even sample is enough to tell the precision
        v = v[:: v.size // 4096]
    as32 = v.astype(np.float32)
    exact = as32.astype(np.float64) == v
    if not exact.all():
        exact[~exact] = [float(str(x)) == y for x, y in zip(as32[~exact], v[~exact], strict=True)]
    if exact.all():
        return "float32", float(np.finfo(np.float32).eps)
    return "float64", float(np.finfo(np.float64).eps)


def _encoded_from(
    loaded: _Loaded,
    lon_col: Any,
    lat_col: Any,
    own_lon: np.ndarray,
    own_lat: np.ndarray,
    coords_from: Any,
    lon: str | None,
    lat: str | None,
) -> _Coords:
    """Check encoded coordinate columns against ``coords_from`` and take its degrees."""
    table, label = loaded.table, loaded.label
    other, olon_col, olat_col, olon_raw, olat_raw = _reference(coords_from, lon, lat)
    if len(other.table) != len(table):
        raise CoordinatesError(
            f"{label}: coordinates are not degrees (all within [-1, 1]) and the table has "
            f"{len(table)} rows but coords_from {other.label} has {len(other.table)}; they "
            "must be row-aligned"
        )
    ref_lon = _numeric(olon_raw, other.label, olon_col)
    ref_lat = _numeric(olat_raw, other.label, olat_col)
    own_miss = np.isnan(own_lon) | np.isnan(own_lat)
    ref_miss = np.isnan(ref_lon) | np.isnan(ref_lat)
    if (own_miss != ref_miss).any():
        row = int(np.flatnonzero(own_miss != ref_miss)[0])
        raise CoordinatesError(
            f"{label}: row {row}: coordinates ({own_lon[row]!r}, {own_lat[row]!r}) but "
            f"coords_from {other.label} has ({ref_lon[row]!r}, {ref_lat[row]!r}); a row must "
            "miss its coordinates in both or in neither"
        )
    ok = ~own_miss
    if not ok.any():
        raise EmptyInputError(f"{label}: none of the {len(table)} rows has both coordinates")
    prec, eps = _precision(np.concatenate([own_lon[ok], own_lat[ok]]))
    ref_prec, ref_eps = _precision(np.concatenate([ref_lon[ok], ref_lat[ok]]))
    # equal to the reference degrees: the table holds degrees of a small region after all
    if np.allclose(own_lon[ok], ref_lon[ok], rtol=0, atol=_ULPS * max(eps, ref_eps)) and (
        np.allclose(own_lat[ok], ref_lat[ok], rtol=0, atol=_ULPS * max(eps, ref_eps))
    ):
        return _Coords(str(lon_col), str(lat_col), table[lon_col], table[lat_col], label)
    name = "wrap"
    f_lon, f_lat = ENCODINGS[name]
    text_lon, text_lat = _ENCODING_TEXT[name]
    worst: dict[str, Any] = {}
    for what, own, ref, factor, text, col, ocol in (
        ("lon", own_lon, ref_lon, f_lon, text_lon, lon_col, olon_col),
        ("lat", own_lat, ref_lat, f_lat, text_lat, lat_col, olat_col),
    ):
        expected = np.sin(factor * ref)
        diff = np.abs(own - expected)
        # the stored sine is rounded to its precision; the reference degrees to theirs,
        # which moves the sine by at most factor * |degrees| * eps
        tol = _ULPS * eps + _ULPS * factor * ref_eps * float(np.nanmax(np.abs(ref[ok])))
        bad = ok & ~(diff <= tol)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise CoordinatesError(
                f"{label}: column {str(col)!r}, row {row}: value {float(own[row])!r} is neither "
                f"degrees nor the {name} encoding {text} of coords_from {other.label}'s "
                f"{str(ocol)!r} {float(ref[row])!r} (expected {float(expected[row])!r} within "
                f"{tol:.2g}; {int(bad.sum())} such rows); the files are not row-aligned"
            )
        worst[f"max_abs_diff_{what}"] = float(np.max(diff[ok]))
        worst[f"tolerance_{what}"] = tol
    check = {
        "kind": "encoding",
        "encoding": name,
        "columns": {str(lon_col): text_lon, str(lat_col): text_lat},
        "reference": other.label,
        "rows_checked": int(ok.sum()),
        "precision": prec,
        "reference_precision": ref_prec,
        **worst,
    }
    logger.info(
        "%s: columns %r, %r hold the %s encoding of %s's coordinates (max differences %.2g, "
        "%.2g); its degrees are used",
        label, str(lon_col), str(lat_col), name, other.label,
        worst["max_abs_diff_lon"], worst["max_abs_diff_lat"],
    )  # fmt: skip
    return _Coords(
        olon_col,
        olat_col,
        ref_lon,
        ref_lat,
        other.label,
        f"coords-from:{other.label}",
        check,
        (lon_col, lat_col),
    )


def _check_distinct(lon_col: Any, lat_col: Any, label: str) -> None:
    """Longitude and latitude must come from two different columns."""
    if lon_col == lat_col:
        raise InputError(
            f"{label}: column {str(lon_col)!r} is given for both longitude and latitude "
            "(lon=/--lon and lat=/--lat); they must be two different columns"
        )


def _value_column(table: pd.DataFrame, value: str | None, label: str, exclude: set[Any]) -> Any:
    """Choose the performance column."""
    cols = [c for c in table.columns if c not in exclude]
    if value is not None:
        hit = _match(cols, value, label)
        coord = _match([c for c in table.columns if c in exclude], value, label)
        if hit is None and coord is not None:
            raise InputError(
                f"{label}: value column {value!r} is a coordinate column; choose the "
                "performance column"
            )
        if hit is None:
            raise InputError(
                f"{label}: value column {value!r} not found; available columns: "
                f"{_columns_text(cols)}"
            )
        return hit
    for name in _PREFERRED_VALUES:
        hit = _match(cols, name, label)
        if hit is not None:
            return hit
    candidates = [
        c for c in cols if is_binary_name(str(c)) or str(c).strip().lower() in _OBVIOUS_VALUES
    ]
    if len(candidates) == 1:
        return candidates[0]
    why = (
        f"several candidates ({_columns_text(candidates)})"
        if candidates
        else "no obvious performance column"
    )
    raise InputError(
        f"{label}: cannot choose the value column: {why}; available columns: "
        f"{_columns_text(cols)}; pass value=NAME (--value NAME)"
    )


# --------------------------------------------------------------------------- checks


def _numeric(values: Any, label: str, column: str) -> np.ndarray:
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


def _check_range(
    bad: np.ndarray, values: np.ndarray, label: str, column: str, what: str, interval: str
) -> None:
    """Raise for the first row flagged in ``bad``."""
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{label}: column {column!r}, row {row}: {what} {float(values[row])!r} outside "
            f"{interval} ({int(bad.sum())} such rows)"
        )


def _check_binary(values: np.ndarray, keep: np.ndarray, label: str, column: str) -> None:
    """A hit column must be all in {0, 1} or all in {-1, 1} (on the kept rows)."""
    rule = "hit columns must hold only 0/1 or only -1/+1"
    other = keep & ~np.isin(values, (-1.0, 0.0, 1.0))
    if other.any():
        row = int(np.flatnonzero(other)[0])
        raise InputError(
            f"{label}: column {column!r}, row {row}: value {float(values[row])!r} is not a hit "
            f"indicator ({rule}; choose another value column)"
        )
    zeros = np.flatnonzero(keep & (values == 0.0))
    minus = np.flatnonzero(keep & (values == -1.0))
    if zeros.size and minus.size:
        row = int(max(zeros[0], minus[0]))
        raise InputError(
            f"{label}: column {column!r}, row {row}: value {float(values[row])!r} mixes the "
            f"0/1 and -1/+1 codings ({rule})"
        )
