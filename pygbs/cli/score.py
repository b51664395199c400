"""``pygbs score``: geo-bias scores of one prediction file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pygbs.cli.options import (
    cluster_options,
    format_option,
    out_option,
    run_scoring,
    score_options,
    scoring_kwargs,
)
from pygbs.cli.outputs import output_dir


@click.command("score", short_help="Score one prediction file.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@score_options
@cluster_options
@format_option
@out_option
def score_cmd(
    file: Path,
    out: Path,
    force: bool,
    scheduler: str | None,
    chunk_size: int | None,
    fmt: str,
    **params: Any,
) -> None:
    """Geo-bias scores (SSI, SRI) of FILE's per-location predictions.

    Writes OUT/summary.json (parameters, counts, aggregates per score and scale) and
    OUT/centres.csv (one row per centre and scale; centres.parquet with --format parquet).
    With --scheduler the centres are scored on a Dask cluster, with identical results.

    \b
    Examples:
      pygbs score eval_yfcc__test_NeRF.csv.gz --out result/
      pygbs score preds.csv --value relative_error --scale 100km --scale nn50 \\
          --score marked --score sri-lag --out result/
      pygbs score no_prior.csv.gz --coords-from NeRF.csv.gz --centres 500 --out quick/
      pygbs score big.parquet --scheduler tcp://10.0.0.5:8786 --format parquet --out big/
    """
    kwargs = scoring_kwargs(**params)

    def run() -> None:
        from pygbs.api import score  # pandas and numba load only when a command runs

        # claim --out first (a refused or unwritable --out fails before the work)
        with output_dir(out, "pygbs score", force=force) as stage:
            res = score(
                file,
                progress=sys.stderr.isatty(),
                scheduler=scheduler,
                chunk_size=chunk_size,
                **kwargs,
            )
            res.write(stage, format=fmt)
        agg = res.summary["aggregates"]
        par = res.summary["parameters"]
        click.echo(
            f"{res.summary['input']['model']}: {res.summary['input']['n_valid']} samples, "
            f"{len(res.centres)} centre rows -> {out}"
        )
        for col, per_scale in agg.items():
            for scale, a in per_scale.items():
                mean = "nan" if a["mean"] is None else f"{a['mean']:.4g}"
                click.echo(
                    f"  {col}@{scale}: mean {mean}{_excess_text(a)} ({a['n_scored']} scored, "
                    f"{a['n_skipped']} skipped){_why_skipped(col, a, par)}"
                )

    run_scoring(run, scheduler, scores=kwargs.get("scores", ()))


def _excess_text(agg: dict[str, Any]) -> str:
    """``, excess X [lo, hi]`` when the accuracy-matched null was computed."""
    if agg.get("excess") is None:
        return ""
    lo, hi = agg.get("excess_ci_low"), agg.get("excess_ci_high")
    interval = "" if lo is None or hi is None else f" [{lo:.4g}, {hi:.4g}]"
    return f", excess over the accuracy-matched null {agg['excess']:+.4g}{interval}"


def _why_skipped(col: str, agg: dict[str, Any], par: dict[str, Any]) -> str:
    """Why centres were skipped, from the per-reason counts of the summary."""
    if not agg.get("n_skipped"):
        return ""
    reasons = []
    if agg.get("n_skipped_min_points"):
        reasons.append(
            f"{agg['n_skipped_min_points']} with fewer than --min-points "
            f"{par['min_points']} samples"
        )
    if agg.get("n_skipped_one_location"):
        reasons.append(f"{agg['n_skipped_one_location']} with every sample at one location")
    if agg.get("n_skipped_coincident"):
        reasons.append(
            f"{agg['n_skipped_coincident']} where most samples share a few locations, so that "
            "their nearest neighbours depend on the row order (--duplicates collapse scores "
            "one sample per location)"
        )
    if agg.get("n_skipped_no_part"):
        part = {"sri_grid": "grid cell", "sri_lag": "distance ring", "sri_sector": "sector"}
        sri = par.get("sri") or {}
        reasons.append(
            f"{agg['n_skipped_no_part']} where no part reached --sri-threshold "
            f"{sri.get('threshold')} samples (no {part.get(col, 'part')} held that many)"
        )
    if agg.get("n_skipped_zero_variance"):
        reasons.append(
            f"{agg['n_skipped_zero_variance']} whose statistic has no variance under the null "
            "(small neighbourhoods with a single differing sample)"
        )
    if agg.get("n_skipped_constant"):
        reasons.append(
            f"{agg['n_skipped_constant']} where every sample has the same coded performance"
        )
    if not reasons:
        return ""
    text = " - skipped: " + "; ".join(reasons)
    at_one_place = (agg.get("n_skipped_one_location") or 0) + (agg.get("n_skipped_coincident") or 0)
    if agg.get("n_scored") == 0 and at_one_place == agg.get("n_skipped"):
        text += " (no scale helps: the samples need more than one location)"
    elif agg.get("n_scored") == 0:
        text += " (a larger scale puts more samples in each neighbourhood and part)"
    return text
