"""Base class of the position encodings (PE): validated degrees in, features out."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["DEG2RAD", "PositionEncoding", "compute_dtype"]

#: Degrees to radians.
DEG2RAD = math.pi / 180.0


def compute_dtype(device: torch.device) -> torch.dtype:
    """Dtype in which angles are computed: float64, except on devices without it (MPS).

    Angles reach ``omega_0 * 180`` (e.g. 3.6e4 rad for Space2Vec with r_min = 0.005 deg);
    in float32 their sines are off by up to ~2e-3 (docs/encoders/index.md), hence float64.
    """
    return torch.float32 if device.type == "mps" else torch.float64


class PositionEncoding(nn.Module):
    """A position encoding ``PE(x)`` of (lon, lat) degrees.

    Subclasses set :attr:`pe_dim` and implement :meth:`encode`, which receives a validated
    ``(..., 2)`` tensor of (lon, lat) in degrees (longitudes in ``[-180, 180]``) already
    converted to the compute dtype (float64) and returns ``(..., pe_dim)`` in that dtype.
    :meth:`forward` casts the result back to the input's dtype.

    Attributes
    ----------
    pe_dim : int
        Output dimension.
    differentiable : bool
        Whether gradients flow from the PE back to the coordinates (False for lookup tables).
    """

    pe_dim: int
    differentiable: bool = True

    def encode(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        """Compute the PE of validated degrees ``x`` (compute dtype); see class docstring."""
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """PE of a validated ``(..., 2)`` (lon, lat) degree tensor, in ``x.dtype``."""
        out = self.encode(x.to(compute_dtype(x.device)))
        return out.to(x.dtype)

    def extra_repr(self) -> str:
        """Summary shown by ``repr``."""
        return f"pe_dim={self.pe_dim}"
