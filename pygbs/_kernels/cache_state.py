"""Whether the numba kernels of a scoring run are in numba's on-disk cache yet.

Every kernel is compiled with ``cache=True``: the first run after an install compiles
them (tens of seconds), later runs load them from the cache (about a second). This module
tells the two apart before a run, so that the command line can say why the first run is
slow. It reads the paths of numba's cache index files; where a numba version lays its
cache out differently, nothing is reported.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

__all__ = ["CORE_KERNELS", "SCORE_KERNELS", "kernels_for", "uncached_kernels"]

#: Kernels that every scoring run compiles: the k-d tree, the neighbour search, the SSI
#: statistic and its moments (module of ``pygbs._kernels``, function).
CORE_KERNELS = (
    ("kdtree", "build"),
    ("kdtree", "knn_batch"),
    ("ssi", "ssi_batch"),
    ("stats", "analytic_moments"),
)
#: Kernels that only some scores compile, by score name (``pygbs score --score``).
SCORE_KERNELS = {
    "performance": (("performance", "performance_batch"),),
    "sri-grid": (("sri", "sri_kernel"),),
    "sri-lag": (("sri", "sri_kernel"),),
    "sri-sector": (("sri", "sri_kernel"),),
}


def kernels_for(scores: tuple[str, ...] | list[str] = ()) -> tuple[tuple[str, str], ...]:
    """The kernels a run of ``scores`` compiles: :data:`CORE_KERNELS` and the scores' own.

    Parameters
    ----------
    scores
        Score names as ``pygbs score --score`` takes them.

    Returns
    -------
    tuple of (str, str)
        ``(module, function)`` pairs, each once.
    """
    extra = [k for s in scores for k in SCORE_KERNELS.get(s, ())]
    return tuple(dict.fromkeys(CORE_KERNELS + tuple(extra)))


def _index_path(dispatcher: object) -> Path | None:
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    path = getattr(cache_file, "_index_path", None)
    return Path(path) if path else None


def uncached_kernels(
    kernels: tuple[tuple[str, str], ...] = CORE_KERNELS,
) -> tuple[list[str], Path | None]:
    """The kernels that the next run will compile, and numba's cache folder.

    Parameters
    ----------
    kernels
        ``(module, function)`` pairs of :mod:`pygbs._kernels`.

    Returns
    -------
    list of str
        ``module.function`` of each kernel whose cache index file is missing (empty when
        all are cached, or when the cache layout is not the one expected).
    pathlib.Path or None
        The cache folder of the first kernel, when known.
    """
    missing: list[str] = []
    folder: Path | None = None
    for module, name in kernels:
        dispatcher = getattr(importlib.import_module(f"pygbs._kernels.{module}"), name)
        path = _index_path(dispatcher)
        if path is None:
            return [], None
        folder = folder or path.parent
        if not os.path.exists(path):
            missing.append(f"{module}.{name}")
    return missing, folder
