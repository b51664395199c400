"""Performance coding (docs/method.md, D1): turn raw performance values into SSI marks.

Binary hit columns become +1 (correct) / -1 (wrong); other metrics become +1 ("good") /
-1 ("bad") by a threshold, the median of the table by default; or the raw values are kept
(for marked SSI). A coded value of exactly 0 is never produced: 0 is reserved for the
background points of the SSI computation.

An error column (lower is better) that takes both signs, such as TorchSpatial's signed
``relative_error``, is coded by its size by default (``transform="auto"`` becomes
``"abs"``): a large negative error is as bad as a large positive one, and "lower is
better" on the signed value would call it good and a perfect prediction bad.

Ties at the threshold: good is ``value < t`` (lower is better) or ``value >= t`` (higher
is better). When that puts every row on one side but the inclusive (or strict)
comparison, ``value <= t`` or ``value > t``, splits the rows, the latter is used (an
error column that is 0 wherever the model is right has median 0: ``value < 0`` would make
no row good); :attr:`Coding.inclusive` records it. A threshold that splits the rows in
neither way (e.g. every value equal) is an error: such a coding has no good/bad contrast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Literal

import numpy as np

from pygbs.errors import InputError
from pygbs.predictions import Predictions

__all__ = ["TRANSFORMS", "Coding", "code_performance"]

Rule = Literal["binary", "threshold", "raw"]
#: Transforms of the values before coding: as stored, or their absolute value.
TRANSFORMS = ("auto", "none", "abs")


@dataclass(frozen=True, eq=False)
class Coding:
    """Coded performance values of one prediction table.

    Attributes
    ----------
    values : ndarray of shape (n,)
        float64 marks, one per row of the :class:`~pygbs.predictions.Predictions` table:
        +1/-1 for the ``"binary"`` and ``"threshold"`` rules, the raw non-zero values for
        ``"raw"``. Read-only.
    rule : {'binary', 'threshold', 'raw'}
        How the values were coded.
    threshold : float or None
        The threshold used by the ``"threshold"`` rule (the median when none was given);
        None for the other rules.
    lower_is_better : bool
        Direction used: with the threshold rule, good means ``value < threshold`` when True
        and ``value >= threshold`` when False.
    n_good, n_bad : int
        Rows coded +1 and -1 (for ``"raw"``: rows with a positive and a negative value).
    transform : {'none', 'abs'}
        What was coded: the values as stored, or their absolute values (the threshold then
        applies to ``|value|``).
    inclusive : bool
        Threshold rule only: whether the tie rule moved the rows equal to the threshold to
        the other side (good means ``value <= threshold`` when lower is better, ``value >
        threshold`` when higher is better) because the usual comparison put every row on
        one side.
    """

    values: np.ndarray = field(repr=False)
    rule: Rule
    threshold: float | None
    lower_is_better: bool
    n_good: int
    n_bad: int
    transform: str = "none"
    inclusive: bool = False

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description of the coding (without the values).

        Returns
        -------
        dict
            Keys ``rule``, ``transform``, ``threshold``, ``lower_is_better``, ``n_good``,
            ``n_bad`` and, for the threshold rule, ``good_if`` (the comparison used, e.g.
            ``"value < threshold"``).
        """
        out = {
            "rule": self.rule,
            "transform": self.transform,
            "threshold": None if self.threshold is None else float(self.threshold),
            "lower_is_better": bool(self.lower_is_better),
            "n_good": int(self.n_good),
            "n_bad": int(self.n_bad),
        }
        if self.rule == "threshold":
            out["good_if"] = self.good_if
        return out

    @property
    def good_if(self) -> str | None:
        """The threshold rule's comparison, e.g. ``"value < threshold"``; None otherwise."""
        if self.rule != "threshold":
            return None
        ops = {(True, False): "<", (True, True): "<=", (False, False): ">=", (False, True): ">"}
        subject = "|value|" if self.transform == "abs" else "value"
        return f"{subject} {ops[(bool(self.lower_is_better), bool(self.inclusive))]} threshold"

    def basis(self, values: np.ndarray) -> np.ndarray:
        """The values the coding looked at: ``values``, or ``|values|`` for ``"abs"``.

        Parameters
        ----------
        values : ndarray
            Raw performance values (e.g. ``Predictions.value``).

        Returns
        -------
        ndarray of float64
        """
        v = np.asarray(values, dtype=np.float64)
        return np.abs(v) if self.transform == "abs" else v


