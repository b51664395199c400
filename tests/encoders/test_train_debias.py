"""The geo-bias term in the trainer (docs/debiasing.md): off at weight 0 (same draws, same
numbers), on at weight > 0 (training changes, the term is logged per epoch, its own random
stream, resumable), option checks, the recorded settings, and the ``encoders train`` flags.

The trainer is tested against a stand-in of the loss with the agreed interface
(``geo_stub``), so that these tests check the wiring, not the loss's numerics."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from encoders.cli import main
from encoders.data import load_dataset
from encoders.train import Trainer, build_model, check_resume, run_settings
from pygbs.errors import InputError

TINY = {"spa_embed_dim": 16, "hidden_dim": 16, "num_hidden_layer": 1}
DATA = ["--dataset", "synthetic-vmf", "--data-option", "n_train=200", "--data-option", "n_val=40",
        "--data-option", "n_test=40", "--data-option", "num_classes=5"]  # fmt: skip
SMALL = ["--epochs", "1", "--batch-size", "100", "--hparam", "spa_embed_dim=16", "--hparam",
         "hidden_dim=16", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny():
    return load_dataset("synthetic-vmf", n_train=200, n_val=40, n_test=40, num_classes=5, seed=0)


def _fit(ds, out=None, encoder="xyz", **kw):
    model = build_model(encoder, ds, hparams=TINY, seed=kw.get("seed", 0))
    opts = {"epochs": 2, "batch_size": 64, "lr": 0.01, "progress": False, "device": "cpu", **kw}
    return Trainer(out_dir=out, **opts).fit(model, ds)


def _same_weights(a, b):
    return all(torch.equal(v, b.model.state_dict()[k]) for k, v in a.model.state_dict().items())


def test_weight_zero_builds_nothing_and_keeps_the_numbers(geo_stub, tiny):
    plain = _fit(tiny)
    off = _fit(tiny, debias="marked-ssi", debias_lambda=0.0, debias_scale="1000km")
    assert geo_stub.built == []
    assert _same_weights(plain, off)
    assert [h["train_loss"] for h in off.history] == [h["train_loss"] for h in plain.history]
    assert "train_geo_loss" not in off.history[0]


def test_geo_term_changes_training_and_is_logged(geo_stub, tiny, tmp_path):
    plain = _fit(tiny, tmp_path / "plain", epochs=1)
    on = _fit(tiny, tmp_path / "on", epochs=1, debias="performance-ssi", debias_lambda=0.5,
              debias_scale="nn20", debias_centres=17, seed=0)  # fmt: skip
    assert not _same_weights(plain, on)
    (built,) = geo_stub.built  # built once per fit, with the trainer's options
    assert built["kind"] == "performance-ssi" and built["scale"] == "nn20"
    assert built["centres_per_batch"] == 17 and built["seed"] == 0 and built["n"] == 200
    assert built["loss"].sampled == 4  # one draw per step: ceil(200 / 64) steps
    entry = on.history[0]
    assert entry["train_loss"] == pytest.approx(
        entry["train_task_loss"] + 0.5 * entry["train_geo_loss"], rel=1e-6
    )
    assert 0 < entry["train_geo_loss"] <= 1  # the stub's surrogate lies in [0, 1]
    log = json.loads((tmp_path / "on" / "metrics.json").read_text())
    assert log["epochs"][0]["train_geo_loss"] == entry["train_geo_loss"]
    assert log["trainer"]["debias_lambda"] == 0.5 and log["trainer"]["debias"] == "performance-ssi"
    # the term draws from its own generator: the trainer's batches and background points
    # are those of the plain run
    a = _saved_generators(tmp_path / "plain" / "checkpoint.ckpt")
    b = _saved_generators(tmp_path / "on" / "checkpoint.ckpt")
    assert torch.equal(a["batches"], b["batches"])
    assert torch.equal(a["background"], b["background"])
    assert "geo" in b and "geo" not in a


def _saved_generators(path):
    """The generator states a checkpoint keeps (one process)."""
    blob = torch.load(path, weights_only=False)
    (state,) = [v for k, v in blob["callbacks"].items() if k.startswith("RandomState")]
    return state["ranks"][0]["generators"]


def test_geo_term_is_deterministic_and_resumes(geo_stub, tiny, tmp_path):
    kw = {"debias": "marked-ssi", "debias_lambda": 2.0, "lr_decay": 0.9}
    full = _fit(tiny, tmp_path / "full", epochs=3, **kw)
    again = _fit(tiny, epochs=3, **kw)
    assert _same_weights(full, again)
    _fit(tiny, tmp_path / "part", epochs=2, **kw)
    resumed = _fit(tiny, tmp_path / "part", epochs=3, resume=True, **kw)
    assert [h["train_geo_loss"] for h in resumed.history] == [
        h["train_geo_loss"] for h in full.history
    ]
    assert _same_weights(full, resumed)
    with pytest.raises(InputError, match=r"setting trainer.debias_lambda is 2.0 in the checkpoint"):
        _fit(tiny, tmp_path / "part", epochs=4, resume=True, **{**kw, "debias_lambda": 1.0})


def test_regression_and_image_probabilities_reach_the_term(geo_stub, tiny, monkeypatch):
    import encoders.losses

    seen = []
    stub = encoders.losses.soft_performance

    def spy(output, target, *, task, image_probs=None, temperature=1.0):
        seen.append((task, None if image_probs is None else tuple(image_probs.shape)))
        return stub(output, target, task=task, image_probs=image_probs)

    monkeypatch.setattr(encoders.losses, "soft_performance", spy)
    reg = load_dataset("synthetic-vmf", task="regression", n_train=120, n_val=30, n_test=30,
                       num_classes=4, feature_dim=3, seed=0)  # fmt: skip
    r = _fit(reg, epochs=1, debias="marked-ssi", debias_lambda=1.0, debias_centres=10)
    assert "train_geo_loss" in r.history[0] and seen[0] == ("regression", None)
    # a training split with image probabilities: the term sees the rows' probabilities
    seen.clear()
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), size=len(tiny.train)).astype(np.float32)
    with_probs = dataclasses.replace(tiny, train=dataclasses.replace(tiny.train, image_probs=probs))
    _fit(with_probs, epochs=1, debias="marked-ssi", debias_lambda=1.0, debias_centres=10)
    assert seen and all(s == ("classification", (10, 5)) for s in seen)


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"debias_lambda": -1.0, "debias": "marked-ssi"}, "debias_lambda must be a finite"),
        ({"debias_lambda": float("nan"), "debias": "marked-ssi"}, "debias_lambda must be"),
        ({"debias_lambda": 0.5}, "needs debias"),
        ({"debias": "moran", "debias_lambda": 0.5}, "unknown debias kind 'moran'"),
        ({"debias": "marked-ssi", "debias_lambda": 0.5, "debias_scale": "far"}, "unknown scale"),
        ({"debias": "marked-ssi", "debias_lambda": 0.5, "debias_centres": 0}, "debias_centres"),
    ],
)
def test_trainer_rejects_bad_geo_options(geo_stub, tiny, kw, word):
    with pytest.raises(ValueError, match=word):
        Trainer(**kw)._check()


def test_settings_record_the_term_only_when_on(geo_stub, tiny, tmp_path):
    off = run_settings("xyz", tiny, Trainer(debias="marked-ssi", debias_scale="nn5"))
    assert not any(k.startswith("debias") for k in off["trainer"])
    on = run_settings("xyz", tiny, Trainer(debias="sri-lag", debias_lambda=0.1))
    assert {k: v for k, v in on["trainer"].items() if k.startswith("debias")} == {
        "debias": "sri-lag", "debias_lambda": 0.1, "debias_scale": "nn50", "debias_centres": 256
    }  # fmt: skip
    # a run saved before the geo-bias options existed resumes as a run without the term
    run = tmp_path / "old"
    run.mkdir()
    saved = {**off, "trainer": {k: v for k, v in Trainer().config().items()
                                if not k.startswith("debias")}}  # fmt: skip
    (run / "metrics.json").write_text(json.dumps(saved))
    assert check_resume(run, off) is not None
    with pytest.raises(InputError, match=r"trainer.debias'? is '<not recorded>'|trainer.debias"):
        check_resume(run, on)


# --------------------------------------------------------------------------- command line
def test_train_cli_flags(geo_stub, tmp_path):
    runner = CliRunner()
    out = tmp_path / "run"
    args = ["train", "--encoder", "xyz", *DATA, *SMALL, "--out", str(out)]
    res = runner.invoke(main, [*args, "--debias-lambda", "0.5", "--debias-scale", "1000km"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "metrics.json").read_text())
    # --debias-lambda alone: the kind is performance-ssi
    assert doc["trainer"]["debias"] == "performance-ssi" and doc["trainer"]["debias_lambda"] == 0.5
    assert doc["trainer"]["debias_scale"] == "1000km"
    assert "train_geo_loss" in doc["epochs"][0]
    # resuming with another weight is refused, naming the setting
    res = runner.invoke(main, [*args, "--debias-lambda", "0.25", "--resume"])
    assert res.exit_code == 2 and "trainer.debias_lambda" in res.output
    res = runner.invoke(main, [*args, "--debias", "sri-lag", "--debias-lambda", "0.5",
                               "--debias-centres", "8", "--out", str(tmp_path / "b")])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert geo_stub.built[-1]["kind"] == "sri-lag" and geo_stub.built[-1]["centres_per_batch"] == 8


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        (["--debias", "marked-ssi"], "--debias needs --debias-lambda"),
        (["--debias-scale", "100km"], "--debias-scale needs --debias-lambda"),
        (["--debias", "moran", "--debias-lambda", "1"], "unknown geo-bias kind 'moran'"),
        (["--debias-lambda", "-0.5"], "--debias-lambda"),
        (["--debias-lambda", "nan"], "--debias-lambda"),
        (["--debias-lambda", "1", "--debias-scale", "10 miles"], "unknown scale '10 miles'"),
        (["--debias-lambda", "1", "--debias-centres", "0"], "--debias-centres"),
    ],
)
def test_train_cli_geo_usage_errors(geo_stub, tmp_path, extra, word):
    res = CliRunner().invoke(main, ["train", "--encoder", "xyz", *DATA, *extra, "--out",
                                    str(tmp_path / "x")])  # fmt: skip
    assert res.exit_code == 2, res.output
    assert word in res.output
    assert not (tmp_path / "x").exists()  # refused before anything is written


# --------------------------------------------------------------------------- the real loss
def test_real_geo_term_trains_and_is_logged(tmp_path):
    ds = load_dataset("synthetic-vmf", n_train=600, n_val=60, n_test=60, num_classes=5, seed=1)
    kw = {"epochs": 1, "debias": "marked-ssi", "debias_scale": "nn20", "debias_centres": 32}
    plain = _fit(ds, epochs=1)
    on = _fit(ds, tmp_path, debias_lambda=1.0, **kw)
    again = _fit(ds, debias_lambda=1.0, **kw)
    assert not _same_weights(plain, on) and _same_weights(on, again)
    entry = on.history[0]
    assert np.isfinite(entry["train_geo_loss"]) and entry["train_geo_loss"] >= 0
    assert entry["train_loss"] == pytest.approx(
        entry["train_task_loss"] + entry["train_geo_loss"], rel=1e-5
    )
    # weight 0 with the real loss installed: the plain run's numbers
    assert _same_weights(plain, _fit(ds, debias_lambda=0.0, **kw))


def test_real_geo_term_refuses_an_unscorable_scale(tmp_path):
    res = CliRunner().invoke(main, ["train", "--encoder", "xyz", *DATA, *SMALL,
                                    "--debias-lambda", "1", "--debias-scale", "1km",
                                    "--out", str(tmp_path / "x")])  # fmt: skip
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert line.startswith("error: ") and "\n" not in line and "1km" in line
    assert not (tmp_path / "x" / "model.pt").exists()
