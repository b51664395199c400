"""TorchSpatial's conventions, in one place.

TorchSpatial (Wu et al., 2024) publishes its models' predictions as
``eval_<dataset>_<meta>_<split>_<model>.csv[.gz]`` files. Some hold no coordinates (the
``*_no_prior`` baselines), and the ``*_wrap`` files hold the first two features of the
``wrap`` encoding instead of degrees. This module knows those conventions; the generic
reading in :mod:`pygbs.io.predictions` calls it when ``coords_from`` is given and to warn
about coordinates that look encoded:

- :func:`coordinates_from`: the coordinates of a table read with ``coords_from`` (taken
  row by row from the reference, or checked against it where the table holds the ``wrap``
  encoding, :func:`encoded_from`); :func:`looks_encoded` tells such columns;
- :func:`pick_reference`: ``coords_from='auto'`` of :func:`pygbs.compare`, the file whose
  degree coordinates most others share;
- :func:`parse_eval_name` and :func:`group_by_dataset`: the file names, for
  ``pygbs compare --group-by dataset`` (docs/cli.md, "Comparing every model of several
  datasets").
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pygbs.errors import CoordinatesError, EmptyInputError, InputError
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
from pygbs.io.sources import stem
from pygbs.predictions import Predictions

__all__ = [
    "AUTO",
    "ENCODINGS",
    "DatasetGroup",
    "EvalName",
    "coordinates_from",
    "encoded_from",
    "group_by_dataset",
    "looks_encoded",
    "parse_eval_name",
    "pick_reference",
]

logger = logging.getLogger(__name__)

#: ``coords_from=AUTO`` picks a file of the comparison with degree coordinates.
AUTO = "auto"
#: Split names recognised in TorchSpatial file names.
SPLITS: tuple[str, ...] = ("test", "val", "valid", "validation", "train")
_EVAL_RE = re.compile(rf"^eval_(?P<prefix>.+?)_(?P<split>{'|'.join(SPLITS)})_(?P<model>.+)$")
#: A file manager's duplicate marker at the end of a name (``x copy``, ``x copy 2``, ``x (1)``).
_COPY_RE = re.compile(r"(?: copy(?: \d+)?| \(\d+\))$")
#: Model names that mean the same model in TorchSpatial's files: the regression baseline
#: ``no_prior_regress`` is the ``no_prior`` row of the paper's tables.
MODEL_ALIASES: dict[str, str] = {"no_prior_regress": "no_prior"}


# --------------------------------------------------------------------------- coordinates


def coordinates_from(
    loaded: Loaded,
    lon: str | None,
    lat: str | None,
    lon_col: Any,
    lat_col: Any,
    coords_from: Any,
    strict: bool = True,
) -> Coords:
    """The coordinates of a table read with ``coords_from``.

    A table without coordinate columns takes ``coords_from``'s, row by row (TorchSpatial's
    ``*_no_prior`` files); one whose columns hold the ``wrap`` encoding has it checked
    against ``coords_from``'s degrees and takes those (:func:`encoded_from`). With
    ``strict=False`` a table with degree coordinates keeps its own; with ``strict=True``
    it is refused.

    Parameters
    ----------
    loaded : Loaded
        The table as read.
    lon, lat : str or None
        The coordinate column names the caller gave.
    lon_col, lat_col : column name or None
        The coordinate columns found in the table.
    coords_from : path or DataFrame
        The reference table.
    strict : bool, default=True
        Refuse a table with degree coordinates.

    Returns
    -------
    Coords
    """
    table, label = loaded.table, loaded.label
    cols = list(table.columns)
    has_geo = loaded.geo_lon is not None and lon is None and lat is None
    found = (lon_col, lat_col, auto(cols, LON_NAMES, label), auto(cols, LAT_NAMES, label))
    own = list(dict.fromkeys(c for c in found if c is not None))
    if lon_col is not None and lat_col is not None and not has_geo:
        check_distinct(lon_col, lat_col, label)
        own_lon = numeric(table[lon_col], label, str(lon_col))
        own_lat = numeric(table[lat_col], label, str(lat_col))
        if looks_encoded(own_lon, own_lat):
            return encoded_from(loaded, lon_col, lat_col, own_lon, own_lat, coords_from, lon, lat)
        if not strict:
            return Coords(str(lon_col), str(lat_col), table[lon_col], table[lat_col], label)
    if not strict and has_geo:
        return Coords("lon", "lat", loaded.geo_lon, loaded.geo_lat, label, "geometry")
    if has_geo or own:
        what = "point geometry" if has_geo else f"coordinate column(s) {columns_text(own)}"
        raise InputError(
            f"{label}: the table already has {what}; coords_from is only for tables "
            "without coordinates or whose coordinates are encoded (not degrees)"
        )
    other, olon_col, olat_col, olon, olat = reference(coords_from, lon, lat)
    check_distinct(olon_col, olat_col, other.label)
    if len(other.table) != len(table):
        raise CoordinatesError(
            f"{label}: has {len(table)} rows but coords_from {other.label} has "
            f"{len(other.table)} rows; they must be row-aligned"
        )
    check = {"kind": "row-count", "reference": other.label, "rows": len(table)}
    return Coords(olon_col, olat_col, olon, olat, other.label, f"coords-from:{other.label}", check)


def reference(
    coords_from: Any, lon: str | None, lat: str | None
) -> tuple[Loaded, str, str, Any, Any]:
    """Load ``coords_from``: (table, lon name, lat name, lon values, lat values)."""
    other = load(coords_from)
    ocols = list(other.table.columns)
    if other.geo_lon is not None and lon is None and lat is None:
        return other, "lon", "lat", other.geo_lon, other.geo_lat
    olon_col = (
        match(ocols, lon, other.label) if lon is not None else auto(ocols, LON_NAMES, other.label)
    )
    olat_col = (
        match(ocols, lat, other.label) if lat is not None else auto(ocols, LAT_NAMES, other.label)
    )
    if olon_col is None or olat_col is None:
        missing = "longitude" if olon_col is None else "latitude"
        raise InputError(
            f"{other.label}: coords_from table has no {missing} column "
            f"(columns: {columns_text(ocols)})"
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


def encoded_from(
    loaded: Loaded,
    lon_col: Any,
    lat_col: Any,
    own_lon: np.ndarray,
    own_lat: np.ndarray,
    coords_from: Any,
    lon: str | None,
    lat: str | None,
) -> Coords:
    """Check encoded coordinate columns against ``coords_from`` and take its degrees."""
    table, label = loaded.table, loaded.label
    other, olon_col, olat_col, olon_raw, olat_raw = reference(coords_from, lon, lat)
    if len(other.table) != len(table):
        raise CoordinatesError(
            f"{label}: coordinates are not degrees (all within [-1, 1]) and the table has "
            f"{len(table)} rows but coords_from {other.label} has {len(other.table)}; they "
            "must be row-aligned"
        )
    ref_lon = numeric(olon_raw, other.label, olon_col)
    ref_lat = numeric(olat_raw, other.label, olat_col)
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
        return Coords(str(lon_col), str(lat_col), table[lon_col], table[lat_col], label)
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
    return Coords(
        olon_col,
        olat_col,
        ref_lon,
        ref_lat,
        other.label,
        f"coords-from:{other.label}",
        check,
        (lon_col, lat_col),
    )


# --------------------------------------------------------------------------- comparisons


def _location_key(p: Predictions) -> tuple[int, bytes]:
    return len(p), hashlib.sha1(p.lon.tobytes() + p.lat.tobytes()).digest()


def pick_reference(preds: dict[int, Predictions], sources: Sequence[Any]) -> int | None:
    """Index of the degree-coordinate source shared (row by row) by most others.

    ``coords_from='auto'`` of :func:`pygbs.compare`: among the files read with their own
    degree coordinates, the one whose locations most others share (ties: the first).

    Parameters
    ----------
    preds : dict of int to Predictions
        The sources read so far, by position.
    sources : sequence
        What the caller gave (a :class:`Predictions` given as such is no candidate).

    Returns
    -------
    int or None
        None when no source has degree coordinates of its own.
    """
    cands = [
        i
        for i, p in preds.items()
        if p.coords_source == "file"
        and not isinstance(sources[i], Predictions)
        and not looks_encoded(p.lon, p.lat)
    ]
    if not cands:
        return None
    keys = {i: _location_key(preds[i]) for i in cands}
    counts = {k: sum(1 for v in keys.values() if v == k) for k in keys.values()}
    return max(cands, key=lambda i: (counts[keys[i]], -i))


# --------------------------------------------------------------------------- file names


@dataclass(frozen=True)
class EvalName:
    """The parts of a TorchSpatial evaluation file name.

    Attributes
    ----------
    dataset : str
        ``<dataset>_<meta>`` without trailing ``_`` (``birdsnap_ebird_meta``, ``yfcc``,
        ``mosaiks_elevation``).
    split : str
        ``test``, ``val``, ``valid``, ``validation`` or ``train``.
    model : str
        The encoder as written in the name (``NeRF``, ``no_prior_regress copy``).
    """

    dataset: str
    split: str
    model: str


def parse_eval_name(path: str | os.PathLike[str]) -> EvalName | None:
    """Parse ``eval_<dataset>_<meta>_<split>_<model>`` (TorchSpatial's ``eval_results``).

    The split is the first ``_test_``/``_val_``/``_valid_``/``_validation_``/``_train_``
    after ``eval_``; what precedes it is the dataset (with its meta type, e.g.
    ``birdsnap_ebird_meta``; an empty meta type leaves a trailing ``_``, which is dropped:
    ``eval_yfcc__test_NeRF`` is dataset ``yfcc``), what follows it the model.

    Parameters
    ----------
    path : path-like
        A file name or path.

    Returns
    -------
    EvalName or None
        None when the name does not follow the pattern.
    """
    m = _EVAL_RE.match(stem(path))
    if m is None:
        return None
    dataset = m["prefix"].rstrip("_")
    if not dataset:
        return None
    return EvalName(dataset=dataset, split=m["split"], model=m["model"])


@dataclass
class DatasetGroup:
    """The files of one dataset (and split) for ``--group-by dataset``.

    Attributes
    ----------
    label : str
        Column-group and sub-folder name: the dataset, or ``<dataset>-<split>`` when the
        input holds several splits of it.
    dataset, split : str
        As parsed from the file names.
    files : list of Path
        The dataset's files, in input order.
    models : list of str
        One model name per file (see :func:`group_by_dataset`).
    """

    label: str
    dataset: str
    split: str
    files: list[Path] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def _model_names(raw: list[str]) -> list[str]:
    """Model names of one group: duplicate markers and aliases removed unless they clash."""
    out = []
    for name in raw:
        clean = _COPY_RE.sub("", name)
        clean = MODEL_ALIASES.get(clean, clean)
        out.append(clean)
    # keep a file's own name where the cleaned names of two files would coincide
    return [c if out.count(c) == 1 else r for c, r in zip(out, raw, strict=True)]


def group_by_dataset(paths: Sequence[str | os.PathLike[str]]) -> list[DatasetGroup]:
    """Group TorchSpatial evaluation files by dataset and split.

    Parameters
    ----------
    paths : sequence of path-like
        Files named ``eval_<dataset>_<meta>_<split>_<model>.csv[.gz]``.

    Returns
    -------
    list of DatasetGroup
        In order of first appearance. Model names are the ``<model>`` part of the name,
        with a trailing duplicate marker (`` copy``, `` copy 2``, `` (1)``) removed and
        ``no_prior_regress`` named ``no_prior`` (the no-location baseline of the
        regression datasets), unless that makes two files of a group share a name.

    Raises
    ------
    InputError
        Naming the first file whose name does not follow the pattern.
    """
    groups: dict[tuple[str, str], DatasetGroup] = {}
    raw: dict[tuple[str, str], list[str]] = {}
    for p in paths:
        parsed = parse_eval_name(p)
        if parsed is None:
            raise InputError(
                f"{p}: cannot tell the dataset from the file name (--group-by dataset expects "
                "TorchSpatial's eval_<dataset>_<meta>_<split>_<model>.csv[.gz], e.g. "
                "eval_yfcc__test_NeRF.csv.gz); compare it without --group-by"
            )
        key = (parsed.dataset, parsed.split)
        if key not in groups:
            groups[key] = DatasetGroup(
                label=parsed.dataset, dataset=parsed.dataset, split=parsed.split
            )
            raw[key] = []
        groups[key].files.append(Path(p))
        raw[key].append(parsed.model)
    splits: dict[str, int] = {}
    for dataset, _ in groups:
        splits[dataset] = splits.get(dataset, 0) + 1
    for key, g in groups.items():
        if splits[g.dataset] > 1:
            g.label = f"{g.dataset}-{g.split}"
        g.models = _model_names(raw[key])
    return list(groups.values())
