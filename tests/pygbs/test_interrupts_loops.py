"""Long loops outside the scoring kernels stop on Ctrl-C / SIGTERM (docs/cli.md).

Each test runs the loop in a child Python process through :func:`pygbs.runtime.run_command`
(as the commands do), sends the signal once the child says it is about to start, and
checks the exit code (130 / 143), the one line on stderr and that it stopped within a few
seconds although the loop would run for minutes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

REPO = Path(__file__).resolve().parents[2]

BOOTSTRAP = """
import numpy as np
from pygbs.runtime import run_command
from pygbs.uncertainty import block_bootstrap

def work():
    values = np.random.default_rng(0).normal(size=20_000)
    blocks = np.arange(20_000) % 2_000
    block_bootstrap(values, blocks, n_boot=1_000)  # warm up
    print("ready", flush=True)
    # 5 million replicates of 2,000 blocks: minutes of work
    block_bootstrap(values, blocks, n_boot=5_000_000)
    print("finished", flush=True)

run_command(work, debug=False)
"""


def _interrupt(code: str, signum: int, tmp_path: Path) -> tuple[int, str, str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # blocks until the child is about to start
        assert line.strip() == "ready", proc.stderr.read()
        time.sleep(0.5)
        t0 = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
        return proc.returncode, out, err, time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_block_bootstrap_stops_between_chunks_of_replicates(tmp_path, signum, code):
    rc, out, err, took = _interrupt(BOOTSTRAP, signum, tmp_path)
    assert rc == code, err
    assert "finished" not in out
    assert err.strip().splitlines() == [f"error: interrupted by {signal.Signals(signum).name}"]
    assert took < 5.0

HOTSPOTS = """
import numpy as np
from pygbs.plot.hotspots import local_hotspots
from pygbs.runtime import run_command

def work():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(0, 10, 400), rng.uniform(40, 50, 400)
    values = np.where(rng.random(400) < 0.5, 1.0, -1.0)
    local_hotspots(lon, lat, values, permutations=99)  # compiles (or loads) the engine
    print("ready", flush=True)
    # a million permutations per sample: minutes of work in one numba call
    local_hotspots(lon, lat, values, permutations=1_000_000)
    print("finished", flush=True)

run_command(work, debug=False)
"""


def test_hotspot_permutations_stop_on_sigint(tmp_path):
    rc, out, err, took = _interrupt(HOTSPOTS, signal.SIGINT, tmp_path)
    assert rc == 130, err
    assert "finished" not in out
    assert err.strip().splitlines() == ["error: interrupted by SIGINT"]
    assert took < 5.0
