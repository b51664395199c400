"""Files to compare: folders, default model names, TorchSpatial file names and datasets.

``pygbs compare`` takes files or folders. :func:`expand_sources` turns folders into their
prediction files, :func:`unique_names` gives each file a distinct model name, and
:func:`parse_eval_name` / :func:`group_by_dataset` read TorchSpatial's
``eval_<dataset>_<meta>_<split>_<model>.csv[.gz]`` names for ``--group-by dataset``
(docs/cli.md, "Comparing every model of several datasets").
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pygbs.errors import InputError

__all__ = [
    "DatasetGroup",
    "EvalName",
    "expand_sources",
    "group_by_dataset",
    "parse_eval_name",
    "stem",
    "unique_names",
]

#: File name endings read by :func:`pygbs.read_predictions`, longest first.
SUFFIXES: tuple[str, ...] = (".csv.gz", ".csv", ".parquet", ".pq")
#: Split names recognised in TorchSpatial file names.
SPLITS: tuple[str, ...] = ("test", "val", "valid", "validation", "train")
_EVAL_RE = re.compile(rf"^eval_(?P<prefix>.+?)_(?P<split>{'|'.join(SPLITS)})_(?P<model>.+)$")
#: A file manager's duplicate marker at the end of a name (``x copy``, ``x copy 2``, ``x (1)``).
_COPY_RE = re.compile(r"(?: copy(?: \d+)?| \(\d+\))$")
#: Model names that mean the same model in TorchSpatial's files: the regression baseline
#: ``no_prior_regress`` is the ``no_prior`` row of the paper's tables.
MODEL_ALIASES: dict[str, str] = {"no_prior_regress": "no_prior"}


def stem(path: str | os.PathLike[str]) -> str:
    """File name without its directory and a ``.csv``/``.csv.gz``/``.parquet``/``.pq`` ending.

    Parameters
    ----------
    path : path-like
        A prediction file.

    Returns
    -------
    str
        E.g. ``"eval_yfcc__test_NeRF"`` for ``.../eval_yfcc__test_NeRF.csv.gz``.
    """
    name = Path(path).name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def expand_sources(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Replace each folder by its prediction files (sorted by name, not recursive).

    Parameters
    ----------
    paths : sequence of path-like
        Files and folders, in the user's order.

    Returns
    -------
    list of Path
        Files in the given order; a folder's files (names ending in ``.csv``,
        ``.csv.gz``, ``.parquet``, ``.pq``, hidden files excluded) in name order.

    Raises
    ------
    InputError
        For a folder without prediction files.
    """
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if not path.is_dir():
            out.append(path)
            continue
        files = sorted(
            f
            for f in path.iterdir()
            if f.is_file() and not f.name.startswith(".") and f.name.lower().endswith(SUFFIXES)
        )
        if not files:
            raise InputError(
                f"{path}: folder holds no prediction files (names ending in {', '.join(SUFFIXES)})"
            )
        out.extend(files)
    return out


