"""Spatial self-information (SSI) of many neighbourhoods: the validated entry point.

See docs/method.md, D3. The work happens in :mod:`pygbs._kernels.ssi` (numba, parallel over
centres, background grids included); this module checks the options, computes the
grids' rotations and unpacks the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pygbs._kernels import ssi as _k
from pygbs._kernels.null import performance_null_batch
from pygbs.errors import InputError
from pygbs.geo.background import rotations
from pygbs.geo.neighbours import Neighbourhoods, SphereIndex
from pygbs.runtime import call_kernel, check_interrupt

__all__ = ["METHODS", "marked_null", "performance_null", "performance_scores", "ssi_scores"]

#: Neighbourhoods with a smaller radius (radians; 1e-8 rad is 6 cm) have all their samples
#: at one place: no background grid can be laid (its density would overflow), no score.
MIN_RADIUS = 1e-8
#: Centres per kernel call, at most ...
CHUNK = 4096
#: ... and about this much work per call, so that a call takes well under a second (a
#: quarter of a second on one core of a 2020s laptop), the progress bar moves regularly
#: and an interrupt is honoured between calls (docs/cli.md). Work is counted in pattern
#: points (samples + ~5 background points per sample) times passes over the pattern:
#: GRAPH_COST for building its k-NN graph and the statistic, plus one per permutation and
#: score. Memory is per centre and thread, not per batch. Results do not depend on the
#: batches: each centre has its own seed.
CHUNK_POINTS = 8_000_000
GRAPH_COST = 30


def _batches(sizes: np.ndarray, passes: int = 0) -> list[tuple[int, int]]:
    """Split centres into consecutive batches bounded by CHUNK centres and CHUNK_POINTS.

    ``passes`` is the number of extra passes over each pattern (permutations times
    scores) on top of GRAPH_COST.
    """
    out = []
    a, n = 0, len(sizes)
    est = np.cumsum((6 * sizes.astype(np.int64) + 16) * (GRAPH_COST + max(int(passes), 0)))
    while a < n:
        base = est[a - 1] if a else 0
        b = int(np.searchsorted(est, base + CHUNK_POINTS, side="right"))
        b = min(max(b, a + 1), a + CHUNK, n)
        out.append((a, b))
        a = b
    return out


@dataclass(frozen=True)
class _Part:
    """Centres ``a:b`` of a set of neighbourhoods, as the SSI kernels take them."""

    centres: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    radius: np.ndarray
    active: np.ndarray
    rot: np.ndarray

    @classmethod
    def of(cls, index: SphereIndex, nbhd: Neighbourhoods, a: int, b: int, min_points: int) -> _Part:
        lo, hi = nbhd.indptr[a], nbhd.indptr[b]
        centres = nbhd.centres[a:b]
        indptr = nbhd.indptr[a : b + 1] - lo
        radius = np.ascontiguousarray(nbhd.radius[a:b], dtype=np.float64)
        active = (np.diff(indptr) >= min_points) & (radius > MIN_RADIUS)
        rot = rotations(index.lat_rad[centres], index.lon_rad[centres])
        return cls(centres, indptr, nbhd.indices[lo:hi], radius, active, rot)


#: Null-distribution methods (docs/method.md, D3).
METHODS = {
    "pygbs": _k.METHOD_PYGBS,
    "analytic": _k.METHOD_ANALYTIC,
    "permutation": _k.METHOD_PERMUTATION,
}


def ssi_scores(
    index: SphereIndex,
    nbhd: Neighbourhoods,
    marks: np.ndarray,
    *,
    unmarked: bool = True,
    marked: bool = True,
    method: str = "pygbs",
    k: int = 4,
    min_points: int = 5,
    presence: str = "all",
    graph: str | None = None,
    permutations: int = 999,
    seed: int = 0,
    progress: str | None = None,
    draws: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Unmarked and marked SSI of every neighbourhood.

    Parameters
    ----------
    index : SphereIndex
        All samples.
    nbhd : Neighbourhoods
        Neighbourhoods of the centres (one scale).
    marks : ndarray of shape (n,)
        Coded performance per sample (non-zero; 0 is the background label).
    unmarked, marked : bool, default=True
        Which scores to compute.
    method : {'pygbs', 'analytic', 'permutation'}, default='pygbs'
        Null distribution (docs/method.md, D3).
    k : int, default=4
        Neighbours per point in the weight graph.
    min_points : int, default=5
        Neighbourhoods with fewer samples, or with a radius below ``MIN_RADIUS`` (all samples
        at one place), are not scored.
    presence : {'all', 'good'}, default='all'
        Unmarked SSI over all samples, or over the good ones (``marks > 0``) only.
    graph : {'reference', 'strict'}, optional
        k-NN rule for coincident points: 'strict' gives every point exactly ``k`` other
        points; 'reference' queries ``k + 1`` points including the point itself and drops
        it only if present (the public implementation; a point with ``k + 1`` coincident
        points of lower index keeps ``k + 1`` neighbours). Default: 'reference' for
        ``method='pygbs'``, 'strict' otherwise.
    permutations : int, default=999
        Label permutations for ``method='permutation'``.
    seed : int, default=0
        Seed of the permutations (centre ``i`` uses a stream derived from ``seed`` and its
        row, so results do not depend on threading).
    progress : str, optional
        Show a progress bar (over batches of centres) with this label.
    draws : ndarray of shape (R, n), optional
        Coded values of every sample under each draw of the accuracy-matched null: the
        marked pattern is also scored under each, on the same graph (docs/method.md, D7;
        methods 'pygbs' and 'analytic').

    Returns
    -------
    dict
        ``unmarked_ssi``, ``unmarked_ssi_p``, ``unmarked_S``, ``unmarked_mu``,
        ``unmarked_sigma`` and the same for ``marked``; ``n_points`` (pattern size with
        background) — arrays of length ``len(nbhd.centres)``, NaN where not scored; with
        ``draws``, ``marked_null`` of shape (c, R).
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {sorted(METHODS)}; got {method!r}")
    if presence not in ("all", "good"):
        raise InputError(f"presence must be 'all' or 'good'; got {presence!r}")
    if graph is None:
        graph = "reference" if method == "pygbs" else "strict"
    if graph not in ("reference", "strict"):
        raise InputError(f"graph must be 'reference' or 'strict'; got {graph!r}")
    if int(k) != k or k < 1:
        raise InputError(f"k must be a positive integer; got {k!r}")
    if method == "permutation" and (int(permutations) != permutations or permutations < 1):
        raise InputError(f"permutations must be a positive integer; got {permutations!r}")
    marks = np.ascontiguousarray(marks, dtype=np.float64)
    if marks.shape != (len(index),):
        raise InputError(f"marks must have one value per sample ({len(index)}); got {marks.shape}")
    if np.any(marks == 0) or not np.all(np.isfinite(marks)):
        bad = int(np.flatnonzero((marks == 0) | ~np.isfinite(marks))[0])
        raise InputError(f"coded values must be finite and non-zero; row {bad} has {marks[bad]!r}")

    if draws is not None:
        if method == "permutation":
            raise InputError(
                "the accuracy-matched null supports method 'pygbs' or 'analytic'; got 'permutation'"
            )
        draws = _check_draws(index, draws)
    n_draws = 0 if draws is None or not marked else draws.shape[0]
    kernel_draws = draws if n_draws else np.zeros((0, len(index)))
    nc = len(nbhd.centres)
    out = np.full((nc, 2, _k.N_OUT), np.nan)
    n_points = np.zeros((nc, 2), dtype=np.int64)
    null_out = np.full((nc, n_draws), np.nan)
    good = marks > 0
    good_only = bool(unmarked and presence == "good")
    passes = (int(permutations) if method == "permutation" else 0) * (
        int(bool(unmarked)) + int(bool(marked))
    ) + n_draws // 4
    batches = _batches(nbhd.sizes, passes)
    if progress is not None:
        from tqdm import tqdm

        batches = tqdm(batches, desc=progress, unit="batch", leave=False)
    for a, b in batches:
        part = _Part.of(index, nbhd, a, b, min_points)
        check_interrupt()
        out[a:b], n_points[a:b], null_out[a:b] = call_kernel(
            _k.ssi_batch,
            index.lat_rad,
            index.lon_rad,
            index.coslat,
            index.xyz,
            marks,
            good,
            part.centres,
            part.indptr,
            part.indices,
            part.radius,
            part.active,
            part.rot,
            int(k),
            graph == "reference",
            METHODS[method],
            bool(unmarked),
            bool(marked),
            good_only,
            int(permutations),
            int(seed),
            kernel_draws,
        )
    res: dict[str, np.ndarray] = {}
    if n_draws:
        res["marked_null"] = null_out
    for j, name in ((0, "unmarked"), (1, "marked")):
        if not (unmarked if j == 0 else marked):
            continue
        res[f"{name}_ssi"] = out[:, j, _k.OUT_SSI]
        res[f"{name}_ssi_p"] = out[:, j, _k.OUT_P]
        res[f"{name}_S"] = out[:, j, _k.OUT_S]
        res[f"{name}_mu"] = out[:, j, _k.OUT_MU]
        res[f"{name}_sigma"] = out[:, j, _k.OUT_SIGMA]
    res["n_points"] = n_points.max(axis=1)
    return res


def performance_scores(
    index: SphereIndex,
    nbhd: Neighbourhoods,
    marks: np.ndarray,
    *,
    method: str = "analytic",
    k: int = 4,
    min_points: int = 5,
    permutations: int = 999,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Performance SSI of every neighbourhood (docs/method.md, D4).

    Moran's I of the coded performance among the neighbourhood's samples alone, without
    background points.

    Parameters
    ----------
    index : SphereIndex
        All samples.
    nbhd : Neighbourhoods
        Neighbourhoods of the centres (one scale).
    marks : ndarray of shape (n,)
        Coded performance per sample.
    method : {'analytic', 'permutation'}, default='analytic'
        Null distribution; the reference formula (``'pygbs'``) is specific to patterns
        with background points and is not offered.
    k : int, default=4
        Neighbours per sample in the directed k-NN graph (exactly ``k`` other samples,
        near-ties broken by index).
    min_points : int, default=5
        Neighbourhoods with fewer samples, or with a radius below ``MIN_RADIUS``, are not
        scored.
    permutations, seed : int
        Permutation test (``method='permutation'``), seeded per centre.

    Returns
    -------
    dict
        ``performance_ssi``, ``performance_ssi_p``, ``performance_S``, ``performance_mu``,
        ``performance_sigma``: arrays of length ``len(nbhd.centres)``, NaN where not
        scored; a neighbourhood whose samples share one coded value has p = 1, SSI 0.
    """
    from pygbs._kernels.performance import performance_batch

    if method not in ("analytic", "permutation"):
        raise InputError(
            f"performance SSI supports method 'analytic' or 'permutation'; got {method!r}"
        )
    if int(k) != k or k < 1:
        raise InputError(f"k must be a positive integer; got {k!r}")
    marks = np.ascontiguousarray(marks, dtype=np.float64)
    if marks.shape != (len(index),):
        raise InputError(f"marks must have one value per sample ({len(index)}); got {marks.shape}")
    active = (nbhd.sizes >= min_points) & (nbhd.radius > MIN_RADIUS)
    out = performance_batch(
        index.lat_rad,
        index.lon_rad,
        index.coslat,
        index.xyz,
        marks,
        np.ascontiguousarray(nbhd.centres, dtype=np.int64),
        np.ascontiguousarray(nbhd.indptr, dtype=np.int64),
        np.ascontiguousarray(nbhd.indices, dtype=np.int64),
        np.ascontiguousarray(active),
        int(k),
        METHODS[method],
        int(permutations),
        int(seed),
    )
    from pygbs._kernels.performance import OUT_I

    names = ("ssi", "ssi_p", "S", "mu", "sigma", "moran")
    cols = (_k.OUT_SSI, _k.OUT_P, _k.OUT_S, _k.OUT_MU, _k.OUT_SIGMA, OUT_I)
    return {f"performance_{n}": out[:, c] for n, c in zip(names, cols, strict=True)}


