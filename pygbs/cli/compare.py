"""``pygbs compare``: the same scores for several models of one dataset (or of several)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pygbs.cli.options import (
    cluster_options,
    out_option,
    run_scoring,
    score_options,
    scoring_kwargs,
)
from pygbs.cli.outputs import output_dir
from pygbs.hints import refuse
from pygbs.io.sources import expand_sources

__all__ = ["compare_cmd"]


@click.command("compare", short_help="Compare several models' prediction files.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@score_options
@out_option
@click.option(
    "--name",
    "names",
    multiple=True,
    help="Model name, once per FILE in order (default: file stems; where stems repeat, "
    "parent/stem).",
)
@click.option(
    "--group-by",
    "group_by",
    type=click.Choice(["dataset"]),
    default=None,
    help="One comparison per dataset of TorchSpatial eval_<dataset>_<split>_<model> files "
    "(every file read and checked first), plus combined tables.",
)
@click.option(
    "--locations",
    type=click.Choice(["same", "own", "auto"]),
    default=None,
    help="same: all files must hold the same locations row by row (checked); own: each "
    "model is scored on its own locations; auto (--group-by only): same where a dataset's "
    "files share their locations, else own.  [default: same; auto with --group-by]",
)
@click.option(
    "--skip-empty",
    is_flag=True,
    help="Leave out, with a warning, files without data (empty, or no row with coordinates). "
    "Default with --group-by unless --strict.",
)
@click.option(
    "--skip-unlocated",
    is_flag=True,
    help="Leave out, with a warning, files whose coordinates are not degrees and do not match "
    "the coordinate source. Default with --group-by unless --strict.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="With --group-by: stop (after checking every file) instead of skipping files or "
    "coding a dataset by its absolute error.",
)
@click.option(
    "--baseline",
    default=None,
    help="Model the others are tested against in OUT/pairs.csv (a name as in compare.csv; "
    "default: the model whose name contains 'no_prior', else the first).",
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
@cluster_options
def compare_cmd(
    files: tuple[Path, ...],
    out: Path,
    force: bool,
    names: tuple[str, ...],
    baseline: str | None,
    pairs: str,
    as_profile: bool,
    group_by: str | None,
    locations: str,
    skip_empty: bool,
    skip_unlocated: bool,
    strict: bool,
    scheduler: str | None,
    chunk_size: int | None,
    **params: Any,
) -> None:
    """Geo-bias of several models' predictions on the same locations.

    FILES are prediction files or folders of them (a folder stands for its .csv, .csv.gz,
    .parquet and .pq files). Writes OUT/compare.csv and OUT/compare.md (one row per model:
    model, accuracy and <score>@<scale> headline means, the layout of the TorchSpatial
    geo-bias tables, then their block-bootstrap intervals), OUT/pairs.csv (paired
    differences against the baseline, with intervals and p-values), OUT/compare.json
    (each model's file and where its coordinates came from, skipped files) and one folder
    per model with its summary.json and centres.csv.

    Files without coordinates, or whose lon/lat columns hold TorchSpatial's wrap encoding
    instead of degrees (checked row by row), take their coordinates from --coords-from
    (a file, or 'auto': a file of the comparison with degree coordinates).

    With --group-by dataset, FILES are TorchSpatial eval_<dataset>_<meta>_<split>_<model>
    files: every file is read and checked first (all problems reported together, before
    any scoring); then one comparison per dataset into OUT/<dataset>/ and combined tables:
    OUT/compare.csv (a column group per dataset), OUT/compare_long.csv (one row per
    dataset, model, score and scale), OUT/compare.md (x [lo, hi] cells), OUT/pairs.csv and
    OUT/summary.json (each decision: skipped files, locations, the value coded).

    With --scheduler every model is scored on a Dask cluster (one connection for all),
    with identical results.

    \b
    Examples:
      pygbs compare eval_yfcc__test_*.csv.gz --coords-from eval_yfcc__test_NeRF.csv.gz \\
          --scale 100km --out yfcc_compare/
      pygbs compare run1/predictions.csv run2/predictions.csv --name small --name large \\
          --out runs_compare/
      pygbs compare predictions/torchspatial/ --group-by dataset --scale 100km \\
          --out torchspatial_compare/
    """
    kwargs = scoring_kwargs(**params)
    value = kwargs.pop("value")
    coords_from = kwargs.pop("coords_from")
    refuse("--lon", "--lat")  # shared options that compare does not support: no hint names them
    if kwargs.pop("lon") or kwargs.pop("lat"):
        raise click.UsageError("--lon/--lat are not supported by compare; rename the columns")
    if group_by is not None and names:
        raise click.UsageError(
            "--name cannot be combined with --group-by (model names come from the file names)"
        )
    if group_by is not None and coords_from is not None:
        raise click.UsageError(
            "--coords-from cannot be combined with --group-by (each dataset takes its "
            "coordinates from one of its own files)"
        )
    if group_by is None and (strict or locations == "auto"):
        raise click.UsageError("--strict and --locations auto apply to --group-by dataset")
    if group_by is None:
        common: dict[str, Any] = {
            "locations": locations or "same",
            "skip_empty": skip_empty,
            "skip_unlocated": skip_unlocated,
        }
    else:  # skipping is the default there; --strict turns it off, the flags keep it
        common = {
            "locations": locations or "auto",
            "strict": strict,
            "skip_empty": True if skip_empty else None,
            "skip_unlocated": True if skip_unlocated else None,
        }
    kwargs.update(scheduler=scheduler, chunk_size=chunk_size)
    if group_by is not None and (baseline is not None or as_profile):
        raise click.UsageError("--baseline and --profile apply to one comparison, not --group-by")

    def run() -> None:
        from pygbs.by_dataset import compare_by_dataset

        if group_by == "dataset":
            # claim --out first (a refused or unwritable --out fails before the work)
            with output_dir(out, "pygbs compare", force=force) as stage:
                grouped = compare_by_dataset(list(files), value=value, **common, **kwargs)
                grouped.write(stage)
            click.echo(grouped.to_markdown(), nl=False)
            return
        paths = expand_sources(list(files))
        if names and len(names) != len(paths):
            raise click.BadParameter(
                f"{len(names)} names for {len(paths)} files; give --name once per file",
                param_hint="--name",
            )
        with output_dir(out, "pygbs compare", force=force) as stage:
            cmp = _compare(paths)
            cmp.write(stage)
        click.echo(cmp.to_markdown(), nl=False)

    def _compare(paths: list[Any]) -> Any:
        from pygbs.comparing import compare

        cmp = compare(
            paths,
            names=list(names) or None,
            value=value,
            coords_from=coords_from,
            baseline=baseline,
            pairs=pairs,
            **common,
            **kwargs,
        )
        if as_profile:
            from pygbs.scale_profile import combine_profiles

            cmp.profile = combine_profiles(cmp.results)
        return cmp

    run_scoring(run, scheduler, scores=kwargs.get("scores", ()))
