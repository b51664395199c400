"""Dataset-level aggregates of per-centre scores, and the Benjamini-Hochberg q-values.

:func:`aggregate` turns one score's per-centre values at one scale into the numbers of
``summary.json`` (the headline mean with its block-bootstrap interval, the shares of
significant centres, ...; docs/method.md, D6).
"""

from __future__ import annotations

import math

import numpy as np

from pygbs.inference.bootstrap import DEFAULT_BOOTSTRAP, DEFAULT_CI, Blocks, block_bootstrap
from pygbs.inference.fdr import fdr_q_values

__all__ = ["aggregate", "fdr_q_values"]


def aggregate(
    scores: np.ndarray,
    sizes: np.ndarray,
    p: np.ndarray | None,
    alpha: float,
    blocks: Blocks | None = None,
    *,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    ci: float = DEFAULT_CI,
    seed: int = 0,
) -> dict[str, float | int | None]:
    """Dataset-level aggregates of one score at one scale (docs/method.md).

    Parameters
    ----------
    scores : ndarray
        Per-centre scores (NaN = not scored).
    sizes : ndarray
        Neighbourhood sizes (weights of the weighted mean).
    p : ndarray or None
        Per-centre p-values, if the score has them.
    alpha : float
        Significance level of ``share_significant`` and ``share_significant_fdr``.
    blocks : Blocks, optional
        Equal-area blocks of the centres for the interval of the mean (none: no interval).
    bootstrap : int, default=1000
        Block-bootstrap replicates (0: no interval).
    ci : float, default=0.95
        Level of the interval.
    seed : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``mean`` (the headline Geo-Bias Score), ``ci_low``, ``ci_high`` (spatial block
        bootstrap), ``block_km``, ``n_blocks``, ``weighted_mean``, ``median``,
        ``share_significant`` (p < alpha; None without p-values),
        ``share_significant_fdr`` (Benjamini-Hochberg q < alpha), ``n_scored``,
        ``n_skipped``.
    """
    ok = np.isfinite(scores)
    n = int(ok.sum())
    out: dict[str, float | int | None] = {"n_scored": n, "n_skipped": int(len(scores) - n)}
    out.update(
        mean=None,
        ci_low=None,
        ci_high=None,
        block_km=None if blocks is None else blocks.block_km,
        n_blocks=None,
        weighted_mean=None,
        median=None,
        share_significant=None,
        share_significant_fdr=None,
    )
    if n == 0:
        return out
    s, w = scores[ok], sizes[ok].astype(float)
    out["mean"] = float(s.mean())
    if blocks is not None:
        est = block_bootstrap(scores, blocks.ids, n_boot=bootstrap, ci=ci, seed=seed)
        out["n_blocks"] = est.n_blocks
        if math.isfinite(est.ci_low):
            out["ci_low"], out["ci_high"] = est.ci_low, est.ci_high
    out["weighted_mean"] = float((s * w).sum() / w.sum()) if w.sum() > 0 else None
    out["median"] = float(np.median(s))
    if p is not None:
        out["share_significant"] = float((p[ok] < alpha).mean())
        out["share_significant_fdr"] = float((fdr_q_values(p[ok]) < alpha).mean())
    return out
