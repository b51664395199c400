"""Evaluation metrics: top-k accuracy and MRR (classification); R², MAE, RMSE (regression).

Ranks: the rank of the true class is ``1 + #{c : score_c > score_true}`` (ties are broken in
favour of the true class). A sample with a NaN score for any class (a diverged model) gets
the worst rank, the number of classes: a NaN score is never right. All metrics are
fractions (top-1 = 0.51, not 51 %).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "classification_metrics",
    "per_sample_classification",
    "regression_metrics",
    "true_class_rank",
]

#: Rows per chunk when ranking (bounds memory with many classes).
_CHUNK = 16_384


def true_class_rank(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Rank (1 = best) of the true class under ``scores``.

    Parameters
    ----------
    scores : ndarray of shape (n, C)
        Class scores (higher is better).
    labels : ndarray of shape (n,)
        True class ids.

    Returns
    -------
    ndarray of shape (n,), int64
        ``C`` (the worst rank) where a score of the sample is NaN.
    """
    scores = np.asarray(scores)
    labels = np.asarray(labels, dtype=np.int64)
    if scores.ndim != 2 or labels.shape != (scores.shape[0],):
        raise ValueError(
            f"scores must be (n, C) and labels (n,); got {scores.shape} and {labels.shape}"
        )
    ranks = np.empty(labels.shape[0], dtype=np.int64)
    for i in range(0, labels.shape[0], _CHUNK):
        s = scores[i : i + _CHUNK]
        lab = labels[i : i + _CHUNK]
        true = s[np.arange(s.shape[0]), lab]
        rank = 1 + (s > true[:, None]).sum(axis=1)
        if np.issubdtype(s.dtype, np.floating):
            rank[np.isnan(s).any(axis=1)] = s.shape[1]  # NaN compares false: never a hit
        ranks[i : i + _CHUNK] = rank
    return ranks


def per_sample_classification(scores: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Per-sample columns of the TorchSpatial export.

    Returns
    -------
    dict
        ``true_class_prob`` (the true class's score), ``reciprocal_rank``, ``hit@1``,
        ``hit@3`` (0/1 int64).
    """
    ranks = true_class_rank(scores, labels)
    true = np.asarray(scores)[np.arange(ranks.shape[0]), np.asarray(labels, dtype=np.int64)]
    return {
        "true_class_prob": true.astype(np.float64),
        "reciprocal_rank": 1.0 / ranks,
        "hit@1": (ranks <= 1).astype(np.int64),
        "hit@3": (ranks <= 3).astype(np.int64),
    }


def classification_metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Top-1, top-3 accuracy and mean reciprocal rank.

    Parameters
    ----------
    scores : ndarray of shape (n, C)
        Class scores (higher is better).
    labels : ndarray of shape (n,)
        True class ids.

    Returns
    -------
    dict
        ``top1``, ``top3``, ``mrr`` (fractions) and ``n``.
    """
    ranks = true_class_rank(scores, labels)
    return {
        "top1": float(np.mean(ranks <= 1)),
        "top3": float(np.mean(ranks <= 3)),
        "mrr": float(np.mean(1.0 / ranks)),
        "n": int(ranks.shape[0]),
    }


def regression_metrics(pred: np.ndarray, label: np.ndarray) -> dict[str, float]:
    """Coefficient of determination, mean absolute error and root mean squared error.

    Returns
    -------
    dict
        ``r2`` (1 − SS_res / SS_tot; NaN when the labels are constant), ``mae``, ``rmse``, ``n``.
    """
    pred = np.asarray(pred, dtype=np.float64).ravel()
    label = np.asarray(label, dtype=np.float64).ravel()
    if pred.shape != label.shape:
        raise ValueError(
            f"pred and label must have the same length; got {pred.shape}, {label.shape}"
        )
    err = pred - label
    ss_res = float(np.sum(err**2))
    ss_tot = float(np.sum((label - label.mean()) ** 2))
    return {
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "n": int(label.shape[0]),
    }
