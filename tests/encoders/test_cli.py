"""The ``encoders`` CLI through click's CliRunner: list, train, zoo, usage errors (exit 2)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import encoders
from encoders.cli import main

DATA = ["--dataset", "synthetic-vmf", "--data-option", "n_train=200", "--data-option", "n_val=40",
        "--data-option", "n_test=40", "--data-option", "num_classes=5"]  # fmt: skip
SMALL = ["--epochs", "1", "--batch-size", "100", "--hparam", "spa_embed_dim=16", "--hparam",
         "hidden_dim=16", "--no-progress"]  # fmt: skip


@pytest.fixture
def runner():
    return CliRunner()


def test_list(runner):
    res = runner.invoke(main, ["list"])
    assert res.exit_code == 0 and res.output.split() == encoders.list()
    res = runner.invoke(main, ["list", "--datasets"])
    assert res.output.split() == ["synthetic-vmf", "synthetic-vmf-biased",
                                  "synthetic-vmf-sparse", "cities", "locbench",
                                  "table"]  # fmt: skip


def test_train_writes_outputs(runner, tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(main, ["train", "--encoder", "spherec", *DATA, *SMALL, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} >= {"model.pt", "metrics.json", "predictions.csv"}
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["model"] == "Sphere2Vec-sphereC" and doc["trainer"]["epochs"] == 1
    assert doc["dataset"]["sizes"] == {"train": 200, "val": 40, "test": 40}
    res = runner.invoke(
        main, ["train", "--encoder", "no_prior", *DATA, "--out", str(tmp_path / "b")]
    )
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--encoder", "resnet", *DATA], "unknown encoder"),
        (["--encoder", "xyz", "--dataset", "imagenet"], "unknown dataset"),
        (["--encoder", "xyz", *DATA, "--data-option", "bogus=1"], "bogus"),
        (["--encoder", "xyz", *DATA, "--data-option", "n_train"], "KEY=VALUE"),
        (["--encoder", "xyz", *DATA, "--hparam", "depth=3"], "depth"),
        (["--encoder", "xyz", *DATA, "--epochs", "0"], "epochs"),
        (["--encoder", "xyz", *DATA, "--device", "tpu"], "device"),
    ],
)
def test_train_usage_errors(runner, tmp_path, args, word):
    res = runner.invoke(main, ["train", *args, "--out", str(tmp_path / "x")])
    assert res.exit_code == 2, res.output
    assert word in res.output


def test_zoo_no_score(runner, tmp_path):
    out = tmp_path / "zoo"
    res = runner.invoke(main, ["zoo", *DATA, "--encoders", "xyz,wrap", *SMALL, "--no-score",
                               "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (out / "predictions").iterdir()) == [
        "no_prior.csv", "wrap.csv", "xyz.csv"
    ]  # fmt: skip
    assert "| wrap |" in res.output
    res = runner.invoke(main, ["zoo", *DATA, "--encoders", "xyz,nope", "--out", str(out)])
    assert res.exit_code == 2 and "nope" in res.output
    res = runner.invoke(main, ["zoo", *DATA, "--preset", "huge", "--out", str(out)])
    assert res.exit_code == 2


def test_train_resume_documented_example(runner, tmp_path):
    # the docstring's `encoders train --encoder wrap --dataset synthetic-vmf --resume --out DIR`
    out = tmp_path / "run_wrap"
    args = ["train", "--encoder", "wrap", *DATA, *SMALL, "--out", str(out)]
    res = runner.invoke(main, [*args, "--resume"])  # nothing to resume yet: trains
    assert res.exit_code == 0, res.output
    assert "needs out_dir" not in res.output
    first = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in first["epochs"]] == [1]
    # more epochs continue from the checkpoint: epoch 1 is kept, epoch 2 is added
    res = runner.invoke(main, [*args, "--epochs", "2", "--resume"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in doc["epochs"]] == [1, 2]
    assert doc["epochs"][0] == first["epochs"][0]
    assert doc["trainer"]["epochs"] == 2 and doc["hparams"]["hidden_dim"] == 16


@pytest.mark.parametrize(
    ("extra", "setting"),
    [
        (["--hparam", "hidden_dim=32"], "hparams.hidden_dim"),
        (["--lr", "0.5"], "trainer.lr"),
        (["--data-option", "num_classes=6"], "dataset"),
    ],
)
def test_train_resume_refuses_other_settings(runner, tmp_path, extra, setting):
    out = tmp_path / "run"
    args = ["train", "--encoder", "xyz", *DATA, *SMALL, "--out", str(out)]
    assert runner.invoke(main, args).exit_code == 0
    before = (out / "metrics.json").read_text()
    res = runner.invoke(main, [*args, *extra, "--resume"])
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert "\n" not in line and line.startswith("error: ")
    assert str(out) in line and setting in line and "cannot resume" in line
    assert (out / "metrics.json").read_text() == before  # nothing was overwritten


def test_zoo_resume_refuses_other_settings(runner, tmp_path):
    out = tmp_path / "zoo"
    args = ["zoo", *DATA, "--encoders", "xyz", *SMALL, "--no-score", "--out", str(out)]
    assert runner.invoke(main, args).exit_code == 0
    res = runner.invoke(main, [*args, "--lr", "0.0123", "--resume"])
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert line.startswith("error: ") and "\n" not in line
    assert "trainer.lr" in line and "0.0123" in line and "runs" in line
