"""The cancel callable of the library (:mod:`pygbs.cancel`).

Each public entry point takes ``cancel=``; a callable that says stop makes it raise
:class:`~pygbs.errors.Interrupted`, one that never does changes nothing. The helper thread
of :func:`~pygbs.cancel.call_kernel` is checked with a kernel that waits on an event, so
the test knows the kernel is still running when the call returns.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

import pygbs
from pygbs.cancel import call_kernel, cancellable, check_cancelled, running_kernels
from pygbs.errors import Interrupted
from pygbs.inference.bootstrap import block_bootstrap


def _table(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"lon": rng.uniform(0, 5, n), "lat": rng.uniform(40, 45, n),
                         "hit@1": rng.integers(0, 2, n)})  # fmt: skip


class Countdown:
    """A cancel callable that turns True on its ``n``-th call."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls >= self.n


def test_without_a_callable_nothing_is_checked():
    check_cancelled()
    with cancellable(None):
        check_cancelled()
    assert call_kernel(lambda a, b: a + b, 2, 3) == 5


def test_check_raises_once_the_callable_says_stop():
    stop = Countdown(3)
    with cancellable(stop):
        check_cancelled()
        check_cancelled()
        with pytest.raises(Interrupted) as info:
            check_cancelled()
    assert stop.calls == 3
    assert info.value.signum is None and info.value.exit_code == 130
    check_cancelled()  # the block ended: no callable any more


def test_an_inner_block_without_a_callable_keeps_the_outer_one():
    with cancellable(lambda: True), cancellable(None), pytest.raises(Interrupted):
        check_cancelled()


def test_call_kernel_stops_waiting_for_a_kernel_that_still_runs():
    release, started = threading.Event(), threading.Event()

    def kernel(x: int) -> int:
        started.set()
        release.wait(60)
        return x

    before = running_kernels()
    stop = Countdown(3)  # one look before the start, then one per poll
    with cancellable(stop), pytest.raises(Interrupted):
        call_kernel(kernel, 7)
    assert started.is_set() and not release.is_set()
    assert running_kernels() == before + 1  # abandoned, still waiting
    release.set()
    for t in threading.enumerate():
        if t.name == "pygbs-kernel":
            t.join(60)
    assert running_kernels() == 0


def test_call_kernel_gives_the_result_and_the_error_of_the_kernel():
    with cancellable(lambda: False):
        assert call_kernel(lambda a: a * 2, 21) == 42
        with pytest.raises(ZeroDivisionError):
            call_kernel(lambda a: a / 0, 1)


def test_block_bootstrap_checks_between_chunks():
    values = np.random.default_rng(0).normal(size=2_000)
    blocks = np.arange(2_000) % 200
    stop = Countdown(2)
    with cancellable(stop), pytest.raises(Interrupted):
        block_bootstrap(values, blocks, n_boot=200_000)
    assert stop.calls == 2


@pytest.mark.parametrize("entry", ["score", "compare", "profile", "regions"])
def test_public_entry_points_take_cancel(entry):
    df = _table()
    calls = {
        "score": lambda c: pygbs.score(df, scales=["nn8"], cancel=c),
        "compare": lambda c: pygbs.compare([df, df.assign(**{"hit@1": 1 - df["hit@1"]})],
                                           names=["a", "b"], scales=["nn8"], cancel=c),
        "profile": lambda c: pygbs.profile(df, scales=["nn8", "nn16"], cancel=c),
        "regions": lambda c: pygbs.regions(df, by="healpix:1", n_boot=50, cancel=c),
    }  # fmt: skip
    stop = Countdown(1)
    with pytest.raises(Interrupted):
        calls[entry](stop)
    assert stop.calls == 1
    calls[entry](lambda: False)  # a callable that never says stop changes nothing


class Counter:
    """A cancel callable that never says stop and counts how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return False


def test_the_region_bootstrap_asks_between_chunks_of_replicates():
    # 2,000 blocks of one sample: 2,000 replicates per chunk of the region bootstrap
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"lon": rng.uniform(-170, 170, 2_000), "lat": rng.uniform(-60, 60, 2_000),
                       "hit@1": rng.integers(0, 2, 2_000)})  # fmt: skip
    asked = {}
    for n_boot in (10, 20_000):
        count = Counter()
        pygbs.regions(df, by="healpix:1", n_boot=n_boot, block_km=50, cancel=count)
        asked[n_boot] = count.calls
    assert asked[20_000] >= asked[10] + 9  # at least ten chunks instead of one
    stop = Countdown(asked[10] + 1)
    with pytest.raises(Interrupted):
        pygbs.regions(df, by="healpix:1", n_boot=20_000, block_km=50, cancel=stop)
