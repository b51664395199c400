"""Two CPU processes (DDP, gloo) train the same model as one process.

Regression with no dropout: the objective has no random draws, each process gets half of
every batch (equal halves), and DDP averages the gradients, so two processes take the steps
of one up to float rounding. The losses, validation metrics and test metrics must agree to
1e-4 (relative); the two processes must write the files once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
def test_two_processes_train_as_one(tmp_path):
    res, two = _train(tmp_path / "ddp", "--devices", "2", "--strategy", "ddp")
    _, one = _train(tmp_path / "one")
    assert res.stdout.count("xyz on synthetic-vmf") == 1  # one process reports and writes
    assert two["trainer"]["devices"] == 2 and one["trainer"]["devices"] == 1
    assert len(two["epochs"]) == len(one["epochs"]) == 3
    for a, b in zip(two["epochs"], one["epochs"]):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
        assert a["val"]["rmse"] == pytest.approx(b["val"]["rmse"], rel=1e-4)
        assert a["val"]["n"] == b["val"]["n"] == 60  # every validation row counted once
    for k in ("r2", "mae", "rmse"):
        assert two["test"][k] == pytest.approx(one["test"][k], rel=1e-4)
    # training moved the model: the agreement is not that of two untrained models
    assert one["epochs"][-1]["train_loss"] < 0.9 * one["epochs"][0]["train_loss"]
