"""The trade-off of ``encoders zoo --debias-lambdas``: accuracy against geo-bias per weight.

The zoo trains every encoder at each weight λ of the geo-bias term (docs/debiasing.md) and
scores all runs with one :func:`pygbs.compare`. :func:`tradeoff_table` turns that into one
row per encoder and weight: the accuracy, the marked and performance SSI per scale, the
paired block-bootstrap difference of each score against the same encoder at λ = 0 (with
its interval and p-value, :func:`pygbs.comparing.paired_differences`), whether the run is on the
Pareto front (higher accuracy, lower marked SSI) and the path of its predictions.
:func:`tradeoff_section` draws it (:func:`pygbs.plot.plot_tradeoff`) for the HTML report;
:func:`write_tradeoff` writes ``tradeoff.csv`` and ``tradeoff.png`` of a zoo run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from encoders.resume import NO_PRIOR
from pygbs.io.atomic import atomic_path
from pygbs.tables import wide_columns

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from encoders.data import GeoDataset

__all__ = [
    "REGION_BLOCK_KM",
    "TRADEOFF_SCORES",
    "ZooRun",
    "add_region_columns",
    "first_seed_curves",
    "pareto_front",
    "region_hits",
    "run_name",
    "tradeoff_section",
    "tradeoff_table",
    "write_tradeoff",
]

#: Score columns of the trade-off table (``<column>@<scale>``).
TRADEOFF_SCORES = ("marked_ssi", "performance_ssi")
#: Columns added per score column: the paired difference against λ = 0 and its interval.
_DIFF_FIELDS = (("diff", "_diff"), ("ci_low", "_diff_ci_low"), ("ci_high", "_diff_ci_high"),
                ("p_value", "_diff_p_value"))  # fmt: skip


@dataclass(frozen=True)
class ZooRun:
    """One run of the zoo.

    Attributes
    ----------
    name : str
        Its folder, predictions file and comparison label (:func:`run_name`).
    model : str
        The encoder it trains (or ``no_prior``).
    debias_lambda : float
        The weight of its debiasing term.
    method : str
        The debiasing method (:data:`encoders.debias.DEBIAS_METHODS`).
    seed : int
        The training seed.
    replicate : int
        Which of the zoo's seeds (0: the zoo's ``seed`` itself).
    """

    name: str
    model: str
    debias_lambda: float = 0.0
    method: str = "geobias-loss"
    seed: int = 0
    replicate: int = 0


def run_name(
    model: str, debias_lambda: float, method: str = "geobias-loss", replicate: int = 0
) -> str:
    """The name of ``model``'s run at weight ``debias_lambda`` of ``method``.

    ``model`` itself at weight 0 (the plain zoo's run), else ``<model>@debias<λ>`` for the
    geo-bias loss (e.g. ``xyz@debias0.5``) and ``<model>@<method><λ>`` for the others
    (``xyz@reweight1``); the further seeds of a zoo run with ``seeds > 1`` end in
    ``@seed<k>`` (``xyz@reweight1@seed2``).
    """
    if debias_lambda == 0:
        name = model
    elif method == "geobias-loss":
        name = f"{model}@debias{debias_lambda:g}"
    else:
        name = f"{model}@{method}{debias_lambda:g}"
    return name if replicate == 0 else f"{name}@seed{replicate}"


def pareto_front(accuracy: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Which points no other point beats on both axes (higher accuracy, lower bias).

    Parameters
    ----------
    accuracy, bias : numpy.ndarray
        ``(n,)`` each; points with a non-finite value are never on the front.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool. Points equal on both axes are all on the front.
    """
    acc = np.asarray(accuracy, np.float64)
    b = np.asarray(bias, np.float64)
    ok = np.isfinite(acc) & np.isfinite(b)
    out = np.zeros(len(acc), bool)
    for i in np.flatnonzero(ok):
        better_eq = ok & (acc >= acc[i]) & (b <= b[i])
        strictly = (acc > acc[i]) | (b < b[i])
        out[i] = not (better_eq & strictly).any()
    return out


def tradeoff_table(
    runs: list[ZooRun],
    zoo_table: pd.DataFrame,
    comparison: Any,
    *,
    accuracy: str,
    pareto_column: str | None,
    predictions: dict[str, str],
) -> pd.DataFrame:
    """One row per encoder and weight (the content of ``OUT/tradeoff.csv``).

    Parameters
    ----------
    runs : list of ZooRun
        The zoo's runs, in table order.
    zoo_table : pandas.DataFrame
        The zoo table (``model`` = run name, the accuracy column, the geo-bias columns).
    comparison : pygbs.Comparison
        The comparison of all runs (its per-centre results give the paired differences).
    accuracy : str
        Accuracy column (``'top1'``, or ``'r2'`` for regression).
    pareto_column : str or None
        Geo-bias column of the Pareto front (e.g. ``'marked_ssi@100km'``); None: no front.
    predictions : dict
        Run name -> its predictions file, relative to the zoo's folder.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``debias_lambda``, the accuracy, ``<score>@<scale>`` for the scores of
        :data:`TRADEOFF_SCORES`, for each of them ``_diff``, ``_diff_ci_low``,
        ``_diff_ci_high`` and ``_diff_p_value`` against the same model at λ = 0 (empty at
        λ = 0), ``pareto`` and ``predictions``.
    """
    from pygbs import SCORE_COLUMNS
    from pygbs.comparing import paired_differences

    by_run = zoo_table.set_index("model")
    packed = wide_columns(zoo_table)
    geo = [
        c
        for score in TRADEOFF_SCORES
        for c, column_score, _, statistic in packed
        if column_score == score and statistic in ("mean", "excess")
    ]
    rows = []
    for run in runs:
        row = {"model": run.model, "method": run.method if run.debias_lambda else "none",
               "debias_lambda": run.debias_lambda, "seed": run.seed}  # fmt: skip
        row[accuracy] = by_run.at[run.name, accuracy]
        row.update({c: by_run.at[run.name, c] for c in geo})
        rows.append(row)
    table = pd.DataFrame(rows, columns=["model", "method", "debias_lambda", "seed", accuracy,
                                        *geo])  # fmt: skip
    for c in geo:
        for _, suffix in _DIFF_FIELDS:
            table[c + suffix] = np.nan
    results = getattr(comparison, "results", None) or {}
    base_of = {(r.model, r.seed): r.name for r in runs if r.debias_lambda == 0}
    for model, seed in dict.fromkeys((r.model, r.seed) for r in runs):
        base = base_of.get((model, seed))
        others = [r.name for r in runs if (r.model, r.seed) == (model, seed) and r.name != base]
        if base not in results or not others:
            continue
        subset = {name: results[name] for name in [base, *others] if name in results}
        pairs = paired_differences(subset, base)
        for _, p in pairs.iterrows():
            name, excess = p["score"], ""
            if name.endswith("_excess"):
                name, excess = name.removesuffix("_excess"), "_excess"
            col = f"{SCORE_COLUMNS.get(name, name)}@{p['scale']}{excess}"
            if col not in geo:
                continue
            i = next(k for k, r in enumerate(runs) if r.name == p["model_a"])
            for field, suffix in _DIFF_FIELDS:
                table.loc[i, col + suffix] = p[field]
    if pareto_column is not None and pareto_column in table.columns:
        table["pareto"] = pareto_front(
            table[accuracy].to_numpy(np.float64), table[pareto_column].to_numpy(np.float64)
        )
    else:
        table["pareto"] = False
    table["predictions"] = [predictions[r.name] for r in runs]
    return table


def tradeoff_section(table: pd.DataFrame, *, accuracy: str, bias: str) -> Any:
    """The trade-off plot and table as a section of the HTML report.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`tradeoff_table`.
    accuracy : str
        Accuracy column (the y axis; ``top1`` is drawn in percent).
    bias : str
        Geo-bias column (the x axis), e.g. ``'marked_ssi@100km'``.

    Returns
    -------
    pygbs.plot.ReportSection
    """
    from pygbs.plot import ReportSection

    fig = tradeoff_figure(table, accuracy=accuracy, bias=bias)
    shown = [c for c in table.columns if c == bias or c.startswith(f"{bias}_diff")]
    return ReportSection(
        title="Accuracy against geo-bias: the weight of the geo-bias term",
        note=(
            "Each encoder was trained at every weight λ of the geo-bias term of the loss; "
            f"λ = 0 is plain training. {bias}_diff is the run's score minus that of the same "
            "encoder at λ = 0, over the centres scored for both, with its paired "
            "block-bootstrap interval: an interval entirely below 0 means the term "
            "reduced the geo-bias beyond what the choice of locations explains. Ringed "
            "points are on the Pareto front (no other run is both more accurate and less "
            "geo-biased)."
        ),
        figure=fig,
        caption=f"{_accuracy_label(accuracy)} against {bias}, one curve per encoder.",
        table=table[["model", "debias_lambda", accuracy, *shown, "pareto"]],
    )


def _accuracy_label(accuracy: str) -> str:
    return {"top1": "Top-1 accuracy (%)", "r2": "R²"}.get(accuracy, accuracy)


def tradeoff_figure(table: pd.DataFrame, *, accuracy: str, bias: str) -> Any:
    """The trade-off plot (``OUT/tradeoff.png``): accuracy against ``bias`` per encoder."""
    from pygbs.plot import plot_tradeoff
    from pygbs.plot.maps import score_label

    score, _, scale = bias.partition("@")
    return plot_tradeoff(
        table,
        x=bias,
        y=accuracy,
        x_label=f"{score_label(score, scale)}, lower = less geo-biased",
        y_label=_accuracy_label(accuracy),
        y_factor=100.0 if accuracy == "top1" else 1.0,
    )


#: Side (km) of the bootstrap blocks of the region accuracy's paired intervals.
REGION_BLOCK_KM = 500.0


def add_region_columns(
    table: pd.DataFrame,
    runs: list[ZooRun],
    hits: dict[str, np.ndarray],
    lonlat: np.ndarray,
    region: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Add the accuracy inside the planted regions to the trade-off table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`tradeoff_table` (rows in the order of ``runs``).
    runs : list of ZooRun
        The zoo's runs.
    hits : dict
        Run name -> ``(n,)`` hit@1 (0 / 1) of its test samples, same order for every run.
    lonlat : ndarray of shape (n, 2)
        The test locations.
    region : ndarray of shape (n,)
        Planted region of each test sample (-1 outside every region).
    n_boot : int, default=1000
        Block-bootstrap replicates of the paired intervals.
    seed : int, default=0
        Seed of the replicates.

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``region_top1`` (accuracy inside the regions),
        ``region_top1_diff``, ``region_top1_diff_ci_low``, ``region_top1_diff_ci_high``,
        ``region_top1_diff_p_value`` (paired block bootstrap against the same encoder and
        seed untreated, blocks of :data:`REGION_BLOCK_KM`; empty for the untreated run),
        ``outside_top1``, ``region_gap`` (outside minus inside) and
        ``worst_region_top1`` (the lowest accuracy of a single region).
    """
    from pygbs.inference.bootstrap import make_blocks, paired_bootstrap

    inside = np.asarray(region) >= 0
    ids = np.unique(region[inside])
    blocks = make_blocks(lonlat[inside, 0], lonlat[inside, 1], REGION_BLOCK_KM).ids
    out = table.copy()
    cols = ("region_top1", "region_top1_diff", "region_top1_diff_ci_low",
            "region_top1_diff_ci_high", "region_top1_diff_p_value", "outside_top1",
            "region_gap", "worst_region_top1")  # fmt: skip
    for c in cols:
        out[c] = np.nan
    base_of = {(r.model, r.seed): r.name for r in runs if r.debias_lambda == 0}
    for i, run in enumerate(runs):
        h = np.asarray(hits[run.name], dtype=np.float64)
        out.loc[i, "region_top1"] = h[inside].mean() if inside.any() else np.nan
        out.loc[i, "outside_top1"] = h[~inside].mean() if (~inside).any() else np.nan
        out.loc[i, "region_gap"] = out.loc[i, "outside_top1"] - out.loc[i, "region_top1"]
        if len(ids):
            out.loc[i, "worst_region_top1"] = min(h[region == j].mean() for j in ids)
        base = base_of.get((run.model, run.seed))
        if base is None or base == run.name or not inside.any():
            continue
        b = np.asarray(hits[base], dtype=np.float64)
        est = paired_bootstrap(h[inside], b[inside], blocks, n_boot=n_boot, seed=seed)
        out.loc[i, "region_top1_diff"] = est.estimate
        out.loc[i, "region_top1_diff_ci_low"] = est.ci_low
        out.loc[i, "region_top1_diff_ci_high"] = est.ci_high
        out.loc[i, "region_top1_diff_p_value"] = est.p_value
    return out


def region_hits(out: Path, runs: list[ZooRun], ds: GeoDataset) -> dict[str, np.ndarray] | None:
    """hit@1 of every run's test predictions, for a dataset with planted regions."""
    if ds.task != "classification" or not (ds.info or {}).get("regions"):
        return None
    return {
        r.name: pd.read_csv(out / "predictions" / f"{r.name}.csv", usecols=["hit@1"])[
            "hit@1"
        ].to_numpy(np.float64)
        for r in runs
    }


def first_seed_curves(trade: pd.DataFrame) -> pd.DataFrame:
    """The runs of the first seed, one curve per encoder and method (untreated in each)."""
    first = trade[trade["seed"] == trade["seed"].min()]
    methods = [m for m in dict.fromkeys(first["method"]) if m != "none"]
    if len(methods) <= 1:
        return first
    parts = []
    for m in methods:
        part = first[first["method"].isin(["none", m])].copy()
        plain = part["model"] == NO_PRIOR
        part.loc[~plain, "model"] = part.loc[~plain, "model"] + f" ({m})"
        parts.append(part if not parts else part[~plain])
    return pd.concat(parts, ignore_index=True)


def write_tradeoff(
    out: Path,
    runs: list[ZooRun],
    table: pd.DataFrame,
    comparison: Any,
    ds: GeoDataset,
    bias: str | None,
    accuracy: str,
) -> Any:
    """Write ``tradeoff.csv`` and, with a ``bias`` column, ``tradeoff.png``; the report section.

    ``accuracy`` is the accuracy column (``top1``, or ``r2`` for regression); with planted
    regions (synthetic-vmf-biased, -sparse) the table also gets the accuracy inside and
    outside them (:func:`add_region_columns`).
    """
    from encoders.data.synthetic_vmf import region_of

    preds = {r.name: f"predictions/{r.name}.csv" for r in runs}
    trade = tradeoff_table(runs, table, comparison, accuracy=accuracy, pareto_column=bias,
                           predictions=preds)  # fmt: skip
    hits = region_hits(out, runs, ds)
    if hits is not None:
        region = region_of(ds.test.lonlat, ds.info["regions"])
        trade = add_region_columns(trade, runs, hits, ds.test.lonlat.astype(np.float64), region)
        # the predictions path last, as before
        trade = trade[[c for c in trade.columns if c != "predictions"] + ["predictions"]]
    with atomic_path(out / "tradeoff.csv") as tmp:
        trade.to_csv(tmp, index=False)
    if bias is None:
        return None
    trade = first_seed_curves(trade)
    fig = tradeoff_figure(trade, accuracy=accuracy, bias=bias)
    with atomic_path(out / "tradeoff.png") as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    return tradeoff_section(trade, accuracy=accuracy, bias=bias)
