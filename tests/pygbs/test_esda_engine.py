"""The disk-cached permutation engine of the hotspot statistics (pygbs.stats._esda_chunks).

Covers: for local Gi* and local Moran, the engine gives exactly what esda's own
``crand.compute_chunk`` gives on the arguments esda itself passes (p_sim and the kept
simulations); ``local_hotspots`` routes esda through it while it runs and gives esda its
own engine back afterwards; its numba signature holds no function object (what makes the
disk cache usable in a later process).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("esda")

import esda.crand  # noqa: E402

from pygbs.plot import local_hotspots  # noqa: E402
from pygbs.stats import _esda_chunks  # noqa: E402
from pygbs.stats.hotspots import _esda  # noqa: E402


def _recorded_calls(monkeypatch, statistic):
    """The positional arguments esda passes to its engine for one small problem."""
    calls = []
    routed = _esda_chunks.compute_chunk

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return routed(*args, **kwargs)

    monkeypatch.setattr(_esda_chunks, "compute_chunk", record)
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(0, 8, 150), rng.uniform(40, 48, 150)
    y = (rng.random(150) < 0.4 + 0.05 * lon).astype(float)
    local_hotspots(lon, lat, y, statistic=statistic, permutations=49, seed=5)
    assert len(calls) == 1
    return calls[0]


@pytest.mark.parametrize("statistic", ["gi", "lisa"])
def test_engine_equals_esda_engine(monkeypatch, statistic):
    args, kwargs = _recorded_calls(monkeypatch, statistic)
    stat_func = args[10]
    assert stat_func in _esda_chunks._STATISTICS
    alternative = kwargs.get("alternative", args[12] if len(args) > 12 else None)
    base = list(args[:12])
    base[9] = True  # keep the simulated statistics too
    number = _esda_chunks._STATISTICS.index(stat_func)
    ours = _esda_chunks._engine(*base[:10], number, base[11], alternative)
    theirs = _esda_chunks._esda_compute_chunk(*base, alternative=alternative)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert 0 < ours[0].min() and ours[0].max() <= 1


def test_hotspots_route_esda_through_the_cached_engine_and_restore_it():
    _esda()
    if _esda_chunks.esda_source_sha() != _esda_chunks.ESDA_SOURCE_SHA:
        pytest.skip("the installed esda differs from the one the cached engine reproduces")
    before = esda.crand.compute_chunk, esda.crand.vec_permutations
    assert before == (_esda_chunks._esda_compute_chunk, _esda_chunks._esda_vec_permutations)
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(0, 5, 60), rng.uniform(0, 5, 60)
    local_hotspots(lon, lat, (rng.random(60) < 0.5).astype(float), permutations=19, seed=1)
    sigs = _esda_chunks._engine.signatures
    assert sigs, "the cached engine did not run"
    assert all("Dispatcher" not in str(t) for sig in sigs for t in sig)
    # esda used outside local_hotspots keeps its own engine
    assert (esda.crand.compute_chunk, esda.crand.vec_permutations) == before


def test_another_esda_gets_its_own_engine(monkeypatch):
    calls = []

    def esda_engine(*args):
        calls.append(args)
        return "esda's"

    monkeypatch.setattr(_esda_chunks, "_esda_compute_chunk", esda_engine)
    args = (0, None, None, None, None, None, None, None, 1.0, False)
    stat = _esda_chunks._STATISTICS[0]
    monkeypatch.setattr(_esda_chunks, "ESDA_SOURCE_SHA", "0" * 64)  # not the installed esda
    assert _esda_chunks.compute_chunk(*args, stat, 0.0, "directed") == "esda's"
    assert calls and calls[0][10] is stat and calls[0][12] == "directed"
    calls.clear()
    # a statistic without a cached engine goes to esda's too, whatever the version
    monkeypatch.undo()
    monkeypatch.setattr(_esda_chunks, "_esda_compute_chunk", esda_engine)
    assert _esda_chunks.compute_chunk(*args, print, 0.0, "two-sided") == "esda's"
    assert calls[0][10] is print
