"""Results on disk: ``summary.json`` (with a schema version) and the tables, written and read.

The one module that knows the on-disk forms of results; the result objects
(:mod:`pygbs.results`) convert themselves to and from the plain data handled here.
Every file is written atomically (:mod:`pygbs.io.atomic`) into a folder the caller gives;
what may be written where is the command line's policy (:mod:`pygbs.cli.outputs`).

- ``summary.json``: one model's parameters, input and aggregates, with
  ``schema_version`` (:data:`SCHEMA_VERSION`); :func:`read_summary` refuses a version it
  does not know.
- ``centres.csv`` / ``centres.parquet``: the per-centre table (:func:`write_centres`,
  :func:`read_centres`).
- Comparison tables (``compare.csv``, ``pairs.csv``, ...) as CSV (:func:`write_csv`,
  :func:`read_csv`), Markdown tables (:func:`markdown_table`) and JSON documents
  (:func:`write_json`, :func:`read_json`).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs.errors import InputError
from pygbs.io.atomic import atomic_path, write_text_atomic

__all__ = [
    "CENTRES_FORMATS",
    "CENTRES_REQUIRED",
    "PARQUET_ROW_GROUP",
    "SCHEMA_VERSION",
    "SUMMARY_FILE",
    "TABLE_FILES",
    "centres_path",
    "folder_names",
    "json_text",
    "jsonable",
    "markdown_cell",
    "markdown_table",
    "read_centres",
    "read_csv",
    "read_json",
    "read_summary",
    "write_centres",
    "write_csv",
    "write_json",
    "write_summary",
    "write_text_atomic",
]

#: Version of the layout of ``summary.json`` written by this pygbs. Files without the key
#: (written before it was recorded) are read as the same layout.
SCHEMA_VERSION = 1
#: Name of a result's summary file.
SUMMARY_FILE = "summary.json"
#: Formats of the per-centre table and their file names.
CENTRES_FORMATS = {"csv": "centres.csv", "parquet": "centres.parquet"}
#: Columns every per-centre table has.
CENTRES_REQUIRED = ("row", "lon", "lat", "scale", "n_neighbours")
#: Rows per Parquet row group (and per conversion to Arrow) of :func:`write_centres`.
PARQUET_ROW_GROUP = 1_000_000
#: Sections every summary has.
_SUMMARY_KEYS = ("parameters", "input", "aggregates")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def jsonable(obj: Any) -> Any:
    """``obj`` with NumPy numbers and arrays as Python ones and NaN/inf as None (JSON)."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    return obj


def json_text(doc: Any) -> str:
    """``doc`` as JSON text: :func:`jsonable`, indented by 2, with a final line break."""
    return json.dumps(jsonable(doc), indent=2, allow_nan=False) + "\n"


def write_json(path: str | os.PathLike[str], doc: Any) -> None:
    """Write ``doc`` as JSON (:func:`json_text`) to ``path``, atomically."""
    write_text_atomic(path, json_text(doc))


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file; an unreadable or invalid file is an :class:`InputError` naming it."""
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise InputError(f"{p}: not valid JSON ({_first_line(err)})") from None


def write_summary(path: str | os.PathLike[str], summary: Mapping[str, Any]) -> None:
    """Write a result's summary to ``path`` with ``schema_version`` first.

    Parameters
    ----------
    path : path-like
        The file (``.../summary.json``).
    summary : mapping
        ``pygbs_version``, ``parameters``, ``input`` and ``aggregates`` (any
        ``schema_version`` in it is replaced by :data:`SCHEMA_VERSION`).
    """
    doc = {"schema_version": SCHEMA_VERSION}
    doc.update((k, v) for k, v in summary.items() if k != "schema_version")
    write_text_atomic(path, json_text(doc))


def read_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a result's ``summary.json``, checking its layout.

    Returns
    -------
    dict
        As written (``schema_version`` included when the file has it).

    Raises
    ------
    InputError
        If the file is unreadable, not JSON, of an unknown ``schema_version`` or misses a
        section; one line naming the file.
    """
    p = Path(path)
    try:
        summary = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise InputError(f"{p}: not a valid summary ({_first_line(err)})") from None
    if not isinstance(summary, dict):
        raise InputError(f"{p}: not a pygbs summary (not a JSON object)")
    version = summary.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise InputError(
            f"{p}: schema_version {version!r} is not one this pygbs reads ({SCHEMA_VERSION}); "
            "read it with the pygbs version that wrote it or score the predictions again"
        )
    missing = [k for k in _SUMMARY_KEYS if k not in summary]
    if missing:
        raise InputError(f"{p}: not a pygbs summary (missing {', '.join(missing)})")
    return summary


