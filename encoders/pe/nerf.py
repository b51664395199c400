"""NeRF position encoding (Mildenhall et al., ECCV 2020) applied to the unit-sphere xyz."""

from __future__ import annotations

import torch
from torch import Tensor

from encoders.pe.base import PositionEncoding
from encoders.pe.frequencies import FrequencyCache, nerf_frequencies
from encoders.pe.xyz import lonlat_to_xyz

__all__ = ["NERF_FREQUENCY_NUM", "NeRFPE"]

#: TorchSpatial always uses 16 NeRF frequencies (``--frequency_num`` is not passed, Q2).
NERF_FREQUENCY_NUM = 16


class NeRFPE(PositionEncoding):
    """NeRF PE of ``p = xyz(lon, lat)``: all sines, then all cosines.

    ``omega_l = pi 2^l``; index of ``sin(omega_l p_k)`` is ``k L + l`` and of the cosine
    ``3 L + k L + l``; dimension ``6 L`` (96 for ``L = 16``).

    Parameters
    ----------
    num_freqs : int, default=16
        ``L``. TorchSpatial always uses 16.
    """

    def __init__(self, num_freqs: int = NERF_FREQUENCY_NUM) -> None:
        super().__init__()
        self.freqs = FrequencyCache(nerf_frequencies(num_freqs))
        self.pe_dim = 6 * len(self.freqs)

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring."""
        ang = lonlat_to_xyz(x)[..., :, None] * self.freqs.get(x.device, x.dtype)  # (..., 3, L)
        return torch.cat([ang.sin().flatten(-2), ang.cos().flatten(-2)], -1)
