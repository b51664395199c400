"""``--scheduler`` at an address where no Dask scheduler listens (pygbs.engine.dask_probe).

Servers run on 127.0.0.1 only: an HTTP server (never sends first), a peer that sends
garbage, a closed port, and a real in-process Dask scheduler.
"""

from __future__ import annotations

import http.server
import socket
import threading

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pygbs.cli import main
from pygbs.engine.dask_probe import check_dask_scheduler
from pygbs.errors import InputError


@pytest.fixture
def http_port():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def garbage_port():
    """A peer that sends 64 bytes of 0xff on every connection (a huge 'message size')."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"\xff" * 64)
                stop.wait(2.0)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join(5)
    srv.close()


def test_http_server_is_not_a_scheduler(http_port):
    with pytest.raises(InputError, match="sent no Dask handshake within 1 s"):
        check_dask_scheduler(f"tcp://127.0.0.1:{http_port}", timeout=1.0)


def test_garbage_peer_is_not_a_scheduler(garbage_port):
    with pytest.raises(InputError, match="is not a Dask scheduler"):
        check_dask_scheduler(f"127.0.0.1:{garbage_port}", timeout=5.0)


def test_closed_port_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError):
        check_dask_scheduler(f"tcp://127.0.0.1:{port}", timeout=2.0)


@pytest.mark.parametrize("bad", ["tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:notaport"])
def test_address_without_host_and_port(bad):
    with pytest.raises(InputError, match="expected an address such as tcp://HOST:8786"):
        check_dask_scheduler(bad, timeout=1.0)


def test_other_protocols_are_left_to_dask():
    check_dask_scheduler("inproc://127.0.0.1/1/1", timeout=0.1)  # returns at once


def test_a_real_scheduler_passes():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=0,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        check_dask_scheduler(cluster.scheduler_address, timeout=10.0)


def test_cli_scheduler_that_is_not_dask_is_one_line_exit_2(http_port, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    import pygbs.engine.dask

    monkeypatch.setattr(pygbs.engine.dask, "CONNECT_TIMEOUT_S", 1)
    rng = np.random.default_rng(0)
    f = tmp_path / "m.csv"
    pd.DataFrame(
        {
            "lon": rng.uniform(0, 5, 60),
            "lat": rng.uniform(40, 45, 60),
            "hit@1": rng.integers(0, 2, 60),
        }
    ).to_csv(f, index=False)
    out = tmp_path / "res"
    args = ["score", str(f), "--scale", "nn10", "--scheduler", f"tcp://127.0.0.1:{http_port}"]
    res = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: scheduler tcp://127.0.0.1:")
    assert "no Dask handshake" in lines[0]
    assert not out.exists()


def test_cli_scheduler_without_a_port_is_a_usage_error(tmp_path):
    pytest.importorskip("distributed")
    f = tmp_path / "m.csv"
    pd.DataFrame({"lon": [1.0, 2.0], "lat": [3.0, 4.0], "hit@1": [0, 1]}).to_csv(f, index=False)
    res = CliRunner().invoke(
        main, ["score", str(f), "--scheduler", "bogus", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        "error: scheduler 'bogus': expected an address such as tcp://HOST:8786, or 'local:N' "
        "for N local worker processes"
    ]
