"""Mac Aodha et al. (ICCV 2019) ``encode_cos_sin`` location features (``wrap``, ``wrap_ffn``)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from encoders.pe.base import PositionEncoding

__all__ = ["WrapPE"]


class WrapPE(PositionEncoding):
    """``[sin(pi lon/180), sin(pi lat/90), cos(pi lon/180), cos(pi lat/90)]`` (dimension 4).

    Latitude is scaled by ``pi/90``: the features hold ``sin 2 phi``, ``cos 2 phi``, so both
    poles map to the same vector (as in the reference, Q12).
    """

    pe_dim = 4

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring."""
        a = x * torch.tensor([math.pi / 180.0, math.pi / 90.0], dtype=x.dtype, device=x.device)
        return torch.cat([a.sin(), a.cos()], -1)
