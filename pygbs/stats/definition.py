"""What a score is: its definition (:class:`ScoreDef`) and what its functions exchange.

A statistic family declares its :class:`ScoreDef` entries, and its options class, in one
module of :mod:`pygbs.stats.scores`; :mod:`pygbs.stats.registry` collects them. The
computing functions get a :class:`Batch` (centres at one scale, the samples, the options)
and return :class:`ScoreValues`.

This module imports nothing heavy (the command line reads the definitions).
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
    from pygbs.stats.options import Options
    from pygbs.stats.scoring import ScoringOptions

__all__ = [
    "MAX_ABS_CODE",
    "REASONS",
    "Batch",
    "ScoreDef",
    "ScoreValues",
    "Surrogate",
    "constant_neighbourhoods",
]

#: Largest coded value (in magnitude) the statistics take: their sums of 4th powers of
#: deviations (the kurtosis of the analytic variances) stay finite up to 10**68 samples.
MAX_ABS_CODE = 1e60

#: Why a centre got no score: the reason codes of :attr:`ScoreValues.reason` and the
#: summary counts they become (0 = scored).
REASONS = {
    1: "n_skipped_min_points",
    2: "n_skipped_one_location",
    3: "n_skipped_no_part",
    4: "n_skipped_constant",
    5: "n_skipped_zero_variance",
    6: "n_skipped_coincident",
}


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
        Why a centre is not scored (:data:`REASONS`; 0 where scored).
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
    opts : ScoringOptions
        The validated options of the run (:class:`pygbs.stats.scoring.ScoringOptions`):
        ``opts.common`` and each family's options, ``opts.of(SSIOptions)``.
    draws : ndarray of shape (R, n) or None
        Coded values of every sample under each draw of the accuracy-matched null
        (docs/method.md, D7); None without a null.
    chunk : int
        Centres per call of a statistic whose neighbourhoods are searched again without
        the ``k_max`` cap (SRI): bounds memory on dense data.
    """

    index: SphereIndex
    marks: np.ndarray
    nb: Neighbourhoods
    scale: Scale
    opts: ScoringOptions
    draws: np.ndarray | None = None
    chunk: int = 2048
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


@dataclass(frozen=True)
class ScoreDef:
    """Everything about one score.

    Attributes
    ----------
    name : str
        The ``--score`` choice (``"marked"``).
    column : str
        Per-centre column (``"marked_ssi"``); its p-value is ``<column>_p``.
    label : str
        Name in plots and reports (``"marked SSI"``).
    units : str
        Units in plots (``"nats, -ln p"``).
    has_p : bool
        Whether the score has a p-value per centre.
    compute : callable
        ``compute(batch) -> ScoreValues``.
    summary : str
        One line for the docs.
    reasons : tuple of str
        The skip counts (:data:`REASONS`) the summary always reports for this score.
    counts_constant : bool
        Whether the summary reports ``n_constant`` (scored centres whose neighbourhood
        holds a single coded value).
    null : callable or None
        ``null(batch, draws) -> (c, R)`` array: the score under each permutation of the
        coded values (docs/method.md, D7).
    uses_performance : bool
        False for a score of the locations alone (its null equals the score).
    options : type of Options or None
        The options class of the score's family (None: the shared options only); its
        fields become options of the command line and of :func:`pygbs.score`.
    requires : callable or None
        ``requires(opts)`` raises :class:`pygbs.errors.InputError` when the score cannot
        run with these options (``opts``: :class:`pygbs.stats.scoring.ScoringOptions`).
    surrogate : Surrogate or None
        The score's differentiable counterpart in :mod:`encoders.losses`, if any.
    kernels : tuple of (str, str)
        ``(module, function)`` of :mod:`pygbs._kernels` that only this score compiles (the
        first-run notice of the command line).
    """

    name: str
    column: str
    label: str
    units: str
    has_p: bool
    compute: Callable[[Batch], ScoreValues]
    summary: str
    reasons: tuple[str, ...] = ()
    counts_constant: bool = False
    #: ``null(batch, draws) -> (c, R)``: the score of every centre under each labelling
    #: ``draws[r]`` of the samples (the accuracy-matched null); None where the score does
    #: not depend on the coded values (its null equals the score) or has no null.
    null: Callable[[Batch, np.ndarray], np.ndarray] | None = None
    #: Whether the score depends on the coded performance at all (unmarked SSI does not).
    uses_performance: bool = True
    options: type[Options] | None = None
    requires: Callable[[ScoringOptions], None] | None = None
    surrogate: Surrogate | None = None
    kernels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Surrogate:
    """A score's differentiable counterpart (a loss kind of :mod:`encoders.losses`).

    Attributes
    ----------
    kind : str
        The loss kind's name (``GeoBiasLoss(kind=...)``).
    family : {'ssi', 'sri'}
        Spatial self-information or relative information.
    background : bool
        SSI against background points (marked SSI) or among the samples alone.
    partition : str or None
        The SRI partition (``'grid'``, ``'lag'``, ``'sector'``).
    description : str
        One line for users.
    """

    kind: str
    family: str
    background: bool = False
    partition: str | None = None
    description: str = ""
