"""Result objects: :class:`GeoBiasResult` (one model) and :class:`Comparison` (several)."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pygbs._names import SCORE_COLUMNS
from pygbs.errors import InputError
from pygbs.inference.bootstrap import DEFAULT_BOOTSTRAP, DEFAULT_CI, Blocks, block_bootstrap
from pygbs.outputs import atomic_path, output_dir, write_text_atomic
from pygbs.predictions import Predictions

__all__ = [
    "SCORE_COLUMNS",
    "Aggregate",
    "Comparison",
    "GeoBiasResult",
    "GroupedComparison",
    "aggregate",
    "fdr_q_values",
    "jsonable",
    "markdown_table",
]

#: |Spearman rho| between accuracy and a score above which the score is flagged as
#: tracking accuracy across the compared models
TRACKS_ACCURACY = 0.8


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


#: Per-centre table formats of :meth:`GeoBiasResult.write` and their file names.
CENTRES_FORMATS = {"csv": "centres.csv", "parquet": "centres.parquet"}
#: Rows per Parquet row group (and per conversion to Arrow) in :meth:`GeoBiasResult.to_parquet`.
PARQUET_ROW_GROUP = 1_000_000


def jsonable(obj: Any) -> Any:
    """``obj`` with NumPy numbers and arrays as Python ones and NaN/inf as None (JSON)."""
    if isinstance(obj, dict):
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


def fdr_q_values(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of per-centre p-values (NaN where p is NaN).

    The operations of ``scipy.stats.false_discovery_control(p, method="bh")`` (equal
    values, tested), without importing scipy.stats: sorted ``p`` times ``m / rank``, the
    running minimum from the largest down, clipped to [0, 1].
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = _bh(np.clip(p[ok], 0.0, 1.0))
    return q


def _bh(p: np.ndarray) -> np.ndarray:
    m = p.shape[0]
    if m <= 1:
        return p
    order = np.argsort(p)
    adj = p[order] * (m / np.arange(1, m + 1, dtype=np.float64))
    np.minimum.accumulate(adj[::-1], out=adj[::-1])
    out = np.empty_like(adj)
    out[order] = adj
    return np.clip(out, 0.0, 1.0)


def aggregate(
    scores: np.ndarray,
    sizes: np.ndarray,
    p: np.ndarray | None,
    alpha: float,
    blocks: Blocks | None = None,
    *,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    ci: float = DEFAULT_CI,
    seed: int = 0,
) -> dict[str, float | int | None]:
    """Dataset-level aggregates of one score at one scale (docs/method.md).

    Parameters
    ----------
    scores : ndarray
        Per-centre scores (NaN = not scored).
    sizes : ndarray
        Neighbourhood sizes (weights of the weighted mean).
    p : ndarray or None
        Per-centre p-values, if the score has them.
    alpha : float
        Significance level of ``share_significant`` and ``share_significant_fdr``.
    blocks : Blocks, optional
        Equal-area blocks of the centres for the interval of the mean (none: no interval).
    bootstrap : int, default=1000
        Block-bootstrap replicates (0: no interval).
    ci : float, default=0.95
        Level of the interval.
    seed : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``mean`` (the headline Geo-Bias Score), ``ci_low``, ``ci_high`` (spatial block
        bootstrap), ``block_km``, ``n_blocks``, ``weighted_mean``, ``median``,
        ``share_significant`` (p < alpha; None without p-values),
        ``share_significant_fdr`` (Benjamini-Hochberg q < alpha), ``n_scored``,
        ``n_skipped``.
    """
    ok = np.isfinite(scores)
    n = int(ok.sum())
    out: dict[str, float | int | None] = {"n_scored": n, "n_skipped": int(len(scores) - n)}
    out.update(
        mean=None,
        ci_low=None,
        ci_high=None,
        block_km=None if blocks is None else blocks.block_km,
        n_blocks=None,
        weighted_mean=None,
        median=None,
        share_significant=None,
        share_significant_fdr=None,
    )
    if n == 0:
        return out
    s, w = scores[ok], sizes[ok].astype(float)
    out["mean"] = float(s.mean())
    if blocks is not None:
        est = block_bootstrap(scores, blocks.ids, n_boot=bootstrap, ci=ci, seed=seed)
        out["n_blocks"] = est.n_blocks
        if math.isfinite(est.ci_low):
            out["ci_low"], out["ci_high"] = est.ci_low, est.ci_high
    out["weighted_mean"] = float((s * w).sum() / w.sum()) if w.sum() > 0 else None
    out["median"] = float(np.median(s))
    if p is not None:
        out["share_significant"] = float((p[ok] < alpha).mean())
        out["share_significant_fdr"] = float((fdr_q_values(p[ok]) < alpha).mean())
    return out


@dataclass(frozen=True)
class Aggregate:
    """The dataset-level numbers of one score at one scale (docs/method.md, D6).

    A typed view of ``summary["aggregates"][column][scale]`` (``summary.json`` stays the
    on-disk form); ``None`` there is NaN here.

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
    coded : ndarray or None
        The coded performance of every sample of ``predictions`` that the scores used
        (docs/method.md, D1); None when read back from disk.
    null_moments : dict or None
        With the accuracy-matched null, per scale: the mean (``m1``) and mean square
        (``m2``) of each centre's local performance over the null draws, and
        ``grand_var``; what paired tests of the spread need. None when read back from disk.
    """

    centres: pd.DataFrame
    summary: dict[str, Any]
    predictions: Predictions | None = field(default=None, repr=False)
    coded: np.ndarray | None = field(default=None, repr=False)
    null_moments: dict[str, dict[str, Any]] | None = field(default=None, repr=False)

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

    def aggregate(self, score: str, scale: str) -> Aggregate:
        """The dataset-level numbers of ``score`` (a name or a column) at ``scale``.

        Examples
        --------
        >>> res.aggregate("marked", "100km").ci_low  # doctest: +SKIP
        """
        col = SCORE_COLUMNS.get(score, score)
        try:
            agg = self.summary["aggregates"][col][scale]
        except KeyError as err:
            raise InputError(
                f"no score {col!r} at scale {scale!r}; have {self.score_columns} at {self.scales}"
            ) from err
        return Aggregate.from_dict(col, scale, agg)

    def to_json(self, path: str | Path | None = None) -> str:
        """The summary as JSON text; also written atomically to ``path`` if given."""
        text = json.dumps(jsonable(self.summary), indent=2, allow_nan=False) + "\n"
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

    def write(self, out_dir: str | Path, *, force: bool = False, format: str = "csv") -> Path:
        """Write ``summary.json`` and ``centres.csv`` (or ``.parquet``) into ``out_dir``.

        All or nothing; ``out_dir`` follows the output-directory contract of docs/cli.md: an
        existing non-empty directory that is not an earlier ``pygbs score`` output is
        refused (:class:`~pygbs.errors.InputError`) unless ``force``.

        Parameters
        ----------
        out_dir : path-like
            Output directory.
        force : bool, default=False
            Write into a directory that is not an earlier output of ``pygbs score``.
        format : {'csv', 'parquet'}, default='csv'
            Format of the per-centre table.
        """
        if format not in CENTRES_FORMATS:
            raise InputError(f"format must be one of {list(CENTRES_FORMATS)}; got {format!r}")
        with output_dir(out_dir, "pygbs score", force=force) as tmp:
            self.write_files(tmp, format=format)
        return Path(out_dir)

    def write_files(self, directory: str | Path, format: str = "csv") -> None:
        """Write ``summary.json`` and ``centres.csv`` (or ``.parquet``) into ``directory``."""
        d = Path(directory)
        self.to_json(d / "summary.json")
        if format == "parquet":
            self.to_parquet(d / CENTRES_FORMATS[format])
        else:
            self.to_csv(d / CENTRES_FORMATS[format])

    @classmethod
    def read(cls, out_dir: str | Path) -> GeoBiasResult:
        """Read a ``pygbs score`` output directory back (``centres.csv`` or ``.parquet``).

        Raises
        ------
        InputError
            If a file is missing, unreadable, truncated or not of the expected layout.
        """
        d = Path(out_dir)
        if not (d / "summary.json").is_file():
            raise InputError(f"{d}: not a pygbs score output directory (no summary.json)")
        parquet = not (d / "centres.csv").is_file() and (d / "centres.parquet").is_file()
        if not (parquet or (d / "centres.csv").is_file()):
            raise InputError(f"{d}: not a pygbs score output directory (no centres.csv)")
        path = d / "summary.json"
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as err:
            raise InputError(f"{path}: not a valid summary ({_first_line(err)})") from None
        missing = [k for k in ("parameters", "input", "aggregates") if k not in summary]
        if not isinstance(summary, dict) or missing:
            raise InputError(f"{path}: not a pygbs summary (missing {', '.join(missing)})")
        path = d / ("centres.parquet" if parquet else "centres.csv")
        if not parquet and not _ends_with_line_break(path):
            raise InputError(f"{path}: ends inside a row (no final line break); truncated file?")
        try:
            centres = pd.read_parquet(path) if parquet else pd.read_csv(path)
        except (ValueError, OSError, UnicodeDecodeError) as err:
            what = "Parquet" if parquet else "CSV"
            raise InputError(f"{path}: cannot read as {what} ({_first_line(err)})") from None
        need = ["row", "lon", "lat", "scale", "n_neighbours"]
        absent = [c for c in need if c not in centres.columns]
        if absent:
            raise InputError(f"{path}: missing column(s) {', '.join(absent)}")
        for col in ("row", "lon", "lat", "n_neighbours"):
            values = pd.to_numeric(centres[col], errors="coerce")
            bad = np.flatnonzero(~np.isfinite(values.to_numpy(np.float64)))
            if bad.size:
                raise InputError(
                    f"{path}: row {int(bad[0]) + 2} has no valid {col!r} "
                    "(truncated or edited file?)"
                )
        params = summary.get("parameters") or {}
        n_centres, scales = params.get("n_centres"), params.get("scales")
        if isinstance(n_centres, int) and isinstance(scales, list):
            want = n_centres * len(scales)
            if len(centres) != want:
                raise InputError(
                    f"{path}: {len(centres)} rows, but summary.json describes {want} "
                    f"({n_centres} centres x {len(scales)} scales); truncated file?"
                )
        if centres["scale"].isna().any():
            row = int(np.flatnonzero(centres["scale"].isna().to_numpy())[0]) + 2
            raise InputError(f"{path}: row {row} has no 'scale' (truncated or edited file?)")
        return cls(centres, summary)


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
        return True  # the reader below names the error


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


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float | np.floating) and np.isnan(v)):
        return "–"
    if isinstance(v, float | np.floating):
        return f"{v:.4g}"
    return str(v)


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown pipe table (4 significant digits; ``–`` where missing)."""
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(_cell(row[c]) for c in table.columns) + " |")
    return "\n".join(lines) + "\n"


