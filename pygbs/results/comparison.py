"""Several models' results: :class:`Comparison` (one dataset) and :class:`GroupedComparison`.

A comparison's scores are held in long form, one row per ``model, score, scale,
statistic, value`` (:attr:`Comparison.scores`); :meth:`Comparison.wide` gives the
published layout of ``compare.csv``, one row per model and one column per score, scale
and statistic (``marked_ssi@100km_ci_low``). :func:`wide_column` is the one place that
names such a column and :func:`long_from_wide` the one place that reads the names back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs.errors import InputError
from pygbs.io import store
from pygbs.io.store import folder_names, markdown_table
from pygbs.results.result import GeoBiasResult
from pygbs.tables import (
    LONG_COLUMNS,
    WIDE_FIELDS,
    wide_column,
    wide_columns,
    wide_suffix,
)

__all__ = [
    "LONG_COLUMNS",
    "TRACKS_ACCURACY",
    "WIDE_FIELDS",
    "Comparison",
    "GroupedComparison",
    "is_compare_output",
    "long_from_wide",
    "read_comparison",
    "scores_long",
    "wide_column",
    "wide_columns",
    "wide_suffix",
]

#: |Spearman rho| between accuracy and a score above which the score is flagged as
#: tracking accuracy across the compared models
TRACKS_ACCURACY = 0.8


def long_from_wide(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a wide comparison table (``compare.csv``) into its model and score tables.

    Parameters
    ----------
    table : DataFrame
        ``model``, the model-level columns (``accuracy``, ``n``, ...) and
        ``<score>@<scale><suffix>`` columns.

    Returns
    -------
    models : DataFrame
        ``model`` and the model-level columns.
    scores : DataFrame
        :data:`LONG_COLUMNS`, one row per model and score column, in the table's order.
    """
    packed = wide_columns(table)
    names = {c for c, *_ in packed}
    models = table[[c for c in table.columns if c not in names]].reset_index(drop=True)
    rows = []
    for i, model in enumerate(table["model"]):
        for c, score, scale, stat in packed:
            rows.append((model, score, scale, stat, table[c].iloc[i]))
    return models, _long_frame(rows)


