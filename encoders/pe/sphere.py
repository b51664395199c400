"""Sphere2Vec position encodings (Mai et al., ISPRS J. P&RS 2023) and dfs.

sphereC, sphereC+, sphereM, sphereM+ and the Double-Fourier-Sphere baseline (dfs).

Angles are radians: ``lam = lon * pi / 180``, ``phi = lat * pi / 180``, and the scaled angles
``Lam_s = omega_s * lam``, ``Phi_s = omega_s * phi``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from encoders.pe.base import DEG2RAD, PositionEncoding, compute_dtype
from encoders.pe.frequencies import FrequencyCache, geometric_frequencies, max_only_frequencies

__all__ = ["SCALE_LISTS", "DFSPE", "SpherePE", "sphere_frequencies"]

#: Accepted values of the ``scales`` option.
SCALE_LISTS = ("geometric", "max_only")


def sphere_frequencies(
    frequency_num: int, min_radius: float, max_radius: float, scales: str
) -> list[float]:
    """Frequency list for a Sphere2Vec encoder.

    Parameters
    ----------
    frequency_num : int
        Number of scales ``S``.
    min_radius, max_radius : float
        Scale range (radians). ``min_radius`` is ignored by ``scales="max_only"``.
    scales : {'geometric', 'max_only'}
        ``'geometric'``: the Space2Vec list from ``1/min_radius`` down to ``1/max_radius``.
        ``'max_only'``: TorchSpatial's sphereM+/dfs list ``max_radius ** (-s/(S-1))``; with
        ``max_radius = 1`` every scale is 1 and a :class:`UserWarning` is emitted.

    Returns
    -------
    list of float
    """
    if scales == "geometric":
        return geometric_frequencies(frequency_num, min_radius, max_radius)
    if scales == "max_only":
        if max_radius == 1 and frequency_num > 1:
            warnings.warn(
                "scales='max_only' with max_radius=1 makes all frequencies 1 (TorchSpatial parity, "
                "quirk Q5 of the encoder zoo's documentation): the encoding repeats one block; "
                "pass scales='geometric' for a multi-scale encoding",
                UserWarning,
                stacklevel=5,
            )
        return max_only_frequencies(frequency_num, max_radius)
    raise ValueError(f"scales must be one of {SCALE_LISTS}; got {scales!r}")


def _terms_c(lam, phi, lam_s, phi_s):
    return [phi_s.sin(), phi_s.cos() * lam_s.cos(), phi_s.cos() * lam_s.sin()]


def _terms_c_plus(lam, phi, lam_s, phi_s):
    cp, cl, sl = phi_s.cos(), lam_s.cos(), lam_s.sin()
    return [phi_s.sin(), cp, sl, cl, cp * cl, cp * sl]


def _terms_m(lam, phi, lam_s, phi_s):
    cp_s, cphi = phi_s.cos(), phi.cos()
    return [phi_s.sin(), cp_s * lam.cos(), cphi * lam_s.cos(), cp_s * lam.sin(), cphi * lam_s.sin()]


def _terms_m_plus(lam, phi, lam_s, phi_s):
    cp_s, cl_s, sl_s, cphi = phi_s.cos(), lam_s.cos(), lam_s.sin(), phi.cos()
    return [
        phi_s.sin(),
        cp_s,
        sl_s,
        cl_s,
        cp_s * lam.cos(),
        cphi * cl_s,
        cp_s * lam.sin(),
        cphi * sl_s,
    ]


#: variant -> (per-scale terms, number of terms)
_VARIANTS: dict[str, tuple[Callable[..., list[Tensor]], int]] = {
    "sphereC": (_terms_c, 3),
    "sphereC+": (_terms_c_plus, 6),
    "sphereM": (_terms_m, 5),
    "sphereM+": (_terms_m_plus, 8),
}


class SpherePE(PositionEncoding):
    """Sphere2Vec sphereC / sphereC+ / sphereM / sphereM+ (scale-major layout).

    Per scale s the block is (docs/encoders/sphere2vec.md):

    * sphereC:  ``[sin Phi, cos Phi cos Lam, cos Phi sin Lam]`` (3 S)
    * sphereC+: ``[sin Phi, cos Phi, sin Lam, cos Lam, cos Phi cos Lam, cos Phi sin Lam]`` (6 S)
    * sphereM:  ``[sin Phi, cos Phi cos lam, cos phi cos Lam, cos Phi sin lam, cos phi sin Lam]``
      (5 S)
    * sphereM+: ``[sin Phi, cos Phi, sin Lam, cos Lam, cos Phi cos lam, cos phi cos Lam,
      cos Phi sin lam, cos phi sin Lam]`` (8 S)

    Parameters
    ----------
    variant : {'sphereC', 'sphereC+', 'sphereM', 'sphereM+'}
        Which encoding.
    frequency_num : int
        Number of scales ``S``.
    min_radius, max_radius : float
        Scale range in radians.
    scales : {'geometric', 'max_only'}
        Scale list, see :func:`sphere_frequencies`.
    """

    def __init__(
        self,
        variant: str,
        frequency_num: int,
        min_radius: float,
        max_radius: float,
        scales: str = "geometric",
    ) -> None:
        super().__init__()
        if variant not in _VARIANTS:
            raise ValueError(f"variant must be one of {tuple(_VARIANTS)}; got {variant!r}")
        self.variant = variant
        self._terms, n_terms = _VARIANTS[variant]
        self.freqs = FrequencyCache(
            sphere_frequencies(frequency_num, min_radius, max_radius, scales)
        )
        self.pe_dim = n_terms * len(self.freqs)

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring."""
        lam, phi = x[..., 0:1] * DEG2RAD, x[..., 1:2] * DEG2RAD  # (..., 1)
        w = self.freqs.get(x.device, x.dtype)
        terms = self._terms(lam, phi, lam * w, phi * w)  # each (..., S)
        return torch.stack([t.expand(*lam.shape[:-1], w.shape[0]) for t in terms], -1).flatten(-2)

    def extra_repr(self) -> str:
        """Summary shown by ``repr``."""
        return f"variant={self.variant!r}, pe_dim={self.pe_dim}"


