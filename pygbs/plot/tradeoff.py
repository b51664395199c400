"""Accuracy against geo-bias along a training setting: one curve per model.

:func:`plot_tradeoff` draws a table that has one row per model and setting (for the encoder
zoo: per encoder and weight of the geo-bias term, ``encoders zoo --debias-lambdas``): each
model's points joined in the order of the setting and labelled with its value, the points
of the Pareto front (marked in a boolean column of the table, computed by the caller)
ringed and joined. It draws what the table holds and computes nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pygbs.errors import InputError

__all__ = ["plot_tradeoff"]


def plot_tradeoff(
    table: pd.DataFrame,
    *,
    x: str,
    y: str,
    group: str = "model",
    order: str = "debias_lambda",
    pareto: str | None = "pareto",
    x_label: str | None = None,
    y_label: str | None = None,
    y_factor: float = 1.0,
    order_label: str = "λ",
    ax: Any = None,
) -> Figure:
    """Draw ``y`` against ``x``, one curve per ``group``, points in the order of ``order``.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per group and setting.
    x, y : str
        Columns of the axes (e.g. ``'marked_ssi@100km'`` and ``'top1'``).
    group : str, default='model'
        Column naming each curve.
    order : str, default='debias_lambda'
        Column that orders a curve's points; each point is labelled with its value.
    pareto : str or None, default='pareto'
        Boolean column of the points on the Pareto front (ringed and joined by a dashed
        line); None or a missing column draws no front.
    x_label, y_label : str, optional
        Axis labels (default: the column names).
    y_factor : float, default=1.0
        Factor applied to ``y`` (100 draws fractions as percent).
    order_label : str, default='λ'
        Prefix of the point labels.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        When a named column is missing.
    """
    for col in (x, y, group, order):
        if col not in table.columns:
            raise InputError(
                f"trade-off table has no column {col!r}; columns: {', '.join(table.columns)}"
            )
    if ax is None:
        fig = Figure(figsize=(7.0, 4.6), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    xs = table[x].to_numpy(np.float64)
    ys = table[y].to_numpy(np.float64) * float(y_factor)
    for name in dict.fromkeys(table[group].astype(str)):
        rows = np.flatnonzero((table[group].astype(str) == name).to_numpy())
        rows = rows[np.argsort(table[order].to_numpy(np.float64)[rows], kind="stable")]
        ok = rows[np.isfinite(xs[rows]) & np.isfinite(ys[rows])]
        if not len(ok):
            continue
        line = ax.plot(xs[ok], ys[ok], marker="o", ms=4, lw=1.2, label=name, zorder=3)[0]
        for i in ok:
            ax.annotate(
                f"{order_label}={table[order].iloc[i]:g}", (xs[i], ys[i]), fontsize=6,
                xytext=(3, 3), textcoords="offset points", color=line.get_color(),
            )  # fmt: skip
    if pareto is not None and pareto in table.columns:
        front = np.flatnonzero(table[pareto].fillna(False).to_numpy(bool))
        front = front[np.isfinite(xs[front]) & np.isfinite(ys[front])]
        if len(front):
            front = front[np.argsort(xs[front], kind="stable")]
            ax.plot(xs[front], ys[front], ls="--", lw=0.9, color="0.2", zorder=2)
            ax.scatter(
                xs[front], ys[front], s=90, facecolors="none", edgecolors="0.1",
                linewidths=1.1, zorder=4, label="Pareto front",
            )  # fmt: skip
    ax.set_xlabel(x_label or x, fontsize=9)
    ax.set_ylabel(y_label or y, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(color="#e5e5e5")
    ax.set_axisbelow(True)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False, loc="best")
    return fig
