"""Benjamini-Hochberg false discovery rate control of per-centre p-values."""

from __future__ import annotations

import numpy as np

__all__ = ["fdr_q_values"]


def fdr_q_values(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of per-centre p-values (NaN where p is NaN).

    The operations of ``scipy.stats.false_discovery_control(p, method="bh")`` (equal
    values, tested), without importing scipy.stats: sorted ``p`` times ``m / rank``, the
    running minimum from the largest down, clipped to [0, 1].
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = _bh(np.clip(p[ok], 0.0, 1.0))
    return q


def _bh(p: np.ndarray) -> np.ndarray:
    m = p.shape[0]
    if m <= 1:
        return p
    order = np.argsort(p)
    adj = p[order] * (m / np.arange(1, m + 1, dtype=np.float64))
    np.minimum.accumulate(adj[::-1], out=adj[::-1])
    out = np.empty_like(adj)
    out[order] = adj
    return np.clip(out, 0.0, 1.0)
