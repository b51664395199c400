"""Parts of the HTML report that answer *which model*, *is it real* and *where*.

Drawing and formatting only, from tables already computed: short model names, the sorted
dot-and-whisker chart of the headline scores, the paired differences with FDR q-values,
compact ``x [lo, hi]`` tables, the per-region table, outlined regions of interest on the
maps, and the reproducibility block (date, version, command line, input checksums).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pygbs.inference.fdr import fdr_q_values
from pygbs.partitions import assign_regions
from pygbs.plot.html_parts import table_html
from pygbs.tables import wide_columns, wide_suffix

__all__ = [
    "region_sections",
    "score_panels",
    "EXCESS_SUFFIX",
    "compact_pairs",
    "compact_table",
    "dot_whisker",
    "draw_outlines",
    "headline_columns",
    "html_rows",
    "input_checksums",
    "most_biased_places",
    "reproducibility_rows",
    "short_names",
]

#: Suffix of the accuracy-matched excess columns of ``compare.csv`` (when present).
EXCESS_SUFFIX = "_excess"
_SEPARATORS = "_-. "


def short_names(names: Sequence[str]) -> dict[str, str]:
    """Model names without the prefix and suffix that all of them share.

    The cut is made at a separator (``_``, ``-``, ``.``, space) so that names stay
    readable: ``eval_birdsnap_ebird_meta_test_NeRF`` and ``..._test_rbf`` become ``NeRF``
    and ``rbf``. Names that would become empty or collide are kept whole.

    Parameters
    ----------
    names : sequence of str

    Returns
    -------
    dict of str to str
        Full name -> short name.
    """
    names = [str(n) for n in names]
    if len(names) < 2:
        return {n: n for n in names}
    prefix = os.path.commonprefix(names)
    cut = max((prefix.rfind(c) for c in _SEPARATORS), default=-1) + 1
    rev = os.path.commonprefix([n[::-1] for n in names])
    tail = max((rev.rfind(c) for c in _SEPARATORS), default=-1) + 1
    short = [n[cut : len(n) - tail] if tail else n[cut:] for n in names]
    if any(not s for s in short) or len(set(short)) < len(short):
        short = [n[cut:] or n for n in names]
        if len(set(short)) < len(short):
            short = names
    return dict(zip(names, short, strict=True))


def headline_columns(table: pd.DataFrame) -> list[tuple[str, str, str, bool]]:
    """The headline columns worth showing, excess geo-bias first.

    Parameters
    ----------
    table : pandas.DataFrame
        A ``compare.csv`` table.

    Returns
    -------
    list of (column, score, scale, excess)
        ``<score>@<scale>_excess`` columns (the accuracy-matched excess, when the table has
        them) before the raw ``<score>@<scale>`` ones. Columns whose value is the same for
        every model (such as unmarked SSI, which depends on the locations only) are left
        out: they cannot tell models apart.
    """
    raw, excess = [], []
    for col, score, scale, stat in wide_columns(table):
        if stat not in ("mean", "excess"):  # intervals, p-values and null means
            continue
        values = pd.to_numeric(table[col], errors="coerce").to_numpy(np.float64)
        finite = values[np.isfinite(values)]
        if len(table) > 1 and (finite.size == 0 or np.ptp(finite) == 0):
            continue
        is_excess = stat == "excess"
        (excess if is_excess else raw).append((col, score, scale, is_excess))
    return excess + raw


def _interval(table: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    nan = np.full(len(table), np.nan)
    lo = table[f"{col}_ci_low"].to_numpy(np.float64) if f"{col}_ci_low" in table else nan
    hi = table[f"{col}_ci_high"].to_numpy(np.float64) if f"{col}_ci_high" in table else nan
    return lo, hi


def _cell(x: float, lo: float = np.nan, hi: float = np.nan) -> str:
    if not np.isfinite(x):
        return "–"
    if np.isfinite(lo) and np.isfinite(hi):
        return f"{x:.3g} [{lo:.3g}, {hi:.3g}]"
    return f"{x:.3g}"


def compact_table(table: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """The comparison as ``x [lo, hi]`` cells, one column per shown headline, sorted.

    Parameters
    ----------
    table : pandas.DataFrame
        ``compare.csv``.
    names : mapping
        Full -> display name.

    Returns
    -------
    pandas.DataFrame
        ``model, accuracy, n`` and one column per :func:`headline_columns` entry, rows
        sorted by the first headline column, highest first.
    """
    cols = headline_columns(table)
    order = table.index
    if cols:
        order = table[cols[0][0]].astype(float).sort_values(ascending=False, kind="stable").index
    t = table.loc[order]
    out = pd.DataFrame({"model": [names.get(m, m) for m in t["model"].astype(str)]})
    if "accuracy" in t:
        out["accuracy"] = [f"{v:.3g}" for v in t["accuracy"].astype(float)]
    for col, _, _, _ in cols:
        lo, hi = _interval(t, col)
        out[col] = [_cell(x, a, b) for x, a, b in zip(t[col].astype(float), lo, hi, strict=True)]
    return out


def compact_pairs(pairs: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Paired differences that can differ, with Benjamini-Hochberg q-values, sorted by q.

    Rows of the unmarked score (the same locations give the same value for every model:
    always 0) and rows whose difference and interval are all exactly 0 are left out
    before the q-values are computed over the remaining rows.

    Parameters
    ----------
    pairs : pandas.DataFrame
        ``pairs.csv`` (``model_a, model_b, score, scale, diff, ci_low, ci_high, p_value``).
    names : mapping
        Full -> display name.

    Returns
    -------
    pandas.DataFrame
        ``a, b, score, difference [interval], p, q``.
    """
    p = pairs.copy()
    zero = (p["diff"] == 0) & (p["ci_low"].fillna(0) == 0) & (p["ci_high"].fillna(0) == 0)
    p = p[~(p["score"].astype(str).str.startswith("unmarked") | zero)]
    if p.empty:
        return pd.DataFrame(columns=["a", "b", "score", "difference", "p", "q"])
    q = fdr_q_values(p["p_value"].to_numpy(np.float64))
    out = pd.DataFrame(
        {
            "a": [names.get(str(m), str(m)) for m in p["model_a"]],
            "b": [names.get(str(m), str(m)) for m in p["model_b"]],
            "score": [f"{s}@{c}" for s, c in zip(p["score"], p["scale"], strict=True)],
            "difference": [
                _cell(x, a, b) for x, a, b in zip(p["diff"], p["ci_low"], p["ci_high"], strict=True)
            ],
            "p": [f"{v:.2g}" for v in p["p_value"]],
            "q": q,
        }
    )
    out = out.sort_values("q", kind="stable").reset_index(drop=True)
    out["q"] = [f"{v:.2g}" for v in out["q"]]
    return out


