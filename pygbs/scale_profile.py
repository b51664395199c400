"""Geo-bias across scales: the headline score with its interval at many radii.

One Geo-Bias Score at 100 km says little about *where* on the scale axis a model's errors
cluster. A profile scores the same centres at a range of scales (one neighbour search at
the largest scale serves all of them, see :class:`pygbs.geo.neighbours.NeighbourSearch`) and
tabulates the headline mean with its block-bootstrap interval per scale
(docs/method.md, "Geo-bias across scales").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs.api import score
from pygbs.cancel import Cancel, honours_cancel
from pygbs.errors import InputError
from pygbs.io import store
from pygbs.plot.profile import write_profile_plot
from pygbs.results.result import SCORE_COLUMNS, GeoBiasResult

__all__ = [
    "PROFILE_COLUMNS",
    "Profile",
    "combine_profiles",
    "profile",
    "profile_table",
    "scale_range",
]

#: Columns of ``profile.csv`` (``model`` comes first in a comparison's profile).
PROFILE_COLUMNS = [
    "scale",
    "radius_km",
    "score",
    "mean",
    "ci_low",
    "ci_high",
    "n_scored",
    "median_neighbours",
    "null_mean",
    "excess",
    "excess_ci_low",
    "excess_ci_high",
    "share_capped",
]

#: A radius in km as :func:`pygbs.parse_scale` reads it (``100``, ``2.5``, ``1e3``).
_NUMBER = r"((?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)"
_RANGE = re.compile(rf"^\s*{_NUMBER}\s*km\s*:\s*{_NUMBER}\s*km\s*:\s*(\d+)\s*$", re.I)


def scale_range(spec: str) -> list[str]:
    """Distance scales spaced evenly on a log axis: ``"10km:2000km:12"``.

    Parameters
    ----------
    spec : str
        ``"<from>km:<to>km:<n>"`` with ``0 < from < to`` and ``n >= 2``.

    Returns
    -------
    list of str
        ``n`` scale names from ``from`` to ``to`` (radii to 3 significant digits).

    Examples
    --------
    >>> scale_range("10km:1000km:3")
    ['10km', '100km', '1000km']
    """
    m = _RANGE.match(str(spec))
    if not m:
        raise InputError(
            f"scale range {spec!r}: expected '<from>km:<to>km:<n>', e.g. 10km:2000km:12"
        )
    lo, hi, n = float(m.group(1)), float(m.group(2)), int(m.group(3))
    if not (0 < lo < hi < np.inf) or n < 2:
        raise InputError(f"scale range {spec!r}: need 0 < from < to and at least 2 scales")
    radii = np.geomspace(lo, hi, n)
    names = [f"{float(f'{r:.3g}'):g}km" for r in radii]
    if len(set(names)) != len(names):
        raise InputError(f"scale range {spec!r}: radii too close to name apart; use fewer scales")
    return names


def profile_table(result: GeoBiasResult) -> pd.DataFrame:
    """The profile of a scored result: one row per score and scale, by radius.

    Parameters
    ----------
    result : GeoBiasResult
        A result scored at several scales.

    Returns
    -------
    DataFrame
        :data:`PROFILE_COLUMNS`. ``radius_km`` is the scale's radius (for ``nn`` scales
        the median neighbourhood radius); ``median_neighbours`` the median neighbourhood
        size over centres.
    """
    by_column = {col: name for name, col in SCORE_COLUMNS.items()}
    centres = result.centres
    k_max = result.parameters.get("k_max")
    rows = []
    for (col, scale), agg in result.aggregate_records().items():
        at = centres[centres["scale"] == scale]
        capped = 0.0
        if k_max is not None and not scale.startswith("nn") and len(at):
            capped = float((at["n_neighbours"] >= k_max).mean())
        rows.append(
            {
                "scale": scale,
                "radius_km": float(at["radius_km"].median()) if len(at) else math.nan,
                "score": by_column.get(col, col),
                "mean": agg.get("mean"),
                "ci_low": agg.get("ci_low"),
                "ci_high": agg.get("ci_high"),
                "n_scored": agg.get("n_scored"),
                "median_neighbours": float(at["n_neighbours"].median()) if len(at) else 0,
                "null_mean": agg.get("null_mean"),
                "excess": agg.get("excess"),
                "excess_ci_low": agg.get("excess_ci_low"),
                "excess_ci_high": agg.get("excess_ci_high"),
                "share_capped": capped,
            }
        )
    table = pd.DataFrame(rows, columns=PROFILE_COLUMNS)
    floats = ["mean", "ci_low", "ci_high", "null_mean", "excess", "excess_ci_low",
              "excess_ci_high", "share_capped"]  # fmt: skip
    table = table.astype(dict.fromkeys(floats, float))
    return table.sort_values(["score", "radius_km"], kind="stable").reset_index(drop=True)


@dataclass(eq=False)
class Profile:
    """Headline scores of one model (or several) across scales.

    Attributes
    ----------
    table : pandas.DataFrame
        :data:`PROFILE_COLUMNS`, with a leading ``model`` column when several models.
    results : dict of str to GeoBiasResult
        The full result of each model.
    """

    table: pd.DataFrame
    results: dict[str, GeoBiasResult]

    def write(self, directory: str | Path) -> Path:
        """Write ``profile.csv``, ``profile.png`` and the results into ``directory``.

        Each model's ``summary.json`` and ``centres.csv`` go to the directory itself for
        one model, or to one folder per model for several. Each file is written
        atomically (``pygbs profile --out`` applies the output-directory rules of
        docs/cli.md).

        Returns
        -------
        Path
            ``directory``.
        """
        d = Path(directory)
        self.write_table(d)
        if len(self.results) == 1:
            next(iter(self.results.values())).write(d)
        else:
            for name, res in self.results.items():
                res.write(d / name)
        return d

    def write_files(self, directory: str | Path) -> None:
        """The same as :meth:`write` (kept for code written against earlier versions)."""
        self.write(directory)

    def write_table(self, directory: str | Path) -> None:
        """Write ``profile.csv`` and its plot ``profile.png`` into ``directory``."""
        d = Path(directory)
        store.write_csv(d / "profile.csv", self.table)
        write_profile_plot(self, d / "profile.png")


@honours_cancel
def profile(
    predictions: Any,
    *,
    scales: Sequence[str],
    scores: Sequence[str] = ("marked",),
    cancel: Cancel | None = None,
    **score_kwargs: Any,
) -> Profile:
    """Score one model's predictions at many scales and tabulate the profile.

    Parameters
    ----------
    predictions : Predictions, path or DataFrame
        What :func:`pygbs.score` takes.
    scales : sequence of str
        At least two scales, e.g. ``scale_range("10km:2000km:12")``.
    scores : sequence of str, default=('marked',)
        Scores to profile.
    cancel : callable, optional
        Called between batches of work; once it returns True the run stops and raises
        :class:`~pygbs.errors.Interrupted` (see :mod:`pygbs.cancel`).
    **score_kwargs
        Passed to :func:`pygbs.score`.

    Returns
    -------
    Profile
        Its table equals the aggregates :func:`pygbs.score` gives at each scale.
    """
    if len(scales) < 2:
        raise InputError("a profile needs at least two scales (e.g. --scales 10km:2000km:12)")
    res = score(predictions, scales=list(scales), scores=list(scores), **score_kwargs)
    name = str(res.input.model)
    return Profile(profile_table(res), {name: res})


def combine_profiles(results: Mapping[str, GeoBiasResult]) -> Profile:
    """One profile of several models' results (a ``model`` column leads the table)."""
    tables = [profile_table(r).assign(model=name) for name, r in results.items()]
    table = pd.concat(tables, ignore_index=True)
    return Profile(table[["model", *PROFILE_COLUMNS]], dict(results))
