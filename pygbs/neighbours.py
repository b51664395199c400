"""Neighbourhoods of centres on the sphere, from a k-d tree (never an n x n matrix).

The canonical format is CSR over centres: ``indptr``, ``indices`` (sample rows, sorted by
great-circle distance, ties by row), ``dist`` (radians) and one ``radius`` per centre —
exactly what the numba kernels consume.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pygbs._kernels import kdtree
from pygbs.geometry import to_radians, to_unit_vectors
from pygbs.scales import Scale

__all__ = ["Neighbourhoods", "SphereIndex"]


def _h_to_angle(h: np.ndarray) -> np.ndarray:
    """Haversine reduced distance -> great-circle angle (radians), as scikit-learn does.

    In numba with the C library's scalar ``asin``: the result decides who is inside a
    radius, so it must not depend on NumPy's CPU-specific SIMD code (docs/method.md,
    "Reproducibility across machines").
    """
    h = np.asarray(h, dtype=np.float64)
    return kdtree.h_to_angle(np.ascontiguousarray(h).ravel()).reshape(h.shape)


class SphereIndex:
    """A k-d tree over points on the unit sphere, built once and queried per scale.

    Parameters
    ----------
    lon, lat : array-like of shape (n,)
        Degrees.
    """

    def __init__(self, lon: np.ndarray, lat: np.ndarray) -> None:
        self.lat_rad, self.lon_rad = to_radians(lon, lat)
        self.xyz = to_unit_vectors(self.lat_rad, self.lon_rad)
        self.coslat = kdtree.cos_all(self.lat_rad)
        # the node arrays come back as views of buffers sized for the worst case (about 4x
        # the nodes used); copies free the rest (36 -> 9 bytes per sample)
        perm, *nodes = kdtree.build(self.xyz)
        self.tree = (perm, *(a.copy() for a in nodes))

    def __len__(self) -> int:
        return int(self.xyz.shape[0])

    @cached_property
    def leaf_rank(self) -> np.ndarray:
        """Position of each sample in the tree's leaf order (nearby samples, nearby ranks)."""
        perm = self.tree[0]
        rank = np.empty(len(perm), dtype=np.int64)
        rank[perm] = np.arange(len(perm))
        return rank

    def knn(self, centres: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest samples of each centre (itself included): (idx, dist radians)."""
        k = min(int(k), len(self))
        idx, h = kdtree.knn_batch(
            self.xyz, self.lat_rad, self.lon_rad, self.coslat, self.tree, centres, k
        )
        return idx, _h_to_angle(h)

    def within(
        self, centres: np.ndarray, radius: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All samples within ``radius`` (radians, per centre) as CSR ``(indptr, idx, dist)``."""
        h_max = np.sin(np.minimum(radius, np.pi) / 2.0) ** 2 * (1.0 + 1e-9)  # margin: see below
        indptr, idx, h = kdtree.radius_batch(
            self.xyz, self.lat_rad, self.lon_rad, self.coslat, self.tree, centres, h_max
        )
        dist = _h_to_angle(h)  # the exact test `dist <= radius` follows
        keep = dist <= np.repeat(radius, np.diff(indptr))
        if not keep.all():
            seg = np.repeat(np.arange(len(centres)), np.diff(indptr))
            counts = np.bincount(seg[keep], minlength=len(centres))
            indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            idx, dist = idx[keep], dist[keep]
        return indptr, idx, dist


@dataclass(frozen=True, eq=False)
class Neighbourhoods:
    """CSR neighbourhoods of a set of centres at one scale.

    Attributes
    ----------
    scale : Scale
    centres : ndarray of int64, shape (c,)
        Sample row of each centre.
    indptr : ndarray of int64, shape (c + 1,)
    indices : ndarray of int64
        Sample rows of the neighbours of centre ``j`` in ``indices[indptr[j]:indptr[j+1]]``,
        by ascending distance then row.
    dist : ndarray of float64
        Great-circle distance of each neighbour to its centre, radians.
    radius : ndarray of float64, shape (c,)
        Radius of each neighbourhood in radians (the scale's radius, or the distance to the
        farthest of the K nearest for ``nn`` scales).
    """

    scale: Scale
    centres: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    dist: np.ndarray
    radius: np.ndarray

    @classmethod
    def from_scale(
        cls, index: SphereIndex, centres: np.ndarray, scale: Scale, cap: bool = True
    ) -> Neighbourhoods:
        """Neighbourhoods of ``centres`` at ``scale``.

        Parameters
        ----------
        index : SphereIndex
            The samples.
        centres : ndarray of int
            Rows of the centres.
        scale : Scale
            Distance scale (the ``k_max`` nearest within the radius, or all within the
            radius when ``k_max`` is None or ``cap`` is False) or ``nn`` scale.
        cap : bool, default=True
            Apply the scale's ``k_max`` cap (SSI does, SRI does not).
        """
        centres = np.ascontiguousarray(centres, dtype=np.int64)
        nc = len(centres)
        if scale.is_knn:
            idx, dist = index.knn(centres, scale.k)
            kk = idx.shape[1]
            indptr = np.arange(0, nc * kk + 1, kk, dtype=np.int64)
            radius = dist[:, -1].copy() if kk else np.zeros(nc)
            return cls(scale, centres, indptr, idx.ravel(), dist.ravel(), radius)
        r = float(scale.radius_rad)
        radius = np.full(nc, r)
        if cap and scale.k_max is not None:
            idx, dist = index.knn(centres, scale.k_max)
            keep = dist <= r
            counts = keep.sum(axis=1)
            indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            return cls(scale, centres, indptr, idx[keep], dist[keep], radius)
        indptr, idx, dist = index.within(centres, radius)
        return cls(scale, centres, indptr, idx, dist, radius)

    @cached_property
    def sizes(self) -> np.ndarray:
        """Number of samples in each neighbourhood (the centre included)."""
        return np.diff(self.indptr)

    def mean_of(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over each neighbourhood (NaN for an empty one)."""
        sizes = self.sizes
        seg = np.repeat(np.arange(len(sizes)), sizes)
        sums = np.bincount(seg, weights=values[self.indices], minlength=len(sizes))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(sizes > 0, sums / np.maximum(sizes, 1), np.nan)
