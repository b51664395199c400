"""Ctrl-C right after ``encoders train`` starts, while PyTorch is being imported.

The command reads its options (and imports PyTorch) with SIGINT turned into a flag, so an
interrupt then ends it with one line and exit code 130 rather than a traceback
(docs/cli.md). The signal is sent as soon as the process maps PyTorch's shared library
(seen in ``/proc/PID/maps``), and about a second after the start.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.process_group import interrupt

pytestmark = pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="needs /proc")

ENCODERS = Path(sys.executable).with_name("encoders")
ARGS = ["train", "--encoder", "xyz", "--dataset", "synthetic-vmf", "--epochs", "1",
        "--no-progress"]  # fmt: skip


def _maps_torch(pid: int) -> bool:
    try:
        return "torch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _interrupt_when(out: Path, ready: Callable[[subprocess.Popen], bool]) -> tuple[int, str]:
    proc = subprocess.Popen([str(ENCODERS), *ARGS, "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    end = time.monotonic() + 60
    while not ready(proc):
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            out_text, err = proc.communicate()
            pytest.fail(f"never got ready (exit {proc.returncode}): {out_text}{err}")
        time.sleep(0.002)
    err = interrupt(proc)
    return proc.returncode, err


def test_sigint_during_the_torch_import_is_one_line(tmp_path):
    rc, err = _interrupt_when(tmp_path / "o", lambda p: _maps_torch(p.pid))
    assert rc == 130, err
    assert err.strip().splitlines() == ["error: interrupted by SIGINT"]
    assert not (tmp_path / "o").exists()


def test_sigint_a_second_after_the_start_is_one_line(tmp_path):
    t0 = time.monotonic()
    rc, err = _interrupt_when(tmp_path / "o", lambda p: time.monotonic() - t0 > 1.0)
    assert rc == 130, err
    assert err.strip().splitlines() == ["error: interrupted by SIGINT"]
    assert not (tmp_path / "o").exists()
