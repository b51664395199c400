"""Two CPU processes (DDP, gloo) train like one process, each on its shard of the data.

Each process holds its own shard of the training split and draws its own batches, so two
processes do not take the steps of one: they see other batches of the same rows. Regression
with no dropout, 3 epochs: the last epoch's training loss and validation RMSE must agree
with those of one process to 10 % (relative), the test R² to 0.05, and both runs must
have trained (last loss below 0.9 x the first); the two processes write the files once.
A second run records, in each process, the training rows it holds and the rows its batches
take: disjoint shards that together are the whole training split, the task's tensors on the
device being the shard alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from encoders.data import load_dataset

ENCODERS = Path(sys.executable).with_name("encoders")

ARGS = [
    "train", "--encoder", "xyz", "--dataset", "synthetic-vmf",
    "--data-option", "task=regression", "--data-option", "n_train=400",
    "--data-option", "n_val=60", "--data-option", "n_test=60", "--data-option", "feature_dim=3",
    "--hparam", "spa_embed_dim=16", "--hparam", "hidden_dim=16", "--hparam", "dropout=0",
    "--epochs", "3", "--batch-size", "50", "--lr", "0.01", "--device", "cpu", "--no-progress",
    "--threads", "1",
]  # fmt: skip


def _train(out, *extra):
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1"}
    res = subprocess.run([str(ENCODERS), *ARGS, *extra, "--out", str(out)],
                         capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res, json.loads((out / "metrics.json").read_text())


@pytest.mark.slow  # three processes start torch: about a minute on two busy cores
def test_two_processes_train_like_one(tmp_path):
    res, two = _train(tmp_path / "ddp", "--devices", "2", "--strategy", "ddp")
    _, one = _train(tmp_path / "one")
    assert res.stdout.count("xyz on synthetic-vmf") == 1  # one process reports and writes
    assert "sync_dist" not in res.stderr  # the logged numbers are equal in all processes
    assert two["trainer"]["devices"] == 2 and one["trainer"]["devices"] == 1
    assert len(two["epochs"]) == len(one["epochs"]) == 3
    for a, b in zip(two["epochs"], one["epochs"]):
        assert a["val"]["n"] == b["val"]["n"] == 60  # every validation row counted once
    a, b = two["epochs"][-1], one["epochs"][-1]
    assert a["train_loss"] == pytest.approx(b["train_loss"], rel=0.1)
    assert a["val"]["rmse"] == pytest.approx(b["val"]["rmse"], rel=0.1)
    assert two["test"]["r2"] == pytest.approx(one["test"]["r2"], abs=0.05)
    # both trained: the agreement is not that of two untrained models
    for run in (one, two):
        assert run["epochs"][-1]["train_loss"] < 0.9 * run["epochs"][0]["train_loss"]


SHARD_SCRIPT = """
import json, sys
from pathlib import Path

import lightning as L

from encoders.data import load_dataset
from encoders.train import Trainer, build_model


class Rows(L.Callback):
    def __init__(self, out):
        self.out, self.seen = out, []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen += trainer.datamodule.train.lonlat[batch["rows"].numpy()].tolist()

    def on_train_end(self, trainer, pl_module):
        doc = {"held": trainer.datamodule.train.lonlat.tolist(), "seen": self.seen,
               "task_rows": int(pl_module.task.x.shape[0])}
        Path(self.out, f"rank{trainer.global_rank}.json").write_text(json.dumps(doc))


if __name__ == "__main__":
    ds = load_dataset("synthetic-vmf", n_train=101, n_val=20, n_test=10, num_classes=3, seed=2)
    hp = {"spa_embed_dim": 8, "hidden_dim": 8, "num_hidden_layer": 1}
    tr = Trainer(epochs=1, batch_size=20, device="cpu", progress=False, devices=2,
                 strategy="ddp", logger="none")
    tr.fit(build_model("xyz", ds, hparams=hp), ds, callbacks=[Rows(sys.argv[1])])
"""


@pytest.mark.slow  # two processes start torch
def test_each_process_holds_only_its_shard(tmp_path):
    script = tmp_path / "shards.py"
    script.write_text(SHARD_SCRIPT)
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1"}
    res = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                         text=True, timeout=600, env=env, cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    ds = load_dataset("synthetic-vmf", n_train=101, n_val=20, n_test=10, num_classes=3, seed=2)
    whole = {tuple(x) for x in ds.train.lonlat.tolist()}
    held = [{tuple(x) for x in r["held"]} for r in ranks]
    assert len(whole) == 101 and held[0].isdisjoint(held[1]) and held[0] | held[1] == whole
    assert sorted(len(h) for h in held) == [50, 51]
    for r, h in zip(ranks, held):
        assert r["task_rows"] == len(h)  # the task's tensors: the shard alone
        assert {tuple(x) for x in r["seen"]} == h  # one epoch: each held row, no other


@pytest.mark.slow  # three processes start torch
def test_zoo_trains_each_model_on_two_processes(tmp_path):
    out = tmp_path / "zoo"
    args = [
        "zoo", "--dataset", "synthetic-vmf", "--encoders", "xyz,wrap", "--devices", "2",
        "--strategy", "ddp", "--device", "cpu", "--no-score", "--no-report", "--epochs", "1",
        "--data-option", "n_train=300", "--data-option", "n_val=40", "--data-option", "n_test=40",
        "--hparam", "hidden_dim=16", "--threads", "1", "--no-progress", "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1"}
    res = subprocess.run([str(ENCODERS), *args], capture_output=True, text=True, timeout=600,
                         env=env)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("zoo of 3 models") == 1  # one process writes and reports
    for name in ("xyz", "wrap"):
        doc = json.loads((out / "runs" / name / "metrics.json").read_text())
        assert doc["trainer"]["devices"] == 2 and doc["status"] == "finished"
        assert doc["test"]["n"] == 40
    assert sorted(pd.read_csv(out / "zoo.csv")["model"]) == ["no_prior", "wrap", "xyz"]


def test_zoo_refuses_devices_with_a_dask_cluster(tmp_path):
    from click.testing import CliRunner

    from encoders.cli import main

    out = tmp_path / "zoo"
    res = CliRunner().invoke(main, ["zoo", "--dataset", "synthetic-vmf", "--devices", "2",
                                    "--scheduler", "local:1", "--out", str(out)])  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "--devices" in res.output and "--scheduler" in res.output
    assert not out.exists()
