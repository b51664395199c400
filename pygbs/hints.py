"""Hints in error messages that name only options the running command has.

Library functions raise errors whose hints name both the Python argument and the
command-line option (``pass skip_empty=True (--skip-empty)``). Several commands share
those functions but not all of their options: :func:`offers` tells whether the command
that is running (if any) has an option, so that a hint never sends the user to an option
their command lacks. A command that declares an option it refuses (shared option sets)
lists it with :func:`refuse`.
"""

from __future__ import annotations

import sys

__all__ = ["offers", "refuse"]

_REFUSED = "pygbs.refused_options"


def _context():  # noqa: ANN202 - click.Context or None, without importing click
    click = sys.modules.get("click")
    return click.get_current_context(silent=True) if click is not None else None


def offers(option: str) -> bool:
    """Whether ``option`` (``"--skip-empty"``) can be used here.

    Parameters
    ----------
    option : str
        The option as typed on the command line.

    Returns
    -------
    bool
        Outside a command (library use): True. Inside one: whether the running command
        has the option and does not refuse it.
    """
    ctx = _context()
    if ctx is None:
        return True
    names = {name for p in ctx.command.params for name in getattr(p, "opts", ())}
    return option in names and option not in ctx.meta.get(_REFUSED, ())


def refuse(*options: str) -> None:
    """Declare that the running command refuses ``options`` although it parses them."""
    ctx = _context()
    if ctx is not None:
        ctx.meta[_REFUSED] = (*ctx.meta.get(_REFUSED, ()), *options)