def write_csv(path: str | os.PathLike[str], table: pd.DataFrame) -> None:
    """Write ``table`` as CSV without its index, atomically."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)


def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV table written by :func:`write_csv`; errors name the file."""
    p = Path(path)
    try:
        return pd.read_csv(p)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise InputError(f"{p}: cannot read ({_first_line(err)})") from None


def write_parquet(
    path: str | os.PathLike[str], table: pd.DataFrame, rows_per_group: int = PARQUET_ROW_GROUP
) -> None:
    """Write ``table`` as Parquet, atomically, converting one row group at a time.

    Only one group of ``rows_per_group`` rows is converted to Arrow at a time, so the
    table is never held in memory twice (docs/scale.md).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        writer = None
        try:
            for a in range(0, max(len(table), 1), rows_per_group):
                piece = pa.Table.from_pandas(
                    table.iloc[a : a + rows_per_group], preserve_index=False
                )
                if writer is None:
                    writer = pq.ParquetWriter(tmp, piece.schema)
                writer.write_table(piece)
        finally:
            if writer is not None:
                writer.close()


def centres_path(directory: str | os.PathLike[str]) -> Path | None:
    """The per-centre table in ``directory`` (``centres.csv``, else ``centres.parquet``)."""
    d = Path(directory)
    for name in CENTRES_FORMATS.values():
        if (d / name).is_file():
            return d / name
    return None


def write_centres(
    directory: str | os.PathLike[str],
    table: pd.DataFrame,
    format: str = "csv",
    rows_per_group: int = PARQUET_ROW_GROUP,
) -> Path:
    """Write the per-centre table into ``directory`` as ``centres.csv`` or ``.parquet``.

    Returns
    -------
    Path
        The file written.
    """
    if format not in CENTRES_FORMATS:
        raise InputError(f"format must be one of {list(CENTRES_FORMATS)}; got {format!r}")
    path = Path(directory) / CENTRES_FORMATS[format]
    if format == "parquet":
        write_parquet(path, table, rows_per_group)
    else:
        write_csv(path, table)
    return path


def _ends_with_line_break(path: Path) -> bool:
    """Whether a text file is empty or ends with a line break (every file written here does)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() == 0:
                return True
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"
    except OSError:
        return True  # the reader names the error


