"""Per-sample test predictions in TorchSpatial's ``eval_results`` layout, written atomically.

Classification (one row per test sample, TorchSpatial's unnamed index column first)::

    ,lon,lat,true_class_prob,reciprocal_rank,hit@1,hit@3

``true_class_prob`` is the unnormalised fused score P(y | I) · P(y | x) of the true class,
``reciprocal_rank`` 1 / rank of the true class, ``hit@1`` / ``hit@3`` 0/1. Samples without a
location have empty lon/lat (as in the released birdsnap files).

Regression::

    lon,lat,predictions,labels,relative_error

with ``relative_error = (prediction − label) / label`` (signed, as TorchSpatial's files; a
label of exactly 0 divides by :data:`ZERO_LABEL` instead, giving a very large value as the
released files do).

Both read back with :func:`pygbs.read_predictions` without options.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from encoders.data import Split
from encoders.metrics import per_sample_classification
from pygbs.io.atomic import atomic_path

__all__ = ["CLASSIFICATION_COLUMNS", "REGRESSION_COLUMNS", "ZERO_LABEL", "export_predictions",
           "predictions_frame"]  # fmt: skip

#: Columns of a classification export (after the unnamed index).
CLASSIFICATION_COLUMNS = ("lon", "lat", "true_class_prob", "reciprocal_rank", "hit@1", "hit@3")
#: Columns of a regression export.
REGRESSION_COLUMNS = ("lon", "lat", "predictions", "labels", "relative_error")
#: Stand-in denominator of ``relative_error`` where the label is exactly 0.
ZERO_LABEL = 1e-6


def predictions_frame(split: Split, pred: np.ndarray, task: str) -> pd.DataFrame:
    """The export table of ``pred`` on ``split`` (see the module docstring).

    Parameters
    ----------
    split : Split
        The evaluated split (locations and true labels).
    pred : ndarray
        ``(n, C)`` fused class scores (classification) or ``(n,)`` predictions (regression).
    task : {'classification', 'regression'}
        Which layout.

    Returns
    -------
    pandas.DataFrame
    """
    lonlat = split.lonlat.astype(np.float64)
    if task == "classification":
        pred = np.asarray(pred)
        if pred.shape[0] != len(split) or pred.ndim != 2:
            raise ValueError(f"pred must have shape ({len(split)}, C); got {pred.shape}")
        cols = per_sample_classification(pred, split.label)
        return pd.DataFrame({"lon": lonlat[:, 0], "lat": lonlat[:, 1], **cols})
    if task == "regression":
        pred = np.asarray(pred, dtype=np.float64).ravel()
        if pred.shape[0] != len(split):
            raise ValueError(f"pred must have {len(split)} values; got {pred.shape[0]}")
        label = split.label.astype(np.float64)
        denom = np.where(label == 0, ZERO_LABEL, label)
        return pd.DataFrame(
            {
                "lon": lonlat[:, 0],
                "lat": lonlat[:, 1],
                "predictions": pred,
                "labels": label,
                "relative_error": (pred - label) / denom,
            }
        )
    raise ValueError(f"task must be 'classification' or 'regression'; got {task!r}")


def export_predictions(path: str | Path, split: Split, pred: np.ndarray, task: str) -> Path:
    """Write :func:`predictions_frame` to ``path`` atomically.

    ``.csv`` / ``.csv.gz`` give CSV (gzip by suffix), ``.parquet`` gives Parquet.
    Classification CSVs carry TorchSpatial's unnamed leading index column.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    df = predictions_frame(split, pred, task)
    name = path.name.lower()
    with atomic_path(path) as tmp:
        if name.endswith((".parquet", ".pq")):
            df.to_parquet(tmp, index=False)
        else:
            compression = {"method": "gzip", "mtime": 0} if name.endswith(".gz") else None
            df.to_csv(tmp, index=task == "classification", compression=compression)
    return path
