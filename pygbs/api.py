"""The user-facing functions :func:`score` and :func:`compare`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs import __version__
from pygbs.coding import Coding, code_performance
from pygbs.errors import InputError
from pygbs.io import read_predictions
from pygbs.neighbours import Neighbourhoods, NeighbourSearch, SphereIndex
from pygbs.predictions import Predictions
from pygbs.result import (
    SCORE_COLUMNS,
    TRACKS_ACCURACY,
    Comparison,
    GeoBiasResult,
    aggregate,
    fdr_q_values,
)
from pygbs.scales import DEFAULT_K_MAX, DEFAULT_MIN_POINTS, EARTH_RADIUS_KM, parse_scale
from pygbs.sri import DEFAULT_N_SPLITS, DEFAULT_SRI_THRESHOLD, sri_scores
from pygbs.ssi import METHODS, MIN_RADIUS, ssi_scores
from pygbs.uncertainty import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_CI,
    block_size_km,
    make_blocks,
    paired_bootstrap,
)

__all__ = ["score", "compare", "DEFAULT_SCALES", "DEFAULT_SCORES"]

log = logging.getLogger(__name__)

DEFAULT_SCALES = ("100km", "1000km", "nn50")
#: Centres per batch of uncapped SRI neighbourhoods (bounds memory on dense data).
SRI_CHUNK = 2048
DEFAULT_SCORES = ("unmarked", "marked")
_SRI = {"sri-grid": "grid", "sri-lag": "lag", "sri-sector": "sector"}


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


def _accuracy(pred: Predictions, coding: Coding) -> float:
    """Share correct for hit columns (stored 0/1 or -1/+1), else the mean coded basis.

    The coded basis is the value, or its absolute value when the coding used ``|value|``.
    """
    if pred.binary:
        return float(np.mean(pred.value > 0))
    return float(np.mean(coding.basis(pred.value)))


def _constant(marks: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Per neighbourhood: True when every sample has the same coded value.

    The marked SSI of such a neighbourhood equals its unmarked SSI (see docs/method.md).
    """
    sizes = np.diff(indptr)
    out = np.zeros(len(sizes), dtype=bool)
    full = sizes > 0
    if not full.any():
        return out
    v = marks[indices]
    starts = indptr[:-1][full]
    out[full] = np.minimum.reduceat(v, starts) == np.maximum.reduceat(v, starts)
    return out


