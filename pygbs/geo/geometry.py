"""Coordinate conversions: the one place where degrees become radians and unit vectors."""

from __future__ import annotations

import numpy as np

__all__ = ["to_radians", "to_unit_vectors"]


def to_radians(lon_deg: np.ndarray, lat_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) degrees -> (lat, lon) radians, as the reference converts (x / 180 * pi)."""
    lat = np.asarray(lat_deg, dtype=np.float64) / 180.0 * np.pi
    lon = np.asarray(lon_deg, dtype=np.float64) / 180.0 * np.pi
    return lat, lon


def to_unit_vectors(lat_rad: np.ndarray, lon_rad: np.ndarray) -> np.ndarray:
    """Latitude/longitude in radians -> unit vectors of shape (n, 3) (x to lon 0, z north).

    Computed with the C library's scalar ``sin``/``cos`` in numba rather than NumPy's
    SIMD loops, whose last bit depends on the CPU, so that neighbourhoods decided by
    near-ties are the same on every machine (docs/method.md, "Reproducibility across
    machines").
    """
    from pygbs._kernels.kdtree import unit_vectors

    lat = np.ascontiguousarray(lat_rad, dtype=np.float64).ravel()
    lon = np.ascontiguousarray(lon_rad, dtype=np.float64).ravel()
    return unit_vectors(lat, lon)
