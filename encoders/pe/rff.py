"""Random Fourier features (``rff``; Rahimi & Recht, NeurIPS 2007) on a normalised extent."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from encoders.pe.base import PositionEncoding
from encoders.pe.extent import check_map_range

__all__ = ["RFFPE"]


class RFFPE(PositionEncoding):
    """``PE = sqrt(2/D) cos(x_tilde W + b)`` with seeded ``W ~ N(0, v I)``, ``b ~ U(0, 2 pi)``.

    ``x_tilde`` maps the extent ``map_range`` to ``[-1, 1]^2``. As in TorchSpatial the
    ``rbf_kernel_size`` ``v`` is the *variance* of the frequencies (Q10).

    Parameters
    ----------
    frequency_num : int
        Number of features ``D``.
    variance : float
        Variance ``v`` of each entry of ``W``.
    map_range : sequence of 4 floats
        ``(x_min, x_max, y_min, y_max)`` in degrees.
    seed : int
        Seed of the draw of ``W`` (buffer ``dirvec``, shape ``(2, D)``) and ``b`` (buffer
        ``shift``, shape ``(D,)``).
    """

    def __init__(
        self, frequency_num: int, variance: float, map_range: Sequence[float], seed: int
    ) -> None:
        super().__init__()
        if int(frequency_num) != frequency_num or frequency_num < 1:
            raise ValueError(f"frequency_num must be a positive integer; got {frequency_num!r}")
        if not variance > 0:
            raise ValueError(f"rbf_kernel_size (rff variance) must be > 0; got {variance!r}")
        self.map_range = check_map_range(map_range)
        d = int(frequency_num)
        gen = torch.Generator().manual_seed(int(seed))
        w = torch.randn(2, d, generator=gen, dtype=torch.float64) * math.sqrt(variance)
        b = torch.rand(d, generator=gen, dtype=torch.float64) * (2.0 * math.pi)
        self.register_buffer("dirvec", w)
        self.register_buffer("shift", b)
        self.pe_dim = d

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring."""
        x_min, x_max, y_min, y_max = self.map_range
        lo = torch.tensor([x_min, y_min], dtype=x.dtype, device=x.device)
        span = torch.tensor([x_max - x_min, y_max - y_min], dtype=x.dtype, device=x.device)
        xt = 2.0 * (x - lo) / span - 1.0
        proj = xt @ self.dirvec.to(x.dtype) + self.shift.to(x.dtype)
        return math.sqrt(2.0 / self.pe_dim) * proj.cos()
