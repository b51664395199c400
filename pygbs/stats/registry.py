"""The registry of scores: one entry defines everything about a score.

Each :class:`ScoreDef` holds a score's name (the ``--score`` choice), its per-centre
column, the label and units of its plots, whether it has a p-value, and the function that
computes it for a batch of neighbourhoods. The CLI's choices, the map and report labels,
the result table and :func:`pygbs.score` all read :data:`REGISTRY`; adding a score is one
entry here plus its computing function (docs/method.md, "Adding a score").
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

# NumPy and the kernels are imported inside the functions: this module is read by the
# command line's option parsing, which must stay light (docs/benchmarks.md)

__all__ = [
    "REASONS",
    "REGISTRY",
    "Batch",
    "ScoreDef",
    "ScoreValues",
    "get_score",
    "score_columns",
]

#: Why a centre got no score: the reason codes of :attr:`ScoreValues.reason` and the
#: summary counts they become (0 = scored).
REASONS = {
    1: "n_skipped_min_points",
    2: "n_skipped_one_location",
    3: "n_skipped_no_part",
    4: "n_skipped_constant",
    5: "n_skipped_zero_variance",
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


def _ssi_pair(batch: Batch) -> dict[str, np.ndarray]:
    from pygbs.stats.ssi import ssi_scores

    o = batch.opts
    return ssi_scores(
        batch.index,
        batch.nb,
        batch.marks,
        unmarked="unmarked" in o.scores,
        marked="marked" in o.scores,
        method=o.method,
        k=o.k,
        min_points=o.min_points,
        presence=o.presence,
        graph=o.graph,
        permutations=o.permutations,
        seed=o.seed,
        draws=batch.draws if "marked" in o.scores else None,
    )


def _ssi_reason(batch: Batch) -> np.ndarray:
    import numpy as np

    from pygbs.stats.ssi import MIN_RADIUS

    small = batch.nb.sizes < batch.opts.min_points
    reason = np.zeros(len(small), dtype=np.int8)
    reason[small] = 1
    reason[~small & (batch.nb.radius <= MIN_RADIUS)] = 2
    return reason


def _unmarked(batch: Batch) -> ScoreValues:
    res = batch.shared("ssi", lambda: _ssi_pair(batch))
    return ScoreValues(res["unmarked_ssi"], res["unmarked_ssi_p"], _ssi_reason(batch))


def _marked(batch: Batch) -> ScoreValues:
    import numpy as np

    res = batch.shared("ssi", lambda: _ssi_pair(batch))
    values = res["marked_ssi"]
    return ScoreValues(
        values, res["marked_ssi_p"], _ssi_reason(batch), batch.constant & np.isfinite(values)
    )


def _performance_all(batch: Batch) -> dict[str, np.ndarray]:
    from pygbs.stats.ssi import performance_scores

    o = batch.opts
    # the reference's null is specific to patterns with background points: analytic by
    # default, permutation on request
    method = "permutation" if o.method == "permutation" else "analytic"
    return performance_scores(
        batch.index,
        batch.nb,
        batch.marks,
        method=method,
        k=o.k,
        min_points=o.min_points,
        permutations=o.permutations,
        seed=o.seed,
    )


def _scored_reason(batch: Batch, values: np.ndarray, code: int) -> np.ndarray:
    """:func:`_ssi_reason`, and ``code`` where a centre that could be scored has no value."""
    import numpy as np

    reason = _ssi_reason(batch)
    reason[(reason == 0) & ~np.isfinite(values)] = code
    return reason


def _performance(batch: Batch) -> ScoreValues:
    import numpy as np

    res = batch.shared("performance", lambda: _performance_all(batch))
    values = res["performance_ssi"]
    return ScoreValues(
        values,
        res["performance_ssi_p"],
        _scored_reason(batch, values, 5),
        batch.constant & np.isfinite(values),
    )


def _moran(batch: Batch) -> ScoreValues:
    res = batch.shared("performance", lambda: _performance_all(batch))
    values = res["performance_moran"]
    return ScoreValues(values, None, _scored_reason(batch, values, 4), None)


def _performance_null_all(batch: Batch, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pygbs.stats.ssi import performance_null

    o = batch.opts
    return performance_null(batch.index, batch.nb, draws, k=o.k, min_points=o.min_points)


def _performance_null(batch: Batch, draws: np.ndarray) -> np.ndarray:
    return batch.shared("performance_null", lambda: _performance_null_all(batch, draws))[0]


def _moran_null(batch: Batch, draws: np.ndarray) -> np.ndarray:
    return batch.shared("performance_null", lambda: _performance_null_all(batch, draws))[1]


def _marked_null(batch: Batch, draws: np.ndarray) -> np.ndarray:
    # scored with the observed marked SSI, on its graph (pygbs.stats.ssi.ssi_scores)
    return batch.shared("ssi", lambda: _ssi_pair(batch))["marked_null"]


def _sri_null(partition: str) -> Callable[[Batch, np.ndarray], np.ndarray]:
    def null(batch: Batch, draws: np.ndarray) -> np.ndarray:
        from pygbs.stats.sri import sri_null_for_batch

        wanted = [d.name.removeprefix("sri-") for d in REGISTRY.values()
                  if d.name.startswith("sri-") and d.name in batch.opts.scores]  # fmt: skip
        res = batch.shared("sri_null", lambda: sri_null_for_batch(batch, wanted, draws))
        return res[partition]

    return null


def _sri(partition: str) -> Callable[[Batch], ScoreValues]:
    def compute(batch: Batch) -> ScoreValues:
        from pygbs.stats.sri import sri_for_batch

        wanted = [d.name.removeprefix("sri-") for d in REGISTRY.values()
                  if d.name.startswith("sri-") and d.name in batch.opts.scores]  # fmt: skip
        res = batch.shared("sri", lambda: sri_for_batch(batch, wanted))
        return res[partition]

    return compute


_SSI_UNITS = "nats, -ln p"
_SRI_UNITS = "nats, KL divergence"

#: Every score, by ``--score`` name, in table order.
_SSI_SKIPS = ("n_skipped_min_points", "n_skipped_one_location")
_SRI_SKIPS = ("n_skipped_min_points", "n_skipped_no_part")
_PERF_SKIPS = (*_SSI_SKIPS, "n_skipped_zero_variance")
_MORAN_SKIPS = (*_SSI_SKIPS, "n_skipped_constant")

#: Every score, by ``--score`` name, in table order.
REGISTRY: dict[str, ScoreDef] = {
    d.name: d
    for d in (
        ScoreDef(
            "unmarked", "unmarked_ssi", "unmarked SSI", _SSI_UNITS, True, _unmarked,
            "how clustered the samples are (the same for every model of a dataset)",
            _SSI_SKIPS, uses_performance=False,
        ),
        ScoreDef(
            "marked", "marked_ssi", "marked SSI", _SSI_UNITS, True, _marked,
            "how clustered performance is, samples against background points",
            _SSI_SKIPS, True, _marked_null,
        ),
        ScoreDef(
            "sri-grid", "sri_grid", "SRI, scale grid", _SRI_UNITS, False, _sri("grid"),
            "how performance differs between square cells of the neighbourhood",
            _SRI_SKIPS, True, _sri_null("grid"),
        ),
        ScoreDef(
            "sri-lag", "sri_lag", "SRI, distance lag", _SRI_UNITS, False, _sri("lag"),
            "how performance differs between distance rings around the centre",
            _SRI_SKIPS, True, _sri_null("lag"),
        ),
        ScoreDef(
            "sri-sector", "sri_sector", "SRI, direction sector", _SRI_UNITS, False,
            _sri("sector"), "how performance differs between direction sectors",
            _SRI_SKIPS, True, _sri_null("sector"),
        ),
        ScoreDef(
            "performance", "performance_ssi", "performance SSI", _SSI_UNITS, True,
            _performance, "how clustered errors are among the samples alone",
            _PERF_SKIPS, True, _performance_null,
        ),
        ScoreDef(
            "moran", "moran_i", "Moran's I of performance", "Moran's I (effect size)", False,
            _moran, "how strongly performance is autocorrelated among the samples (an "
            "effect size that does not grow with the neighbourhood)",
            _MORAN_SKIPS, False, _moran_null,
        ),
    )
}  # fmt: skip


def get_score(key: str) -> ScoreDef:
    """The score named ``key`` (a ``--score`` name or its column)."""
    from pygbs.errors import InputError

    if key in REGISTRY:
        return REGISTRY[key]
    for d in REGISTRY.values():
        if d.column == key:
            return d
    raise InputError(f"unknown score {key!r}; choose from {list(REGISTRY)}")


def score_columns() -> dict[str, str]:
    """``--score`` name -> per-centre column, for every registered score."""
    return {d.name: d.column for d in REGISTRY.values()}
