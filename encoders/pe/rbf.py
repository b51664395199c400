"""Gaussian radial-basis-function position encoding (``rbf``, Space2Vec baseline).

The kernel lives in raw degree space: plain Euclidean distance on (lon, lat), no wrap at the
antimeridian and no ``cos(lat)`` scaling, as in TorchSpatial. Anchors are a buffer, so they are
saved with the model (the reference re-draws them, Q11).
"""

from __future__ import annotations

import torch
from torch import Tensor

from encoders._validation import check_lonlat
from encoders.pe.base import PositionEncoding

__all__ = ["RBFPE", "rbf_anchors_from", "uniform_sphere_anchors"]


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def uniform_sphere_anchors(n: int, seed: int = 0) -> Tensor:
    """``n`` points drawn uniformly on the sphere, as (lon, lat) degrees (float64, CPU).

    Parameters
    ----------
    n : int
        Number of anchors (>= 1).
    seed : int, default=0
        Seed of the generator.

    Returns
    -------
    torch.Tensor
        ``(n, 2)`` float64.
    """
    if n < 1:
        raise ValueError(f"num_rbf_anchor_pts must be >= 1; got {n!r}")
    u = torch.rand(n, 2, generator=_generator(seed), dtype=torch.float64)
    lon = 360.0 * u[:, 0] - 180.0
    lat = torch.rad2deg(torch.asin(2.0 * u[:, 1] - 1.0))
    return torch.stack([lon, lat], -1)


def rbf_anchors_from(lonlat: Tensor | object, n: int, seed: int = 0) -> Tensor:
    """Sample ``n`` rows of training locations, uniformly without replacement, as rbf anchors.

    This is TorchSpatial's ``sample_rbf_anchor_pts``, but seeded.

    Parameters
    ----------
    lonlat : torch.Tensor or array_like
        ``(n_samples, 2)`` training locations, (lon, lat) degrees.
    n : int
        Number of anchors ``M`` (<= n_samples).
    seed : int, default=0
        Seed of the draw.

    Returns
    -------
    torch.Tensor
        ``(n, 2)`` float64 anchors on the CPU (longitudes wrapped to [-180, 180]).
    """
    x = check_lonlat(lonlat).detach()
    if x.ndim != 2:
        raise ValueError(f"lonlat must have shape (n_samples, 2); got {tuple(x.shape)}")
    if not 1 <= n <= x.shape[0]:
        raise ValueError(f"n must be in [1, {x.shape[0]}] (the number of rows); got {n!r}")
    idx = torch.randperm(x.shape[0], generator=_generator(seed))[:n]
    return x.cpu().to(torch.float64)[idx]


class RBFPE(PositionEncoding):
    """``PE_j = exp(-||x - a_j||^2 / (2 sigma^2))`` over ``M`` anchors, in degree space.

    Parameters
    ----------
    anchors : torch.Tensor
        ``(M, 2)`` anchors, (lon, lat) degrees. Stored as the buffer ``anchors``.
    kernel_size : float
        ``sigma`` in degrees (TorchSpatial ``rbf_kernel_size``).
    """

    def __init__(self, anchors: Tensor, kernel_size: float) -> None:
        super().__init__()
        a = check_lonlat(anchors).detach().to(torch.float64)
        if a.ndim != 2:
            raise ValueError(f"rbf_anchors must have shape (M, 2); got {tuple(a.shape)}")
        if not kernel_size > 0:
            raise ValueError(f"rbf_kernel_size must be > 0; got {kernel_size!r}")
        self.register_buffer("anchors", a.clone())
        self.kernel_size = float(kernel_size)
        self.pe_dim = a.shape[0]

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring."""
        a = self.anchors.to(x.dtype)
        # ||x - a||^2 = ||x||^2 + ||a||^2 - 2 x.a: one matmul instead of a (..., M, 2)
        # difference tensor; in float64 the cancellation error is ~1e-11 deg^2 (|x| <= 202)
        d2 = x.square().sum(-1, keepdim=True) + a.square().sum(-1) - 2.0 * (x @ a.T)
        return torch.exp(d2.clamp_min(0.0) * (-0.5 / self.kernel_size**2))

    def extra_repr(self) -> str:
        """Summary shown by ``repr``."""
        return f"pe_dim={self.pe_dim}, kernel_size={self.kernel_size}"