def code_performance(
    pred: Predictions,
    *,
    threshold: float | str | None = None,
    lower_is_better: bool | None = None,
    raw: bool = False,
    transform: str = "auto",
) -> Coding:
    """Code the performance values of a prediction table as SSI marks.

    Parameters
    ----------
    pred : Predictions
        The table (rows without coordinates already dropped).
    threshold : float, str or None, default=None
        None or ``"median"``: binary columns are coded +1 where ``value > 0`` and -1
        otherwise (so 0/1 and -1/+1 hit columns give the same marks); other columns are
        cut at the median of all values of the table. A number (or a numeric string) cuts
        every column, binary ones included, at that value.
    lower_is_better : bool, optional
        Direction of the threshold rule: when True, good means ``value < threshold``;
        when False, ``value >= threshold``. Defaults to ``pred.lower_is_better``.
    raw : bool, default=False
        Keep the raw values (for marked SSI) instead of +1/-1. They are used as stored
        (not negated when lower is better); no value may be exactly 0.
    transform : {'auto', 'none', 'abs'}, default='auto'
        ``"none"``: code the values as stored. ``"abs"``: code ``|value|`` (an error's
        size). ``"auto"``: ``"abs"`` for the threshold rule when lower is better and the
        values take both signs (a signed error such as ``relative_error``), otherwise
        ``"none"``. The transform applied is recorded in :attr:`Coding.transform`.

    Returns
    -------
    Coding
        The marks and how they were obtained.

    Raises
    ------
    InputError
        For a threshold that is neither a finite number nor ``"median"``, ``raw`` combined
        with a threshold, ``lower_is_better=True`` with the binary rule, an unknown
        ``transform`` or ``"abs"`` on a hit column, or a missing or non-finite value (raw:
        also a value of exactly 0), naming the row; a threshold that splits the rows
        neither with the usual comparison nor with the tie rule (module docstring).
    """
    values = np.asarray(pred.value, dtype=np.float64)
    name = pred.value_name
    where = f"{pred.source}: column {name!r}"
    lib = bool(pred.lower_is_better) if lower_is_better is None else bool(lower_is_better)
    cut = _parse_threshold(threshold)
    if transform not in TRANSFORMS:
        raise InputError(f"transform must be one of {', '.join(TRANSFORMS)}; got {transform!r}")
    _check_rows(np.isnan(values), values, where, "missing value")
    binary_rule = pred.binary and not isinstance(cut, float)
    if transform == "abs" and binary_rule:
        raise InputError(f"{where} is a hit indicator: transform='abs' does not apply")
    if transform == "auto":
        signed = bool(np.any(values < 0) and np.any(values > 0))
        transform = "abs" if (lib and signed and not raw and not pred.binary) else "none"
    if transform == "abs":
        values = np.abs(values)

    if raw:
        if cut is not None:
            raise InputError(
                f"{where}: raw=True (--raw) cannot be combined with threshold={threshold!r}"
            )
        _check_rows(~np.isfinite(values), values, where, "non-finite raw value")
        _check_rows(
            values == 0.0,
            values,
            where,
            "raw value is exactly 0, which is reserved for background points "
            "(use the +1/-1 coding instead)",
        )
        return _make(values.copy(), "raw", None, lib, transform)

    if binary_rule:
        if lower_is_better:
            raise InputError(
                f"{where} is a hit indicator (coded +1 where > 0): lower_is_better=True "
                "does not apply; pass a numeric threshold to code it by threshold"
            )
        coded = np.where(values > 0.0, 1.0, -1.0)
        return _make(coded, "binary", None, False, transform)

    t = float(np.median(values)) if cut is None or cut == "median" else float(cut)
    good = values < t if lib else values >= t
    inclusive = False
    if good.all() or not good.any():
        tied = values == t
        alt = good ^ tied  # rows equal to t change side
        if not tied.any() or alt.all() or not alt.any():
            what = "median" if cut is None or cut == "median" else "threshold"
            side = "good" if good.all() else "bad"
            raise InputError(
                f"{where}: every one of the {values.size} rows is {side} at the {what} "
                f"{t!r} ({int(tied.sum())} rows equal to it, values from {float(values.min())!r} "
                f"to {float(values.max())!r}): no good/bad contrast to score; choose a "
                "threshold between the values (--threshold) or another value column (--value)"
            )
        good, inclusive = alt, True
    return _make(np.where(good, 1.0, -1.0), "threshold", t, lib, transform, inclusive)


def _parse_threshold(threshold: Any) -> float | str | None:
    """None, ``"median"`` or a finite float."""
    if threshold is None:
        return None
    if isinstance(threshold, bool):
        raise InputError(f"threshold must be a number or 'median'; got {threshold!r}")
    if isinstance(threshold, str):
        text = threshold.strip().lower()
        if text == "median":
            return "median"
        try:
            number = float(text)
        except ValueError:
            raise InputError(f"threshold must be a number or 'median'; got {threshold!r}") from None
    elif isinstance(threshold, Real):
        number = float(threshold)
    else:
        raise InputError(f"threshold must be a number or 'median'; got {threshold!r}")
    if not math.isfinite(number):
        raise InputError(f"threshold must be a finite number or 'median'; got {threshold!r}")
    return number


def _check_rows(bad: np.ndarray, values: np.ndarray, where: str, what: str) -> None:
    """Raise naming the first row flagged in ``bad``."""
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{where}, row {row}: {what} ({float(values[row])!r}; {int(bad.sum())} such rows)"
        )


def _make(
    values: np.ndarray,
    rule: Rule,
    threshold: float | None,
    lib: bool,
    transform: str,
    inclusive: bool = False,
) -> Coding:
    values = np.ascontiguousarray(values, dtype=np.float64)
    values.setflags(write=False)
    return Coding(
        values=values,
        rule=rule,
        threshold=threshold,
        lower_is_better=lib,
        n_good=int(np.count_nonzero(values > 0)),
        n_bad=int(np.count_nonzero(values < 0)),
        transform=transform,
        inclusive=inclusive,
    )