def read_centres(
    path: str | os.PathLike[str], n_rows: int | None = None, described: str = ""
) -> pd.DataFrame:
    """Read a per-centre table (CSV or Parquet by its suffix), checking it is whole.

    Parameters
    ----------
    path : path-like
        ``centres.csv`` or ``centres.parquet``.
    n_rows : int, optional
        The number of rows the summary describes (centres times scales).
    described : str, optional
        How the summary describes them, for the message of a wrong count.

    Raises
    ------
    InputError
        If the file is unreadable, truncated, misses a column of
        :data:`CENTRES_REQUIRED` or has a row without a location or scale; one line naming
        the file and the row.
    """
    p = Path(path)
    parquet = p.suffix == ".parquet"
    if not parquet and not _ends_with_line_break(p):
        raise InputError(f"{p}: ends inside a row (no final line break); truncated file?")
    try:
        centres = pd.read_parquet(p) if parquet else pd.read_csv(p)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        what = "Parquet" if parquet else "CSV"
        raise InputError(f"{p}: cannot read as {what} ({_first_line(err)})") from None
    absent = [c for c in CENTRES_REQUIRED if c not in centres.columns]
    if absent:
        raise InputError(f"{p}: missing column(s) {', '.join(absent)}")
    for col in ("row", "lon", "lat", "n_neighbours"):
        values = pd.to_numeric(centres[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(np.float64)))
        if bad.size:
            raise InputError(
                f"{p}: row {int(bad[0]) + 2} has no valid {col!r} (truncated or edited file?)"
            )
    if n_rows is not None and len(centres) != n_rows:
        raise InputError(
            f"{p}: {len(centres)} rows, but summary.json describes {n_rows}{described}; "
            "truncated file?"
        )
    if centres["scale"].isna().any():
        row = int(np.flatnonzero(centres["scale"].isna().to_numpy())[0]) + 2
        raise InputError(f"{p}: row {row} has no 'scale' (truncated or edited file?)")
    return centres


def markdown_cell(v: Any) -> str:
    """One Markdown table cell: floats to 4 significant digits, ``–`` where missing."""
    if v is None or (isinstance(v, float | np.floating) and np.isnan(v)):
        return "–"
    if isinstance(v, float | np.floating):
        return f"{v:.4g}"
    return str(v)


def markdown_table(
    table: pd.DataFrame,
    *,
    header: Mapping[str, str] | None = None,
    align: Mapping[str, str] | None = None,
    cell: Callable[[str, Any], str] | None = None,
) -> str:
    """A DataFrame as a Markdown pipe table.

    Parameters
    ----------
    table : DataFrame
        The rows to show, in column order.
    header : mapping of str to str, optional
        Heading of a column, where not its name.
    align : mapping of str to str, optional
        Separator cell per column (``"---:"`` for right-aligned); ``"---"`` otherwise.
    cell : callable, optional
        ``cell(column, value)``: the text of one value (default :func:`markdown_cell`).

    Returns
    -------
    str
        Header, separator and one line per row, each ending with a line break.
    """
    cols = [str(c) for c in table.columns]
    head = [(header or {}).get(c, c) for c in cols]
    if align is None:
        sep = "|" + "---|" * len(cols)
    else:
        sep = "|" + "|".join(align.get(c, "---") for c in cols) + "|"
    lines = ["| " + " | ".join(head) + " |", sep]
    for _, row in table.iterrows():  # a row's values as pandas gives them (as written before)
        if cell is None:
            texts = [markdown_cell(row[c]) for c in table.columns]
        else:
            texts = [cell(str(c), row[c]) for c in table.columns]
        lines.append("| " + " | ".join(texts) + " |")
    return "\n".join(lines) + "\n"


#: Characters kept in a model's output folder name; others become ``_``.
_UNSAFE = re.compile(r"[^\w .+@=,()-]")
#: Files of a comparison's output folder: no model folder takes one of these names.
TABLE_FILES = ("compare.csv", "compare.md", "compare.json", "compare_long.csv", "pairs.csv",
               "profile.csv", "profile.png", "summary.json")  # fmt: skip


def folder_names(models: list[str]) -> dict[str, str]:
    """Output folder name of each model: unsafe characters (``/``, ``:``, ...) become ``_``.

    Parameters
    ----------
    models : list of str
        Distinct model names.

    Returns
    -------
    dict
        Model name -> folder name; distinct, never hidden (a leading ``.`` becomes ``_``),
        a ``-2``, ``-3``, ... suffix where two names would give the same folder or the
        name of one of the tables (:data:`TABLE_FILES`).
    """
    out: dict[str, str] = {}
    used: set[str] = {t.lower() for t in TABLE_FILES}
    for m in models:
        base = _UNSAFE.sub("_", m).strip() or "_"
        if base.startswith("."):
            base = "_" + base[1:]
        name, k = base, 2
        while name.lower() in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name.lower())
        out[m] = name
    return out
