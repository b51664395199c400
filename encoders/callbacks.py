"""Callbacks of the trainer: model selection, early stopping, logs and checkpoints.

They are the parts of :class:`encoders.train.Trainer` around its loop: the best epoch,
early stopping, the log line, the progress bar, ``checkpoint.pt`` and the per-epoch
``metrics.json`` (docs/training.md).

The training loop (:meth:`encoders.train.Trainer.fit`) only trains and validates; all
that happens around it is a :class:`Callback` with hooks called at fixed points:

* ``on_fit_start(state)``: before the first epoch (a checkpoint is loaded here);
* ``on_epoch_start(state)``, ``on_batch_end(state)``, ``on_train_epoch_end(state)``:
  around the batches of one epoch (the progress bar);
* ``on_epoch_end(state)``: after validation, with ``state.history[-1]`` the epoch's entry;
* ``on_fit_end(state)``: after the last epoch (the best epoch's weights are restored).

They run in the order the trainer lists them (:meth:`Trainer.configure_callbacks`), and
share one :class:`FitState`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pygbs.outputs import atomic_path, write_text_atomic

__all__ = [
    "BestModel",
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "EpochLog",
    "FitState",
    "MetricsLog",
    "ProgressBar",
]

log = logging.getLogger("encoders.train")


@dataclass
class FitState:
    """What one :meth:`~encoders.train.Trainer.fit` call knows, shared with its callbacks.

    Attributes
    ----------
    model, optimizer, scaler
        The model, its Adam optimiser and the AMP gradient scaler.
    device : torch.device
        Where training runs.
    epochs : int
        The last epoch to train (1-based).
    generator : torch.Generator
        The trainer's random source (batch order, background locations).
    terms : list
        The loss terms (each may hold its own random state, see
        :class:`encoders.train.LossTerm`).
    config : dict
        The trainer's options (:meth:`~encoders.train.Trainer.config`).
    monitor : str
        Validation metric that picks the best epoch; ``higher_is_better`` its direction.
    start : int
        Epochs already trained when the loop starts (a resumed run's).
    epoch : int
        The current epoch, 0-based.
    history : list of dict
        One entry per finished epoch.
    best : dict
        ``epoch`` (1-based, 0 = none yet), ``score`` and ``state`` (CPU weights) of the
        best epoch.
    improved : bool
        Whether the last epoch improved on the best.
    bad_epochs : int
        Epochs since the last improvement.
    stopped : bool
        Training stopped before ``epochs`` for lack of improvement.
    batches : int
        Batches of the current epoch; ``running_loss`` their mean loss so far.
    """

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: Any
    device: torch.device
    epochs: int
    generator: torch.Generator
    terms: list = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    monitor: str = ""
    higher_is_better: bool = True
    start: int = 0
    epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] = field(
        default_factory=lambda: {"epoch": 0, "score": float("nan"), "state": None}
    )
    improved: bool = False
    bad_epochs: int = 0
    stopped: bool = False
    batches: int = 0
    running_loss: float = float("nan")


class Callback:
    """Base class: every hook does nothing."""

    def on_fit_start(self, state: FitState) -> None:
        """Before the first epoch."""

    def on_epoch_start(self, state: FitState) -> None:
        """Before the batches of ``state.epoch``."""

    def on_batch_end(self, state: FitState) -> None:
        """After each optimiser step."""

    def on_train_epoch_end(self, state: FitState) -> None:
        """After the last batch of the epoch, before validation."""

    def on_epoch_end(self, state: FitState) -> None:
        """After validation; ``state.history[-1]`` is the epoch's entry."""

    def on_fit_end(self, state: FitState) -> None:
        """After the last epoch."""


class BestModel(Callback):
    """Keep the weights of the best epoch on the validation metric; restore them at the end.

    Parameters
    ----------
    min_delta : float, default=0.0
        Smallest change of the metric that counts as improvement.
    """

    def __init__(self, min_delta: float = 0.0) -> None:
        self.min_delta = float(min_delta)

    def on_epoch_end(self, state: FitState) -> None:
        """Compare the epoch's metric with the best so far."""
        score = state.history[-1]["val"][state.monitor]
        best = state.best
        if best["state"] is None:
            improved = True
        elif state.higher_is_better:
            improved = score > best["score"] + self.min_delta
        else:
            improved = score < best["score"] - self.min_delta
        state.improved = bool(improved)
        if improved:
            weights = {k: v.detach().cpu().clone() for k, v in state.model.state_dict().items()}
            state.best = {"epoch": state.epoch + 1, "score": float(score), "state": weights}
            state.bad_epochs = 0
        else:
            state.bad_epochs += 1

    def on_fit_end(self, state: FitState) -> None:
        """Load the best epoch's weights into the model."""
        if state.best["state"] is not None:
            state.model.load_state_dict(state.best["state"])


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without improvement (counted by :class:`BestModel`).

    Parameters
    ----------
    patience : int
        Epochs without improvement before stopping.
    """

    def __init__(self, patience: int) -> None:
        self.patience = int(patience)

    def on_epoch_end(self, state: FitState) -> None:
        """Set ``state.stopped`` when patience runs out before the last epoch."""
        if state.bad_epochs >= self.patience:
            state.stopped = state.epoch + 1 < state.epochs
            if state.stopped:
                log.info("early stop: no improvement for %d epochs", state.bad_epochs)


class EpochLog(Callback):
    """One log line per epoch (shown with ``-v``)."""

    def on_epoch_end(self, state: FitState) -> None:
        """Log the epoch's loss and validation metric."""
        entry = state.history[-1]
        log.info(
            "epoch %d/%d loss %.4f val %s %.4f%s", entry["epoch"], state.epochs,
            entry["train_loss"], state.monitor, entry["val"][state.monitor],
            " (best)" if state.improved else "",
        )  # fmt: skip


class ProgressBar(Callback):
    """A tqdm bar over the batches of each epoch, with the running mean loss."""

    def __init__(self) -> None:
        self.bar: Any = None

    def on_epoch_start(self, state: FitState) -> None:
        """Open the epoch's bar."""
        from tqdm.auto import tqdm

        desc = f"epoch {state.epoch + 1}/{state.epochs}"
        self.bar = tqdm(total=state.batches, desc=desc, leave=False)

    def on_batch_end(self, state: FitState) -> None:
        """Advance the bar."""
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{state.running_loss:.4f}")

    def on_train_epoch_end(self, state: FitState) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Checkpoint(Callback):
    """Write ``checkpoint.pt`` after every epoch; with ``resume``, continue from it.

    The checkpoint holds the model, the optimiser, the gradient scaler, every random state
    (torch, CUDA, numpy, the trainer's generator and those of the loss terms), the history
    and the model-selection state, so a resumed run gives the same result as an
    uninterrupted one on CPU (docs/training.md, "Resuming a run").

    Parameters
    ----------
    path : Path
        The checkpoint file.
    resume : bool, default=False
        Load ``path`` at the start when it exists.
    check : callable, optional
        ``check(path, blob)`` raises when the checkpoint was written with other settings.
    """

    def __init__(self, path: Path, resume: bool = False, check: Any = None) -> None:
        self.path = Path(path)
        self.resume = bool(resume)
        self.check = check

    def on_fit_start(self, state: FitState) -> None:
        """Load the checkpoint into ``state`` (with ``resume``, when the file exists)."""
        if not (self.resume and self.path.is_file()):
            return
        dev = state.device
        blob = torch.load(self.path, map_location=dev, weights_only=False)
        if self.check is not None:
            self.check(self.path, blob)
        state.model.load_state_dict(blob["model"])
        state.optimizer.load_state_dict(blob["optimizer"])
        state.scaler.load_state_dict(blob["scaler"])
        torch.set_rng_state(blob["torch_rng"])
        if dev.type == "cuda" and blob.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(blob["cuda_rng"], dev)
        state.generator.set_state(blob["gen_rng"])
        np.random.set_state(blob["numpy_rng"])  # noqa: NPY002
        for term in state.terms:
            saved = (blob.get("terms") or {}).get(term.name)
            if saved is not None:
                term.load_state_dict(saved)
        state.history, state.best = blob["history"], blob["best"]
        state.bad_epochs, state.stopped = blob["bad_epochs"], blob["stopped_early"]
        state.start = blob["epoch"]
        log.info("resumed from %s after epoch %d", self.path, state.start)

    def on_epoch_end(self, state: FitState) -> None:
        """Write the checkpoint of the finished epoch (atomically)."""
        dev = state.device
        blob = {
            "epoch": state.epoch + 1,
            "model": state.model.state_dict(),
            "optimizer": state.optimizer.state_dict(),
            "scaler": state.scaler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
            "gen_rng": state.generator.get_state(),
            "numpy_rng": np.random.get_state(),  # noqa: NPY002
            "history": state.history,
            "best": state.best,
            "bad_epochs": state.bad_epochs,
            "stopped_early": state.stopped,
            "config": state.config,
        }
        terms = {t.name: t.state_dict() for t in state.terms if t.state_dict()}
        if terms:
            blob["terms"] = terms
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path) as tmp:
            torch.save(blob, tmp)


class MetricsLog(Callback):
    """Write ``metrics.json`` (settings, per-epoch history, best epoch) after every epoch.

    Parameters
    ----------
    path : Path
        The JSON file.
    extra : dict, optional
        Entries written first (encoder name, dataset summary, ...).
    """

    def __init__(self, path: Path, extra: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.extra = dict(extra or {})

    def on_epoch_end(self, state: FitState) -> None:
        """Rewrite the file with the history so far (atomically)."""
        doc = {
            **self.extra,
            "trainer": state.config,
            "device": str(state.device),
            "monitor": state.monitor,
            "best_epoch": state.best["epoch"],
            "best_score": state.best["score"],
            "stopped_early": state.stopped,
            "epochs": state.history,
        }
        write_text_atomic(self.path, json.dumps(doc, indent=2, default=str) + "\n")
