"""Per-centre scoring in bounded batches, shared by the local and the Dask engines.

This is the part of :func:`pygbs.score` that is the same in one process and on a Dask
cluster (:mod:`pygbs.engine.dask`).

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
from typing import Any

import numpy as np

from pygbs.geo.neighbours import NeighbourSearch, SphereIndex
from pygbs.geo.scales import EARTH_RADIUS_KM, Scale
from pygbs.stats.scoring import ScoringOptions

__all__ = [
    "BlockOptions",
    "LocalEngine",
    "Samples",
    "batch_size",
    "column_dtypes",
    "fixed_sum",
    "from_fixed",
    "score_batches",
    "score_block",
]

#: Most centres per batch ...
MAX_BATCH = 65_536
#: ... fewer when neighbourhoods are large: about this many neighbour entries per batch
#: (a capped 100 km scale with ``k_max=100`` takes 40,000 centres, about 100 MB of
#: neighbour indices and distances at a time).
BATCH_ENTRIES = 4_000_000
#: Centres per batch where the neighbourhood size has no bound (``k_max=None``).
UNCAPPED_BATCH = 8_192


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
    draws : ndarray of float64, shape (R, n), optional
        Permutations of ``marks``, one per draw of the accuracy-matched null
        (docs/method.md, D7); None: no null.
    """

    lon: np.ndarray
    lat: np.ndarray
    value: np.ndarray
    marks: np.ndarray
    draws: np.ndarray | None = None

    @classmethod
    def from_arrays(
        cls,
        lon: np.ndarray,
        lat: np.ndarray,
        value: np.ndarray,
        marks: np.ndarray,
        draws: np.ndarray | None = None,
    ) -> Samples:
        """The arrays as contiguous float64 (copied only where they are not)."""
        arrays = (np.ascontiguousarray(a, dtype=np.float64) for a in (lon, lat, value, marks))
        if draws is not None:
            draws = np.ascontiguousarray(draws, dtype=np.float64)
        return cls(*arrays, draws=draws)

    @cached_property
    def token(self) -> str:
        """A digest of the arrays: equal tokens mean equal samples (a cache key)."""
        h = hashlib.blake2b(digest_size=16)
        for a in (self.lon, self.lat, self.value, self.marks):
            h.update(a.shape[0].to_bytes(8, "little"))
            h.update(memoryview(a).cast("B"))
        if self.draws is not None:
            h.update(memoryview(self.draws).cast("B"))
        return h.hexdigest()

    def __len__(self) -> int:
        return int(self.lon.shape[0])

    def index(self) -> SphereIndex:
        """The k-d tree over the samples."""
        return SphereIndex(self.lon, self.lat)


@dataclass(frozen=True)
class BlockOptions:
    """Options of :func:`score_block`: the run's validated options and two engine settings.

    Attributes
    ----------
    options : ScoringOptions
        Scores and every option of the statistics (:class:`pygbs.stats.scoring.ScoringOptions`).
    sri_chunk : int
        Centres per call of SRI, whose neighbourhoods are never capped.
    local_share : bool
        Local performance is the share of good samples (+-1 codes) rather than the mean
        coded value (raw values).
    """

    options: ScoringOptions
    sri_chunk: int = 2048
    local_share: bool = True

    @property
    def scores(self) -> tuple[str, ...]:
        """The ``--score`` names of the run."""
        return self.options.scores


def column_dtypes(scores: tuple[str, ...], null: bool = False) -> dict[str, type]:
    """Per-centre columns of :func:`score_block`, in table order, with their dtypes.

    Besides the table's columns, every score has two internal columns (dropped after the
    aggregates): ``_reason:<column>`` (why a centre is not scored, see
    :data:`pygbs.stats.registry.REASONS`) and ``_constant:<column>`` (a single coded value in the
    neighbourhood). With ``null``, every score that depends on performance has a column
    ``<column>_excess`` (the score minus its mean over the null draws), and the local
    performance has the internal columns ``_local:m1`` and ``_local:m2`` (its mean and
    mean square over the draws). The per-draw sums ``_draws:<column>`` that
    :func:`score_block` also returns are not per-centre columns.
    """
    from pygbs.stats.registry import REGISTRY

    cols: dict[str, type] = {
        "n_neighbours": np.int64,
        "radius_km": np.float64,
        "mean_performance": np.float64,
        "local_performance": np.float64,
    }
    for d in REGISTRY.values():
        if d.name in scores:
            cols[d.column] = np.float64
            if d.has_p:
                cols[f"{d.column}_p"] = np.float64
            if null and d.null is not None:
                cols[f"{d.column}_excess"] = np.float64
    for d in REGISTRY.values():
        if d.name in scores:
            cols[f"_reason:{d.column}"] = np.int8
            cols[f"_constant:{d.column}"] = np.bool_
    if null:
        cols["_local:m1"] = np.float64
        cols["_local:m2"] = np.float64
    return cols


