"""The trainer's parts (tasks, loss terms, callbacks) give the numbers of the one-function
training loop they replaced: a frozen copy of that loop below is the reference, for
classification (with balanced sampling and a background weight) and regression; the
encoder registry supplies data-dependent hyper-parameters (rbf anchors)."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch
from torch import nn

import encoders
from encoders.data import load_dataset
from encoders.datamodule import GeoDataModule
from encoders.losses import full_loss, random_lonlat
from encoders.metrics import classification_metrics, regression_metrics
from encoders.module import CHECK_EVERY, LocationTask, LossTerm
from encoders.tasks import TASKS, get_task
from encoders.train import Trainer, build_model, predict
from pygbs.errors import InputError

TINY = {"spa_embed_dim": 16, "hidden_dim": 16, "num_hidden_layer": 1}


def _reference_fit(model, ds, *, epochs, batch_size, lr, lr_decay, seed, max_per_class=None,
                   rand_weight=1.0):  # fmt: skip
    """The training loop as it was before the trainer was split into parts (CPU, no AMP,
    no checkpoint), kept verbatim in its numerics."""
    task = ds.task
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002
    gen = torch.Generator().manual_seed(seed)
    train = ds.train
    x_all = torch.from_numpy(train.lonlat)
    y_all = torch.from_numpy(train.label)
    f_all = None
    if task == "regression":
        f_all = None if train.image_features is None else torch.from_numpy(train.image_features)
        model.set_normalisation(f_all, y_all)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=0.0)
    history, best = [], {"score": None, "state": None}
    higher = task == "classification"
    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = lr * lr_decay**epoch
        model.train()
        perm = torch.randperm(len(train), generator=gen).numpy()
        if max_per_class is not None and task == "classification":
            lab = train.label[perm]
            order = np.argsort(lab, kind="stable")
            sorted_lab = lab[order]
            starts = np.searchsorted(sorted_lab, sorted_lab, side="left")
            rank = np.empty(len(perm), dtype=np.int64)
            rank[order] = np.arange(len(perm)) - starts
            perm = perm[rank < max_per_class]
        order_t = torch.from_numpy(perm)
        total, count = 0.0, 0
        for i in range(0, order_t.numel(), batch_size):
            idx = order_t[i : i + batch_size]
            x, y = x_all[idx], y_all[idx]
            if task == "classification":
                r = random_lonlat(idx.numel(), generator=gen)
                logits = model(torch.cat([x, r], dim=0)).float()
                loss = full_loss(logits[: idx.numel()], y, logits[idx.numel() :],
                                 rand_weight=rand_weight)  # fmt: skip
            else:
                f = None if f_all is None else f_all[idx]
                pred = model.forward_normalised(x, f).float()
                loss = nn.functional.mse_loss(pred, (y - model.y_mean) / model.y_std)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
            count += idx.numel()
        pred = predict(model, ds.val, task)
        val = (classification_metrics if higher else regression_metrics)(pred, ds.val.label)
        score = val["mrr" if higher else "rmse"]
        if best["state"] is None or (score > best["score"] if higher else score < best["score"]):
            best = {"score": score, "state": {k: v.clone() for k, v in model.state_dict().items()}}
        history.append({"train_loss": total / count, "val": val})
    model.load_state_dict(best["state"])
    return history, model


@pytest.fixture(scope="module")
def cls_data():
    return load_dataset("synthetic-vmf", n_train=600, n_val=80, n_test=40, num_classes=6, seed=4)


@pytest.fixture(scope="module")
def reg_data():
    return load_dataset("synthetic-vmf", task="regression", n_train=400, n_val=60, n_test=40,
                        num_classes=5, feature_dim=3, seed=1)  # fmt: skip


@pytest.mark.parametrize(
    ("encoder", "opts"),
    [
        ("Sphere2Vec-sphereC", {"max_per_class": 40, "rand_weight": 0.5}),
        ("rbf", {}),
    ],
)
def test_classification_matches_the_old_loop(cls_data, encoder, opts):
    kw = {"epochs": 3, "batch_size": 64, "lr": 0.01, "lr_decay": 0.9, "seed": 3}
    hp = {**TINY, "num_rbf_anchor_pts": 20}
    ref_hist, ref = _reference_fit(build_model(encoder, cls_data, hparams=hp, seed=3), cls_data,
                                   **kw, **opts)  # fmt: skip
    tr = Trainer(**kw, device="cpu", progress=False, max_per_class=opts.get("max_per_class"),
                 rand_sample_weight=opts.get("rand_weight", 1.0))  # fmt: skip
    got = tr.fit(build_model(encoder, cls_data, hparams=hp, seed=3), cls_data)
    assert [h["train_loss"] for h in got.history] == [h["train_loss"] for h in ref_hist]
    assert [h["val"] for h in got.history] == [h["val"] for h in ref_hist]
    for k, v in ref.state_dict().items():
        torch.testing.assert_close(got.model.state_dict()[k], v, rtol=0, atol=0)
    # without the geo-bias term an epoch logs the objective alone
    assert set(got.history[0]) == {"epoch", "lr", "train_loss", "val", "time_s"}


def test_regression_matches_the_old_loop(reg_data):
    kw = {"epochs": 2, "batch_size": 50, "lr": 0.01, "lr_decay": 0.98, "seed": 5}
    ref_hist, ref = _reference_fit(build_model("xyz", reg_data, hparams=TINY, seed=5), reg_data,
                                   **kw)  # fmt: skip
    got = Trainer(**kw, device="cpu", progress=False).fit(
        build_model("xyz", reg_data, hparams=TINY, seed=5), reg_data
    )
    assert [h["train_loss"] for h in got.history] == [h["train_loss"] for h in ref_hist]
    for k, v in ref.state_dict().items():
        torch.testing.assert_close(got.model.state_dict()[k], v, rtol=0, atol=0)


def test_tasks_registry_and_monitors():
    assert set(TASKS) == {"classification", "regression"}
    assert (get_task("classification").monitor, get_task("classification").higher_is_better) == (
        "mrr",
        True,
    )
    assert (get_task("regression").monitor, get_task("regression").higher_is_better) == (
        "rmse",
        False,
    )
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        get_task("ranking")


def test_rbf_anchors_come_from_the_registry(cls_data):
    spec = encoders.get_spec("rbf")
    hp = spec.hparams_for_data({"num_rbf_anchor_pts": 7, "seed": 2}, cls_data.train.lonlat)
    anchors = np.asarray(hp["rbf_anchors"])
    assert anchors.shape == (7, 2) and hp["num_rbf_anchor_pts"] == 7
    # every anchor is a training location (drawn without replacement)
    train = cls_data.train.lonlat.astype(np.float64)
    d = np.abs(anchors[:, None, :] - train[None, :, :]).sum(-1).min(1)
    np.testing.assert_allclose(d, 0, atol=1e-4)
    assert len({tuple(a) for a in anchors.round(4).tolist()}) == 7
    # more anchors than training rows: capped; given anchors are kept; others take nothing
    small = cls_data.train.lonlat[:5]
    assert spec.hparams_for_data({"seed": 0}, small)["num_rbf_anchor_pts"] == 5
    given = {"rbf_anchors": [[0.0, 0.0]], "seed": 0}
    assert spec.hparams_for_data(given, small) == given
    assert encoders.get_spec("xyz").hparams_for_data({"seed": 1}, small) == {"seed": 1}
    # build_model uses them: the encoder's anchors are the drawn ones
    model = build_model("rbf", cls_data, hparams={**TINY, "num_rbf_anchor_pts": 7}, seed=2)
    assert model.encoder.hparams["num_rbf_anchor_pts"] == 7


class _NaNAfter(LossTerm):
    """A term that is 0 for ``good`` steps, then NaN; counts the steps it saw."""

    name = "probe"

    def __init__(self, good: int) -> None:
        self.good, self.calls = good, 0

    def __call__(self, model, batch):
        self.calls += 1
        return torch.tensor(0.0 if self.calls <= self.good else float("nan"))


@pytest.mark.parametrize(("good", "steps"), [(3, 10), (30, 70)])
def test_a_diverged_step_is_named_when_the_losses_are_checked(good, steps):
    """The loss values stay on the device between checks (every CHECK_EVERY steps and at
    the epoch's end); the first non-finite one is still named, epoch and batch."""
    ds = load_dataset("synthetic-vmf", n_train=steps * 4, n_val=20, n_test=10, num_classes=3)
    probe = _NaNAfter(good)

    class Probed(LocationTask):
        def configure_losses(self, train):
            return [*super().configure_losses(train), probe]

    task = Probed(build_model("xyz", ds, hparams=TINY), ds.task)
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0)  # fmt: skip
    with pytest.raises(InputError, match=rf"epoch 1, batch {good + 1} \(loss nan"):
        trainer.fit(task, datamodule=GeoDataModule(ds, batch_size=4))
    # checked at the end of the epoch, or at the first check after the bad step
    assert probe.calls == min(steps, -(-(good + 1) // CHECK_EVERY) * CHECK_EVERY)
