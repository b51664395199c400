"""The user-facing functions :func:`score` and :func:`compare`."""

from __future__ import annotations

import hashlib
import logging
import os
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
from pygbs.coding import code_performance
from pygbs.duplicates import DUPLICATES, collapse
from pygbs.duplicates import collecting as collecting_repeated
from pygbs.duplicates import note as note_repeated
from pygbs.duplicates import summarise as dup_summary
from pygbs.duplicates import warning_text as repeated_text
from pygbs.engine.base import BlockOptions, LocalEngine, Samples, column_dtypes, from_fixed
from pygbs.errors import CoordinatesError, EmptyInputError, InputError, NoCoordinatesError
from pygbs.geo.scales import EARTH_RADIUS_KM, parse_scale
from pygbs.grouping import unique_names
from pygbs.hints import offers
from pygbs.inference.bootstrap import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_CI,
    block_size_km,
    make_blocks,
    paired_bootstrap,
)
from pygbs.inference.null import (
    grand_variance,
    no_excess_fields,
    null_fields,
    spread_aggregate,
    spread_pair,
)
from pygbs.inference.null import null_draws as null_draws_of
from pygbs.io.predictions import _read_predictions, looks_encoded, read_predictions
from pygbs.predictions import Predictions
from pygbs.regression import (
    METRIC_COLUMNS,
    check_relative_error,
    metric_column,
    performance_metrics,
)
from pygbs.results.result import (
    SCORE_COLUMNS,
    TRACKS_ACCURACY,
    Comparison,
    GeoBiasResult,
    GroupedComparison,
    aggregate,
    fdr_q_values,
)
from pygbs.runtime import check_interrupt
from pygbs.stats.definition import MAX_ABS_CODE
from pygbs.stats.options import CommonOptions
from pygbs.stats.scores.sri import SRIOptions
from pygbs.stats.scores.ssi import SSIOptions
from pygbs.stats.scoring import ScoringOptions, ordered_parameters, with_options

