"""One model's result: :class:`GeoBiasResult`, its :class:`InputInfo` and :class:`Aggregate` rows.

A result is typed: the per-centre table, the parameters as :func:`pygbs.score` recorded
them, what was read (:class:`InputInfo`) and the dataset-level aggregates as a table
indexed by ``(score, scale)``. ``summary`` is a read-only view in the layout of
``summary.json``, built from these parts; files are written and read by
:mod:`pygbs.io.store`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs._names import SCORE_COLUMNS
from pygbs.errors import InputError
from pygbs.inference.aggregate import aggregate
from pygbs.inference.fdr import fdr_q_values
from pygbs.io import store
from pygbs.io.store import CENTRES_FORMATS, PARQUET_ROW_GROUP, jsonable
from pygbs.predictions import Predictions
from pygbs.regression import METRIC_COLUMNS

__all__ = [
    "CENTRES_FORMATS",
    "PARQUET_ROW_GROUP",
    "SCORE_COLUMNS",
    "Aggregate",
    "GeoBiasResult",
    "InputInfo",
    "aggregate",
    "aggregates_frame",
    "fdr_q_values",
    "jsonable",
]

#: Index levels of :attr:`GeoBiasResult.aggregates`.
AGGREGATE_INDEX = ("score", "scale")


@dataclass(frozen=True)
class Aggregate:
    """The dataset-level numbers of one score at one scale (docs/method.md, D6).

    One row of :attr:`GeoBiasResult.aggregates` (``summary["aggregates"][column][scale]``
    on disk); ``None`` there is NaN here.

    Attributes
    ----------
    score : str
        The score's column (``"marked_ssi"``).
    scale : str
        The scale (``"100km"``).
    mean : float
        The headline Geo-Bias Score: the mean over scored centres.
    ci_low, ci_high : float
        Its spatial block-bootstrap interval.
    block_km : float
        Side of the bootstrap's equal-area blocks.
    n_blocks : int or None
        Blocks holding scored centres.
    weighted_mean, median : float
        Size-weighted mean and median over scored centres.
    share_significant, share_significant_fdr : float
        Share of centres with p (or Benjamini-Hochberg q) below alpha; NaN without
        p-values.
    n_scored, n_skipped : int
        Centres scored and not scored.
    counts : dict of str to int
        Why centres were skipped (``n_skipped_min_points``, ...) and ``n_constant``.
    null_mean, null_sd, excess, excess_ci_low, excess_ci_high, p_excess : float
        The accuracy-matched null (docs/method.md, D7): the
        score's mean over null draws and their spread, the excess of the observed score
        over it with its interval, and its p-value; NaN without a null.
    null_draws : int or None
        Draws of the null (None without one).
    """

    score: str
    scale: str
    mean: float
    ci_low: float
    ci_high: float
    block_km: float
    n_blocks: int | None
    weighted_mean: float
    median: float
    share_significant: float
    share_significant_fdr: float
    n_scored: int
    n_skipped: int
    counts: dict[str, int] = field(default_factory=dict)
    null_mean: float = math.nan
    null_sd: float = math.nan
    excess: float = math.nan
    excess_ci_low: float = math.nan
    excess_ci_high: float = math.nan
    p_excess: float = math.nan
    null_draws: int | None = None

    @classmethod
    def from_dict(cls, score: str, scale: str, agg: dict[str, Any]) -> Aggregate:
        """Build from one entry of ``summary["aggregates"]``."""

        def num(key: str) -> float:
            v = agg.get(key)
            return math.nan if v is None else float(v)

        known = {
            "mean", "ci_low", "ci_high", "block_km", "n_blocks", "weighted_mean", "median",
            "share_significant", "share_significant_fdr", "n_scored", "n_skipped",
            "null_mean", "null_sd", "excess", "excess_ci_low", "excess_ci_high", "p_excess",
            "null_draws",
        }  # fmt: skip
        return cls(
            score=score,
            scale=scale,
            mean=num("mean"),
            ci_low=num("ci_low"),
            ci_high=num("ci_high"),
            block_km=num("block_km"),
            n_blocks=agg.get("n_blocks"),
            weighted_mean=num("weighted_mean"),
            median=num("median"),
            share_significant=num("share_significant"),
            share_significant_fdr=num("share_significant_fdr"),
            n_scored=int(agg.get("n_scored", 0)),
            n_skipped=int(agg.get("n_skipped", 0)),
            counts={k: int(v) for k, v in agg.items() if k not in known and v is not None},
            null_mean=num("null_mean"),
            null_sd=num("null_sd"),
            excess=num("excess"),
            excess_ci_low=num("excess_ci_low"),
            excess_ci_high=num("excess_ci_high"),
            p_excess=num("p_excess"),
            null_draws=agg.get("null_draws"),
        )


@dataclass(frozen=True)
class InputInfo:
    """What a result was computed from (``summary["input"]``).

    Attributes
    ----------
    source : str or None
        The prediction file (or ``<DataFrame>``).
    model : str or None
        The model's name.
    value_name : str or None
        The performance column.
    n_rows, n_missing_coords, n_valid : int or None
        Rows read, rows without coordinates, rows scored.
    coords_source : str or None
        Where the coordinates came from (``file`` or the ``coords_from`` file).
    coords_check : Any
        The check of coordinates taken from another file, if any.
    n_duplicate_locations : int or None
        Rows whose exact location already occurred.
    metrics : mapping of str to float
        The model-level metric: ``accuracy``, or ``r2`` and ``mae``.
    coding : mapping
        How performance values were coded (see :class:`pygbs.coding.Coding`).
    relative_error_check : Any
        The relative-error guard's findings, if any.
    repeated_locations : mapping or None
        Counts of repeated locations and whether they were collapsed.
    extra : mapping
        Keys of summaries written by other pygbs versions, kept as read.
    """

    source: str | None = None
    model: str | None = None
    value_name: str | None = None
    n_rows: int | None = None
    n_missing_coords: int | None = None
    n_valid: int | None = None
    coords_source: str | None = None
    coords_check: Any = None
    n_duplicate_locations: int | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    coding: Mapping[str, Any] = field(default_factory=dict)
    relative_error_check: Any = None
    repeated_locations: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, info: Mapping[str, Any]) -> InputInfo:
        """Build from ``summary["input"]`` (missing keys are None)."""
        known = {f.name for f in fields(cls)} - {"metrics", "extra"}
        kwargs = {k: info[k] for k in known if k in info}
        kwargs["coding"] = dict(info.get("coding") or {})
        metrics = {k: info[k] for k in METRIC_COLUMNS if k in info}
        extra = {k: v for k, v in info.items() if k not in known and k not in metrics}
        return cls(**kwargs, metrics=metrics, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """``summary["input"]``: the fields in the order of ``summary.json``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            if f.name == "metrics":
                out.update(self.metrics)
            elif f.name == "coding":
                out["coding"] = dict(self.coding)
            else:
                out[f.name] = getattr(self, f.name)
        out.update(self.extra)
        return out


