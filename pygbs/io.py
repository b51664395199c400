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

from pygbs.errors import InputError
from pygbs.predictions import Predictions

__all__ = [
    "LAT_NAMES",
    "LON_NAMES",
    "is_binary_name",
    "is_lower_better_name",
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
    coords_from : str, path-like or pandas.DataFrame, optional
        Another prediction table of the same dataset, row-aligned with ``source``, whose
        coordinates are used for a ``source`` without coordinate columns (e.g. the
        TorchSpatial ``*_no_prior`` files).

    Returns
    -------
    Predictions
        The rows with both coordinates, in file order, numbered 0..n-1; rows missing a
        coordinate are dropped and counted in ``n_missing_coords``.

    Raises
    ------
    InputError
        With a one-line message naming the file, column and row: missing file, unsupported
        extension, empty table, no coordinate columns, unknown or ambiguous value column,
        non-numeric values, latitude outside [-90, 90], longitude outside [-180, 360),
        a missing value on a row with coordinates, a hit column that is not 0/1 or -1/+1,
        or a ``coords_from`` table with a different number of rows.

    Notes
    -----
    An unnamed index column (``Unnamed: 0`` or an empty name, as written by
    ``DataFrame.to_csv``) is dropped. Longitudes in [180, 360) are kept as given.
    """
    loaded = _load(source)
    table, label = loaded.table, loaded.label
    n_rows = len(table)
    if n_rows == 0:
        raise InputError(f"{label}: the table has no data rows")

    lon_col, lat_col, lon_raw, lat_raw, coord_label = _coordinates(loaded, lon, lat, coords_from)
    if coords_from is not None:
        table = table.copy()
        table.insert(0, "lat", lat_raw)
        table.insert(0, "lon", lon_raw)
    elif loaded.geo_lon is not None and lon is None and lat is None:
        table = table.copy()
        if "lat" not in table.columns:
            table.insert(0, "lat", lat_raw)
        if "lon" not in table.columns:
            table.insert(0, "lon", lon_raw)

    value_col = _value_column(table, value, label, exclude={lon_col, lat_col})

    lon_arr = _numeric(lon_raw, coord_label, lon_col)
    lat_arr = _numeric(lat_raw, coord_label, lat_col)
    raw_value = table[value_col]
    is_bool = pd.api.types.is_bool_dtype(raw_value.dtype)
    val_arr = _numeric(raw_value, label, value_col)

    keep = ~(np.isnan(lon_arr) | np.isnan(lat_arr))
    n_keep = int(keep.sum())
    if n_keep == 0:
        raise InputError(
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

    binary = is_bool or is_binary_name(value_col)
    if binary:
        _check_binary(val_arr, keep, label, value_col)

    kept = np.flatnonzero(keep)
    out_lon = np.ascontiguousarray(lon_arr[kept])
    out_lat = np.ascontiguousarray(lat_arr[kept])
    if n_keep >= 2 and np.all(np.abs(out_lon) <= 1.0) and np.all(np.abs(out_lat) <= 1.0):
        logger.warning(
            "%s: all %d coordinates lie within [-1, 1]; they may be normalised or encoded "
            "rather than degrees (e.g. TorchSpatial 'wrap' files); they are used as degrees",
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
    )


# --------------------------------------------------------------------------- loading


def _load(source: Any) -> _Loaded:
    """Read ``source`` into a DataFrame without the unnamed index column."""
    gpd = sys.modules.get("geopandas")
    if gpd is not None and isinstance(source, gpd.GeoDataFrame):
        return _load_geodataframe(source)
    if isinstance(source, pd.DataFrame):
        return _Loaded(_drop_unnamed(source), "<DataFrame>")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        label = str(source)
        return _Loaded(_drop_unnamed(_read_file(path, label)), label)
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
    try:
        if is_csv:
            return pd.read_csv(path, low_memory=False)
        return pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise InputError(f"{label}: the file is empty") from None
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


def _coordinates(
    loaded: _Loaded, lon: str | None, lat: str | None, coords_from: Any
) -> tuple[str, str, Any, Any, str]:
    """Locate the coordinates: (lon name, lat name, lon values, lat values, their source)."""
    table, label = loaded.table, loaded.label
    cols = list(table.columns)
    lon_col = _match(cols, lon, label) if lon is not None else _auto(cols, LON_NAMES, label)
    lat_col = _match(cols, lat, label) if lat is not None else _auto(cols, LAT_NAMES, label)
    has_geo = loaded.geo_lon is not None and lon is None and lat is None

    if coords_from is not None:
        found = (lon_col, lat_col, _auto(cols, LON_NAMES, label), _auto(cols, LAT_NAMES, label))
        own = list(dict.fromkeys(c for c in found if c is not None))
        if has_geo or own:
            what = "point geometry" if has_geo else f"coordinate column(s) {_columns_text(own)}"
            raise InputError(
                f"{label}: the table already has {what}; coords_from is only for tables "
                "without coordinates"
            )
        other = _load(coords_from)
        ocols = list(other.table.columns)
        if other.geo_lon is not None and lon is None and lat is None:
            olon, olat = other.geo_lon, other.geo_lat
            olon_col, olat_col = "lon", "lat"
        else:
            olon_col = (
                _match(ocols, lon, other.label)
                if lon is not None
                else _auto(ocols, LON_NAMES, other.label)
            )
            olat_col = (
                _match(ocols, lat, other.label)
                if lat is not None
                else _auto(ocols, LAT_NAMES, other.label)
            )
            if olon_col is None or olat_col is None:
                missing = "longitude" if olon_col is None else "latitude"
                raise InputError(
                    f"{other.label}: coords_from table has no {missing} column "
                    f"(columns: {_columns_text(ocols)})"
                )
            olon, olat = other.table[olon_col], other.table[olat_col]
        if len(other.table) != len(table):
            raise InputError(
                f"{label}: has {len(table)} rows but coords_from {other.label} has "
                f"{len(other.table)} rows; they must be row-aligned"
            )
        return str(olon_col), str(olat_col), olon, olat, other.label

    if has_geo:
        return "lon", "lat", loaded.geo_lon, loaded.geo_lat, label
    for given, found in ((lon, lon_col), (lat, lat_col)):
        if given is not None and found is None:
            raise InputError(
                f"{label}: column {given!r} not found; available columns: {_columns_text(cols)}"
            )
    if lon_col is None and lat_col is None:
        raise InputError(
            f"{label}: no coordinate columns (looked for {'/'.join(LON_NAMES)} and "
            f"{'/'.join(LAT_NAMES)}; columns: {_columns_text(cols)}); pass lon=/lat= "
            "(--lon/--lat), or coords_from=OTHER_FILE (--coords-from OTHER_FILE) to take them "
            "from a row-aligned prediction file of the same dataset"
        )
    if lon_col is None or lat_col is None:
        missing = "longitude" if lon_col is None else "latitude"
        names = LON_NAMES if lon_col is None else LAT_NAMES
        raise InputError(
            f"{label}: no {missing} column (looked for {'/'.join(names)}; columns: "
            f"{_columns_text(cols)}); pass {'lon' if lon_col is None else 'lat'}=NAME"
        )
    return str(lon_col), str(lat_col), table[lon_col], table[lat_col], label


def _value_column(table: pd.DataFrame, value: str | None, label: str, exclude: set[Any]) -> Any:
    """Choose the performance column."""
    cols = [c for c in table.columns if c not in exclude]
    if value is not None:
        hit = _match(cols, value, label)
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
