"""The installed commands' entry points: Ctrl-C while the command line loads is one line.

``pygbs`` and ``encoders`` start in :mod:`pygbs.console` / :mod:`encoders.console`, which
set a handler for SIGINT and SIGTERM before importing the command line (docs/cli.md,
"Interrupts"). Python itself does not catch SIGTERM, so the handler's arrival is visible
in ``/proc/PID/status`` (``SigCgt``): the tests send SIGINT at that moment, before any of
the command line's modules are imported, and at a few delays after it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import pygbs
from tests.process_group import interrupt

BIN = Path(sys.executable).parent
SIGTERM_BIT = 1 << (signal.SIGTERM - 1)


def test_the_installed_commands_start_in_the_console_modules():
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts["pygbs"] == "pygbs.console:main"
    assert scripts["encoders"] == "encoders.console:main"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_exit_on_signal_ends_the_process_with_one_line(sig, code):
    script = (
        "import os, signal, time\n"
        "from pygbs.console import exit_on_signal\n"
        "with exit_on_signal():\n"
        f"    os.kill(os.getpid(), {int(sig)})\n"
        "    time.sleep(30)\n"
        "print('not reached')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"error: interrupted by {sig.name}"]
    assert proc.stdout == ""


def test_exit_on_signal_restores_the_previous_handlers():
    from pygbs.console import exit_on_signal

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with exit_on_signal():
        assert signal.getsignal(signal.SIGINT) is not before[0]
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def _catches_sigterm(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(mask.split()[1], 16) & SIGTERM_BIT)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs /proc")
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15])
@pytest.mark.parametrize("command", ["pygbs", "encoders"])
def test_ctrl_c_while_the_command_line_loads_is_one_line(tmp_path, command, delay):
    out = tmp_path / "out"
    if command == "pygbs":
        args = ["score", str(pygbs.example_files()[0]), "--scale", "nn50", "--out", str(out)]
    else:
        args = ["train", "--encoder", "xyz", "--dataset", "synthetic-vmf", "--epochs", "1",
                "--no-progress", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen([str(BIN / command), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    end = time.monotonic() + 60
    while not _catches_sigterm(proc.pid):
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            pytest.fail(f"the handler never arrived (exit {proc.returncode})")
        time.sleep(0.001)
    time.sleep(delay)
    err = interrupt(proc)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["error: interrupted by SIGINT"]
    assert not out.exists()
