"""The 3-D unit-sphere position encoding ``xyz``."""

from __future__ import annotations

import torch
from torch import Tensor

from encoders.pe.base import DEG2RAD, PositionEncoding

__all__ = ["XYZPE", "lonlat_to_xyz"]


def lonlat_to_xyz(x: Tensor) -> Tensor:
    """Unit vectors ``[cos phi cos lam, cos phi sin lam, sin phi]`` of (lon, lat) degrees.

    Parameters
    ----------
    x : torch.Tensor
        ``(..., 2)`` longitude, latitude in degrees.

    Returns
    -------
    torch.Tensor
        ``(..., 3)`` in the dtype of ``x``.
    """
    lam, phi = x[..., 0] * DEG2RAD, x[..., 1] * DEG2RAD
    cphi = phi.cos()
    return torch.stack([cphi * lam.cos(), cphi * lam.sin(), phi.sin()], -1)


class XYZPE(PositionEncoding):
    """``xyz``: the location as a point of the unit sphere (dimension 3)."""

    pe_dim = 3

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring."""
        return lonlat_to_xyz(x)
