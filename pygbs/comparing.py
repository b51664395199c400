"""Comparing several models: :func:`compare`, the paired tests and the accuracy check.

:func:`compare` validates its arguments, reads every file (placing coordinates where a
file has none), scores each model with :func:`pygbs.score` and builds a
:class:`~pygbs.results.comparison.Comparison`: the scores in long form, the paired
block-bootstrap tests of models on the same centres (:func:`paired_differences`) and
whether a score only tracks accuracy (:func:`accuracy_correlation`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs import __version__
from pygbs._names import SCORE_COLUMNS
from pygbs.api import collecting_constant_notes, score
from pygbs.cancel import Cancel, check_cancelled, honours_cancel
from pygbs.duplicates import collecting as collecting_repeated
from pygbs.duplicates import warning_text as repeated_text
from pygbs.engine.dask import Session, is_connection
from pygbs.errors import CoordinatesError, EmptyInputError, InputError, NoCoordinatesError
from pygbs.hints import offers
from pygbs.inference.bootstrap import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_CI,
    block_size_km,
    make_blocks,
    paired_bootstrap,
)
from pygbs.inference.null import spread_pair
from pygbs.io.predictions import read_table
from pygbs.io.sources import unique_names
from pygbs.io.torchspatial import AUTO, looks_encoded, pick_reference
from pygbs.predictions import Predictions
from pygbs.regression import metric_column
from pygbs.results.comparison import (
    TRACKS_ACCURACY,
    Comparison,
    long_from_wide,
    scores_long,
    wide_column,
)
from pygbs.results.result import GeoBiasResult

__all__ = [
    "AUTO",
    "LOCATIONS",
    "PAIRS",
    "accuracy_correlation",
    "compare",
    "paired_differences",
]

log = logging.getLogger(__name__)


#: ``locations=`` of :func:`compare`: ``same`` (all models on the same locations, row by
#: row, checked) or ``own`` (each model on its own locations).
LOCATIONS = ("same", "own")
#: ``pairs=`` of :func:`compare`: each model against the baseline, or every pair.
PAIRS = ("baseline", "all")


def _source_label(src: Any) -> str:
    if isinstance(src, Predictions):
        return src.source
    if isinstance(src, str | os.PathLike):
        return str(src)
    return "<DataFrame>"


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
    if is_connection(scheduler):
        yield score_kwargs
        return
    with Session(scheduler) as session:
        yield {**score_kwargs, "scheduler": session}


@honours_cancel
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
    cancel: Cancel | None = None,
    **score_kwargs: Any,
) -> Comparison:
    """The same scores for several models' predictions of one dataset.

    Parameters
    ----------
    sources : sequence
        Prediction files, DataFrames or :class:`Predictions`, one per model.
    names : sequence of str, optional
        Model names, one per source (default: the file stems; where stems repeat, the
        parent folder is added, see :func:`pygbs.io.sources.unique_names`).
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
    cancel : callable, optional
        Called between batches of work; once it returns True the run stops and raises
        :class:`~pygbs.errors.Interrupted` (see :mod:`pygbs.cancel`).
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
    if pairs not in PAIRS:
        raise InputError(f"pairs must be 'baseline' or 'all'; got {pairs!r}")
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
    if baseline is not None and baseline not in labels:
        raise InputError(f"baseline {baseline!r} is not one of the models {labels}")

    auto = isinstance(coords_from, str | os.PathLike) and os.fspath(coords_from) == AUTO
    skipped: dict[str, str] = {}

    def read(i: int, coords: Any) -> Predictions | None:
        src = sources[i]
        if isinstance(src, Predictions):
            return src
        try:
            return read_table(
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
        ref = pick_reference(preds, sources)
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
    results: dict[str, GeoBiasResult] = {}
    rows = []
    models: dict[str, Any] = {}
    with collecting_constant_notes() as notes:
        with _one_connection(score_kwargs) as kwargs, collecting_repeated() as repeated:
            for p, label in zip(kept, kept_labels, strict=True):
                check_cancelled()
                results[label] = score(p, **kwargs)
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
        # accuracy, or R² and MAE
        rows.append({"model": label, **results[label].input.metrics, "n": len(p)})
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
    model_table = pd.DataFrame(rows)
    scores = scores_long(results)
    pair_table = None
    if locations == "same":  # paired tests need the same centres
        if baseline is None or baseline not in results:
            baseline = next((lab for lab in results if "no_prior" in lab), next(iter(results)))
        boot = {k: score_kwargs[k] for k in ("bootstrap", "ci", "seed") if k in score_kwargs}
        pair_table = paired_differences(results, baseline, all_pairs=pairs == "all", **boot)
    return Comparison(
        model_table,
        scores,
        results,
        skipped=dict(skipped),
        info=info,
        pairs=pair_table,
        accuracy_correlation=_correlation(model_table, scores),
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
        A wide comparison table (:meth:`pygbs.Comparison.wide`: ``accuracy``, or ``r2``
        for regression files, and ``<score_column>@<scale>`` columns).

    Returns
    -------
    DataFrame
        ``column`` (``<score_column>@<scale>``, and ``..._excess`` where the null was
        drawn), ``spearman``, ``n_models`` and ``tracks_accuracy`` (``|rho| >=``
        :data:`pygbs.results.comparison.TRACKS_ACCURACY`); empty with fewer than three
        models.
    """
    models, scores = long_from_wide(table)
    return _correlation(models, scores)


#: Statistics of a comparison that are not correlated with accuracy (intervals, nulls).
_NOT_CORRELATED = ("ci_low", "ci_high", "null_mean", "p_excess")


def _correlation(models: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """:func:`accuracy_correlation` of a comparison's model and long score tables."""
    from scipy.stats import spearmanr

    columns = ["column", "spearman", "n_models", "tracks_accuracy"]
    metric = metric_column(models)
    if metric is None:
        return pd.DataFrame([], columns=columns)
    accuracy = models.set_index("model")[metric]
    keep = ~scores["statistic"].str.endswith(_NOT_CORRELATED)
    rows = []
    for (col, scale, stat), part in scores[keep].groupby(
        ["score", "scale", "statistic"], sort=False
    ):
        at = part.set_index("model")["value"].reindex(models["model"]).to_numpy()
        acc = accuracy.reindex(models["model"]).to_numpy()
        ok = np.isfinite(at) & pd.notna(acc)
        if ok.sum() < 3:
            continue
        x, y = acc[ok].astype(np.float64), at[ok]
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            rho = float("nan")
        else:
            rho = float(spearmanr(x, y).statistic)
        rows.append(
            {
                "column": wide_column(col, scale, stat),
                "spearman": rho,
                "n_models": int(ok.sum()),
                "tracks_accuracy": bool(np.isfinite(rho) and abs(rho) >= TRACKS_ACCURACY),
            }
        )
    return pd.DataFrame(rows, columns=columns)


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
