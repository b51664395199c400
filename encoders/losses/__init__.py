"""Training losses; every name below is importable from ``encoders.losses``.

* :mod:`encoders.losses.presence`: TorchSpatial's presence-only :func:`full_loss`, with
  background locations drawn uniformly on the sphere (:func:`random_lonlat`);
* :mod:`encoders.losses.geobias`: :class:`GeoBiasLoss`, a differentiable surrogate of a
  Geo-Bias Score (marked or performance SSI, SRI) of the model's soft per-sample
  performance, averaged over a random batch of centres, and its kinds
  (:data:`GEO_BIAS_KINDS`);
* :mod:`encoders.losses.batch`: :class:`GeoBatch`, the centres of one step and the rows
  they need;
* :mod:`encoders.losses.surrogate`: the differentiable per-centre statistics and
  :func:`soft_performance`, which turns model outputs into that performance
  (docs/debiasing.md).
"""

from __future__ import annotations

from encoders.losses.batch import GeoBatch
from encoders.losses.geobias import GEO_BIAS_KINDS, GeoBiasKind, GeoBiasLoss
from encoders.losses.presence import EPS, full_loss, random_lonlat
from encoders.losses.surrogate import soft_performance

__all__ = [
    "EPS",
    "GEO_BIAS_KINDS",
    "GeoBatch",
    "GeoBiasKind",
    "GeoBiasLoss",
    "full_loss",
    "random_lonlat",
    "soft_performance",
]
