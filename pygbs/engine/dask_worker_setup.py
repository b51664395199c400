"""Preload of the local Dask workers that ``--scheduler local:N`` starts.

A Ctrl-C in a terminal reaches the whole process group. The workers ignore SIGINT so that
only the command reacts to it: it stops cleanly (exit 130, one line) and closes the
workers itself, instead of every worker printing a traceback. Dask imports this module
in each worker process and calls :func:`dask_setup` there.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

__all__ = ["dask_setup"]


def dask_setup(worker: Any = None) -> None:
    """Ignore SIGINT in this worker process (SIGTERM still stops it).

    Parameters
    ----------
    worker : distributed.Worker, optional
        The worker (unused).
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
