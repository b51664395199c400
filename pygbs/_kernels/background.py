"""Background points of one neighbourhood, in numba (docs/method.md, D3, background grid).

A regular polar grid around the north pole, rotated onto the centre. In exact arithmetic
many background points are equidistant from the centre or from each other, and which of
two such points is a nearest neighbour is then decided by the last bits of their
coordinates. Every step therefore repeats the floating-point operations of the public
reference implementation, in its order:

* the grid: ``phi = pi/2 - l s``, ``theta = -pi + (2 pi / n_l) j`` and the point
  ``(cos(theta) cos(phi), sign(phi) sin(theta) cos(phi), sin(phi))``, with the C
  library's ``sin``/``cos`` (as NumPy's scalar loops use);
* the rotation: scipy's ``Rotation.apply`` is a matrix product done by OpenBLAS, whose
  x86-64 kernels accumulate a 3-term dot product as ``fma(g2, m2, fma(g1, m1, g0 m0))``;
  that exact chain is computed here with the ``llvm.fma`` intrinsic (correctly rounded on
  every CPU), so the coordinates do not depend on the machine's BLAS;
* ``lat = asin(z)``, ``lon = atan2(y, x)`` with the C library's functions (NumPy's).

``tests/pygbs/test_background.py`` checks all three against the NumPy/SciPy construction
bit for bit. The rotation matrices repeat scipy's ``Rotation.from_euler("yz", ...)
.as_matrix()`` operation for operation (:func:`rotations_yz`; also tested bit for bit), so
scoring does not import ``scipy.spatial`` (about 0.3 s of a command's start-up).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

#: Background points per sample of the "auto" density (the reference's factor 5).
AUTO_DENSITY_FACTOR = 5


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (``llvm.fma.f64``)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()] * 3)
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f64")
        return builder.call(fn, args)

    return sig, codegen


@njit(cache=True)
def fma(a, b, c):
    """``a * b + c`` rounded once."""
    return _fma(a, b, c)


@njit(cache=True)
def rotations_yz(angle_y, angle_z):
    """The (c, 3, 3) matrices of extrinsic rotations about y by ``angle_y``, then z.

    The floating-point operations of scipy's ``Rotation.from_euler("yz", angles)
    .as_matrix()``: the two elementary quaternions ``(x, y, z, w)`` from the C library's
    ``sin``/``cos`` of the half angles, their product (zero terms included, so even the
    signs of zeros agree) and the quaternion's matrix.
    """
    nc = angle_y.shape[0]
    out = np.empty((nc, 3, 3))
    for c in range(nc):
        q0, q1, q2, q3 = 0.0, math.sin(angle_y[c] / 2.0), 0.0, math.cos(angle_y[c] / 2.0)
        p0, p1, p2, p3 = 0.0, 0.0, math.sin(angle_z[c] / 2.0), math.cos(angle_z[c] / 2.0)
        # the extrinsic composition p * q: the cross product, then the components
        c0 = p1 * q2 - p2 * q1
        c1 = p2 * q0 - p0 * q2
        c2 = p0 * q1 - p1 * q0
        x = p3 * q0 + q3 * p0 + c0
        y = p3 * q1 + q3 * p1 + c1
        z = p3 * q2 + q3 * p2 + c2
        w = p3 * q3 - p0 * q0 - p1 * q1 - p2 * q2
        x2, y2, z2, w2 = x * x, y * y, z * z, w * w
        xy, zw, xz, yw, yz, xw = x * y, z * w, x * z, y * w, y * z, x * w
        out[c, 0, 0] = x2 - y2 - z2 + w2
        out[c, 1, 0] = 2 * (xy + zw)
        out[c, 2, 0] = 2 * (xz - yw)
        out[c, 0, 1] = 2 * (xy - zw)
        out[c, 1, 1] = -x2 + y2 - z2 + w2
        out[c, 2, 1] = 2 * (yz + xw)
        out[c, 0, 2] = 2 * (xz + yw)
        out[c, 1, 2] = 2 * (yz - xw)
        out[c, 2, 2] = -x2 - y2 + z2 + w2
    return out


@njit(cache=True)
def n_rings(radius, density):
    """Number of rings ``ceil(r / s)`` with spacing ``s = 1 / sqrt(density)``."""
    return int(math.ceil(radius / (1 / math.sqrt(density))))


@njit(cache=True)
def grid_shape(radius, n):
    """``(density, rings, points)`` of the automatic grid of ``n`` samples in ``radius``.

    ``density = ceil(5 n / (pi r^2))`` per square radian, ``rings = ceil(r / s)`` with
    spacing ``s = 1 / sqrt(density)``, ``points = sum_l ceil(2 pi l)``.
    """
    density = int(math.ceil((AUTO_DENSITY_FACTOR * n) / (math.pi * radius**2)))
    rings = n_rings(radius, density)
    points = 0
    for ring in range(1, rings + 1):
        points += int(math.ceil(2 * math.pi * ring))
    return density, rings, points


@njit(cache=True)
def bearings(max_ring):
    """``(cos, sin, first)`` of the bearings of rings 1..max_ring.

    Ring ``l``'s are at ``first[l - 1]:first[l]``. Bearings do not depend on the density:
    all grids share them.
    """
    first = np.zeros(max_ring + 1, np.int64)
    for ring in range(1, max_ring + 1):
        first[ring] = first[ring - 1] + int(math.ceil(2 * math.pi * ring))
    cos_t = np.empty(first[max_ring])
    sin_t = np.empty(first[max_ring])
    for ring in range(1, max_ring + 1):
        n_points = first[ring] - first[ring - 1]
        delta = 2 * math.pi / n_points
        for j in range(n_points):
            theta = -math.pi + delta * j
            cos_t[first[ring - 1] + j] = math.cos(theta)
            sin_t[first[ring - 1] + j] = math.sin(theta)
    return cos_t, sin_t, first


@njit(cache=True, inline="always")
def _rotate(g0, g1, g2, rot, r):
    return _fma(g2, rot[r, 2], _fma(g1, rot[r, 1], g0 * rot[r, 0]))


@njit(cache=True)
def fill_grid(density, rings, rot, table, lat, lon, xyz, rotate, angles=True):
    """Write the grid's points into ``lat``/``lon``/``xyz`` (at least ``points`` rows).

    ``rot`` is the 3 x 3 rotation matrix (ignored when ``rotate`` is False, which gives
    the unrotated grid around the north pole); ``table`` is :func:`bearings` of at least
    ``rings`` rings. With ``angles`` False, ``lat``/``lon`` are left untouched (the k-NN
    search needs them only for near-ties and derives them from ``xyz`` then, with the
    same operations).
    """
    cos_t, sin_t, first = table
    dist = 1 / math.sqrt(density)
    t = 0
    for ring in range(1, rings + 1):
        b0 = first[ring - 1]
        n_points = first[ring] - b0
        phi = math.pi / 2 - dist * ring
        r = math.cos(phi)
        sgn = 1.0 if phi > 0 else (-1.0 if phi < 0 else 0.0)
        z = math.sin(phi)
        for j in range(n_points):
            x = cos_t[b0 + j] * r
            y = sgn * sin_t[b0 + j] * r
            if rotate:
                a = _rotate(x, y, z, rot, 0)
                b = _rotate(x, y, z, rot, 1)
                c = _rotate(x, y, z, rot, 2)
            else:
                a, b, c = x, y, z
            xyz[t, 0] = a
            xyz[t, 1] = b
            xyz[t, 2] = c
            if angles:
                lat[t] = math.asin(c)
                lon[t] = math.atan2(b, a)
            t += 1
    return t


@njit(cache=True, parallel=True)
def background_batch(radius, sizes, active, rot):
    """Background points of many neighbourhoods, as CSR ``(indptr, lat, lon, xyz)``.

    ``rot`` holds one 3 x 3 rotation per neighbourhood; inactive ones get no points.
    """
    nc = radius.shape[0]
    dens = np.zeros(nc, np.int64)
    rings = np.zeros(nc, np.int64)
    counts = np.zeros(nc + 1, np.int64)
    for c in range(nc):
        if active[c]:
            dens[c], rings[c], counts[c + 1] = grid_shape(radius[c], sizes[c])
    indptr = np.cumsum(counts)
    table = bearings(rings.max() if nc else 0)
    total = indptr[nc]
    lat = np.empty(total)
    lon = np.empty(total)
    xyz = np.empty((total, 3))
    for c in prange(nc):
        a, b = indptr[c], indptr[c + 1]
        if b > a:
            fill_grid(dens[c], rings[c], rot[c], table, lat[a:b], lon[a:b], xyz[a:b], True)
    return indptr, lat, lon, xyz


@njit(cache=True)
def batch_bearings(indptr, radius, active):
    """:func:`bearings` of enough rings for every active neighbourhood of a CSR batch."""
    max_rings = 0
    for c in range(radius.shape[0]):
        if active[c]:
            n = indptr[c + 1] - indptr[c]
            max_rings = max(max_rings, grid_shape(radius[c], n)[1])
    return bearings(max_rings)
