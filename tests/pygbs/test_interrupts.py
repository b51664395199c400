"""Ctrl-C and SIGTERM stop a ``pygbs`` command cleanly (docs/cli.md).

Each test starts the installed ``pygbs`` in a child process on a small generated table,
waits until it is working (its staging directory exists), sends the signal and checks:
exit code 130 (SIGINT) or 143 (SIGTERM) within a few seconds, one line on stderr and no
traceback, and no output directory or temporary left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

PYGBS = Path(sys.executable).with_name("pygbs")


def _table(path: Path, n: int = 60) -> Path:
    rng = np.random.default_rng(2)
    pd.DataFrame({"lon": rng.uniform(0, 5, n), "lat": rng.uniform(40, 45, n),
                  "hit@1": rng.integers(0, 2, n)}).to_csv(path, index=False)  # fmt: skip
    return path


def _wait_until(predicate, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the command ended early ({proc.returncode}): {out}{err}")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail("the command did not start working in time")
        time.sleep(0.05)


def interrupt(args: list[str], workdir: Path, signum: int, started) -> tuple[int, str, float]:
    """Run ``pygbs ARGS`` in ``workdir``; once ``started()``, send ``signum``.

    Returns the exit code, stderr and the seconds from the signal to the exit.
    """
    proc = subprocess.Popen([str(PYGBS), *args], cwd=workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_until(started, proc)
    time.sleep(0.5)  # inside the scoring now
    t0 = time.monotonic()
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"no exit 30 s after signal {signum}")
    return proc.returncode, err, time.monotonic() - t0


def _staging(workdir: Path, name: str):
    return lambda: any(p.name.startswith(f".{name}.") for p in workdir.iterdir())


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_score_stops_inside_a_long_permutation_kernel(tmp_path, signum, code):
    # 10 million permutations per centre: one centre is far longer than the wait
    _table(tmp_path / "p.csv")
    args = ["score", "p.csv", "--scale", "nn8", "--score", "marked", "--method", "permutation",
            "--permutations", "10000000", "--centres", "8", "--out", "out"]  # fmt: skip
    rc, err, took = interrupt(args, tmp_path, signum, _staging(tmp_path, "out"))
    assert rc == code, err
    assert err.strip().splitlines() == [f"error: interrupted by {signal.Signals(signum).name}"]
    assert took < 5.0
    assert sorted(os.listdir(tmp_path)) == ["p.csv"]  # no output, no temporaries


def test_map_stops_between_batches_and_writes_nothing(tmp_path):
    _table(tmp_path / "p.csv", n=400)
    args = ["map", "p.csv", "--scale", "nn30", "--score", "unmarked", "--method",
            "permutation", "--permutations", "20000", "--out", "maps"]  # fmt: skip
    rc, err, took = interrupt(args, tmp_path, signal.SIGTERM, _staging(tmp_path, "maps"))
    assert rc == 143, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert took < 5.0
    assert sorted(os.listdir(tmp_path)) == ["p.csv"]


def test_kernels_under_a_command_give_the_same_numbers(tmp_path, monkeypatch):
    # under a command the kernels run in a helper thread, in batches sized by work; the
    # numbers are exactly those of a plain call (each centre has its own seed)
    import pygbs
    import pygbs.api
    import pygbs.stats.ssi
    from pygbs.runtime import interruptible

    df = pd.read_csv(_table(tmp_path / "p.csv", n=120))
    kw = dict(scales=["nn10", "300km"], scores=["unmarked", "marked", "sri-lag"],
              method="permutation", permutations=99, seed=4, sri_threshold=3)  # fmt: skip
    plain = pygbs.score(df, **kw).centres
    monkeypatch.setattr(pygbs.stats.ssi, "CHUNK_POINTS", 20_000)  # a few centres per batch
    monkeypatch.setattr(pygbs.api, "SRI_CHUNK", 1)  # SRI batches of one centre
    with interruptible():
        guarded = pygbs.score(df, **kw).centres
    pd.testing.assert_frame_equal(plain, guarded, check_exact=True)
    assert plain["marked_ssi_p"].notna().sum() > 100
