"""Scoring in bounded batches and on a Dask cluster: identical tables, bounded memory.

Covers: batch sizes and the batching of ``pygbs.score`` (no call sees more centres than
one batch; results unchanged by the batch size); the Dask engine on an in-process
LocalCluster (identical to the single-process run for permutation tests, SRI and several
scales with uneven chunks; one k-d tree per worker; worker errors re-raised as such);
``--scheduler local:2`` with worker processes from the CLI; Parquet written in row
groups; the scheduler option's errors. The ``slow`` tests use a real ``dask scheduler``
and two ``dask worker`` processes, one of which is killed midway.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pygbs
import pygbs.engine.base as engine
from pygbs.cli import main
from pygbs.geo.scales import parse_scale

distributed = pytest.importorskip("distributed")

SCORES = ["unmarked", "marked", "sri-lag", "sri-grid"]


def _table(seed=0, n=400):
    """Two clusters and a spread, hits more likely to the east."""
    rng = np.random.default_rng(seed)
    k = n // 3
    lon = np.concatenate(
        [rng.normal(10, 0.6, k), rng.normal(14, 0.3, k), rng.uniform(0, 30, n - 2 * k)]
    )
    lat = np.concatenate(
        [rng.normal(45, 0.5, k), rng.normal(47, 0.3, k), rng.uniform(35, 55, n - 2 * k)]
    )
    hit = (rng.random(n) < 0.2 + 0.02 * (lon - lon.min())).astype(int)
    return pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit})


KW = dict(
    scales=["150km", "nn15"],
    scores=SCORES,
    method="permutation",
    permutations=49,
    seed=7,
    sri_threshold=3,
)


@pytest.fixture(scope="module")
def client():
    """Two in-process workers of one thread each (quick to start)."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_batch_size_bounds_entries():
    assert engine.batch_size(parse_scale("100km", k_max=100)) == 40_000
    assert engine.batch_size(parse_scale("nn50")) == engine.MAX_BATCH
    assert engine.batch_size(parse_scale("nn100000")) == 256
    assert engine.batch_size(parse_scale("100km", k_max=None)) == engine.UNCAPPED_BATCH


def test_spatial_order_is_a_permutation_grouping_nearby_centres():
    df = _table(12, n=400)
    index = pygbs.SphereIndex(df["lon"].to_numpy(), df["lat"].to_numpy())
    perm = index.tree[0]
    assert np.array_equal(index.leaf_rank[perm], np.arange(400))
    rows = np.arange(3, 400, 2)
    order = engine.spatial_order(index, rows)
    assert sorted(order) == list(range(len(rows)))
    assert np.all(np.diff(index.leaf_rank[rows[order]]) > 0)
    # consecutive centres in that order are much closer than in row order
    lon, lat = df["lon"].to_numpy()[rows], df["lat"].to_numpy()[rows]

    def mean_step(i):
        return np.mean(np.hypot(np.diff(lon[i]), np.diff(lat[i])))

    assert mean_step(order) < 0.5 * mean_step(np.arange(len(rows)))


def test_score_never_queries_more_than_one_batch(monkeypatch):
    df = _table(1, n=300)
    whole = pygbs.score(df, **KW).centres
    seen = []
    from pygbs.geo.neighbours import SphereIndex

    # every neighbour query (one search for both scales, then SRI's uncapped one per scale)
    for method in ("knn", "within"):
        original = getattr(SphereIndex, method)

        def spy(self, centres, *args, _original=original):
            seen.append(len(centres))
            return _original(self, centres, *args)

        monkeypatch.setattr(SphereIndex, method, spy)
    monkeypatch.setattr(engine, "MAX_BATCH", 37)
    batched = pygbs.score(df, **KW).centres
    assert max(seen) <= 37 and sum(seen) >= 2 * 300  # every centre, in pieces
    pd.testing.assert_frame_equal(whole, batched, check_exact=True)
    assert batched["unmarked_ssi_p"].notna().mean() > 0.5 and batched["sri_lag"].notna().any()


def test_dask_matches_single_process(client, monkeypatch):
    df = _table(2)
    local = pygbs.score(df, **KW)
    built = []
    original = engine.Samples.index

    def counting(self):
        built.append(self.token)
        return original(self)

    monkeypatch.setattr(engine.Samples, "index", counting)
    remote = pygbs.score(df, scheduler=client, chunk_size=37, **KW)
    pd.testing.assert_frame_equal(local.centres, remote.centres, check_exact=True)
    assert local.summary["aggregates"] == remote.summary["aggregates"]
    # 2 scales x 11 chunks of 37 centres, but one k-d tree per worker
    assert 1 <= len(built) <= 2 and len(set(built)) == 1
    # and a different table is a different cache entry
    other = pygbs.score(_table(3, n=120), scheduler=client, scales=["nn15"], scores=["marked"])
    assert other.centres["marked_ssi"].notna().all()
    assert len(set(built)) == 2


