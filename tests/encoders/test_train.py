"""Loss, metrics, models and the trainer: hand-computed values, determinism, resume,
early stopping, a one-epoch run of every registered encoder, location prior > no prior."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

import encoders
from encoders.data import load_dataset
from encoders.datamodule import EpochBatches, GeoDataModule, epoch_order, shard_rows
from encoders.losses import full_loss, random_lonlat
from encoders.metrics import classification_metrics, regression_metrics, true_class_rank
from encoders.models import GeoClassifier, GeoRegressor
from encoders.train import (
    NO_PRIOR,
    Trainer,
    build_model,
    load_model,
    predict,
    resolve_device,
    train_and_evaluate,
)

TINY = {"spa_embed_dim": 16, "hidden_dim": 16, "num_hidden_layer": 1}


@pytest.fixture(scope="module")
def tiny():
    return load_dataset("synthetic-vmf", n_train=200, n_val=40, n_test=40, num_classes=5, seed=0)


@pytest.fixture(scope="module")
def tiny_regression():
    return load_dataset("synthetic-vmf", task="regression", n_train=200, n_val=40, n_test=40,
                        num_classes=5, feature_dim=3, seed=0)  # fmt: skip


# --------------------------------------------------------------------------- loss
def test_full_loss_by_hand():
    lp = torch.tensor([[0.0, math.log(3.0)], [math.log(1 / 3), 0.0]])  # p = [[.5,.75],[.25,.5]]
    y = torch.tensor([1, 0])
    lr = torch.tensor([[0.0, 0.0]])  # q = .5, .5
    eps = 1e-5
    c = 2
    pos = [-c * math.log(0.75 + eps), -c * math.log(0.25 + eps)]
    neg = [-math.log(1 - 0.5 + eps), -math.log(1 - 0.5 + eps)]
    expect = (pos[0] + neg[0] + pos[1] + neg[1]) / 4 + 0.5 * (-math.log(0.5 + eps))
    got = full_loss(lp, y, lr, rand_weight=0.5)
    assert got.item() == pytest.approx(expect, rel=1e-6)
    with pytest.raises(ValueError, match="labels"):
        full_loss(lp, torch.tensor([0]), lr)


def test_random_lonlat_uniform_on_whole_sphere():
    x = random_lonlat(40_000, generator=torch.Generator().manual_seed(0)).double()
    lon, lat = x[:, 0], x[:, 1]
    assert lon.min() >= -180 and lon.max() < 180 and lat.abs().max() <= 90
    # equal-area: P(|lat| < 30) = sin 30° = 0.5; all four quadrants populated (not quirk Q6)
    assert (lat.abs() < 30).double().mean().item() == pytest.approx(0.5, abs=0.01)
    for sx in (-1, 1):
        for sy in (-1, 1):
            q = ((lon * sx > 0) & (lat * sy > 0)).double().mean().item()
            assert q == pytest.approx(0.25, abs=0.01)


# --------------------------------------------------------------------------- metrics
def test_classification_metrics_by_hand():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.4, 0.4, 0.2]])
    labels = np.array([1, 2, 0, 1])
    np.testing.assert_array_equal(true_class_rank(scores, labels), [1, 3, 3, 1])  # tie: best
    m = classification_metrics(scores, labels)
    assert m["top1"] == 0.5 and m["top3"] == 1.0
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 3 + 1) / 4)


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    p = y + rng.normal(scale=0.3, size=50)
    m = regression_metrics(p, y)
    assert m["r2"] == pytest.approx(r2_score(y, p))
    assert m["mae"] == pytest.approx(mean_absolute_error(y, p))
    assert m["rmse"] == pytest.approx(math.sqrt(mean_squared_error(y, p)))


# --------------------------------------------------------------------------- models
def test_classifier_has_no_bias_and_probs_in_unit_interval():
    m = GeoClassifier(encoders.build("xyz", **TINY), 7)
    assert m.class_emb.bias is None and m.class_emb.weight.shape == (7, 16)
    p = m.eval().location_probs(torch.tensor([[0.0, 0.0], [10.0, 50.0]]))
    assert p.shape == (2, 7) and bool(((p > 0) & (p < 1)).all())


def test_regressor_variants():
    enc = encoders.build("xyz", **TINY)
    x = torch.zeros(4, 2)
    f = torch.ones(4, 3)
    assert GeoRegressor(enc, 3, hidden_dim=8)(x, f).shape == (4,)
    assert GeoRegressor(None, 3, hidden_dim=8)(x, f).shape == (4,)
    assert GeoRegressor(enc, None, hidden_dim=8)(x).shape == (4,)
    with pytest.raises(ValueError, match="encoder"):
        GeoRegressor(None, None)


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda")


def test_no_prior_prediction_is_image_prediction(tiny):
    assert build_model(NO_PRIOR, tiny) is None
    np.testing.assert_array_equal(predict(None, tiny.test, "classification"),
                                  tiny.test.image_probs.astype(np.float64))  # fmt: skip


def test_fusion_is_product_and_missing_location_keeps_image(tiny):
    model = build_model("xyz", tiny, hparams=TINY)
    split = tiny.test.subset(np.arange(5))
    lonlat = split.lonlat.copy()
    lonlat[2] = np.nan
    split = type(split)(lonlat=lonlat, label=split.label, image_probs=split.image_probs)
    fused = predict(model, split, "classification")
    with torch.no_grad():
        prior = model.eval().location_probs(torch.from_numpy(np.nan_to_num(lonlat))).double()
    expect = prior.numpy() * split.image_probs
    expect[2] = split.image_probs[2]
    np.testing.assert_allclose(fused, expect, rtol=1e-5)


# --------------------------------------------------------------------------- trainer
def _fit(ds, tmp=None, **kw):
    model = build_model("Sphere2Vec-sphereC", ds, hparams=TINY, seed=kw.get("seed", 0))
    opts = {"epochs": 2, "batch_size": 64, "lr": 0.01, "progress": False, **kw}
    return Trainer(out_dir=tmp, **opts).fit(model, ds)


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_trainer_is_deterministic(tiny):
    a, b = _fit(tiny), _fit(tiny)
    c = _fit(tiny, seed=1)
    for k, v in _state(a.model).items():
        torch.testing.assert_close(v, b.model.state_dict()[k], rtol=0, atol=0)
    assert a.history[-1]["train_loss"] == b.history[-1]["train_loss"]
    assert any(not torch.equal(v, c.model.state_dict()[k]) for k, v in _state(a.model).items())


def test_resume_equals_uninterrupted_run(tiny, tmp_path):
    full = _fit(tiny, tmp_path / "full", epochs=3, lr_decay=0.9)
    part = tmp_path / "part"
    _fit(tiny, part, epochs=2, lr_decay=0.9)
    resumed = _fit(tiny, part, epochs=3, lr_decay=0.9, resume=True)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in full.history]
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(v, resumed.model.state_dict()[k], rtol=0, atol=0)
    log = json.loads((part / "metrics.json").read_text())
    assert [e["epoch"] for e in log["epochs"]] == [1, 2, 3]
    assert log["epochs"][2]["lr"] == pytest.approx(0.01 * 0.9**2)


def test_early_stopping_keeps_best_epoch(tiny):
    # a vanishing learning rate cannot improve the validation MRR after epoch 1
    r = _fit(tiny, epochs=10, lr=1e-12, patience=2)
    assert r.stopped_early and len(r.history) == 3 and r.best_epoch == 1


def test_a_resumed_early_stopped_run_trains_no_further(tiny, tmp_path):
    first = _fit(tiny, tmp_path, epochs=10, lr=1e-12, patience=2)
    again = _fit(tiny, tmp_path, epochs=10, lr=1e-12, patience=2, resume=True)
    assert first.stopped_early and again.stopped_early
    assert [h["epoch"] for h in again.history] == [1, 2, 3] and again.best_epoch == 1
    for k, v in first.model.state_dict().items():
        torch.testing.assert_close(v, again.model.state_dict()[k], rtol=0, atol=0)


def test_trainer_rejects_bad_options(tiny):
    for kw, word in (
        ({"epochs": 0}, "epochs"),
        ({"lr": -1.0}, "lr"),
        ({"resume": True}, "out_dir"),
    ):
        with pytest.raises(ValueError, match=word):
            Trainer(**kw).fit(build_model("xyz", tiny, hparams=TINY), tiny)


def test_balanced_sampling_caps_each_class(tiny):
    n = len(tiny.train)
    order = epoch_order(n, torch.Generator().manual_seed(0), tiny.train.label, 7)
    counts = np.bincount(tiny.train.label[order], minlength=5)
    np.testing.assert_array_equal(counts, np.minimum(np.bincount(tiny.train.label, minlength=5), 7))
    assert len(set(order.tolist())) == len(order)
    # the sampler's length is the number of batches it yields
    batches = EpochBatches(n, 8, torch.Generator().manual_seed(0), tiny.train.label, 7)
    assert len(list(batches)) == len(batches) == -(-len(order) // 8)


@pytest.mark.parametrize("cap", [None, 7])
def test_each_process_holds_its_shard(tiny, cap):
    """Two processes hold disjoint shards that cover the training split (sizes within one
    row), take half a batch per step from their own rows only, and make equal steps; one
    process keeps the whole split and the batches of the seeded order."""
    n, bs = len(tiny.train), 30
    shards = shard_rows(n, 2, seed=4)
    assert sorted(np.concatenate(shards).tolist()) == list(range(n))
    assert abs(len(shards[0]) - len(shards[1])) <= 1
    assert not np.array_equal(shards[0], np.arange(len(shards[0])))  # dealt, not cut in two
    one = GeoDataModule(tiny, batch_size=bs, max_per_class=cap, seed=4)
    one.setup("fit")  # no trainer: one process, the whole split
    assert one.train is tiny.train
    ref = EpochBatches(n, bs, torch.Generator().manual_seed(4), tiny.train.label, cap)
    got = list(one.train_dataloader())
    assert len(got) == len(ref)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a["rows"].numpy(), b)
    runs = [GeoDataModule(tiny, batch_size=bs, max_per_class=cap, seed=4) for _ in range(2)]
    for r, dm in enumerate(runs):
        dm.trainer = SimpleNamespace(global_rank=r, world_size=2)
        dm.setup("fit")
    two = [list(dm.train_dataloader()) for dm in runs]
    assert len(two[0]) == len(two[1])
    for r, dm in enumerate(runs):
        np.testing.assert_array_equal(dm.train.lonlat, tiny.train.lonlat[shards[r]])
        assert all(0 < len(b["rows"]) <= bs // 2 for b in two[r])
        # one epoch of this process's order: its rows, at most ceil(cap / 2) per class
        per_class = None if cap is None else -(-cap // 2)
        rows = (
            len(dm.train)
            if cap is None
            else int(np.minimum(np.bincount(dm.train.label), per_class).sum())
        )
        epoch = np.concatenate([b["rows"].numpy() for b in two[r][: -(-rows // (bs // 2))]])
        assert len(epoch) == len(set(epoch.tolist())) == rows
        assert epoch.max() < len(dm.train)
        if cap is not None:
            assert np.bincount(dm.train.label[epoch]).max() <= per_class


@pytest.mark.filterwarnings("ignore:scales='max_only'")
@pytest.mark.parametrize("name", encoders.list())
def test_one_epoch_every_encoder(name, tiny, tmp_path):
    hp = dict(TINY)
    if name == "rbf":
        hp["num_rbf_anchor_pts"] = 10
    doc = train_and_evaluate(name, tiny, tmp_path, hparams=hp,
                             trainer=Trainer(epochs=1, batch_size=100, progress=False))  # fmt: skip
    assert doc["status"] == "finished" and len(doc["epochs"]) == 1
    assert math.isfinite(doc["epochs"][0]["train_loss"])
    assert 0 < doc["test"]["mrr"] <= 1
    assert {p.name for p in tmp_path.iterdir()} >= {"model.pt", "metrics.json", "predictions.csv"}
    # model.pt rebuilds the same model
    model = load_model(tmp_path / "model.pt")
    pred = predict(model, tiny.test, "classification")
    import pandas as pd

    exported = pd.read_csv(tmp_path / "predictions.csv", index_col=0)
    true = pred[np.arange(len(tiny.test)), tiny.test.label]
    np.testing.assert_allclose(exported["true_class_prob"], true, rtol=1e-6)


def test_regression_training(tiny_regression, tmp_path):
    tr = Trainer(epochs=2, batch_size=50, lr=0.01, progress=False)
    loc = train_and_evaluate("xyz", tiny_regression, tmp_path / "xyz", trainer=tr, hparams=TINY)
    base = train_and_evaluate(NO_PRIOR, tiny_regression, tmp_path / "np", trainer=tr)
    for doc in (loc, base):
        assert set(doc["test"]) == {"r2", "mae", "rmse", "n"} and doc["monitor"] == "rmse"
    model = load_model(tmp_path / "np" / "model.pt")
    assert model.encoder is None


def test_location_prior_beats_no_prior(tmp_path):
    ds = load_dataset("synthetic-vmf", n_train=3000, n_val=300, n_test=1000, num_classes=20,
                      seed=2)  # fmt: skip
    tr = Trainer(epochs=4, batch_size=256, lr=0.005, progress=False)
    hp = {"spa_embed_dim": 64, "hidden_dim": 64}
    loc = train_and_evaluate("Sphere2Vec-sphereC", ds, tmp_path / "a", trainer=tr, hparams=hp)
    base = train_and_evaluate(NO_PRIOR, ds, tmp_path / "b")
    assert loc["test"]["top1"] > base["test"]["top1"] + 0.15
    assert loc["test"]["mrr"] > base["test"]["mrr"] + 0.08


def test_resume_refuses_a_checkpoint_of_other_settings(tiny, tmp_path):
    from pygbs.errors import InputError

    _fit(tiny, tmp_path, epochs=2, lr_decay=0.9)
    with pytest.raises(InputError, match=r"checkpoint.ckpt: cannot resume: setting trainer.lr_dec"):
        _fit(tiny, tmp_path, epochs=3, lr_decay=0.5, resume=True)
    # fewer epochs than already trained cannot be honoured either
    with pytest.raises(InputError, match=r"trainer.epochs is 2 in the checkpoint"):
        _fit(tiny, tmp_path, epochs=1, lr_decay=0.9, resume=True)
