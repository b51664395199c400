"""Exceptions raised by :mod:`pygbs` for bad input.

Every user-facing input problem raises :class:`InputError` with a one-line message that
names the file, the column, the row or the value at fault. The CLI turns it into exit
code 2 with that line on stderr.
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad user input (file, column, row, value or option), with a one-line message."""