def unique_names(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Default model names: file stems, with parent folders added where stems repeat.

    Parameters
    ----------
    paths : sequence of path-like
        One prediction file per model.

    Returns
    -------
    list of str
        The stem of each file (:func:`stem`); files whose stems repeat are named
        ``parent/stem``, with as many parent folders as it takes to tell them apart. The
        same file given twice keeps a repeated name (the caller reports it).
    """
    paths_ = [Path(os.path.normpath(p)) for p in paths]
    parts = [p.parts[1:] if p.anchor else p.parts for p in paths_]
    names = [stem(p) for p in paths]
    depth = 1
    while True:
        seen: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            seen.setdefault(n, []).append(i)
        clashes = [ix for ix in seen.values() if len(ix) > 1]
        if not clashes or all(depth >= len(parts[i]) for ix in clashes for i in ix):
            return names
        depth += 1
        for ix in clashes:
            for i in ix:
                folders = parts[i][:-1][-(depth - 1) :]
                names[i] = "/".join([*folders, stem(paths[i])])


@dataclass(frozen=True)
class EvalName:
    """The parts of a TorchSpatial evaluation file name.

    Attributes
    ----------
    dataset : str
        ``<dataset>_<meta>`` without trailing ``_`` (``birdsnap_ebird_meta``, ``yfcc``,
        ``mosaiks_elevation``).
    split : str
        ``test``, ``val``, ``valid``, ``validation`` or ``train``.
    model : str
        The encoder as written in the name (``NeRF``, ``no_prior_regress copy``).
    """

    dataset: str
    split: str
    model: str


def parse_eval_name(path: str | os.PathLike[str]) -> EvalName | None:
    """Parse ``eval_<dataset>_<meta>_<split>_<model>`` (TorchSpatial's ``eval_results``).

    The split is the first ``_test_``/``_val_``/``_valid_``/``_validation_``/``_train_``
    after ``eval_``; what precedes it is the dataset (with its meta type, e.g.
    ``birdsnap_ebird_meta``; an empty meta type leaves a trailing ``_``, which is dropped:
    ``eval_yfcc__test_NeRF`` is dataset ``yfcc``), what follows it the model.

    Parameters
    ----------
    path : path-like
        A file name or path.

    Returns
    -------
    EvalName or None
        None when the name does not follow the pattern.
    """
    m = _EVAL_RE.match(stem(path))
    if m is None:
        return None
    dataset = m["prefix"].rstrip("_")
    if not dataset:
        return None
    return EvalName(dataset=dataset, split=m["split"], model=m["model"])


@dataclass
class DatasetGroup:
    """The files of one dataset (and split) for ``--group-by dataset``.

    Attributes
    ----------
    label : str
        Column-group and sub-folder name: the dataset, or ``<dataset>-<split>`` when the
        input holds several splits of it.
    dataset, split : str
        As parsed from the file names.
    files : list of Path
        The dataset's files, in input order.
    models : list of str
        One model name per file (see :func:`group_by_dataset`).
    """

    label: str
    dataset: str
    split: str
    files: list[Path] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def _model_names(raw: list[str]) -> list[str]:
    """Model names of one group: duplicate markers and aliases removed unless they clash."""
    out = []
    for name in raw:
        clean = _COPY_RE.sub("", name)
        clean = MODEL_ALIASES.get(clean, clean)
        out.append(clean)
    # keep a file's own name where the cleaned names of two files would coincide
    return [c if out.count(c) == 1 else r for c, r in zip(out, raw, strict=True)]


def group_by_dataset(paths: Sequence[str | os.PathLike[str]]) -> list[DatasetGroup]:
    """Group TorchSpatial evaluation files by dataset and split.

    Parameters
    ----------
    paths : sequence of path-like
        Files named ``eval_<dataset>_<meta>_<split>_<model>.csv[.gz]``.

    Returns
    -------
    list of DatasetGroup
        In order of first appearance. Model names are the ``<model>`` part of the name,
        with a trailing duplicate marker (`` copy``, `` copy 2``, `` (1)``) removed and
        ``no_prior_regress`` named ``no_prior`` (the no-location baseline of the
        regression datasets), unless that makes two files of a group share a name.

    Raises
    ------
    InputError
        Naming the first file whose name does not follow the pattern.
    """
    groups: dict[tuple[str, str], DatasetGroup] = {}
    raw: dict[tuple[str, str], list[str]] = {}
    for p in paths:
        parsed = parse_eval_name(p)
        if parsed is None:
            raise InputError(
                f"{p}: cannot tell the dataset from the file name (--group-by dataset expects "
                "TorchSpatial's eval_<dataset>_<meta>_<split>_<model>.csv[.gz], e.g. "
                "eval_yfcc__test_NeRF.csv.gz); compare it without --group-by"
            )
        key = (parsed.dataset, parsed.split)
        if key not in groups:
            groups[key] = DatasetGroup(
                label=parsed.dataset, dataset=parsed.dataset, split=parsed.split
            )
            raw[key] = []
        groups[key].files.append(Path(p))
        raw[key].append(parsed.model)
    splits: dict[str, int] = {}
    for dataset, _ in groups:
        splits[dataset] = splits.get(dataset, 0) + 1
    for key, g in groups.items():
        if splits[g.dataset] > 1:
            g.label = f"{g.dataset}-{g.split}"
        g.models = _model_names(raw[key])
    return list(groups.values())