def _column(values: list[Any]) -> Any:
    """One aggregate field over rows: Int64 for counts, float64 for numbers, else object."""
    present = [v for v in values if v is not None]
    ints = all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in present)
    if ints:
        return pd.array(values, dtype="Int64")
    if all(isinstance(v, float | np.floating) for v in present):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return pd.array(values, dtype=object)


def aggregates_frame(
    nested: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> tuple[pd.DataFrame, dict[tuple[str, str], tuple[str, ...]]]:
    """The aggregates table of ``summary["aggregates"]`` (``{score: {scale: {...}}}``).

    Returns
    -------
    table : DataFrame
        One row per score and scale (index ``(score, scale)`` in the order given), one
        column per field (``mean``, ``ci_low``, ..., counts as nullable integers); None
        is NaN (or ``<NA>`` in an integer column).
    keys : dict
        Per ``(score, scale)``, the fields its aggregate holds, in order.
    """
    index: list[tuple[str, str]] = []
    rows: list[Mapping[str, Any]] = []
    keys: dict[tuple[str, str], tuple[str, ...]] = {}
    for col, per_scale in nested.items():
        for scale, agg in per_scale.items():
            index.append((str(col), str(scale)))
            rows.append(agg)
            keys[(str(col), str(scale))] = tuple(agg)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    data = {c: _column([r.get(c) for r in rows]) for c in columns}
    mi = pd.MultiIndex.from_tuples(index, names=list(AGGREGATE_INDEX))
    return pd.DataFrame(data, index=mi, columns=columns), keys


def _plain(v: Any) -> Any:
    """A table cell as the Python value of ``summary.json`` (None where missing)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        return None if math.isnan(v) else float(v)
    return v


class ReadOnlyDict(dict):
    """A dict that refuses changes (a view of a result: change the result instead).

    Still a :class:`dict`, so that ``json.dumps`` and ``dict(...)`` take it as one.
    """

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "a result's summary is read-only; change the result's typed parts "
            "(dataclasses.replace) or copy it with summary_dict()"
        )

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]


def _frozen(obj: Any) -> Any:
    """A read-only view of nested mappings (lists are copies)."""
    if isinstance(obj, Mapping):
        return ReadOnlyDict({k: _frozen(v) for k, v in obj.items()})
    if isinstance(obj, list | tuple):
        return [_frozen(v) for v in obj]
    return obj


def _empty_aggregates() -> pd.DataFrame:
    mi = pd.MultiIndex.from_tuples([], names=list(AGGREGATE_INDEX))
    return pd.DataFrame(index=mi)


@dataclass(eq=False)
class GeoBiasResult:
    """Geo-bias scores of one model's predictions.

    Attributes
    ----------
    centres : pandas.DataFrame
        One row per centre and scale: ``row`` (index into the table after dropping rows
        without coordinates), ``lon``, ``lat``, ``scale``, ``n_neighbours``, ``radius_km``,
        ``mean_performance`` (mean raw value in the neighbourhood), then one column per
        requested score (``unmarked_ssi``, ``marked_ssi``, ``sri_grid``, ``sri_lag``,
        ``sri_sector``) and ``<score>_p`` p-values where defined. NaN = not scored.
    parameters : mapping
        Every parameter that changes a number, as :func:`pygbs.score` recorded it.
    input : InputInfo
        What was read: source, counts, coding.
    aggregates : pandas.DataFrame
        The dataset-level numbers, one row per score column and scale (index
        ``(score, scale)``), one column per field (see
        :func:`pygbs.inference.aggregate.aggregate`; :meth:`aggregate` gives one row as
        an :class:`Aggregate`).
    pygbs_version : str or None
        The pygbs that computed it.
    predictions : Predictions or None
        The scored predictions (None when read back from disk).
    coded : ndarray or None
        The coded performance of every sample of ``predictions`` that the scores used
        (docs/method.md, D1); None when read back from disk.
    null_moments : dict or None
        With the accuracy-matched null, per scale: the mean (``m1``) and mean square
        (``m2``) of each centre's local performance over the null draws, and
        ``grand_var``; what paired tests of the spread need. None when read back from disk.
    aggregate_keys : mapping or None
        Per ``(score, scale)``, the fields its aggregate holds in ``summary.json``, in
        order (None: every field with a value, in column order).
    """

    centres: pd.DataFrame
    parameters: Mapping[str, Any] = field(default_factory=dict)
    input: InputInfo = field(default_factory=InputInfo)
    aggregates: pd.DataFrame = field(default_factory=_empty_aggregates)
    pygbs_version: str | None = None
    predictions: Predictions | None = field(default=None, repr=False)
    coded: np.ndarray | None = field(default=None, repr=False)
    null_moments: dict[str, dict[str, Any]] | None = field(default=None, repr=False)
    aggregate_keys: Mapping[tuple[str, str], tuple[str, ...]] | None = field(
        default=None, repr=False
    )

    @classmethod
    def from_summary(
        cls,
        centres: pd.DataFrame,
        summary: Mapping[str, Any],
        predictions: Predictions | None = None,
        *,
        coded: np.ndarray | None = None,
        null_moments: dict[str, dict[str, Any]] | None = None,
    ) -> GeoBiasResult:
        """Build from a summary in the layout of ``summary.json`` (missing sections: empty).

        Parameters
        ----------
        centres : DataFrame
            The per-centre table.
        summary : mapping
            ``pygbs_version``, ``parameters``, ``input`` and ``aggregates``.
        predictions, coded, null_moments
            See the attributes.
        """
        table, keys = aggregates_frame(summary.get("aggregates") or {})
        return cls(
            centres,
            parameters=dict(summary.get("parameters") or {}),
            input=InputInfo.from_dict(summary.get("input") or {}),
            aggregates=table,
            pygbs_version=summary.get("pygbs_version"),
            predictions=predictions,
            coded=coded,
            null_moments=null_moments,
            aggregate_keys=keys,
        )

    def aggregate_records(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every aggregate as the plain dict of ``summary.json``, by ``(score, scale)``.

        Values are Python numbers (counts as ``int``), None where missing; each dict holds
        the fields of :attr:`aggregate_keys` in order (without them, the fields that have
        a value).
        """
        table = self.aggregates
        columns = {c: [_plain(v) for v in table[c].tolist()] for c in table.columns}
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for i, key in enumerate(table.index):
            keys = (self.aggregate_keys or {}).get(key)
            if keys is None:
                rec = {c: vals[i] for c, vals in columns.items() if vals[i] is not None}
            else:
                rec = {k: columns[k][i] if k in columns else None for k in keys}
            out[(str(key[0]), str(key[1]))] = rec
        return out

    def aggregate_record(self, col: str, scale: str) -> dict[str, Any]:
        """One aggregate of :meth:`aggregate_records` (``col``: the score column)."""
        return self.aggregate_records()[(col, scale)]

    def summary_dict(self) -> dict[str, Any]:
        """The summary as a new plain dict, in the layout of ``summary.json``.

        ``schema_version`` (of :mod:`pygbs.io.store`), ``pygbs_version``, ``parameters``,
        ``input`` and ``aggregates`` ``{score_column: {scale: {...}}}``.
        """
        nested: dict[str, dict[str, Any]] = {}
        for (col, scale), rec in self.aggregate_records().items():
            nested.setdefault(col, {})[scale] = rec
        out: dict[str, Any] = {"schema_version": store.SCHEMA_VERSION}
        if self.pygbs_version is not None:
            out["pygbs_version"] = self.pygbs_version
        out["parameters"] = copy.deepcopy(dict(self.parameters))
        out["input"] = copy.deepcopy(self.input.to_dict())
        out["aggregates"] = nested
        return out

    @property
    def summary(self) -> Mapping[str, Any]:
        """A read-only view of :meth:`summary_dict` (the content of ``summary.json``)."""
        return _frozen(self.summary_dict())

    @property
    def scales(self) -> list[str]:
        """Scale names, in the order scored."""
        return list(self.parameters["scales"])

    @property
    def score_columns(self) -> list[str]:
        """Score columns present in :attr:`centres`."""
        return [c for c in SCORE_COLUMNS.values() if c in self.centres.columns]

    def _row(self, score: str, scale: str) -> tuple[str, dict[str, Any]]:
        col = SCORE_COLUMNS.get(score, score)
        if (col, scale) not in self.aggregates.index:
            raise InputError(
                f"no score {col!r} at scale {scale!r}; have {self.score_columns} at {self.scales}"
            )
        return col, self.aggregate_record(col, scale)

    def headline(self, score: str, scale: str) -> float:
        """The Geo-Bias Score: mean of ``score`` (a column or a score name) over centres."""
        _, agg = self._row(score, scale)
        value = agg.get("mean")
        return float("nan") if value is None else float(value)

    def aggregate(self, score: str, scale: str) -> Aggregate:
        """The dataset-level numbers of ``score`` (a name or a column) at ``scale``.

        Examples
        --------
        >>> res.aggregate("marked", "100km").ci_low  # doctest: +SKIP
        """
        col, agg = self._row(score, scale)
        return Aggregate.from_dict(col, scale, agg)

    def to_json(self, path: str | Path | None = None) -> str:
        """The summary as JSON text; also written atomically to ``path`` if given."""
        doc = self.summary_dict()
        if path is not None:
            store.write_summary(path, doc)
        return store.json_text(doc)

    def to_csv(self, path: str | Path) -> None:
        """Write the per-centre table as CSV (atomically)."""
        store.write_csv(path, self.centres)

    def to_parquet(self, path: str | Path, rows_per_group: int = PARQUET_ROW_GROUP) -> None:
        """Write the per-centre table as Parquet (atomically), one row group at a time.

        Only one group of ``rows_per_group`` rows is converted to Arrow at a time, so the
        table is never held in memory twice (docs/scale.md).
        """
        store.write_parquet(path, self.centres, rows_per_group)

    def write(self, directory: str | Path, *, format: str = "csv") -> Path:
        """Write ``summary.json`` and ``centres.csv`` (or ``.parquet``) into ``directory``.

        Each file is written atomically; the folder is created if missing. Other files
        in it are left alone (the command line's ``--out`` rules, docs/cli.md, are applied
        by ``pygbs score``, not here).

        Parameters
        ----------
        directory : path-like
            The folder.
        format : {'csv', 'parquet'}, default='csv'
            Format of the per-centre table.

        Returns
        -------
        Path
            ``directory``.
        """
        if format not in CENTRES_FORMATS:
            raise InputError(f"format must be one of {list(CENTRES_FORMATS)}; got {format!r}")
        d = Path(directory)
        self.to_json(d / store.SUMMARY_FILE)
        if format == "parquet":
            self.to_parquet(d / CENTRES_FORMATS[format])
        else:
            self.to_csv(d / CENTRES_FORMATS[format])
        return d

    def write_files(self, directory: str | Path, format: str = "csv") -> None:
        """The same as :meth:`write` (kept for code written against earlier versions)."""
        self.write(directory, format=format)

    @classmethod
    def read(cls, directory: str | Path) -> GeoBiasResult:
        """Read a folder written by :meth:`write` (``centres.csv`` or ``.parquet``).

        Raises
        ------
        InputError
            If a file is missing, unreadable, truncated, of an unknown schema version or
            not of the expected layout.
        """
        d = Path(directory)
        if not (d / store.SUMMARY_FILE).is_file():
            raise InputError(f"{d}: not a pygbs score output directory (no summary.json)")
        path = store.centres_path(d)
        if path is None:
            raise InputError(f"{d}: not a pygbs score output directory (no centres.csv)")
        summary = store.read_summary(d / store.SUMMARY_FILE)
        params = summary.get("parameters") or {}
        n_centres, scales = params.get("n_centres"), params.get("scales")
        n_rows = None
        if isinstance(n_centres, int) and isinstance(scales, list):
            n_rows = n_centres * len(scales)
        centres = store.read_centres(
            path, n_rows, f" ({n_centres} centres x {len(scales or [])} scales)"
        )
        return cls.from_summary(centres, summary)
