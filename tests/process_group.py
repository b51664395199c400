"""A command run in its own process group, as a terminal runs it, for Ctrl-C tests.

A terminal's Ctrl-C reaches every process of the foreground group: the command and the
local Dask workers it started. :func:`start` runs a command in a new session (its own
group), :func:`session_processes` lists the group's processes and :func:`ctrl_c_group`
sends SIGINT to all of them and waits for the command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "ctrl_c_group",
    "interrupt",
    "listening_addresses",
    "session_processes",
    "start",
    "wait_until",
]


def session_processes(sid: int) -> list[int]:
    """The ids of the processes of session ``sid`` (read from ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def start(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Run ``args`` in its own session and process group, with stdout and stderr piped."""
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip


def wait_until(
    proc: subprocess.Popen, ready: Callable[[], bool], what: str, timeout: float
) -> None:
    """Poll ``ready`` until it holds; fail (killing the group) if the command ends or stalls."""
    end = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > end:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise AssertionError(f"{what} did not happen (exit {proc.returncode}): {out}{err}")
        time.sleep(0.1)


def interrupt(proc: subprocess.Popen, timeout: float = 120) -> str:
    """SIGINT to ``proc`` alone; its stderr once it has exited (killed after ``timeout`` s)."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"no exit {timeout:.0f} s after the signal") from None


def ctrl_c_group(proc: subprocess.Popen, timeout: float = 60) -> tuple[str, float]:
    """SIGINT to the whole group of ``proc``; its stderr and the seconds it took to exit."""
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return err, time.monotonic() - t0


def _hex_address(text: str) -> str:
    """``0100007F:1F90`` (``/proc/net/tcp``) -> ``127.0.0.1``; IPv6 likewise."""
    import ipaddress

    host = bytes.fromhex(text.split(":")[0])
    if len(host) == 4:
        return str(ipaddress.IPv4Address(host[::-1]))
    words = b"".join(host[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def listening_addresses(pids: list[int]) -> set[str]:
    """The local addresses on which the processes ``pids`` listen for TCP connections."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                found.add(_hex_address(cols[1]))
    return found
