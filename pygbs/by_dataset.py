"""``pygbs compare DIR --group-by dataset``: a published results folder in one command.

:func:`compare_by_dataset` works in two phases.

1. **Read and check** every file of every dataset before any scoring, and decide, per
   dataset, what can be decided from the files alone (docs/cli.md, "Comparing every model
   of several datasets"):

   - a file whose name does not tell its dataset, an empty file and a file whose
     coordinates cannot be placed (none of its own, or an encoding of a sample that no
     degree file of the dataset holds) is *skipped* with a warning (``strict=True``:
     each is a problem instead);
   - files without degree coordinates take them, row by row, from the dataset's file with
     degree coordinates whose locations most other files share;
   - ``locations``: a dataset whose files all hold the same locations is compared on them
     (with paired tests); a dataset whose files hold different samples is scored on each
     model's own locations (that dataset only), with paired tests among the largest group
     of its files that share their locations (when it has two files or more);
   - ``value``: a dataset whose relative errors have many labels near zero (see
     :mod:`pygbs.regression`) is coded by its absolute error ``|prediction - label|``,
     for every model of the dataset alike;
   - any other bad input (a non-numeric value, a latitude out of range, ...) is a
     problem. All problems are reported together, one line each, and nothing is scored.

2. **Score** each dataset with :func:`pygbs.compare` on the tables read in phase 1.

Every decision is printed as a warning and recorded in :attr:`GroupedComparison.decisions`
(``summary.json``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from pygbs.errors import (
    CoordinatesError,
    EmptyInputError,
    InputError,
    InputProblems,
    NearZeroLabelsError,
    NoCoordinatesError,
)
from pygbs.io.predictions import read_predictions
from pygbs.io.sources import expand_sources
from pygbs.io.torchspatial import DatasetGroup, looks_encoded, parse_eval_name
from pygbs.io.torchspatial import group_by_dataset as group_files
from pygbs.predictions import Predictions
from pygbs.regression import check_relative_error, derive_value
from pygbs.results.comparison import Comparison, GroupedComparison

__all__ = ["GROUP_LOCATIONS", "InputProblems", "compare_by_dataset", "plan_datasets"]

log = logging.getLogger(__name__)

#: ``locations=`` of :func:`compare_by_dataset`: ``auto`` decides per dataset.
GROUP_LOCATIONS = ("auto", "same", "own")


@dataclass
class DatasetPlan:
    """What phase 1 read and decided for one dataset.

    Attributes
    ----------
    group : DatasetGroup
        The dataset's files and model names.
    tables : dict of str to Predictions
        The tables to score, by model name, in file order.
    locations : {'same', 'own'}
        How the dataset is compared.
    decisions : dict
        JSON-able record: ``locations`` (and ``locations_reason``), ``value`` (and
        ``value_reason``), ``coords_reference``, ``skipped`` (file -> reason), ``pairs``.
    """

    group: DatasetGroup
    tables: dict[str, Predictions] = field(default_factory=dict)
    locations: str = "same"
    decisions: dict[str, Any] = field(default_factory=dict)


def _location_key(p: Predictions) -> tuple[int, bytes]:
    return len(p), hashlib.sha1(p.lon.tobytes() + p.lat.tobytes()).digest()


def _absolute_error(p: Predictions) -> Predictions | None:
    """The table coded by ``|prediction - label|``, or None without those columns."""
    col = derive_value(p.table, "absolute_error", p.source)
    if col is None:
        return None
    value = col.to_numpy(dtype=np.float64)
    table = p.table.assign(absolute_error=value)
    return replace(
        p,
        value=np.ascontiguousarray(value),
        value_name="absolute_error",
        table=table,
        binary=False,
        lower_is_better=True,
    )


class _Reader:
    """Phase 1 for one dataset: read, place, decide; collect skips and problems."""

    def __init__(
        self,
        group: DatasetGroup,
        *,
        value: str | None,
        locations: str,
        skip_empty: bool,
        skip_unlocated: bool,
        min_label: float | None,
        near_zero_labels: str | None,
        strict: bool,
        problems: list[str],
    ) -> None:
        self.g = group
        self.value = value
        self.locations = locations
        self.skip_empty = skip_empty
        self.skip_unlocated = skip_unlocated
        self.min_label = min_label
        self.near_zero_labels = near_zero_labels
        self.strict = strict
        self.problems = problems
        self.skipped: dict[str, str] = {}

    def _skip(self, path: Path, reason: str, allowed: bool, option: str) -> None:
        if allowed:
            self.skipped[str(path)] = reason
            log.warning("%s: skipped %s", self.g.label, reason)
        else:
            self.problems.append(f"{self.g.label}: {reason}; {option}")

    def _read(self, path: Path, coords_from: Any) -> Predictions | None | str:
        """The table; None when skipped or a problem; ``"place"`` when it needs coordinates."""
        try:
            p = read_predictions(
                path, value=self.value, coords_from=coords_from, warn_encoded=False
            )
        except EmptyInputError as err:
            self._skip(path, str(err), self.skip_empty, "leave it out with --skip-empty")
            return None
        except CoordinatesError as err:
            self._skip(path, str(err), self.skip_unlocated, "leave it out with --skip-unlocated")
            return None
        except NoCoordinatesError:
            if coords_from is None:
                return "place"
            raise  # pragma: no cover - coords_from gives coordinates
        except InputError as err:
            if coords_from is None and "coords_from is only for" in str(err):
                return "place"  # pragma: no cover - not raised without coords_from
            self.problems.append(f"{self.g.label}: {err}")
            return None
        if coords_from is None and p.coords_source == "file" and looks_encoded(p.lon, p.lat):
            return "place"
        return p

    def run(self) -> DatasetPlan:
        g = self.g
        read: dict[int, Predictions] = {}
        place: list[int] = []
        for i, path in enumerate(g.files):
            got = self._read(path, None)
            if isinstance(got, str):
                place.append(i)
            elif got is not None:
                read[i] = got
        reference = self._reference(read)
        for i in place:
            path = g.files[i]
            if reference is None:
                self._skip(
                    path,
                    f"{path}: cannot be placed: it has no degree coordinates and no file of "
                    "the dataset has them",
                    self.skip_unlocated,
                    "leave it out with --skip-unlocated",
                )
                continue
            got = self._read(path, g.files[reference])
            if isinstance(got, Predictions):
                read[i] = got
        tables = {g.models[i]: read[i] for i in sorted(read)}
        decisions: dict[str, Any] = {
            "coords_reference": None if reference is None else str(g.files[reference]),
            "skipped": dict(self.skipped),
        }
        tables = self._decide_value(tables, decisions)
        locations = self._decide_locations(tables, decisions)
        decisions["pairs"] = (locations == "same" and len(tables) > 1) or bool(
            decisions.get("paired_models")
        )
        return DatasetPlan(g, tables, locations, decisions)

    def _reference(self, read: dict[int, Predictions]) -> int | None:
        """The degree file whose locations most others share (first on a tie)."""
        cands = [i for i, p in read.items() if p.coords_source == "file"]
        if not cands:
            return None
        keys = {i: _location_key(read[i]) for i in cands}
        counts = {k: sum(1 for v in keys.values() if v == k) for k in keys.values()}
        return max(cands, key=lambda i: (counts[keys[i]], -i))

    def _decide_value(
        self, tables: dict[str, Predictions], decisions: dict[str, Any]
    ) -> dict[str, Predictions]:
        decisions["value"] = self.value or "auto"
        if self.min_label is not None or self.near_zero_labels is not None:
            return tables  # the user chose: score() applies it to every file
        tripped = []
        for name, p in tables.items():
            try:
                check_relative_error(p)
            except NearZeroLabelsError as err:
                tripped.append((name, str(err)))
        if not tripped:
            return tables
        converted = {name: _absolute_error(p) for name, p in tables.items()}
        missing = [name for name, p in converted.items() if p is None]
        if self.strict:
            self.problems.append(f"{self.g.label}: {tripped[0][1]}")
            return tables
        for name in missing:  # cannot be coded like the others: left out
            path = str(tables[name].source)
            self.skipped[path] = (
                f"{path}: has no predictions and labels columns to compute the absolute "
                "error from, by which the other models of its dataset are coded"
            )
            log.warning("%s: skipped %s", self.g.label, self.skipped[path])
        decisions["skipped"] = dict(self.skipped)
        reason = (
            f"the relative errors of {len(tripped)} of {len(tables)} models have many labels "
            f"near zero (e.g. {tripped[0][0]}: {_share(tripped[0][1])}); every model of the "
            "dataset is coded by its absolute error |prediction - label|"
        )
        log.warning("%s: %s", self.g.label, reason)
        decisions["value"] = "absolute_error"
        decisions["value_reason"] = reason
        return {name: p for name, p in converted.items() if p is not None}

    def _decide_locations(self, tables: dict[str, Predictions], decisions: dict[str, Any]) -> str:
        keys = {_location_key(p) for p in tables.values()}
        if len(keys) > 1 and self.locations == "same":
            names = list(tables)
            first = next(
                n for n in names if _location_key(tables[n]) != _location_key(tables[names[0]])
            )
            self.problems.append(
                f"{self.g.label}: locations differ: {first} does not hold the locations of "
                f"{names[0]} (its {len(tables)} files hold {len(keys)} different sets); drop "
                "--locations same to score each model of this dataset on its own locations"
            )
        if len(keys) <= 1 or self.locations == "same":
            decisions["locations"] = "own" if self.locations == "own" else "same"
            return decisions["locations"]
        if self.locations == "own":
            decisions["locations"] = "own"
            return "own"
        by_key: dict[tuple[int, bytes], list[str]] = {}
        for name, p in tables.items():
            by_key.setdefault(_location_key(p), []).append(name)
        largest = max(by_key.values(), key=len)
        shared = largest if len(largest) > 1 else []
        reason = (
            f"its {len(tables)} files hold {len(keys)} different sets of locations; each "
            "model is scored on its own locations"
            + (
                f", with paired tests among the {len(shared)} models that share theirs"
                if shared
                else " (no paired tests for this dataset)"
            )
        )
        log.warning("%s: %s", self.g.label, reason)
        decisions["locations"] = "own"
        decisions["locations_reason"] = reason
        decisions["paired_models"] = shared
        return "own"


def _share(message: str) -> str:
    """``'6.3 % of the rows (268 of 4256)'`` out of a near-zero-labels message."""
    start = message.find("': ")
    end = message.find(") have labels")
    return message[start + 3 : end + 1] if start >= 0 and end > start else message


def plan_datasets(
    sources: Sequence[str | os.PathLike[str]],
    *,
    value: str | None = None,
    locations: str = "auto",
    strict: bool = False,
    skip_empty: bool | None = None,
    skip_unlocated: bool | None = None,
    min_label: float | None = None,
    near_zero_labels: str | None = None,
) -> tuple[list[DatasetPlan], dict[str, str]]:
    """Phase 1 of :func:`compare_by_dataset`: read and check every file, decide.

    Parameters
    ----------
    sources, value, locations, strict, skip_empty, skip_unlocated, min_label, near_zero_labels
        As in :func:`compare_by_dataset`.

    Returns
    -------
    (list of DatasetPlan, dict)
        The plans (datasets with files left to score) and the files skipped because their
        name does not tell the dataset (file -> reason).

    Raises
    ------
    InputProblems
        Listing every problem found (each also logged as an error).
    """
    if locations not in GROUP_LOCATIONS:
        raise InputError(f"locations must be one of {list(GROUP_LOCATIONS)}; got {locations!r}")
    skip_empty = (not strict) if skip_empty is None else bool(skip_empty)
    skip_unlocated = (not strict) if skip_unlocated is None else bool(skip_unlocated)
    problems: list[str] = []
    unnamed: dict[str, str] = {}
    files = []
    for f in expand_sources(sources):
        if parse_eval_name(f) is not None:
            files.append(f)
            continue
        reason = (
            f"{f}: cannot tell the dataset from the file name (expected TorchSpatial's "
            "eval_<dataset>_<meta>_<split>_<model>.csv[.gz], e.g. eval_yfcc__test_NeRF.csv.gz)"
        )
        if strict:
            problems.append(f"{reason}; compare it without --group-by")
        else:
            unnamed[str(f)] = reason
            log.warning("skipped %s", reason)
    plans = []
    for g in group_files(files):
        reader = _Reader(
            g,
            value=value,
            locations=locations,
            skip_empty=skip_empty,
            skip_unlocated=skip_unlocated,
            min_label=min_label,
            near_zero_labels=near_zero_labels,
            strict=strict,
            problems=problems,
        )
        plan = reader.run()
        if plan.tables:
            plans.append(plan)
        elif not any(p.startswith(f"{g.label}: ") for p in problems):
            log.warning("%s: every file was skipped; the dataset is left out", g.label)
            unnamed.update(plan.decisions["skipped"])
    if problems:
        for p in problems:
            log.error("%s", p)
        raise InputProblems(problems)
    if not plans:
        first = f" (first: {next(iter(unnamed.values()))})" if unnamed else ""
        raise InputError(f"nothing left to compare: every file was skipped{first}")
    return plans, unnamed


def compare_by_dataset(
    sources: Sequence[str | os.PathLike[str]],
    *,
    value: str | None = None,
    locations: str = "auto",
    strict: bool = False,
    skip_empty: bool | None = None,
    skip_unlocated: bool | None = None,
    **score_kwargs: Any,
) -> GroupedComparison:
    """One :func:`pygbs.compare` per dataset of TorchSpatial-style files, and combined tables.

    Parameters
    ----------
    sources : sequence of path
        Files named ``eval_<dataset>_<meta>_<split>_<model>.csv[.gz]`` and folders of
        them (see :func:`pygbs.io.torchspatial.group_by_dataset` for the parsing and the model
        names).
    value : str, optional
        Performance column of every file (default: detected per file).
    locations : {'auto', 'same', 'own'}, default='auto'
        ``'auto'``: a dataset whose files hold the same locations is compared on them,
        with paired tests; one whose files hold different samples is scored on each
        model's own locations. ``'same'``: every dataset must share locations (error
        otherwise); ``'own'``: every model on its own locations, no paired tests.
    strict : bool, default=False
        Turn every skip (empty files, files that cannot be placed, names that do not tell
        the dataset) and the absolute-error fallback into problems (errors).
    skip_empty, skip_unlocated : bool, optional
        Skip empty files / files that cannot be placed (default: ``not strict``).
    **score_kwargs
        Passed to :func:`pygbs.compare` and :func:`pygbs.score` for every dataset
        (``min_label`` or ``near_zero_labels`` turn off the absolute-error fallback).

    Returns
    -------
    GroupedComparison
        The wide ``table`` (one row per model, a column group per dataset), the long
        table (:meth:`GroupedComparison.long_table`) and ``decisions``.

    Raises
    ------
    InputProblems
        Every problem found while reading, before any scoring.
    InputError
        From scoring (prefixed with the dataset), or when nothing is left to compare.
    """
    from pygbs.comparing import compare, paired_differences

    plans, unnamed = plan_datasets(
        sources,
        value=value,
        locations=locations,
        strict=strict,
        skip_empty=skip_empty,
        skip_unlocated=skip_unlocated,
        min_label=score_kwargs.get("min_label"),
        near_zero_labels=score_kwargs.get("near_zero_labels"),
    )
    if score_kwargs.get("near_zero_labels") is None:
        score_kwargs.pop("near_zero_labels", None)
    comparisons: dict[str, Comparison] = {}
    for plan in plans:
        g = plan.group
        try:
            comparisons[g.label] = compare(
                list(plan.tables.values()),
                names=list(plan.tables),
                locations=plan.locations,
                **score_kwargs,
            )
        except InputError as err:
            raise type(err)(f"{g.label}: {err}") from None
        cmp = comparisons[g.label]
        shared = plan.decisions.get("paired_models") or []
        if plan.locations == "own" and len(shared) > 1:  # the files that share locations
            baseline = next((m for m in shared if "no_prior" in m), shared[0])
            boot = {k: score_kwargs[k] for k in ("bootstrap", "ci", "seed") if k in score_kwargs}
            cmp.pairs = paired_differences({m: cmp.results[m] for m in shared}, baseline, **boot)
            cmp.baseline = baseline
        cmp.skipped.update(plan.decisions["skipped"])
        cmp.info.update(
            coords_from="auto",
            coords_reference=plan.decisions["coords_reference"],
            skipped=dict(cmp.skipped),
            decisions=plan.decisions,
        )
    info = {
        p.group.label: {
            "dataset": p.group.dataset,
            "split": p.group.split,
            "files": {m: str(f) for m, f in zip(p.group.models, p.group.files, strict=True)},
            "skipped": p.decisions["skipped"],
        }
        for p in plans
    }
    decisions = {
        "locations": locations,
        "strict": strict,
        "datasets": {p.group.label: p.decisions for p in plans},
        "skipped_files": {**unnamed},
    }
    return GroupedComparison.combine(comparisons, info, decisions=decisions)
