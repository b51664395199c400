"""``pygbs compare``: the same scores for several models of one dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pygbs.cli.options import out_option, run_or_exit, score_options, scoring_kwargs


@click.command("compare", short_help="Compare several models' prediction files.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@score_options
@out_option
def compare_cmd(files: tuple[Path, ...], out: Path, **params: Any) -> None:
    """Geo-bias of several models' predictions on the same locations.

    Writes OUT/compare.csv and OUT/compare.md (one row per model: model, accuracy and
    <score>@<scale> headline means, the layout of the TorchSpatial geo-bias tables) and one
    folder per model with its summary.json and centres.csv.

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
        from pygbs.api import compare  # pandas and numba load only when a command runs

        cmp = compare(list(files), value=value, coords_from=coords_from, **kwargs)
        cmp.write(out)
        click.echo(cmp.to_markdown(), nl=False)

    run_or_exit(run)
