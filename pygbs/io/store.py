"""Reading a ``pygbs compare`` output folder back into a :class:`~pygbs.results.result.Comparison`.

Nothing is scored again: the table, the paired tests and every model's ``summary.json`` and
``centres.csv`` are read as written (``pygbs report DIR`` draws from them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pygbs.errors import InputError
from pygbs.results.result import Comparison, GeoBiasResult, folder_names

__all__ = ["is_compare_output", "read_comparison"]


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
        ``table``, ``pairs``, ``info``, ``baseline`` and ``results`` as written.

    Raises
    ------
    InputError
        When a file is missing or unreadable, naming it.
    """
    d = Path(directory)
    if not is_compare_output(d):
        raise InputError(f"{d}: not a pygbs compare output (no compare.csv)")
    try:
        table = pd.read_csv(d / "compare.csv")
    except (ValueError, OSError) as err:
        raise InputError(f"{d / 'compare.csv'}: cannot read ({err})") from None
    if "model" not in table.columns:
        raise InputError(f"{d / 'compare.csv'}: no 'model' column")
    table["model"] = table["model"].astype(str)
    info: dict = {}
    if (d / "compare.json").is_file():
        try:
            info = json.loads((d / "compare.json").read_text(encoding="utf-8"))
        except ValueError as err:
            raise InputError(f"{d / 'compare.json'}: not valid JSON ({err})") from None
    models = table["model"].tolist()
    folders = info.get("folders") or folder_names(models)
    results = {}
    for m in models:
        folder = d / str(folders.get(m, m))
        if not folder.is_dir():
            raise InputError(f"{d}: no folder for model {m!r} ({folder.name}/)")
        results[m] = GeoBiasResult.read(folder)
    pairs = pd.read_csv(d / "pairs.csv") if (d / "pairs.csv").is_file() else None
    baseline = info.get("baseline")
    info = {k: v for k, v in info.items() if k != "baseline"}
    return Comparison(table=table, results=results, info=info, pairs=pairs, baseline=baseline)
