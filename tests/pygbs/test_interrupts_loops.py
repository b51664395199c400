"""Long loops outside the scoring kernels stop on Ctrl-C / SIGTERM (docs/cli.md).

Each test runs the loop in a child Python process through :func:`pygbs.cli.runtime.run_command`
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

from tests.process_group import session_processes

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

REPO = Path(__file__).resolve().parents[2]

BOOTSTRAP = """
import numpy as np
from pygbs.cli.runtime import run_command
from pygbs.inference.bootstrap import block_bootstrap

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
from pygbs.stats.hotspots import local_hotspots
from pygbs.cli.runtime import run_command

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


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="lists processes through /proc")
def test_local_cluster_ctrl_c_to_the_process_group_exits_130(tmp_path):
    # a terminal's Ctrl-C reaches every process of the group, the workers included
    pytest.importorskip("distributed")
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(2)
    pd.DataFrame(
        {
            "lon": rng.uniform(0, 5, 60),
            "lat": rng.uniform(40, 45, 60),
            "hit@1": rng.integers(0, 2, 60),
        }
    ).to_csv(tmp_path / "p.csv", index=False)
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    args = ["score", "p.csv", "--scale", "nn8", "--score", "marked", "--method", "permutation",
            "--permutations", "10000000", "--scheduler", "local:2", "--out", "out"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", "from pygbs.cli import main; main()", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so the test can signal all of it
    )
    try:
        end = time.monotonic() + 180
        while not any(p.name.startswith(".out.") for p in tmp_path.iterdir()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < end, "the command did not start scoring in time"
            time.sleep(0.1)
        # both workers started (the group has three processes), then a few seconds more
        while len(session_processes(proc.pid)) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < end, "the workers did not start in time"
            time.sleep(0.1)
        time.sleep(5.0)
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["error: interrupted by SIGINT"]
    assert took < 15.0
    assert sorted(os.listdir(tmp_path)) == ["p.csv"]
