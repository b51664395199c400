"""``pygbs regions``: performance per region and its disparity across regions."""

from __future__ import annotations

from pathlib import Path

import click

from pygbs.cli.options import out_option, run_or_exit
from pygbs.cli.outputs import output_dir

__all__ = ["regions_cmd"]


def _nsides(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        out = tuple(int(v) for v in value.split(","))
    except ValueError:
        out = ()
    if not out or any(n < 1 or n > 8192 for n in out):
        raise click.BadParameter(
            f"expected HEALPix resolutions from 1 to 8192 separated by commas; got {value!r}"
        )
    return out


@click.command("regions", short_help="Performance per region and its disparity.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--by",
    default="continent",
    show_default=True,
    metavar="continent|country|subregion|healpix:N|PATH:COLUMN",
    help="The regions: Natural Earth continents, countries or subregions; HEALPix cells of "
    "resolution N (about 6,519/N km wide); or the polygons of a vector file (.gpkg, "
    ".geojson, .shp) named by COLUMN.",
)
@click.option("--value", help="Performance column (default: detected, e.g. hit@1).")
@click.option(
    "--name", "names", multiple=True, help="Model name, once per file in order (default: stems)."
)
@click.option(
    "--bootstrap",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Block-bootstrap replicates of every interval (0: none).",
)
@click.option(
    "--ci",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level.",
)
@click.option(
    "--block-km",
    type=click.FloatRange(min=0, min_open=True),
    default=500.0,
    show_default=True,
    help="Side of the bootstrap blocks in km.",
)
@click.option(
    "--min-n",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Fewest samples for a region to enter the disparity statistics.",
)
@click.option(
    "--nearest-km",
    type=click.FloatRange(min=0),
    default=100.0,
    show_default=True,
    help="Natural Earth regions: samples outside every country go to the nearest one within "
    "this distance, else to 'none'.",
)
@click.option(
    "--robust",
    is_flag=True,
    help="Also the gap over randomly rotated equal-area grids at several cell sizes "
    "(OUT/robust.csv).",
)
@click.option(
    "--nsides",
    callback=_nsides,
    default=None,
    metavar="N,N,...",
    help="HEALPix resolutions of --robust (default 2,4,8,16: cells of about 3,260 to 407 km).",
)
@click.option(
    "--rotations",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Random rotations per cell size of --robust.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed.")
@out_option
def regions_cmd(
    files: tuple[Path, ...],
    by: str,
    value: str | None,
    names: tuple[str, ...],
    bootstrap: int,
    ci: float,
    block_km: float,
    min_n: int,
    nearest_km: float,
    robust: bool,
    nsides: tuple[int, ...] | None,
    rotations: int,
    seed: int,
    out: Path,
    force: bool,
) -> None:
    """Performance per region of one or several models, and its disparity across regions.

    FILES are prediction files or folders of them (models side by side). Writes
    OUT/regions.csv (model, region, n, accuracy and its block-bootstrap interval, then the
    region against all other samples with p- and FDR q-values), OUT/disparity.csv (model,
    statistic, value, ci_low, ci_high, p_value, region: overall, gap, ratio, theil,
    worst_region, best_region), OUT/regions.json (settings and counts) and, with
    --robust, OUT/robust.csv (model, cell_km, rotation, gap, n_regions, null_gap, p_gap).

    \b
    Examples:
      pygbs regions eval_yfcc__test_NeRF.csv.gz --by country --out yfcc_regions/
      pygbs regions out/demo/predictions/ --by healpix:4 --robust --out demo_regions/
      pygbs regions preds.csv --by zones.gpkg:name --out zones/
    """

    def run() -> None:
        from pygbs.regional import DEFAULT_ROBUST_NSIDES, regions

        with output_dir(out, "pygbs regions", force=force) as stage:
            res = regions(
                list(files),
                by=by,
                value=value,
                names=list(names) or None,
                n_boot=bootstrap,
                ci=ci,
                block_km=block_km,
                min_n=min_n,
                nearest_km=nearest_km,
                robust=robust,
                robust_nsides=nsides or DEFAULT_ROBUST_NSIDES,
                rotations=rotations,
                seed=seed,
            )
            res.write(stage)
        click.echo(res.summary_text(), nl=False)
        click.echo(f"-> {out}")

    run_or_exit(run)
