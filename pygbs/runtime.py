"""How a command runs: interrupts (Ctrl-C, SIGTERM) and one-line errors.

Both command-line programs (``pygbs`` and ``encoders``) run each command through
:func:`run_command`, which gives the exit codes of docs/cli.md ("Output directories and exit
codes"):

- 0 on success;
- 2 for an expected failure of the input or the environment (:class:`~pygbs.errors.InputError`,
  an unreadable or corrupt file, an output path that cannot be written), one line naming
  the path;
- 130 after SIGINT (Ctrl-C) and 143 after SIGTERM, one line;
- 1 for anything unexpected, one line (``--debug`` shows the traceback instead).

While a command runs, SIGINT and SIGTERM only set a flag (:func:`interruptible`). Long
computations call :func:`check_interrupt` between batches of work, and long numba kernels
run through :func:`call_kernel`, so that the command stops within a second or two, unwinds
normally (temporary outputs are removed on the way) and exits with 130 or 143. Outside
:func:`interruptible` (library use) nothing changes: signals keep Python's default
behaviour and kernels run in the calling thread.
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

from pygbs.errors import ClusterError, InputError, Interrupted

__all__ = [
    "call_kernel",
    "check_interrupt",
    "guarded",
    "interruptible",
    "run_command",
]

T = TypeVar("T")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: int | None = None
_depth = 0
#: Kernel threads abandoned after an interrupt (the process must not wait for them).
_abandoned: list[threading.Thread] = []


def _on_signal(signum: int, frame: Any) -> None:
    global _received
    if _received is None:
        _received = signum


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into a flag for the duration of the block.

    Inside the block, :func:`check_interrupt` raises :class:`~pygbs.errors.Interrupted`
    once a signal has arrived. Nested blocks share the flag; the previous handlers are
    restored when the outermost block ends. Outside the main thread this does nothing.
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


def check_interrupt() -> None:
    """Raise :class:`~pygbs.errors.Interrupted` if SIGINT or SIGTERM arrived.

    Call it between batches of work; outside :func:`interruptible` it never raises.
    """
    if _received is not None:
        raise Interrupted(_received)


def call_kernel(fn: Callable[..., T], *args: Any) -> T:
    """Call ``fn(*args)``; inside :func:`interruptible`, stop waiting for it on a signal.

    ``fn`` should release the GIL (a numba function compiled with ``nogil=True``). Inside
    :func:`interruptible` it runs in a helper thread while the main thread waits and
    handles signals: on SIGINT or SIGTERM the result is abandoned and
    :class:`~pygbs.errors.Interrupted` is raised at once. Outside, ``fn`` runs here. The
    result is the same either way.
    """
    if _depth == 0 or threading.current_thread() is not threading.main_thread():
        return fn(*args)
    check_interrupt()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as err:  # handed to the main thread below
            box["error"] = err

    worker = threading.Thread(target=target, name="pygbs-kernel", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.05)
        if _received is not None and worker.is_alive():
            _abandoned.append(worker)
            raise Interrupted(_received)
    if "error" in box:
        raise box["error"]
    return box["value"]


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
    if any(t.is_alive() for t in _abandoned):
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
        with interruptible():
            check_interrupt()  # a signal that arrived while the command was starting
            return fn()
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except Interrupted as err:
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
