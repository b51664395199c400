"""Background ("non-presence") points: a regular polar grid filling each neighbourhood.

docs/method.md, D3 (background grid): density ``D = ceil(5 n / (pi r^2))`` points per square radian,
spacing ``s = 1 / sqrt(D)``, ``L = ceil(r / s)`` rings; ring ``l`` lies at angular distance
``l s`` from the centre and carries ``ceil(2 pi l)`` points at bearings ``-pi + 2 pi j / n_l``.
The grid is built around the north pole and rotated onto the centre by a rotation about
the y axis by ``pi/2 - lat_c`` followed by one about the z axis by ``lon_c``.

The points are computed in numba (:mod:`pygbs._kernels.background`) with the same
floating-point operations as the public reference implementation, so the coordinates
are bit-identical to it and comparisons between points that are equidistant in exact
arithmetic come out the same way (``tests/pygbs/test_background.py``,
``tests/pygbs/test_parity.py``). The rotation matrices are scipy's
(``Rotation.from_euler("yz", ...)``), computed with the same operations in numba.
"""

from __future__ import annotations

import numpy as np

from pygbs._kernels import background as _k

__all__ = ["AUTO_DENSITY_FACTOR", "auto_density", "background_points", "background_batch"]

#: Background points per sample of the "auto" density (the reference's factor 5).
AUTO_DENSITY_FACTOR = _k.AUTO_DENSITY_FACTOR


def auto_density(radius: float, n: int) -> int:
    """The automatic density ``ceil(5 n / (pi r^2))`` in points per square radian."""
    return int(_k.grid_shape(float(radius), int(n))[0])


def n_rings(radius: float, density: int) -> int:
    """Number of rings ``ceil(r / s)`` with spacing ``s = 1 / sqrt(density)``."""
    return int(_k.n_rings(float(radius), int(density)))


def _grid(
    density: int, rings: int, rot: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lat, lon, xyz)`` of one grid, rotated by ``rot`` (None: around the north pole)."""
    table = _k.bearings(int(rings))
    points = int(table[2][-1])
    lat, lon, xyz = np.empty(points), np.empty(points), np.empty((points, 3))
    rotate = rot is not None
    _k.fill_grid(
        int(density), int(rings), rot if rotate else np.eye(3), table, lat, lon, xyz, rotate
    )
    return lat, lon, xyz


def _polar_grid(density: int, radius_rings: int) -> np.ndarray:
    """Unit vectors of the unrotated grid around the north pole, ring by ring."""
    return _grid(density, radius_rings, None)[2]


def rotations(center_lat: np.ndarray, center_lon: np.ndarray) -> np.ndarray:
    """The (c, 3, 3) matrices turning the north pole onto each centre (radians)."""
    angle_y = np.asarray(0.5 * np.pi - np.asarray(center_lat), dtype=np.float64).reshape(-1)
    angle_z = np.asarray(center_lon, dtype=np.float64).reshape(-1)
    if len(angle_y) == 0:
        return np.empty((0, 3, 3))
    # bit for bit scipy's Rotation.from_euler("yz", [pi/2 - lat, lon]).as_matrix()
    return _k.rotations_yz(np.ascontiguousarray(angle_y), np.ascontiguousarray(angle_z))


def background_points(
    center_lat: float, center_lon: float, radius: float, n: int, density: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Background points of one neighbourhood.

    Parameters
    ----------
    center_lat, center_lon : float
        Centre, radians.
    radius : float
        Radius, radians (> 0).
    n : int
        Number of samples in the neighbourhood (sets the automatic density).
    density : int, optional
        Points per square radian; default :func:`auto_density`.

    Returns
    -------
    lat, lon : ndarray
        Radians.
    """
    density = auto_density(radius, n) if density is None else int(density)
    rot = rotations(np.array([center_lat]), np.array([center_lon]))[0]
    lat, lon, _ = _grid(density, n_rings(radius, density), rot)
    return lat, lon


def background_batch(
    center_lat: np.ndarray,
    center_lon: np.ndarray,
    radius: np.ndarray,
    sizes: np.ndarray,
    active: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Background points of many neighbourhoods, as CSR ``(indptr, lat, lon, xyz)``.

    Neighbourhoods where ``active`` is False get no points. ``xyz`` are the rotated unit
    vectors the latitudes and longitudes were computed from.
    """
    return _k.background_batch(
        np.ascontiguousarray(radius, dtype=np.float64),
        np.ascontiguousarray(sizes, dtype=np.int64),
        np.ascontiguousarray(active, dtype=np.bool_),
        rotations(center_lat, center_lon),
    )
