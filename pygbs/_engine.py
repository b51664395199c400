"""Per-centre scoring in bounded batches, shared by the local and the Dask engines.

This is the part of :func:`pygbs.score` that is the same in one process and on a Dask
cluster (:mod:`pygbs.distributed`).

Every per-centre number is a pure function of all samples (coordinates, raw values and
codes), the options and the centre's own row: neighbourhoods are queried per centre, the
permutation test of centre ``i`` is seeded from ``seed`` and its row (docs/method.md), and
SRI's default bins are decided on all values. So any split of the centres into
contiguous batches gives the same numbers, bit for bit; batches only bound memory
(docs/scale.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pygbs.neighbours import Neighbourhoods, SphereIndex
from pygbs.result import SCORE_COLUMNS
from pygbs.scales import EARTH_RADIUS_KM, Scale
from pygbs.sri import sri_scores
from pygbs.ssi import ssi_scores

__all__ = ["BlockOptions", "LocalEngine", "Samples", "batch_size", "column_dtypes", "score_block"]

#: Most centres per batch ...
MAX_BATCH = 65_536
#: ... fewer when neighbourhoods are large: about this many neighbour entries per batch
#: (a capped 100 km scale with ``k_max=100`` takes 40,000 centres, about 100 MB of
#: neighbour indices and distances at a time).
BATCH_ENTRIES = 4_000_000
#: Centres per batch where the neighbourhood size has no bound (``k_max=None``).
UNCAPPED_BATCH = 8_192
_SRI = {"sri-grid": "grid", "sri-lag": "lag", "sri-sector": "sector"}


@dataclass(frozen=True, eq=False)
class Samples:
    """Everything per sample that a centre's scores depend on.

    Attributes
    ----------
    lon, lat : ndarray of float64, shape (n,)
        Degrees.
    value : ndarray of float64, shape (n,)
        Raw performance values (for ``mean_performance``).
    marks : ndarray of float64, shape (n,)
        Coded values (the scores' input).
    """

    lon: np.ndarray
    lat: np.ndarray
    value: np.ndarray
    marks: np.ndarray

    @classmethod
    def from_arrays(
        cls, lon: np.ndarray, lat: np.ndarray, value: np.ndarray, marks: np.ndarray
    ) -> Samples:
        """The arrays as contiguous float64 (copied only where they are not)."""
        return cls(*(np.ascontiguousarray(a, dtype=np.float64) for a in (lon, lat, value, marks)))

    @cached_property
    def token(self) -> str:
        """A digest of the four arrays: equal tokens mean equal samples (a cache key)."""
        h = hashlib.blake2b(digest_size=16)
        for a in (self.lon, self.lat, self.value, self.marks):
            h.update(a.shape[0].to_bytes(8, "little"))
            h.update(memoryview(a).cast("B"))
        return h.hexdigest()

    def __len__(self) -> int:
        return int(self.lon.shape[0])

    def index(self) -> SphereIndex:
        """The k-d tree over the samples."""
        return SphereIndex(self.lon, self.lat)


@dataclass(frozen=True)
class BlockOptions:
    """Options of :func:`score_block` (see :func:`pygbs.score` for their meaning)."""

    scores: tuple[str, ...]
    method: str = "pygbs"
    k: int = 4
    min_points: int = 5
    presence: str = "all"
    graph: str | None = None
    permutations: int = 999
    seed: int = 0
    sri_scale: float | None = None
    sri_lag: float | None = None
    sri_sectors: int = 8
    sri_threshold: int = 20
    sri_bins: int | None = None
    #: Centres per call of SRI, whose neighbourhoods are never capped.
    sri_chunk: int = 2048


def column_dtypes(scores: tuple[str, ...]) -> dict[str, type]:
    """Per-centre columns of :func:`score_block`, in table order, with their dtypes."""
    cols: dict[str, type] = {
        "n_neighbours": np.int64,
        "radius_km": np.float64,
        "mean_performance": np.float64,
    }
    for name, col in SCORE_COLUMNS.items():
        if name in scores:
            cols[col] = np.float64
            if name in ("unmarked", "marked"):
                cols[f"{col}_p"] = np.float64
    return cols


def spatial_order(index: SphereIndex, rows: np.ndarray) -> np.ndarray:
    """Positions of ``rows`` in the k-d tree's leaf order (nearby centres together).

    Scoring centres in this order, rather than in row order, lets consecutive centres
    share most of their neighbours and tree nodes in the CPU caches: on large tables with
    rows in random order that is several times faster. Results do not depend on it.
    """
    rank = index.leaf_rank
    return np.argsort(rank[rows], kind="stable")


def batch_size(scale: Scale) -> int:
    """Centres per batch at ``scale`` (bounded by :data:`BATCH_ENTRIES` neighbour entries)."""
    per_centre = scale.k if scale.is_knn else scale.k_max
    if per_centre is None:
        return UNCAPPED_BATCH
    return int(min(MAX_BATCH, max(256, BATCH_ENTRIES // max(int(per_centre), 1))))


def score_block(
    index: SphereIndex,
    samples: Samples,
    rows: np.ndarray,
    scale: Scale,
    opts: BlockOptions,
) -> dict[str, np.ndarray]:
    """Per-centre columns (:func:`column_dtypes`) of the centres ``rows`` at one scale.

    Parameters
    ----------
    index : SphereIndex
        The k-d tree over ``samples``.
    samples : Samples
        All samples.
    rows : ndarray of int64
        Rows of the centres.
    scale : Scale
        The scale.
    opts : BlockOptions
        Scores and their options.

    Returns
    -------
    dict of str to ndarray
        One array of length ``len(rows)`` per column.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    nb = Neighbourhoods.from_scale(index, rows, scale)
    cols: dict[str, np.ndarray] = {
        "n_neighbours": nb.sizes,
        "radius_km": nb.radius * EARTH_RADIUS_KM,
        "mean_performance": nb.mean_of(samples.value),
    }
    want_unmarked, want_marked = "unmarked" in opts.scores, "marked" in opts.scores
    if want_unmarked or want_marked:
        res = ssi_scores(
            index,
            nb,
            samples.marks,
            unmarked=want_unmarked,
            marked=want_marked,
            method=opts.method,
            k=opts.k,
            min_points=opts.min_points,
            presence=opts.presence,
            graph=opts.graph,
            permutations=opts.permutations,
            seed=opts.seed,
        )
        for name in ("unmarked", "marked"):
            if name in opts.scores:
                col = SCORE_COLUMNS[name]
                cols[col] = res[f"{name}_ssi"]
                cols[f"{col}_p"] = res[f"{name}_ssi_p"]
    del nb
    sri_wanted = [s for s in opts.scores if s in _SRI]
    for s in sri_wanted:
        cols[SCORE_COLUMNS[s]] = np.full(len(rows), np.nan)
    # SRI uses every sample within the radius (no k_max cap); in chunks of centres so that
    # large radii on dense data do not hold every neighbourhood in memory at once
    for a in range(0, len(rows) if sri_wanted else 0, opts.sri_chunk):
        part = rows[a : a + opts.sri_chunk]
        full = Neighbourhoods.from_scale(index, part, scale, cap=False)
        for s in sri_wanted:
            vals, _ = sri_scores(
                index.lat_rad,
                index.lon_rad,
                samples.marks,
                part,
                full.indptr,
                full.indices,
                full.dist,
                full.radius,
                partition=_SRI[s],
                scale=opts.sri_scale,
                lag=opts.sri_lag,
                n_splits=opts.sri_sectors,
                threshold=opts.sri_threshold,
                bins=opts.sri_bins,
            )
            vals = np.where(full.sizes >= opts.min_points, vals, np.nan)
            cols[SCORE_COLUMNS[s]][a : a + len(part)] = vals
    return cols


class LocalEngine:
    """Scores batches of centres in this process (numba threads over centres).

    Parameters
    ----------
    samples : Samples
        All samples; the k-d tree over them is built once, here.
    """

    def __init__(self, samples: Samples) -> None:
        self.samples = samples
        self.index = samples.index()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def blocks(
        self, rows: np.ndarray, scale: Scale, opts: BlockOptions, progress: str | None = None
    ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """``(positions, columns)`` per batch: the columns of the centres ``rows[positions]``.

        Batches follow :func:`spatial_order`; together they cover every position once.
        """
        step = batch_size(scale)
        order = spatial_order(self.index, rows)
        starts = range(0, len(rows), step)
        if progress is not None:
            from tqdm import tqdm

            starts = tqdm(starts, desc=progress, unit="batch", leave=False)
        for a in starts:
            pos = order[a : a + step]
            yield pos, score_block(self.index, self.samples, rows[pos], scale, opts)
