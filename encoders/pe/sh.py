"""Real spherical-harmonic position encoding (``Siren(SH)``; Russwurm et al., ICLR 2024).

The associated Legendre functions are evaluated with the standard stable recursion for
*normalised* functions ``N_l^m = K_l^m P_l^m`` in float64 (no factorials, valid to high degree):

* ``N_0^0 = 1/sqrt(4 pi)``,
* ``N_m^m = sqrt((2m + 1)/(2m)) sin(theta) N_{m-1}^{m-1}``,
* ``N_{m+1}^m = sqrt(2m + 3) cos(theta) N_m^m``,
* ``N_l^m = a_lm (cos(theta) N_{l-1}^m - b_lm N_{l-2}^m)`` with
  ``a_lm = sqrt((4 l^2 - 1)/(l^2 - m^2))`` and ``b_lm = sqrt(((l-1)^2 - m^2)/(4 (l-1)^2 - 1))``.

No Condon-Shortley phase. Angles follow TorchSpatial (parity): ``theta = lat + 90 deg`` (0 at the
*south* pole, so ``cos theta = -sin(lat)``, ``sin theta = cos(lat)``) and ``az = lon + 180 deg``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from encoders.pe.base import DEG2RAD, PositionEncoding

__all__ = ["SH_BASES", "SphericalHarmonicsPE", "real_sph_harm"]

#: Accepted values of ``sh_basis``.
SH_BASES = ("anchor", "orthonormal")


def real_sph_harm(cos_theta: Tensor, sin_theta: Tensor, az: Tensor, degree: int) -> Tensor:
    """Orthonormal real spherical harmonics ``Y_{l,m}`` for ``l < degree``.

    Ordering ``l = 0..degree-1`` and ``m = -l..l`` (index ``l^2 + l + m``);
    ``Y_{l,m} = sqrt 2 N_l^m cos(m az)`` for ``m > 0``, ``sqrt 2 N_l^|m| sin(|m| az)`` for
    ``m < 0`` and ``N_l^0`` for ``m = 0`` (no Condon-Shortley phase).

    Parameters
    ----------
    cos_theta, sin_theta : torch.Tensor
        Cosine and (non-negative) sine of the polar angle, same shape ``(...)``.
    az : torch.Tensor
        Azimuth in radians, shape ``(...)``.
    degree : int
        Number of degrees ``L``; the output has ``L^2`` functions.

    Returns
    -------
    torch.Tensor
        ``(..., L^2)``.
    """
    t, s = cos_theta, sin_theta
    sqrt2 = math.sqrt(2.0)
    out: list[Tensor | None] = [None] * (degree * degree)
    n_mm = torch.full_like(t, 1.0 / math.sqrt(4.0 * math.pi))
    for m in range(degree):
        if m > 0:
            n_mm = math.sqrt((2 * m + 1) / (2 * m)) * s * n_mm
        cos_m = (m * az).cos() if m > 0 else None
        sin_m = (m * az).sin() if m > 0 else None
        prev2, prev1 = None, n_mm
        for l in range(m, degree):
            if l == m:
                cur = n_mm
            elif l == m + 1:
                cur = math.sqrt(2 * m + 3) * t * n_mm
            else:
                a = math.sqrt((4 * l * l - 1) / (l * l - m * m))
                b = math.sqrt(((l - 1) ** 2 - m * m) / (4 * (l - 1) ** 2 - 1))
                cur = a * (t * prev1 - b * prev2)
            if l > m:
                prev2, prev1 = prev1, cur
            base = l * l + l
            if m == 0:
                out[base] = cur
            else:
                out[base + m] = sqrt2 * cur * cos_m
                out[base - m] = sqrt2 * cur * sin_m
    return torch.stack(out, -1)  # type: ignore[arg-type]


class SphericalHarmonicsPE(PositionEncoding):
    """Real spherical harmonics up to degree ``L - 1`` (``L^2`` functions, index ``l^2+l+m``).

    Parameters
    ----------
    legendre_poly_num : int, default=8
        ``L`` (TorchSpatial always uses 8, Q3).
    sh_basis : {'anchor', 'orthonormal'}, default='anchor'
        ``'anchor'`` multiplies every ``m = 0`` function by ``pi`` as TorchSpatial's generated
        closed forms do (Q4); ``'orthonormal'`` is the textbook orthonormal basis.
    """

    def __init__(self, legendre_poly_num: int = 8, sh_basis: str = "anchor") -> None:
        super().__init__()
        if int(legendre_poly_num) != legendre_poly_num or legendre_poly_num < 1:
            raise ValueError(
                f"legendre_poly_num must be a positive integer; got {legendre_poly_num!r}"
            )
        if sh_basis not in SH_BASES:
            raise ValueError(f"sh_basis must be one of {SH_BASES}; got {sh_basis!r}")
        self.degree = int(legendre_poly_num)
        self.sh_basis = sh_basis
        self.pe_dim = self.degree**2

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring."""
        lam, phi = x[..., 0] * DEG2RAD, x[..., 1] * DEG2RAD
        # theta = phi + pi/2: cos(theta) = -sin(phi), sin(theta) = cos(phi) >= 0
        y = real_sph_harm(-phi.sin(), phi.cos(), lam + math.pi, self.degree)
        if self.sh_basis == "anchor":
            scale = torch.ones(self.pe_dim, dtype=y.dtype, device=y.device)
            scale[[l * l + l for l in range(self.degree)]] = math.pi
            y = y * scale
        return y

    def extra_repr(self) -> str:
        """Summary shown by ``repr``."""
        return f"pe_dim={self.pe_dim}, sh_basis={self.sh_basis!r}"
