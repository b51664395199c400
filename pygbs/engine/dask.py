"""Scoring on a Dask cluster: ``pygbs.score(..., scheduler=...)`` and ``pygbs score --scheduler``.

The centres of each scale are split into contiguous chunks, one Dask task per chunk. The
samples (coordinates, raw values, codes) are scattered to every worker once; each worker
builds the k-d tree once and keeps it for the run; the per-centre columns come back in
the order of the centres. A chunk's columns are a pure function of the samples, the
options and the chunk's rows (:mod:`pygbs.engine.base`), so the table is identical, bit for
bit, to the single-process run, and a task that Dask reruns after losing a worker gives
the same numbers again. See docs/scale.md.

Dask is an optional dependency (``pip install 'geobias[dask]'``), imported only here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import threading
import uuid
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from pygbs.cancel import check_cancelled
from pygbs.engine.base import BlockOptions, Samples, batch_size, score_batches
from pygbs.engine.dask_probe import check_dask_scheduler
from pygbs.errors import ClusterError, InputError
from pygbs.geo.neighbours import SphereIndex
from pygbs.geo.scales import Scale

__all__ = [
    "ClusterError",
    "DaskEngine",
    "Session",
    "connect",
    "disconnect",
    "distributed_module",
    "log_level",
    "parse_scheduler",
    "result_or_interrupt",
    "score_chunk",
]

INSTALL_HINT = "pip install 'geobias[dask]'"
#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT_S = 10
#: Tasks per worker and scale that the default chunk size aims at (load balance, and
#: little work to redo when a worker is lost) ...
TASKS_PER_WORKER = 8
#: ... with at least this many centres per task (per-task overhead).
MIN_CHUNK = 1024


def distributed_module() -> Any:
    """The ``distributed`` package; without dask installed, an error that says how to add it."""
    try:
        import distributed
    except ImportError as err:
        raise InputError(
            f"scoring on a Dask cluster needs the optional dependency dask: {INSTALL_HINT}"
        ) from err
    return distributed


def log_level(level: int) -> None:
    """Set the level of Dask's own loggers (which log at INFO by default) to ``level``."""
    distributed_module()
    for name in ("distributed", "dask"):
        logging.getLogger(name).setLevel(level)


def _silence() -> None:
    """Quiet Dask's loggers in this process: after an interrupt, its reports are expected."""
    for name in ("distributed", "dask"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


async def _end_worker_now(dask_worker: Any) -> None:
    """Run on each local nanny after an interrupt: end its worker now, without a restart.

    A worker in the middle of a long task answers slowly and would report the task's
    cancellation; its result is not wanted any more. The nanny (responsive, as it runs no
    task) is silenced and ends the worker process.
    """
    _silence()
    dask_worker.close_gracefully(reason="interrupted")
    pid = getattr(dask_worker.process, "pid", None)
    if pid is not None:  # at once: a worker asked to stop reports its cancelled task first
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    await dask_worker.kill(timeout=0.5, reason="interrupted")


def disconnect(client: Any, cluster: Any, own_client: bool, interrupted: bool = False) -> None:
    """Close ``client`` (when this process opened it) and the local ``cluster``, if any.

    After an interrupt the tasks that were running are cancelled while the workers shut
    down, which Dask reports as warnings from every worker; a command that was stopped
    says so in one line, so those reports are silenced first, in this process and in the
    local workers (whose output goes to the same terminal), and the local workers are
    ended at once rather than after their running task. A remote cluster's workers are
    left as they are (closing the client releases its tasks there).

    Parameters
    ----------
    client : distributed.Client or None
        The client.
    cluster : distributed.LocalCluster or None
        The local cluster this process started, if any.
    own_client : bool
        Whether this process opened ``client`` (a client passed in by the caller stays open).
    interrupted : bool, optional
        Whether the work was stopped by Ctrl-C / SIGTERM.
    """
    if interrupted:
        levels = {n: logging.getLogger(n).level for n in ("distributed", "dask")}
        _silence()
        if cluster is not None and client is not None:
            try:
                client.run(_end_worker_now, nanny=True, wait=True)
            except Exception:  # workers already gone: nothing left to silence or end
                pass
    try:
        if own_client and client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    finally:
        if interrupted:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)


def parse_scheduler(scheduler: str) -> tuple[str, int | str]:
    """``('local', N)`` for ``'local:N'``, else ``('address', scheduler)``.

    Raises
    ------
    InputError
        For ``local:`` without a positive worker count, or an empty address.
    """
    text = str(scheduler).strip()
    if text.lower().startswith("local:"):
        tail = text.split(":", 1)[1]
        if not tail.isdigit() or int(tail) < 1:
            raise InputError(
                f"scheduler {scheduler!r}: expected 'local:N' with N >= 1 worker processes, "
                "or an address such as tcp://HOST:8786"
            )
        return "local", int(tail)
    if not text or text.lower() == "local":
        raise InputError(
            f"scheduler {scheduler!r}: expected an address such as tcp://HOST:8786, or "
            "'local:N' for N local worker processes"
        )
    return "address", text


