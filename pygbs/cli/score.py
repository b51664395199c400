"""``pygbs score``: placeholder until implemented."""

from __future__ import annotations

import click


@click.command("score")
def score_cmd() -> None:
    """Not implemented yet."""
    raise click.ClickException("pygbs score is not implemented yet")
