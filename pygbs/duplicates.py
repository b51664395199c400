"""Repeated locations: several samples at one site (``duplicates='keep'|'collapse'``).

Many images of one site usually share the outcome, so a neighbourhood around the site
counts the same outcome many times (pseudo-replication): scores that count neighbours
then grow with the number of images per site, not with geography. :func:`summarise`
measures the share of rows at repeated locations; above :data:`WARN_SHARE`
:func:`pygbs.score` warns. With ``duplicates='collapse'`` (``--duplicates collapse``),
:func:`collapse` keeps one sample per location before scoring (docs/cli.md, "Repeated
locations"):

- its coordinates are the location's, its row the location's first row in the file;
- its mark is the sign of the mean coded performance at the location for the +1/-1
  codings (the majority outcome). A tie (as many +1 as -1: mean 0, which is reserved for
  background points) takes the location's worst mark (-1), so that the result does not
  depend on the order of the rows and the set of locations stays the same for every
  model of a comparison (paired tests keep working); ties are counted as ``n_ties``. For
  raw marks the mark is the mean raw value (a mean of exactly 0 also takes the lowest
  value at the location);
- its performance value (``mean_performance`` of the centres) is the mean at the location.

The model's accuracy (or R², MAE) is computed on all rows before collapsing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from pygbs.errors import InputError
from pygbs.predictions import Predictions

__all__ = ["DUPLICATES", "WARN_SHARE", "collapse", "collecting", "summarise", "warning_text"]

#: ``duplicates=`` policies.
DUPLICATES = ("keep", "collapse")
#: Share of rows at repeated locations above which ``duplicates='keep'`` warns.
WARN_SHARE = 0.1

_NOTES: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar(
    "_DUPLICATE_NOTES", default=None
)


def _groups(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, int]:
    """Location id of every row (in order of first appearance) and the number of ids."""
    codes = (
        pd.DataFrame({"lon": lon, "lat": lat}).groupby(["lon", "lat"], sort=False).ngroup()
    ).to_numpy(dtype=np.int64)
    return codes, int(codes.max()) + 1 if codes.size else 0


def summarise(lon: np.ndarray, lat: np.ndarray, marks: np.ndarray | None = None) -> dict[str, Any]:
    """How many rows share their location with another row.

    Parameters
    ----------
    lon, lat : ndarray
        Coordinates of the rows.
    marks : ndarray, optional
        Coded value of every row: then also the repeated locations whose rows differ in
        it. A point's nearest neighbours break ties among rows at one location by row;
        where those rows differ in outcome, which of them are taken depends on the order
        of the rows, and so do the scores built on that graph (marked SSI, performance
        SSI, Moran's I, Geary's C; :data:`pygbs.stats.coincident.ORDER_DEPENDENT`).

    Returns
    -------
    dict
        ``n_rows``, ``n_locations`` (distinct), ``n_repeated_locations`` (locations with
        two rows or more), ``n_rows_at_repeated`` (rows at such locations) and
        ``share_rows_at_repeated``; with ``marks`` also ``n_mixed_locations`` (locations
        with rows of different coded values) and ``n_rows_at_mixed`` (the rows there).
    """
    codes, n_loc = _groups(np.asarray(lon), np.asarray(lat))
    counts = np.bincount(codes, minlength=n_loc)
    at_rep = int(counts[counts > 1].sum())
    n = int(codes.size)
    out: dict[str, Any] = {
        "n_rows": n,
        "n_locations": n_loc,
        "n_repeated_locations": int((counts > 1).sum()),
        "n_rows_at_repeated": at_rep,
        "share_rows_at_repeated": at_rep / n if n else 0.0,
    }
    if marks is not None:
        marks = np.asarray(marks, dtype=np.float64)
        lo = np.full(n_loc, np.inf)
        hi = np.full(n_loc, -np.inf)
        np.minimum.at(lo, codes, marks)
        np.maximum.at(hi, codes, marks)
        mixed = lo != hi
        out["n_mixed_locations"] = int(mixed.sum())
        out["n_rows_at_mixed"] = int(counts[mixed].sum())
    return out


def warning_text(source: str, info: dict[str, Any]) -> str:
    """The warning for many repeated locations (one line).

    With ``info["n_mixed_locations"]`` (from :func:`summarise`; pass 0 when no score that
    depends on the row order was asked for) the line also says that those scores can
    change when the rows are shuffled.
    """
    text = (
        f"{source}: {100 * info['share_rows_at_repeated']:.1f} % of the rows "
        f"({info['n_rows_at_repeated']} of {info['n_rows']}) share their location with "
        f"another row ({info['n_repeated_locations']} locations with 2 rows or more); samples "
        "of one site are rarely independent and inflate scores that count neighbours"
    )
    if info.get("n_mixed_locations"):
        text += (
            f"; {info['n_mixed_locations']} of those locations hold rows with different "
            f"outcomes ({info['n_rows_at_mixed']} rows): which of them count as nearest "
            "neighbours follows the order of the rows, so marked SSI, performance SSI, "
            "Moran's I and Geary's C can change when the rows are shuffled"
        )
    return (
        text + "; pass --duplicates collapse (duplicates='collapse') to score one sample per "
        "location"
    )


@contextmanager
def collecting() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Collect the repeated-location warnings of several scores (one warning per run)."""
    notes: list[tuple[str, dict[str, Any]]] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def note(source: str, info: dict[str, Any], log: Any) -> None:
    """Warn (or collect, inside :func:`collecting`) when repeated locations are many."""
    if info["share_rows_at_repeated"] <= WARN_SHARE:
        return
    notes = _NOTES.get()
    if notes is not None:
        notes.append((source, info))
    else:
        log.warning("%s", warning_text(source, info))


