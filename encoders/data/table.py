"""``table``: any user table (CSV, CSV.gz or Parquet) with lon, lat and a label.

Columns (names configurable):

* ``lon``, ``lat``: degrees (WGS84);
* ``label``: class labels (integers ``0..C-1``, or strings/other integers, mapped to ids in
  sorted order) or float regression targets;
* optional ``feat_*`` columns: image-model features (in column order);
* optional ``prob_*`` columns: image-model class probabilities, one per class id in order
  (classification);
* optional ``split`` column with values ``train`` / ``val`` / ``test``; without it the rows
  are split at random by ``fractions`` (seeded).

Rows without a label are dropped; training rows without a location are dropped, evaluation
rows without one are kept (they keep the image prediction alone).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from encoders.data._base import SPLITS, GeoDataset, Split, check_finite
from encoders.data._simulate import check_fractions, random_split_indices
from pygbs.errors import InputError

__all__ = ["load", "read_table"]

log = logging.getLogger(__name__)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV / CSV.gz / Parquet file into a DataFrame (InputError if unreadable)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"option 'path': no such file: {p}")
    name = p.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(p)
        return pd.read_csv(p)
    except (OSError, ValueError) as err:
        raise InputError(f"option 'path': cannot read {p}: {err}") from err


def _numeric_block(
    df: pd.DataFrame, cols: list[str], source: str, file_rows: np.ndarray
) -> np.ndarray:
    """float32 array of ``cols``; a non-numeric, missing or infinite entry raises."""
    block = df[cols].apply(pd.to_numeric, errors="coerce")
    text = df[cols].notna().to_numpy() & block.isna().to_numpy()
    if text.any():
        i, j = (int(k) for k in np.argwhere(text)[0])
        raise InputError(
            f"{source}: column {cols[j]!r}, row {int(file_rows[i])}: non-numeric value "
            f"{df[cols[j]].iloc[i]!r}"
        )
    with np.errstate(over="ignore"):  # values beyond float32 become inf and are refused
        arr = block.to_numpy(np.float32)
    check_finite(arr, source, cols, file_rows)
    return arr


def _coordinates(
    df: pd.DataFrame, lon: str, lat: str, source: str, file_rows: np.ndarray
) -> np.ndarray:
    """(n, 2) float32 lon/lat in degrees, NaN where missing; a bad entry raises.

    Text, infinite values, longitudes outside [-180, 360) and latitudes outside [-90, 90]
    are refused, naming the column, the row of the file (0-based data row) and the value.
    """
    out = np.empty((len(df), 2), dtype=np.float32)
    for j, (col, kind, lo, hi) in enumerate(
        ((lon, "longitude", -180.0, 360.0), (lat, "latitude", -90.0, 90.0))
    ):
        raw = df[col]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64)
        with np.errstate(invalid="ignore"):
            problems = (
                (raw.notna().to_numpy() & np.isnan(values), "is not a number"),
                (np.isinf(values), "is not finite"),
                ((values < lo) | (values > hi) | ((values == hi) & (j == 0)),
                 f"is outside {'[-180, 360)' if j == 0 else '[-90, 90]'}"),
            )  # fmt: skip
        for bad, why in problems:
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                value = raw.iloc[i]
                shown = value if isinstance(value, str) else f"{float(values[i]):g}"
                raise InputError(
                    f"{source}: column {col!r}, row {int(file_rows[i])}: {kind} {shown!r} "
                    f"{why} ({int(bad.sum())} such rows)"
                )
        out[:, j] = values
    return out


def _prefixed(df: pd.DataFrame, prefix: str) -> list[str]:
    return [c for c in df.columns if isinstance(c, str) and c.startswith(prefix)]


def load(
    *,
    path: str | Path | pd.DataFrame,
    lon: str = "lon",
    lat: str = "lat",
    label: str = "label",
    split: str | None = "split",
    task: str = "auto",
    num_classes: int | None = None,
    feature_prefix: str = "feat_",
    prob_prefix: str = "prob_",
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> GeoDataset:
    """Load a user table as a dataset.

    Parameters
    ----------
    path : path-like or DataFrame
        The table (``.csv``, ``.csv.gz``, ``.parquet``) or a DataFrame.
    lon, lat, label : str
        Column names.
    split : str or None, default='split'
        Column with ``train``/``val``/``test``; if absent (or None) rows are split at random.
    task : {'auto', 'classification', 'regression'}
        ``auto``: regression for float labels with non-integer values, else classification.
    num_classes : int, optional
        Number of classes when labels are integer ids (default: max id + 1).
    feature_prefix, prob_prefix : str
        Prefixes of the image-feature and image-probability columns.
    fractions : tuple of 3 float, default=(0.8, 0.1, 0.1)
        Random split shares when there is no split column.
    seed : int, default=0
        Seed of the random split.

    Returns
    -------
    GeoDataset
    """
    df = path.copy() if isinstance(path, pd.DataFrame) else read_table(path)
    source = "<DataFrame>" if isinstance(path, pd.DataFrame) else str(path)
    for opt, col in (("lon", lon), ("lat", lat), ("label", label)):
        if col not in df.columns:
            raise InputError(
                f"option {opt!r}: column {col!r} not in {source}; columns: {list(df.columns)}"
            )
    if task not in ("auto", "classification", "regression"):
        raise InputError(
            f"option 'task' must be 'auto', 'classification' or 'regression'; got {task!r}"
        )
    file_rows = np.flatnonzero(df[label].notna().to_numpy())  # 0-based data rows of the file
    df = df[df[label].notna()].reset_index(drop=True)
    if df.empty:
        raise InputError(f"{source}: no rows with a label in column {label!r}")
    y = df[label]
    if task == "auto":
        is_float = pd.api.types.is_float_dtype(y) and not np.all(np.mod(y.to_numpy(), 1) == 0)
        task = "regression" if is_float else "classification"
    class_names = None
    if task == "classification":
        if pd.api.types.is_integer_dtype(y) or (
            pd.api.types.is_float_dtype(y) and np.all(np.mod(y.to_numpy(), 1) == 0)
        ):
            ids = y.to_numpy().astype(np.int64)
            if ids.min() < 0:
                raise InputError(f"column {label!r}: class ids must be >= 0; found {ids.min()}")
            c = int(num_classes) if num_classes is not None else int(ids.max()) + 1
            if ids.max() >= c:
                raise InputError(f"column {label!r} has class id {ids.max()} >= num_classes={c}")
        else:
            names = np.unique(y.astype(str).to_numpy())
            ids = np.searchsorted(names, y.astype(str).to_numpy()).astype(np.int64)
            c = len(names)
            class_names = tuple(str(n) for n in names)
        labels = ids
    else:
        try:
            labels = y.to_numpy(dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise InputError(f"column {label!r}: regression labels must be numbers") from err
        c = None
    lonlat = _coordinates(df, lon, lat, source, file_rows)
    feat_cols = _prefixed(df, feature_prefix)
    prob_cols = _prefixed(df, prob_prefix) if task == "classification" else []
    feats = _numeric_block(df, feat_cols, source, file_rows) if feat_cols else None
    probs = _numeric_block(df, prob_cols, source, file_rows) if prob_cols else None
    if probs is not None and probs.shape[1] != c:
        raise InputError(
            f"{len(prob_cols)} '{prob_prefix}*' columns but {c} classes; give one per class"
        )
    if split is not None and split in df.columns:
        values = df[split].astype(str).str.lower().to_numpy()
        bad = ~np.isin(values, SPLITS)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"column {split!r}: row {i} has {df[split].iloc[i]!r}; valid: train, val, test"
            )
        parts = [np.flatnonzero(values == s) for s in SPLITS]
        for s, idx in zip(SPLITS, parts):
            if idx.size == 0:
                raise InputError(f"column {split!r} has no {s!r} rows")
    else:
        parts = list(
            random_split_indices(len(df), check_fractions(fractions, "fractions"),
                                 np.random.default_rng(seed))
        )  # fmt: skip
    has_loc = np.isfinite(lonlat).all(axis=1)
    n_drop = int((~has_loc[parts[0]]).sum())
    if n_drop:
        log.warning("%s: dropped %d training rows without a location", source, n_drop)
        parts[0] = parts[0][has_loc[parts[0]]]
    lonlat[~has_loc] = np.nan
    full = Split(lonlat=lonlat, label=labels, image_probs=probs, image_features=feats)
    splits = [full.subset(idx) for idx in parts]
    if probs is None and feats is None:  # nothing to fall back on without a location
        n_eval = sum(int((~sp.has_location).sum()) for sp in splits[1:])
        if n_eval:
            log.warning("%s: dropped %d val/test rows without a location", source, n_eval)
        splits = [splits[0]] + [sp.drop_unlocated() for sp in splits[1:]]
    info = {
        "path": source, "lon": lon, "lat": lat, "label": label, "split": split, "task": task,
        "features": feat_cols, "probabilities": prob_cols, "fractions": list(fractions),
        "seed": seed,
    }  # fmt: skip
    name = "table" if source == "<DataFrame>" else Path(source).name
    return GeoDataset(
        name=name,
        task=task,
        num_classes=c,
        class_names=class_names,
        train=splits[0],
        val=splits[1],
        test=splits[2],
        info=info,
    )
