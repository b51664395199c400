"""Training and model-building edges: bounded hyper-parameters, diverged runs, NaN scores.

- every declared hyper-parameter range refuses values outside it (and of the wrong kind),
  through :func:`encoders.build` and the command line (exit 2, one line naming it);
- a run whose loss stops being finite stops with exit 2 and writes no predictions;
- a NaN class score is never counted as right (worst rank).
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import encoders
from encoders.cli import main
from encoders.metrics import classification_metrics, per_sample_classification, true_class_rank

DATA = ["--dataset", "synthetic-vmf", "--data-option", "n_train=200", "--data-option", "n_val=40",
        "--data-option", "n_test=40", "--data-option", "num_classes=5"]  # fmt: skip
SMALL = ["--epochs", "2", "--batch-size", "100", "--hparam", "spa_embed_dim=16", "--no-progress"]


@pytest.mark.parametrize(
    ("hparams", "words"),
    [
        ({"hidden_dim": -1}, ["hidden_dim=-1", "out of range", "[1, 16384]"]),
        ({"hidden_dim": "abc"}, ["hidden_dim must be an integer", "'abc'"]),
        ({"hidden_dim": 2.5}, ["hidden_dim must be an integer"]),
        ({"num_hidden_layer": 1_000_000}, ["num_hidden_layer=1000000", "out of range"]),
        ({"dropout": 1.0}, ["dropout=1.0", "out of range"]),
        ({"min_radius": 0.0}, ["min_radius=0.0", "out of range"]),
        ({"frequency_num": float("nan")}, ["frequency_num must be an integer"]),
        ({"use_layn": "yes"}, ["use_layn must be true or false"]),
        ({"seed": -1}, ["seed=-1", "out of range"]),
    ],
)
def test_build_refuses_values_outside_the_declared_ranges(hparams, words):
    for name in ("wrap", "rbf"):  # wrap uses no FFN hyper-parameter: refused all the same
        with pytest.raises(ValueError) as err:
            encoders.build(name, **hparams)
        for w in words:
            assert w in str(err.value)


def test_declared_ranges_accept_their_bounds_and_the_defaults():
    for name, (kind, low, high) in encoders.HPARAM_RANGES.items():
        encoders.check_hparams({name: low})
        if high is not None:
            encoders.check_hparams({name: high})
            with pytest.raises(ValueError, match="out of range"):
                encoders.check_hparams({name: high + (1 if kind == "int" else 0.001)})
    for name in encoders.list():
        encoders.check_hparams(encoders.get_spec(name).hparam_defaults())
    # a bounded build of the largest FFN stays a model
    assert encoders.build("xyz", num_hidden_layer=2, hidden_dim=8, spa_embed_dim=4)


@pytest.mark.parametrize(
    ("hparam", "word"),
    [
        ("hidden_dim=-1", "hidden_dim=-1"),
        ("hidden_dim=abc", "hidden_dim must be"),
        ("num_hidden_layer=1000000", "num_hidden_layer=1000000"),
    ],  # fmt: skip
)
def test_cli_hyper_parameter_out_of_range_is_a_usage_error(tmp_path, hparam, word):
    res = CliRunner().invoke(
        main,
        ["train", "--encoder", "wrap", *DATA, "--hparam", hparam, "--out", str(tmp_path / "x")],
    )
    assert res.exit_code == 2, res.output
    assert word in res.output
    assert not (tmp_path / "x").exists()


def test_diverged_training_stops_with_exit_2(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main, ["train", "--encoder", "xyz", *DATA, *SMALL, "--lr", "1e30", "--out", str(out)]
    )
    assert res.exit_code == 2, res.output
    assert "training diverged at epoch" in res.output
    assert not (out / "predictions.csv").exists()


def test_nan_scores_are_never_right():
    scores = np.array(
        [
            [np.nan, np.nan, np.nan],  # diverged model: all NaN
            [0.1, np.nan, 0.3],  # NaN competitor of a finite true score
            [0.2, 0.5, 0.3],  # rank 1
            [0.6, 0.5, 0.3],  # rank 3
        ]
    )
    labels = np.array([0, 2, 1, 2])
    np.testing.assert_array_equal(true_class_rank(scores, labels), [3, 3, 1, 3])
    cols = per_sample_classification(scores, labels)
    np.testing.assert_array_equal(cols["hit@1"], [0, 0, 1, 0])
    m = classification_metrics(scores, labels)
    assert m["top1"] == pytest.approx(0.25)
    assert m["mrr"] == pytest.approx((1 / 3 + 1 / 3 + 1 + 1 / 3) / 4)