def result_or_interrupt(future: Any, poll_s: float = 0.05) -> Any:
    """``future.result()``, waiting so that Ctrl-C / SIGTERM stop the wait at once.

    Under :func:`pygbs.cancel.cancellable` a signal raises
    :class:`~pygbs.errors.Interrupted` within ``poll_s`` seconds; an error of the task
    after a signal also gives :class:`~pygbs.errors.Interrupted` (the workers may have
    received the same Ctrl-C).
    """
    import time

    while not future.done():
        check_cancelled()
        time.sleep(poll_s)
    try:
        return future.result()
    except BaseException:
        check_cancelled()
        raise


def connect(scheduler: Any) -> tuple[Any, Any, int | None]:
    """A Dask ``Client`` for ``scheduler``: ``(client, local_cluster_or_None, numba_threads)``.

    ``numba_threads`` is the numba thread count per task on a local cluster (the machine's
    cores shared among its workers), None on another cluster (numba's default there).
    """
    distributed = distributed_module()
    if isinstance(scheduler, distributed.Client):
        return scheduler, None, None
    kind, arg = parse_scheduler(scheduler)
    if kind == "local":
        n = int(arg)
        try:
            cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",  # scheduler and workers reachable from this machine only
                dashboard_address="127.0.0.1:0",  # any free port (8787 may be taken), loopback
                preload=["pygbs.engine.dask_worker_setup"],  # workers ignore a terminal's Ctrl-C
            )
        except Exception:
            check_cancelled()  # a Ctrl-C while the workers started: exit 130, not an error
            raise
        try:
            check_cancelled()
        except BaseException:
            cluster.close()
            raise
        client = distributed.Client(cluster)
        return client, cluster, max(1, (os.cpu_count() or 1) // n)

    try:  # bounded and interruptible, unlike the client's start-up with a wrong peer
        check_dask_scheduler(str(arg), CONNECT_TIMEOUT_S)
    except OSError as err:
        raise ClusterError(f"cannot reach the Dask scheduler at {arg}: {err}") from err
    try:
        client = distributed.Client(str(arg), timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(f"cannot reach the Dask scheduler at {arg}: {err}") from err
    return client, None, None


class Session:
    """One connection to a cluster, shared by several scorings (context manager).

    ``pygbs.compare`` (and the ``compare``, ``map`` and ``report`` commands) score several
    files: with a session they connect once, and a ``'local:N'`` cluster is started once,
    not once per file. Pass the entered session as ``scheduler=`` to :func:`pygbs.score`.

    Parameters
    ----------
    scheduler : str or distributed.Client
        ``'tcp://HOST:PORT'``, ``'local:N'`` or a connected client (left open on exit).
    """

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        self.client: Any = None
        self.numba_threads: int | None = None
        self._cluster: Any = None
        self._own_client = False

    def __enter__(self) -> Session:
        distributed = distributed_module()
        self.client, self._cluster, self.numba_threads = connect(self.scheduler)
        self._own_client = not isinstance(self.scheduler, distributed.Client)
        return self

    def __exit__(self, *exc: object) -> None:
        interrupted = isinstance(exc[1] if len(exc) > 1 else None, KeyboardInterrupt)
        disconnect(self.client, self._cluster, self._own_client, interrupted)
        self.client = self._cluster = None


def is_connection(scheduler: Any) -> bool:
    """Whether ``scheduler`` is already connected (a :class:`Session` or a ``Client``)."""
    if isinstance(scheduler, Session):
        return True
    try:
        import distributed
    except ImportError:
        return False
    return isinstance(scheduler, distributed.Client)


# One k-d tree per worker and sample set, dropped with the worker.
_INDEXES: weakref.WeakKeyDictionary[Any, dict[str, SphereIndex]] = weakref.WeakKeyDictionary()
_INDEX_LOCK = threading.Lock()


def _worker_index(samples: Samples) -> SphereIndex:
    """The worker's k-d tree over ``samples``, built on its first task."""
    from distributed import get_worker

    try:
        owner: Any = get_worker()
    except ValueError:  # run outside a worker (e.g. dask's synchronous mode)
        owner = _worker_index
    with _INDEX_LOCK:
        cache = _INDEXES.setdefault(owner, {})
        index = cache.get(samples.token)
        if index is None:
            cache.clear()  # one sample set per worker at a time
            index = cache[samples.token] = samples.index()
    return index


def score_chunk(
    samples: Samples,
    rows: np.ndarray,
    scales: list[Scale],
    opts: BlockOptions,
    numba_threads: int | None = None,
) -> list[dict[str, np.ndarray]]:
    """The task: per-centre columns of ``rows`` at each scale, in bounded batches."""
    if numba_threads is not None:
        import numba

        numba.set_num_threads(min(int(numba_threads), numba.config.NUMBA_NUM_THREADS))
    index = _worker_index(samples)
    out: list[dict[str, np.ndarray]] = [{} for _ in scales]
    for pos, blocks in score_batches(index, samples, rows, scales, opts):
        for j, cols in enumerate(blocks):
            for name, values in cols.items():
                if name.startswith("_draws:"):  # per-draw sums over centres: added up
                    out[j][name] = out[j][name] + values if name in out[j] else values
                    continue
                if name not in out[j]:
                    out[j][name] = np.empty(len(rows), dtype=values.dtype)
                out[j][name][pos] = values
    return out


class DaskEngine:
    """Scores chunks of centres as tasks on a Dask cluster (context manager).

    Parameters
    ----------
    samples : Samples
        All samples (scattered to every worker on entry).
    scheduler : str, distributed.Client or Session
        ``'tcp://HOST:PORT'``, ``'local:N'``, a connected client or an entered
        :class:`Session` (both left open on exit).
    chunk_size : int, optional
        Centres per task (default: :data:`TASKS_PER_WORKER` tasks per worker and scale,
        at least :data:`MIN_CHUNK` centres, at most one batch of :func:`batch_size`).
    """

    def __init__(self, samples: Samples, scheduler: Any, chunk_size: int | None = None) -> None:
        if chunk_size is not None and (int(chunk_size) != chunk_size or chunk_size < 1):
            raise InputError(f"chunk_size must be a positive integer; got {chunk_size!r}")
        self.samples = samples
        self.scheduler = scheduler
        self.chunk_size = chunk_size
        self.client: Any = None
        self._cluster: Any = None
        self._own_client = False
        self._data: Any = None
        self._threads: int | None = None
        self._run = uuid.uuid4().hex[:12]

    def __enter__(self) -> DaskEngine:
        distributed = distributed_module()
        if isinstance(self.scheduler, Session):
            if self.scheduler.client is None:
                raise ClusterError("the Dask session is not open (use it in a with block)")
            self.client, self._threads = self.scheduler.client, self.scheduler.numba_threads
        else:
            self.client, self._cluster, self._threads = connect(self.scheduler)
            self._own_client = not isinstance(self.scheduler, distributed.Client)
        try:
            workers = self.client.scheduler_info().get("workers", {})
            if not workers:
                self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
            self._data = self.client.scatter(self.samples, broadcast=True, hash=False)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._data is not None and self.client is not None:
            try:
                self.client.cancel([self._data])
            except Exception:  # the cluster may already be gone
                pass
            self._data = None
        interrupted = isinstance(exc[1] if len(exc) > 1 else None, KeyboardInterrupt)
        disconnect(self.client, self._cluster, self._own_client, interrupted)
        self.client = self._cluster = None

    def _local_workers(self) -> bool:
        """Whether the workers are local processes started for this run (or its session)."""
        if isinstance(self.scheduler, Session):
            return self.scheduler._cluster is not None
        return self._cluster is not None

    def n_workers(self) -> int:
        """Workers connected to the scheduler now."""
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def _chunk(self, n_rows: int, scales: list[Scale]) -> int:
        if self.chunk_size is not None:
            return int(self.chunk_size)
        per_worker = math.ceil(n_rows / (TASKS_PER_WORKER * self.n_workers()))
        return int(min(batch_size(scales), max(MIN_CHUNK, per_worker)))

    def blocks(
        self,
        rows: np.ndarray,
        scales: list[Scale],
        opts: BlockOptions,
        progress: str | None = None,
    ) -> Iterator[tuple[int, np.ndarray, dict[str, np.ndarray]]]:
        """``(scale number, positions, columns)`` for consecutive chunks of ``rows``."""
        distributed = distributed_module()
        scales = list(scales)
        names = "+".join(s.name for s in scales)
        step = self._chunk(len(rows), scales)
        starts = list(range(0, len(rows), step))
        futures = [
            self.client.submit(
                score_chunk,
                self._data,
                rows[a : a + step],
                scales,
                opts,
                self._threads,
                key=f"pygbs-score-{self._run}-{a}",
                pure=False,
            )
            for a in starts
        ]
        order: Any = zip(starts, futures)
        if progress is not None:
            from tqdm import tqdm

            order = tqdm(order, total=len(starts), desc=progress, unit="task", leave=False)
        try:
            for i, (a, fut) in enumerate(order):
                check_cancelled()
                try:
                    blocks = result_or_interrupt(fut)
                except distributed.KilledWorker as err:
                    raise ClusterError(
                        f"scales {names}: a task of centres {a}..{a + step - 1} was on "
                        f"workers that died too often ({err}); nothing was written"
                    ) from err
                except (distributed.CancelledError, OSError, TimeoutError) as err:
                    raise ClusterError(
                        f"scales {names}: the Dask cluster stopped answering "
                        f"({type(err).__name__}: {err}); nothing was written"
                    ) from err
                futures[i] = None
                b = min(a + step, len(rows))
                for j, cols in enumerate(blocks):
                    if any(len(v) != b - a for n, v in cols.items() if not n.startswith("_draws:")):
                        raise ClusterError(f"scales {names}: chunk at centre {a} came back short")
                    yield j, np.arange(a, b), cols
        except KeyboardInterrupt:
            if self._local_workers():
                futures = []  # no cancelling: the workers are ended on the way out, quietly
            raise
        finally:
            left = [f for f in futures if f is not None]
            if left:
                self.client.cancel(left)
