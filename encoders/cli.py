"""The ``encoders`` command line (placeholder until implemented)."""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Location-encoder zoo: list, train, zoo."""