def _check_draws(index: SphereIndex, draws: np.ndarray) -> np.ndarray:
    draws = np.ascontiguousarray(draws, dtype=np.float64)
    if draws.ndim != 2 or draws.shape[1] != len(index):
        raise InputError(f"null draws must have shape (draws, {len(index)}); got {draws.shape}")
    return draws


def marked_null(
    index: SphereIndex,
    nbhd: Neighbourhoods,
    draws: np.ndarray,
    *,
    method: str = "pygbs",
    k: int = 4,
    min_points: int = 5,
    graph: str | None = None,
) -> np.ndarray:
    """Marked SSI of every neighbourhood under each of several labellings of the samples.

    The point patterns and their k-NN graphs are built once per centre and every
    labelling is scored on them (docs/method.md, D7); :func:`ssi_scores` with ``draws``
    does the same alongside the observed scores.

    Parameters
    ----------
    index : SphereIndex
        All samples.
    nbhd : Neighbourhoods
        Neighbourhoods of the centres (one scale).
    draws : ndarray of shape (R, n)
        Coded values of every sample, one row per labelling (non-zero).
    method : {'pygbs', 'analytic'}, default='pygbs'
        Null distribution of each labelling's score (as :func:`ssi_scores`).
    k, min_points, graph
        As :func:`ssi_scores`.

    Returns
    -------
    ndarray of shape (c, R)
        Marked SSI per centre and labelling; NaN where not scored.
    """
    draws = _check_draws(index, draws)
    res = ssi_scores(
        index, nbhd, draws[0], unmarked=False, method=method, k=k, min_points=min_points,
        graph=graph, draws=draws,
    )  # fmt: skip
    return res["marked_null"]


