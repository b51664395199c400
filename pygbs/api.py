"""The user-facing function :func:`score` (and :func:`attach_samples`).

:func:`pygbs.comparing.compare` compares several models; it is re-exported here for code
written against earlier versions.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs import __version__
from pygbs._names import DEFAULT_SCALES, DEFAULT_SCORES
from pygbs.cancel import Cancel, honours_cancel
from pygbs.coding import code_performance
from pygbs.duplicates import DUPLICATES, collapse
from pygbs.duplicates import note as note_repeated
from pygbs.duplicates import summarise as dup_summary
from pygbs.engine.base import BlockOptions, LocalEngine, Samples, column_dtypes, from_fixed
from pygbs.engine.dask import DaskEngine
from pygbs.errors import InputError
from pygbs.geo.scales import EARTH_RADIUS_KM, parse_scale
from pygbs.inference.aggregate import aggregate
from pygbs.inference.bootstrap import (
    block_size_km,
    make_blocks,
)
from pygbs.inference.fdr import fdr_q_values
from pygbs.inference.null import (
    grand_variance,
    no_excess_fields,
    null_fields,
    spread_aggregate,
)
from pygbs.inference.null import null_draws as null_draws_of
from pygbs.io.predictions import read_predictions
from pygbs.predictions import Predictions
from pygbs.regression import (
    check_relative_error,
    performance_metrics,
)
from pygbs.results.result import GeoBiasResult
from pygbs.stats.coincident import ORDER_DEPENDENT, warning_text
from pygbs.stats.definition import MAX_ABS_CODE
from pygbs.stats.options import CommonOptions
from pygbs.stats.registry import REASONS, REGISTRY
from pygbs.stats.scores.sri import SRIOptions
from pygbs.stats.scores.ssi import SSIOptions
from pygbs.stats.scoring import ScoringOptions, ordered_parameters, with_options

__all__ = [
    "score",
    "attach_samples",
    "collecting_constant_notes",
    "DEFAULT_SCALES",
    "DEFAULT_SCORES",
]

log = logging.getLogger(__name__)

#: Centres per batch of uncapped SRI neighbourhoods, at most (bounds memory on dense data);
#: the batch size adapts so that a batch takes about SRI_BATCH_S seconds, so that an
#: interrupt is honoured between batches (docs/cli.md). SRI has no randomness: batches do
#: not change results.
SRI_CHUNK = 2048


def _as_predictions(
    predictions: Any, value: str | None, coords_from: Any, lon: str | None, lat: str | None
) -> Predictions:
    if isinstance(predictions, Predictions):
        if value is not None and value != predictions.value_name:
            raise InputError(
                f"predictions were read with value column {predictions.value_name!r}; "
                f"read them again with value={value!r}"
            )
        return predictions
    return read_predictions(predictions, lon=lon, lat=lat, value=value, coords_from=coords_from)


#: While :func:`compare` runs, the constant-neighbourhood notes of its models are
#: collected here and given as one warning (not one per model).
_CONSTANT_NOTES: ContextVar[list[tuple[str, str]] | None] = ContextVar(
    "_CONSTANT_NOTES", default=None
)


@contextmanager
def collecting_constant_notes() -> Iterator[list[tuple[str, str]]]:
    """Collect the constant-neighbourhood notes of the :func:`score` calls in the block.

    Yields
    ------
    list of (source, text)
        Filled while the block runs; the caller gives them as one warning.
    """
    notes: list[tuple[str, str]] = []
    token = _CONSTANT_NOTES.set(notes)
    try:
        yield notes
    finally:
        _CONSTANT_NOTES.reset(token)


def _warn_constant(source: str, counts: dict[str, tuple[int, int]]) -> None:
    """One warning per run when marked SSI neighbourhoods have a single coded value."""
    hit = {scale: c for scale, c in counts.items() if c[0] > 0}
    if not hit:
        return
    parts = ", ".join(
        f"{n} of {total} scored centres at {scale}" for scale, (n, total) in hit.items()
    )
    notes = _CONSTANT_NOTES.get()
    if notes is not None:
        notes.append((source, parts))
        return
    log.warning(
        "%s: marked SSI: %s have the same coded performance at every sample of their "
        "neighbourhood (e.g. the model is right, or wrong, everywhere there); their marked SSI "
        "equals their unmarked SSI and measures how clustered the samples are, not the "
        "performance (counted as n_constant in the summary; see The method in the documentation)",
        source,
        parts,
    )


def _warn_coincident(source: str, aggregates: dict[str, dict[str, Any]]) -> None:
    """One warning per run when centres were skipped because their graph is order-dependent."""
    counts = {
        f"{col}@{scale}": agg["n_skipped_coincident"]
        for col, per_scale in aggregates.items()
        for scale, agg in per_scale.items()
        if agg.get("n_skipped_coincident")
    }
    if counts:
        log.warning("%s", warning_text(source, counts))


def _check_magnitude(pred: Predictions, marks: np.ndarray) -> None:
    """Coded values beyond :data:`MAX_ABS_CODE` would overflow the scores' sums: refused."""
    big = np.abs(marks) > MAX_ABS_CODE
    if big.any():
        row = int(np.flatnonzero(big)[0])
        raise InputError(
            f"{pred.source}: column {pred.value_name!r}, row {row}: coded value "
            f"{float(marks[row])!r} is too large for the scores (their sums of powers "
            f"overflow; at most {MAX_ABS_CODE:g} in magnitude): rescale the column or code it "
            f"without --raw ({int(big.sum())} such rows)"
        )


def _select_centres(n: int, centres: int | Sequence[int] | None) -> np.ndarray:
    if centres is None:
        return np.arange(n, dtype=np.int64)
    if isinstance(centres, int | np.integer):
        if centres < 1:
            raise InputError(f"centres must be a positive number of rows; got {centres}")
        return np.arange(min(int(centres), n), dtype=np.int64)
    arr = np.asarray(centres)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise InputError("centres must be a number or a list of row indices")
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        raise InputError(f"centre row {int(arr[bad][0])} is outside the table (0..{n - 1})")
    return arr.astype(np.int64)


def _score_scales(
    engine: Any,
    pred: Predictions,
    rows: np.ndarray,
    parsed: list[Any],
    opts: BlockOptions,
    stats: dict[str, Any],
    show: bool,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The per-centre table of every scale and the aggregates, filled batch by batch.

    Each column is allocated once for all scales and filled in place, and the table is
    built on those arrays without a copy (docs/scale.md, "Memory"). ``stats`` holds
    ``alpha``, ``bootstrap``, ``ci`` and ``seed`` of the aggregates.
    """
    nr, ns = len(rows), len(parsed)
    null = stats["null_draws"] > 0
    kinds = column_dtypes(opts.scores, null=null)
    cols: dict[str, np.ndarray] = {
        "row": np.tile(rows, ns),
        "lon": np.tile(pred.lon[rows], ns),
        "lat": np.tile(pred.lat[rows], ns),
        "scale": np.repeat(np.array([s.name for s in parsed], dtype=object), nr),
    }
    for name, dtype in kinds.items():
        cols[name] = np.empty(nr * ns, dtype=dtype)
    draw_sums: dict[tuple[int, str], np.ndarray] = {}
    for j, pos, block in engine.blocks(rows, parsed, opts, "scoring" if show else None):
        for name, values in block.items():
            if name.startswith("_draws:"):  # per-draw sums over centres: added up
                key = (j, name.removeprefix("_draws:"))
                # fixed-point Python ints: exact in any order (pygbs.engine.base.fixed_sum)
                draw_sums[key] = draw_sums[key] + values if key in draw_sums else values
                continue
            cols[name][j * nr + pos] = values
    draw_sums = {k: from_fixed(v) for k, v in draw_sums.items()}
    defs = [d for d in REGISTRY.values() if d.name in opts.scores]
    aggregates: dict[str, dict[str, Any]] = {d.column: {} for d in defs}
    constant_counts: dict[str, tuple[int, int]] = {}
    for j, scale in enumerate(parsed):
        at = slice(j * nr, (j + 1) * nr)
        sizes = cols["n_neighbours"][at]
        cells = make_blocks(pred.lon[rows], pred.lat[rows], block_size_km(cols["radius_km"][at]))
        for d in defs:
            values = cols[d.column][at]
            p = cols[f"{d.column}_p"][at] if d.has_p else None
            agg = aggregate(values, sizes, p, stats["alpha"], cells, bootstrap=stats["bootstrap"],
                            ci=stats["ci"], seed=stats["seed"])  # fmt: skip
            reason = cols[f"_reason:{d.column}"][at]
            for code, key in REASONS.items():
                if (reason == code).any() or key in d.reasons:
                    agg[key] = int((reason == code).sum())
            if d.counts_constant:
                agg["n_constant"] = int(cols[f"_constant:{d.column}"][at].sum())
                if d.name == "marked":
                    constant_counts[scale.name] = (agg["n_constant"], agg["n_scored"])
            if null and d.null is not None:
                agg.update(
                    null_fields(
                        agg["mean"],
                        cols[f"{d.column}_excess"][at],
                        draw_sums[(j, d.column)],
                        cells,
                        bootstrap=stats["bootstrap"],
                        ci=stats["ci"],
                        seed=stats["seed"],
                    )  # fmt: skip
                )
            elif null and not d.uses_performance and opts.options.of(SSIOptions).presence == "all":
                agg.update(no_excess_fields(agg["mean"], stats["null_draws"]))
            aggregates[d.column][scale.name] = agg
        aggregates.setdefault("spread", {})[scale.name] = spread_aggregate(
            cols["local_performance"][at],
            cells,
            m1=cols["_local:m1"][at] if null else None,
            m2=cols["_local:m2"][at] if null else None,
            draw_sums=draw_sums.get((j, "local")),
            bootstrap=stats["bootstrap"],
            ci=stats["ci"],
            seed=stats["seed"],
        )
    _warn_constant(pred.source, constant_counts)
    _warn_coincident(pred.source, aggregates)
    moments: dict[str, dict[str, Any]] = {}
    if null:
        for j, scale in enumerate(parsed):
            at = slice(j * nr, (j + 1) * nr)
            moments[scale.name] = {
                "m1": cols["_local:m1"][at],
                "m2": cols["_local:m2"][at],
                "grand_var": grand_variance(draw_sums[(j, "local")]),
            }
        del cols["_local:m1"], cols["_local:m2"]
    for d in defs:
        del cols[f"_reason:{d.column}"], cols[f"_constant:{d.column}"]
        if d.has_p:
            # Benjamini-Hochberg q-values over the centres of each scale
            q = np.empty(nr * ns)
            for j in range(ns):
                at = slice(j * nr, (j + 1) * nr)
                q[at] = fdr_q_values(cols[f"{d.column}_p"][at])
            cols[f"{d.column}_q"] = q
    return pd.DataFrame(cols, copy=False), aggregates, moments


@honours_cancel
def score(
    predictions: Predictions | str | Path | pd.DataFrame,
    *,
    value: str | None = None,
    scales: Sequence[str] = CommonOptions.scales,
    scores: Sequence[str] = CommonOptions.scores,
    method: str = SSIOptions.method,
    k: int = SSIOptions.k,
    k_max: int | None = CommonOptions.k_max,
    min_points: int = CommonOptions.min_points,
    centres: int | Sequence[int] | None = None,
    threshold: float | str | None = None,
    lower_is_better: bool | None = None,
    raw: bool = False,
    transform: str = "auto",
    min_label: float | None = None,
    near_zero_labels: str | None = None,
    duplicates: str = "keep",
    presence: str = SSIOptions.presence,
    graph: str | None = SSIOptions.graph,
    permutations: int = SSIOptions.permutations,
    seed: int = CommonOptions.seed,
    alpha: float = CommonOptions.alpha,
    bootstrap: int = CommonOptions.bootstrap,
    ci: float = CommonOptions.ci,
    sri_scale: float | None = SRIOptions.sri_scale,
    sri_lag: float | None = SRIOptions.sri_lag,
    sri_sectors: int = SRIOptions.sri_sectors,
    sri_threshold: int = SRIOptions.sri_threshold,
    sri_bins: int | None = SRIOptions.sri_bins,
    coords_from: str | Path | pd.DataFrame | None = None,
    lon: str | None = None,
    lat: str | None = None,
    progress: bool = False,
    scheduler: Any = None,
    chunk_size: int | None = None,
    null: str = CommonOptions.null,
    null_draws: int = CommonOptions.null_draws,
    cancel: Cancel | None = None,
    **options: Any,
) -> GeoBiasResult:
    """Geo-bias scores of one model's per-location predictions.

    The options of the statistics are validated once, before any data is read
    (:class:`pygbs.stats.scoring.ScoringOptions`); those of statistic families that this
    signature does not name (see :mod:`pygbs.stats.scores`) are keyword arguments too and
    listed below.

    Parameters
    ----------
    predictions : Predictions, path or DataFrame
        What :func:`pygbs.read_predictions` reads.
    value : str, optional
        Performance column (default: detected, e.g. ``hit@1`` or ``relative_error``).
    scales : sequence of str, default=('100km', '1000km', 'nn50')
        ``'<r>km'`` distance scales and ``'nn<K>'`` nearest-neighbour scales.
    scores : sequence of str, default=('unmarked', 'marked')
        Any of the registered scores (the keys of :data:`pygbs.SCORE_COLUMNS`: ``'marked'``,
        ``'performance'``, ``'sri-lag'``, ``'geary'``, ...; docs/method.md, "The scores and
        their options").
    method : {'pygbs', 'analytic', 'permutation'}, default='pygbs'
        SSI null distribution (docs/method.md, D3).
    k : int, default=4
        Neighbours per point of the SSI weight graph.
    k_max : int or None, default=100
        Cap on distance-scale neighbourhoods of SSI (None: no cap).
    min_points : int, default=5
        Smaller neighbourhoods get no score (NaN) and are counted as skipped.
    centres : int or sequence of int, optional
        Score the first N valid rows, or these rows; default all.
    threshold, lower_is_better, raw, transform
        Performance coding, see :func:`pygbs.code_performance` (by default a signed error
        column is coded by its absolute value).
    min_label : float, optional
        Floor of the denominator of a relative error column (with predictions and labels
        columns): it is recomputed as ``(prediction - label) / (sign(label) *
        max(|label|, min_label))``; see :mod:`pygbs.regression`.
    near_zero_labels : {'error', 'allow'}, optional
        Default ``'error'``. A relative error column with more than 2 % of its labels
        near zero is refused (``'error'``: its coding would mark where labels are near
        zero) or coded as stored (``'allow'``); see :func:`pygbs.regression.check_relative_error`.
    duplicates : {'keep', 'collapse'}, default='keep'
        Score every row (a warning when more than 10 % of the rows share their location
        with another row), or one sample per location (its majority outcome); see
        :mod:`pygbs.duplicates`.
    presence : {'all', 'good'}, default='all'
        Unmarked SSI over all samples or the good ones only.
    graph : {'reference', 'strict'}, optional
        k-NN rule for coincident points; see :func:`pygbs.stats.ssi.ssi_scores`.
    permutations, seed : int
        Permutation test size and seed (``method='permutation'``).
    alpha : float, default=0.05
        Level of the ``share_significant`` and ``share_significant_fdr`` aggregates.
    bootstrap : int, default=1000
        Replicates of the spatial block bootstrap of each headline mean (0: no interval);
        see :mod:`pygbs.inference.bootstrap`. Seeded by ``seed``.
    ci : float, default=0.95
        Level of the headline intervals ``ci_low``/``ci_high``.
    sri_scale, sri_lag : float, optional
        Grid cell side and ring width of SRI in radians (default: half and a quarter of
        each neighbourhood's radius).
    sri_sectors, sri_threshold, sri_bins : int
        SRI direction sectors, minimum part size, histogram bins (default 2 for +-1 codes).
    coords_from : path or DataFrame, optional
        Coordinates for a prediction file that has none (row by row).
    lon, lat : str, optional
        Coordinate column names (default: detected).
    progress : bool, default=False
        Show progress bars (on a terminal only).
    scheduler : str, distributed.Client or pygbs.engine.dask.Session, optional
        Score on a Dask cluster (needs ``pip install geobias[dask]``): a scheduler address
        ``'tcp://HOST:PORT'``, ``'local:N'`` for a local cluster of N worker processes, a
        connected ``Client`` or an open ``Session``. Results are identical to the default
        single-process run (docs/scale.md).
    chunk_size : int, optional
        Centres per Dask task (default: about eight tasks per worker and scale, between
        1,024 and 65,536). Only with ``scheduler``.
    null : {'none', 'accuracy'}, default='none'
        ``'accuracy'``: also score ``null_draws`` random permutations of the coded values
        among the samples (same locations, same accuracy) and report, per score and
        scale, ``null_mean``, ``null_sd``, ``excess`` with its interval and ``p_excess``
        (docs/method.md, D7); the per-centre table gains
        ``<score>_excess``. Seeded by ``seed``.
    null_draws : int, default=99
        Draws of the accuracy-matched null.
    cancel : callable, optional
        Called between batches of work; once it returns True the run stops and raises
        :class:`~pygbs.errors.Interrupted` (see :mod:`pygbs.cancel`).

    Returns
    -------
    GeoBiasResult

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"lon": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
    ...                    "lat": [0.0, 0.1, 0.0, 0.1, 0.0, 0.1],
    ...                    "hit@1": [1, 1, 0, 0, 1, 0]})
    >>> res = score(df, scales=["nn5"], scores=["unmarked", "marked"])
    >>> list(res.centres.columns[:4])
    ['row', 'lon', 'lat', 'scale']
    """
    run = ScoringOptions.build(
        scales=scales, scores=scores, method=method, k=k, k_max=k_max, min_points=min_points,
        presence=presence, graph=graph, permutations=permutations, seed=seed, alpha=alpha,
        bootstrap=bootstrap, ci=ci, sri_scale=sri_scale, sri_lag=sri_lag,
        sri_sectors=sri_sectors, sri_threshold=sri_threshold, sri_bins=sri_bins, null=null,
        null_draws=null_draws, **options,
    )  # fmt: skip
    scores = run.scores
    parsed = [parse_scale(s, k_max=k_max, min_points=min_points) for s in scales]
    if len({s.name for s in parsed}) != len(parsed):
        raise InputError(f"scales repeat: {[s.name for s in parsed]}")
    if duplicates not in DUPLICATES:
        raise InputError(f"duplicates must be one of {', '.join(DUPLICATES)}; got {duplicates!r}")
    pred = _as_predictions(predictions, value, coords_from, lon, lat)
    pred, label_check = check_relative_error(
        pred, min_label=min_label, near_zero_labels=near_zero_labels
    )
    coding = code_performance(
        pred, threshold=threshold, lower_is_better=lower_is_better, raw=raw, transform=transform
    )
    basis = coding.basis(pred.value)
    marks = np.asarray(coding.values, dtype=np.float64)
    _check_magnitude(pred, marks)
    metrics = performance_metrics(pred, basis)
    repeated = dup_summary(pred.lon, pred.lat, marks)
    collapsed = None
    if duplicates == "collapse":
        pred, marks, basis, collapsed = collapse(pred, marks, basis, coding.rule)
    elif ORDER_DEPENDENT.intersection(scores):  # the warning names the row order's effect
        note_repeated(pred.source, repeated, log)
    else:  # ... only where a score that depends on it was asked for
        note_repeated(pred.source, {**repeated, "n_mixed_locations": 0}, log)
    rows = _select_centres(len(pred), centres)
    for s in parsed:  # nn999999 on a small table means "all samples": say so
        if s.is_knn and s.k > len(pred):
            log.warning(
                "%s: scale %s asks for the %d nearest samples, but the table has %d samples "
                "with coordinates: every neighbourhood at %s holds all of them",
                pred.source, s.name, s.k, len(pred), s.name,
            )  # fmt: skip
    opts = BlockOptions(
        run, sri_chunk=SRI_CHUNK, local_share=bool(np.isin(marks, (-1.0, 1.0)).all())
    )
    n_draws = int(null_draws) if null == "accuracy" else 0
    draws = null_draws_of(marks, n_draws, seed) if n_draws else None
    samples = Samples.from_arrays(pred.lon, pred.lat, basis, marks, draws)
    if scheduler is None:
        engine: Any = LocalEngine(samples)
    else:
        engine = DaskEngine(samples, scheduler, chunk_size=chunk_size)
    show = bool(progress and sys.stderr.isatty())
    with engine:
        stats = {"alpha": alpha, "bootstrap": bootstrap, "ci": ci, "seed": seed,
                 "null_draws": n_draws}  # fmt: skip
        table, aggregates, moments = _score_scales(engine, pred, rows, parsed, opts, stats, show)
    # rows whose exact location already occurred (hash-based, no sort of the table)
    n_dup = repeated["n_rows"] - repeated["n_locations"]
    summary = {
        "pygbs_version": __version__,
        "parameters": ordered_parameters(
            {
                **run.parameters(),
                "scales": [s.name for s in parsed],
                "transform": transform,
                "min_label": min_label,
                "near_zero_labels": near_zero_labels,
                "duplicates": duplicates,
                "local_performance": "share_good" if opts.local_share else "mean_code",
                "centres": "all"
                if centres is None
                else (int(centres) if isinstance(centres, int | np.integer) else "list"),
                "n_centres": int(len(rows)),
                "earth_radius_km": EARTH_RADIUS_KM,
            }
        ),
        "input": {
            "source": pred.source,
            "model": pred.name,
            "value_name": pred.value_name,
            "n_rows": pred.n_rows,
            "n_missing_coords": pred.n_missing_coords,
            "n_valid": len(pred),
            "coords_source": pred.coords_source,
            "coords_check": pred.coords_check,
            "n_duplicate_locations": n_dup,
            **metrics,
            "coding": coding.to_dict(),
            "relative_error_check": label_check,
            "repeated_locations": {**repeated, "collapsed": collapsed},
        },
        "aggregates": aggregates,
    }
    return GeoBiasResult.from_summary(
        table, summary, pred, coded=marks, null_moments=moments or None
    )


with_options(score)


def attach_samples(result: GeoBiasResult) -> GeoBiasResult:
    """A result read back from disk, with its predictions and their coded values again.

    Re-reads the prediction file named in the summary and codes it with the recorded
    coding (threshold, direction, transform), for maps that show per-sample performance
    (hotspots). Returns ``result`` unchanged when the file is no longer there.

    Parameters
    ----------
    result : GeoBiasResult
        From :meth:`GeoBiasResult.read`.

    Returns
    -------
    GeoBiasResult
        A copy holding ``predictions`` and ``coded``, or ``result`` itself.
    """
    from dataclasses import replace
    from os.path import exists

    summary = result.summary or {}
    info = summary.get("input") or {}
    params = summary.get("parameters") or {}
    source = info.get("source")
    if result.predictions is not None or not source or not exists(str(source)):
        return result
    coding = info.get("coding") or {}
    rule = coding.get("rule")
    try:
        pred = read_predictions(
            source,
            value=info.get("value_name") or params.get("value"),
            coords_from=params.get("coords_from"),
        )
        pred, _ = check_relative_error(
            pred, min_label=params.get("min_label"), near_zero_labels="allow"
        )
        # summaries written before the transform was recorded coded the values as stored
        coded = code_performance(
            pred,
            threshold=coding.get("threshold") if rule == "threshold" else None,
            lower_is_better=coding.get("lower_is_better") if rule in ("threshold", "raw") else None,
            transform=coding.get("transform", "none") if rule in ("threshold", "raw") else "auto",
        )
        marks = np.asarray(coded.values, dtype=np.float64)
        if params.get("duplicates") == "collapse":
            pred, marks, _, _ = collapse(pred, marks, coded.basis(pred.value), coded.rule)
    except (InputError, OSError) as exc:
        log.warning("cannot re-read the predictions %s: %s", source, exc)
        return result
    return replace(result, predictions=pred, coded=marks)


def __getattr__(name: str) -> Any:
    """``compare`` and its helpers (now in :mod:`pygbs.comparing`) under their old names."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Names that moved out of this module, and their modules.
_MOVED = {
    "compare": "pygbs.comparing",
    "paired_differences": "pygbs.comparing",
    "accuracy_correlation": "pygbs.comparing",
    "compare_by_dataset": "pygbs.by_dataset",
}
