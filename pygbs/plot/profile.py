"""Draw a geo-bias profile: the headline score against the neighbourhood radius."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from pygbs.outputs import atomic_path
from pygbs.plot.maps import score_label
from pygbs.result import SCORE_COLUMNS

__all__ = ["plot_profile", "write_profile_plot"]


def plot_profile(profile: Any, ax: Any) -> Any:
    """Draw a :class:`~pygbs.scale_profile.Profile` on ``ax``.

    One line per score (and per model when the profile holds several), the headline mean
    against the radius on a log axis, with a band for the block-bootstrap interval.

    Parameters
    ----------
    profile : Profile
        What :func:`pygbs.profile` returns (or a comparison's profile).
    ax : matplotlib.axes.Axes
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    table = profile.table
    groups = ["model", "score"] if "model" in table.columns else ["score"]
    scores = list(dict.fromkeys(table["score"]))
    for key, part in table.groupby(groups, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        part = part.sort_values("radius_km")
        x = part["radius_km"].to_numpy(np.float64)
        y = part["mean"].to_numpy(np.float64)
        label = " ".join(str(k) for k in key) if len(scores) > 1 or len(key) > 1 else key[0]
        (line,) = ax.plot(x, y, marker="o", ms=3, lw=1.2, label=label)
        lo, hi = part["ci_low"].to_numpy(np.float64), part["ci_high"].to_numpy(np.float64)
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.18, lw=0)
    ax.set_xscale("log")
    ax.set_xlabel("neighbourhood radius (km, log scale)")
    by_column = dict(SCORE_COLUMNS)
    if len(scores) == 1:
        ax.set_ylabel(score_label(by_column.get(scores[0], scores[0])))
    else:
        ax.set_ylabel("Geo-Bias Score (mean over centres)")
    ax.grid(color="#e5e5e5", which="both")
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title("Geo-bias across scales (band: block-bootstrap interval)", fontsize=9)
    return ax


def write_profile_plot(profile: Any, path: str | os.PathLike[str], dpi: int = 130) -> Path:
    """Draw :func:`plot_profile` into a PNG file (atomically)."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    plot_profile(profile, fig.add_subplot())
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)
