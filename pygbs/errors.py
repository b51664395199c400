"""Exceptions raised by :mod:`pygbs` for bad input and for interrupts.

Every user-facing input problem raises :class:`InputError` with a one-line message that
names the file, the column, the row or the value at fault. The CLI turns it into exit
code 2 with that line on stderr (see :mod:`pygbs.runtime` and docs/cli.md). The subclasses
tell apart the problems that ``pygbs compare`` can skip on request (``--skip-empty``,
``--skip-unlocated``) or repair (a table without coordinates takes them from
``--coords-from``).
"""

from __future__ import annotations

import signal

__all__ = [
    "ClusterError",
    "CoordinatesError",
    "EmptyInputError",
    "InputError",
    "InputProblems",
    "Interrupted",
    "NearZeroLabelsError",
    "NoCoordinatesError",
]


class ClusterError(RuntimeError):
    """The Dask cluster failed (unreachable scheduler, workers lost too often, ...).

    Not a bug of the program nor bad input: the command line ends with exit code 3 and
    one line (docs/cli.md).
    """

    #: The command line's exit code for a failed cluster.
    exit_code = 3


class InputError(ValueError):
    """Bad user input (file, column, row, value or option), with a one-line message."""


class EmptyInputError(InputError):
    """A table with nothing to score: no data rows, or no row with both coordinates."""


class NoCoordinatesError(InputError):
    """A table without coordinate columns (it needs ``coords_from``)."""


class CoordinatesError(InputError):
    """Coordinates that are not degrees and cannot be recovered from ``coords_from``."""


class InputProblems(InputError):
    """Several bad input files, found before any scoring.

    Parameters
    ----------
    problems : list of str
        One line per problem.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        head = "1 problem" if n == 1 else f"{n} problems"
        super().__init__(
            f"{head} in the input files, nothing was scored (each is logged; the first: "
            f"{self.problems[0]})"
        )


class NearZeroLabelsError(InputError):
    """A relative error column whose labels are often zero or near zero.

    See :mod:`pygbs.regression`.
    """


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