__all__ = [
    "score",
    "compare",
    "compare_by_dataset",
    "attach_samples",
    "paired_differences",
    "accuracy_correlation",
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
    from pygbs.stats.coincident import warning_text

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
    from pygbs.stats.registry import REASONS, REGISTRY

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
    repeated = dup_summary(pred.lon, pred.lat)
    collapsed = None
    if duplicates == "collapse":
        pred, marks, basis, collapsed = collapse(pred, marks, basis, coding.rule)
    else:
        note_repeated(pred.source, repeated, log)
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
        from pygbs.engine.dask import DaskEngine

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
    return GeoBiasResult(table, summary, pred, coded=marks, null_moments=moments or None)


with_options(score)


#: Aggregate fields of the wide comparison table and their column suffixes
#: (``<score column>@<scale><suffix>``).
WIDE_FIELDS = (
    ("mean", ""),
    ("ci_low", "_ci_low"),
    ("ci_high", "_ci_high"),
    ("null_mean", "_null"),
    ("excess", "_excess"),
    ("excess_ci_low", "_excess_ci_low"),
    ("excess_ci_high", "_excess_ci_high"),
    ("p_excess", "_p_excess"),
)

#: ``locations=`` of :func:`compare`: ``same`` (all models on the same locations, row by
#: row, checked) or ``own`` (each model on its own locations).
LOCATIONS = ("same", "own")
#: ``coords_from=AUTO`` picks a file of the comparison with degree coordinates.
AUTO = "auto"


def _source_label(src: Any) -> str:
    if isinstance(src, Predictions):
        return src.source
    if isinstance(src, str | os.PathLike):
        return str(src)
    return "<DataFrame>"


def _location_key(p: Predictions) -> tuple[int, bytes]:
    return len(p), hashlib.sha1(p.lon.tobytes() + p.lat.tobytes()).digest()


def _pick_reference(preds: dict[int, Predictions], sources: Sequence[Any]) -> int | None:
    """Index of the degree-coordinate source shared (row by row) by most others."""
    cands = [
        i
        for i, p in preds.items()
        if p.coords_source == "file"
        and not isinstance(sources[i], Predictions)
        and not looks_encoded(p.lon, p.lat)
    ]
    if not cands:
        return None
    keys = {i: _location_key(preds[i]) for i in cands}
    counts = {k: sum(1 for v in keys.values() if v == k) for k in keys.values()}
    return max(cands, key=lambda i: (counts[keys[i]], -i))


@contextmanager
def _one_connection(score_kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """``score_kwargs`` whose ``scheduler`` (if any) is one open connection to the cluster.

    A scheduler address or ``'local:N'`` is connected once (a local cluster started once)
    for all the files a comparison scores, not once per file.
    """
    scheduler = score_kwargs.get("scheduler")
    if scheduler is None:
        yield score_kwargs
        return
    from pygbs.engine.dask import Session, is_connection

    if is_connection(scheduler):
        yield score_kwargs
        return
    with Session(scheduler) as session:
        yield {**score_kwargs, "scheduler": session}


def compare(
    sources: Sequence[Predictions | str | Path | pd.DataFrame],
    *,
    names: Sequence[str] | None = None,
    value: str | None = None,
    coords_from: str | Path | pd.DataFrame | None = None,
    baseline: str | None = None,
    pairs: str = "baseline",
    locations: str = "same",
    skip_empty: bool = False,
    skip_unlocated: bool = False,
    **score_kwargs: Any,
) -> Comparison:
    """The same scores for several models' predictions of one dataset.

    Parameters
    ----------
    sources : sequence
        Prediction files, DataFrames or :class:`Predictions`, one per model.
    names : sequence of str, optional
        Model names, one per source (default: the file stems; where stems repeat, the
        parent folder is added, see :func:`pygbs.grouping.unique_names`).
    value : str, optional
        Performance column of every source.
    coords_from : path, DataFrame or 'auto', optional
        Degree coordinates, row by row, for sources that have none (e.g. a no-prior
        baseline) and for sources whose coordinate columns hold the TorchSpatial ``wrap``
        encoding instead of degrees (checked row by row, see
        :func:`pygbs.read_predictions`). Sources with degree coordinates keep their own.
        ``'auto'`` takes them from the source with degree coordinates whose locations
        most other sources share (the first such in order on a tie).
    locations : {'same', 'own'}, default='same'
        ``'same'``: every source must hold the same locations row by row (checked), so
        the scores are comparable; ``'own'``: each model is scored on its own locations
        (for files evaluated on different samples).
    skip_empty : bool, default=False
        Leave out, with a warning, sources without data (an empty file, no data rows, or
        no row with both coordinates) instead of raising.
    skip_unlocated : bool, default=False
        Leave out, with a warning, sources whose coordinates are not degrees and do not
        match ``coords_from`` instead of raising.
    baseline : str, optional
        Model every other model is tested against (a name as in the table). Default: the
        first model whose name contains ``no_prior``, else the first model.
    pairs : {'baseline', 'all'}, default='baseline'
        Paired tests of each model against the baseline, or of every pair of models.
    **score_kwargs
        Passed to :func:`score` (``bootstrap``, ``ci`` and ``seed`` also set the paired
        block bootstrap); ``null`` defaults to ``'accuracy'`` here, so that every score
        has its excess over the accuracy-matched null and ``pairs`` its paired excess.
        With ``scheduler=`` every model is scored on that Dask cluster,
        over one connection (a ``'local:N'`` cluster is started once).

    Returns
    -------
    Comparison
        With ``skipped`` (source -> reason) and ``info`` (where each model's coordinates
        came from, the locations rule).

    Raises
    ------
    InputError
        If the sources do not share the same locations (with ``locations='same'``), names
        repeat, a source is empty or its coordinates cannot be placed (unless skipped), or
        nothing is left to compare.
    """
    if not sources:
        raise InputError("give at least one prediction file")
    score_kwargs = {"null": "accuracy", **score_kwargs}
    if locations not in LOCATIONS:
        raise InputError(f"locations must be one of {list(LOCATIONS)}; got {locations!r}")
    src_labels = [_source_label(s) for s in sources]
    if names is not None:
        labels = [str(n) for n in names]
        if len(labels) != len(sources):
            raise InputError(
                f"{len(labels)} names for {len(sources)} sources; give one name per file "
                "(names=[...] in Python, --name NAME once per file on the command line)"
            )
    else:
        paths = [i for i, s in enumerate(sources) if isinstance(s, str | os.PathLike)]
        stems = unique_names([sources[i] for i in paths])  # type: ignore[misc]
        labels = [s.name if isinstance(s, Predictions) else "<DataFrame>" for s in sources]
        for i, n in zip(paths, stems, strict=True):
            labels[i] = n
    dups = sorted({n for n in labels if labels.count(n) > 1})
    if dups:
        raise InputError(
            f"model names repeat: {', '.join(repr(d) for d in dups)}; give each file its own "
            "name (names=[...] in Python, --name NAME once per file on the command line)"
        )

    auto = isinstance(coords_from, str | os.PathLike) and os.fspath(coords_from) == AUTO
    skipped: dict[str, str] = {}

    def read(i: int, coords: Any) -> Predictions | None:
        src = sources[i]
        if isinstance(src, Predictions):
            return src
        try:
            return _read_predictions(
                src, value=value, coords_from=coords, strict=False, warn_encoded=not auto
            )
        except EmptyInputError as err:
            if not skip_empty:
                hint = (
                    "pass --skip-empty (skip_empty=True) to leave it out"
                    if offers("--skip-empty")
                    else "leave the file out"
                )
                raise EmptyInputError(f"{err}; {hint}") from None
            reason = str(err)
        except CoordinatesError as err:
            if not skip_unlocated:
                unplaced.append(
                    CoordinatesError(
                        f"{err}; pass --skip-unlocated (skip_unlocated=True) to leave it out"
                    )
                )
                return None
            reason = str(err)
        except NoCoordinatesError:
            if auto and coords is None:
                return None
            raise
        skipped[src_labels[i]] = reason
        log.warning("skipped %s", reason)
        return None

    preds: dict[int, Predictions] = {}
    need: list[int] = []
    unplaced: list[CoordinatesError] = []  # raised after the locations check
    for i in range(len(sources)):
        n_unplaced = len(unplaced)
        p = read(i, None if auto else coords_from)
        if p is None:
            if src_labels[i] not in skipped and len(unplaced) == n_unplaced:
                need.append(i)
            continue
        if auto and p.coords_source == "file" and looks_encoded(p.lon, p.lat):
            need.append(i)
            continue
        preds[i] = p
    if locations == "same" and (need or unplaced):
        # report differing locations before the files whose coordinates could not be placed
        done = sorted(i for i in preds if not looks_encoded(preds[i].lon, preds[i].lat))
        if len(done) > 1:
            _check_same_locations([preds[i] for i in done], [labels[i] for i in done])
    if unplaced:
        raise unplaced[0]
    reference = None
    if auto and need:
        ref = _pick_reference(preds, sources)
        if ref is None:
            raise InputError(
                f"{src_labels[need[0]]}: needs coordinates from another file, but no file of "
                "the comparison has degree coordinates; pass --coords-from FILE"
            )
        reference = src_labels[ref]
        for i in need:
            p = read(i, sources[ref])
            if unplaced:
                raise unplaced[0]
            if p is not None:
                preds[i] = p
    order = sorted(preds)
    if not order:
        raise InputError(
            f"nothing left to compare: all {len(sources)} files were skipped "
            f"(first: {next(iter(skipped.values()))})"
        )
    kept = [preds[i] for i in order]
    kept_labels = [labels[i] for i in order]
    if locations == "same":
        _check_same_locations(kept, kept_labels)
    if pairs not in ("baseline", "all"):
        raise InputError(f"pairs must be 'baseline' or 'all'; got {pairs!r}")
    if baseline is not None and baseline not in labels:
        raise InputError(f"baseline {baseline!r} is not one of the models {labels}")
    results: dict[str, GeoBiasResult] = {}
    rows = []
    models: dict[str, Any] = {}
    notes: list[tuple[str, str]] = []
    token = _CONSTANT_NOTES.set(notes)
    try:
        with _one_connection(score_kwargs) as kwargs, collecting_repeated() as repeated:
            for p, label in zip(kept, kept_labels, strict=True):
                check_interrupt()
                results[label] = score(p, **kwargs)
    finally:
        _CONSTANT_NOTES.reset(token)
    if repeated:
        more = len(repeated) - 1
        tail = f" (and {more} more of the {len(kept)} models)" if more else ""
        log.warning("%s%s", repeated_text(*repeated[0]), tail)
    if notes:
        log.warning(
            "marked SSI: in %d of %d models some neighbourhoods have the same coded "
            "performance at every sample (e.g. %s: %s); there marked SSI equals unmarked SSI "
            "and measures how clustered the samples are, not the performance (n_constant in "
            "each model's summary; see The method in the documentation)",
            len(notes),
            len(kept),
            *notes[0],
        )
    for p, label in zip(kept, kept_labels, strict=True):
        res = results[label]
        inp = res.summary["input"]
        row: dict[str, Any] = {"model": label}
        row.update({m: inp[m] for m in METRIC_COLUMNS if m in inp})  # accuracy, or R² and MAE
        row["n"] = len(p)
        # headline means first (the layout of the published tables), then their intervals,
        # then the accuracy-matched null's excess where it was computed
        for field_, suffix in WIDE_FIELDS:
            for col, per_scale in res.summary["aggregates"].items():
                for scale, agg in per_scale.items():
                    if field_ not in agg:
                        continue
                    v = agg.get(field_)
                    row[f"{col}@{scale}{suffix}"] = np.nan if v is None else v
        rows.append(row)
        models[label] = {
            "source": p.source,
            "coords_source": p.coords_source,
            "coords_check": p.coords_check,
            "n_rows": p.n_rows,
            "n_valid": len(p),
        }
    info = {
        "pygbs_version": __version__,
        "locations": locations,
        "coords_from": AUTO
        if auto
        else (None if coords_from is None else _source_label(coords_from)),
        "coords_reference": reference,
        "models": models,
        "skipped": dict(skipped),
    }
    table = pd.DataFrame(rows)
    pair_table = None
    if locations == "same":  # paired tests need the same centres
        if baseline is None or baseline not in results:
            baseline = next((lab for lab in results if "no_prior" in lab), next(iter(results)))
        boot = {k: score_kwargs[k] for k in ("bootstrap", "ci", "seed") if k in score_kwargs}
        pair_table = paired_differences(results, baseline, all_pairs=pairs == "all", **boot)
    return Comparison(
        table,
        results,
        skipped=dict(skipped),
        info=info,
        pairs=pair_table,
        accuracy_correlation=accuracy_correlation(table),
        baseline=baseline if pair_table is not None else None,
    )


def paired_differences(
    results: dict[str, GeoBiasResult],
    baseline: str,
    *,
    all_pairs: bool = False,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    ci: float = DEFAULT_CI,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired block-bootstrap tests of models scored on the same locations.

    Parameters
    ----------
    results : dict of str to GeoBiasResult
        Results of the same centres and scales, by model name.
    baseline : str
        Model ``b`` of every pair (unless ``all_pairs``).
    all_pairs : bool, default=False
        Every unordered pair of models instead of each model against ``baseline``.
    bootstrap, ci, seed
        See :func:`pygbs.inference.bootstrap.block_bootstrap`.

    Returns
    -------
    DataFrame
        ``model_a``, ``model_b``, ``score`` (as in ``--score``), ``scale``, ``diff`` (mean
        over the centres scored for both of a minus b), ``ci_low``, ``ci_high``,
        ``p_value``, ``n_centres``, ``n_blocks``.
    """
    names = list(results)
    if all_pairs:
        pairs = [(a, b) for i, b in enumerate(names) for a in names[i + 1 :]]
    else:
        pairs = [(a, baseline) for a in names if a != baseline]
    by_column = {col: name for name, col in SCORE_COLUMNS.items()}
    out = []
    for a, b in pairs:
        ca, cb = results[a].centres, results[b].centres
        for col in results[b].score_columns:
            if col not in ca.columns:
                continue
            for scale in results[b].scales:
                sa, sb = ca[ca["scale"] == scale], cb[cb["scale"] == scale]
                if not np.array_equal(sa["row"].to_numpy(), sb["row"].to_numpy()):
                    raise InputError(f"{a} and {b} were scored on different centres at {scale}")
                cells = make_blocks(
                    sb["lon"].to_numpy(), sb["lat"].to_numpy(), block_size_km(sb["radius_km"])
                )
                name = by_column.get(col, col)
                for c, label in ((col, name), (f"{col}_excess", f"{name}_excess")):
                    if c not in sa.columns or c not in sb.columns:
                        continue
                    est = paired_bootstrap(
                        sa[c].to_numpy(), sb[c].to_numpy(), cells.ids,
                        n_boot=bootstrap, ci=ci, seed=seed,
                    )  # fmt: skip
                    out.append(
                        {
                            "model_a": a,
                            "model_b": b,
                            "score": label,
                            "scale": scale,
                            "diff": est.estimate,
                            "ci_low": est.ci_low,
                            "ci_high": est.ci_high,
                            "p_value": est.p_value,
                            "n_centres": est.n_centres,
                            "n_blocks": est.n_blocks,
                        }
                    )
        for scale in results[b].scales:
            out.extend(_spread_pairs(results[a], results[b], a, b, scale, bootstrap, ci, seed))
    columns = ["model_a", "model_b", "score", "scale", "diff", "ci_low", "ci_high"]
    return pd.DataFrame(out, columns=columns + ["p_value", "n_centres", "n_blocks"])


def _spread_pairs(
    ra: GeoBiasResult, rb: GeoBiasResult, a: str, b: str, scale: str,
    bootstrap: int, ci: float, seed: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """Rows of :func:`paired_differences` for the spread of local performance."""
    ca, cb = ra.centres, rb.centres
    if "local_performance" not in ca.columns or "local_performance" not in cb.columns:
        return []
    sa, sb = ca[ca["scale"] == scale], cb[cb["scale"] == scale]
    cells = make_blocks(sb["lon"].to_numpy(), sb["lat"].to_numpy(), block_size_km(sb["radius_km"]))
    parts = []
    grand = []
    for res, at in ((ra, sa), (rb, sb)):
        d = {"local": at["local_performance"].to_numpy()}
        moments = (res.null_moments or {}).get(scale)
        if moments is not None:
            d["m1"], d["m2"] = moments["m1"], moments["m2"]
            grand.append(moments["grand_var"])
        parts.append(d)
    rows = spread_pair(
        parts[0], parts[1], cells.ids,
        grand_var=(grand[0], grand[1]) if len(grand) == 2 else (0.0, 0.0),
        bootstrap=bootstrap, ci=ci, seed=seed,
    )  # fmt: skip
    return [{"model_a": a, "model_b": b, "score": k, "scale": scale, **v} for k, v in rows.items()]


def accuracy_correlation(table: pd.DataFrame) -> pd.DataFrame:
    """Rank correlation between accuracy and each headline score across models.

    Parameters
    ----------
    table : DataFrame
        A comparison table (``accuracy``, or ``r2`` for regression files, and
        ``<score_column>@<scale>`` columns).

    Returns
    -------
    DataFrame
        ``column`` (``<score_column>@<scale>``), ``spearman``, ``n_models`` and
        ``tracks_accuracy`` (``|rho| >=`` :data:`pygbs.results.result.TRACKS_ACCURACY`); empty
        with fewer than three models.
    """
    from scipy.stats import spearmanr

    rows = []
    metric = metric_column(table)
    suffixes = ("_ci_low", "_ci_high", "_null", "_p_excess")
    score_cols = [c for c in table.columns if "@" in c and not c.endswith(suffixes)]
    for col in score_cols if metric is not None else []:
        ok = table[col].notna() & table[metric].notna()
        if ok.sum() < 3:
            continue
        x, y = table.loc[ok, metric].to_numpy(), table.loc[ok, col].to_numpy()
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            rho = float("nan")
        else:
            rho = float(spearmanr(x, y).statistic)
        rows.append(
            {
                "column": col,
                "spearman": rho,
                "n_models": int(ok.sum()),
                "tracks_accuracy": bool(np.isfinite(rho) and abs(rho) >= TRACKS_ACCURACY),
            }
        )
    return pd.DataFrame(rows, columns=["column", "spearman", "n_models", "tracks_accuracy"])


def _check_same_locations(preds: list[Predictions], labels: list[str]) -> None:
    """Raise unless every prediction table holds the reference's locations row by row."""
    ref = preds[0]
    for p, label in zip(preds[1:], labels[1:], strict=True):
        if len(p) == len(ref) and np.array_equal(p.lon, ref.lon) and np.array_equal(p.lat, ref.lat):
            continue
        if len(p) == len(ref):
            detail = f"{int(np.sum((p.lon != ref.lon) | (p.lat != ref.lat)))} rows differ"
        else:
            detail = f"{len(p)} vs {len(ref)} rows"
        hint = (
            "pass --locations own (locations='own') to score each model on its own locations"
            if offers("--locations")
            else "give prediction files of the same rows"
        )
        if p.coords_source == "file" and looks_encoded(p.lon, p.lat):
            hint = (
                "its coordinates all lie within [-1, 1] and look encoded (e.g. a TorchSpatial "
                "wrap file): pass --coords-from FILE (or auto) with degree coordinates of the "
                f"same rows; or {hint}"
            )
        raise InputError(
            f"{label}: locations differ from {labels[0]} ({detail}); geo-bias scores are "
            f"comparable only on the same locations; {hint}"
        )


def compare_by_dataset(
    sources: Sequence[str | Path],
    **kwargs: Any,
) -> GroupedComparison:
    """One :func:`compare` per dataset of TorchSpatial-style files, and combined tables.

    See :func:`pygbs.by_dataset.compare_by_dataset` (read and check every file first,
    decide per dataset, then score).
    """
    from pygbs.by_dataset import compare_by_dataset as by_dataset

    return by_dataset(sources, **kwargs)


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