def _warn_constant(source: str, counts: dict[str, tuple[int, int]]) -> None:
    """One warning per run when marked SSI neighbourhoods have a single coded value."""
    hit = {scale: c for scale, c in counts.items() if c[0] > 0}
    if not hit:
        return
    parts = ", ".join(
        f"{n} of {total} scored centres at {scale}" for scale, (n, total) in hit.items()
    )
    log.warning(
        "%s: marked SSI: %s have the same coded performance at every sample of their "
        "neighbourhood (e.g. the model is right, or wrong, everywhere there); their marked SSI "
        "equals their unmarked SSI and measures how clustered the samples are, not the "
        "performance (counted as n_constant in the summary; see docs/method.md)",
        source,
        parts,
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


def score(
    predictions: Predictions | str | Path | pd.DataFrame,
    *,
    value: str | None = None,
    scales: Sequence[str] = DEFAULT_SCALES,
    scores: Sequence[str] = DEFAULT_SCORES,
    method: str = "pygbs",
    k: int = 4,
    k_max: int | None = DEFAULT_K_MAX,
    min_points: int = DEFAULT_MIN_POINTS,
    centres: int | Sequence[int] | None = None,
    threshold: float | str | None = None,
    lower_is_better: bool | None = None,
    raw: bool = False,
    transform: str = "auto",
    presence: str = "all",
    graph: str | None = None,
    permutations: int = 999,
    seed: int = 0,
    alpha: float = 0.05,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    ci: float = DEFAULT_CI,
    sri_scale: float | None = None,
    sri_lag: float | None = None,
    sri_sectors: int = DEFAULT_N_SPLITS,
    sri_threshold: int = DEFAULT_SRI_THRESHOLD,
    sri_bins: int | None = None,
    coords_from: str | Path | pd.DataFrame | None = None,
    lon: str | None = None,
    lat: str | None = None,
    progress: bool = False,
) -> GeoBiasResult:
    """Geo-bias scores of one model's per-location predictions.

    Parameters
    ----------
    predictions : Predictions, path or DataFrame
        What :func:`pygbs.read_predictions` reads.
    value : str, optional
        Performance column (default: detected, e.g. ``hit@1`` or ``relative_error``).
    scales : sequence of str, default=('100km', '1000km', 'nn50')
        ``'<r>km'`` distance scales and ``'nn<K>'`` nearest-neighbour scales.
    scores : sequence of str, default=('unmarked', 'marked')
        Any of ``'unmarked'``, ``'marked'``, ``'sri-grid'``, ``'sri-lag'``, ``'sri-sector'``.
    method : {'pygbs', 'analytic', 'permutation'}, default='pygbs'
        SSI null distribution (spec section 3).
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
    presence : {'all', 'good'}, default='all'
        Unmarked SSI over all samples or the good ones only.
    graph : {'reference', 'strict'}, optional
        k-NN rule for coincident points; see :func:`pygbs.ssi.ssi_scores`.
    permutations, seed : int
        Permutation test size and seed (``method='permutation'``).
    alpha : float, default=0.05
        Level of the ``share_significant`` and ``share_significant_fdr`` aggregates.
    bootstrap : int, default=1000
        Replicates of the spatial block bootstrap of each headline mean (0: no interval);
        see :mod:`pygbs.uncertainty`. Seeded by ``seed``.
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
    unknown = [s for s in scores if s not in SCORE_COLUMNS]
    if unknown or not scores:
        bad = unknown[0] if unknown else "(none)"
        raise InputError(f"unknown score {bad!r}; choose from {list(SCORE_COLUMNS)}")
    if method not in METHODS:
        raise InputError(f"method must be one of {sorted(METHODS)}; got {method!r}")
    if not scales:
        raise InputError("give at least one scale")
    parsed = [parse_scale(s, k_max=k_max, min_points=min_points) for s in scales]
    if len({s.name for s in parsed}) != len(parsed):
        raise InputError(f"scales repeat: {[s.name for s in parsed]}")
    pred = _as_predictions(predictions, value, coords_from, lon, lat)
    coding = code_performance(
        pred, threshold=threshold, lower_is_better=lower_is_better, raw=raw, transform=transform
    )
    basis = coding.basis(pred.value)
    marks = np.asarray(coding.values, dtype=np.float64)
    rows = _select_centres(len(pred), centres)
    index = SphereIndex(pred.lon, pred.lat)
    want_unmarked, want_marked = "unmarked" in scores, "marked" in scores
    blocks: list[pd.DataFrame] = []
    aggregates: dict[str, dict[str, Any]] = {SCORE_COLUMNS[s]: {} for s in scores}
    show = bool(progress and sys.stderr.isatty())
    search = NeighbourSearch(index, rows, parsed)  # one search serves every scale
    constant_counts: dict[str, tuple[int, int]] = {}
    for scale in parsed:
        nb = search.neighbourhoods(scale)
        cols: dict[str, np.ndarray] = {
            "row": rows,
            "lon": pred.lon[rows],
            "lat": pred.lat[rows],
            "scale": np.full(len(rows), scale.name, dtype=object),
            "n_neighbours": nb.sizes,
            "radius_km": nb.radius * EARTH_RADIUS_KM,
            "mean_performance": nb.mean_of(basis),
        }
        pvals: dict[str, np.ndarray | None] = {}
        # why centres are skipped, and which neighbourhoods hold a single coded value
        extra: dict[str, dict[str, int]] = {}
        small = nb.sizes < min_points
        constant = _constant(marks, nb.indptr, nb.indices)
        if want_unmarked or want_marked:
            res = ssi_scores(
                index,
                nb,
                marks,
                unmarked=want_unmarked,
                marked=want_marked,
                method=method,
                k=k,
                min_points=min_points,
                presence=presence,
                graph=graph,
                permutations=permutations,
                seed=seed,
                progress=f"SSI {scale.name}" if show else None,
            )
            for name in ("unmarked", "marked"):
                if name in scores:
                    col = SCORE_COLUMNS[name]
                    cols[col] = res[f"{name}_ssi"]
                    cols[f"{col}_p"] = res[f"{name}_ssi_p"]
                    pvals[col] = res[f"{name}_ssi_p"]
                    extra[col] = {
                        "n_skipped_min_points": int(small.sum()),
                        "n_skipped_one_location": int((~small & (nb.radius <= MIN_RADIUS)).sum()),
                    }
            if want_marked:
                scored = np.isfinite(cols["marked_ssi"])
                extra["marked_ssi"]["n_constant"] = int((constant & scored).sum())
                constant_counts[scale.name] = (
                    extra["marked_ssi"]["n_constant"],
                    int(scored.sum()),
                )
        sri_wanted = [s for s in scores if s in _SRI]
        for s in sri_wanted:
            cols[SCORE_COLUMNS[s]] = np.full(len(rows), np.nan)
            pvals[SCORE_COLUMNS[s]] = None
            extra[SCORE_COLUMNS[s]] = {
                "n_skipped_min_points": 0,
                "n_skipped_no_part": 0,
                "n_constant": 0,
            }
        # SRI uses every sample within the radius (no k_max cap); in chunks of centres so
        # that large radii on dense data do not hold every neighbourhood in memory at once
        for a in range(0, len(rows) if sri_wanted else 0, SRI_CHUNK):
            part = rows[a : a + SRI_CHUNK]
            full = Neighbourhoods.from_scale(index, part, scale, cap=False)
            big = full.sizes >= min_points
            flat = _constant(marks, full.indptr, full.indices)
            for s in sri_wanted:
                vals, _ = sri_scores(
                    index.lat_rad,
                    index.lon_rad,
                    marks,
                    part,
                    full.indptr,
                    full.indices,
                    full.dist,
                    full.radius,
                    partition=_SRI[s],
                    scale=sri_scale,
                    lag=sri_lag,
                    n_splits=sri_sectors,
                    threshold=sri_threshold,
                    bins=sri_bins,
                )
                vals = np.where(big, vals, np.nan)
                cols[SCORE_COLUMNS[s]][a : a + len(part)] = vals
                why = extra[SCORE_COLUMNS[s]]
                why["n_skipped_min_points"] += int((~big).sum())
                why["n_skipped_no_part"] += int((big & np.isnan(vals)).sum())
                why["n_constant"] += int((flat & np.isfinite(vals)).sum())
        for col, p in pvals.items():
            if p is not None:
                cols[f"{col}_q"] = fdr_q_values(p)
        block = pd.DataFrame(cols)
        blocks.append(block)
        cells = make_blocks(pred.lon[rows], pred.lat[rows], block_size_km(cols["radius_km"]))
        for col, p in pvals.items():
            agg = aggregate(
                block[col].to_numpy(),
                nb.sizes,
                p,
                alpha,
                cells,
                bootstrap=bootstrap,
                ci=ci,
                seed=seed,
            )
            agg.update(extra.get(col, {}))
            aggregates[col][scale.name] = agg
    _warn_constant(pred.source, constant_counts)
    table = pd.concat(blocks, ignore_index=True)
    ordered = [c for c in table.columns if c not in SCORE_COLUMNS.values() and not c.endswith("_p")]
    ordered = [c for c in ordered if not c.endswith("_q")]
    for col in SCORE_COLUMNS.values():
        if col in table.columns:
            ordered.append(col)
            if f"{col}_p" in table.columns:
                ordered.append(f"{col}_p")
    # q-values (added in a later version) after the columns of earlier versions
    ordered += [c for c in table.columns if c.endswith("_q")]
    table = table[ordered]
    # rows whose exact location already occurred (hash-based, no sort of the table)
    n_dup = int(pd.DataFrame({"lon": pred.lon, "lat": pred.lat}).duplicated().sum())
    summary = {
        "pygbs_version": __version__,
        "parameters": {
            "scales": [s.name for s in parsed],
            "scores": list(scores),
            "method": method,
            "k": k,
            "k_max": k_max,
            "min_points": min_points,
            "transform": transform,
            "presence": presence,
            "graph": graph or ("reference" if method == "pygbs" else "strict"),
            "permutations": permutations if method == "permutation" else None,
            "seed": seed,
            "alpha": alpha,
            "bootstrap": bootstrap,
            "ci": ci,
            "centres": "all"
            if centres is None
            else (int(centres) if isinstance(centres, int | np.integer) else "list"),
            "n_centres": int(len(rows)),
            "earth_radius_km": EARTH_RADIUS_KM,
            "sri": {
                "scale_rad": sri_scale,
                "lag_rad": sri_lag,
                "sectors": sri_sectors,
                "threshold": sri_threshold,
                "bins": sri_bins,
            }
            if any(s in _SRI for s in scores)
            else None,
        },
        "input": {
            "source": pred.source,
            "model": pred.name,
            "value_name": pred.value_name,
            "n_rows": pred.n_rows,
            "n_missing_coords": pred.n_missing_coords,
            "n_valid": len(pred),
            "n_duplicate_locations": n_dup,
            "accuracy": _accuracy(pred, coding),
            "coding": coding.to_dict(),
        },
        "aggregates": aggregates,
    }
    return GeoBiasResult(table, summary, pred)


def compare(
    sources: Sequence[Predictions | str | Path | pd.DataFrame],
    *,
    names: Sequence[str] | None = None,
    value: str | None = None,
    coords_from: str | Path | pd.DataFrame | None = None,
    baseline: str | None = None,
    pairs: str = "baseline",
    **score_kwargs: Any,
) -> Comparison:
    """The same scores for several models' predictions of one dataset.

    Parameters
    ----------
    sources : sequence
        Prediction files, DataFrames or :class:`Predictions`, one per model.
    names : sequence of str, optional
        Model names (default: the file stems).
    value : str, optional
        Performance column of every source.
    coords_from : path or DataFrame, optional
        Coordinates for sources that have none (e.g. a no-prior baseline).
    baseline : str, optional
        Model every other model is tested against (a name as in the table). Default: the
        first model whose name contains ``no_prior``, else the first model.
    pairs : {'baseline', 'all'}, default='baseline'
        Paired tests of each model against the baseline, or of every pair of models.
    **score_kwargs
        Passed to :func:`score` (``bootstrap``, ``ci`` and ``seed`` also set the paired
        block bootstrap).

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        If the sources do not share the same locations (row by row) or names repeat.
    """
    if not sources:
        raise InputError("give at least one prediction file")
    preds: list[Predictions] = []
    for src in sources:
        if isinstance(src, Predictions):
            preds.append(src)
            continue
        try:
            preds.append(read_predictions(src, value=value))
        except InputError as err:
            if coords_from is None or "coords" not in str(err).lower():
                raise
            preds.append(read_predictions(src, value=value, coords_from=coords_from))
    labels = list(names) if names is not None else [p.name for p in preds]
    if len(labels) != len(preds):
        raise InputError(f"{len(labels)} names for {len(preds)} sources")
    if len(set(labels)) != len(labels):
        raise InputError(f"model names repeat: {labels}; pass names=")
    ref = preds[0]
    for p, label in zip(preds[1:], labels[1:], strict=True):
        if len(p) != len(ref) or not (
            np.array_equal(p.lon, ref.lon) and np.array_equal(p.lat, ref.lat)
        ):
            n_diff = (
                int(np.sum((p.lon != ref.lon) | (p.lat != ref.lat))) if len(p) == len(ref) else None
            )
            detail = (
                f"{n_diff} rows differ" if n_diff is not None else f"{len(p)} vs {len(ref)} rows"
            )
            raise InputError(
                f"{label}: locations differ from {labels[0]} ({detail}); geo-bias scores are "
                "comparable only on the same locations"
            )
    if pairs not in ("baseline", "all"):
        raise InputError(f"pairs must be 'baseline' or 'all'; got {pairs!r}")
    if baseline is not None and baseline not in labels:
        raise InputError(f"baseline {baseline!r} is not one of the models {labels}")
    results: dict[str, GeoBiasResult] = {}
    rows = []
    for p, label in zip(preds, labels, strict=True):
        res = score(p, **score_kwargs)
        results[label] = res
        row: dict[str, Any] = {
            "model": label,
            "accuracy": res.summary["input"]["accuracy"],
            "n": len(p),
        }
        # headline means first (the layout of the published tables), then their intervals
        for field_, suffix in (("mean", ""), ("ci_low", "_ci_low"), ("ci_high", "_ci_high")):
            for col, per_scale in res.summary["aggregates"].items():
                for scale, agg in per_scale.items():
                    v = agg.get(field_)
                    row[f"{col}@{scale}{suffix}"] = np.nan if v is None else v
        rows.append(row)
    table = pd.DataFrame(rows)
    if baseline is None:
        baseline = next((lab for lab in labels if "no_prior" in lab), labels[0])
    boot = {k: score_kwargs[k] for k in ("bootstrap", "ci", "seed") if k in score_kwargs}
    return Comparison(
        table,
        results,
        pairs=paired_differences(results, baseline, all_pairs=pairs == "all", **boot),
        accuracy_correlation=accuracy_correlation(table),
        baseline=baseline,
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
        See :func:`pygbs.uncertainty.block_bootstrap`.

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
                est = paired_bootstrap(
                    sa[col].to_numpy(), sb[col].to_numpy(), cells.ids,
                    n_boot=bootstrap, ci=ci, seed=seed,
                )  # fmt: skip
                out.append(
                    {
                        "model_a": a,
                        "model_b": b,
                        "score": by_column.get(col, col),
                        "scale": scale,
                        "diff": est.estimate,
                        "ci_low": est.ci_low,
                        "ci_high": est.ci_high,
                        "p_value": est.p_value,
                        "n_centres": est.n_centres,
                        "n_blocks": est.n_blocks,
                    }
                )
    columns = ["model_a", "model_b", "score", "scale", "diff", "ci_low", "ci_high"]
    return pd.DataFrame(out, columns=columns + ["p_value", "n_centres", "n_blocks"])


def accuracy_correlation(table: pd.DataFrame) -> pd.DataFrame:
    """Rank correlation between accuracy and each headline score across models.

    Parameters
    ----------
    table : DataFrame
        A comparison table (``accuracy`` and ``<score_column>@<scale>`` columns).

    Returns
    -------
    DataFrame
        ``column`` (``<score_column>@<scale>``), ``spearman``, ``n_models`` and
        ``tracks_accuracy`` (``|rho| >=`` :data:`pygbs.result.TRACKS_ACCURACY`); empty
        with fewer than three models.
    """
    from scipy.stats import spearmanr

    rows = []
    score_cols = [c for c in table.columns if "@" in c and not c.endswith(("_ci_low", "_ci_high"))]
    for col in score_cols:
        ok = table[col].notna() & table["accuracy"].notna()
        if ok.sum() < 3:
            continue
        x, y = table.loc[ok, "accuracy"].to_numpy(), table.loc[ok, col].to_numpy()
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
