"""The location-only parts of the scores: point patterns, k-NN graphs and SRI parts.

A Geo-Bias Score of a neighbourhood combines two things: where its samples are (the
pattern of samples and background points, its k-nearest-neighbour graph, the graph
constants; the parts of an SRI partition) and the coded performance at those samples.
This module computes the first, for many centres at once, with the numba kernels that the
scores use (docs/method.md, D3 to D5), and returns it as flat CSR-like arrays. Whoever
scores many labellings of the same samples (the geo-bias training loss,
``encoders.losses.GeoBiasLoss``) computes it once and reuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pygbs._kernels import graphs as _k
from pygbs.errors import InputError
from pygbs.geo.background import rotations
from pygbs.geo.neighbours import Neighbourhoods, SphereIndex
from pygbs.runtime import call_kernel
from pygbs.stats.sri import (
    DEFAULT_N_SPLITS,
    GRID_SCALE_FRACTION,
    LAG_FRACTION,
    PARTITIONS,
    _per_centre,
)
from pygbs.stats.ssi import MIN_RADIUS

__all__ = ["PatternGraphs", "pattern_graphs", "sri_parts"]


@dataclass(frozen=True, eq=False)
class PatternGraphs:
    """The SSI point patterns of many centres and their directed k-NN graphs.

    Point ``t`` of centre ``j``'s pattern is, for ``t < sizes[j]``, the sample
    ``members[member_ptr[j] + t]`` (neighbourhood order, docs/method.md, D2), and for
    ``t >= sizes[j]`` background point ``t - sizes[j]`` (D3); without background points
    every point is a sample.

    Attributes
    ----------
    centres : ndarray of int64, shape (c,)
        Sample row of each centre.
    active : ndarray of bool, shape (c,)
        The centres that have a pattern: at least ``min_points`` samples and a radius
        above :data:`pygbs.stats.ssi.MIN_RADIUS` (the others have no edges and NaN sums).
    member_ptr : ndarray of int64, shape (c + 1,)
        CSR pointers into ``members``.
    members : ndarray of int64
        Sample rows of each neighbourhood.
    n_background : ndarray of int64, shape (c,)
        Background points of each pattern (0 without background points).
    edge_ptr : ndarray of int64, shape (c + 1,)
        CSR pointers into ``src`` and ``dst``.
    src, dst : ndarray of int32
        The k-NN edges ``src -> dst`` of each pattern (``w_ab = 1``), as local point ids.
    s0, s1, s2 : ndarray of float64, shape (c,)
        The graph constants of D3 (Cliff & Ord): ``S0 = sum w``,
        ``S1 = 1/2 sum (w_ab + w_ba)^2``, ``S2 = sum_a (out_a + in_a)^2``.
    """

    centres: np.ndarray
    active: np.ndarray
    member_ptr: np.ndarray
    members: np.ndarray
    n_background: np.ndarray
    edge_ptr: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    s0: np.ndarray
    s1: np.ndarray
    s2: np.ndarray

    @cached_property
    def sizes(self) -> np.ndarray:
        """Samples per pattern."""
        return np.diff(self.member_ptr)

    @cached_property
    def n_points(self) -> np.ndarray:
        """Points per pattern, ``m = sizes + n_background``."""
        return self.sizes + self.n_background


def _check_k(k: int) -> int:
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise InputError(f"k must be a positive integer; got {k!r}")
    return int(k)


def pattern_graphs(
    index: SphereIndex,
    nbhd: Neighbourhoods,
    *,
    background: bool = True,
    k: int = 4,
    min_points: int = 5,
) -> PatternGraphs:
    """The SSI point pattern and k-NN graph of every neighbourhood.

    The graph is the directed ``k``-nearest-neighbour graph with the ``strict`` tie rule
    (docs/method.md, D3), the one of the ``analytic`` and ``permutation`` methods.

    Parameters
    ----------
    index : SphereIndex
        All samples.
    nbhd : Neighbourhoods
        Neighbourhoods of the centres (one scale; SSI caps them at ``k_max``).
    background : bool, default=True
        Add the background grid (marked and unmarked SSI, D3); without it the pattern is
        the samples alone (performance SSI, D4).
    k : int, default=4
        Neighbours per point.
    min_points : int, default=5
        Neighbourhoods with fewer samples, or with a radius at most
        :data:`pygbs.stats.ssi.MIN_RADIUS`, get no pattern (as they get no score).

    Returns
    -------
    PatternGraphs

    Examples
    --------
    >>> import numpy as np
    >>> from pygbs import Neighbourhoods, SphereIndex, parse_scale
    >>> from pygbs.stats.graphs import pattern_graphs
    >>> rng = np.random.default_rng(0)
    >>> index = SphereIndex(rng.uniform(0, 1, 50), rng.uniform(0, 1, 50))
    >>> nb = Neighbourhoods.from_scale(index, np.arange(3), parse_scale("nn20"))
    >>> g = pattern_graphs(index, nb, background=False)
    >>> g.n_points.tolist(), g.s0.tolist()
    ([20, 20, 20], [80.0, 80.0, 80.0])
    """
    k = _check_k(k)
    if isinstance(min_points, bool) or int(min_points) != min_points or min_points < 1:
        raise InputError(f"min_points must be a positive integer; got {min_points!r}")
    centres = np.ascontiguousarray(nbhd.centres, dtype=np.int64)
    indptr = np.ascontiguousarray(nbhd.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(nbhd.indices, dtype=np.int64)
    radius = np.ascontiguousarray(nbhd.radius, dtype=np.float64)
    active = (np.diff(indptr) >= int(min_points)) & (radius > MIN_RADIUS)
    if background:
        rot = rotations(index.lat_rad[centres], index.lon_rad[centres])
    else:
        rot = np.zeros((len(centres), 3, 3))
    n_bg, edge_ptr, src, dst, sums = call_kernel(
        _k.pattern_graphs_batch, index.lat_rad, index.lon_rad, index.coslat, index.xyz,
        centres, indptr, indices, radius, active, rot, k, bool(background),
    )  # fmt: skip
    keep = dst >= 0
    if not keep.all():  # a padded k-NN table (never with the strict rule; kept general)
        seg = np.repeat(np.arange(len(centres)), np.diff(edge_ptr))
        counts = np.bincount(seg[keep], minlength=len(centres))
        edge_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        src, dst = src[keep], dst[keep]
    return PatternGraphs(
        centres=centres,
        active=active,
        member_ptr=indptr,
        members=indices,
        n_background=n_bg,
        edge_ptr=edge_ptr,
        src=src,
        dst=dst,
        s0=sums[:, 0].copy(),
        s1=sums[:, 1].copy(),
        s2=sums[:, 2].copy(),
    )


def sri_parts(
    index: SphereIndex,
    nbhd: Neighbourhoods,
    partition: str,
    *,
    scale: float | np.ndarray | None = None,
    lag: float | np.ndarray | None = None,
    n_splits: int = DEFAULT_N_SPLITS,
) -> tuple[np.ndarray, np.ndarray]:
    """The SRI part of every neighbourhood entry (docs/method.md, D5).

    Parameters
    ----------
    index : SphereIndex
        All samples.
    nbhd : Neighbourhoods
        Neighbourhoods of the centres (SRI's are not capped: ``cap=False``).
    partition : {'grid', 'lag', 'sector'}
        Scale grid, distance lag rings or direction sectors.
    scale, lag : float or ndarray, optional
        Grid cell side and ring width in radians (scalar or one per centre); default
        ``radius / 2`` and ``radius / 4``, as :func:`pygbs.stats.sri.sri_scores`.
    n_splits : int, default=8
        Number of direction sectors.

    Returns
    -------
    part : ndarray of int64, shape (len(nbhd.indices),)
        Part of each entry of ``nbhd.indices`` (``0 .. n_parts - 1``), -1 for none.
    n_parts : ndarray of int64, shape (c,)
        Number of parts of each centre's partition.
    """
    if partition not in PARTITIONS:
        raise InputError(f"partition must be one of {sorted(PARTITIONS)}; got {partition!r}")
    if isinstance(n_splits, bool) or int(n_splits) != n_splits or n_splits < 1:
        raise InputError(f"n_splits must be a positive integer; got {n_splits!r}")
    centres = np.ascontiguousarray(nbhd.centres, dtype=np.int64)
    radius = np.ascontiguousarray(nbhd.radius, dtype=np.float64)
    nc = len(centres)
    safe_r = np.where(radius > 0, radius, 1.0)
    scale_a = _per_centre("scale", safe_r * GRID_SCALE_FRACTION if scale is None else scale, nc)
    lag_a = _per_centre("lag", safe_r * LAG_FRACTION if lag is None else lag, nc)
    return call_kernel(
        _k.part_ids_batch, index.lat_rad, index.lon_rad, centres,
        np.ascontiguousarray(nbhd.indptr, dtype=np.int64),
        np.ascontiguousarray(nbhd.indices, dtype=np.int64),
        np.ascontiguousarray(nbhd.dist, dtype=np.float64), radius, PARTITIONS[partition],
        scale_a, lag_a, int(n_splits),
    )  # fmt: skip
