"""Cancellation: stop a long computation when the caller asks.

A *cancel* callable takes no arguments and returns True once the work should stop (a
button was pressed, a deadline passed, a signal arrived). The public entry points
(:func:`pygbs.score`, :func:`pygbs.compare`, :func:`pygbs.profile`, :func:`pygbs.regions`)
take one as ``cancel=``; :func:`cancellable` sets one for any block of code. Long loops
call :func:`check_cancelled` between batches of work, and long numba kernels run through
:func:`call_kernel`, so a run stops within a fraction of a second of ``cancel()`` turning
True, raising :class:`~pygbs.errors.Interrupted`; temporary outputs are removed on the way.

The callable travels to the loops in a context variable (like :func:`numpy.errstate`), so
that the engines, statistics and the bootstrap need no extra argument; each thread and
each asyncio task has its own. Without one, nothing is checked and kernels run in the
calling thread. The command lines pass a callable that reads their signal state
(:mod:`pygbs.cli.runtime`); the library itself never touches signals.

Examples
--------
>>> import time
>>> import pygbs
>>> deadline = time.monotonic() + 60
>>> res = pygbs.score("preds.csv", cancel=lambda: time.monotonic() > deadline)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pygbs.errors import Interrupted

__all__ = [
    "Cancel",
    "call_kernel",
    "cancellable",
    "check_cancelled",
    "deadline",
    "honours_cancel",
    "running_kernels",
]

T = TypeVar("T")

#: A cancellation callable: no arguments, True once the work should stop.
Cancel = Callable[[], bool]

#: Seconds between two looks at the cancel callable while a kernel runs.
POLL_S = 0.05

_current: contextvars.ContextVar[Cancel | None] = contextvars.ContextVar(
    "pygbs_cancel", default=None
)
#: Kernel threads left running after a cancellation (a process may not want to wait).
_abandoned: list[threading.Thread] = []


@contextlib.contextmanager
def cancellable(cancel: Cancel | None) -> Iterator[None]:
    """Check ``cancel`` in the long loops and kernels run inside the block.

    Parameters
    ----------
    cancel : callable or None
        Returns True once the work should stop. None keeps the callable of an enclosing
        block (if any).
    """
    if cancel is None:
        yield
        return
    token = _current.set(cancel)
    try:
        yield
    finally:
        _current.reset(token)


def honours_cancel(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate a function with a ``cancel`` keyword: its body runs in :func:`cancellable`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with cancellable(kwargs.get("cancel")):
            return fn(*args, **kwargs)

    return wrapper


def check_cancelled() -> None:
    """Raise :class:`~pygbs.errors.Interrupted` if the current cancel callable says so.

    Call it between batches of work; without a cancel callable it never raises.
    """
    cancel = _current.get()
    if cancel is not None and cancel():
        raise Interrupted()


def call_kernel(fn: Callable[..., T], *args: Any) -> T:
    """Call ``fn(*args)``; with a cancel callable, stop waiting for it once cancelled.

    ``fn`` should release the GIL (a numba function compiled with ``nogil=True``). With a
    cancel callable (:func:`cancellable`) it runs in a helper thread while the calling
    thread looks at the callable every :data:`POLL_S` seconds: once cancelled, the result is
    abandoned and :class:`~pygbs.errors.Interrupted` is raised at once (the helper thread
    finishes on its own; :func:`running_kernels` counts those still running). Without one,
    ``fn`` runs here. The result is the same either way.
    """
    cancel = _current.get()
    if cancel is None:
        return fn(*args)
    if cancel():
        raise Interrupted()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as err:  # handed to the calling thread below
            box["error"] = err

    worker = threading.Thread(target=target, name="pygbs-kernel", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(POLL_S)
        if worker.is_alive() and cancel():
            _abandoned.append(worker)
            raise Interrupted()
    if "error" in box:
        raise box["error"]
    return box["value"]


def running_kernels() -> int:
    """How many kernels abandoned by :func:`call_kernel` still run."""
    _abandoned[:] = [t for t in _abandoned if t.is_alive()]
    return len(_abandoned)


def deadline(seconds: float) -> Cancel:
    """A cancel callable that turns True ``seconds`` from now."""
    end = time.monotonic() + seconds
    return lambda: time.monotonic() >= end
