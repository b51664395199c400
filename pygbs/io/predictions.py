"""Reading prediction tables: CSV, CSV.gz, Parquet, DataFrame or GeoDataFrame.

:func:`read_predictions` turns one model's per-sample prediction table into a
:class:`~pygbs.predictions.Predictions`: it finds the coordinate and performance columns
and checks them. It recognises the TorchSpatial layouts (classification with an unnamed
index column, regression) and the foundation-model tables (``hit@1`` coded -1/+1) without
options. Opening the file is :mod:`pygbs.io._table`'s job; coordinates taken from another
file (``coords_from``, TorchSpatial's ``*_no_prior`` and ``*_wrap`` files) are
:mod:`pygbs.io.torchspatial`'s.

Row numbers in error messages are 0-based data rows of the input table (the header is not
counted), before rows without coordinates are dropped.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

import numpy as np
import pandas as pd

from pygbs.errors import EmptyInputError, InputError, NoCoordinatesError
from pygbs.hints import offers
from pygbs.io._table import (
    LAT_NAMES,
    LON_NAMES,
    Coords,
    Loaded,
    auto,
    check_distinct,
    columns_text,
    load,
    match,
    numeric,
)
from pygbs.io.torchspatial import coordinates_from, looks_encoded
from pygbs.predictions import Predictions
from pygbs.regression import derive_value

__all__ = [
    "LAT_NAMES",
    "LON_NAMES",
    "is_binary_name",
    "is_lower_better_name",
    "read_predictions",
    "read_table",
]

logger = logging.getLogger(__name__)

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
    return read_table(
        source, lon, lat, value, coords_from=coords_from, strict=True, warn_encoded=warn_encoded
    )


def read_table(
    source: str | os.PathLike[str] | pd.DataFrame,
    lon: str | None = None,
    lat: str | None = None,
    value: str | None = None,
    *,
    coords_from: str | os.PathLike[str] | pd.DataFrame | None = None,
    strict: bool = True,
    warn_encoded: bool = True,
) -> Predictions:
    """Read one table, as :func:`read_predictions`, with the options of a comparison.

    With ``strict=False``, ``coords_from`` is ignored for a table whose own coordinates
    are degrees (``pygbs compare`` passes it for every file and applies it where needed).
    ``warn_encoded=False`` drops the warning about coordinates within [-1, 1] (for a
    caller that replaces them).
    """
    loaded = load(source)
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

    if value is not None and match(list(table.columns), value, label) is None:
        derived = derive_value(table, value, label)  # e.g. absolute_error of a regression
        if derived is not None:
            table = table.copy()
            table[value] = derived
    value_col = _value_column(table, value, label, exclude={lon_col, lat_col})

    lon_arr = numeric(lon_raw, coord_label, lon_col)
    lat_arr = numeric(lat_raw, coord_label, lat_col)
    raw_value = table[value_col]
    is_bool = pd.api.types.is_bool_dtype(raw_value.dtype)
    val_arr = numeric(raw_value, label, value_col)

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


def _coordinates(
    loaded: Loaded, lon: str | None, lat: str | None, coords_from: Any, strict: bool = True
) -> Coords:
    """Locate the coordinates (the table's own, or ``coords_from``'s row by row)."""
    table, label = loaded.table, loaded.label
    cols = list(table.columns)
    lon_col = match(cols, lon, label) if lon is not None else auto(cols, LON_NAMES, label)
    lat_col = match(cols, lat, label) if lat is not None else auto(cols, LAT_NAMES, label)
    has_geo = loaded.geo_lon is not None and lon is None and lat is None

    if coords_from is not None:
        return coordinates_from(loaded, lon, lat, lon_col, lat_col, coords_from, strict)
    if has_geo:
        return Coords("lon", "lat", loaded.geo_lon, loaded.geo_lat, label, "geometry")
    for given, found in ((lon, lon_col), (lat, lat_col)):
        if given is not None and found is None:
            raise InputError(
                f"{label}: column {given!r} not found; available columns: {columns_text(cols)}"
            )
    if lon_col is None and lat_col is None:
        raise NoCoordinatesError(
            f"{label}: no coordinate columns (looked for {'/'.join(LON_NAMES)} and "
            f"{'/'.join(LAT_NAMES)}; columns: {columns_text(cols)}); {_coordinates_hint()}"
        )
    if lon_col is None or lat_col is None:
        missing = "longitude" if lon_col is None else "latitude"
        names = LON_NAMES if lon_col is None else LAT_NAMES
        raise InputError(
            f"{label}: no {missing} column (looked for {'/'.join(names)}; columns: "
            f"{columns_text(cols)}); pass {'lon' if lon_col is None else 'lat'}=NAME"
        )
    check_distinct(lon_col, lat_col, label)
    return Coords(str(lon_col), str(lat_col), table[lon_col], table[lat_col], label)


def _value_column(table: pd.DataFrame, value: str | None, label: str, exclude: set[Any]) -> Any:
    """Choose the performance column."""
    cols = [c for c in table.columns if c not in exclude]
    if value is not None:
        hit = match(cols, value, label)
        coord = match([c for c in table.columns if c in exclude], value, label)
        if hit is None and coord is not None:
            raise InputError(
                f"{label}: value column {value!r} is a coordinate column; choose the "
                "performance column"
            )
        if hit is None:
            raise InputError(
                f"{label}: value column {value!r} not found; available columns: "
                f"{columns_text(cols)}"
            )
        return hit
    for name in _PREFERRED_VALUES:
        hit = match(cols, name, label)
        if hit is not None:
            return hit
    candidates = [
        c for c in cols if is_binary_name(str(c)) or str(c).strip().lower() in _OBVIOUS_VALUES
    ]
    if len(candidates) == 1:
        return candidates[0]
    why = (
        f"several candidates ({columns_text(candidates)})"
        if candidates
        else "no obvious performance column"
    )
    raise InputError(
        f"{label}: cannot choose the value column: {why}; available columns: "
        f"{columns_text(cols)}; pass value=NAME (--value NAME)"
    )


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
