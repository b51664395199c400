"""GeoBiasMetric: the pygbs scores of what it accumulated, however the data came in batches
or processes; GeoBiasCallback logs, each validation epoch, the scores of that epoch's
validation predictions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch

import pygbs
from encoders import GeoBiasCallback, GeoBiasMetric
from encoders.data import load_dataset
from encoders.export import predictions_frame
from encoders.train import Trainer, build_model, predict

TINY = {"spa_embed_dim": 16, "hidden_dim": 16, "num_hidden_layer": 1}


def _points(n=400, seed=0):
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-0.9, 0.9, n)))
    return np.column_stack([lon, lat])


def _pygbs(lonlat, perf, value="hit@1", **kw):
    frame = pd.DataFrame({"lon": lonlat[:, 0], "lat": lonlat[:, 1], value: perf})
    return pygbs.score(frame, value=value, bootstrap=0, **kw)


def test_batches_give_the_scores_of_the_whole():
    lonlat = _points()
    perf = (lonlat[:, 0] < 0).astype(float)  # good in the west, poor in the east
    m = GeoBiasMetric(scales=["nn20", "1000km"])
    for part in np.array_split(np.arange(len(lonlat)), 7):
        m.update(torch.from_numpy(lonlat[part]), torch.from_numpy(perf[part]))
    got = m.compute()
    want = _pygbs(lonlat, perf, scales=["nn20", "1000km"])
    assert set(got) == {f"{c}@{s}" for c in ("unmarked_ssi", "marked_ssi")
                        for s in ("nn20", "1000km")}  # fmt: skip
    for col in ("unmarked_ssi", "marked_ssi"):
        for scale in ("nn20", "1000km"):
            assert float(got[f"{col}@{scale}"]) == want.headline(col, scale)
    m.reset()
    with pytest.raises(ValueError, match=r"lonlat must be \(b, 2\) and performance \(b,\)"):
        m.update(torch.zeros(3, 2), torch.zeros(4))


def test_clustered_performance_scores_higher_than_shuffled():
    """A known answer: performance split by hemisphere is spatially structured; the same
    values shuffled over the locations are not, and score lower."""
    lonlat = _points(600, seed=1)
    perf = (lonlat[:, 0] < 0).astype(float)
    shuffled = np.random.default_rng(2).permutation(perf)
    scores = []
    for p in (perf, shuffled):
        m = GeoBiasMetric(scales=["nn50"], scores=["marked"])
        m.update(torch.from_numpy(lonlat), torch.from_numpy(p))
        scores.append(float(m.compute()["marked_ssi@nn50"]))
    assert scores[0] > scores[1] + 0.05


def test_callback_logs_the_scores_of_each_validation_epoch(tmp_path):
    ds = load_dataset("synthetic-vmf", n_train=300, n_val=200, n_test=20, num_classes=5, seed=0)
    cb = GeoBiasCallback(scales=["nn20"])
    tr = Trainer(epochs=2, batch_size=64, lr=0.01, progress=False, device="cpu")
    res = tr.fit(build_model("xyz", ds, hparams=TINY), ds, callbacks=[cb])
    assert len(cb.history) == 2 and set(cb.history[0]) == {"unmarked_ssi@nn20", "marked_ssi@nn20"}
    # one epoch: its scores are those of the trained model's validation predictions, exported
    cb1 = GeoBiasCallback(scales=["nn20"])
    tr1 = Trainer(epochs=1, batch_size=64, lr=0.01, progress=False, device="cpu")
    one = tr1.fit(build_model("xyz", ds, hparams=TINY), ds, callbacks=[cb1])
    frame = predictions_frame(ds.val, predict(one.model, ds.val, "classification"),
                              "classification")  # fmt: skip
    want = _pygbs(frame[["lon", "lat"]].to_numpy(), frame["hit@1"].to_numpy(), scales=["nn20"])
    assert cb1.history[0]["marked_ssi@nn20"] == pytest.approx(want.headline("marked", "nn20"))
    assert cb1.history[0]["unmarked_ssi@nn20"] == pytest.approx(want.headline("unmarked", "nn20"))
    assert res.history[0]["val"]["n"] == 200


_WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np, torch, torch.distributed as dist
    from encoders import GeoBiasMetric

    rank, world, store, data, out = int(sys.argv[1]), 2, sys.argv[2], sys.argv[3], sys.argv[4]
    dist.init_process_group("gloo", init_method="file://" + store, rank=rank, world_size=world)
    d = np.load(data)
    m = GeoBiasMetric(scales=["nn20"])
    part = np.array_split(np.arange(len(d["perf"])), world)[rank]
    for rows in np.array_split(part, 3):  # uneven batches, uneven shares
        m.update(torch.from_numpy(d["lonlat"][rows]), torch.from_numpy(d["perf"][rows]))
    got = {k: float(v) for k, v in m.compute().items()}
    with open(out + str(rank), "w") as f:
        json.dump(got, f)
    dist.destroy_process_group()
""")


@pytest.mark.slow  # two processes start torch and pygbs: about a minute on two busy cores
def test_two_processes_score_all_their_samples(tmp_path):
    """Two gloo processes (a file store, no network) each update with their share; both
    compute the scores of all samples together."""
    lonlat = _points(301, seed=3)
    perf = (lonlat[:, 1] > 10).astype(float)
    np.savez(tmp_path / "d.npz", lonlat=lonlat, perf=perf)
    (tmp_path / "w.py").write_text(_WORKER)
    args = [str(tmp_path / "store"), str(tmp_path / "d.npz"), str(tmp_path / "out")]
    procs = [subprocess.Popen([sys.executable, str(tmp_path / "w.py"), str(r), *args],
                              stderr=subprocess.PIPE, text=True) for r in (0, 1)]  # fmt: skip
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    want = _pygbs(lonlat, perf, scales=["nn20"])
    for r in (0, 1):
        got = json.loads((tmp_path / f"out{r}").read_text())
        assert got["marked_ssi@nn20"] == pytest.approx(want.headline("marked", "nn20"), rel=1e-12)
        assert got["unmarked_ssi@nn20"] == pytest.approx(want.headline("unmarked", "nn20"),
                                                         rel=1e-12)  # fmt: skip
