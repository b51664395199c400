"""``pygbs example-data``: copy the example prediction files that ship with pygbs."""

from __future__ import annotations

from pathlib import Path

import click

from pygbs.cli.runtime import guarded
from pygbs.datasets import EXAMPLE_DATASET, copy_examples

__all__ = ["example_data_cmd"]


@click.command("example-data", short_help="Copy the example prediction files into DIR.")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--overwrite", is_flag=True, help="Replace files of the same name with other content."
)
@guarded
def example_data_cmd(directory: Path, overwrite: bool) -> None:
    """Copy the example prediction files into the directory DIRECTORY (created if missing).

    Seven TorchSpatial evaluation tables of the Birdsnap dataset (eBird meta data, 2,262
    test images): six location encoders and the model without a location prior, with
    their licence (MIT) and source. Every example of the documentation runs on them.

    \b
    Examples:
      pygbs example-data examples
      pygbs score examples/eval_birdsnap_ebird_meta_test_NeRF.csv.gz \\
          --out out/nerf
    """
    paths = copy_examples(directory, overwrite=overwrite)
    click.echo(f"{len(paths)} prediction files of {EXAMPLE_DATASET} in {directory}:")
    for path in paths:
        click.echo(f"  {path}")
