"""The robust disparity curve: the gap between regions against the cell size."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_robust"]


def plot_robust(result: Any, names: dict[str, str] | None = None) -> Figure:
    """Median gap over rotations against cell size, per model, with the noise alone.

    Parameters
    ----------
    result : RegionResult
        A :func:`pygbs.regions` result computed with ``robust=True``.
    names : dict, optional
        Display name per model.

    Returns
    -------
    matplotlib.figure.Figure
        One line per model (median gap, a band from the 10th to the 90th percentile over
        rotations) and a dashed line of the same colour for the median gap that sampling
        noise alone gives; log cell-size axis.
    """
    from matplotlib import colormaps

    summary = result.robust_summary()
    if summary is None:
        raise ValueError("the result has no robust disparity (regions(..., robust=True))")
    names = names or {}
    models = list(dict.fromkeys(summary["model"]))
    cmap = colormaps["tab10" if len(models) <= 10 else "tab20"]
    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for i, model in enumerate(models):
        s = summary[summary["model"] == model].sort_values("cell_km")
        colour = cmap(i % cmap.N)
        x = s["cell_km"].to_numpy(np.float64)
        ax.plot(x, s["gap_median"], marker="o", color=colour, label=names.get(model, model))
        ax.fill_between(x, s["gap_q10"], s["gap_q90"], color=colour, alpha=0.15, linewidth=0)
        ax.plot(x, s["null_gap_median"], linestyle="--", color=colour, linewidth=0.9)
    ax.set_xscale("log")
    ax.set_xlabel("cell size (km, equal-area HEALPix cells, randomly rotated)")
    ax.set_ylabel(f"gap between regions ({result.metric})")
    ax.set_title("Disparity against cell size (dashed: sampling noise alone)", fontsize=10)
    ax.grid(color="#e5e5e5")
    ax.legend(fontsize=7, frameon=False, ncol=2 if len(models) > 8 else 1)
    return fig
