"""Models of a run: build one for a dataset, rebuild a saved one, predict and evaluate.

:func:`build_model` makes the geo-aware model of an encoder for a dataset (seeded), and
:func:`load_model` rebuilds one saved as ``model.pt`` by :func:`encoders.train_and_evaluate`
(:func:`model_spec` is what that file records). :func:`predict` and :func:`evaluate` give
test-time predictions and metrics of a split (TorchSpatial's LocBench protocol), on the
device of :func:`resolve_device`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from encoders.data import GeoDataset, Split
from encoders.datamodule import EVAL_BATCH
from encoders.resume import NO_PRIOR
from encoders.tasks import get_task

__all__ = ["build_model", "evaluate", "load_model", "model_spec", "predict", "resolve_device"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) into a :class:`torch.device`.

    ``"auto"`` picks CUDA when :func:`torch.cuda.is_available`, else the CPU. Asking for CUDA
    without it raises ``ValueError``.
    """
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} requested but CUDA is not available; use 'cpu'")
        return torch.device(name)
    raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]'; got {name!r}")


def build_model(
    encoder: str | None,
    dataset: GeoDataset,
    *,
    hparams: dict[str, Any] | None = None,
    head: dict[str, Any] | None = None,
    seed: int = 0,
) -> nn.Module | None:
    """Build the geo-aware model of ``encoder`` for ``dataset``.

    Parameters
    ----------
    encoder : str or None
        Registered encoder name, or ``None`` / ``"no_prior"`` for the no-location baseline.
    dataset : GeoDataset
        Decides the head (classifier or regressor, :mod:`encoders.tasks`) and its sizes.
    hparams : dict, optional
        Encoder hyper-parameters (passed to :func:`encoders.build`). Encoders that take
        hyper-parameters from the training locations get them from their registry entry
        (:meth:`encoders.EncoderSpec.hparams_for_data`; ``rbf`` draws its anchors there,
        seeded, unless ``rbf_anchors`` is given).
    head : dict, optional
        Regressor options (``loc_dim``, ``hidden_dim``, ``dropout``).
    seed : int, default=0
        Seed of the parameter initialisation (and of the encoder's own draws, unless
        ``hparams`` has a ``seed``).

    Returns
    -------
    torch.nn.Module or None
        :class:`GeoClassifier` / :class:`GeoRegressor`; None for the classification
        baseline (it is the image prediction alone and has nothing to train).
    """
    import encoders

    hp = dict(hparams or {})
    hp.setdefault("seed", seed)
    enc = None
    if encoder not in (None, NO_PRIOR):
        spec = encoders.get_spec(encoder)
        enc = encoders.build(spec.name, **spec.hparams_for_data(hp, dataset.train.lonlat))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return get_task(dataset.task).configure_model(
            enc, num_classes=dataset.num_classes, feature_dim=dataset.image_feature_dim,
            head=head,
        )  # fmt: skip


def model_spec(model: nn.Module, dataset: GeoDataset, head: dict[str, Any] | None) -> dict:
    """What :func:`load_model` needs to rebuild ``model`` (saved in ``model.pt``)."""
    enc = model.encoder
    return {
        "encoder": None if enc is None else enc.name,
        "hparams": None if enc is None else enc.hparams,
        "task": dataset.task,
        "num_classes": dataset.num_classes,
        "feature_dim": dataset.image_feature_dim,
        "head": dict(head or {}),
    }


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model saved as ``model.pt`` by :func:`train_and_evaluate`."""
    import encoders

    blob = torch.load(path, map_location=map_location, weights_only=False)
    spec = blob["spec"]
    enc = None if spec["encoder"] is None else encoders.build(spec["encoder"], **spec["hparams"])
    model = get_task(spec["task"]).configure_model(
        enc, num_classes=spec["num_classes"], feature_dim=spec["feature_dim"], head=spec["head"]
    )
    model.load_state_dict(blob["state_dict"])
    return model.eval()


def predict(
    model: nn.Module | None,
    split: Split,
    task: str,
    *,
    device: str | torch.device = "cpu",
    amp: bool = True,
    batch_size: int = EVAL_BATCH,
) -> np.ndarray:
    """Test-time predictions of a model on one split.

    Classification: the fused score P(y | I) · P(y | x) ``(n, C)`` (the location prior alone
    when the split has no image probabilities; the image prediction alone for samples
    without a location and for ``model=None``, the no-prior baseline). Regression: ``(n,)``
    predictions in the target's units.
    """
    dev = resolve_device(device)
    if model is None:
        if task != "classification" or split.image_probs is None:
            raise ValueError("the no-prior baseline needs image probabilities in the split")
        return split.image_probs.astype(np.float64)
    return get_task(task).predict(model, split, dev, amp=amp, batch_size=batch_size)


def evaluate(
    model: nn.Module | None, split: Split, task: str, **kwargs: Any
) -> tuple[dict[str, float], np.ndarray]:
    """Metrics and predictions of :func:`predict` on ``split``."""
    pred = predict(model, split, task, **kwargs)
    return get_task(task).metrics(pred, split.label), pred
