"""The first run after an install says that it compiles the numba kernels."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pygbs
from pygbs._kernels import cache_state
from pygbs._kernels.cache_state import CORE_KERNELS, uncached_kernels
from pygbs.cli.options import FIRST_RUN_NOTE, first_run_notice
from pygbs.datasets import example_path


def test_an_empty_cache_lacks_every_core_kernel(tmp_path):
    code = (
        "from pygbs._kernels.cache_state import uncached_kernels\n"
        "missing, folder = uncached_kernels()\n"
        "print(len(missing)); print(folder)\n"
    )
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    n, folder = proc.stdout.split()
    assert int(n) == len(CORE_KERNELS)
    assert Path(folder).is_relative_to(tmp_path / "cache")


def test_after_a_run_the_core_kernels_are_cached():
    pygbs.score(example_path("NeRF"), scales=["nn8"], centres=20, bootstrap=0)
    missing, folder = uncached_kernels()
    assert missing == []
    assert folder is not None and folder.is_dir()


def test_the_note_comes_only_while_a_slow_first_run_lasts(monkeypatch, capsys):
    monkeypatch.setattr(
        cache_state, "uncached_kernels", lambda kernels: (["kdtree.build"], Path("/cache/here"))
    )
    with first_run_notice(delay_s=0.05):
        time.sleep(0.5)
    err = capsys.readouterr().err
    assert err == FIRST_RUN_NOTE.format(folder="/cache/here") + "\n"
    with first_run_notice(delay_s=5.0):
        pass  # a bad input stops at once: no note beside its error line
    time.sleep(0.1)
    assert capsys.readouterr().err == ""


def test_no_note_when_the_kernels_are_cached(monkeypatch, capsys):
    monkeypatch.setattr(cache_state, "uncached_kernels", lambda kernels: ([], Path("/c")))
    with first_run_notice(delay_s=0.0):
        time.sleep(0.2)
    assert capsys.readouterr().err == ""


def test_scores_add_their_own_kernels():
    assert cache_state.kernels_for() == CORE_KERNELS
    perf = cache_state.kernels_for(("unmarked", "performance", "sri-lag", "sri-grid"))
    assert perf == CORE_KERNELS + (("performance", "performance_batch"), ("sri", "sri_kernel"))
