"""``pygbs report``: placeholder until implemented."""

from __future__ import annotations

import click


@click.command("report")
def report_cmd() -> None:
    """Not implemented yet."""
    raise click.ClickException("pygbs report is not implemented yet")
