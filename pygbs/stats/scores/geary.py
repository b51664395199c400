"""Geary's C of performance among a neighbourhood's samples (``--score geary``).

C compares the coded performance of neighbouring samples: below 1 they are alike
(performance is clustered), above 1 they differ, 1 is no autocorrelation. It is computed
on the same k-NN graph among the samples as performance SSI and Moran's I (``--k``), with
a z-value and a one-sided p-value in the direction of ``C - 1`` under normality or
randomisation (``--geary-variance``; the formulas of ``esda.Geary``), and an
accuracy-matched null (docs/method.md, D7). The work happens in :mod:`pygbs._kernels.geary`.

This module is the whole statistic: its options, its scores, its batch functions. NumPy and
the kernel are imported inside the functions (the command line reads this module to build
its options and must stay light).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from pygbs.stats.definition import Batch, ScoreDef, ScoreValues
from pygbs.stats.options import Options, option
from pygbs.stats.scores.performance import four_points
from pygbs.stats.scores.ssi import SSI_SKIPS, SSIOptions, scored_reason

if TYPE_CHECKING:
    import numpy as np

    from pygbs.geo.neighbours import Neighbourhoods, SphereIndex

__all__ = ["GearyOptions", "geary_null", "geary_scores"]

ORDER = 40

#: The variance assumptions of the p-value.
VARIANCES = ("randomization", "normal")


@dataclass(frozen=True)
class GearyOptions(Options):
    """Options of Geary's C.

    Attributes
    ----------
    geary_variance : {'randomization', 'normal'}
        Null variance of C behind its z- and p-value: under a random permutation of the
        observed values, or with values drawn from a normal distribution.
    """

    SUMMARY_BLOCK: ClassVar[str | None] = "geary"

    geary_variance: str = option(
        "randomization",
        "Geary's C: null variance of its p-value, under random permutations of the "
        "observed values or for normally distributed values.",
        flag="--geary-variance",
        kind=str,
        choices=VARIANCES,
        summary="variance",
    )


OPTIONS = GearyOptions


def _active(nbhd: Neighbourhoods, min_points: int) -> np.ndarray:
    import numpy as np

    from pygbs.stats.ssi import MIN_RADIUS

    return np.ascontiguousarray((nbhd.sizes >= min_points) & (nbhd.radius > MIN_RADIUS))


def geary_scores(
    index: SphereIndex,
    nbhd: Neighbourhoods,
    marks: np.ndarray,
    *,
    k: int = 4,
    min_points: int = 5,
    variance: str = "randomization",
) -> dict[str, np.ndarray]:
    """Geary's C of the coded performance in every neighbourhood, with z- and p-values.

    Parameters
    ----------
    index : SphereIndex
        All samples.
    nbhd : Neighbourhoods
        Neighbourhoods of the centres (one scale).
    marks : ndarray of shape (n,)
        Coded performance per sample.
    k : int, default=4
        Neighbours per sample of the directed k-NN graph among the samples.
    min_points : int, default=5
        Neighbourhoods with fewer samples (at least 4 are needed), or with every sample at
        one place, are not scored.
    variance : {'randomization', 'normal'}, default='randomization'
        Null variance of C.

    Returns
    -------
    dict
        ``geary_c``, ``geary_z``, ``geary_p``: arrays of length ``len(nbhd.centres)``, NaN
        where not scored or where the samples share one coded value.
    """
    import numpy as np

    from pygbs._kernels.geary import (
        OUT_C,
        OUT_P,
        OUT_Z,
        VARIANCE_NORMAL,
        VARIANCE_RANDOMIZATION,
        geary_batch,
    )
    from pygbs.runtime import call_kernel

    GearyOptions(geary_variance=variance)
    marks = np.ascontiguousarray(marks, dtype=np.float64)
    code = VARIANCE_NORMAL if variance == "normal" else VARIANCE_RANDOMIZATION
    out = call_kernel(
        geary_batch,
        index.lat_rad,
        index.lon_rad,
        index.coslat,
        index.xyz,
        marks,
        np.ascontiguousarray(nbhd.centres, dtype=np.int64),
        np.ascontiguousarray(nbhd.indptr, dtype=np.int64),
        np.ascontiguousarray(nbhd.indices, dtype=np.int64),
        _active(nbhd, max(int(min_points), 4)),
        int(k),
        code,
    )
    return {"geary_c": out[:, OUT_C], "geary_z": out[:, OUT_Z], "geary_p": out[:, OUT_P]}


def geary_null(
    index: SphereIndex,
    nbhd: Neighbourhoods,
    draws: np.ndarray,
    *,
    k: int = 4,
    min_points: int = 5,
) -> np.ndarray:
    """Geary's C of every neighbourhood under each labelling ``draws[r]``: shape (c, R)."""
    import numpy as np

    from pygbs._kernels.geary import geary_null_batch
    from pygbs.runtime import call_kernel

    return call_kernel(
        geary_null_batch,
        index.lat_rad,
        index.lon_rad,
        index.coslat,
        index.xyz,
        np.ascontiguousarray(draws, dtype=np.float64),
        np.ascontiguousarray(nbhd.centres, dtype=np.int64),
        np.ascontiguousarray(nbhd.indptr, dtype=np.int64),
        np.ascontiguousarray(nbhd.indices, dtype=np.int64),
        _active(nbhd, max(int(min_points), 4)),
        int(k),
    )


def _geary(batch: Batch) -> ScoreValues:
    from pygbs.stats.coincident import skip_order_dependent

    res = geary_scores(
        batch.index,
        batch.nb,
        batch.marks,
        k=batch.opts.of(SSIOptions).k,
        min_points=batch.opts.common.min_points,
        variance=batch.opts.of(GearyOptions).geary_variance,
    )
    values = res["geary_c"]
    sv = ScoreValues(values, res["geary_p"], scored_reason(batch, values, 4), None)
    return skip_order_dependent(batch, sv, batch.opts.of(SSIOptions).k)


def _geary_null(batch: Batch, draws: np.ndarray) -> np.ndarray:
    from pygbs.stats.coincident import null_without_order_dependent

    k = batch.opts.of(SSIOptions).k
    null = geary_null(batch.index, batch.nb, draws, k=k, min_points=batch.opts.common.min_points)
    return null_without_order_dependent(batch, null, k)


SCORES = (
    ScoreDef(
        "geary", "geary_c", "Geary's C of performance", "Geary's C (1: no autocorrelation)",
        True, _geary, "how alike neighbouring samples' performance is (below 1: alike, "
        "clustered; above 1: unlike); an effect size with a p-value",
        (*SSI_SKIPS, "n_skipped_constant"), False, _geary_null, options=GearyOptions,
        requires=four_points("geary", "its null variance needs 4 samples"),
        kernels=(("geary", "geary_batch"),),
    ),
)  # fmt: skip
