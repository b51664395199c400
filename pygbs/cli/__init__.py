"""The ``pygbs`` command line: score, compare, profile, regions, map and report.

``example-data`` copies the example prediction files that ship with pygbs.

Each subcommand lives in its own module and is a thin layer: parse options, call the
Python API, write the outputs atomically. Exit codes (docs/cli.md): 2 for bad input or an
unusable path, 130/143 after SIGINT/SIGTERM, 1 for an unexpected error (``--debug`` shows
the traceback), always with one line on stderr.
"""

from __future__ import annotations

import logging

import click

from pygbs.usage_errors import OneLineGroup

__all__ = ["main"]


@click.group(
    cls=OneLineGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="geobias", prog_name="pygbs")  # looked up on use
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def main(verbose: int, debug: bool) -> None:
    """Geo-Bias Scores of a model's per-location predictions.

    \b
    Examples:
      pygbs example-data examples
      pygbs score preds.csv.gz --scale 100km --scale nn50 --out result/
      pygbs compare model_a.csv model_b.csv --out table/
      pygbs profile preds.csv.gz --scales 10km:2000km:12 --out profile/
      pygbs regions preds.csv.gz --by country --robust --out regions/
      pygbs map preds.csv --out maps/
      pygbs report a.csv b.csv --out report.html
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from pygbs.runtime import interruptible

    # from here on Ctrl-C / SIGTERM stop the command cleanly (docs/cli.md)
    click.get_current_context().with_resource(interruptible())


def _register() -> None:
    from pygbs.cli.compare import compare_cmd
    from pygbs.cli.example_data import example_data_cmd
    from pygbs.cli.map import map_cmd
    from pygbs.cli.profile import profile_cmd
    from pygbs.cli.regions import regions_cmd
    from pygbs.cli.report import report_cmd
    from pygbs.cli.score import score_cmd

    for cmd in (
        score_cmd, compare_cmd, profile_cmd, regions_cmd, map_cmd, report_cmd, example_data_cmd
    ):  # fmt: skip
        main.add_command(cmd)


_register()
