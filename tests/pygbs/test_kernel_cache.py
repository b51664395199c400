"""The numba disk cache of the kernels is keyed on their sources (pygbs._kernels).

Numba alone checks only the source file of a cached function, so a cached kernel keeps
the old code of a function it calls from another file. Each test copies the package into
a temporary folder, runs it in fresh interpreters with a temporary ``NUMBA_CACHE_DIR`` and
changes a kernel source between the runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pygbs

PACKAGE = Path(pygbs.__file__).resolve().parent

#: A kernel in its own file that calls a kernel of another file (stats.pygbs_pvalue).
PROBE = """
from numba import njit

from pygbs._kernels.stats import pygbs_pvalue


@njit(cache=True)
def probe(s, mu, sigma):
    return pygbs_pvalue(s, mu, sigma)
"""

RUN = """
import pygbs._kernels as k
from pygbs._kernels import probe
print(k.cache_dir())
print(repr(probe.probe(1.0, 2.0, 1.0)))
"""


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    shutil.copytree(PACKAGE, root / "pygbs", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pygbs" / "_kernels" / "probe.py").write_text(PROBE)
    return root


def _run(root: Path, cache: Path) -> tuple[Path, float]:
    env = {**os.environ, "PYTHONPATH": str(root), "NUMBA_CACHE_DIR": str(cache)}
    env.pop("NUMBA_DISABLE_JIT", None)
    res = subprocess.run(
        [sys.executable, "-c", RUN],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    folder, value = res.stdout.split()
    return Path(folder), float(value)


def test_warm_cache_never_runs_changed_kernel_code(package_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder, p_two_sided = _run(package_copy, cache)
    assert folder.parent == cache
    assert folder.name.startswith("pygbs-kernels-")
    # P(|Z| >= 1) for a standard normal
    assert p_two_sided == pytest.approx(0.31731050786291415, rel=1e-12)
    assert list(folder.rglob("probe.probe-*.nbi"))  # cached where the folder says

    again, p_again = _run(package_copy, cache)  # warm cache, unchanged sources
    assert (again, p_again) == (folder, p_two_sided)

    stats = package_copy / "pygbs" / "_kernels" / "stats.py"
    text = stats.read_text()
    mutated = text.replace("return 2.0 * (0.5 * math.erfc", "return 1.0 * (0.5 * math.erfc")
    assert mutated != text
    stats.write_text(mutated)  # probe.py itself is unchanged
    changed, p_one_sided = _run(package_copy, cache)
    assert changed != folder
    assert p_one_sided == pytest.approx(p_two_sided / 2, rel=1e-12)
