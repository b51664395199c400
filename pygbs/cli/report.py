"""``pygbs report``: one self-contained HTML geo-bias report of several models."""

from __future__ import annotations

import sys
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
from pygbs.cli.outputs import check_output_file
from pygbs.errors import InputError
from pygbs.hints import refuse
from pygbs.stats.registry import REGISTRY

__all__ = ["read_highlight", "report_cmd"]

_MAP_SCORES = [d.column for d in REGISTRY.values()]


def read_highlight(spec: str) -> tuple[list[Any], list[str]]:
    """Polygons and names of ``--highlight PATH[:COLUMN]``.

    Parameters
    ----------
    spec : str
        A vector file, optionally followed by ``:COLUMN`` naming each polygon.

    Returns
    -------
    (geometries, names)
        Shapely polygons in degrees and their names (empty names without a column).
    """
    import os

    from pyogrio import read_dataframe

    path, column = spec, None
    if not os.path.isfile(spec) and ":" in spec:
        path, column = spec.rsplit(":", 1)
    if not os.path.isfile(path):
        raise InputError(f"--highlight: no such file: {path}")
    try:
        gdf = read_dataframe(path)
    except Exception as err:
        raise InputError(f"--highlight: cannot read {path}: {str(err).splitlines()[0]}") from None
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    if column is None and "name" in gdf.columns:
        column = "name"
    if column is not None and column not in gdf.columns:
        raise InputError(f"{path}: no column {column!r}")
    labels = [str(v) for v in gdf[column]] if column else []
    return list(gdf.geometry.to_numpy()), labels


@click.command("report", short_help="HTML report comparing models' geo-bias.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
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
@click.option(
    "--regions",
    "regions_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A `pygbs regions` output folder of the same models: adds the per-region table.",
)
@click.option(
    "--highlight",
    default=None,
    metavar="PATH[:COLUMN]",
    help="Polygons (.gpkg, .geojson, .shp) outlined on every map, named by COLUMN "
    "(default: a column called name, if any).",
)
@cluster_options
def report_cmd(
    files: tuple[Path, ...],
    out: Path,
    force: bool,
    names: tuple[str, ...],
    title: str | None,
    map_score: str | None,
    map_scale: str | None,
    regions_dir: Path | None,
    highlight: str | None,
    scheduler: str | None,
    chunk_size: int | None,
    **params: Any,
) -> None:
    """Write one HTML report comparing the geo-bias of several models' FILES.

    FILES are predictions of the same dataset (same locations, row by row), or one
    `pygbs compare` output folder: then nothing is scored again and the scoring options do
    not apply. The report
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
      pygbs report yfcc_compare/ --regions yfcc_regions/ --out yfcc.html
    """
    from pygbs.plot.report import write_report

    kwargs = {"null": "accuracy", **scoring_kwargs(**params)}
    refuse("--lon", "--lat")  # shared options that report does not support: no hint names them
    if kwargs.pop("lon") or kwargs.pop("lat"):
        raise click.UsageError("--lon/--lat are not supported by report; rename the columns")
    kwargs.update(scheduler=scheduler, chunk_size=chunk_size)
    n_models = len(files)
    if len(files) == 1 and (files[0] / "compare.csv").is_file():
        import pandas as pd

        n_models = len(pd.read_csv(files[0] / "compare.csv", usecols=["model"]))
    if names and len(names) != n_models:
        raise click.BadParameter(f"{len(names)} names for {n_models} models", param_hint="--name")

    def run() -> None:
        from pygbs.plot.report import REPORT_MARKER

        check_output_file(out, REPORT_MARKER, force=force)  # before the work
        from pygbs.results.comparison import is_compare_output, read_comparison

        regions = None
        if regions_dir is not None:
            from pygbs.results.regions import RegionResult

            regions = RegionResult.read(regions_dir)
        outlines = read_highlight(highlight) if highlight else None
        if len(files) == 1 and (files[0] / "disparity.csv").is_file():
            raise InputError(
                f"{files[0]} is a pygbs regions output: give it as --regions next to the "
                "models' prediction files or their pygbs compare output"
            )
        if len(files) == 1 and is_compare_output(files[0]):
            comparison = read_comparison(files[0])
            shown = dict(zip(comparison.table["model"].astype(str), names, strict=False))
        else:
            from pygbs.comparing import compare

            comparison = compare(list(files), names=list(names) or None, **kwargs)
            shown = None
        path = write_report(
            comparison, out, title=title, map_score=map_score, map_scale=map_scale,
            names=shown, regions=regions, highlight=outlines, command=sys.argv,
        )  # fmt: skip
        click.echo(f"report of {len(comparison.results)} model(s) -> {path}")

    run_scoring(run, scheduler, scores=kwargs.get("scores", ()))
