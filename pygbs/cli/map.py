"""``pygbs map``: score maps, sample density and performance hotspots as images."""

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
from pygbs.cli.outputs import output_dir

__all__ = ["map_cmd"]

_SCORE_DEFAULTS = {
    "value": None,
    "lon": None,
    "lat": None,
    "scales": (),
    "scores": (),
    "centres": None,
    "threshold": None,
    "lower_is_better": None,
    "transform": "auto",
    "coords_from": None,
}


@click.command("map", short_help="Maps of geo-bias: scores, density, hotspots.")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--from",
    "from_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Map an existing `pygbs score` output directory instead of scoring FILE.",
)
@score_options
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory for the images (and, when scoring, summary.json and centres.csv).",
)
@force_option
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["png", "svg", "pdf"]),
    help="Image format; repeat for several (default: png).",
)
@click.option(
    "--extent",
    nargs=4,
    type=float,
    default=None,
    metavar="LON0 LON1 LAT0 LAT1",
    help="Map extent in degrees; LON0 > LON1 crosses the antimeridian, LON0 = LON1 goes all "
    "the way round (default: the data's extent with padding).",
)
@click.option("--world", is_flag=True, help="Whole-world maps.")
@click.option(
    "--basemap/--no-basemap",
    default=True,
    show_default=True,
    help="Draw coastlines and country borders.",
)
@click.option(
    "--hotspots/--no-hotspots",
    default=True,
    show_default=True,
    help="Also map local Gi* and local Moran hotspots of per-sample performance.",
)
@click.option(
    "--hotspot-graph",
    type=click.Choice(["knn", "distance"]),
    default="knn",
    show_default=True,
    help="Hotspot graph: k nearest neighbours or distance band (great-circle).",
)
@click.option(
    "--hotspot-k",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Neighbours per sample of the knn hotspot graph.",
)
@click.option(
    "--hotspot-km",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Radius (km) of the distance-band hotspot graph.",
)
@click.option(
    "--hotspot-permutations",
    type=click.IntRange(1),
    default=999,
    show_default=True,
    help="Permutations of the hotspot pseudo p-values.",
)
@click.option(
    "--hotspot-alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Significance level of hotspot maps.",
)
@click.option("--fdr", is_flag=True, help="Benjamini-Hochberg FDR control on hotspot p-values.")
@click.option(
    "--dpi",
    type=click.IntRange(30, 1200),
    default=150,
    show_default=True,
    help="Resolution of PNG images.",
)
@cluster_options
def map_cmd(
    file: Path | None,
    from_dir: Path | None,
    out: Path,
    force: bool,
    formats: tuple[str, ...],
    extent: tuple[float, float, float, float] | None,
    world: bool,
    basemap: bool,
    hotspots: bool,
    hotspot_graph: str,
    hotspot_k: int,
    hotspot_km: float | None,
    hotspot_permutations: int,
    hotspot_alpha: float,
    fdr: bool,
    dpi: int,
    scheduler: str | None,
    chunk_size: int | None,
    **params: Any,
) -> None:
    """Maps of FILE's geo-bias (or of a scored directory given with --from).

    Writes, into OUT, one image per score and scale (centres_<score>_<scale>.png: each
    centre coloured by its score), density.png (where the samples are) and
    hotspots_gi.png / hotspots_lisa.png (local Getis-Ord Gi* and local Moran of the coded
    performance, with permutation inference). All maps use the equal-area Equal Earth
    projection over Natural Earth coastlines and borders. With --scheduler, FILE is scored
    on a Dask cluster (identical results); the maps are drawn here.

    \b
    Examples:
      pygbs map croma-linear_eurosat.csv.gz --scale 100km --out maps/
      pygbs map --from result/ --out maps/ --format png --format pdf
      pygbs map preds.csv --extent 160 -170 -30 0 --hotspot-graph distance \\
          --hotspot-km 200 --out fiji/
    """
    from pygbs.plot.maps import write_maps

    if (file is None) == (from_dir is None):
        raise click.UsageError("give either FILE or --from DIR")
    if hotspot_graph == "distance" and hotspot_km is None:
        raise click.BadParameter(
            "--hotspot-graph distance needs --hotspot-km", param_hint="--hotspot-km"
        )
    if world and extent is not None:
        raise click.UsageError("--world and --extent exclude each other")
    if from_dir is not None:
        given = [k for k, v in _SCORE_DEFAULTS.items() if params.get(k) not in (v, None)]
        given += [k for k, v in (("scheduler", scheduler), ("chunk_size", chunk_size)) if v]
        if given:
            raise click.UsageError(
                f"--from maps a scored directory: scoring options ({', '.join(given)}) do not apply"
            )
    kwargs = scoring_kwargs(**params) if file is not None else {}
    if file is not None:
        kwargs.update(scheduler=scheduler, chunk_size=chunk_size)
    options = {
        "graph": hotspot_graph,
        "k": hotspot_k,
        "distance_km": hotspot_km,
        "permutations": hotspot_permutations,
        "alpha": hotspot_alpha,
        "seed": params.get("seed", 0),
        "correction": "fdr" if fdr else None,
    }

    def run() -> None:
        from pygbs.api import attach_samples, score
        from pygbs.results.result import GeoBiasResult

        if extent is not None:  # a bad extent fails now, not after the scoring
            from pygbs.plot.frame import choose_frame

            choose_frame(extent=extent)
        # everything (scores and maps) is assembled first and moved into OUT at the end
        with output_dir(out, "pygbs map", force=force) as stage:
            if from_dir is not None:
                result = attach_samples(GeoBiasResult.read(from_dir))
            else:
                result = score(file, progress=sys.stderr.isatty(), **kwargs)
                result.write(stage)
            paths = write_maps(
                result,
                stage,
                formats=formats or ("png",),
                extent=extent,
                world=world,
                hotspots=hotspots,
                hotspot_options=options,
                basemap=basemap,
                dpi=dpi,
            )
        click.echo(f"{len(paths)} map files -> {out}")
        for path in paths:
            click.echo(f"  {path.name}")

    run_scoring(run, scheduler, scores=kwargs.get("scores", ()))
