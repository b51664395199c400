"""``pygbs map``: placeholder until implemented."""

from __future__ import annotations

import click


@click.command("map")
def map_cmd() -> None:
    """Not implemented yet."""
    raise click.ClickException("pygbs map is not implemented yet")
