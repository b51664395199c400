"""Debiasing methods besides the geo-bias loss: re-weighting and group DRO over cells.

Both work on equal-area cells of the training locations (HEALPix cells at least
``cell_km`` wide, :func:`pygbs.inference.bootstrap.make_blocks`) and on the task's per-sample loss
(:meth:`encoders.tasks.Task.per_sample_loss`). A training step's objective is the task
loss plus ``λ`` times the method's term (docs/debiasing.md):

* ``reweight``: inverse-density re-weighting, ``mean_i w_i l_i`` over the batch with
  ``w_i = n / (K n_{cell(i)})`` (:func:`inverse_density_weights`: every occupied cell
  carries the same total weight, the weights average 1 over the training split);
* ``group-dro``: group DRO over the cells (Sagawa et al. 2020, "Distributionally robust
  neural networks"), ``Σ_g q_g L_g / Σ_g q_g`` over the groups ``g`` present in the batch,
  ``L_g`` their mean loss; after each step the weights move by exponentiated gradient,
  ``q_g <- q_g exp(η L_g)``, then ``q <- q / Σ q`` (:class:`GroupDRO`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["DEBIAS_METHODS", "GroupDRO", "equal_area_cells", "inverse_density_weights"]

#: The methods of ``Trainer(debias_method=...)`` / ``--debias-method``.
DEBIAS_METHODS = ("geobias-loss", "reweight", "group-dro")


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
