"""``pygbs compare``: placeholder until implemented."""

from __future__ import annotations

import click


@click.command("compare")
def compare_cmd() -> None:
    """Not implemented yet."""
    raise click.ClickException("pygbs compare is not implemented yet")
