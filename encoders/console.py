"""Entry point of the ``encoders`` command.

The installed command starts here rather than in its click group, so that a Ctrl-C (or
SIGTERM) while the command line's modules are imported ends the process at once with one
line and exit code 130 (143), not a traceback (:func:`pygbs.console.exit_on_signal`).
"""

from __future__ import annotations

from typing import Any

from pygbs.console import exit_on_signal

__all__ = ["main"]


def main() -> Any:
    """Run the ``encoders`` command line (the installed ``encoders`` command)."""
    with exit_on_signal():
        from encoders.cli import main as cli

        return cli()
