"""Space2Vec position encodings: ``grid`` and ``theory`` (Mai et al., ICLR 2020).

Both work on raw degrees (the scale list's radii are degrees too).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from encoders.pe.base import PositionEncoding
from encoders.pe.frequencies import FrequencyCache, geometric_frequencies

__all__ = ["GridCellPE", "TheoryGridCellPE"]

_SQRT3_2 = math.sqrt(3.0) / 2.0


class GridCellPE(PositionEncoding):
    """Space2Vec-grid: ``sin/cos(omega_s * c)`` for c in (lon, lat) degrees.

    Layout: index ``(c * S + s) * 2 + k`` with c in {0: lon, 1: lat}, k in {0: sin, 1: cos};
    dimension ``4 S``.

    Parameters
    ----------
    frequency_num : int
        Number of scales ``S``.
    min_radius, max_radius : float
        Smallest / largest scale in degrees (geometric list).
    """

    def __init__(self, frequency_num: int, min_radius: float, max_radius: float) -> None:
        super().__init__()
        self.freqs = FrequencyCache(geometric_frequencies(frequency_num, min_radius, max_radius))
        self.pe_dim = 4 * len(self.freqs)

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring."""
        ang = x[..., :, None] * self.freqs.get(x.device, x.dtype)  # (..., 2, S)
        return torch.stack([ang.sin(), ang.cos()], dim=-1).flatten(-3)


class TheoryGridCellPE(PositionEncoding):
    """Space2Vec-theory: three projections 120 degrees apart, ``sin/cos(omega_s * a_j)``.

    ``a_1 = lon``, ``a_2 = -lon/2 + (sqrt 3/2) lat``, ``a_3 = -lon/2 - (sqrt 3/2) lat`` (degrees).
    Layout: index ``6 s + 2 j + k``; dimension ``6 S``.

    Parameters
    ----------
    frequency_num : int
        Number of scales ``S``.
    min_radius, max_radius : float
        Smallest / largest scale in degrees (geometric list).
    """

    def __init__(self, frequency_num: int, min_radius: float, max_radius: float) -> None:
        super().__init__()
        self.freqs = FrequencyCache(geometric_frequencies(frequency_num, min_radius, max_radius))
        self.pe_dim = 6 * len(self.freqs)

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring."""
        lon, lat = x[..., 0], x[..., 1]
        a = torch.stack([lon, -0.5 * lon + _SQRT3_2 * lat, -0.5 * lon - _SQRT3_2 * lat], -1)
        ang = self.freqs.get(x.device, x.dtype)[:, None] * a[..., None, :]  # (..., S, 3)
        return torch.stack([ang.sin(), ang.cos()], dim=-1).flatten(-3)
