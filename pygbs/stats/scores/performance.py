"""Performance SSI and Moran's I: scores among a neighbourhood's samples alone (D4).

Both use the SSI weight graph's options (:class:`pygbs.stats.scores.ssi.SSIOptions`: ``k``,
and ``method`` for the permutation test) and have no options of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pygbs.errors import InputError
from pygbs.stats.definition import Batch, ScoreDef, ScoreValues, Surrogate
from pygbs.stats.scores.ssi import SSI_SKIPS, SSI_UNITS, SSIOptions, scored_reason

if TYPE_CHECKING:
    import numpy as np

    from pygbs.stats.scoring import ScoringOptions

__all__ = ["four_points"]

ORDER = 30
OPTIONS = None

_PERF_SKIPS = (*SSI_SKIPS, "n_skipped_zero_variance")
_MORAN_SKIPS = (*SSI_SKIPS, "n_skipped_constant")


def four_points(score: str, why: str) -> Callable[[ScoringOptions], None]:
    """A :attr:`ScoreDef.requires` check: ``min_points`` of at least 4 for ``score``."""

    def requires(opts: ScoringOptions) -> None:
        if opts.common.min_points < 4:
            raise InputError(
                f"min_points (--min-points) must be at least 4 for the {score} score ({why}); "
                f"got {opts.common.min_points}"
            )

    return requires


def _performance_all(batch: Batch) -> dict[str, np.ndarray]:
    from pygbs.stats.ssi import performance_scores

    o = batch.opts.of(SSIOptions)
    # the reference's null is specific to patterns with background points: analytic by
    # default, permutation on request
    method = "permutation" if o.method == "permutation" else "analytic"
    return performance_scores(
        batch.index,
        batch.nb,
        batch.marks,
        method=method,
        k=o.k,
        min_points=batch.opts.common.min_points,
        permutations=o.permutations,
        seed=batch.opts.common.seed,
    )


def _performance(batch: Batch) -> ScoreValues:
    import numpy as np

    from pygbs.stats.coincident import skip_order_dependent

    res = batch.shared("performance", lambda: _performance_all(batch))
    values = res["performance_ssi"]
    sv = ScoreValues(
        values,
        res["performance_ssi_p"],
        scored_reason(batch, values, 5),
        batch.constant & np.isfinite(values),
    )
    return skip_order_dependent(batch, sv, batch.opts.of(SSIOptions).k)


def _moran(batch: Batch) -> ScoreValues:
    from pygbs.stats.coincident import skip_order_dependent

    res = batch.shared("performance", lambda: _performance_all(batch))
    values = res["performance_moran"]
    sv = ScoreValues(values, None, scored_reason(batch, values, 4), None)
    return skip_order_dependent(batch, sv, batch.opts.of(SSIOptions).k)


def _performance_null_all(batch: Batch, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pygbs.stats.ssi import performance_null

    k = batch.opts.of(SSIOptions).k
    return performance_null(batch.index, batch.nb, draws, k=k,
                            min_points=batch.opts.common.min_points)  # fmt: skip


def _performance_null(batch: Batch, draws: np.ndarray) -> np.ndarray:
    from pygbs.stats.coincident import null_without_order_dependent

    null = batch.shared("performance_null", lambda: _performance_null_all(batch, draws))[0]
    return null_without_order_dependent(batch, null, batch.opts.of(SSIOptions).k)


def _moran_null(batch: Batch, draws: np.ndarray) -> np.ndarray:
    from pygbs.stats.coincident import null_without_order_dependent

    null = batch.shared("performance_null", lambda: _performance_null_all(batch, draws))[1]
    return null_without_order_dependent(batch, null, batch.opts.of(SSIOptions).k)


SCORES = (
    ScoreDef(
        "performance", "performance_ssi", "performance SSI", SSI_UNITS, True,
        _performance, "how clustered errors are among the samples alone",
        _PERF_SKIPS, True, _performance_null, options=SSIOptions,
        requires=four_points("performance", "its null distribution needs 4 samples"),
        surrogate=Surrogate(
            "performance-ssi", "ssi", background=False,
            description="performance SSI: Moran's I of performance among the samples alone",
        ),
        kernels=(("performance", "performance_batch"),),
    ),
    ScoreDef(
        "moran", "moran_i", "Moran's I of performance", "Moran's I (effect size)", False,
        _moran, "how strongly performance is autocorrelated among the samples (an "
        "effect size that does not grow with the neighbourhood)",
        _MORAN_SKIPS, False, _moran_null, options=SSIOptions,
    ),
)  # fmt: skip
