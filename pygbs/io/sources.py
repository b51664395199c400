"""Files to read: folders expanded to their prediction files, and default model names.

``pygbs compare`` takes files or folders: :func:`expand_sources` turns folders into their
prediction files and :func:`unique_names` gives each file a distinct model name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pygbs.errors import InputError

__all__ = ["SUFFIXES", "expand_sources", "stem", "unique_names"]

#: File name endings read by :func:`pygbs.read_predictions`, longest first.
SUFFIXES: tuple[str, ...] = (".csv.gz", ".csv", ".parquet", ".pq")


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