def collapse(
    pred: Predictions, marks: np.ndarray, basis: np.ndarray, rule: str
) -> tuple[Predictions, np.ndarray, np.ndarray, dict[str, Any]]:
    """One sample per location (see the module docstring).

    Parameters
    ----------
    pred : Predictions
        The table.
    marks : ndarray
        Coded performance of every row (+1/-1, or raw non-zero values).
    basis : ndarray
        The values the coding looked at, per row.
    rule : str
        The coding rule (``"raw"`` keeps mean values; otherwise the majority sign).

    Returns
    -------
    (Predictions, marks, basis, info)
        The collapsed table (``value`` the mean per location), its marks and basis, and
        ``info``: ``n_rows``, ``n_locations``, ``n_ties``.
    """
    codes, n_loc = _groups(pred.lon, pred.lat)
    counts = np.bincount(codes, minlength=n_loc).astype(np.float64)
    first = np.full(n_loc, codes.size, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(codes.size, dtype=np.int64))
    mean_mark = np.bincount(codes, weights=marks, minlength=n_loc) / counts
    tie = mean_mark == 0.0
    worst = np.full(n_loc, np.inf)
    np.minimum.at(worst, codes, marks)  # a tie's mark, whatever the order of the rows
    if rule == "raw":
        new_marks = np.where(tie, worst, mean_mark)
    else:
        new_marks = np.where(tie, worst, np.sign(mean_mark))
    new_basis = np.bincount(codes, weights=basis, minlength=n_loc) / counts
    new_value = np.bincount(codes, weights=pred.value, minlength=n_loc) / counts
    if np.any(new_marks == 0.0):  # pragma: no cover - marks are never 0
        raise InputError(f"{pred.source}: a collapsed mark is 0")
    out = replace(
        pred,
        lon=np.ascontiguousarray(pred.lon[first]),
        lat=np.ascontiguousarray(pred.lat[first]),
        value=np.ascontiguousarray(new_value),
        table=pred.table.iloc[first].reset_index(drop=True),
        binary=False,
    )
    info = {"n_rows": int(codes.size), "n_locations": n_loc, "n_ties": int(tie.sum())}
    return out, np.ascontiguousarray(new_marks), np.ascontiguousarray(new_basis), info