@dataclass(eq=False)
class Comparison:
    """Geo-bias of several models' predictions on the same locations.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model: ``model``, ``accuracy`` (mean of the value column), ``n``, one
        ``<score_column>@<scale>`` column per score and scale holding the headline mean
        (e.g. ``marked_ssi@100km``), then ``<score_column>@<scale>_ci_low`` and
        ``..._ci_high``, its block-bootstrap interval.
    results : dict of str to GeoBiasResult
        The full result of each model.
    skipped : dict of str to str
        Sources left out (``skip_empty`` / ``skip_unlocated``) and why.
    info : dict
        The locations rule, the coordinate source, and per model its source file and where
        its coordinates came from (written as ``compare.json``).
    pairs : pandas.DataFrame, optional
        Paired differences between models (see :func:`pygbs.api.paired_differences`);
        None when the models were scored on their own locations.
    accuracy_correlation : pandas.DataFrame, optional
        Rank correlation between accuracy and each score across the models (see
        :func:`pygbs.api.accuracy_correlation`).
    baseline : str, optional
        The model the others were tested against.
    profile : pygbs.scale_profile.Profile, optional
        The models' scores across scales, written as ``profile.csv`` and ``profile.png``.
    """

    table: pd.DataFrame
    results: dict[str, GeoBiasResult]
    skipped: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    pairs: pd.DataFrame | None = None
    accuracy_correlation: pd.DataFrame | None = None
    baseline: str | None = None
    profile: Any = None

    def headline_table(self) -> pd.DataFrame:
        """The numbers to read first: each model's excess over its accuracy-matched null.

        One row per model: ``model``, ``accuracy``, then per scale the excess spread of
        local accuracy and the excess of every other score that has one, each as a text
        cell ``x [lo, hi]`` (docs/method.md, "Beyond accuracy"). Empty when the models
        were scored without the null.
        """
        cols = [c for c in self.table.columns
                if c.endswith("_excess") and not c.endswith("_p_excess") and "@" in c]  # fmt: skip
        cols = [c for c in cols if not c.startswith("unmarked_ssi@")]
        cols.sort(key=lambda c: (not c.startswith("spread@"), c.split("@")[1]))
        if not cols:
            return pd.DataFrame()
        metrics = [c for c in ("accuracy", "r2", "mae") if c in self.table.columns]
        out = self.table[["model", *metrics]].copy()
        for c in cols:
            score, scale = c.removesuffix("_excess").split("@")
            lo, hi = self.table.get(f"{c}_ci_low"), self.table.get(f"{c}_ci_high")
            cells = []
            for i, v in enumerate(self.table[c]):
                text = _cell(v)
                if lo is not None and hi is not None and pd.notna(lo.iloc[i]):
                    text += f" [{_cell(lo.iloc[i])}, {_cell(hi.iloc[i])}]"
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

    def write_files(self, directory: str | Path) -> None:
        """Write the files of :meth:`write` into an existing ``directory``."""
        d = Path(directory)
        with atomic_path(d / "compare.csv") as f:
            self.table.to_csv(f, index=False)
        if self.pairs is not None:
            with atomic_path(d / "pairs.csv") as f:
                self.pairs.to_csv(f, index=False)
        write_text_atomic(d / "compare.md", self.to_markdown())
        if self.profile is not None:
            from pygbs.plot.profile import write_profile_plot

            with atomic_path(d / "profile.csv") as f:
                self.profile.table.to_csv(f, index=False)
            write_profile_plot(self.profile, d / "profile.png")
        folders = folder_names(list(self.results))
        info = jsonable({**self.info, "baseline": self.baseline, "folders": folders})
        write_text_atomic(d / "compare.json", json.dumps(info, indent=2) + "\n")
        for name, res in self.results.items():
            (d / folders[name]).mkdir(exist_ok=True)
            res.write_files(d / folders[name])

    def write(self, out_dir: str | Path, *, force: bool = False) -> Path:
        """Write the tables, ``compare.json`` and one ``<model>/`` folder per model.

        All or nothing; ``out_dir`` follows the output-directory contract of docs/cli.md
        (see :meth:`GeoBiasResult.write`). The tables are ``compare.csv``, ``compare.md``,
        ``pairs.csv`` (and ``profile.csv`` with ``profile.png`` when a profile was asked
        for). A model's folder is its name
        with characters unsafe in a folder name (``/``, ``:``, ...) replaced by ``_``
        (``compare.json`` maps names to folders).
        """
        with output_dir(out_dir, "pygbs compare", force=force) as tmp:
            self.write_files(tmp)
        return Path(out_dir)


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
                aggregates = (res.summary or {}).get("aggregates") or {}
                for col, per_scale in aggregates.items():
                    for scale, agg in per_scale.items():
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
            t = cmp.table.set_index("model")
            for metric in ("accuracy", "r2"):
                if metric in t.columns:
                    out[f"{label} {metric}"] = [
                        _short(t.loc[m, metric]) if m in t.index else "–" for m in models
                    ]
            heads = [c for c in t.columns if "@" in c and not c.endswith(("_ci_low", "_ci_high"))]
            for c in heads:
                lo, hi = f"{c}_ci_low", f"{c}_ci_high"
                out[f"{label} {c}"] = [
                    _interval(t.loc[m, c], t.loc[m].get(lo), t.loc[m].get(hi))
                    if m in t.index
                    else "–"
                    for m in models
                ]
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

    def write(self, out_dir: str | Path, *, force: bool = False) -> Path:
        """Write the combined files and one folder per dataset.

        ``compare.csv`` (wide), ``compare_long.csv`` (:meth:`long_table`), ``compare.md``
        (:meth:`to_markdown`), ``pairs.csv`` (:meth:`pairs`, when any dataset has paired
        tests), ``summary.json`` (:attr:`decisions`), ``compare.json`` (:attr:`info`) and
        each dataset's :meth:`Comparison.write` output in its folder. All or nothing,
        following the output-directory contract of docs/cli.md.
        """
        with output_dir(out_dir, "pygbs compare", force=force) as tmp:
            self.write_files(tmp)
        return Path(out_dir)

    def write_files(self, directory: str | Path) -> None:
        """Write the files of :meth:`write` into an existing ``directory``."""
        d = Path(directory)
        folders = folder_names(list(self.comparisons))
        with atomic_path(d / "compare.csv") as f:
            self.table.to_csv(f, index=False)
        with atomic_path(d / "compare_long.csv") as f:
            self.long_table().to_csv(f, index=False)
        pairs = self.pairs()
        if pairs is not None:
            with atomic_path(d / "pairs.csv") as f:
                pairs.to_csv(f, index=False)
        write_text_atomic(d / "compare.md", self.to_markdown())
        doc = jsonable({"datasets": self.info, "folders": folders})
        write_text_atomic(d / "compare.json", json.dumps(doc, indent=2) + "\n")
        summary = jsonable({**self.decisions, "folders": folders})
        write_text_atomic(d / "summary.json", json.dumps(summary, indent=2) + "\n")
        for label, cmp in self.comparisons.items():
            sub = d / folders[label]
            sub.mkdir(exist_ok=True)
            cmp.write_files(sub)


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