class DFSPE(PositionEncoding):
    """Sphere2Vec-dfs (Double Fourier Sphere): outer product of lon and lat Fourier bases.

    ``A = [sin Lam_0..sin Lam_{S-1}, cos Lam_0..cos Lam_{S-1}]``, ``B`` likewise with ``Phi``;
    ``PE = vec(A B^T)`` (row-major, entry ``i * 2S + j = A_i B_j``) followed by
    ``[sin Phi_s, cos Phi_s, sin Lam_s, cos Lam_s]`` per scale. Dimension ``4 S^2 + 4 S``.

    Parameters
    ----------
    frequency_num : int
        Number of scales ``S``.
    min_radius, max_radius : float
        Scale range in radians (``min_radius`` unused with ``scales='max_only'``).
    scales : {'max_only', 'geometric'}
        Scale list, see :func:`sphere_frequencies`; ``'max_only'`` is TorchSpatial's.
    """

    def __init__(
        self,
        frequency_num: int,
        min_radius: float,
        max_radius: float,
        scales: str = "max_only",
    ) -> None:
        super().__init__()
        self.freqs = FrequencyCache(
            sphere_frequencies(frequency_num, min_radius, max_radius, scales)
        )
        s_num = len(self.freqs)
        self.pe_dim = 4 * s_num * s_num + 4 * s_num

    def _parts(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        w = self.freqs.get(x.device, x.dtype)
        lam_s = x[..., 0:1] * DEG2RAD * w
        phi_s = x[..., 1:2] * DEG2RAD * w
        return lam_s.sin(), lam_s.cos(), phi_s.sin(), phi_s.cos()

    @staticmethod
    def _assemble(sl: Tensor, cl: Tensor, sp: Tensor, cp: Tensor) -> Tensor:
        a = torch.cat([sl, cl], -1)
        b = torch.cat([sp, cp], -1)
        single = torch.stack([sp, cp, sl, cl], -1).flatten(-2)
        if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
            outer = (a[..., :, None] * b[..., None, :]).flatten(-2)
            return torch.cat([outer, single], -1)
        # no autograd needed (the usual case: coordinates are data): write the products
        # straight into the output instead of materialising them and concatenating
        n2 = a.shape[-1] * b.shape[-1]
        out = a.new_empty(*a.shape[:-1], n2 + single.shape[-1])
        torch.mul(
            a[..., :, None], b[..., None, :], out=out[..., :n2].unflatten(-1, (a.shape[-1], -1))
        )
        out[..., n2:] = single
        return out

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring."""
        return self._assemble(*self._parts(x))

    def forward(self, x: Tensor) -> Tensor:
        """PE in ``x.dtype``: angles and sines in float64, the 4 S^2 products in ``x.dtype``.

        The products of values in [-1, 1] need no float64; forming the large outer product
        in the output dtype halves its memory traffic.
        """
        parts = self._parts(x.to(compute_dtype(x.device)))
        return self._assemble(*(p.to(x.dtype) for p in parts))
