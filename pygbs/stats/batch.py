"""What a score's computing function gets and gives: a batch of centres, one score's values.

Shared by the registry (:mod:`pygbs.stats.registry`) and the statistic modules, so that
neither imports the other to know these types. Light: NumPy is imported on use (the
command line's option parsing reads the registry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from pygbs.geo.neighbours import Neighbourhoods, SphereIndex
    from pygbs.geo.scales import Scale

__all__ = ["Batch", "ScoreValues", "constant_neighbourhoods"]


@dataclass
class ScoreValues:
    """One score of a batch of centres.

    Attributes
    ----------
    values : ndarray of float64
        The score per centre, NaN where not scored.
    p : ndarray of float64 or None
        Its p-value per centre (None for scores without one).
    reason : ndarray of int8
        Why a centre is not scored (:data:`pygbs.stats.registry.REASONS`; 0 where scored).
    constant : ndarray of bool or None
        Scored centres whose neighbourhood holds a single coded value (counted as
        ``n_constant``; None where the notion does not apply).
    """

    values: np.ndarray
    p: np.ndarray | None
    reason: np.ndarray
    constant: np.ndarray | None = None


@dataclass(eq=False)
class Batch:
    """What a score's computing function gets: a batch of centres at one scale.

    Attributes
    ----------
    index : SphereIndex
        The k-d tree over all samples.
    marks : ndarray of float64
        Coded performance of every sample.
    nb : Neighbourhoods
        The centres' (capped) neighbourhoods at ``scale``.
    scale : Scale
        The scale.
    opts : Any
        The scoring options (:class:`pygbs.engine.base.BlockOptions`).
    draws : ndarray of shape (R, n) or None
        Coded values of every sample under each draw of the accuracy-matched null
        (docs/method.md, D7); None without a null.
    """

    index: SphereIndex
    marks: np.ndarray
    nb: Neighbourhoods
    scale: Scale
    opts: Any
    draws: np.ndarray | None = None
    _shared: dict[str, Any] = field(default_factory=dict)

    def shared(self, key: str, make: Callable[[], Any]) -> Any:
        """``make()``, once per batch.

        Scores computed together (unmarked and marked SSI share one kernel call; the SRI
        partitions one uncapped neighbour search) call it with the same ``key``.
        """
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

    @cached_property
    def constant(self) -> np.ndarray:
        """Per centre: every sample of its neighbourhood has the same coded value."""
        return constant_neighbourhoods(self.marks, self.nb.indptr, self.nb.indices)


def constant_neighbourhoods(
    marks: np.ndarray, indptr: np.ndarray, indices: np.ndarray
) -> np.ndarray:
    """Per CSR neighbourhood: True when every sample has the same coded value."""
    import numpy as np

    sizes = np.diff(indptr)
    out = np.zeros(len(sizes), dtype=bool)
    full = sizes > 0
    if not full.any():
        return out
    v = marks[indices]
    starts = indptr[:-1][full]
    out[full] = np.minimum.reduceat(v, starts) == np.maximum.reduceat(v, starts)
    return out
