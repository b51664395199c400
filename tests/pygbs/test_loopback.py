"""Servers started by the commands listen on the loopback interface only.

``--scheduler local:N`` starts a Dask scheduler, its dashboard, worker processes and their
nannies; ``encoders train --devices 2`` a rendezvous store and the processes' own
sockets. Each listens on a TCP port; they must be reachable from this machine only
(docs/scale.md, docs/training.md), so every listening socket of the command's process
group is checked while it runs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.process_group import ctrl_c_group, listening_addresses, session_processes, start

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").is_file(), reason="reads /proc/net")

LOOPBACK = {"127.0.0.1", "::1"}


def test_hex_addresses_are_decoded():
    from tests.process_group import _hex_address

    assert _hex_address("0100007F:1F90") == "127.0.0.1"
    assert _hex_address("00000000:0050") == "0.0.0.0"
    assert _hex_address("00000000000000000000000001000000:0050") == "::1"


def test_a_local_cluster_listens_on_loopback_only(tmp_path):
    pytest.importorskip("distributed")
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 400
    frame = {"lon": rng.uniform(0, 5, n), "lat": rng.uniform(40, 45, n),
             "hit@1": rng.integers(0, 2, n)}  # fmt: skip
    pd.DataFrame(frame).to_csv(tmp_path / "p.csv", index=False)
    pygbs_cmd = Path(sys.executable).with_name("pygbs")
    args = [str(pygbs_cmd), "score", "p.csv", "--scale", "nn8", "--score", "marked",
            "--method", "permutation", "--permutations", "10000000", "--scheduler", "local:2",
            "--out", "out"]  # fmt: skip
    proc = start(args, cwd=tmp_path)
    try:
        # the scheduler, its dashboard, two workers and two nannies: six listening sockets
        end = time.monotonic() + 180
        seen: set[str] = set()
        count = 0
        while time.monotonic() < end and proc.poll() is None:
            pids = session_processes(proc.pid)
            seen |= listening_addresses(pids)
            count = max(count, len(pids))
            if count >= 3 and any(p.name.startswith(".out.") for p in tmp_path.iterdir()):
                time.sleep(2.0)
                seen |= listening_addresses(session_processes(proc.pid))
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        assert count >= 3, "the workers did not start"
    finally:
        ctrl_c_group(proc)
    assert seen, "found no listening socket"
    assert seen <= LOOPBACK, f"listening on {sorted(seen - LOOPBACK)}"


def test_training_on_two_processes_listens_on_loopback_only(tmp_path):
    pytest.importorskip("torch")
    encoders_cmd = Path(sys.executable).with_name("encoders")
    args = [str(encoders_cmd), "train", "--encoder", "xyz", "--dataset", "synthetic-vmf",
            "--epochs", "200", "--devices", "2", "--strategy", "ddp", "--device", "cpu",
            "--no-progress", "--out", "run"]  # fmt: skip
    proc = start(args, cwd=tmp_path)
    try:
        # the rendezvous store of the first process, and the two processes' own sockets
        end = time.monotonic() + 120
        seen: set[str] = set()
        while time.monotonic() < end and proc.poll() is None:
            seen |= listening_addresses(session_processes(proc.pid))
            if (tmp_path / "run" / "logs").exists() and seen:
                time.sleep(1.0)
                seen |= listening_addresses(session_processes(proc.pid))
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
    finally:
        ctrl_c_group(proc)
    assert seen, "found no listening socket"
    assert seen <= LOOPBACK, f"listening on {sorted(seen - LOOPBACK)}"
