"""The accuracy-matched null: is performance clustered beyond what accuracy gives.

A model's coded performance is permuted among its own samples: locations, sample density
and the share of good samples stay fixed, only *where* the good and bad samples lie is
random. Every score is computed for each such draw on the same neighbourhoods, and the
observed score is compared with them (docs/method.md, D7):

- ``null_mean``, ``null_sd``: mean and spread over draws of the dataset-level score;
- ``excess = mean - null_mean``, with a block-bootstrap interval of the per-centre
  excess (score minus its mean over the draws);
- ``p_excess = (1 + #{draw >= observed}) / (R + 1)``.

This module makes the draws and turns per-centre values into these aggregates, plus the
**spread of local performance**: the standard deviation over centres of the share of good
samples in each neighbourhood, against the same null.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pygbs._names import DEFAULT_NULL_DRAWS
from pygbs.inference.bootstrap import (
    Blocks,
    block_bootstrap,
    effective_blocks,
    expanded_percentile,
    resampled_sums,
)

__all__ = [
    "DEFAULT_NULL_DRAWS",
    "NULL_FIELDS",
    "NULLS",
    "grand_variance",
    "null_draws",
    "null_fields",
    "no_excess_fields",
    "spread_aggregate",
    "spread_pair",
]

#: ``null=`` choices: permute the coded values (``accuracy``) or no null (``none``).
NULLS = ("accuracy", "none")
#: What the null adds to every aggregate (``summary.json``).
NULL_FIELDS = (
    "null_mean",
    "null_sd",
    "excess",
    "excess_ci_low",
    "excess_ci_high",
    "p_excess",
    "null_draws",
)
#: A stream of its own for the draws, apart from the bootstrap's.
_STREAM = 0x6E756C6C


def null_draws(marks: np.ndarray, n_draws: int, seed: int = 0) -> np.ndarray:
    """``n_draws`` random permutations of ``marks`` (rows), seeded.

    Parameters
    ----------
    marks : ndarray of shape (n,)
        Coded values of all samples.
    n_draws : int
        Number of permutations.
    seed : int, default=0
        Seed (the same seed gives the same draws).

    Returns
    -------
    ndarray of shape (n_draws, n)
    """
    rng = np.random.default_rng([int(seed), _STREAM])
    marks = np.asarray(marks, dtype=np.float64)
    out = np.empty((int(n_draws), len(marks)))
    for r in range(int(n_draws)):
        out[r] = rng.permutation(marks)
    return out


def _p_excess(draw_stats: np.ndarray, observed: float) -> float | None:
    d = draw_stats[np.isfinite(draw_stats)]
    if len(d) == 0 or not math.isfinite(observed):
        return None
    return float((1 + np.sum(d >= observed)) / (len(d) + 1))


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def null_fields(
    mean: float | None,
    excess: np.ndarray,
    draw_sums: np.ndarray,
    blocks: Blocks | None,
    *,
    bootstrap: int,
    ci: float,
    seed: int,
) -> dict[str, Any]:
    """:data:`NULL_FIELDS` of a score that is a mean over centres.

    Parameters
    ----------
    mean : float or None
        The observed mean over scored centres.
    excess : ndarray of shape (c,)
        Per centre: the score minus its mean over the draws (NaN where not scored).
    draw_sums : ndarray of shape (2, R)
        Per draw: sum of the scores over the scored centres, and their count.
    blocks : Blocks or None
        Equal-area blocks of the centres (None: no interval).
    bootstrap, ci, seed
        See :func:`pygbs.inference.bootstrap.block_bootstrap`.

    Returns
    -------
    dict
    """
    n_draws = draw_sums.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        draw_means = draw_sums[0] / draw_sums[1]
    out: dict[str, Any] = {f: None for f in NULL_FIELDS}
    out["null_draws"] = int(n_draws)
    if mean is None or not np.isfinite(excess).any():
        return out
    if blocks is not None:
        est = block_bootstrap(excess, blocks.ids, n_boot=bootstrap, ci=ci, seed=seed)
        exc = est.estimate
        out["excess_ci_low"], out["excess_ci_high"] = _num(est.ci_low), _num(est.ci_high)
    else:
        exc = float(np.nanmean(excess))
    out["excess"] = exc
    out["null_mean"] = mean - exc
    finite = draw_means[np.isfinite(draw_means)]
    out["null_sd"] = float(np.std(finite, ddof=1)) if len(finite) > 1 else None
    out["p_excess"] = _p_excess(draw_means, mean)
    return out


def no_excess_fields(mean: float | None, n_draws: int) -> dict[str, Any]:
    """:data:`NULL_FIELDS` of a score of the locations alone: its null is itself."""
    out: dict[str, Any] = {f: None for f in NULL_FIELDS}
    out["null_draws"] = int(n_draws)
    if mean is not None:
        out.update(null_mean=mean, null_sd=0.0, excess=0.0, excess_ci_low=0.0,
                   excess_ci_high=0.0, p_excess=1.0)  # fmt: skip
    return out


def _block_table(block_ids: np.ndarray, columns: list[np.ndarray]) -> np.ndarray:
    """Per block, the sums of each column over its centres (first column: the count)."""
    _, b = np.unique(block_ids, return_inverse=True)
    n_blocks = int(b.max()) + 1
    out = [np.bincount(b, minlength=n_blocks).astype(np.float64)]
    out += [np.bincount(b, weights=c, minlength=n_blocks) for c in columns]
    return np.column_stack(out)


def _variance(sums: np.ndarray, i: int) -> np.ndarray:
    """Population variance from columns (count, sum, sum of squares) starting at ``i``."""
    n = sums[..., 0]
    mean = sums[..., i] / n
    return np.maximum(sums[..., i + 1] / n - mean * mean, 0.0)


def _null_variance(sums: np.ndarray, i: int, grand_var: float) -> np.ndarray:
    """Mean over draws of the variance, from per-centre null moments (see spread_aggregate)."""
    n = sums[..., 0]
    m1 = sums[..., i] / n
    return np.maximum(sums[..., i + 1] / n - m1 * m1 - grand_var, 0.0)


def grand_variance(draw_sums: np.ndarray) -> float:
    """Variance over draws of the mean local performance.

    ``draw_sums`` holds per draw the sum and sum of squares of the local performance over
    the scored centres, and their count.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        ybar = draw_sums[0] / draw_sums[2]
    ybar = ybar[np.isfinite(ybar)]
    return float(np.var(ybar)) if len(ybar) else 0.0


