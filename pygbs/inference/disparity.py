"""Statistics of a disparity across regions, for :func:`pygbs.regional.regions`.

The Theil index of region means, the t interval of a block-bootstrapped difference with
few effective blocks, percentile intervals, the replicate means of regions, and the gap
under the null of no difference between regions (docs/regions.md, "The numbers").
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["gap_null", "percentile_interval", "replicate_means", "t_interval", "theil_index"]


def theil_index(means: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Between-group Theil index along the last axis (NaN with negative means)."""
    w = weights / weights.sum(axis=-1, keepdims=True)
    mu = np.sum(w * means, axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = means / mu
        term = np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0)
        t = np.sum(w * term, axis=-1)
    bad = np.any(means < 0, axis=-1) | ~np.isfinite(t) | (mu[..., 0] <= 0)
    return np.where(bad, np.nan, t)


def t_interval(est: float, reps: np.ndarray, ci: float, b_eff: float) -> tuple[float, float, float]:
    """``est +- t se`` and a two-sided p-value (:func:`~pygbs.inference.bootstrap.block_bootstrap`).

    ``se`` is the replicates' spread corrected by ``sqrt(b_eff / (b_eff - 1))`` and ``t``
    has ``b_eff - 1`` degrees of freedom, ``b_eff`` being the effective number of blocks
    the estimate rests on (few blocks: a wider interval).
    """
    from scipy.special import stdtr, stdtrit

    reps = reps[np.isfinite(reps)]
    if len(reps) < 2 or not b_eff >= 1.5:
        return math.nan, math.nan, math.nan
    dof = b_eff - 1.0
    se = float(np.std(reps, ddof=1)) * math.sqrt(b_eff / dof)
    q = float(stdtrit(dof, 0.5 + ci / 2.0))
    p = float(2.0 * stdtr(dof, -abs(est) / se)) if se > 0 else (1.0 if est == 0 else 0.0)
    return est - q * se, est + q * se, p


def percentile_interval(reps: np.ndarray, ci: float) -> tuple[float, float]:
    """The central ``ci`` interval of the finite replicates (NaN with fewer than 2)."""
    reps = reps[np.isfinite(reps)]
    if len(reps) < 2:
        return math.nan, math.nan
    lo, hi = np.quantile(reps, [0.5 - ci / 2.0, 0.5 + ci / 2.0])
    return float(lo), float(hi)


def replicate_means(sums: np.ndarray, counts: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Region means of the replicates; a region none of whose blocks was drawn keeps its mean.

    A region inside one block has the same mean in every replicate that draws that block,
    so keeping its mean where the block was not drawn leaves its replicate distribution
    as it is; regions over several blocks are missed rarely (``exp(-blocks)``).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.where(counts > 0, counts, 1.0), means[None, :])


def gap_null(rep_means: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Gap of each replicate after centring every region on its own mean."""
    dev = rep_means - means[None, :]
    return dev.max(axis=1) - dev.min(axis=1)
