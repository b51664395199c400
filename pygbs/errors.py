"""Exceptions raised by :mod:`pygbs` for bad input.

Every user-facing input problem raises :class:`InputError` with a one-line message that
names the file, the column, the row or the value at fault. The CLI turns it into exit
code 2 with that line on stderr. The subclasses tell apart the problems that
``pygbs compare`` can skip on request (``--skip-empty``, ``--skip-unlocated``) or repair
(a table without coordinates takes them from ``--coords-from``).
"""

from __future__ import annotations

__all__ = ["CoordinatesError", "EmptyInputError", "InputError", "NoCoordinatesError"]


class InputError(ValueError):
    """Bad user input (file, column, row, value or option), with a one-line message."""


class EmptyInputError(InputError):
    """A table with nothing to score: no data rows, or no row with both coordinates."""


class NoCoordinatesError(InputError):
    """A table without coordinate columns (it needs ``coords_from``)."""


class CoordinatesError(InputError):
    """Coordinates that are not degrees and cannot be recovered from ``coords_from``."""