def spread_aggregate(
    local: np.ndarray,
    blocks: Blocks | None,
    *,
    m1: np.ndarray | None = None,
    m2: np.ndarray | None = None,
    draw_sums: np.ndarray | None = None,
    bootstrap: int,
    ci: float,
    seed: int,
) -> dict[str, Any]:
    """The spread of local performance at one scale, with its null when given.

    ``spread`` is the standard deviation over centres of the local performance (the share
    of good samples in each neighbourhood). Under the null, each draw ``r`` has a spread
    ``s_r``; ``null_mean`` is ``sqrt(mean_r s_r^2)``, and ``excess = spread - null_mean``.
    The bootstrap resamples blocks of centres: the observed variance and the null's mean
    variance are recomputed from the blocks' sums of ``y``, ``y^2`` and the per-centre
    null moments ``m1 = mean_r y_r``, ``m2 = mean_r y_r^2``, less the variance over draws
    of the mean local performance (a constant of the draws).

    Parameters
    ----------
    local : ndarray of shape (c,)
        Local performance per centre (NaN: not scored).
    blocks : Blocks or None
        Equal-area blocks of the centres (None: no interval).
    m1, m2 : ndarray of shape (c,), optional
        Per-centre mean and mean square of the local performance over the null draws.
    draw_sums : ndarray of shape (3, R), optional
        Per draw: sum and sum of squares of the local performance over scored centres,
        and their count.
    bootstrap, ci, seed
        See :func:`pygbs.inference.bootstrap.block_bootstrap`.

    Returns
    -------
    dict
        ``mean`` (the spread), ``ci_low``, ``ci_high``, ``n_scored``, ``n_skipped``,
        ``n_blocks``, ``block_km`` and, with a null, :data:`NULL_FIELDS`.
    """
    ok = np.isfinite(local)
    n = int(ok.sum())
    out: dict[str, Any] = {
        "mean": None, "ci_low": None, "ci_high": None,
        "block_km": None if blocks is None else blocks.block_km, "n_blocks": None,
        "n_scored": n, "n_skipped": int(len(local) - n),
        "n_skipped_min_points": int(len(local) - n),
    }  # fmt: skip
    with_null = draw_sums is not None and m1 is not None and m2 is not None
    if with_null:
        out.update({f: None for f in NULL_FIELDS})
        out["null_draws"] = int(draw_sums.shape[1])
    if n < 2:
        return out
    y = local[ok]
    spread = float(np.std(y))
    out["mean"] = spread
    grand_var = 0.0
    if with_null:
        with np.errstate(invalid="ignore", divide="ignore"):
            ybar = draw_sums[0] / draw_sums[2]
            v_r = np.maximum(draw_sums[1] / draw_sums[2] - ybar**2, 0.0)
        good = np.isfinite(v_r)
        grand_var = grand_variance(draw_sums)
        null_spread = float(math.sqrt(np.mean(v_r[good]))) if good.any() else math.nan
        out["null_mean"] = _num(null_spread)
        out["excess"] = _num(spread - null_spread)
        s_r = np.sqrt(v_r[good])
        out["null_sd"] = float(np.std(s_r, ddof=1)) if len(s_r) > 1 else None
        out["p_excess"] = _p_excess(s_r, spread)
    if blocks is None or bootstrap == 0:
        return out
    cols = [y, y * y]
    if with_null:
        cols += [m1[ok], m2[ok]]
    table = _block_table(blocks.ids[ok], cols)
    out["n_blocks"] = int(table.shape[0])
    b_eff = effective_blocks(table[:, 0])
    if table.shape[0] < 2 or b_eff < 1.5:
        return out
    rep = resampled_sums(table, bootstrap, seed)
    obs = np.sqrt(_variance(rep, 1))
    out["ci_low"], out["ci_high"] = map(_num, expanded_percentile(obs, b_eff, ci))
    if with_null:
        exc = obs - np.sqrt(_null_variance(rep, 3, grand_var))
        out["excess_ci_low"], out["excess_ci_high"] = map(_num, expanded_percentile(exc, b_eff, ci))
    return out


