"""Background grid: geometry, and bit-identity with the reference's way of building it.

What is pinned and what is not (docs/method.md, "Reproducibility across machines"): the
grid and its rotation are built from additions, multiplications and fused multiply-adds
only, so the rotated unit vectors are compared bit for bit with scipy's
``Rotation.apply``. Latitude and longitude come from ``asin``/``atan2``: ours are the C
library's scalar functions (called from numba), while NumPy picks a SIMD implementation by
CPU (on AVX-512 machines it differs from the C library by an ulp), so those are compared
within a few ulp.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from pygbs.geo.background import _polar_grid, auto_density, background_batch, background_points

#: asin/atan2 of NumPy's SIMD loops and of the C library differ by at most an ulp or two
MAX_ULP = 4


def _assert_close_ulp(got, want):
    np.testing.assert_array_max_ulp(got, want, maxulp=MAX_ULP)


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
        sl = slice(indptr[c], indptr[c + 1])
        _assert_close_ulp(lat[sl], np.arcsin(xyz[:, 2]))
        _assert_close_ulp(lon[sl], np.arctan2(xyz[:, 1], xyz[:, 0]))


def test_batch_is_bit_identical_to_the_reference_construction():
    """Grid, rotation (scipy's Rotation.apply) and lat/lon, point by point, for many
    centres: radii from metres to beyond a quarter of the globe (rings past the equator
    of the rotated frame, where sign(phi) < 0) and sizes from 1 to 400."""
    rng = np.random.default_rng(3)
    nc = 60
    clat = rng.uniform(-np.pi / 2, np.pi / 2, nc)
    clon = rng.uniform(-np.pi, np.pi, nc)
    radius = np.exp(rng.uniform(np.log(1e-6), np.log(2.0), nc))
    radius[:3] = [1.7, 2.2, 3.0]
    sizes = rng.integers(1, 400, nc)
    indptr, lat, lon, xyz = background_batch(clat, clon, radius, sizes, np.ones(nc, bool))
    for c in range(nc):
        d = auto_density(radius[c], sizes[c])
        grid = _reference_polar(d, int(np.ceil(radius[c] / (1 / np.sqrt(d)))))
        want = Rotation.from_euler("yz", [0.5 * np.pi - clat[c], clon[c]]).apply(grid)
        sl = slice(indptr[c], indptr[c + 1])
        assert np.array_equal(xyz[sl], want), c  # pinned: exact
        _assert_close_ulp(lat[sl], np.arcsin(want[:, 2]))
        _assert_close_ulp(lon[sl], np.arctan2(want[:, 1], want[:, 0]))


def test_lat_lon_use_the_c_library_not_numpy_simd():
    """Our latitudes and longitudes are the C library's ``asin``/``atan2`` of the pinned
    unit vectors (Python's ``math`` calls the same functions), whatever NumPy's SIMD
    dispatch does on this CPU."""
    import math

    rng = np.random.default_rng(7)
    nc = 20
    clat, clon = rng.uniform(-1.5, 1.5, nc), rng.uniform(-3.1, 3.1, nc)
    radius = np.exp(rng.uniform(np.log(1e-4), np.log(1.0), nc))
    sizes = rng.integers(1, 200, nc)
    _, lat, lon, xyz = background_batch(clat, clon, radius, sizes, np.ones(nc, bool))
    assert np.array_equal(lat, np.array([math.asin(z) for z in xyz[:, 2]]))
    assert np.array_equal(lon, np.array([math.atan2(y, x) for x, y in xyz[:, :2]]))


def test_fma_is_fused():
    from pygbs._kernels.background import fma

    # (1 + 2^-30)^2 - 1 - 2^-29 = 2^-60 exactly; an unfused product would round it away
    e = 2.0**-30
    assert fma(1 + e, 1 + e, -(1 + 2 * e)) == 2.0**-60


def test_rotations_are_scipys_bit_for_bit():
    """The matrices equal scipy's ``Rotation.from_euler("yz", ...).as_matrix()`` in every
    bit (signs of zeros included), over random centres and the poles, the equator, the
    antimeridian and signed zeros."""
    from pygbs.geo.background import rotations

    rng = np.random.default_rng(11)
    lat = rng.uniform(-np.pi / 2, np.pi / 2, 200_000)
    lon = rng.uniform(-np.pi, np.pi, 200_000)
    special_lat = [np.pi / 2, -np.pi / 2, 0.0, -0.0, 1e-300, np.pi / 4, 0.5, -1.2]
    special_lon = [0.0, np.pi, -np.pi, -0.0, 0.0, np.pi / 2, -np.pi / 2, 3.0]
    lat[: len(special_lat)] = special_lat
    lon[: len(special_lon)] = special_lon
    got = rotations(lat, lon)
    want = Rotation.from_euler("yz", np.column_stack([0.5 * np.pi - lat, lon])).as_matrix()
    assert got.shape == (len(lat), 3, 3) and got.flags.c_contiguous
    assert np.array_equal(got.view(np.int64), want.view(np.int64))
    assert rotations(np.empty(0), np.empty(0)).shape == (0, 3, 3)
