"""Spatial relative information (docs/method.md, D5): SRI of three partitions, and its options.

The computing functions call :func:`pygbs.stats.sri.sri_for_batch` (imported when a batch
is scored: this module is read by the command line's option parsing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pygbs.stats.definition import Batch, ScoreDef, ScoreValues, Surrogate
from pygbs.stats.options import Options, option

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SRIOptions"]

ORDER = 20

_SRI_UNITS = "nats, KL divergence"
_SRI_SKIPS = ("n_skipped_min_points", "n_skipped_no_part")


@dataclass(frozen=True)
class SRIOptions(Options):
    """Options of spatial relative information.

    Attributes
    ----------
    sri_scale, sri_lag : float or None
        Grid cell side and ring width in radians (default: half and a quarter of each
        neighbourhood's radius); on the command line in km.
    sri_sectors : int
        Direction sectors.
    sri_threshold : int
        Parts with fewer samples are skipped.
    sri_bins : int or None
        Histogram bins (default: 2 for +-1 codes, else 10).
    """

    SUMMARY_BLOCK: ClassVar[str | None] = "sri"
    SUMMARY_ALWAYS: ClassVar[bool] = True

    sri_scale: float | None = option(
        None,
        "SRI: grid cell side in km (default: half the radius).",
        flag="--sri-cell-km",
        kind=float,
        low=0,
        low_open=True,
        none=True,
        km=True,
        summary="scale_rad",
    )
    sri_lag: float | None = option(
        None,
        "SRI: distance ring width in km (default: a quarter of the radius).",
        flag="--sri-lag-km",
        kind=float,
        low=0,
        low_open=True,
        none=True,
        km=True,
        summary="lag_rad",
    )
    sri_sectors: int = option(
        8, "SRI: number of direction sectors.", flag="--sri-sectors", low=1, summary="sectors"
    )
    sri_threshold: int = option(
        20,
        "SRI: parts with fewer samples are skipped.",
        flag="--sri-threshold",
        low=1,
        summary="threshold",
    )
    sri_bins: int | None = option(
        None,
        "SRI: histogram bins (default: 2 for +-1 codes, else 10).",
        flag="--sri-bins",
        low=1,
        none=True,
        summary="bins",
    )


OPTIONS = SRIOptions


def _wanted(batch: Batch) -> list[str]:
    return [d.removeprefix("sri-") for d in ("sri-grid", "sri-lag", "sri-sector")
            if d in batch.opts.scores]  # fmt: skip


def _sri(partition: str) -> Callable[[Batch], ScoreValues]:
    def compute(batch: Batch) -> ScoreValues:
        from pygbs.stats.sri import sri_for_batch

        res = batch.shared(
            "sri", lambda: sri_for_batch(batch, _wanted(batch), batch.opts.of(SRIOptions))
        )
        return res[partition]

    return compute


def _sri_null(partition: str) -> Callable[[Batch, np.ndarray], np.ndarray]:
    def null(batch: Batch, draws: np.ndarray) -> np.ndarray:
        from pygbs.stats.sri import sri_null_for_batch

        res = batch.shared(
            "sri_null",
            lambda: sri_null_for_batch(batch, _wanted(batch), draws, batch.opts.of(SRIOptions)),
        )
        return res[partition]

    return null


def _surrogate(partition: str, description: str) -> Any:
    return Surrogate(f"sri-{partition}", "sri", partition=partition, description=description)


_SRI_KERNELS = (("sri", "sri_kernel"),)

SCORES = (
    ScoreDef(
        "sri-grid", "sri_grid", "SRI, scale grid", _SRI_UNITS, False, _sri("grid"),
        "how performance differs between square cells of the neighbourhood",
        _SRI_SKIPS, True, _sri_null("grid"), options=SRIOptions,
        surrogate=_surrogate("grid", "SRI over square grid cells"), kernels=_SRI_KERNELS,
    ),
    ScoreDef(
        "sri-lag", "sri_lag", "SRI, distance lag", _SRI_UNITS, False, _sri("lag"),
        "how performance differs between distance rings around the centre",
        _SRI_SKIPS, True, _sri_null("lag"), options=SRIOptions,
        surrogate=_surrogate(
            "lag", "SRI over distance rings (share of right predictions per ring)"
        ),
        kernels=_SRI_KERNELS,
    ),
    ScoreDef(
        "sri-sector", "sri_sector", "SRI, direction sector", _SRI_UNITS, False,
        _sri("sector"), "how performance differs between direction sectors",
        _SRI_SKIPS, True, _sri_null("sector"), options=SRIOptions,
        surrogate=_surrogate("sector", "SRI over direction sectors"), kernels=_SRI_KERNELS,
    ),
)  # fmt: skip
