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
from pygbs._engine import BlockOptions, LocalEngine, Samples, column_dtypes
from pygbs.coding import code_performance
from pygbs.errors import InputError
from pygbs.io import read_predictions
from pygbs.predictions import Predictions
from pygbs.result import SCORE_COLUMNS, Comparison, GeoBiasResult, aggregate
from pygbs.scales import DEFAULT_K_MAX, DEFAULT_MIN_POINTS, EARTH_RADIUS_KM, parse_scale
from pygbs.sri import DEFAULT_N_SPLITS, DEFAULT_SRI_THRESHOLD
from pygbs.ssi import METHODS

__all__ = ["score", "compare", "DEFAULT_SCALES", "DEFAULT_SCORES"]

log = logging.getLogger(__name__)

DEFAULT_SCALES = ("100km", "1000km", "nn50")
#: Centres per batch of uncapped SRI neighbourhoods (bounds memory on dense data).
SRI_CHUNK = 2048
DEFAULT_SCORES = ("unmarked", "marked")
_SRI = ("sri-grid", "sri-lag", "sri-sector")


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


def _accuracy(pred: Predictions) -> float:
    """Share correct for hit columns (stored 0/1 or -1/+1), else the mean value."""
    return float(np.mean(pred.value > 0)) if pred.binary else float(np.mean(pred.value))


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
    alpha: float,
    show: bool,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """The per-centre table of every scale and the aggregates, filled batch by batch.

    Each column is allocated once for all scales and filled in place, and the table is
    built on those arrays without a copy (docs/scale.md, "Memory").
    """
    nr, ns = len(rows), len(parsed)
    kinds = column_dtypes(opts.scores)
    cols: dict[str, np.ndarray] = {
        "row": np.tile(rows, ns),
        "lon": np.tile(pred.lon[rows], ns),
        "lat": np.tile(pred.lat[rows], ns),
        "scale": np.repeat(np.array([s.name for s in parsed], dtype=object), nr),
    }
    for name, dtype in kinds.items():
        cols[name] = np.empty(nr * ns, dtype=dtype)
    aggregates: dict[str, dict[str, Any]] = {SCORE_COLUMNS[s]: {} for s in opts.scores}
    for j, scale in enumerate(parsed):
        off = j * nr
        label = f"{scale.name}" if show else None
        for pos, block in engine.blocks(rows, scale, opts, label):
            for name, values in block.items():
                cols[name][off + pos] = values
        sizes = cols["n_neighbours"][off : off + nr]
        for s in opts.scores:
            col = SCORE_COLUMNS[s]
            p = cols[f"{col}_p"][off : off + nr] if f"{col}_p" in cols else None
            aggregates[col][scale.name] = aggregate(cols[col][off : off + nr], sizes, p, alpha)
    return pd.DataFrame(cols, copy=False), aggregates


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
    presence: str = "all",
    graph: str | None = None,
    permutations: int = 999,
    seed: int = 0,
    alpha: float = 0.05,
    sri_scale: float | None = None,
    sri_lag: float | None = None,
    sri_sectors: int = DEFAULT_N_SPLITS,
    sri_threshold: int = DEFAULT_SRI_THRESHOLD,
    sri_bins: int | None = None,
    coords_from: str | Path | pd.DataFrame | None = None,
    lon: str | None = None,
    lat: str | None = None,
    progress: bool = False,
    scheduler: Any = None,
    chunk_size: int | None = None,
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
    threshold, lower_is_better, raw
        Performance coding, see :func:`pygbs.code_performance`.
    presence : {'all', 'good'}, default='all'
        Unmarked SSI over all samples or the good ones only.
    graph : {'reference', 'strict'}, optional
        k-NN rule for coincident points; see :func:`pygbs.ssi.ssi_scores`.
    permutations, seed : int
        Permutation test size and seed (``method='permutation'``).
    alpha : float, default=0.05
        Level of the ``share_significant`` aggregate.
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
    scheduler : str or distributed.Client, optional
        Score on a Dask cluster (needs ``pip install geobias[dask]``): a scheduler address
        ``'tcp://HOST:PORT'``, ``'local:N'`` for a local cluster of N worker processes, or
        a connected ``Client``. Results are identical to the default single-process run
        (docs/scale.md).
    chunk_size : int, optional
        Centres per Dask task (default: about eight tasks per worker and scale, between
        1,024 and 65,536). Only with ``scheduler``.

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
    coding = code_performance(pred, threshold=threshold, lower_is_better=lower_is_better, raw=raw)
    marks = np.asarray(coding.values, dtype=np.float64)
    rows = _select_centres(len(pred), centres)
    opts = BlockOptions(
        scores=tuple(scores),
        method=method,
        k=k,
        min_points=min_points,
        presence=presence,
        graph=graph,
        permutations=permutations,
        seed=seed,
        sri_scale=sri_scale,
        sri_lag=sri_lag,
        sri_sectors=sri_sectors,
        sri_threshold=sri_threshold,
        sri_bins=sri_bins,
        sri_chunk=SRI_CHUNK,
    )
    samples = Samples.from_arrays(pred.lon, pred.lat, pred.value, marks)
    if scheduler is None:
        engine: Any = LocalEngine(samples)
    else:
        from pygbs.distributed import DaskEngine

        engine = DaskEngine(samples, scheduler, chunk_size=chunk_size)
    show = bool(progress and sys.stderr.isatty())
    with engine:
        table, aggregates = _score_scales(engine, pred, rows, parsed, opts, alpha, show)
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
            "presence": presence,
            "graph": graph or ("reference" if method == "pygbs" else "strict"),
            "permutations": permutations if method == "permutation" else None,
            "seed": seed,
            "alpha": alpha,
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
            "accuracy": _accuracy(pred),
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
    **score_kwargs
        Passed to :func:`score`.

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
    results: dict[str, GeoBiasResult] = {}
    rows = []
    for p, label in zip(preds, labels, strict=True):
        res = score(p, **score_kwargs)
        results[label] = res
        row: dict[str, Any] = {"model": label, "accuracy": _accuracy(p), "n": len(p)}
        for col, per_scale in res.summary["aggregates"].items():
            for scale, agg in per_scale.items():
                row[f"{col}@{scale}"] = np.nan if agg["mean"] is None else agg["mean"]
        rows.append(row)
    return Comparison(pd.DataFrame(rows), results)