def _long_frame(rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    out = pd.DataFrame(list(rows), columns=list(LONG_COLUMNS))
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(np.float64)
    return out


def scores_long(results: Mapping[str, GeoBiasResult]) -> pd.DataFrame:
    """The headline numbers of several results in long form.

    Parameters
    ----------
    results : mapping of str to GeoBiasResult
        By model name.

    Returns
    -------
    DataFrame
        :data:`LONG_COLUMNS`: per model, the statistics of :data:`WIDE_FIELDS` that each
        aggregate holds (missing values NaN), in the order of the published layout.
    """
    rows = []
    for model, res in results.items():
        records = res.aggregate_records()
        for name, _ in WIDE_FIELDS:
            for (col, scale), agg in records.items():
                if name in agg:
                    v = agg[name]
                    rows.append((model, col, scale, name, np.nan if v is None else v))
    return _long_frame(rows)


def _keys(scores: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Distinct ``(score, scale, statistic)`` in order of first appearance."""
    cols = scores[["score", "scale", "statistic"]].itertuples(index=False, name=None)
    return list(dict.fromkeys(cols))


def _interval_names(statistic: str) -> tuple[str, str]:
    """The statistics holding the interval of ``statistic``."""
    base = "" if statistic == "mean" else f"{statistic}_"
    return f"{base}ci_low", f"{base}ci_high"


def _cell(v: Any) -> str:
    return store.markdown_cell(v)


@dataclass(eq=False)
class Comparison:
    """Geo-bias of several models' predictions on the same locations.

    Attributes
    ----------
    models : pandas.DataFrame
        One row per model: ``model``, ``accuracy`` (mean of the value column; ``r2`` and
        ``mae`` for regression files), ``n``.
    scores : pandas.DataFrame
        The headline numbers in long form: ``model``, ``score`` (the score column, e.g.
        ``marked_ssi``), ``scale``, ``statistic`` (``mean``, ``ci_low``, ``ci_high``,
        ``null_mean``, ``excess``, ``excess_ci_low``, ``excess_ci_high``, ``p_excess``)
        and ``value``.
    results : dict of str to GeoBiasResult
        The full result of each model.
    skipped : dict of str to str
        Sources left out (``skip_empty`` / ``skip_unlocated``) and why.
    info : dict
        The locations rule, the coordinate source, and per model its source file and where
        its coordinates came from (written as ``compare.json``).
    pairs : pandas.DataFrame, optional
        Paired differences between models (see :func:`pygbs.comparing.paired_differences`);
        None when the models were scored on their own locations.
    accuracy_correlation : pandas.DataFrame, optional
        Rank correlation between accuracy and each score across the models (see
        :func:`pygbs.comparing.accuracy_correlation`).
    baseline : str, optional
        The model the others were tested against.
    profile : pygbs.scale_profile.Profile, optional
        The models' scores across scales, written as ``profile.csv`` and ``profile.png``.
    """

    models: pd.DataFrame
    scores: pd.DataFrame
    results: dict[str, GeoBiasResult] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    pairs: pd.DataFrame | None = None
    accuracy_correlation: pd.DataFrame | None = None
    baseline: str | None = None
    profile: Any = None

    @classmethod
    def from_wide(cls, table: pd.DataFrame, **kwargs: Any) -> Comparison:
        """Build from a wide table in the published layout (see :func:`long_from_wide`)."""
        models, scores = long_from_wide(table)
        return cls(models, scores, **kwargs)

    def wide(self) -> pd.DataFrame:
        """The published layout of ``compare.csv``: one row per model.

        ``model``, ``accuracy`` (or ``r2`` and ``mae``), ``n``, then one
        ``<score_column>@<scale>`` column per score and scale holding the headline mean
        (e.g. ``marked_ssi@100km``), then ``..._ci_low`` and ``..._ci_high``, its
        block-bootstrap interval, then the accuracy-matched null's ``..._null``,
        ``..._excess``, ``..._excess_ci_low``, ``..._excess_ci_high`` and
        ``..._p_excess`` where computed (see :func:`wide_column`).
        """
        by_model: dict[Any, list[tuple[str, float]]] = {}
        for m, score, scale, stat, v in self.scores.itertuples(index=False, name=None):
            by_model.setdefault(m, []).append((wide_column(score, scale, stat), v))
        rows = []
        for rec in self.models.to_dict("records"):
            row = dict(rec)
            row.update(by_model.get(rec["model"], []))
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def table(self) -> pd.DataFrame:
        """The wide table (:meth:`wide`), as written to ``compare.csv``."""
        return self.wide()

    def values(self) -> dict[tuple[Any, str, str, str], float]:
        """``{(model, score, scale, statistic): value}`` of :attr:`scores`."""
        return {
            (m, s, c, st): v for m, s, c, st, v in self.scores.itertuples(index=False, name=None)
        }

    def headline_table(self) -> pd.DataFrame:
        """The numbers to read first: each model's excess over its accuracy-matched null.

        One row per model: ``model``, ``accuracy``, then per scale the excess spread of
        local accuracy and the excess of every other score that has one, each as a text
        cell ``x [lo, hi]`` (docs/method.md, "Beyond accuracy"). Empty when the models
        were scored without the null.
        """
        keys = [
            (score, scale)
            for score, scale, stat in _keys(self.scores)
            if stat == "excess" and score != "unmarked_ssi"
        ]
        keys.sort(key=lambda k: (k[0] != "spread", f"{k[1]}_excess"))
        if not keys:
            return pd.DataFrame()
        metrics = [c for c in ("accuracy", "r2", "mae") if c in self.models.columns]
        out = self.models[["model", *metrics]].copy()
        values = self.values()
        for score, scale in keys:
            cells = []
            for m in self.models["model"]:
                text = _cell(values.get((m, score, scale, "excess"), np.nan))
                lo = values.get((m, score, scale, "excess_ci_low"))
                hi = values.get((m, score, scale, "excess_ci_high"))
                if lo is not None and hi is not None and not math.isnan(lo):
                    text += f" [{_cell(lo)}, {_cell(hi)}]"
                cells.append(text)
            out[f"{score} excess @{scale}"] = cells
        return out

    def to_markdown(self) -> str:
        """The headline table, the full table, then the paired tests and correlations.

        Numbers are shown to 4 significant digits.
        """
        text = ""
        head = self.headline_table()
        if len(head):
            text += (
                markdown_table(head) + "\nExcess over the accuracy-matched null, with its "
                "95 % interval: what remains of each score once the model's own accuracy "
                "is accounted for (the model's outcomes permuted among its samples). "
                "`spread`: by how much local accuracy varies between places beyond "
                "sampling noise (accuracy units); see the method page of the documentation, "
                '"Beyond accuracy".'
                "\n\n## All scores\n\n"
            )
        text += markdown_table(self.table)
        if self.pairs is not None and len(self.pairs):
            text += (
                "\n## Paired differences\n\n"
                "`diff` is the mean over centres scored for both models of model_a minus "
                "model_b, with a spatial block-bootstrap interval and p-value: an interval "
                "that excludes 0 means the models differ beyond what the choice of "
                "locations explains (see The method in the documentation).\n\n"
                + markdown_table(self.pairs)
            )
        if self.accuracy_correlation is not None and len(self.accuracy_correlation):
            text += (
                "\n## Does the score track accuracy?\n\n"
                "Spearman rank correlation between accuracy and each score across the "
                f"models; `tracks_accuracy` marks |rho| >= {TRACKS_ACCURACY}: such a score "
                "ranks the models as accuracy does and adds little beyond it.\n\n"
                + markdown_table(self.accuracy_correlation)
            )
        return text

    def write(self, directory: str | Path) -> Path:
        """Write the tables, ``compare.json`` and one ``<model>/`` folder per model.

        The tables are ``compare.csv`` (:meth:`wide`), ``compare.md``, ``pairs.csv`` (and
        ``profile.csv`` with ``profile.png`` when a profile was asked for). A model's
        folder is its name with characters unsafe in a folder name (``/``, ``:``, ...)
        replaced by ``_`` (``compare.json`` maps names to folders). Each file is written
        atomically (``pygbs compare --out`` applies the output-directory rules of
        docs/cli.md).

        Returns
        -------
        Path
            ``directory``.
        """
        d = Path(directory)
        store.write_csv(d / "compare.csv", self.wide())
        if self.pairs is not None:
            store.write_csv(d / "pairs.csv", self.pairs)
        store.write_text_atomic(d / "compare.md", self.to_markdown())
        if self.profile is not None:
            self.profile.write_table(d)
        folders = folder_names(list(self.results))
        info = {**self.info, "baseline": self.baseline, "folders": folders}
        store.write_json(d / "compare.json", info)
        for name, res in self.results.items():
            res.write(d / folders[name])
        return d

    def write_files(self, directory: str | Path) -> None:
        """The same as :meth:`write` (kept for code written against earlier versions)."""
        self.write(directory)

    @classmethod
    def read(cls, directory: str | Path) -> Comparison:
        """Read a folder written by :meth:`write` (see :func:`read_comparison`)."""
        return read_comparison(directory)


def is_compare_output(path: str | Path) -> bool:
    """True for a folder holding ``compare.csv`` (a ``pygbs compare`` output)."""
    p = Path(path)
    return p.is_dir() and (p / "compare.csv").is_file()


def read_comparison(directory: str | Path) -> Comparison:
    """Read a ``pygbs compare --out DIR`` folder without scoring anything again.

    Parameters
    ----------
    directory : path-like
        The folder: ``compare.csv``, ``compare.json``, ``pairs.csv`` (optional) and one
        folder per model with ``summary.json`` and ``centres.csv``.

    Returns
    -------
    Comparison
        ``models``, ``scores``, ``pairs``, ``info``, ``baseline`` and ``results`` as written.

    Raises
    ------
    InputError
        When a file is missing or unreadable, naming it.
    """
    d = Path(directory)
    if not is_compare_output(d):
        raise InputError(f"{d}: not a pygbs compare output (no compare.csv)")
    table = store.read_csv(d / "compare.csv")
    if "model" not in table.columns:
        raise InputError(f"{d / 'compare.csv'}: no 'model' column")
    table["model"] = table["model"].astype(str)
    info: dict = {}
    if (d / "compare.json").is_file():
        info = store.read_json(d / "compare.json")
    models = table["model"].tolist()
    folders = info.get("folders") or folder_names(models)
    results = {}
    for m in models:
        folder = d / str(folders.get(m, m))
        if not folder.is_dir():
            raise InputError(f"{d}: no folder for model {m!r} ({folder.name}/)")
        results[m] = GeoBiasResult.read(folder)
    pairs = store.read_csv(d / "pairs.csv") if (d / "pairs.csv").is_file() else None
    baseline = info.get("baseline")
    info = {k: v for k, v in info.items() if k not in ("baseline", "folders")}
    return Comparison.from_wide(table, results=results, info=info, pairs=pairs, baseline=baseline)


@dataclass(eq=False)
class GroupedComparison:
    """One :class:`Comparison` per dataset and combined tables (``--group-by dataset``).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model (``no_prior`` first, then in order of first appearance) and a
        column group per dataset: ``<dataset>/accuracy`` (or ``<dataset>/r2`` and
        ``<dataset>/mae`` for regression files), ``<dataset>/n`` and
        ``<dataset>/<score_column>@<scale>`` (NaN where a dataset lacks the model).
    comparisons : dict of str to Comparison
        Each dataset's comparison, by dataset label.
    info : dict
        Per dataset label: ``dataset``, ``split``, ``files`` (model -> file) and the
        comparison's own ``info``.
    decisions : dict
        What was decided from the files (written as ``summary.json``): per dataset the
        locations rule, the value coded, the coordinate reference, the files skipped and
        whether paired tests were made (see :mod:`pygbs.by_dataset`).
    """

    table: pd.DataFrame
    comparisons: dict[str, Comparison]
    info: dict[str, Any] = field(default_factory=dict)
    decisions: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def combine(
        cls,
        comparisons: dict[str, Comparison],
        info: dict[str, Any] | None = None,
        *,
        decisions: dict[str, Any] | None = None,
    ) -> GroupedComparison:
        """Build the combined table from per-dataset comparisons.

        Parameters
        ----------
        comparisons : dict of str to Comparison
            By dataset label, in column-group order.
        info : dict, optional
            Per dataset label, what to record besides each comparison's ``info``.
        decisions : dict, optional
            What was decided from the files (:attr:`decisions`).

        Returns
        -------
        GroupedComparison
        """
        models: list[str] = []
        for cmp in comparisons.values():
            models.extend(m for m in cmp.table["model"] if m not in models)
        if "no_prior" in models:
            models.remove("no_prior")
            models.insert(0, "no_prior")
        table = pd.DataFrame({"model": models})
        for label, cmp in comparisons.items():
            part = cmp.table.set_index("model")
            part.columns = [f"{label}/{c}" for c in part.columns]
            table = table.join(part, on="model")
        full = {
            label: {**(info or {}).get(label, {}), **cmp.info} for label, cmp in comparisons.items()
        }
        return cls(table.reset_index(drop=True), dict(comparisons), full, dict(decisions or {}))

    def long_table(self) -> pd.DataFrame:
        """Every dataset, model, score and scale in one long table.

        Built from each result's summary aggregates, whatever fields they hold: columns
        ``dataset``, ``model``, ``score`` (the score column, e.g. ``marked_ssi``),
        ``scale``, ``value`` (the headline mean), ``ci_low``, ``ci_high``, then every other
        number an aggregate holds (``n_scored``, ``n_skipped``, ...; fields that only some
        aggregates hold are empty elsewhere).

        Returns
        -------
        pandas.DataFrame
        """
        rows: list[dict[str, Any]] = []
        for label, cmp in self.comparisons.items():
            for model, res in cmp.results.items():
                for (col, scale), agg in res.aggregate_records().items():
                    row: dict[str, Any] = {
                        "dataset": label,
                        "model": model,
                        "score": col,
                        "scale": scale,
                        "value": agg.get("mean"),
                        "ci_low": agg.get("ci_low"),
                        "ci_high": agg.get("ci_high"),
                    }
                    for key, v in agg.items():
                        if key in row or key == "mean":
                            continue
                        if v is None or isinstance(v, bool | int | float | np.number | str):
                            row[key] = v
                    rows.append(row)
        base = ["dataset", "model", "score", "scale", "value", "ci_low", "ci_high"]
        table = pd.DataFrame(rows)
        return table if len(table) else pd.DataFrame(columns=base)

    def pairs(self) -> pd.DataFrame | None:
        """The paired tests of every dataset compared on shared locations (``dataset`` first)."""
        parts = [
            cmp.pairs.assign(dataset=label)
            for label, cmp in self.comparisons.items()
            if cmp.pairs is not None
        ]
        if not parts:
            return None
        table = pd.concat(parts, ignore_index=True)
        return table[["dataset", *[c for c in table.columns if c != "dataset"]]]

    def compact_table(self) -> pd.DataFrame:
        """One row per model; per dataset its metric and each score as ``x [lo, hi]``."""
        models = list(self.table["model"])
        out = pd.DataFrame({"model": models})
        for label, cmp in self.comparisons.items():
            t = cmp.models.set_index("model")
            for metric in ("accuracy", "r2"):
                if metric in t.columns:
                    out[f"{label} {metric}"] = [
                        _short(t.loc[m, metric]) if m in t.index else "–" for m in models
                    ]
            values = cmp.values()
            for score, scale, stat in _keys(cmp.scores):
                if stat.endswith("ci_low") or stat.endswith("ci_high"):
                    continue
                lo, hi = _interval_names(stat)
                cells = []
                for m in models:
                    if m not in t.index:
                        cells.append("–")
                        continue
                    get = values.get
                    cells.append(
                        _interval(
                            get((m, score, scale, stat), np.nan),
                            get((m, score, scale, lo)),
                            get((m, score, scale, hi)),
                        )
                    )
                out[f"{label} {wide_column(score, scale, stat)}"] = cells
        return out

    def to_markdown(self) -> str:
        """The compact table (``x [lo, hi]`` cells), the decisions and the paired tests."""
        text = markdown_table(self.compact_table())
        notes = []
        for label, d in (self.decisions.get("datasets") or {}).items():
            for key in ("locations_reason", "value_reason"):
                if d.get(key):
                    notes.append(f"- {label}: {d[key]}")
            for reason in (d.get("skipped") or {}).values():
                notes.append(f"- {label}: skipped {reason}")
        for reason in (self.decisions.get("skipped_files") or {}).values():
            notes.append(f"- skipped {reason}")
        if notes:
            text += "\n## Decisions\n\n" + "\n".join(notes) + "\n"
        pairs = self.pairs()
        if pairs is not None and len(pairs):
            text += (
                "\n## Paired differences\n\n"
                "Each model minus the baseline on the same centres, with a spatial "
                "block-bootstrap interval (datasets compared on shared locations).\n\n"
                + markdown_table(pairs)
            )
        return text

    def write(self, directory: str | Path) -> Path:
        """Write the combined files and one folder per dataset into ``directory``.

        ``compare.csv`` (wide), ``compare_long.csv`` (:meth:`long_table`), ``compare.md``
        (:meth:`to_markdown`), ``pairs.csv`` (:meth:`pairs`, when any dataset has paired
        tests), ``summary.json`` (:attr:`decisions`), ``compare.json`` (:attr:`info`) and
        each dataset's :meth:`Comparison.write` output in its folder. Each file is written
        atomically (``pygbs compare --out`` applies the output-directory rules of
        docs/cli.md).
        """
        d = Path(directory)
        folders = folder_names(list(self.comparisons))
        store.write_csv(d / "compare.csv", self.table)
        store.write_csv(d / "compare_long.csv", self.long_table())
        pairs = self.pairs()
        if pairs is not None:
            store.write_csv(d / "pairs.csv", pairs)
        store.write_text_atomic(d / "compare.md", self.to_markdown())
        store.write_json(d / "compare.json", {"datasets": self.info, "folders": folders})
        store.write_json(d / "summary.json", {**self.decisions, "folders": folders})
        for label, cmp in self.comparisons.items():
            cmp.write(d / folders[label])
        return d

    def write_files(self, directory: str | Path) -> None:
        """The same as :meth:`write` (kept for code written against earlier versions)."""
        self.write(directory)


def _short(v: Any) -> str:
    if v is None or (isinstance(v, float | np.floating) and not np.isfinite(v)):
        return "–"
    return f"{float(v):.3g}"


def _interval(v: Any, lo: Any, hi: Any) -> str:
    """``x [lo, hi]`` to 3 significant digits (``x`` alone without an interval)."""
    x = _short(v)
    if x == "–":
        return x
    a, b = _short(lo), _short(hi)
    return x if "–" in (a, b) else f"{x} [{a}, {b}]"
