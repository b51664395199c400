"""Position encodings of (lon, lat) degrees, one module per family.

Each class is a :class:`PositionEncoding`: it receives validated degrees and returns
``(..., pe_dim)`` features computed in float64 and cast back to the input's dtype.
"""

from __future__ import annotations

from encoders.pe.base import PositionEncoding
from encoders.pe.grid import GridCellPE, TheoryGridCellPE
from encoders.pe.nerf import NeRFPE
from encoders.pe.rbf import RBFPE, rbf_anchors_from, uniform_sphere_anchors
from encoders.pe.rff import RFFPE
from encoders.pe.sh import SphericalHarmonicsPE, real_sph_harm
from encoders.pe.sphere import DFSPE, SpherePE
from encoders.pe.tile import TilePE
from encoders.pe.wrap import WrapPE
from encoders.pe.xyz import XYZPE, lonlat_to_xyz

__all__ = [
    "DFSPE",
    "RBFPE",
    "RFFPE",
    "XYZPE",
    "GridCellPE",
    "NeRFPE",
    "PositionEncoding",
    "SpherePE",
    "SphericalHarmonicsPE",
    "TheoryGridCellPE",
    "TilePE",
    "WrapPE",
    "lonlat_to_xyz",
    "rbf_anchors_from",
    "real_sph_harm",
    "uniform_sphere_anchors",
]
