"""Background ("non-presence") points: a regular polar grid filling each neighbourhood.

Spec section 3, step 1: density ``D = ceil(5 n / (pi r^2))`` points per square radian,
spacing ``s = 1 / sqrt(D)``, ``L = ceil(r / s)`` rings; ring ``l`` lies at angular distance
``l s`` from the centre and carries ``ceil(2 pi l)`` points at bearings ``-pi + 2 pi j / n_l``.
The grid is built around the north pole and rotated onto the centre by a rotation about
the y axis by ``pi/2 - lat_c`` followed by one about the z axis by ``lon_c``.

Why NumPy/SciPy here and not numba: in exact arithmetic many background points are
equidistant from the centre or from each other, and which of two such points is a
nearest neighbour is then decided by the last bits of the coordinates. Building the grid
with the same NumPy and SciPy operations as the public reference implementation gives
bit-identical coordinates, so those comparisons come out the same way as there (see
``tests/pygbs/test_parity.py``). The grid of a given (density, rings) is computed once
and cached; each centre then costs one 3 x 3 rotation of it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.spatial.transform import Rotation

__all__ = ["AUTO_DENSITY_FACTOR", "auto_density", "background_points", "background_batch"]

#: Background points per sample of the "auto" density (the reference's factor 5).
AUTO_DENSITY_FACTOR = 5


def auto_density(radius: float, n: int) -> int:
    """The automatic density ``ceil(5 n / (pi r^2))`` in points per square radian."""
    return int(np.ceil((AUTO_DENSITY_FACTOR * n) / (np.pi * radius**2)))


@lru_cache(maxsize=8192)
def _polar_grid(density: int, radius_rings: int) -> np.ndarray:
    """Unit vectors of the grid around the north pole (read-only, cached).

    The same floating-point operations per point as the reference's point-by-point loop,
    so the coordinates are bit-identical (``tests/pygbs/test_background.py``).
    """
    grid, _ = _grids_vectorised(np.array([density]), np.array([radius_rings]), 1)
    grid.setflags(write=False)
    return grid


def n_rings(radius: float, density: int) -> int:
    """Number of rings ``ceil(r / s)`` with spacing ``s = 1 / sqrt(density)``."""
    return int(np.ceil(radius / (1 / np.sqrt(density))))


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
    grid = _polar_grid(density, n_rings(radius, density))
    rot = Rotation.from_euler("yz", [0.5 * np.pi - center_lat, center_lon], degrees=False)
    xyz = rot.apply(np.array(grid))
    return np.arcsin(xyz[:, 2]), np.arctan2(xyz[:, 1], xyz[:, 0])


@lru_cache(maxsize=64)
def _ring_bearings(max_ring: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cosines and sines of the bearings of rings 1..max_ring, and each ring's offset.

    Bearings do not depend on the density, so all centres share them (read-only, cached).
    """
    ring = np.arange(1, max_ring + 1)
    n_points = np.ceil(2 * np.pi * ring).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(n_points)])
    j = np.arange(first[-1]) - np.repeat(first[:-1], n_points)
    theta = -np.pi + np.repeat(2 * np.pi / n_points, n_points) * j
    out = (np.cos(theta), np.sin(theta), first)
    for a in out:
        a.setflags(write=False)
    return out


def _grids_vectorised(
    density: np.ndarray, rings: np.ndarray, nc: int
) -> tuple[np.ndarray, np.ndarray]:
    """The polar grids of all centres in one pass (element-wise as :func:`_polar_grid`).

    The trigonometry of the bearings is shared by all centres and that of the ring
    latitudes is done once per ring, then broadcast to the ring's points: the same
    operations on the same values as point by point, so the same bits.
    """
    ctheta, stheta, first = _ring_bearings(max(int(rings.max()), 0) if len(rings) else 0)
    ring_centre = np.repeat(np.arange(nc), rings)
    ring_starts = np.concatenate([[0], np.cumsum(rings)[:-1]])
    ring = np.arange(len(ring_centre)) - np.repeat(ring_starts, rings) + 1
    n_points = first[ring] - first[ring - 1]
    counts = np.bincount(ring_centre, weights=n_points, minlength=nc).astype(np.int64)
    phi = np.pi / 2 - (1 / np.sqrt(density[ring_centre])) * ring  # one latitude per ring
    cphi, sphi = np.cos(phi), np.sin(phi)
    point_ring = np.repeat(np.arange(len(ring)), n_points)
    # index of each point's bearing in the shared tables: ring offset + position in ring
    starts = np.concatenate([[0], np.cumsum(n_points)[:-1]])
    bearing = first[ring - 1][point_ring] + (np.arange(int(n_points.sum())) - starts[point_ring])
    grid = np.empty((len(bearing), 3))
    grid[:, 0] = ctheta[bearing] * cphi[point_ring]
    grid[:, 1] = stheta[bearing] * cphi[point_ring]
    grid[:, 2] = sphi[point_ring]
    return grid, counts


def background_batch(
    center_lat: np.ndarray,
    center_lon: np.ndarray,
    radius: np.ndarray,
    sizes: np.ndarray,
    active: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Background points of many neighbourhoods, as CSR ``(indptr, lat, lon, xyz)``.

    Neighbourhoods where ``active`` is False get no points. ``xyz`` are the rotated unit
    vectors the latitudes and longitudes were computed from. The polar grids come from the
    cache of :func:`_polar_grid` when centres share their (density, rings) — distance
    scales — or from one vectorised pass with the same element-wise operations otherwise
    (``nn`` scales); the 3 x 3 rotation is applied centre by centre, with the matrix
    product the reference's ``Rotation.apply`` uses.
    """
    nc = len(center_lat)
    act = np.flatnonzero(active)
    radius = np.asarray(radius, dtype=np.float64)
    density = np.zeros(nc, dtype=np.int64)
    rings = np.zeros(nc, dtype=np.int64)
    if len(act):
        r = radius[act]
        density[act] = np.ceil((AUTO_DENSITY_FACTOR * sizes[act]) / (np.pi * r**2)).astype(np.int64)
        rings[act] = np.ceil(r / (1 / np.sqrt(density[act]))).astype(np.int64)
    counts = np.zeros(nc, dtype=np.int64)
    keys = np.stack([density, rings], axis=1)
    uniq, inverse = np.unique(keys[act], axis=0, return_inverse=True)
    if len(uniq) * 4 < len(act):
        # distance scales: few distinct (density, rings); reuse the cached grids
        grids = [_polar_grid(int(d), int(r)) for d, r in uniq]
        sizes_u = np.array([g.shape[0] for g in grids], dtype=np.int64)
        counts[act] = sizes_u[inverse.ravel()]
        per_centre = [grids[u] for u in inverse.ravel()]
    else:
        per_centre = None
    if per_centre is None:
        grid, counts = _grids_vectorised(density, rings, nc)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    total = int(indptr[-1])
    if total == 0:
        return indptr, np.empty(0), np.empty(0), np.empty((0, 3))
    mats = Rotation.from_euler(
        "yz", np.column_stack([0.5 * np.pi - center_lat[act], center_lon[act]])
    ).as_matrix()
    xyz = np.empty((total, 3))
    for t, (m, c) in enumerate(zip(mats, act, strict=True)):
        a, b = indptr[c], indptr[c + 1]
        g = per_centre[t] if per_centre is not None else grid[a:b]
        xyz[a:b] = g @ m.T
    return indptr, np.arcsin(xyz[:, 2]), np.arctan2(xyz[:, 1], xyz[:, 0]), xyz
