"""``pygbs profile``: geo-bias of one prediction file across many scales."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pygbs.cli.options import out_option, run_or_exit, score_options, scoring_kwargs
from pygbs.cli.outputs import output_dir


@click.command("profile", short_help="Geo-bias of one file across scales.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@score_options
@click.option(
    "--scales",
    "scale_range_",
    metavar="FROM:TO:N",
    default=None,
    help="N distance scales evenly spaced on a log axis, e.g. 10km:2000km:12 "
    "(instead of repeating --scale).",
)
@out_option
def profile_cmd(
    file: Path, out: Path, force: bool, scale_range_: str | None, **params: Any
) -> None:
    """The headline score of FILE with its interval at many scales.

    One neighbour search at the largest scale serves every smaller one. Writes
    OUT/profile.csv (scale, radius_km, score, mean, ci_low, ci_high, n_scored,
    median_neighbours), OUT/profile.png (score against radius, log axis, a band for the
    interval) and OUT/summary.json, OUT/centres.csv as `pygbs score` does. The default
    score is marked SSI.

    \b
    Examples:
      pygbs profile eval_yfcc__test_NeRF.csv.gz --scales 10km:2000km:12 --out prof/
      pygbs profile preds.csv --scale 25km --scale 50km --scale 100km --scale 200km \\
          --score marked --score sri-lag --out prof/
    """
    from pygbs.scale_profile import profile, scale_range

    scores = params.get("scores") or ("marked", "moran")
    if scale_range_ and params.get("scales"):
        raise click.UsageError("give either --scales FROM:TO:N or repeated --scale, not both")

    def run() -> None:
        scales = scale_range(scale_range_) if scale_range_ else list(params.get("scales") or ())
        kwargs = {"null": "accuracy", **scoring_kwargs(**{**params, "scores": scores})}
        kwargs.pop("scales")
        # claim --out first (a refused or unwritable --out fails before the work)
        with output_dir(out, "pygbs profile", force=force) as stage:
            prof = profile(file, scales=scales, **kwargs)
            prof.write(stage)
        shown = prof.table.assign(
            interval=[
                f"[{lo:.4g}, {hi:.4g}]" for lo, hi in zip(prof.table.ci_low, prof.table.ci_high)
            ]
        )
        click.echo(
            shown[["score", "scale", "radius_km", "mean", "interval", "n_scored"]].to_string(
                index=False, float_format=lambda v: f"{v:.4g}"
            )
        )
        click.echo(f"-> {out}")

    run_or_exit(run)
