"""Neighbourhoods whose k-NN graph depends on the order of the rows.

A point's ``k`` nearest neighbours are ambiguous when more than ``k`` other samples lie at
its very location: the k-NN rule then breaks the ties by row (docs/method.md, D3). Where
such a location holds samples of different coded values, which of them become neighbours
depends on the order of the rows, and so do the scores built on the graph of the samples
(marked SSI, performance SSI, Moran's I). Unmarked SSI and the SRI do not depend on it.
:func:`order_dependent` finds the neighbourhoods where most samples are at such
locations; those are not scored (reason ``n_skipped_coincident``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pygbs.stats.definition import ScoreValues

if TYPE_CHECKING:
    from pygbs.stats.definition import Batch, ScoreValues

__all__ = [
    "ORDER_DEPENDENT",
    "ORDER_SHARE",
    "batch_order_dependent",
    "null_without_order_dependent",
    "order_dependent",
    "skip_order_dependent",
    "warning_text",
]

#: The scores built on the k-NN graph of the samples: where rows share a location with
#: differently coded rows, ties among them are broken by row, so these can change when the
#: rows are shuffled (the others cannot).
ORDER_DEPENDENT = frozenset({"marked", "performance", "moran", "geary"})

#: Neighbourhoods where more than this share of the samples lie at locations with
#: ambiguous, mixed neighbours are not scored by the order-dependent scores.
ORDER_SHARE = 0.5


def order_dependent(
    location_ids: np.ndarray,
    marks: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    k: int,
    share: float = ORDER_SHARE,
) -> np.ndarray:
    """Per CSR neighbourhood: whether its k-NN graph among the samples depends on row order.

    Parameters
    ----------
    location_ids : ndarray of int64, shape (n,)
        Location id of every sample (equal coordinates, equal id).
    marks : ndarray of shape (n,)
        Coded value of every sample.
    indptr, indices : ndarray of int64
        The neighbourhoods (CSR): the samples of neighbourhood ``c`` are
        ``indices[indptr[c]:indptr[c + 1]]``.
    k : int
        Neighbours per point of the graph.
    share : float, default=ORDER_SHARE
        A neighbourhood is order-dependent when more than this share of its samples lie
        at locations holding more than ``k + 1`` of its samples with different coded values.

    Returns
    -------
    ndarray of bool, shape (c,)
    """
    sizes = np.diff(indptr)
    out = np.zeros(len(sizes), dtype=bool)
    if not len(sizes) or sizes.max() <= k + 1:
        return out
    n_loc = int(location_ids.max()) + 1
    counts = np.bincount(location_ids, minlength=n_loc)
    lo = np.full(n_loc, np.inf)
    hi = np.full(n_loc, -np.inf)
    np.minimum.at(lo, location_ids, marks)
    np.maximum.at(hi, location_ids, marks)
    candidate = (counts > k + 1) & (lo != hi)
    if not candidate.any():
        return out
    loc = location_ids[indices]
    pos = np.flatnonzero(candidate[loc])
    if not pos.size:
        return out
    centre = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)[pos]
    key = centre * n_loc + loc[pos]
    order = np.argsort(key, kind="stable")
    key, vals = key[order], marks[indices[pos]][order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    n_in = np.diff(np.r_[starts, key.size])
    mixed = np.minimum.reduceat(vals, starts) != np.maximum.reduceat(vals, starts)
    ambiguous = (n_in > k + 1) & mixed
    rows = np.bincount(
        key[starts][ambiguous] // n_loc, weights=n_in[ambiguous], minlength=len(sizes)
    )
    return rows > share * sizes


def batch_order_dependent(batch: Batch, k: int) -> np.ndarray:
    """:func:`order_dependent` of a batch's neighbourhoods (computed once per batch)."""
    return batch.shared(
        f"order_dependent:{int(k)}",
        lambda: order_dependent(
            batch.index.location_ids, batch.marks, batch.nb.indptr, batch.nb.indices, int(k)
        ),
    )


def skip_order_dependent(batch: Batch, sv: ScoreValues, k: int) -> ScoreValues:
    """``sv`` without the centres whose k-NN graph depends on the row order (reason 6)."""
    od = batch_order_dependent(batch, k)
    if not od.any():
        return sv
    reason = sv.reason.copy()
    reason[od & (reason == 0)] = 6
    return ScoreValues(
        np.where(od, np.nan, sv.values),
        None if sv.p is None else np.where(od, np.nan, sv.p),
        reason,
        None if sv.constant is None else sv.constant & ~od,
    )


def null_without_order_dependent(batch: Batch, null: np.ndarray, k: int) -> np.ndarray:
    """Per-draw scores, NaN at the centres that :func:`skip_order_dependent` skips."""
    od = batch_order_dependent(batch, k)
    if not od.any():
        return null
    out = np.array(null, copy=True)
    out[od] = np.nan
    return out


def warning_text(source: str, counts: dict[str, int]) -> str:
    """One warning line for the centres skipped as order-dependent.

    Parameters
    ----------
    source : str
        The predictions' name.
    counts : dict
        ``"<column>@<scale>"`` -> number of centres skipped for this reason.
    """
    parts = ", ".join(f"{n} at {where}" for where, n in counts.items())
    return (
        f"{source}: centres not scored because most of their samples share a few locations "
        f"with differently coded samples, so that their nearest neighbours would depend on "
        f"the order of the rows ({parts}; counted as n_skipped_coincident in the summary); "
        "pass --duplicates collapse (duplicates='collapse') to score one sample per location"
    )
