"""Entry point of the ``pygbs`` command, and the guard it shares with ``encoders``.

The installed ``pygbs`` command starts here rather than in its click group, so that a
Ctrl-C (or SIGTERM) that arrives while the command line's modules are still being
imported (click, and for ``encoders`` PyTorch, which takes a second or more) ends the
process at once with one line and the exit code of docs/cli.md, instead of a traceback.
Nothing has been written at that point. Once a command's work starts, its own handling
takes over (the work stops between batches, temporaries are removed) and this one is back
in place when it ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

from pygbs.errors import Interrupted

__all__ = ["exit_on_signal", "main"]

#: The signals that stop a command.
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _exit_now(signum: int, frame: Any) -> None:
    err = Interrupted(signum)
    os.write(2, f"error: interrupted by {err.signal_name}\n".encode())
    os._exit(err.exit_code)


@contextlib.contextmanager
def exit_on_signal() -> Iterator[None]:
    """Inside the block, SIGINT / SIGTERM end the process at once with one line.

    For the stretches of a command where nothing has been written and nothing can be cut
    short cleanly (importing modules, reading options): the process writes ``error:
    interrupted by SIGINT`` (or ``SIGTERM``) to stderr and exits with 130 (or 143) without
    running any clean-up. The previous handlers are restored when the block ends. Outside
    the main thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _exit_now) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def main() -> Any:
    """Run the ``pygbs`` command line (the installed ``pygbs`` command)."""
    with exit_on_signal():
        from pygbs.cli import main as cli

        return cli()