def spread_pair(
    a: dict[str, np.ndarray],
    b: dict[str, np.ndarray],
    blocks: np.ndarray,
    *,
    grand_var: tuple[float, float] = (0.0, 0.0),
    bootstrap: int,
    ci: float,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """Paired block-bootstrap differences of the spread (and its excess) of two models.

    Parameters
    ----------
    a, b : dict of str to ndarray
        Per centre (same centres): ``local`` and, for the excess, ``m1`` and ``m2``.
    blocks : ndarray of int
        Block of each centre.
    grand_var : tuple of float
        Each model's variance over draws of the mean local performance.
    bootstrap, ci, seed
        See :func:`pygbs.inference.bootstrap.block_bootstrap`.

    Returns
    -------
    dict
        ``{"spread": {...}, "spread_excess": {...}}`` (the latter only with null moments),
        each with ``diff``, ``ci_low``, ``ci_high``, ``p_value``, ``n_centres``, ``n_blocks``.
    """
    ok = np.isfinite(a["local"]) & np.isfinite(b["local"])
    with_null = all(k in a and k in b for k in ("m1", "m2"))
    cols = []
    for d in (a, b):
        y = d["local"][ok]
        cols += [y, y * y]
        if with_null:
            cols += [d["m1"][ok], d["m2"][ok]]
    if ok.sum() < 2:
        return {}
    table = _block_table(np.asarray(blocks)[ok], cols)
    width = 4 if with_null else 2  # columns per model after the count: y, y^2 (, m1, m2)
    full = table.sum(axis=0)

    def stats(sums: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        sa = np.concatenate([sums[..., :1], sums[..., 1 : 1 + width]], axis=-1)
        sb = np.concatenate([sums[..., :1], sums[..., 1 + width :]], axis=-1)
        out["spread"] = np.sqrt(_variance(sa, 1)) - np.sqrt(_variance(sb, 1))
        if with_null:
            ea = np.sqrt(_variance(sa, 1)) - np.sqrt(_null_variance(sa, 3, grand_var[0]))
            eb = np.sqrt(_variance(sb, 1)) - np.sqrt(_null_variance(sb, 3, grand_var[1]))
            out["spread_excess"] = ea - eb
        return out

    est = stats(full)
    b_eff = effective_blocks(table[:, 0])
    reps = stats(resampled_sums(table, bootstrap, seed)) if bootstrap and b_eff >= 1.5 else {}
    res = {}
    for key, value in est.items():
        row = {"diff": float(value), "ci_low": None, "ci_high": None, "p_value": None,
               "n_centres": int(ok.sum()), "n_blocks": int(table.shape[0])}  # fmt: skip
        if key in reps:
            rep = reps[key]
            row["ci_low"], row["ci_high"] = map(_num, expanded_percentile(rep, b_eff, ci))
            from scipy.special import stdtr

            dof = b_eff - 1.0
            se = float(np.std(rep, ddof=1)) * math.sqrt(b_eff / dof)
            row["p_value"] = float(2.0 * stdtr(dof, -abs(float(value)) / se)) if se > 0 else None
        res[key] = row
    return res
