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
    assert res.output.split() == ["synthetic-vmf", "cities", "locbench", "table"]


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