def test_dask_default_chunks_and_centre_subset(client):
    df = _table(4, n=300)
    rows = np.arange(5, 300, 7)
    local = pygbs.score(df, scales=["nn10"], scores=["marked"], centres=rows)
    remote = pygbs.score(df, scales=["nn10"], scores=["marked"], centres=rows, scheduler=client)
    pd.testing.assert_frame_equal(local.centres, remote.centres, check_exact=True)
    assert list(remote.centres["row"]) == list(rows)


def test_worker_error_is_raised_as_is(client):
    with pytest.raises(pygbs.InputError, match="presence"):
        pygbs.score(_table(5, n=60), scales=["nn10"], presence="some", scheduler=client)


def test_chunk_size_must_be_positive(client):
    with pytest.raises(pygbs.InputError, match="chunk_size"):
        pygbs.score(_table(5, n=60), scales=["nn10"], scheduler=client, chunk_size=0)


@pytest.mark.parametrize(
    "bad, msg",
    [("local:0", "local:N"), ("local:two", "local:N"), ("local", "address"), ("", "address")],
)
def test_scheduler_forms(bad, msg):
    from pygbs.engine.dask import parse_scheduler

    with pytest.raises(pygbs.InputError, match=msg):
        parse_scheduler(bad)
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler(" tcp://10.0.0.5:8786 ") == ("address", "tcp://10.0.0.5:8786")


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(pygbs.InputError, match=r"geobias\[dask\]"):
        pygbs.score(_table(5, n=60), scales=["nn10"], scheduler="local:1")