def dot_whisker(
    table: pd.DataFrame, names: Mapping[str, str], baseline: str | None = None, max_panels: int = 4
) -> Figure | None:
    """One sorted dot-and-whisker panel per headline column (excess first).

    Parameters
    ----------
    table : pandas.DataFrame
        ``compare.csv``.
    names : mapping
        Full -> display name.
    baseline : str, optional
        Full name of the baseline model, drawn in grey.
    max_panels : int, default=4
        At most this many headline columns.

    Returns
    -------
    matplotlib.figure.Figure or None
        None when no column can tell the models apart.
    """
    cols = headline_columns(table)[:max_panels]
    if not cols:
        return None
    n = len(table)
    height = max(2.2, 0.28 * n + 1.0)
    fig = Figure(figsize=(min(3.6 * len(cols), 11.0), height), layout="constrained")
    axes = fig.subplots(1, len(cols), squeeze=False, sharey=False)[0]
    for ax, (col, score, scale, excess) in zip(axes, cols, strict=True):
        order = table[col].astype(float).sort_values(kind="stable").index
        t = table.loc[order]
        y = np.arange(len(t))
        x = t[col].to_numpy(np.float64)
        lo, hi = _interval(t, col)
        colours = ["#8a8a8a" if str(m) == baseline else "#1f5fa8" for m in t["model"]]
        err = np.vstack([np.nan_to_num(x - lo), np.nan_to_num(hi - x)]).clip(min=0)
        ax.errorbar(x, y, xerr=err, fmt="none", ecolor="#555555", elinewidth=1.0, capsize=2)
        ax.scatter(x, y, c=colours, s=22, zorder=3)
        ax.set_yticks(y, [names.get(str(m), str(m)) for m in t["model"]], fontsize=8)
        label = f"{score} @ {scale}" + (" (excess)" if excess else "")
        ax.set_title(label, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", color="#e5e5e5")
        ax.set_axisbelow(True)
        if excess:
            ax.axvline(0.0, color="#b00000", linewidth=0.8)
    return fig


def input_checksums(sources: Mapping[str, str]) -> pd.DataFrame:
    """SHA-256 of each model's input file (``not found`` when it is not there any more).

    Parameters
    ----------
    sources : mapping
        Model -> path of its prediction file.

    Returns
    -------
    pandas.DataFrame
        ``model, file, sha256``.
    """
    rows = []
    for model, src in sources.items():
        path = Path(str(src))
        if path.is_file():
            h = hashlib.sha256()
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            digest = h.hexdigest()
        else:
            digest = "not found"
        rows.append({"model": model, "file": path.name, "sha256": digest})
    return pd.DataFrame(rows)


def reproducibility_rows(version: str, argv: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """Date (UTC), package version and command line of this report.

    Parameters
    ----------
    version : str
        The pygbs version.
    argv : sequence of str, optional
        The command line (default: this process's, with the program's name only).

    Returns
    -------
    list of (label, text)
    """
    args = list(sys.argv if argv is None else argv)
    if args:
        args[0] = re.sub(r".*[/\\]", "", args[0]) or args[0]
        if args[0] in ("__main__.py", "-c", "-m"):
            args[0] = "python"
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [("date", now), ("pygbs", version), ("command", shlex.join(args))]


def html_rows(rows: Sequence[tuple[str, str]]) -> str:
    """Label/value pairs as a two-column HTML table."""
    body = "".join(
        f'<tr><th class="text">{html.escape(a)}</th><td class="text"><code>{html.escape(b)}'
        "</code></td></tr>"
        for a, b in rows
    )
    return f'<div class="scroll"><table>{body}</table></div>'


def draw_outlines(ax: Any, frame: Any, geometries: Any, names: Sequence[str] = ()) -> None:
    """Outline regions of interest (shapely polygons in lon/lat) on a map, named.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        A map drawn in ``frame``'s projection.
    frame : MapFrame
        The map's frame.
    geometries : sequence of shapely geometries
        Polygons in degrees.
    names : sequence of str, optional
        Labels written at each polygon's representative point.
    """
    import shapely

    for i, g in enumerate(geometries):
        for ring in shapely.get_rings(shapely.get_parts(g)):
            xy = shapely.get_coordinates(ring)
            x, y = frame.project(xy[:, 0], xy[:, 1])
            ax.plot(x, y, color="#d40000", linewidth=1.1, zorder=7)
        if i < len(names):
            pt = shapely.point_on_surface(g)
            x, y = frame.project(np.array([pt.x]), np.array([pt.y]))
            ax.annotate(str(names[i]), (float(x[0]), float(y[0])), fontsize=6, color="#d40000",
                        ha="center", zorder=8)  # fmt: skip


def most_biased_places(centres: pd.DataFrame, score: str, scale: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` centres with the highest score at one scale, named by country.

    Parameters
    ----------
    centres : pandas.DataFrame
        A result's per-centre table (``lon``, ``lat``, ``scale`` and ``score``).
    score, scale : str
        The score column and the scale.
    n : int, default=10
        How many.

    Returns
    -------
    pandas.DataFrame
        ``country, lon, lat, <score>``, highest first (country ``none`` at sea, beyond
        the nearest-country distance of :mod:`pygbs.partitions`).
    """
    c = centres[centres["scale"].astype(str) == str(scale)]
    c = c[np.isfinite(c[score].to_numpy(np.float64))]
    top = c.nlargest(n, score)
    if top.empty:
        return pd.DataFrame(columns=["country", "lon", "lat", score])
    try:
        country = assign_regions(top["lon"].to_numpy(), top["lat"].to_numpy(), "country").labels
    except Exception:  # no polygons installed: the places keep their coordinates only
        country = np.full(len(top), "")
    return pd.DataFrame(
        {
            "country": list(country),
            "lon": top["lon"].round(2).to_numpy(),
            "lat": top["lat"].round(2).to_numpy(),
            score: top[score].to_numpy(np.float64),
        }
    )


def score_panels(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(column, score, panel) of every score column of a comparison table but intervals.

    ``panel`` is the scale, followed by the statistic's suffix for statistics other than
    the mean (``100km_excess``).
    """
    return [
        (col, score, scale + wide_suffix(stat))
        for col, score, scale, stat in wide_columns(table)
        if not stat.endswith(("ci_low", "ci_high"))
    ]


def region_sections(regions: Any, shown: Mapping[str, str]) -> list[str]:
    """The per-region disparity summary and table of a :class:`~pygbs.RegionResult`."""
    metric = regions.metric
    parts = [
        f"<h2>Where? {html.escape(metric)} per region "
        f"({html.escape(str(regions.info.get('by', '')))})</h2>",
        '<p class="note">Per model: the gap between its best and worst region, its '
        "interval and p-value against the gap that sampling noise alone gives, and the "
        "worst region with its p-value against all other samples. The table lists each "
        "region's value with its block-bootstrap interval, worst regions first.</p>",
    ]
    rows = []
    for model in regions.models:
        d = regions.disparity[regions.disparity["model"] == model].set_index("statistic")
        row = {"model": shown.get(model, model)}
        if "gap" in d.index:
            g, w = d.loc["gap"], d.loc["worst_region"]
            row["gap"] = f"{g.value:.3g} [{g.ci_low:.3g}, {g.ci_high:.3g}]"
            row["p (gap)"] = f"{g.p_value:.2g}"
            row["worst region"] = str(w.region)
            row["p (worst vs rest)"] = f"{w.p_value:.2g}"
        rows.append(row)
    parts.append(table_html(pd.DataFrame(rows)))
    t = regions.table[regions.table["eligible"].astype(bool)]
    wide = t.pivot(index="region", columns="model", values=metric)
    lo = t.pivot(index="region", columns="model", values=f"{metric}_ci_low")
    hi = t.pivot(index="region", columns="model", values=f"{metric}_ci_high")
    n = t.groupby("region")["n"].max()
    order = wide.mean(axis=1).sort_values(ascending=regions.higher_is_better).index
    cells = pd.DataFrame({"region": list(order), "n": [int(n[r]) for r in order]})
    for model in regions.models:
        if model not in wide.columns:
            continue
        cells[shown.get(model, model)] = [
            f"{wide.at[r, model]:.3g} [{lo.at[r, model]:.3g}, {hi.at[r, model]:.3g}]"
            if np.isfinite(lo.at[r, model])
            else f"{wide.at[r, model]:.3g}"
            for r in order
        ]
    parts.append(table_html(cells.head(30)))
    return parts
