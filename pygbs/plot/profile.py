"""Draw a geo-bias profile: the headline score against the neighbourhood radius."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from pygbs._names import SCORE_COLUMNS
from pygbs.io.atomic import atomic_path
from pygbs.plot.maps import score_label

__all__ = ["plot_profile", "write_profile_plot"]


#: Profile rows drawn as effect sizes (they do not grow with the neighbourhood's size).
EFFECT_SIZES = ("moran", "spread")
#: Panels of :func:`write_profile_plot`: (kind, title).
PANELS = (
    ("effect", "Effect sizes"),
    ("excess", "Excess over the accuracy-matched null"),
    ("raw", "Scores as published (surprisals, -ln p)"),
)


def _shade_capped(table: Any, ax: Any) -> bool:
    """Shade the radii where most distance-scale neighbourhoods hold ``k_max`` samples."""
    if "share_capped" not in table.columns:
        return False
    capped = table[(table["share_capped"] > 0.5) & ~table["scale"].str.startswith("nn")]
    if capped.empty:
        return False
    lo = float(capped["radius_km"].min())
    hi = float(table["radius_km"].max())
    ax.axvspan(lo, max(hi, lo) * 1.05, color="#bbbbbb", alpha=0.25, lw=0,
               label="k_max reached: samples fixed, disc grows")  # fmt: skip
    return True


def plot_profile(profile: Any, ax: Any, kind: str | None = None) -> Any:
    """Draw a :class:`~pygbs.scale_profile.Profile` on ``ax``.

    One line per score (and per model when the profile holds several), against the
    radius on a log axis, with a band for the block-bootstrap interval. Radii where most
    neighbourhoods of a distance scale already hold ``k_max`` samples are shaded: there
    the samples stop changing while the background disc keeps growing, and surprisals
    rise for geometric reasons (docs/method.md, "Profiles over radius").

    Parameters
    ----------
    profile : Profile
        What :func:`pygbs.profile` returns (or a comparison's profile).
    ax : matplotlib.axes.Axes
        Where to draw.
    kind : {'effect', 'excess', 'raw'}, optional
        Draw only effect sizes (Moran's I, spread of local performance), only the
        excess over the accuracy-matched null, or only the other scores as they are;
        default: every row's mean.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    table = profile.table
    if kind == "effect":
        table = table[table["score"].isin(EFFECT_SIZES)]
    elif kind == "raw":
        table = table[~table["score"].isin(EFFECT_SIZES)]
    elif kind == "excess":
        table = table[table["excess"].notna() & (table["score"] != "unmarked")]
    y_col, lo_col, hi_col = (
        ("excess", "excess_ci_low", "excess_ci_high") if kind == "excess"
        else ("mean", "ci_low", "ci_high")
    )  # fmt: skip
    groups = ["model", "score"] if "model" in table.columns else ["score"]
    scores = list(dict.fromkeys(table["score"]))
    for key, part in table.groupby(groups, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        part = part.sort_values("radius_km")
        x = part["radius_km"].to_numpy(np.float64)
        y = part[y_col].to_numpy(np.float64)
        label = " ".join(str(k) for k in key) if len(scores) > 1 or len(key) > 1 else key[0]
        (line,) = ax.plot(x, y, marker="o", ms=3, lw=1.2, label=label)
        lo, hi = part[lo_col].to_numpy(np.float64), part[hi_col].to_numpy(np.float64)
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.18, lw=0)
    _shade_capped(profile.table, ax)
    if kind == "excess":
        ax.axhline(0.0, color="#555555", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("neighbourhood radius (km, log scale)")
    by_column = dict(SCORE_COLUMNS)
    if kind == "excess":
        ax.set_ylabel("score minus its null mean (score units)")
    elif kind == "effect":
        ax.set_ylabel("Moran's I / SD of local accuracy")
    elif len(scores) == 1:
        ax.set_ylabel(score_label(by_column.get(scores[0], scores[0])))
    else:
        ax.set_ylabel("Geo-Bias Score (mean over centres)")
    ax.grid(color="#e5e5e5", which="both")
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, frameon=False)
    title = dict(PANELS).get(kind or "", "Geo-bias across scales")
    ax.set_title(f"{title} (band: block-bootstrap interval)", fontsize=9)
    return ax


def write_profile_plot(profile: Any, path: str | os.PathLike[str], dpi: int = 130) -> Path:
    """Draw the profile into a PNG file (atomically): one panel per kind of number.

    Effect sizes, excess over the accuracy-matched null and the scores as published are
    drawn on panels of their own (:data:`PANELS`), each with its own axis, where the
    profile holds such rows.
    """
    table = profile.table
    kinds = []
    if table["score"].isin(EFFECT_SIZES).any():
        kinds.append("effect")
    if (
        "excess" in table.columns
        and (table["excess"].notna() & (table["score"] != "unmarked")).any()
    ):
        kinds.append("excess")
    if (~table["score"].isin(EFFECT_SIZES)).any():
        kinds.append("raw")
    fig = Figure(figsize=(6.4, 3.4 * max(len(kinds), 1)), layout="constrained")
    axes = fig.subplots(max(len(kinds), 1), 1, squeeze=False)[:, 0]
    for ax, kind in zip(axes, kinds or [None], strict=True):
        plot_profile(profile, ax, kind)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)