def test_unreachable_scheduler_is_a_clear_error_and_writes_nothing(tmp_path, monkeypatch):
    import pygbs.engine.dask as pd_

    monkeypatch.setattr(pd_, "CONNECT_TIMEOUT_S", 1)
    f = tmp_path / "m.csv"
    _table(6, n=60).to_csv(f, index=False)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "res"
    r = CliRunner().invoke(
        main,
        [
            "score",
            str(f),
            "--scale",
            "nn10",
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 3, r.output
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in r.output
    assert not out.exists()


def _two_models(tmp_path):
    """Two models' files on the same locations (hits drawn independently)."""
    df = _table(10, n=240)
    other = df.copy()
    other["hit@1"] = np.random.default_rng(11).integers(0, 2, len(df))
    paths = [tmp_path / "model_a.csv", tmp_path / "model_b.csv"]
    df.to_csv(paths[0], index=False)
    other.to_csv(paths[1], index=False)
    return paths


def test_compare_connects_once_and_matches_single_process(client, tmp_path, monkeypatch):
    import pygbs.engine.dask as dist

    paths = _two_models(tmp_path)
    kw = dict(scales=["nn12", "150km"], scores=["unmarked", "marked"], bootstrap=50)
    local = pygbs.compare(paths, **kw)
    calls = []

    def connect(scheduler):
        calls.append(scheduler)
        return client, None, 1  # the test's cluster stands in for the address

    monkeypatch.setattr(dist, "connect", connect)
    remote = pygbs.compare(paths, scheduler="tcp://cluster.example:8786", chunk_size=50, **kw)
    assert calls == ["tcp://cluster.example:8786"]  # one connection for both models
    pd.testing.assert_frame_equal(local.table, remote.table, check_exact=True)
    pd.testing.assert_frame_equal(local.pairs, remote.pairs, check_exact=True)
    for name in local.results:
        pd.testing.assert_frame_equal(
            local.results[name].centres, remote.results[name].centres, check_exact=True
        )


def test_cli_compare_on_a_cluster_writes_the_same_files(client, tmp_path):
    paths = _two_models(tmp_path)
    args = ["compare", *map(str, paths), "--scale", "nn12", "--bootstrap", "50"]
    r1 = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")])
    assert r1.exit_code == 0, r1.output
    address = client.cluster.scheduler_address  # in-process: reachable from here
    r2 = CliRunner().invoke(
        main, [*args, "--scheduler", address, "--chunk-size", "70", "--out", str(tmp_path / "b")]
    )
    assert r2.exit_code == 0, r2.output
    assert r1.output == r2.output
    for name in ("compare.csv", "pairs.csv", "model_a/centres.csv", "model_b/centres.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.parametrize("command", ["compare", "map", "report"])
def test_cli_scoring_commands_take_the_scheduler(command, tmp_path, monkeypatch):
    # the address reaches the scoring: an unreachable scheduler is a clear error, exit 1,
    # and nothing is written
    import pygbs.engine.dask as pd_

    monkeypatch.setattr(pd_, "CONNECT_TIMEOUT_S", 1)
    paths = _two_models(tmp_path)
    port = _free_port()
    out = tmp_path / ("r.html" if command == "report" else "res")
    files = [str(paths[0])] if command == "map" else [str(p) for p in paths]
    r = CliRunner().invoke(
        main,
        [command, *files, "--scale", "nn12", "--scheduler", f"tcp://127.0.0.1:{port}"]
        + ["--out", str(out)],
    )
    assert r.exit_code == 3, r.output
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in r.output
    assert not out.exists()


def test_cli_map_from_a_directory_refuses_the_scheduler(tmp_path):
    r = CliRunner().invoke(
        main,
        ["map", "--from", str(tmp_path), "--scheduler", "local:2", "--out", str(tmp_path / "m")],
    )
    assert r.exit_code == 2 and "scheduler" in r.output and "do not apply" in r.output


def test_cli_local_processes_parquet_identical_to_csv(tmp_path):
    f = tmp_path / "m.csv"
    _table(8, n=500).to_csv(f, index=False)
    args = [
        "score",
        str(f),
        "--scale",
        "120km",
        "--scale",
        "nn12",
        "--score",
        "marked",
        "--score",
        "sri-sector",
        "--sri-threshold",
        "3",
    ]
    r1 = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")])
    assert r1.exit_code == 0, r1.output
    r2 = CliRunner().invoke(
        main,
        [
            *args,
            "--scheduler",
            "local:2",
            "--chunk-size",
            "90",
            "--format",
            "parquet",
            "--out",
            str(tmp_path / "b"),
        ],
    )
    assert r2.exit_code == 0, r2.output
    written = sorted(p.name for p in (tmp_path / "b").iterdir())
    assert written == [".geobias-output.json", "centres.parquet", "summary.json"]
    a = pygbs.GeoBiasResult.read(tmp_path / "a")
    b = pygbs.GeoBiasResult.read(tmp_path / "b")
    pd.testing.assert_frame_equal(a.centres, b.centres, check_exact=True)
    assert a.summary["aggregates"] == b.summary["aggregates"]
    assert r1.output.split("->")[1].splitlines()[1:] == r2.output.split("->")[1].splitlines()[1:]


def test_parquet_in_row_groups(tmp_path):
    import pyarrow.parquet as pq

    res = pygbs.score(_table(9, n=100), scales=["nn10", "80km"], scores=["unmarked"])
    res.to_parquet(tmp_path / "c.parquet", rows_per_group=30)
    meta = pq.ParquetFile(tmp_path / "c.parquet").metadata
    assert meta.num_rows == 200 and meta.num_row_groups == 7  # ceil(200 / 30)
    back = pd.read_parquet(tmp_path / "c.parquet")
    pd.testing.assert_frame_equal(back, res.centres, check_exact=True)
    with pytest.raises(pygbs.InputError, match="format"):
        res.write(tmp_path / "d", format="xlsx")
    assert not (tmp_path / "d").exists()


# --- a real cluster: `dask scheduler` + 2 `dask worker` processes on this machine ---------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def real_cluster(tmp_path):
    dask_cmd = shutil.which("dask", path=str(Path(sys.executable).parent))
    if dask_cmd is None:
        pytest.skip("the `dask` command is not installed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    procs = [
        subprocess.Popen(
            [dask_cmd, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    ]
    workers = []
    for i in range(2):
        # --no-nanny: the worker is the process we kill (no nanny restarts it)
        w = subprocess.Popen(
            [
                dask_cmd,
                "worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--host",
                "127.0.0.1",
                "--name",
                f"w{i}",
                "--no-dashboard",
                "--local-directory",
                str(tmp_path / f"w{i}"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        workers.append(w)
    procs += workers
    try:
        with distributed.Client(address, timeout=60) as c:
            c.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.mark.slow
def test_real_cluster_identical(real_cluster, tmp_path):
    address, _ = real_cluster
    df = _table(10, n=2000)
    local = pygbs.score(df, **KW)
    remote = pygbs.score(df, scheduler=address, chunk_size=100, **KW)
    pd.testing.assert_frame_equal(local.centres, remote.centres, check_exact=True)


@pytest.mark.slow
def test_real_cluster_survives_a_killed_worker(real_cluster, tmp_path):
    address, workers = real_cluster
    f = tmp_path / "m.csv"
    _table(11, n=6000).to_csv(f, index=False)
    args = [
        "score",
        str(f),
        "--scale",
        "100km",
        "--scale",
        "nn30",
        "--score",
        "unmarked",
        "--score",
        "marked",
        "--method",
        "permutation",
        "--permutations",
        "99",
    ]
    local = pygbs.score(
        f,
        scales=["100km", "nn30"],
        scores=["unmarked", "marked"],
        method="permutation",
        permutations=99,
    ).centres
    out = tmp_path / "res"
    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pygbs.cli import main; main()",
            *args,
            "--scheduler",
            address,
            "--chunk-size",
            "150",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # wait until the cluster is busy with the run's tasks, then kill one worker
    with distributed.Client(address, timeout=30) as c:
        deadline = time.time() + 120
        while time.time() < deadline:
            done = [k for k in c.who_has() if str(k).startswith("pygbs-score-")]
            if len(done) >= 3:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the run never got going")
    assert run.poll() is None, "the run ended before a worker could be killed"
    workers[0].kill()
    stdout, stderr = run.communicate(timeout=600)
    if run.returncode == 0:
        got = pygbs.GeoBiasResult.read(out).centres
        pd.testing.assert_frame_equal(local, got, check_exact=True)
        summary = json.loads((out / "summary.json").read_text())
        assert summary["parameters"]["n_centres"] == 6000
    else:  # the other accepted outcome: a clear error and nothing written
        assert run.returncode == 1 and stderr.startswith("error: "), stderr
        assert not out.exists()
