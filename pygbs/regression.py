"""Regression prediction tables: relative errors near zero labels, derived errors, metrics.

TorchSpatial's regression files hold ``predictions``, ``labels`` and ``relative_error``
(``(prediction - label) / (label + 1e-8)``). Where a label is zero or close to it, that
relative error is huge whatever the prediction, so a good/bad coding of it marks *where
the labels are near zero*, not where the model does badly: a geo-bias score would then
measure the geography of the labels. :func:`check_relative_error` refuses such a column
when more than :data:`MAX_NEAR_ZERO_SHARE` of its rows have near-zero labels, and names
the ways out (docs/cli.md, "Regression files"):

- code the absolute error ``|prediction - label|`` instead (``value="absolute_error"``,
  derived from the two columns by :func:`derive_value`);
- floor the denominator: ``min_label=X`` recomputes the relative error as
  ``(prediction - label) / (sign(label) * max(|label|, X))``;
- code the column as stored anyway (``near_zero_labels="allow"``).

:func:`performance_metrics` gives the model-level metric reported beside the scores: the
share correct for hit columns (``accuracy``), R² and the mean absolute error for
regression tables (``r2``, ``mae``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from pygbs.errors import InputError, NearZeroLabelsError
from pygbs.predictions import Predictions

__all__ = [
    "DERIVED_VALUES",
    "MAX_NEAR_ZERO_SHARE",
    "NEAR_ZERO_FACTOR",
    "NEAR_ZERO_POLICIES",
    "check_relative_error",
    "derive_value",
    "metric_column",
    "near_zero_cutoff",
    "performance_metrics",
    "regression_columns",
]

#: Column names recognised (case-insensitively) as the model's predictions and the labels.
PREDICTION_NAMES: tuple[str, ...] = ("predictions", "prediction", "pred", "y_pred")
LABEL_NAMES: tuple[str, ...] = ("labels", "label", "target", "y_true")
#: A label is near zero when ``|label|`` is below this share of the median non-zero
#: ``|label|`` (its relative error is then inflated a hundredfold or more against a
#: typical row with the same absolute error), or exactly 0.
NEAR_ZERO_FACTOR = 0.01
#: Largest share of rows with near-zero labels accepted in a relative error column.
MAX_NEAR_ZERO_SHARE = 0.02
#: ``near_zero_labels=`` policies: refuse the column, or code it as stored.
NEAR_ZERO_POLICIES = ("error", "allow")
#: Value columns derived from ``predictions`` and ``labels`` when the table lacks them.
DERIVED_VALUES: tuple[str, ...] = ("absolute_error",)


def _find(columns: list[Any], names: tuple[str, ...]) -> Any:
    low = {str(c).strip().lower(): c for c in columns}
    return next((low[n] for n in names if n in low), None)


def regression_columns(table: pd.DataFrame) -> tuple[Any, Any] | None:
    """The (predictions, labels) column names of a table, or None.

    Parameters
    ----------
    table : DataFrame
        A prediction table.

    Returns
    -------
    tuple or None
        Names as found among :data:`PREDICTION_NAMES` and :data:`LABEL_NAMES`
        (case-insensitive), when both are present.
    """
    cols = list(table.columns)
    p, y = _find(cols, PREDICTION_NAMES), _find(cols, LABEL_NAMES)
    return None if p is None or y is None else (p, y)


def _numbers(table: pd.DataFrame, col: Any, label: str) -> np.ndarray:
    values = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{label}: column {str(col)!r}, row {row}: value {table[col].iloc[row]!r} is not a "
            f"finite number ({int(bad.sum())} such rows)"
        )
    return values


def derive_value(table: pd.DataFrame, name: str, label: str) -> pd.Series | None:
    """A value column computed from ``predictions`` and ``labels``, or None.

    Parameters
    ----------
    table : DataFrame
        The table as read.
    name : str
        The requested value column; only :data:`DERIVED_VALUES` (``absolute_error``:
        ``|prediction - label|``) are derived.
    label : str
        The table's name, for error messages.

    Returns
    -------
    Series or None
        None when ``name`` is not derivable or the table lacks the two columns.
    """
    if str(name).strip().lower() not in DERIVED_VALUES:
        return None
    cols = regression_columns(table)
    if cols is None:
        return None
    pred = pd.to_numeric(table[cols[0]], errors="coerce")
    truth = pd.to_numeric(table[cols[1]], errors="coerce")
    return (pred - truth).abs().rename(name)


def near_zero_cutoff(labels: np.ndarray) -> float:
    """``|label|`` below which a label counts as near zero.

    Parameters
    ----------
    labels : ndarray
        The labels.

    Returns
    -------
    float
        :data:`NEAR_ZERO_FACTOR` times the median non-zero ``|label|`` (0 when every label
        is 0: then only exact zeros count).
    """
    a = np.abs(np.asarray(labels, dtype=np.float64))
    nz = a[a > 0]
    return float(NEAR_ZERO_FACTOR * np.median(nz)) if nz.size else 0.0


def _is_relative(name: str) -> bool:
    return "relative" in str(name).strip().lower()


def check_relative_error(
    pred: Predictions, *, min_label: float | None = None, near_zero_labels: str | None = None
) -> tuple[Predictions, dict[str, Any] | None]:
    """Refuse (or repair) a relative error column whose labels are near zero.

    Parameters
    ----------
    pred : Predictions
        The table; checked when its value column is a relative error (the name contains
        ``relative``) and it has predictions and labels columns.
    min_label : float, optional
        Floor of the denominator: the relative error is recomputed as ``(prediction -
        label) / (sign(label) * max(|label|, min_label))`` (sign(0) = +1).
    near_zero_labels : {'error', 'allow'}, optional
        Default ``'error'``. What to do when more than :data:`MAX_NEAR_ZERO_SHARE` of
        the rows have near-zero labels (see :func:`near_zero_cutoff`) and no ``min_label`` is given.

    Returns
    -------
    (Predictions, dict or None)
        The table (with recomputed values when ``min_label`` is given) and what was
        checked: ``n_near_zero``, ``share_near_zero``, ``cutoff``, ``min_label``,
        ``policy``; None when the table was not checked.

    Raises
    ------
    NearZeroLabelsError
        One line naming the share of such rows and the three ways out.
    InputError
        For an unknown policy, a ``min_label`` that is not a positive number or that is
        given for a table without a relative error and predictions/labels columns.
    """
    near_zero_labels = near_zero_labels or "error"
    if near_zero_labels not in NEAR_ZERO_POLICIES:
        raise InputError(
            f"near_zero_labels must be one of {', '.join(NEAR_ZERO_POLICIES)}; "
            f"got {near_zero_labels!r}"
        )
    cols = regression_columns(pred.table)
    applies = cols is not None and _is_relative(pred.value_name) and not pred.binary
    if min_label is not None:
        if not (isinstance(min_label, int | float) and np.isfinite(min_label) and min_label > 0):
            raise InputError(f"min_label must be a positive number; got {min_label!r}")
        if not applies:
            raise InputError(
                f"{pred.source}: min_label (--min-label) applies to a relative error column "
                f"with predictions and labels columns; the value column is {pred.value_name!r}"
            )
    if not applies:
        return pred, None
    assert cols is not None
    labels = _numbers(pred.table, cols[1], pred.source)
    cutoff = near_zero_cutoff(labels)
    near = np.abs(labels) <= cutoff if cutoff == 0.0 else np.abs(labels) < cutoff
    n_near, n = int(near.sum()), int(labels.size)
    info: dict[str, Any] = {
        "labels_column": str(cols[1]),
        "n_near_zero": n_near,
        "share_near_zero": n_near / n if n else 0.0,
        "cutoff": cutoff,
        "min_label": None if min_label is None else float(min_label),
        "policy": "floor" if min_label is not None else near_zero_labels,
    }
    if min_label is not None:
        preds = _numbers(pred.table, cols[0], pred.source)
        sign = np.where(labels < 0, -1.0, 1.0)
        value = (preds - labels) / (sign * np.maximum(np.abs(labels), float(min_label)))
        return replace(pred, value=np.ascontiguousarray(value)), info
    if n and n_near / n > MAX_NEAR_ZERO_SHARE and near_zero_labels == "error":
        raise NearZeroLabelsError(
            f"{pred.source}: column {pred.value_name!r}: {100 * n_near / n:.1f} % of the rows "
            f"({n_near} of {n}) have labels near zero (|{cols[1]}| < {cutoff:.3g}, 1 % of the "
            f"median), where a relative error is large whatever the prediction, so its "
            f"coding would mark where the labels are near zero; code the absolute error "
            "(--value absolute_error, value='absolute_error'), floor the denominator "
            "(--min-label X, min_label=X), or code it as stored (--near-zero-labels allow, "
            "near_zero_labels='allow')"
        )
    return pred, info


def performance_metrics(pred: Predictions, basis: np.ndarray) -> dict[str, float]:
    """The model-level metric reported beside the geo-bias scores.

    Parameters
    ----------
    pred : Predictions
        The table (before any collapsing of repeated locations).
    basis : ndarray
        The values the coding looked at (see :meth:`pygbs.coding.Coding.basis`).

    Returns
    -------
    dict
        ``{"accuracy": share correct}`` for a hit column; ``{"r2": ..., "mae": ...}``
        (coefficient of determination and mean absolute error of the predictions against
        the labels) for a table with predictions and labels columns; otherwise
        ``{"accuracy": mean of the coded values' basis}``.
    """
    if pred.binary:
        return {"accuracy": float(np.mean(pred.value > 0))}
    cols = regression_columns(pred.table)
    if cols is not None:
        p = _numbers(pred.table, cols[0], pred.source)
        y = _numbers(pred.table, cols[1], pred.source)
        ss_tot = float(np.sum((y - y.mean()) ** 2))
        r2 = 1.0 - float(np.sum((y - p) ** 2)) / ss_tot if ss_tot > 0 else float("nan")
        return {"r2": r2, "mae": float(np.mean(np.abs(p - y)))}
    return {"accuracy": float(np.mean(basis))}


#: Model-level metric columns of a comparison table, in order of preference.
METRIC_COLUMNS: tuple[str, ...] = ("accuracy", "r2", "mae")


def metric_column(table: pd.DataFrame) -> str | None:
    """The column of a comparison table that ranks models by performance.

    Parameters
    ----------
    table : DataFrame
        One row per model.

    Returns
    -------
    str or None
        ``accuracy`` when it has a value, else ``r2``; None when neither has.
    """
    for col in ("accuracy", "r2"):
        if col in table.columns and table[col].notna().any():
            return col
    return None
