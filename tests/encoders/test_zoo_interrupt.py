"""Ctrl-C in a terminal during ``encoders zoo --scheduler local:2`` (docs/cli.md, "Interrupts").

The terminal's SIGINT reaches the command and its two local Dask worker processes. The
workers ignore it; the command stops waiting for their results, closes them and exits with
130 and one line, leaving nothing half-written behind.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.process_group import ctrl_c_group, session_processes, start, wait_until

pytestmark = [
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="lists processes through /proc"),
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups"),
]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


def test_ctrl_c_to_the_zoo_on_local_workers_is_one_line(tmp_path):
    pytest.importorskip("distributed")
    encoders_cmd = Path(sys.executable).with_name("encoders")
    args = [str(encoders_cmd), "zoo", "--dataset", "synthetic-vmf", "--encoders", "xyz,wrap",
            "--data-option", "n_train=20000", "--epochs", "200", "--device", "cpu",
            "--no-report", "--no-progress", "--scheduler", "local:2", "--out", "out"]  # fmt: skip
    proc = start(args, cwd=tmp_path)
    # the command and both workers run, and the workers have had time to start training
    wait_until(proc, lambda: len(session_processes(proc.pid)) >= 3, "the workers' start", 180)
    time.sleep(5.0)
    err, took = ctrl_c_group(proc)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["error: interrupted by SIGINT"]
    assert took < 20.0, f"took {took:.1f} s"
    # no worker left running (helpers of the worker processes may take a moment to end)
    end = time.monotonic() + 10
    while session_processes(proc.pid) and time.monotonic() < end:
        time.sleep(0.1)
    left = {pid: _cmdline(pid) for pid in session_processes(proc.pid)}
    assert left == {}
    # nothing half-written: the output folder is gone, or (a model that finished before
    # the signal, such as the quick no_prior baseline) it holds finished files only and
    # says it is incomplete, for --resume
    out = tmp_path / "out"
    assert [p.name for p in tmp_path.iterdir() if p != out] == []
    if out.exists():
        manifest = json.loads((out / ".geobias-output.json").read_text())
        assert manifest["complete"] is False
        assert [p for p in out.rglob("*") if ".tmp" in p.name] == []
