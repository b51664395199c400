"""Disk-cached numba build of esda's permutation engine for the hotspot statistics.

esda's ``crand.compute_chunk`` takes the local statistic as a function argument. A numba
signature with a function argument names that function object, which is a new object in
every process, and the compiled code points at it, so numba cannot reuse a cached copy:
the engine compiles again in every process (several seconds per statistic on two cores)
and, once disk caching is switched on for esda, one more copy is written to the cache each
time. :func:`_engine` is the same loop with the statistic picked by a number among three
fixed globals, so its signature holds only arrays and scalars and a later process loads it
from the cache (docs/hotspots.md).

The loop follows esda 2.9's ``compute_chunk`` (esda, BSD-3-Clause, Copyright the PySAL
developers) line by line and calls esda's own statistics and significance function. A
cached build holds the code it was compiled from, and numba only checks this file for
changes, so :func:`compute_chunk` uses it only while esda's engine and statistics have the
source text it was written for (:data:`ESDA_SOURCE_SHA`); with any other esda it calls
esda's own, uncached engine.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from typing import Any

import numpy as np
from esda.crand import compute_chunk as _esda_compute_chunk
from esda.crand import vec_permutations as _esda_vec_permutations
from esda.getisord import _g_local_crand, _g_local_star_crand
from esda.moran import _moran_local_crand
from esda.significance import _permutation_significance
from numba import njit

from pygbs.cancel import call_kernel

__all__ = [
    "ESDA_SOURCE_SHA",
    "VEC_PERMUTATIONS_SHA",
    "compute_chunk",
    "esda_source_sha",
    "vec_permutations",
]

#: SHA-256 of the source of esda's ``compute_chunk`` and of the statistics in
#: :data:`_STATISTICS` (esda 2.9.0): the code :func:`_engine` reproduces.
ESDA_SOURCE_SHA = "260cc4f0bd47ab4742060ea562a86395fd4588b9767da761bfa75ba1fe7eb79e"

#: The statistics with a cached engine, by the number :func:`_engine` takes.
_STATISTICS = (_g_local_crand, _g_local_star_crand, _moran_local_crand)


@njit(cache=True, fastmath=True, nogil=True)  # nogil: pygbs.cancel.call_kernel
def _engine(
    chunk_start,
    z_chunk,
    z,
    observed,
    cardinalities,
    self_weights,
    other_weights,
    permuted_ids,
    scaling,
    keep,
    statistic,
    island_weight,
    alternative,
):
    chunk_n = z_chunk.shape[0]
    n_samples = z.shape[0]
    p_sims = np.zeros((chunk_n,), dtype=np.float32)
    rlocals = np.empty((chunk_n, permuted_ids.shape[0])) if keep else np.empty((1, 1))
    mask = np.ones((n_samples,), dtype=np.int8) == 1
    wloc = 0
    for i in range(chunk_n):
        cardinality = cardinalities[i]
        if cardinality == 0:  # an island
            weights_i = np.zeros(2, dtype=other_weights.dtype)
            weights_i[1] = island_weight
        else:  # the self-weight first, then the next `cardinality` weights
            weights_i = np.zeros(cardinality + 1, dtype=other_weights.dtype)
            weights_i[0] = self_weights[i]
            weights_i[1:] = other_weights[wloc : (wloc + cardinality)]
        wloc += cardinality
        mask[chunk_start + i] = False
        if statistic == 0:
            rstats = _g_local_crand(chunk_start + i, z, permuted_ids, weights_i, scaling)
        elif statistic == 1:
            rstats = _g_local_star_crand(chunk_start + i, z, permuted_ids, weights_i, scaling)
        else:
            rstats = _moran_local_crand(chunk_start + i, z, permuted_ids, weights_i, scaling)
        p_sims[i] = _permutation_significance(observed[i], rstats, alternative=alternative).item()
        if keep:
            rlocals[i] = rstats
    return p_sims, rlocals


@functools.lru_cache(maxsize=1)
def esda_source_sha() -> str:
    """SHA-256 of the installed esda's engine and statistic sources (see module doc)."""
    h = hashlib.sha256()
    try:
        for fn in (_esda_compute_chunk, *_STATISTICS):
            h.update(inspect.getsource(fn.py_func).encode())
    except (OSError, TypeError):  # no source to compare: use esda's own engine
        return ""
    return h.hexdigest()


def compute_chunk(
    chunk_start: int,
    z_chunk: Any,
    z: Any,
    observed: Any,
    cardinalities: Any,
    self_weights: Any,
    other_weights: Any,
    permuted_ids: Any,
    scaling: Any,
    keep: bool,
    stat_func: Any,
    island_weight: float,
    alternative: str,
) -> Any:
    """The permutation engine ``esda.crand.compute_chunk``, from the disk cache.

    Same arguments and results as esda's. The statistics of :data:`_STATISTICS` run
    through :func:`_engine` while the installed esda matches :data:`ESDA_SOURCE_SHA`;
    anything else goes to esda's engine.
    """
    args = (chunk_start, z_chunk, z, observed, cardinalities, self_weights, other_weights)
    args += (permuted_ids, scaling, keep)
    if stat_func in _STATISTICS and esda_source_sha() == ESDA_SOURCE_SHA:
        statistic = _STATISTICS.index(stat_func)
        # under a command, Ctrl-C / SIGTERM stop the wait for the engine at once
        return call_kernel(_engine, *args, statistic, island_weight, alternative)
    return _esda_compute_chunk(*args, stat_func, island_weight, alternative)


#: SHA-256 of the source of esda's ``vec_permutations`` (esda 2.9.0), which
#: :func:`_vec_permutations` repeats line by line.
VEC_PERMUTATIONS_SHA = "97c354d407ba38d2f7d424cd8d1cc164b8b009de34eb5af413165a8353b9d18b"


@njit(cache=True, fastmath=True, nogil=True)  # nogil: pygbs.cancel.call_kernel
def _vec_permutations(max_card, n, k_replications, seed):
    # esda.crand.vec_permutations, the same draws (numba's random state is per thread)
    np.random.seed(seed)  # noqa: NPY002
    result = np.empty((k_replications, max_card), dtype=np.int64)
    for k in range(k_replications):
        result[k] = np.random.choice(n - 1, size=max_card, replace=False)  # noqa: NPY002
    return result


@functools.lru_cache(maxsize=1)
def _same_vec_permutations() -> bool:
    try:
        source = inspect.getsource(_esda_vec_permutations.py_func)
    except (OSError, TypeError):
        return False
    return hashlib.sha256(source.encode()).hexdigest() == VEC_PERMUTATIONS_SHA


def vec_permutations(max_card: int, n: int, k_replications: int, seed: int) -> Any:
    """``esda.crand.vec_permutations`` (the same draws), interruptible under a command.

    A million permutations take minutes; run through :func:`pygbs.cancel.call_kernel`,
    Ctrl-C and SIGTERM stop the wait at once. With another esda than the one
    :data:`VEC_PERMUTATIONS_SHA` was taken from, esda's own function runs.
    """
    if not _same_vec_permutations():
        return _esda_vec_permutations(max_card, n, k_replications, seed)
    return call_kernel(_vec_permutations, max_card, n, k_replications, seed)
