"""Debiasing methods besides the geo-bias loss: re-weighting, group DRO, importance weights.

``reweight`` and ``group-dro`` work on equal-area cells of the training locations (HEALPix
cells at least ``cell_km`` wide, :func:`pygbs.inference.bootstrap.make_blocks`); all three
work on the task's per-sample loss (:meth:`encoders.tasks.Task.per_sample_loss`). A
training step's objective is the task loss plus ``λ`` times the method's term
(docs/debiasing.md):

* ``reweight``: inverse-density re-weighting, ``mean_i w_i l_i`` over the batch with
  ``w_i = n / (K n_{cell(i)})`` (:func:`inverse_density_weights`: every occupied cell
  carries the same total weight, the weights average 1 over the training split);
* ``group-dro``: group DRO over the cells (Sagawa et al. 2020, "Distributionally robust
  neural networks"), ``Σ_g q_g L_g / Σ_g q_g`` over the groups ``g`` present in the batch,
  ``L_g`` their mean loss; after each step the weights move by exponentiated gradient,
  ``q_g <- q_g exp(η L_g)``, then ``q <- q / Σ q`` (:class:`GroupDRO`);
* ``importance``: importance re-weighting towards where the model is used,
  ``mean_i w_i l_i`` with ``w_i = p_target(x_i) / p_train(x_i)``, both densities spherical
  kernel density estimates of bandwidth ``bandwidth_km`` (:func:`density_ratio_weights`; the
  trainer's target is the test split's locations, never its labels).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from pygbs.geo.geometry import unit_vectors
from pygbs.geo.scales import EARTH_RADIUS_KM

__all__ = [
    "DEBIAS_METHODS",
    "GroupDRO",
    "density_ratio_weights",
    "equal_area_cells",
    "inverse_density_weights",
    "kde_density",
]

#: The methods of ``Trainer(debias_method=...)`` / ``--debias-method``.
DEBIAS_METHODS = ("geobias-loss", "reweight", "group-dro", "importance")

#: Largest importance weight, relative to their mean (:func:`density_ratio_weights`).
MAX_IMPORTANCE_WEIGHT = 50.0


def equal_area_cells(lonlat: np.ndarray, cell_km: float) -> np.ndarray:
    """Equal-area cell of each location: ids ``0 .. K-1`` over the occupied cells.

    Parameters
    ----------
    lonlat : ndarray of shape (n, 2)
        (longitude, latitude) in degrees.
    cell_km : float
        Smallest cell side in km (the finest HEALPix resolution whose cells are at least
        this wide).

    Returns
    -------
    ndarray of shape (n,), int64
    """
    from pygbs.inference.bootstrap import make_blocks

    lonlat = np.asarray(lonlat, dtype=np.float64)
    return make_blocks(lonlat[:, 0], lonlat[:, 1], float(cell_km)).ids


def inverse_density_weights(cells: np.ndarray) -> np.ndarray:
    """Per-sample weights inversely proportional to the sample count of its cell.

    ``w_i = n / (K n_c)`` for a sample in cell ``c`` holding ``n_c`` of the ``n`` samples,
    ``K`` the number of occupied cells: each cell's weights sum to ``n / K`` and all
    weights to ``n`` (mean 1).

    Parameters
    ----------
    cells : ndarray of int, shape (n,)
        Cell of each sample (:func:`equal_area_cells`).

    Returns
    -------
    ndarray of shape (n,), float64
    """
    _, inv, counts = np.unique(np.asarray(cells), return_inverse=True, return_counts=True)
    n, k = inv.shape[0], counts.shape[0]
    return n / (k * counts[inv].astype(np.float64))


def kde_density(points: np.ndarray, at: np.ndarray, bandwidth_km: float) -> np.ndarray:
    """Spherical kernel density of ``points`` at the locations ``at``.

    A Gaussian kernel of the chord between unit vectors (within 1 % of the great-circle
    distance up to 2,000 km) with standard deviation ``bandwidth_km``, summed with
    scikit-learn's k-d tree to a relative tolerance of 1 %. The values are proportional to
    the density per unit area with the same constant for every call of the same
    bandwidth, so ratios of two such densities are what they estimate.

    Parameters
    ----------
    points : ndarray of shape (m, 2)
        The sample, (longitude, latitude) in degrees.
    at : ndarray of shape (n, 2)
        Where to evaluate the density, (longitude, latitude) in degrees.
    bandwidth_km : float
        Kernel standard deviation in km (> 0).

    Returns
    -------
    ndarray of shape (n,), float64
        Mean kernel value over ``points``, > 0 up to underflow far from every point.
    """
    from sklearn.neighbors import KernelDensity

    if not bandwidth_km > 0:
        raise ValueError(f"the bandwidth must be > 0 km; got {bandwidth_km!r}")
    kde = KernelDensity(
        bandwidth=float(bandwidth_km) / EARTH_RADIUS_KM, kernel="gaussian",
        algorithm="kd_tree", rtol=0.01,
    )  # fmt: skip
    points = np.asarray(points, dtype=np.float64)
    kde.fit(unit_vectors(points[:, 0], points[:, 1]))
    at = np.asarray(at, dtype=np.float64)
    return np.exp(kde.score_samples(unit_vectors(at[:, 0], at[:, 1])))


def density_ratio_weights(
    train: np.ndarray,
    target: np.ndarray,
    bandwidth_km: float,
    max_weight: float = MAX_IMPORTANCE_WEIGHT,
) -> np.ndarray:
    """Importance weights ``p_target(x) / p_train(x)`` of the training locations.

    Both densities are :func:`kde_density` with the same bandwidth, evaluated at the
    training locations: samples where the target (where the model will be used) is denser
    than the training data count more. The ratios are normalised to mean 1, capped at
    ``max_weight`` and normalised again (the cap bounds the variance a few isolated
    samples would add).

    Parameters
    ----------
    train : ndarray of shape (n, 2)
        Training locations (degrees).
    target : ndarray of shape (m, 2)
        Locations of the target distribution (e.g. unlabelled locations where the model is
        used).
    bandwidth_km : float
        Kernel standard deviation in km.
    max_weight : float, default=50
        Largest weight relative to the mean (>= 1).

    Returns
    -------
    ndarray of shape (n,), float64
        Positive weights with mean 1 (a training sample without a location gets the mean
        weight before the cap).
    """
    if not max_weight >= 1:
        raise ValueError(f"max_weight must be >= 1; got {max_weight!r}")
    train = np.asarray(train, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    target = target[np.isfinite(target).all(axis=1)]
    located = np.isfinite(train).all(axis=1)
    if not located.any() or not len(target):
        raise ValueError("importance weights need located training and target samples")
    p_train = kde_density(train[located], train[located], bandwidth_km)
    p_target = kde_density(target, train[located], bandwidth_km)
    tiny = np.finfo(np.float64).tiny
    w = np.ones(train.shape[0])
    w[located] = np.maximum(p_target, tiny) / np.maximum(p_train, tiny)
    w[located] /= w[located].mean()  # a sample without a location keeps the mean weight
    w = np.minimum(w, float(max_weight))
    return w / w.mean()


class GroupDRO:
    """Online group DRO weights over groups (Sagawa et al. 2020), one update per step.

    Parameters
    ----------
    n_groups : int
        Number of groups (ids ``0 .. n_groups-1``).
    step : float
        Step size ``η`` of the exponentiated-gradient update (> 0).

    Attributes
    ----------
    q : torch.Tensor
        ``(n_groups,)`` float64 weights, summing to 1 (uniform at the start).
    """

    def __init__(self, n_groups: int, step: float) -> None:
        if int(n_groups) < 1:
            raise ValueError(f"group DRO needs at least one group; got {n_groups!r}")
        if not step > 0:
            raise ValueError(f"the group DRO step must be > 0; got {step!r}")
        self.step = float(step)
        self.q = torch.full((int(n_groups),), 1.0 / int(n_groups), dtype=torch.float64)

    def __call__(self, losses: Tensor, groups: Tensor) -> Tensor:
        """Update the weights with one batch and return the batch's robust loss.

        Parameters
        ----------
        losses : torch.Tensor
            ``(b,)`` per-sample losses.
        groups : torch.Tensor
            ``(b,)`` int64 group of each sample.

        Returns
        -------
        torch.Tensor
            ``Σ_g q_g L_g / Σ_g q_g`` over the groups present, with the updated weights
            (no gradient through them).
        """
        g = groups.to(losses.device)
        n = self.q.shape[0]
        sums = torch.zeros(n, dtype=losses.dtype, device=losses.device).index_add(0, g, losses)
        counts = torch.bincount(g, minlength=n).to(losses.dtype)
        present = counts > 0
        group_loss = sums[present] / counts[present]
        q = self.q.to(losses.device)
        q[present] = q[present] * torch.exp(self.step * group_loss.detach().double())
        q = q / q.sum()
        self.q = q.cpu()
        w = q[present].to(losses.dtype)
        return (w * group_loss).sum() / w.sum()

    def state(self) -> dict[str, Any]:
        """The weights, for a checkpoint."""
        return {"q": self.q.clone()}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore the weights of :meth:`state`."""
        self.q = state["q"].clone().double().cpu()
