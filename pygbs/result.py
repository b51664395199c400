"""Result objects: :class:`GeoBiasResult` (one model) and :class:`Comparison` (several)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs._atomic import atomic_dir, atomic_path, write_text_atomic
from pygbs.errors import InputError
from pygbs.predictions import Predictions

__all__ = ["SCORE_COLUMNS", "GeoBiasResult", "Comparison", "aggregate"]

#: Score name (CLI ``--score``) -> column of the per-centre table.
SCORE_COLUMNS = {
    "unmarked": "unmarked_ssi",
    "marked": "marked_ssi",
    "sri-grid": "sri_grid",
    "sri-lag": "sri_lag",
    "sri-sector": "sri_sector",
}
#: Per-centre table formats of :meth:`GeoBiasResult.write` and their file names.
CENTRES_FORMATS = {"csv": "centres.csv", "parquet": "centres.parquet"}
#: Rows per Parquet row group (and per conversion to Arrow) in :meth:`GeoBiasResult.to_parquet`.
PARQUET_ROW_GROUP = 1_000_000


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    return obj


def aggregate(
    scores: np.ndarray, sizes: np.ndarray, p: np.ndarray | None, alpha: float
) -> dict[str, float | int | None]:
    """Dataset-level aggregates of one score at one scale (spec section 5).

    Parameters
    ----------
    scores : ndarray
        Per-centre scores (NaN = not scored).
    sizes : ndarray
        Neighbourhood sizes (weights of the weighted mean).
    p : ndarray or None
        Per-centre p-values, if the score has them.
    alpha : float
        Significance level of ``share_significant``.

    Returns
    -------
    dict
        ``mean`` (the headline Geo-Bias Score), ``weighted_mean``, ``median``,
        ``share_significant`` (None without p-values), ``n_scored``, ``n_skipped``.
    """
    ok = np.isfinite(scores)
    n = int(ok.sum())
    out: dict[str, float | int | None] = {"n_scored": n, "n_skipped": int(len(scores) - n)}
    if n == 0:
        out.update(mean=None, weighted_mean=None, median=None, share_significant=None)
        return out
    s, w = scores[ok], sizes[ok].astype(float)
    out["mean"] = float(s.mean())
    out["weighted_mean"] = float((s * w).sum() / w.sum()) if w.sum() > 0 else None
    out["median"] = float(np.median(s))
    out["share_significant"] = None if p is None else float((p[ok] < alpha).mean())
    return out


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
    summary : dict
        ``parameters`` (every parameter that changes a number), ``input`` (source, counts,
        coding) and ``aggregates`` ``{score_column: {scale: {...}}}`` (see :func:`aggregate`).
    predictions : Predictions or None
        The scored predictions (None when read back from disk).
    """

    centres: pd.DataFrame
    summary: dict[str, Any]
    predictions: Predictions | None = field(default=None, repr=False)

    @property
    def parameters(self) -> dict[str, Any]:
        """Every parameter used (compare two results only when these agree)."""
        return self.summary["parameters"]

    @property
    def scales(self) -> list[str]:
        """Scale names, in the order scored."""
        return list(self.summary["parameters"]["scales"])

    @property
    def score_columns(self) -> list[str]:
        """Score columns present in :attr:`centres`."""
        return [c for c in SCORE_COLUMNS.values() if c in self.centres.columns]

    def headline(self, score: str, scale: str) -> float:
        """The Geo-Bias Score: mean of ``score`` (a column or a score name) over centres."""
        col = SCORE_COLUMNS.get(score, score)
        try:
            value = self.summary["aggregates"][col][scale]["mean"]
        except KeyError as err:
            raise InputError(
                f"no score {col!r} at scale {scale!r}; have {self.score_columns} at {self.scales}"
            ) from err
        return float("nan") if value is None else float(value)

    def to_json(self, path: str | Path | None = None) -> str:
        """The summary as JSON text; also written atomically to ``path`` if given."""
        text = json.dumps(_jsonable(self.summary), indent=2, allow_nan=False) + "\n"
        if path is not None:
            write_text_atomic(path, text)
        return text

    def to_csv(self, path: str | Path) -> None:
        """Write the per-centre table as CSV (atomically)."""
        with atomic_path(path) as tmp:
            self.centres.to_csv(tmp, index=False)

    def to_parquet(self, path: str | Path, rows_per_group: int = PARQUET_ROW_GROUP) -> None:
        """Write the per-centre table as Parquet (atomically), one row group at a time.

        Only one group of ``rows_per_group`` rows is converted to Arrow at a time, so the
        table is never held in memory twice (docs/scale.md).
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = self.centres
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

    def write(self, out_dir: str | Path, format: str = "csv") -> Path:
        """Write ``summary.json`` and ``centres.csv`` (or ``centres.parquet``) into ``out_dir``.

        All or nothing: ``out_dir`` is replaced only when every file is written.

        Parameters
        ----------
        out_dir : path-like
            Output directory.
        format : {'csv', 'parquet'}, default='csv'
            Format of the per-centre table.
        """
        if format not in CENTRES_FORMATS:
            raise InputError(f"format must be one of {list(CENTRES_FORMATS)}; got {format!r}")
        with atomic_dir(out_dir) as tmp:
            self.to_json(tmp / "summary.json")
            if format == "parquet":
                self.to_parquet(tmp / CENTRES_FORMATS[format])
            else:
                self.to_csv(tmp / CENTRES_FORMATS[format])
        return Path(out_dir)

    @classmethod
    def read(cls, out_dir: str | Path) -> GeoBiasResult:
        """Read a ``pygbs score`` output directory back (``centres.csv`` or ``.parquet``)."""
        d = Path(out_dir)
        if not (d / "summary.json").is_file():
            raise InputError(f"{d}: not a pygbs score output directory (no summary.json)")
        summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        if (d / "centres.csv").is_file():
            return cls(pd.read_csv(d / "centres.csv"), summary)
        if (d / "centres.parquet").is_file():
            return cls(pd.read_parquet(d / "centres.parquet"), summary)
        raise InputError(f"{d}: not a pygbs score output directory (no centres.csv)")


@dataclass(eq=False)
class Comparison:
    """Geo-bias of several models' predictions on the same locations.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model: ``model``, ``accuracy`` (mean of the value column), ``n``, and
        one ``<score_column>@<scale>`` column per score and scale holding the headline mean
        (e.g. ``marked_ssi@100km``).
    results : dict of str to GeoBiasResult
        The full result of each model.
    """

    table: pd.DataFrame
    results: dict[str, GeoBiasResult]

    def to_markdown(self) -> str:
        """The table as a Markdown pipe table (numbers to 4 significant digits)."""
        cols = list(self.table.columns)
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for _, row in self.table.iterrows():
            cells = []
            for c in cols:
                v = row[c]
                cells.append(f"{v:.4g}" if isinstance(v, float | np.floating) else str(v))
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def write(self, out_dir: str | Path) -> Path:
        """Write ``compare.csv``, ``compare.md`` and ``<model>/`` result folders."""
        with atomic_dir(out_dir) as tmp:
            with atomic_path(tmp / "compare.csv") as f:
                self.table.to_csv(f, index=False)
            write_text_atomic(tmp / "compare.md", self.to_markdown())
            for name, res in self.results.items():
                (tmp / name).mkdir(exist_ok=True)
                res.to_json(tmp / name / "summary.json")
                res.to_csv(tmp / name / "centres.csv")
        return Path(out_dir)