#: Per-draw sums over centres are added up in fixed point, in units of 2**-FIXED_BITS, so
#: that they do not depend on how the centres are split into batches or Dask tasks (integer
#: sums are exact in any order); values this large or larger are summed as floats instead.
FIXED_BITS = 20
_FIXED_MAX = 2.0**26


def fixed_sum(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sums along ``axis`` in fixed point (int64 units of 2**-FIXED_BITS), NaN as 0.

    Returns float64 sums (in the same units) instead when a value is too large for the
    fixed-point range; those do depend on the order of the additions.
    """
    v = np.where(np.isfinite(values), values, 0.0)
    if v.size and np.abs(v).max() >= _FIXED_MAX:
        return v.sum(axis=axis) * 2.0**FIXED_BITS
    return np.rint(v * 2.0**FIXED_BITS).astype(np.int64).sum(axis=axis).astype(object)


def _fixed_counts(counts: np.ndarray) -> np.ndarray:
    """Integer counts in the units of :func:`fixed_sum` (Python ints)."""
    return np.asarray(counts, dtype=np.int64).astype(object) * 2**FIXED_BITS


def from_fixed(sums: np.ndarray) -> np.ndarray:
    """Float values of added-up :func:`fixed_sum` results (Python ints, or floats)."""
    flat = [float(x) / 2.0**FIXED_BITS for x in np.asarray(sums, dtype=object).ravel()]
    return np.array(flat, dtype=np.float64).reshape(np.shape(sums))


def _null_columns(
    cols: dict[str, np.ndarray], column: str, observed: np.ndarray, draws: np.ndarray
) -> None:
    """Per-centre excess of one score and its per-draw sums over the scored centres."""
    finite = np.isfinite(draws)
    count = finite.sum(axis=1)
    filled = np.where(finite, draws, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre_null = np.where(count > 0, filled.sum(axis=1) / np.maximum(count, 1), np.nan)
    cols[f"{column}_excess"] = observed - centre_null
    scored = np.isfinite(observed)
    cols[f"_draws:{column}"] = np.vstack(
        [fixed_sum(filled[scored], axis=0), _fixed_counts(finite[scored].sum(axis=0))]
    )


def local_values(marks: np.ndarray, share: bool) -> np.ndarray:
    """What local performance averages: 1 for good samples, else 0; or the raw codes."""
    return (marks > 0).astype(np.float64) if share else marks


def _local_columns(
    cols: dict[str, np.ndarray], nb: Any, samples: Samples, min_points: int, share: bool
) -> None:
    """Local performance of each centre; with null draws, its moments over the draws."""
    valid = nb.sizes >= min_points
    cols["local_performance"] = np.where(
        valid, nb.mean_of(local_values(samples.marks, share)), np.nan
    )
    if samples.draws is None:
        return
    n_draws = samples.draws.shape[0]
    m1 = np.zeros(len(valid))
    m2 = np.zeros(len(valid))
    per_draw = np.empty((n_draws, int(valid.sum())))
    for r in range(n_draws):
        y = nb.mean_of(local_values(samples.draws[r], share))
        m1 += y
        m2 += y * y
        per_draw[r] = y[valid]
    sums = np.vstack(
        [
            fixed_sum(per_draw, axis=1),
            fixed_sum(per_draw * per_draw, axis=1),
            _fixed_counts(np.full(n_draws, per_draw.shape[1])),
        ]
    )
    cols["_local:m1"] = np.where(valid, m1 / n_draws, np.nan)
    cols["_local:m2"] = np.where(valid, m2 / n_draws, np.nan)
    cols["_draws:local"] = sums


def spatial_order(index: SphereIndex, rows: np.ndarray) -> np.ndarray:
    """Positions of ``rows`` in the k-d tree's leaf order (nearby centres together).

    Scoring centres in this order, rather than in row order, lets consecutive centres
    share most of their neighbours and tree nodes in the CPU caches: on large tables with
    rows in random order that is several times faster. Results do not depend on it.
    """
    rank = index.leaf_rank
    return np.argsort(rank[rows], kind="stable")


def batch_size(scale: Scale | list[Scale]) -> int:
    """Centres per batch at ``scale`` (bounded by :data:`BATCH_ENTRIES` neighbour entries).

    For several scales scored together, the smallest of their batch sizes.
    """
    if isinstance(scale, list | tuple):
        return min(batch_size(s) for s in scale)
    per_centre = scale.k if scale.is_knn else scale.k_max
    if per_centre is None:
        return UNCAPPED_BATCH
    return int(min(MAX_BATCH, max(256, BATCH_ENTRIES // max(int(per_centre), 1))))


def score_block(
    index: SphereIndex,
    samples: Samples,
    rows: np.ndarray,
    scales: list[Scale],
    opts: BlockOptions,
) -> list[dict[str, np.ndarray]]:
    """Per-centre columns (:func:`column_dtypes`) of the centres ``rows`` at each scale.

    One neighbour search serves every scale (:class:`pygbs.geo.neighbours.NeighbourSearch`);
    each requested score of :data:`pygbs.stats.registry.REGISTRY` computes its column from the
    neighbourhoods.

    Parameters
    ----------
    index : SphereIndex
        The k-d tree over ``samples``.
    samples : Samples
        All samples.
    rows : ndarray of int64
        Rows of the centres.
    scales : list of Scale
        The scales.
    opts : BlockOptions
        Scores and their options.

    Returns
    -------
    list of dict of str to ndarray
        Per scale, one array of length ``len(rows)`` per column.
    """
    from pygbs.runtime import check_interrupt
    from pygbs.stats.registry import REGISTRY, Batch

    rows = np.ascontiguousarray(rows, dtype=np.int64)
    search = NeighbourSearch(index, rows, list(scales))
    out = []
    for scale in scales:
        check_interrupt()
        nb = search.neighbourhoods(scale)
        cols: dict[str, np.ndarray] = {
            "n_neighbours": nb.sizes,
            "radius_km": nb.radius * EARTH_RADIUS_KM,
            "mean_performance": nb.mean_of(samples.value),
        }
        batch = Batch(
            index, samples.marks, nb, scale, opts.options, samples.draws, chunk=opts.sri_chunk
        )
        for d in REGISTRY.values():
            if d.name not in opts.scores:
                continue
            res = d.compute(batch)
            cols[d.column] = res.values
            if d.has_p:
                cols[f"{d.column}_p"] = res.p
            cols[f"_reason:{d.column}"] = res.reason
            cols[f"_constant:{d.column}"] = (
                np.zeros(len(rows), dtype=bool) if res.constant is None else res.constant
            )
            if samples.draws is not None and d.null is not None:
                check_interrupt()
                _null_columns(cols, d.column, res.values, d.null(batch, samples.draws))
        _local_columns(cols, nb, samples, opts.options.common.min_points, opts.local_share)
        out.append(cols)
    return out


def score_batches(
    index: SphereIndex,
    samples: Samples,
    rows: np.ndarray,
    scales: list[Scale],
    opts: BlockOptions,
) -> Iterator[tuple[np.ndarray, list[dict[str, np.ndarray]]]]:
    """``(positions, per-scale columns)`` of ``rows`` in bounded batches.

    Batches follow :func:`spatial_order` and together cover every position once; an
    interrupt is honoured between batches. Both engines score their centres this way.
    """
    from pygbs.runtime import check_interrupt

    step = batch_size(list(scales))
    order = spatial_order(index, rows)
    for a in range(0, len(rows), step):
        check_interrupt()
        pos = order[a : a + step]
        yield pos, score_block(index, samples, rows[pos], scales, opts)


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
        self,
        rows: np.ndarray,
        scales: list[Scale],
        opts: BlockOptions,
        progress: str | None = None,
    ) -> Iterator[tuple[int, np.ndarray, dict[str, np.ndarray]]]:
        """``(scale number, positions, columns)`` per batch and scale.

        Batches follow :func:`spatial_order`; together they cover every position once
        for every scale.
        """
        batches = score_batches(self.index, self.samples, rows, scales, opts)
        if progress is not None:
            from tqdm import tqdm

            total = -(-len(rows) // batch_size(list(scales)))
            batches = tqdm(batches, total=total, desc=progress, unit="batch", leave=False)
        for pos, blocks in batches:
            for j, cols in enumerate(blocks):
                yield j, pos, cols
