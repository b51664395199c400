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
from pygbs.geo.geometry import to_radians, to_unit_vectors
from pygbs.geo.scales import Scale
from pygbs.runtime import call_kernel

__all__ = ["NeighbourSearch", "Neighbourhoods", "SphereIndex"]


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
    def location_ids(self) -> np.ndarray:
        """Id of each sample's location: samples with equal coordinates share one id."""
        import pandas as pd

        ids, _ = pd.factorize(self.lat_rad + 1j * self.lon_rad)  # hashed: linear time
        return np.ascontiguousarray(ids, dtype=np.int64)

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
        idx, h = call_kernel(  # interruptible under a command (pygbs.runtime)
            kdtree.knn_batch, self.xyz, self.lat_rad, self.lon_rad, self.coslat, self.tree,
            centres, k,
        )  # fmt: skip
        return idx, _h_to_angle(h)

    def within(
        self, centres: np.ndarray, radius: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All samples within ``radius`` (radians, per centre) as CSR ``(indptr, idx, dist)``."""
        h_max = np.sin(np.minimum(radius, np.pi) / 2.0) ** 2 * (1.0 + 1e-9)  # margin: see below
        indptr, idx, h = call_kernel(
            kdtree.radius_batch, self.xyz, self.lat_rad, self.lon_rad, self.coslat, self.tree,
            centres, h_max,
        )  # fmt: skip
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
        return NeighbourSearch(index, centres, [scale], cap=cap).neighbourhoods(scale)

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


class NeighbourSearch:
    """One neighbour search serving several scales of the same centres.

    A capped distance scale is the ``k_max`` nearest samples within the radius and an
    ``nn<K>`` scale the K nearest: both are prefixes of one k-nearest query with the
    largest such k (neighbours are ordered by distance, then row, so a prefix of a longer
    query is exactly the shorter query). Uncapped distance scales are filtered from one
    radius query at the largest radius. Each scale's :class:`Neighbourhoods` is cut from
    these, so scoring many scales costs one search.

    Parameters
    ----------
    index : SphereIndex
        The samples.
    centres : ndarray of int
        Rows of the centres.
    scales : sequence of Scale
        The scales that will be asked for.
    cap : bool, default=True
        Apply the scales' ``k_max`` caps (SSI does, SRI does not).
    """

    def __init__(
        self, index: SphereIndex, centres: np.ndarray, scales: list[Scale], cap: bool = True
    ) -> None:
        self.centres = np.ascontiguousarray(centres, dtype=np.int64)
        self.cap = cap
        ks = [s.k for s in scales if s.is_knn]
        ks += [s.k_max for s in scales if not s.is_knn and cap and s.k_max is not None]
        radii = [s.radius_rad for s in scales if not s.is_knn and not (cap and s.k_max)]
        self._knn = index.knn(self.centres, max(ks)) if ks else None
        self._within = None
        if radii:
            r = np.full(len(self.centres), float(max(radii)))
            self._within = index.within(self.centres, r)

    def neighbourhoods(self, scale: Scale) -> Neighbourhoods:
        """The neighbourhoods of the centres at ``scale`` (one of the scales given)."""
        centres = self.centres
        nc = len(centres)
        if scale.is_knn or (self.cap and scale.k_max is not None):
            if self._knn is None:
                raise ValueError(f"scale {scale.name} was not part of this search")
            idx, dist = self._knn
            kk = min(scale.k if scale.is_knn else scale.k_max, idx.shape[1])
            idx, dist = idx[:, :kk], dist[:, :kk]
            if scale.is_knn:
                indptr = np.arange(0, nc * kk + 1, kk, dtype=np.int64)
                radius = dist[:, -1].copy() if kk else np.zeros(nc)
                return Neighbourhoods(
                    scale, centres, indptr, idx.ravel().copy(), dist.ravel().copy(), radius
                )
            r = float(scale.radius_rad)
            keep = dist <= r
            indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int64)
            return Neighbourhoods(scale, centres, indptr, idx[keep], dist[keep], np.full(nc, r))
        if self._within is None:
            raise ValueError(f"scale {scale.name} was not part of this search")
        indptr, idx, dist = self._within
        r = float(scale.radius_rad)
        keep = dist <= r
        if not keep.all():
            seg = np.repeat(np.arange(nc), np.diff(indptr))
            counts = np.bincount(seg[keep], minlength=nc)
            indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            idx, dist = idx[keep], dist[keep]
        return Neighbourhoods(scale, centres, indptr, idx, dist, np.full(nc, r))