def performance_null(
    index: SphereIndex,
    nbhd: Neighbourhoods,
    draws: np.ndarray,
    *,
    k: int = 4,
    min_points: int = 5,
) -> tuple[np.ndarray, np.ndarray]:
    """Performance SSI and Moran's I of every neighbourhood under each labelling.

    Parameters
    ----------
    index : SphereIndex
        All samples.
    nbhd : Neighbourhoods
        Neighbourhoods of the centres (one scale).
    draws : ndarray of shape (R, n)
        Coded values of every sample, one row per labelling.
    k, min_points
        As :func:`performance_scores`.

    Returns
    -------
    ssi, moran : ndarray of shape (c, R)
        Analytic performance SSI (0 for a constant labelling) and Moran's I (NaN for a
        constant labelling); NaN where not scored.
    """
    draws = _check_draws(index, draws)
    active = (nbhd.sizes >= min_points) & (nbhd.radius > MIN_RADIUS)
    check_interrupt()
    return call_kernel(
        performance_null_batch,
        index.lat_rad,
        index.lon_rad,
        index.coslat,
        index.xyz,
        draws,
        np.ascontiguousarray(nbhd.centres, dtype=np.int64),
        np.ascontiguousarray(nbhd.indptr, dtype=np.int64),
        np.ascontiguousarray(nbhd.indices, dtype=np.int64),
        np.ascontiguousarray(active),
        int(k),
    )
