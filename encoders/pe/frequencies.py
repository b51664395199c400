"""Frequency (scale) lists shared by the multi-scale position encodings.

All lists are returned as Python floats computed in float64; :class:`FrequencyCache` turns
them into float64 tensors on the device that needs them (never stored as module buffers, so
``module.float()`` cannot silently reduce their precision).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "FrequencyCache",
    "geometric_frequencies",
    "max_only_frequencies",
    "nerf_frequencies",
]


def _check_count(frequency_num: int, name: str = "frequency_num") -> int:
    if isinstance(frequency_num, bool) or int(frequency_num) != frequency_num:
        raise TypeError(f"{name} must be an integer; got {frequency_num!r}")
    if frequency_num < 1:
        raise ValueError(f"{name} must be >= 1; got {frequency_num!r}")
    return int(frequency_num)


def geometric_frequencies(frequency_num: int, min_radius: float, max_radius: float) -> list[float]:
    """Geometric scale list of Space2Vec / Sphere2Vec (``freq_init="geometric"``).

    ``rho_s = min_radius * (max_radius / min_radius) ** (s / (S - 1))`` and
    ``omega_s = 1 / rho_s`` for ``s = 0..S-1``: descending, ``omega_0 = 1 / min_radius`` is the
    highest frequency. With ``S = 1`` the single frequency is ``1 / min_radius``.

    Parameters
    ----------
    frequency_num : int
        Number of scales ``S`` (>= 1).
    min_radius, max_radius : float
        Smallest and largest scale, ``0 < min_radius <= max_radius``. Units are those of the
        angle the frequency multiplies (degrees for Space2Vec, radians for Sphere2Vec).

    Returns
    -------
    list of float
        ``[omega_0, ..., omega_{S-1}]``.
    """
    s_num = _check_count(frequency_num)
    if not (min_radius > 0 and max_radius > 0):
        raise ValueError(
            f"min_radius and max_radius must be > 0; got min_radius={min_radius!r}, "
            f"max_radius={max_radius!r}"
        )
    if min_radius > max_radius:
        raise ValueError(
            f"min_radius must be <= max_radius; got min_radius={min_radius!r}, "
            f"max_radius={max_radius!r}"
        )
    if s_num == 1:
        return [1.0 / float(min_radius)]
    step = math.log(float(max_radius) / float(min_radius)) / (s_num - 1)
    return [1.0 / (float(min_radius) * math.exp(s * step)) for s in range(s_num)]


def max_only_frequencies(frequency_num: int, max_radius: float) -> list[float]:
    """Scale list of Sphere2Vec-sphereM+ and -dfs as implemented by TorchSpatial (parity).

    ``omega_s = max_radius ** (-s / (S - 1))``; ``min_radius`` plays no role. With
    ``max_radius = 1`` (every TorchSpatial run) all frequencies are 1 (quirk Q5 in
    docs/encoders/index.md).

    Parameters
    ----------
    frequency_num : int
        Number of scales ``S`` (>= 1).
    max_radius : float
        Largest scale (> 0).

    Returns
    -------
    list of float
        ``[omega_0, ..., omega_{S-1}]``; ``[1.0]`` when ``S = 1``.
    """
    s_num = _check_count(frequency_num)
    if not max_radius > 0:
        raise ValueError(f"max_radius must be > 0; got {max_radius!r}")
    if s_num == 1:
        return [1.0]
    return [float(max_radius) ** (-s / (s_num - 1)) for s in range(s_num)]


def nerf_frequencies(num: int) -> list[float]:
    """NeRF frequencies ``omega_l = pi * 2**l`` for ``l = 0..num-1``.

    Parameters
    ----------
    num : int
        Number of frequencies ``L`` (TorchSpatial always uses 16).

    Returns
    -------
    list of float
    """
    n = _check_count(num, "num")
    return [math.pi * 2.0**l for l in range(n)]


class FrequencyCache:
    """A frequency list materialised as float64 tensors, one per device (cached).

    Parameters
    ----------
    values : sequence of float
        The frequencies.
    """

    def __init__(self, values: list[float]) -> None:
        self.values = [float(v) for v in values]
        self._cache: dict[tuple[torch.device, torch.dtype], Tensor] = {}

    def __len__(self) -> int:
        return len(self.values)

    def get(self, device: torch.device, dtype: torch.dtype = torch.float64) -> Tensor:
        """The frequencies as a 1-D tensor on ``device`` (float64 unless ``dtype`` says)."""
        key = (device, dtype)
        t = self._cache.get(key)
        if t is None:
            t = torch.tensor(self.values, dtype=dtype, device=device)
            self._cache[key] = t
        return t
