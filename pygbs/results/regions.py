"""The result of :func:`pygbs.regions`: per-region metrics and disparity, and its files.

The vocabulary follows fairlearn's ``MetricFrame`` where it fits: ``by_region`` (fairlearn's
``by_group``), ``overall``, ``difference()``, ``ratio()``, ``group_min()``,
``group_max()``; ``worst()`` names the worst region. Every number has a spatial
block-bootstrap interval in the tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs.errors import InputError
from pygbs.io import store
from pygbs.io.atomic import atomic_path

__all__ = ["REGION_FILES", "RegionResult"]

#: Files of a ``pygbs regions`` output folder.
REGION_FILES = ("regions.csv", "disparity.csv", "robust.csv", "robust.png", "regions.json")


@dataclass(eq=False)
class RegionResult:
    """Per-region performance of one or several models and its disparity across regions.

    Attributes
    ----------
    table : pandas.DataFrame
        ``regions.csv``: one row per model and region (regions with at least one sample,
        ``none`` included): ``model, region, n``, the metric (``accuracy`` for hit
        columns, else ``value``: the mean of the value column as coded), its interval
        ``<metric>_ci_low, <metric>_ci_high``, then ``vs_rest`` (the region's metric
        minus that of all other samples), its interval ``vs_rest_ci_low, vs_rest_ci_high``,
        ``p_vs_rest`` and its Benjamini-Hochberg ``q_vs_rest`` (over the model's eligible
        regions), and ``eligible`` (at least ``min_n`` samples and not ``none``: the
        regions the disparity is taken over).
    disparity : pandas.DataFrame
        ``disparity.csv``: ``model, statistic, value, ci_low, ci_high, p_value, region``.
        Statistics: ``overall`` (all samples), ``gap`` (best minus worst eligible region,
        ``p_value`` against the gap that sampling noise alone gives), ``ratio`` (lowest
        over highest region), ``theil`` (between-region Theil index, sample-weighted),
        ``worst_region`` and ``best_region`` (``region`` names it; ``value`` is its
        metric, ``p_value`` its test against the rest).
    robust : pandas.DataFrame or None
        ``robust.csv`` (with ``robust=True``): ``model, cell_km, rotation, gap``, then
        ``n_regions``, ``null_gap`` (median gap under sampling noise alone) and ``p_gap``.
    info : dict
        The settings and counts (``regions.json``): ``by``, ``metric``,
        ``higher_is_better``, ``value``, ``block_km``, ``n_boot``, ``ci``, ``seed``,
        ``min_n``, ``nearest_km``, per model its ``source``, ``n_none`` and ``n_nearest``.
    """

    table: pd.DataFrame
    disparity: pd.DataFrame
    robust: pd.DataFrame | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def metric(self) -> str:
        """Name of the metric column: ``accuracy`` or ``value``."""
        return str(self.info.get("metric", "accuracy"))

    @property
    def higher_is_better(self) -> bool:
        """True for accuracy-like metrics, False for errors."""
        return bool(self.info.get("higher_is_better", True))

    @property
    def models(self) -> list[str]:
        """Model names in order."""
        return list(dict.fromkeys(self.table["model"]))

    def _eligible(self) -> pd.DataFrame:
        return self.table[self.table["eligible"].astype(bool)]

    @property
    def by_region(self) -> pd.DataFrame:
        """The metric per region (rows) and model (columns), eligible regions only."""
        t = self._eligible().pivot(index="region", columns="model", values=self.metric)
        return t.reindex(columns=self.models)

    def _stat(self, name: str, column: str = "value") -> pd.Series:
        d = self.disparity[self.disparity["statistic"] == name].set_index("model")[column]
        d.name = name
        return d.reindex(self.models)

    @property
    def overall(self) -> pd.Series:
        """The metric over all samples, per model."""
        return self._stat("overall")

    def group_min(self) -> pd.Series:
        """Lowest metric over the eligible regions, per model."""
        return self.by_region.min(axis=0)

    def group_max(self) -> pd.Series:
        """Highest metric over the eligible regions, per model."""
        return self.by_region.max(axis=0)

    def difference(self) -> pd.Series:
        """Gap between the best and the worst eligible region (``group_max - group_min``)."""
        return self._stat("gap")

    def ratio(self) -> pd.Series:
        """``group_min / group_max`` (fairlearn's ratio: 1 means no disparity)."""
        return self._stat("ratio")

    def theil(self) -> pd.Series:
        """Between-region Theil index of the metric (0 means equal regions)."""
        return self._stat("theil")

    def worst(self) -> pd.Series:
        """Name of the worst eligible region per model (lowest accuracy, highest error)."""
        return self._stat("worst_region", "region")

    def robust_summary(self) -> pd.DataFrame | None:
        """Median and spread of the robust gap per model and cell size.

        Returns
        -------
        pandas.DataFrame or None
            ``model, cell_km, rotations, gap_median, gap_q10, gap_q90, null_gap_median,
            share_significant`` (rotations whose gap has ``p_gap < 0.05``); None without
            ``robust``.
        """
        if self.robust is None:
            return None
        rows = []
        for (model, km), g in self.robust.groupby(["model", "cell_km"], sort=False):
            ok = g[g["gap"].notna()]
            q10, q50, q90 = np.quantile(ok["gap"], [0.1, 0.5, 0.9]) if len(ok) else (np.nan,) * 3
            rows.append(
                {
                    "model": model,
                    "cell_km": km,
                    "rotations": len(ok),
                    "gap_median": q50,
                    "gap_q10": q10,
                    "gap_q90": q90,
                    "null_gap_median": ok["null_gap"].median() if len(ok) else np.nan,
                    "share_significant": float((ok["p_gap"] < 0.05).mean()) if len(ok) else np.nan,
                }
            )
        return pd.DataFrame(rows)

    def summary_text(self) -> str:
        """A few lines per model: overall metric, gap with its interval and test, worst region."""
        lines = []
        pct = self.info.get("ci", 0.95) * 100
        for model in self.models:
            d = self.disparity[self.disparity["model"] == model].set_index("statistic")
            ov = d.loc["overall"]
            line = f"{model}: {self.metric} {ov.value:.4g} [{ov.ci_low:.4g}, {ov.ci_high:.4g}]"
            if "gap" in d.index:
                g = d.loc["gap"]
                w = d.loc["worst_region"]
                line += (
                    f"; gap {g.value:.4g} ({pct:g} % interval [{g.ci_low:.4g}, {g.ci_high:.4g}], "
                    f"p = {g.p_value:.3g} against sampling noise); worst region {w.region} "
                    f"({w.value:.4g}, p = {w.p_value:.3g} against the rest)"
                )
            else:
                line += "; fewer than two regions with enough samples: no disparity"
            n_none = self.info.get("models", {}).get(model, {}).get("n_none", 0)
            if n_none:
                line += f"; {n_none} samples in no region"
            lines.append(line)
        rob = self.robust_summary()
        if rob is not None:
            lines.append(
                "robust gap (median over rotations [10 %, 90 %], noise alone, share p < 0.05):"
            )
            for r in rob.itertuples():
                lines.append(
                    f"  {r.model} {r.cell_km:g} km: {r.gap_median:.4g} "
                    f"[{r.gap_q10:.4g}, {r.gap_q90:.4g}], noise {r.null_gap_median:.4g}, "
                    f"{r.share_significant:.0%}"
                )
        return "\n".join(lines) + "\n"

    def write(self, directory: str | Path) -> Path:
        """Write ``regions.csv``, ``disparity.csv``, ``regions.json`` (``robust.csv``, ``.png``).

        Each file is written atomically into ``directory`` (``pygbs regions --out``
        applies the output-directory rules of docs/cli.md).

        Parameters
        ----------
        directory : path-like
            Output folder (created if missing).

        Returns
        -------
        Path
            ``directory``.
        """
        d = Path(directory)
        store.write_csv(d / "regions.csv", self.table)
        store.write_csv(d / "disparity.csv", self.disparity)
        if self.robust is not None:
            store.write_csv(d / "robust.csv", self.robust)
            from pygbs.plot.regions import plot_robust

            with atomic_path(d / "robust.png") as f:
                plot_robust(self).savefig(f, format="png", dpi=110)
        store.write_json(d / "regions.json", self.info)
        return d

    def write_files(self, directory: str | Path) -> None:
        """The same as :meth:`write` (kept for code written against earlier versions)."""
        self.write(directory)

    @classmethod
    def read(cls, directory: str | Path) -> RegionResult:
        """Read a folder written by :meth:`write` (``pygbs regions --out``).

        Parameters
        ----------
        directory : path-like
            The folder.

        Returns
        -------
        RegionResult

        Raises
        ------
        InputError
            When ``regions.csv`` or ``disparity.csv`` is missing.
        """
        d = Path(directory)
        for name in ("regions.csv", "disparity.csv"):
            if not (d / name).is_file():
                raise InputError(f"{d}: no {name} (not a pygbs regions output)")
        table = pd.read_csv(d / "regions.csv", keep_default_na=False, na_values=[""])
        table["region"] = table["region"].astype(str)
        disparity = pd.read_csv(d / "disparity.csv", keep_default_na=False, na_values=[""])
        robust = pd.read_csv(d / "robust.csv") if (d / "robust.csv").is_file() else None
        info = {}
        if (d / "regions.json").is_file():
            info = json.loads((d / "regions.json").read_text())
        return cls(table, disparity, robust, info)
