"""One self-contained HTML report comparing the geo-bias of several models.

:func:`write_report` scores the models (or reuses a :class:`~pygbs.Comparison`) and writes
one HTML file with every figure embedded as a PNG data URI: the comparison table, a bar
chart of geo-bias per model and scale, accuracy against geo-bias, small-multiple score
maps per model on a shared colour scale, the sample density, the inputs and parameters,
and a short reading guide. No script, font or style sheet is loaded from anywhere, so the
file opens offline and can be mailed or archived as it is.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import pygbs
from pygbs.errors import InputError
from pygbs.io.atomic import write_text_atomic
from pygbs.plot._axes import figure_size
from pygbs.plot.frame import choose_frame
from pygbs.plot.html_parts import (
    READING_GUIDE,
    REPORT_CSS,
    figure_html,
    format_value,
    png_data_uri,
    table_html,
)
from pygbs.plot.maps import SCORE_COLUMNS, plot_centres, plot_density, score_label
from pygbs.plot.report_parts import (
    compact_pairs,
    compact_table,
    dot_whisker,
    draw_outlines,
    headline_columns,
    html_rows,
    input_checksums,
    most_biased_places,
    region_sections,
    reproducibility_rows,
    score_panels,
    short_names,
)
from pygbs.tables import wide_column

__all__ = ["REPORT_MARKER", "ReportSection", "write_report"]

#: Written into every report; ``pygbs report`` replaces an existing file only if it has it.
REPORT_MARKER = "pygbs report"


@dataclass(frozen=True)
class ReportSection:
    """An extra section of :func:`write_report`, drawn by the caller.

    Parameters
    ----------
    title : str
        Heading of the section.
    note : str, default=''
        A paragraph of plain text under the heading (escaped, not HTML).
    figure : matplotlib.figure.Figure, optional
        Embedded as a PNG.
    caption : str, default=''
        Caption of the figure.
    table : pandas.DataFrame, optional
        Shown under the figure.
    """

    title: str
    note: str = ""
    figure: Figure | None = None
    caption: str = ""
    table: pd.DataFrame | None = None

    def html(self) -> str:
        """The section as HTML."""
        parts = [f"<h2>{html.escape(self.title)}</h2>"]
        if self.note:
            parts.append(f'<p class="note">{html.escape(self.note)}</p>')
        if self.figure is not None:
            parts.append(figure_html(png_data_uri(self.figure), self.caption))
        if self.table is not None:
            parts.append(table_html(self.table))
        return "".join(parts)


#: Paired differences shown before the rest is folded away (smallest q first).
_PAIRS_SHOWN = 20


def _error_bars(table: pd.DataFrame, col: str, rows: Any = None) -> np.ndarray | None:
    """(2, n) distances from each headline value to its interval ends, or None."""
    lo_col, hi_col = f"{col}_ci_low", f"{col}_ci_high"
    if lo_col not in table.columns or hi_col not in table.columns:
        return None
    sub = table if rows is None else table.loc[rows]
    mid = sub[col].to_numpy(np.float64)
    lo, hi = sub[lo_col].to_numpy(np.float64), sub[hi_col].to_numpy(np.float64)
    if not (np.isfinite(lo).any() and np.isfinite(hi).any()):
        return None
    return np.vstack([np.nan_to_num(mid - lo), np.nan_to_num(hi - mid)]).clip(min=0)


def _bar_chart(table: pd.DataFrame) -> str:
    cols = score_panels(table)
    scores = list(dict.fromkeys(s for _, s, _ in cols))
    scales = list(dict.fromkeys(sc for _, _, sc in cols))
    models = table["model"].astype(str).tolist()
    fig = Figure(figsize=(min(4.2 * len(scores), 13), 3.6), layout="constrained")
    axes = fig.subplots(1, len(scores), squeeze=False)[0]
    width = 0.8 / max(len(models), 1)
    colours = _model_colours(len(models))
    for ax, score in zip(axes, scores, strict=True):
        xs = np.arange(len(scales))
        for i, model in enumerate(models):
            rows = table["model"].astype(str) == model
            vals, errs = [], []
            for sc in scales:
                col = f"{score}@{sc}"
                vals.append(float(table.loc[rows, col].iloc[0]) if col in table.columns else np.nan)
                err = _error_bars(table, col, rows) if col in table.columns else None
                errs.append([0.0, 0.0] if err is None else err[:, 0].tolist())
            yerr = np.array(errs).T if any(any(e) for e in errs) else None
            ax.bar(
                xs + (i - (len(models) - 1) / 2) * width,
                vals,
                width,
                yerr=yerr,
                error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333333"},
                label=model,
                color=colours[i],
            )
        ax.set_xticks(xs, scales)
        ax.set_title(score_label(score, units=False), fontsize=10)
        ax.set_ylabel(SCORE_COLUMNS.get(score, ("", "score"))[1], fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", color="#e5e5e5")
        ax.set_axisbelow(True)
    _legend(fig, axes[-1], models)
    return png_data_uri(fig)


def _model_colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _legend(fig: Figure, ax: Any, models: list[str]) -> None:
    if len(models) <= 12:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        ax.legend(fontsize=6, frameon=False, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _accuracy(table: pd.DataFrame, results: Mapping[str, Any]) -> tuple[np.ndarray, str]:
    """Per-model accuracy for the scatter (the table's column), and its axis label.

    The column is the share of correct samples for hit indicators (coding rule "binary")
    and the mean of the value column otherwise.
    """
    codings = [((r.summary or {}).get("input") or {}).get("coding") or {} for r in results.values()]
    binary = len(codings) == len(table) and all(c.get("rule") == "binary" for c in codings)
    label = "accuracy (share of correct samples)" if binary else "mean of the value column"
    if "accuracy" not in table.columns and "r2" in table.columns:  # regression files
        return table["r2"].to_numpy(np.float64), "R² of the predictions"
    return table["accuracy"].to_numpy(np.float64), label


def _label_points(ax: Any, x: np.ndarray, y: np.ndarray, names: pd.Series) -> None:
    """Name each point, skipping points that sit on top of an already labelled one."""
    xr = np.ptp(x[np.isfinite(x)]) if np.isfinite(x).any() else 1.0
    yr = np.ptp(y[np.isfinite(y)]) if np.isfinite(y).any() else 1.0
    placed: list[tuple[float, float]] = []
    for a, v, m in zip(x, y, names.astype(str), strict=True):
        if not (np.isfinite(a) and np.isfinite(v)):
            continue
        if any(
            abs(a - pa) < 0.06 * (xr or 1) and abs(v - pv) < 0.06 * (yr or 1) for pa, pv in placed
        ):
            continue
        placed.append((a, v))
        ax.annotate(m, (a, v), fontsize=6, xytext=(3, 2), textcoords="offset points", clip_on=True)


def _accuracy_scatter(table: pd.DataFrame, results: Mapping[str, Any]) -> str:
    cols = score_panels(table)
    scores = list(dict.fromkeys(s for _, s, _ in cols))
    scales = list(dict.fromkeys(sc for _, _, sc in cols))
    markers = "osD^v<>p*h"
    fig = Figure(figsize=(min(4.2 * len(scores), 13), 3.8), layout="constrained")
    axes = fig.subplots(1, len(scores), squeeze=False)[0]
    acc, acc_label = _accuracy(table, results)
    for ax, score in zip(axes, scores, strict=True):
        for j, scale in enumerate(scales):
            col = f"{score}@{scale}"
            if col not in table.columns:
                continue
            points = ax.scatter(
                acc,
                table[col].to_numpy(np.float64),
                marker=markers[j % len(markers)],
                s=30,
                label=scale,
                zorder=3,
            )
            err = _error_bars(table, col)
            if err is not None:
                ax.errorbar(
                    acc,
                    table[col].to_numpy(np.float64),
                    yerr=err,
                    fmt="none",
                    ecolor=points.get_facecolor()[0],
                    elinewidth=0.8,
                    zorder=2,
                )
            if j == 0 and len(table) <= 20:
                _label_points(ax, acc, table[col].to_numpy(np.float64), table["model"])
        ax.set_xlabel(acc_label, fontsize=8)
        ax.set_ylabel(score_label(score, units=False), fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(color="#e5e5e5")
        ax.set_axisbelow(True)
    axes[-1].legend(fontsize=7, frameon=False, title="scale", title_fontsize=7)
    return png_data_uri(fig)


def _small_multiples(
    results: Mapping[str, Any],
    score: str,
    scale: str,
    names: Mapping[str, str] | None = None,
    highlight: Any = None,
    baseline: str | None = None,
) -> list[tuple[str, str]]:
    """One map per model on one colour scale, cropped to the data.

    With ``baseline``, the maps show each model's difference from the baseline centre by
    centre (diverging, symmetric colour scale) and the baseline is left out.
    """
    names = names or {}
    centres = {name: r.centres for name, r in results.items()}
    lon = np.concatenate([c["lon"].to_numpy(np.float64) for c in centres.values()])
    lat = np.concatenate([c["lat"].to_numpy(np.float64) for c in centres.values()])
    frame = choose_frame(lon, lat)
    tables = {}
    cmap = "viridis"
    for name, c in centres.items():
        if score not in c.columns:
            continue
        tables[name] = c.loc[c["scale"].astype(str) == scale].reset_index(drop=True)
    if baseline is not None and baseline in tables:
        base = tables.pop(baseline)
        same = all(
            len(t) == len(base) and np.array_equal(t["row"].to_numpy(), base["row"].to_numpy())
            for t in tables.values()
        )
        if same and tables:
            for name, t in tables.items():
                t = t.copy()
                t[score] = t[score].to_numpy(np.float64) - base[score].to_numpy(np.float64)
                tables[name] = t
            cmap = "RdBu_r"
        else:
            tables[baseline] = base
            baseline = None
    else:
        baseline = None
    pooled = np.concatenate([t[score].to_numpy(np.float64) for t in tables.values()])
    pooled = pooled[np.isfinite(pooled)]
    vmin = float(np.percentile(pooled, 2)) if pooled.size else None
    vmax = float(np.percentile(pooled, 98)) if pooled.size else None
    if baseline is not None and pooled.size:
        vmax = float(np.percentile(np.abs(pooled), 98)) or 1.0
        vmin = -vmax
    width, height = figure_size(frame, width=5.5)
    out = []
    for name, table in tables.items():
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.add_subplot()
        label = names.get(name, name)
        title = f"{label} − {names.get(baseline, baseline)}" if baseline else label
        plot_centres(table, score, scale, ax, frame=frame, vmin=vmin, vmax=vmax, title=title,
                     cmap=cmap)  # fmt: skip
        if highlight is not None:
            draw_outlines(ax, frame, *highlight)
        out.append((title, png_data_uri(fig, dpi=90)))
    return out


def _most_biased_model(table: pd.DataFrame, score: str, scale: str) -> str | None:
    """The model with the highest mean of ``score`` at ``scale`` (None without the column)."""
    col = wide_column(score, scale, "mean")
    if col not in table.columns or table[col].isna().all():
        return None
    return str(table.loc[table[col].astype(float).idxmax(), "model"])


def _varying(table: pd.DataFrame) -> pd.DataFrame:
    """The table without headline columns that are the same for every model."""
    keep = {c for c, _, _, _ in headline_columns(table)}
    drop = [
        c
        for c, _, _ in score_panels(table)
        if c not in keep
        for c in (c, f"{c}_ci_low", f"{c}_ci_high")
        if c in table.columns
    ]
    return table.drop(columns=drop)


def _pick_map_score(
    results: Mapping[str, Any], score: str | None, scale: str | None
) -> tuple[str, str]:
    first = next(iter(results.values()))
    present = [c for c in SCORE_COLUMNS if c in first.centres.columns]
    if not present:
        raise InputError("the results hold no score column to map")
    if score is None:
        score = "marked_ssi" if "marked_ssi" in present else present[0]
    elif score not in present:
        raise InputError(f"map score {score!r} not computed; choose from {present}")
    scales = list(dict.fromkeys(first.centres["scale"].astype(str)))
    if scale is None:
        scale = scales[0]
    elif str(scale) not in scales:
        raise InputError(f"map scale {scale!r} not computed; choose from {scales}")
    return score, str(scale)


def write_report(
    comparison: Any,
    out: str | os.PathLike[str],
    *,
    title: str | None = None,
    map_score: str | None = None,
    map_scale: str | None = None,
    extra_sections: Sequence[ReportSection] = (),
    names: Mapping[str, str] | None = None,
    regions: Any = None,
    highlight: Any = None,
    command: Sequence[str] | None = None,
) -> Path:
    """Write a self-contained HTML report of several models' geo-bias.

    The report draws what the comparison holds; it scores nothing itself (call
    :func:`pygbs.compare` first, or read a ``pygbs compare`` folder with
    :func:`pygbs.results.comparison.read_comparison`). It answers, in order: *which* model
    is geo-biased (a sorted dot-and-whisker chart of the headline scores, the
    accuracy-matched excess first when the table has it, and a compact table), *is the
    difference real* (every paired difference with its interval and its FDR q-value) and
    *where* (maps of each model's difference from the baseline on one colour scale,
    cropped to the data, with regions of interest outlined, and the per-region table).

    Parameters
    ----------
    comparison : Comparison
        A :func:`pygbs.compare` result.
    out : path-like
        The HTML file to write (atomically).
    title : str, optional
        Report title; defaults to "Geo-bias report" and the number of models.
    map_score : str, optional
        Score column of the small-multiple maps (default ``marked_ssi`` when computed).
    map_scale : str, optional
        Scale of the maps (default: the first scale).
    extra_sections : sequence of ReportSection, default=()
        Sections drawn by the caller, placed after the comparison and its paired tests
        and before the maps (e.g. the trade-off of ``encoders zoo --debias-lambdas``).
    names : mapping, optional
        Display name per model (default: the names without the prefix and suffix they
        all share).
    regions : RegionResult, optional
        A :func:`pygbs.regions` result of the same models, shown as the per-region table.
    highlight : (geometries, labels), optional
        Regions of interest (shapely polygons in degrees, and their names) outlined on
        every map.
    command : sequence of str, optional
        The command line shown in the reproducibility block (default: this process's).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    InputError
        For an empty comparison or an unknown map score or scale.
    """
    table: pd.DataFrame = comparison.table
    results: Mapping[str, Any] = comparison.results
    if not results:
        raise InputError("the comparison holds no model")
    score, scale = _pick_map_score(results, map_score, map_scale)
    first = next(iter(results.values()))
    summary = first.summary or {}
    title = title or f"Geo-bias report: {len(results)} model{'s' if len(results) != 1 else ''}"
    models = [str(m) for m in table["model"]]
    shown = short_names(models)
    if names:
        shown.update({str(k): str(v) for k, v in names.items()})
    baseline = getattr(comparison, "baseline", None)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="{REPORT_MARKER}">',
        f"<title>{html.escape(title)}</title><style>{REPORT_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">pygbs {html.escape(str(summary.get("pygbs_version", "")))}; '
        f"value column <code>{html.escape(str((summary.get('input') or {}).get('value_name', '')))}"
        f"</code>; {format_value((summary.get('parameters') or {}).get('n_centres'))} "
        "centres per model"
        + (
            f"; baseline <code>{html.escape(shown.get(baseline, baseline))}</code>"
            if baseline
            else ""
        )
        + ".</p>",
        "<h2>How to read this report</h2>",
        READING_GUIDE,
        "<h2>Which model is geo-biased?</h2>",
        '<p class="note">Each dot is a model\'s mean score over centres, each whisker its '
        "spatial block-bootstrap interval; models are sorted, the baseline is grey. "
        "Excess geo-bias (beyond what a model of the same accuracy would show) comes first "
        "when the comparison has it. Scores that are the same for every model (unmarked "
        "SSI depends on the locations only) are left out. Cells read "
        "<code>value [low, high]</code>.</p>",
    ]
    fig = dot_whisker(table, shown, baseline)
    if fig is not None:
        parts.append(
            figure_html(png_data_uri(fig), "Headline scores per model, sorted, with intervals.")
        )
    parts.append(table_html(compact_table(table, shown)))
    if score_panels(table) and len(table) > 1:
        parts.append(
            figure_html(
                _accuracy_scatter(
                    _varying(table).assign(model=[shown[m] for m in models]), results
                ),
                "Accuracy against geo-bias, one point per model and scale.",
            )
        )
    pairs = getattr(comparison, "pairs", None)
    if pairs is not None and len(pairs):
        cp = compact_pairs(pairs, shown)
        parts.append("<h2>Is the difference real?</h2>")
        parts.append(
            '<p class="note"><code>difference</code> is a minus b, averaged over the centres '
            "scored for both, with its block-bootstrap interval and p-value. Many pairs are "
            "tested at once, so <code>q</code> is the p-value adjusted for the false "
            "discovery rate (Benjamini-Hochberg): among the differences with q below 0.05, "
            "at most 5 % are expected to be chance. Rows that cannot differ (unmarked SSI) "
            "are left out.</p>"
        )
        if len(cp) > _PAIRS_SHOWN:
            parts.append(table_html(cp.head(_PAIRS_SHOWN)))
            parts.append(
                f"<details><summary>all {len(cp)} paired differences</summary>"
                f"{table_html(cp)}</details>"
            )
        else:
            parts.append(table_html(cp))
    corr = getattr(comparison, "accuracy_correlation", None)
    if corr is not None and len(corr):
        parts.append("<h2>Does a score only track accuracy?</h2>")
        parts.append(
            '<p class="note">Spearman rank correlation between accuracy and each score '
            "across the models; <code>tracks_accuracy</code> marks scores that rank the "
            "models almost as accuracy does.</p>"
        )
        parts.append(table_html(corr))
    for section in extra_sections:
        if not isinstance(section, ReportSection):
            raise TypeError(
                f"extra_sections holds a {type(section).__name__}; expected ReportSection"
            )
        parts.append(section.html())
    maps = _small_multiples(results, score, scale, shown, highlight, baseline)
    diff = baseline is not None and len(maps) == len(results) - 1
    parts.append(
        f"<h2>Where? {html.escape(score_label(score, scale))}"
        + (" minus the baseline" if diff else "")
        + "</h2>"
    )
    parts.append(
        '<p class="note">'
        + (
            "Each map shows a model's score minus the baseline's, centre by centre (red: "
            "more geo-biased than the baseline there, blue: less), "
            if diff
            else ""
        )
        + "on one colour scale for every model (2nd to 98th percentile of all centres), "
        "cropped to the data; grey crosses are centres not scored."
        + (" Outlined: the regions of interest." if highlight is not None else "")
        + "</p>"
    )
    parts.append('<div class="grid">')
    for name, src in maps:
        parts.append(figure_html(src, name))
    parts.append("</div>")
    worst_model = _most_biased_model(table, score, scale)
    if worst_model in results:
        places = most_biased_places(results[worst_model].centres, score, scale)
        parts.append(
            f"<h2>Where? The ten most geo-biased places of {html.escape(shown[worst_model])}</h2>"
        )
        parts.append(
            '<p class="note">The centres with the highest '
            f"{html.escape(score_label(score, scale))} of the model with the highest mean, "
            "named by the country they lie in.</p>"
        )
        parts.append(table_html(places))
    if regions is not None:
        parts.extend(region_sections(regions, shown))
    pred = getattr(first, "predictions", None)
    if pred is not None:
        lon, lat, what = np.asarray(pred.lon), np.asarray(pred.lat), "samples"
    else:
        rows = first.centres.drop_duplicates("row") if "row" in first.centres else first.centres
        lon, lat, what = rows["lon"].to_numpy(), rows["lat"].to_numpy(), "centres"
    fig = Figure(figsize=figure_size(choose_frame(lon, lat), width=7.5), layout="constrained")
    plot_density(lon, lat, fig.add_subplot())
    parts.append("<h2>Where the data is</h2>")
    parts.append(figure_html(png_data_uri(fig), f"Density of the {what} (equal-area hexagons)."))
    parts.append("<h2>Inputs</h2>")
    inputs = []
    for name, res in results.items():
        info = (res.summary or {}).get("input") or {}
        coding = info.get("coding") or {}
        inputs.append(
            {
                "model": shown.get(name, name),
                "source": str(info.get("source", "")),
                "value": str(info.get("value_name", "")),
                "rows": info.get("n_rows"),
                "missing coords": info.get("n_missing_coords"),
                "valid": info.get("n_valid"),
                "coding": str(coding.get("rule", "")),
                "threshold": coding.get("threshold"),
                "good": coding.get("n_good"),
                "bad": coding.get("n_bad"),
            }
        )
    parts.append(table_html(pd.DataFrame(inputs)))
    parts.append("<h2>Parameters</h2>")
    params = summary.get("parameters") or {}
    differ = [
        name
        for name, res in results.items()
        if ((res.summary or {}).get("parameters") or {}) != params
    ]
    if differ:
        parts.append(
            '<p class="note"><b>Warning:</b> parameters differ for '
            f"{html.escape(', '.join(differ))}; their scores are not comparable.</p>"
        )
    parts.append(
        table_html(
            pd.DataFrame(
                {
                    "parameter": [str(k) for k in params],
                    "value": [format_value(v) for v in params.values()],
                }
            )
        )
    )
    parts.append("<h2>Reproducibility</h2>")
    rows = reproducibility_rows(str(pygbs.__version__), command)
    parts.append(html_rows(rows))
    sources = {
        m: ((r.summary or {}).get("input") or {}).get("source", "") for m, r in results.items()
    }
    parts.append(table_html(input_checksums(sources).assign(model=lambda d: d.model.map(shown))))
    parts.append("</body></html>\n")
    path = Path(out)
    write_text_atomic(path, "\n".join(parts))
    return path
