"""Exceptions raised by :mod:`pygbs` for bad input and for interrupts.

Every user-facing input problem raises :class:`InputError` with a one-line message that
names the file, the column, the row or the value at fault. The CLI turns it into exit
code 2 with that line on stderr (see :mod:`pygbs.runtime` and docs/cli.md).
"""

from __future__ import annotations

import signal

__all__ = ["InputError", "Interrupted"]


class InputError(ValueError):
    """Bad user input (file, column, row, value or option), with a one-line message."""


class Interrupted(KeyboardInterrupt):
    """A run stopped between batches after SIGINT or SIGTERM (see :mod:`pygbs.runtime`).

    Parameters
    ----------
    signum : int
        The signal received.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = int(signum)

    @property
    def signal_name(self) -> str:
        """``'SIGINT'``, ``'SIGTERM'``, ..."""
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum
