"""Spatial self-information (docs/method.md, D3): unmarked and marked SSI, and their options.

The computing functions call :func:`pygbs.stats.ssi.ssi_scores` (imported when a batch is
scored: this module is read by the command line's option parsing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pygbs.errors import InputError
from pygbs.stats.definition import Batch, ScoreDef, ScoreValues, Surrogate
from pygbs.stats.options import CommonOptions, Options, option

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SSIOptions", "SSI_SKIPS", "SSI_UNITS", "sample_reason", "scored_reason"]

ORDER = 10

#: Units of every SSI in plots.
SSI_UNITS = "nats, -ln p"
#: Skip counts every SSI reports.
SSI_SKIPS = ("n_skipped_min_points", "n_skipped_one_location")


@dataclass(frozen=True)
class SSIOptions(Options):
    """Options of spatial self-information (and of the scores on its weight graph).

    Attributes
    ----------
    method : {'pygbs', 'analytic', 'permutation'}
        Null distribution of SSI (docs/method.md, D3).
    k : int
        Neighbours per point of the k-NN weight graph (also of performance SSI, Moran's I
        and Geary's C among the samples).
    presence : {'all', 'good'}
        Unmarked SSI over all samples or the good ones only.
    graph : {'reference', 'strict'} or None
        k-NN rule for coincident points (default: 'reference' for ``method='pygbs'``,
        else 'strict'); see :func:`pygbs.stats.ssi.ssi_scores`.
    permutations : int
        Permutation test size (``method='permutation'``).
    """

    method: str = option(
        "pygbs",
        "SSI null distribution.",
        flag="--method",
        kind=str,
        choices=("pygbs", "analytic", "permutation"),
    )
    k: int = option(4, "Neighbours per point in the SSI weight graph.", flag="--k", low=1)
    presence: str = option(
        "all",
        "Unmarked SSI over all or only good samples.",
        flag="--presence",
        kind=str,
        choices=("all", "good"),
    )
    graph: str | None = option(
        None,
        "k-NN rule for coincident points.",
        kind=str,
        choices=("reference", "strict"),
        none=True,
    )
    permutations: int = option(
        999, "Permutations for --method permutation.", flag="--permutations", low=1
    )

    def check_with(self, common: CommonOptions, scores: tuple[str, ...]) -> None:
        """The accuracy-matched null does not run a permutation test in every draw."""
        if common.null == "accuracy" and self.method == "permutation":
            raise InputError(
                "the accuracy-matched null needs method 'pygbs' or 'analytic' (a permutation "
                "test inside every null draw would take draws x permutations passes)"
            )

    def parameters(self) -> dict[str, Any]:
        """As recorded: the graph rule in effect, the permutations only where used."""
        return {
            "method": self.method,
            "k": self.k,
            "presence": self.presence,
            "graph": self.graph or ("reference" if self.method == "pygbs" else "strict"),
            "permutations": self.permutations if self.method == "permutation" else None,
        }


OPTIONS = SSIOptions


def sample_reason(batch: Batch) -> np.ndarray:
    """Skip reasons of the scores over a neighbourhood's samples (1: too few, 2: one place)."""
    import numpy as np

    from pygbs.stats.ssi import MIN_RADIUS

    small = batch.nb.sizes < batch.opts.common.min_points
    reason = np.zeros(len(small), dtype=np.int8)
    reason[small] = 1
    reason[~small & (batch.nb.radius <= MIN_RADIUS)] = 2
    return reason


def scored_reason(batch: Batch, values: np.ndarray, code: int) -> np.ndarray:
    """:func:`sample_reason`, and ``code`` where a centre that could be scored has no value."""
    import numpy as np

    reason = sample_reason(batch)
    reason[(reason == 0) & ~np.isfinite(values)] = code
    return reason


def _ssi_pair(batch: Batch) -> dict[str, np.ndarray]:
    from pygbs.stats.ssi import ssi_scores

    o = batch.opts.of(SSIOptions)
    scores = batch.opts.scores
    return ssi_scores(
        batch.index,
        batch.nb,
        batch.marks,
        unmarked="unmarked" in scores,
        marked="marked" in scores,
        method=o.method,
        k=o.k,
        min_points=batch.opts.common.min_points,
        presence=o.presence,
        graph=o.graph,
        permutations=o.permutations,
        seed=batch.opts.common.seed,
        draws=batch.draws if "marked" in scores else None,
    )


def _unmarked(batch: Batch) -> ScoreValues:
    res = batch.shared("ssi", lambda: _ssi_pair(batch))
    return ScoreValues(res["unmarked_ssi"], res["unmarked_ssi_p"], sample_reason(batch))


def _marked(batch: Batch) -> ScoreValues:
    import numpy as np

    from pygbs.stats.coincident import skip_order_dependent

    res = batch.shared("ssi", lambda: _ssi_pair(batch))
    values = res["marked_ssi"]
    return skip_order_dependent(
        batch,
        ScoreValues(
            values, res["marked_ssi_p"], sample_reason(batch), batch.constant & np.isfinite(values)
        ),
        batch.opts.of(SSIOptions).k,
    )


def _marked_null(batch: Batch, draws: np.ndarray) -> np.ndarray:
    from pygbs.stats.coincident import null_without_order_dependent

    # scored with the observed marked SSI, on its graph (pygbs.stats.ssi.ssi_scores)
    null = batch.shared("ssi", lambda: _ssi_pair(batch))["marked_null"]
    return null_without_order_dependent(batch, null, batch.opts.of(SSIOptions).k)


SCORES = (
    ScoreDef(
        "unmarked", "unmarked_ssi", "unmarked SSI", SSI_UNITS, True, _unmarked,
        "how clustered the samples are (the same for every model of a dataset)",
        SSI_SKIPS, uses_performance=False, options=SSIOptions,
    ),
    ScoreDef(
        "marked", "marked_ssi", "marked SSI", SSI_UNITS, True, _marked,
        "how clustered performance is, samples against background points",
        SSI_SKIPS, True, _marked_null, options=SSIOptions,
        surrogate=Surrogate(
            "marked-ssi", "ssi", background=True,
            description="marked SSI: performance of the samples against background points 0",
        ),
    ),
)  # fmt: skip
