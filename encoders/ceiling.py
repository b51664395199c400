"""The accuracy ceiling of synthetic-vmf-biased and -sparse, inside and outside the caps.

Three reference predictors, judged like the trained models (top-1 of the fused prediction
on the test split, docs/debiasing.md):

* ``location_posterior``: the *true* location posterior of the generator
  (:func:`encoders.data.synthetic_vmf.location_posterior`) fused the TorchSpatial way,
  ``image_probs * P(y | x)``: what a perfectly fitted, calibrated location prior would
  reach;
* ``loss_optimum``: the location prior that minimises the models' training loss
  (TorchSpatial's presence-only ``full_loss`` with its random background locations) in
  expectation over the training distribution, fused the same way: what a model trained
  with that loss reaches at best, however well it is fitted (:func:`loss_optimal_prior`);
* ``image_only``: the image model alone (what a model whose location prior says nothing
  is left with).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from encoders.data import GeoDataset
from encoders.data.synthetic_vmf import location_density, location_posterior, region_of

__all__ = ["ceiling_table", "loss_optimal_prior"]

#: Points of the Fibonacci lattice that integrates the location density over the caps.
_LATTICE = 2**18


def _fibonacci_lonlat(n: int) -> np.ndarray:
    """``n`` nearly evenly spread points on the sphere (lon, lat degrees), equal areas."""
    i = np.arange(n) + 0.5
    lat = np.degrees(np.arcsin(1.0 - 2.0 * i / n))
    lon = (np.degrees(np.pi * (1.0 + 5.0**0.5) * i) + 180.0) % 360.0 - 180.0
    return np.stack([lon, lat], axis=1)


def _train_rate(dataset: GeoDataset) -> float:
    """Share of the samples in the caps kept in training (1 where nothing is thinned)."""
    return float(dataset.info.get("train_region_rate", 1.0))


def loss_optimal_prior(
    dataset: GeoDataset, lonlat: np.ndarray, rand_sample_weight: float = 1.0
) -> np.ndarray:
    """The location prior that minimises ``full_loss`` in expectation (its population optimum).

    Per sample, ``full_loss`` adds ``-C log σ_y(x)`` for the true class, ``-log(1 - σ_c(x))``
    for the other classes at ``x`` and ``-w log(1 - σ_c(r))`` at a uniformly random location
    ``r`` (``C`` classes, ``w`` = ``rand_sample_weight``). With ``q`` the density of the
    training locations, ``u = 1 / 4π`` the uniform one and ``P`` the true posterior, the
    expected loss is minimised class by class and location by location at

    ``σ_c(x) = C q P_c / (C q P_c + q (1 - P_c) + w u)``.

    ``q`` is :func:`encoders.data.synthetic_vmf.location_density` thinned in the caps by
    ``train_region_rate`` (synthetic-vmf-sparse) and normalised again.

    Parameters
    ----------
    dataset : GeoDataset
        A synthetic-vmf-biased or synthetic-vmf-sparse dataset.
    lonlat : ndarray of shape (n, 2)
        Where to evaluate the prior (degrees).
    rand_sample_weight : float, default=1.0
        The background weight of the loss (``Trainer.rand_sample_weight``).

    Returns
    -------
    ndarray of shape (n, C), float64
        Presence probabilities in (0, 1) (rows need not sum to 1).
    """
    regions = dataset.info["regions"]
    rate = _train_rate(dataset)
    posterior = location_posterior(dataset, lonlat)
    density = location_density(dataset, lonlat)
    thin = np.where(region_of(lonlat, regions) >= 0, rate, 1.0)
    if rate < 1.0:
        grid = _fibonacci_lonlat(_LATTICE)
        in_caps = region_of(grid, regions) >= 0
        mass = float((location_density(dataset, grid) * in_caps).mean() * 4.0 * np.pi)
        q = thin * density / (1.0 - (1.0 - rate) * mass)
    else:
        q = density
    c = posterior.shape[1]
    q = q[:, None]
    pos = c * q * posterior
    return pos / (pos + q * (1.0 - posterior) + rand_sample_weight / (4.0 * np.pi))


def ceiling_table(dataset: GeoDataset, split: str = "test") -> pd.DataFrame:
    """Top-1 accuracy of the reference predictors inside, outside and over all the caps.

    Parameters
    ----------
    dataset : GeoDataset
        A synthetic-vmf-biased or synthetic-vmf-sparse dataset.
    split : {'test', 'val', 'train'}, default='test'
        The split judged.

    Returns
    -------
    pandas.DataFrame
        One row per predictor (``location_posterior``, ``loss_optimum``, ``image_only``)
        with ``top1_inside``, ``top1_outside``, ``top1`` (fractions), ``n_inside`` and
        ``n_outside``.
    """
    part = getattr(dataset, split)
    inside = region_of(part.lonlat, dataset.info["regions"]) >= 0
    image = part.image_probs.astype(np.float64)
    preds = {
        "location_posterior": image * location_posterior(dataset, part.lonlat),
        "loss_optimum": image * loss_optimal_prior(dataset, part.lonlat),
        "image_only": image,
    }
    rows = []
    for name, p in preds.items():
        hit = p.argmax(axis=1) == part.label
        rows.append(
            {
                "predictor": name,
                "top1_inside": float(hit[inside].mean()) if inside.any() else np.nan,
                "top1_outside": float(hit[~inside].mean()) if (~inside).any() else np.nan,
                "top1": float(hit.mean()),
                "n_inside": int(inside.sum()),
                "n_outside": int((~inside).sum()),
            }
        )
    return pd.DataFrame(rows)
