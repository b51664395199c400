"""The hand-written training loop that ``encoders``' Lightning trainer replaced (CPU, 32-bit).

Kept for ``benchmarks/encoders_speed.py --trainer`` as the baseline of training throughput:
seeded batches drawn anew each epoch, TorchSpatial's ``full_loss`` with as many random
background locations (classification) or MSE on the standardised target (regression),
Adam with the per-epoch decay ``lr * lr_decay**epoch``, validation after every epoch with
the best epoch's weights kept in memory. Its numbers equal those of ``encoders.Trainer`` on
CPU (tests/encoders/test_trainer_parts.py keeps the same loop and compares them bit for bit).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from encoders.data import GeoDataset
from encoders.losses import full_loss, random_lonlat
from encoders.metrics import classification_metrics, regression_metrics
from encoders.train import predict


def previous_fit(
    model: nn.Module,
    ds: GeoDataset,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    lr_decay: float = 0.98,
    seed: int = 0,
) -> list[dict]:
    """Train ``model`` on ``ds`` with the previous loop; the per-epoch history."""
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
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history, best = [], {"score": None, "state": None}
    higher = task == "classification"
    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = lr * lr_decay**epoch
        model.train()
        order = torch.randperm(len(train), generator=gen)
        total, count = 0.0, 0
        for i in range(0, order.numel(), batch_size):
            idx = order[i : i + batch_size]
            x, y = x_all[idx], y_all[idx]
            if task == "classification":
                r = random_lonlat(idx.numel(), generator=gen)
                logits = model(torch.cat([x, r], dim=0)).float()
                loss = full_loss(logits[: idx.numel()], y, logits[idx.numel() :])
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
    return history
