"""``pygbs report``: one self-contained HTML geo-bias report of several models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pygbs.cli.options import (
    cluster_options,
    force_option,
    run_scoring,
    score_options,
    scoring_kwargs,
)
from pygbs.scores import REGISTRY

__all__ = ["report_cmd"]

_MAP_SCORES = [d.column for d in REGISTRY.values()]


@click.command("report", short_help="HTML report comparing models' geo-bias.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@score_options
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write (atomically).",
)
@force_option
@click.option(
    "--name",
    "names",
    multiple=True,
    help="Model name, once per FILE in order (default: file stems).",
)
@click.option("--title", default=None, help="Report title.")
@click.option(
    "--map-score",
    type=click.Choice(_MAP_SCORES),
    default=None,
    help="Score of the per-model maps (default: marked_ssi when computed).",
)
@click.option("--map-scale", default=None, help="Scale of the per-model maps (default: first).")
@cluster_options
def report_cmd(
    files: tuple[Path, ...],
    out: Path,
    force: bool,
    names: tuple[str, ...],
    title: str | None,
    map_score: str | None,
    map_scale: str | None,
    scheduler: str | None,
    chunk_size: int | None,
    **params: Any,
) -> None:
    """Write one HTML report comparing the geo-bias of several models' FILES.

    The FILES are predictions of the same dataset (same locations, row by row). The report
    holds the comparison table of `pygbs compare`, a bar chart of geo-bias per model and
    scale, accuracy against geo-bias, one score map per model on a shared colour scale,
    the sample density, the inputs and parameters, and a reading guide. Figures are
    embedded; the file opens offline. With --scheduler the models are scored on a Dask
    cluster (identical results).

    \b
    Examples:
      pygbs report croma-*_eurosat.csv.gz satmae-*_eurosat.csv.gz --scale 100km \\
          --out eurosat.html
      pygbs report eval_yfcc__test_*.csv.gz --value hit@1 --scale 100km --scale nn50 \\
          --centres 2000 --out yfcc.html
    """
    from pygbs.plot.report import write_report

    kwargs = {"null": "accuracy", **scoring_kwargs(**params)}
    if kwargs.pop("lon") or kwargs.pop("lat"):
        raise click.UsageError("--lon/--lat are not supported by report; rename the columns")
    kwargs.update(scheduler=scheduler, chunk_size=chunk_size)
    if names and len(names) != len(files):
        raise click.BadParameter(f"{len(names)} names for {len(files)} files", param_hint="--name")

    def run() -> None:
        from pygbs.outputs import check_output_file
        from pygbs.plot.report import REPORT_MARKER

        check_output_file(out, REPORT_MARKER, force=force)  # before the work
        from pygbs.api import compare

        comparison = compare(list(files), names=list(names) or None, **kwargs)
        path = write_report(comparison, out, title=title, map_score=map_score, map_scale=map_scale)
        click.echo(f"report of {len(files)} model(s) -> {path}")

    run_scoring(run, scheduler, scores=kwargs.get("scores", ()))
