"""What the trainer trains: one task object per kind of dataset (docs/training.md).

A task knows everything that differs between classification and regression, so that
:class:`encoders.train.Trainer` has no task branches (the
habit of torchgeo's task classes):

* :meth:`Task.configure_model`: the head on top of the encoder (:class:`GeoClassifier` or
  :class:`GeoRegressor`);
* :meth:`Task.setup`: the training split as tensors on the device (and, for regression, the
  standardisation statistics stored in the model);
* :meth:`Task.training_step`: the task's loss on one batch of training rows (a batch of
  :class:`encoders.datamodule.GeoDataModule`; TorchSpatial's ``full_loss`` with random
  background locations, or MSE on the standardised target);
* :meth:`Task.soft_performance`: the model's smooth coded performance on given training
  rows, what the geo-bias term of the loss scores (docs/debiasing.md);
* :meth:`Task.predict_batch`, :meth:`Task.finish_predictions`, :meth:`Task.predict` and
  :meth:`Task.metrics`: test-time predictions and metrics;
  ``monitor`` / ``higher_is_better`` name the validation metric that picks the epoch.

:func:`get_task` returns a fresh task object for a task name (``dataset.task``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from encoders.data import Split
from encoders.datamodule import EVAL_BATCH, SplitRows
from encoders.losses import full_loss, random_lonlat
from encoders.metrics import classification_metrics, regression_metrics

__all__ = [
    "EVAL_BATCH",
    "TASKS",
    "ClassificationTask",
    "RegressionTask",
    "Task",
    "amp_dtype",
    "get_task",
]


def amp_dtype() -> torch.dtype:
    """The mixed-precision dtype on CUDA: bfloat16 where supported, else float16."""
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


class Task:
    """Base class of the tasks; subclasses fill in the hooks.

    Parameters
    ----------
    rand_sample_weight : float, default=1.0
        Weight of the background term of ``full_loss`` (classification only).
    """

    #: Task name, as in ``GeoDataset.task``.
    name: ClassVar[str] = ""
    #: Validation metric that picks the best epoch, and whether higher is better.
    monitor: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    #: Per-sample performance of :meth:`sample_performance`, named as in the exported
    #: predictions (how :func:`pygbs.score` codes it).
    performance_name: ClassVar[str] = ""

    def __init__(self, rand_sample_weight: float = 1.0) -> None:
        self.rand_sample_weight = float(rand_sample_weight)
        self.device = torch.device("cpu")
        self.x: Tensor | None = None
        self.y: Tensor | None = None

    # -- model ---------------------------------------------------------------------------------
    def configure_model(
        self,
        encoder: nn.Module | None,
        *,
        num_classes: int | None = None,
        feature_dim: int | None = None,
        head: dict[str, Any] | None = None,
    ) -> nn.Module | None:
        """The model of ``encoder`` (None: no location).

        Parameters
        ----------
        encoder : torch.nn.Module or None
            The location encoder.
        num_classes : int, optional
            Number of classes (classification).
        feature_dim : int, optional
            Width of the image features (regression; None without features).
        head : dict, optional
            Regressor options (``loc_dim``, ``hidden_dim``, ``dropout``).

        Returns
        -------
        torch.nn.Module or None
        """
        raise NotImplementedError

    # -- training ------------------------------------------------------------------------------
    def setup(self, model: nn.Module, train: Split, device: torch.device) -> None:
        """Put the training split on ``device`` (before the model is moved there)."""
        self.device = device
        self.x = torch.from_numpy(train.lonlat).to(device)
        self.y = torch.from_numpy(train.label).to(device)

    def training_step(
        self, model: nn.Module, batch: dict[str, Tensor], generator: torch.Generator
    ) -> Tensor:
        """The task's loss on one batch of training rows (a scalar, float32 or wider)."""
        raise NotImplementedError

    def per_sample_loss(
        self, model: nn.Module, batch: dict[str, Tensor], generator: torch.Generator
    ) -> Tensor:
        """The task's loss of each row of the batch, ``(b,)``; its mean is the task loss.

        The draws (background locations) are those of :meth:`training_step`.
        """
        raise NotImplementedError

    def soft_performance(self, model: nn.Module, rows: Tensor) -> Tensor:
        """Smooth coded performance in [-1, 1] of the model on the training rows ``rows``."""
        raise NotImplementedError

    # -- evaluation ----------------------------------------------------------------------------
    def predict_batch(self, model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        """Test-time output of one batch (rows without a location are at (0, 0))."""
        raise NotImplementedError

    def finish_predictions(self, pred: np.ndarray, split: Split) -> np.ndarray:
        """Turn the stacked batch outputs into the split's predictions."""
        return pred

    def sample_performance(self, out: Tensor, batch: dict[str, Tensor]) -> Tensor:
        """Per-sample performance ``(b,)`` of one evaluation batch's outputs (float64)."""
        raise NotImplementedError

    def predict(
        self,
        model: nn.Module,
        split: Split,
        device: torch.device,
        *,
        amp: bool = True,
        batch_size: int = EVAL_BATCH,
    ) -> np.ndarray:
        """Test-time predictions of ``model`` on ``split`` (see :func:`encoders.train.predict`)."""
        was_training = model.training
        model.eval().to(device)
        rows = SplitRows(split, fill_unlocated=True)
        outs = []
        use_amp = amp and device.type == "cuda"
        with torch.no_grad():
            for i in range(0, len(split), batch_size):
                batch = rows.__getitems__(np.arange(i, min(i + batch_size, len(split))))
                batch = {k: v.to(device) for k, v in batch.items()}
                with torch.autocast(device.type, dtype=amp_dtype(), enabled=use_amp):
                    out = self.predict_batch(model, batch)
                outs.append(out.double().cpu().numpy())
        model.train(was_training)
        return self.finish_predictions(np.concatenate(outs), split)

    def metrics(self, pred: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        """Metrics of the predictions against the labels."""
        raise NotImplementedError


class ClassificationTask(Task):
    """Location prior of a classifier, trained with ``full_loss`` (docs/training.md)."""

    name = "classification"
    monitor = "mrr"
    higher_is_better = True
    performance_name = "hit@1"

    def configure_model(
        self,
        encoder: nn.Module | None,
        *,
        num_classes: int | None = None,
        feature_dim: int | None = None,
        head: dict[str, Any] | None = None,
    ) -> nn.Module | None:
        """:class:`GeoClassifier`; None without an encoder (the image prediction alone)."""
        from encoders.models import GeoClassifier

        return None if encoder is None else GeoClassifier(encoder, num_classes)

    def setup(self, model: nn.Module, train: Split, device: torch.device) -> None:
        """The locations, labels and (when the split has them) image probabilities."""
        super().setup(model, train, device)
        probs = train.image_probs
        self.image_probs = None if probs is None else torch.from_numpy(probs).to(device)

    def training_step(
        self, model: nn.Module, batch: dict[str, Tensor], generator: torch.Generator
    ) -> Tensor:
        """``full_loss`` of the batch and as many random background locations."""
        x, y = batch["lonlat"], batch["label"]
        n = y.numel()
        r = random_lonlat(n, generator=generator, device=x.device)
        logits = model(torch.cat([x, r], dim=0)).float()
        return full_loss(logits[:n], y, logits[n:], rand_weight=self.rand_sample_weight)

    def per_sample_loss(
        self, model: nn.Module, batch: dict[str, Tensor], generator: torch.Generator
    ) -> Tensor:
        """``full_loss`` per row: its terms and those of its background location."""
        x, y = batch["lonlat"], batch["label"]
        n = y.numel()
        r = random_lonlat(n, generator=generator, device=x.device)
        logits = model(torch.cat([x, r], dim=0)).float()
        return full_loss(logits[:n], y, logits[n:], rand_weight=self.rand_sample_weight,
                         reduction="none")  # fmt: skip

    def soft_performance(self, model: nn.Module, rows: Tensor) -> Tensor:
        """Smooth hit@1 of the fused prediction (the location prior alone without images)."""
        from encoders.losses import soft_performance

        logits = model(self.x[rows]).float()
        probs = None if self.image_probs is None else self.image_probs[rows]
        return soft_performance(logits, self.y[rows], task=self.name, image_probs=probs)

    def predict_batch(self, model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        """The location prior P(y | x), ``(b, C)``."""
        return torch.sigmoid(model(batch["lonlat"]).float())

    def finish_predictions(self, pred: np.ndarray, split: Split) -> np.ndarray:
        """Fuse with the image prediction; rows without a location keep the image alone."""
        pred[~split.has_location] = 1.0
        if split.image_probs is not None:
            pred = pred * split.image_probs.astype(np.float64)
        return pred

    def sample_performance(self, out: Tensor, batch: dict[str, Tensor]) -> Tensor:
        """hit@1 (0 / 1) of the fused prediction (the image's alone where no location)."""
        probs = out.double()
        located = batch.get("located")
        if located is not None:
            probs = torch.where(located[:, None], probs, torch.ones_like(probs))
        if batch.get("image_probs") is not None:
            probs = probs * batch["image_probs"].double()
        return (probs.argmax(dim=1) == batch["label"]).double()

    def metrics(self, pred: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        """Top-1, top-3 and MRR (:func:`encoders.metrics.classification_metrics`)."""
        return classification_metrics(pred, labels)


class RegressionTask(Task):
    """Regressor on image features and the location embedding, MSE on the standardised target."""

    name = "regression"
    monitor = "rmse"
    higher_is_better = False
    performance_name = "relative_error"

    def configure_model(
        self,
        encoder: nn.Module | None,
        *,
        num_classes: int | None = None,
        feature_dim: int | None = None,
        head: dict[str, Any] | None = None,
    ) -> nn.Module | None:
        """:class:`GeoRegressor` (on the image features alone without an encoder)."""
        from encoders.models import GeoRegressor

        return GeoRegressor(encoder, feature_dim, **(head or {}))

    def setup(self, model: nn.Module, train: Split, device: torch.device) -> None:
        """The tensors, and the standardisation statistics of the training split."""
        super().setup(model, train, device)
        f = train.image_features
        self.f = None if f is None else torch.from_numpy(f).to(device)
        model.set_normalisation(self.f, self.y)

    def _features(self, rows: Tensor) -> Tensor | None:
        return None if self.f is None else self.f[rows]

    def training_step(
        self, model: nn.Module, batch: dict[str, Tensor], generator: torch.Generator
    ) -> Tensor:
        """MSE between the standardised prediction and the standardised target."""
        pred = model.forward_normalised(batch["lonlat"], batch.get("features")).float()
        return nn.functional.mse_loss(pred, (batch["label"] - model.y_mean) / model.y_std)

    def per_sample_loss(
        self, model: nn.Module, batch: dict[str, Tensor], generator: torch.Generator
    ) -> Tensor:
        """Squared error of each row on the standardised scale."""
        pred = model.forward_normalised(batch["lonlat"], batch.get("features")).float()
        return (pred - (batch["label"] - model.y_mean) / model.y_std) ** 2

    def soft_performance(self, model: nn.Module, rows: Tensor) -> Tensor:
        """Smooth "error below the median" of the standardised prediction."""
        from encoders.losses import soft_performance

        pred = model.forward_normalised(self.x[rows], self._features(rows)).float()
        target = (self.y[rows] - model.y_mean) / model.y_std
        return soft_performance(pred, target, task=self.name)

    def predict_batch(self, model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        """Predictions in the target's units, ``(b,)``."""
        return model(batch["lonlat"], batch.get("features")).float()

    def sample_performance(self, out: Tensor, batch: dict[str, Tensor]) -> Tensor:
        """The signed relative error ``(prediction - label) / label`` (as exported)."""
        from encoders.export import ZERO_LABEL

        pred, label = out.double(), batch["label"].double()
        return (pred - label) / torch.where(label == 0, ZERO_LABEL, label)

    def metrics(self, pred: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        """R², MAE and RMSE (:func:`encoders.metrics.regression_metrics`)."""
        return regression_metrics(pred, labels)


#: Task name -> task class; :func:`get_task` builds from it.
TASKS: dict[str, type[Task]] = {t.name: t for t in (ClassificationTask, RegressionTask)}


def get_task(name: str, **options: Any) -> Task:
    """A new task object for ``name`` (``'classification'`` or ``'regression'``).

    Parameters
    ----------
    name : str
        The dataset's task.
    **options
        Passed to the task's constructor (``rand_sample_weight``).

    Returns
    -------
    Task

    Raises
    ------
    ValueError
        For an unknown task name (the message lists :data:`TASKS`).
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {sorted(TASKS)}")
    return TASKS[name](**options)
