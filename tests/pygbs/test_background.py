"""Background grid: geometry, and bit-identity with the reference's way of building it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from pygbs.background import _polar_grid, auto_density, background_batch, background_points


def _reference_polar(density, n_lag):
    """The reference's point-by-point construction (scalar NumPy calls)."""
    dist = 1 / np.sqrt(density)
    out = []
    for i in range(1, n_lag + 1):
        n_points = int(np.ceil(2 * np.pi * i))
        delta = 2 * np.pi / n_points
        for j in range(n_points):
            phi, theta = np.pi / 2 - dist * i, -np.pi + delta * j
            r = np.cos(phi)
            out.append((np.cos(theta) * r, np.sign(phi) * np.sin(theta) * r, np.sin(phi)))
    return np.array(out)


@pytest.mark.parametrize(("density", "rings"), [(7, 1), (3000, 13), (25863, 26)])
def test_polar_grid_is_bit_identical_to_the_pointwise_construction(density, rings):
    assert np.array_equal(_polar_grid(density, rings), _reference_polar(density, rings))


def test_ring_sizes_and_distances():
    r, n = 0.02, 40
    lat, lon = background_points(np.radians(30.0), np.radians(100.0), r, n)
    d = auto_density(r, n)
    assert d == int(np.ceil(5 * n / (np.pi * r**2)))
    s = 1 / np.sqrt(d)
    rings = int(np.ceil(r / s))
    assert len(lat) == sum(int(np.ceil(2 * np.pi * i)) for i in range(1, rings + 1))
    # great-circle distance of each point to the centre is a multiple of the spacing
    c = np.radians([30.0, 100.0])
    h = np.sin((lat - c[0]) / 2) ** 2 + np.cos(lat) * np.cos(c[0]) * np.sin((lon - c[1]) / 2) ** 2
    dist = 2 * np.arcsin(np.sqrt(h))
    ring_of = np.round(dist / s)
    np.testing.assert_allclose(dist, ring_of * s, rtol=1e-9)
    assert ring_of.min() == 1 and ring_of.max() == rings


def test_batch_equals_scipy_rotation_per_centre():
    rng = np.random.default_rng(0)
    clat, clon = rng.uniform(-1.4, 1.4, 6), rng.uniform(-3, 3, 6)
    radius = rng.uniform(0.001, 0.2, 6)
    sizes = rng.integers(1, 60, 6)
    active = np.array([True, True, False, True, True, True])
    indptr, lat, lon, _ = background_batch(clat, clon, radius, sizes, active)
    assert indptr[3] == indptr[2]  # inactive centre: no points
    for c in np.flatnonzero(active):
        d = auto_density(radius[c], sizes[c])
        grid = _polar_grid(d, int(np.ceil(radius[c] / (1 / np.sqrt(d)))))
        xyz = Rotation.from_euler("yz", [0.5 * np.pi - clat[c], clon[c]]).apply(np.array(grid))
        assert np.array_equal(lat[indptr[c] : indptr[c + 1]], np.arcsin(xyz[:, 2]))
        assert np.array_equal(lon[indptr[c] : indptr[c + 1]], np.arctan2(xyz[:, 1], xyz[:, 0]))


def test_vectorised_grids_equal_the_cached_grids():
    from pygbs.background import _grids_vectorised

    rng = np.random.default_rng(3)
    density = rng.integers(5, 400_000, 40)
    rings = rng.integers(0, 30, 40)
    grid, counts = _grids_vectorised(density, rings, 40)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    for c in range(40):
        want = _polar_grid(int(density[c]), int(rings[c])) if rings[c] else np.empty((0, 3))
        assert np.array_equal(grid[indptr[c] : indptr[c + 1]], want.reshape(-1, 3))
