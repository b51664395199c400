"""``pygbs compare``: the same scores for several models of one dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pygbs.api import compare
from pygbs.cli.options import out_option, run_or_exit, score_options, scoring_kwargs


@click.command("compare", short_help="Compare several models' prediction files.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@score_options
@click.option(
    "--baseline",
    default=None,
    help="Model the others are tested against (a name as in compare.csv, i.e. the file's "
    "stem; default: the file whose name contains 'no_prior', else the first).",
)
@click.option(
    "--pairs",
    type=click.Choice(["baseline", "all"]),
    default="baseline",
    show_default=True,
    help="Paired tests of each model against the baseline, or of every pair.",
)
@click.option(
    "--profile",
    "as_profile",
    is_flag=True,
    help="Also write OUT/profile.csv and OUT/profile.png: every model's score against the "
    "radius (give several --scale).",
)
@out_option
def compare_cmd(
    files: tuple[Path, ...],
    out: Path,
    baseline: str | None,
    pairs: str,
    as_profile: bool,
    **params: Any,
) -> None:
    """Geo-bias of several models' predictions on the same locations.

    Writes OUT/compare.csv and OUT/compare.md (one row per model: model, accuracy and
    <score>@<scale> headline means, the layout of the TorchSpatial geo-bias tables, then
    their block-bootstrap intervals), OUT/pairs.csv (paired differences against the
    baseline, with intervals and p-values) and one folder per model with its summary.json
    and centres.csv.

    \b
    Example:
      pygbs compare eval_yfcc__test_*.csv.gz --coords-from eval_yfcc__test_NeRF.csv.gz \\
          --scale 100km --out yfcc_compare/
    """
    kwargs = scoring_kwargs(**params)
    value = kwargs.pop("value")
    coords_from = kwargs.pop("coords_from")
    if kwargs.pop("lon") or kwargs.pop("lat"):
        raise click.UsageError("--lon/--lat are not supported by compare; rename the columns")

    def run() -> None:
        cmp = compare(
            list(files),
            value=value,
            coords_from=coords_from,
            baseline=baseline,
            pairs=pairs,
            **kwargs,
        )
        if as_profile:
            from pygbs.profile import combine_profiles

            cmp.profile = combine_profiles(cmp.results)
        cmp.write(out)
        click.echo(cmp.to_markdown(), nl=False)

    run_or_exit(run)
