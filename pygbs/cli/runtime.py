"""How a command runs: signals (Ctrl-C, SIGTERM), exit codes and one-line errors.

Both command-line programs (``pygbs`` and ``encoders``) run each command through
:func:`run_command`, which gives the exit codes of docs/cli.md ("Output directories and exit
codes"):

- 0 on success;
- 2 for an expected failure of the input or the environment (:class:`~pygbs.errors.InputError`,
  an unreadable or corrupt file, an output path that cannot be written), one line naming
  the path;
- 130 after SIGINT (Ctrl-C) and 143 after SIGTERM, one line;
- 1 for anything unexpected, one line (``--debug`` shows the traceback instead).

While a command runs, SIGINT and SIGTERM only set a flag (:func:`interruptible`), and
:func:`run_command` hands the library :func:`cancelled`, which reads it, as the cancel
callable of :mod:`pygbs.cancel`: long computations stop within a second or two, unwind
normally (temporary outputs are removed on the way) and the command exits with 130 or 143.
The library itself never installs signal handlers.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pygbs.cancel import cancellable, running_kernels
from pygbs.errors import ClusterError, InputError, Interrupted

__all__ = [
    "cancelled",
    "guarded",
    "interruptible",
    "run_command",
]

T = TypeVar("T")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: int | None = None
_depth = 0


def _on_signal(signum: int, frame: Any) -> None:
    global _received
    if _received is None:
        _received = signum


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into a flag for the duration of the block.

    Inside the block, :func:`cancelled` turns True once a signal has arrived. Nested
    blocks share the flag; the previous handlers are restored when the outermost block
    ends. Outside the main thread this does nothing.
    """
    global _received, _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _depth == 0:
        _received = None
        previous = {s: signal.signal(s, _on_signal) for s in _SIGNALS}
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            for s, handler in previous.items():
                signal.signal(s, handler)


def cancelled() -> bool:
    """True once SIGINT or SIGTERM arrived inside :func:`interruptible` (a cancel callable)."""
    return _received is not None


def _debug_requested() -> bool:
    click = sys.modules.get("click")
    ctx = click.get_current_context(silent=True) if click is not None else None
    return bool(ctx is not None and ctx.find_root().params.get("debug"))


def _oserror_text(err: OSError) -> str:
    reason = err.strerror or str(err) or type(err).__name__
    if err.filename is not None:
        where = os.fsdecode(err.filename)
        if err.filename2 is not None:
            where += f" -> {os.fsdecode(err.filename2)}"
        return f"{where}: {reason}"
    return reason


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _expected_message(err: BaseException) -> str | None:
    """The one-line message of an expected failure (exit code 2), or None."""
    if isinstance(err, InputError):
        return _first_line(err)
    if isinstance(err, OSError):  # includes gzip.BadGzipFile, PermissionError, ENOSPC
        return _oserror_text(err)
    if isinstance(err, zlib.error | EOFError):
        return f"corrupt or truncated compressed data ({_first_line(err)})"
    if isinstance(err, json.JSONDecodeError):
        return f"invalid JSON: {_first_line(err)}"
    return None


def _leave(code: int) -> None:
    if running_kernels():
        # a kernel thread still runs: do not wait for it at interpreter shutdown
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def run_command(fn: Callable[[], T], *, debug: bool | None = None) -> T:
    """Run one command's work with the exit codes of docs/cli.md.

    Parameters
    ----------
    fn : callable
        The command's work, without arguments.
    debug : bool, optional
        Re-raise errors (full traceback) instead of printing one line. Default: the
        ``--debug`` option of the running click command group.

    Returns
    -------
    object
        What ``fn`` returns (it exits the process on error).
    """
    import click

    if debug is None:
        debug = _debug_requested()
    try:
        with interruptible(), cancellable(cancelled):
            if cancelled():  # a signal that arrived while the command was starting
                raise Interrupted(_received)
            return fn()
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except Interrupted as err:
        if err.signum is None and _received is not None:
            err = Interrupted(_received)  # the library's cancellation: name our signal
        click.echo(f"error: interrupted by {err.signal_name}", err=True)
        _leave(err.exit_code)
    except ClusterError as err:
        if debug:
            raise
        click.echo(f"error: {_first_line(err)}", err=True)
        _leave(err.exit_code)
    except Exception as err:
        if debug:
            raise
        message = _expected_message(err)
        if message is not None:
            click.echo(f"error: {message}", err=True)
            _leave(2)
        click.echo(
            f"error: {type(err).__name__}: {_first_line(err)} (run with --debug for the traceback)",
            err=True,
        )
        _leave(1)
    raise AssertionError("unreachable")  # pragma: no cover


def guarded(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate a click command callback so that it runs through :func:`run_command`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return run_command(lambda: fn(*args, **kwargs))

    return wrapper
