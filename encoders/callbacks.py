"""Lightning callbacks that keep the resume guarantees of ``encoders train``.

``lightning.Trainer`` with ``ModelCheckpoint``, ``EarlyStopping``, its progress bar and
logger does the loop; three callbacks add what it does not promise (docs/training.md,
"Resuming a run"):

* :class:`SettingsGuard` refuses to resume a checkpoint written with other settings and
  names the first one that differs (more epochs are fine);
* :class:`RandomState` saves and restores every random stream (torch, CUDA, numpy and the
  generators of the data module, the model's task and its loss terms, per process), so a
  resumed CPU run equals an uninterrupted one;
* :class:`RunLog` writes ``metrics.json`` after every epoch, logs one line per epoch, and
  does not train on when the resumed run had stopped early.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from pygbs.io.atomic import write_text_atomic

__all__ = ["RandomState", "RunLog", "SettingsGuard"]

log = logging.getLogger("encoders.train")


class SettingsGuard(L.Callback):
    """Refuse a checkpoint written with other settings.

    Parameters
    ----------
    config : dict
        The settings of this run (JSON-able); saved in every checkpoint.
    check : callable
        ``check(saved_config, saved_epochs)`` raises (one line naming the first differing
        setting) when the saved settings may not be continued with ``config``.
    """

    def __init__(self, config: dict[str, Any], check: Callable[[dict, int], None]) -> None:
        self.config = config
        self.check = check

    def state_dict(self) -> dict[str, Any]:
        """The settings, saved in the checkpoint."""
        return {"config": self.config}

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """Record the epochs trained (the checkpoint's ``epoch`` is 0-based)."""
        checkpoint["encoders_epochs"] = int(trainer.current_epoch) + 1

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """Compare the saved settings with this run's (before anything is restored)."""
        states = checkpoint.get("callbacks") or {}
        saved = next((s["config"] for k, s in states.items() if k.startswith("SettingsGuard")),
                     {})  # fmt: skip
        self.check(saved, int(checkpoint.get("encoders_epochs", 0)))


class RandomState(L.Callback):
    """Save and restore every random stream, per process.

    Kept: torch's global generator (and CUDA's), numpy's global state, and the generators
    named by ``rng_generators()`` of the data module and of the LightningModule (batch
    order, background locations, the geo-bias term's centres).
    """

    @staticmethod
    def _generators(trainer: L.Trainer) -> dict[str, torch.Generator]:
        out: dict[str, torch.Generator] = {}
        for owner in (getattr(trainer, "datamodule", None), trainer.lightning_module):
            fn = getattr(owner, "rng_generators", None)
            if fn is not None:
                out.update(fn())
        return out

    def __init__(self) -> None:
        self.trainer: L.Trainer | None = None
        self._pending: list[dict[str, Any]] | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        """Remember the trainer (for :meth:`state_dict`)."""
        self.trainer = trainer

    def _local_state(self) -> dict[str, Any]:
        trainer = self.trainer
        dev = trainer.strategy.root_device
        return {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
            "numpy": np.random.get_state(),  # noqa: NPY002
            "generators": {k: g.get_state() for k, g in self._generators(trainer).items()},
        }

    def state_dict(self) -> dict[str, Any]:
        """The random states of every process (gathered; rank 0 writes them)."""
        if self.trainer is None:
            return {}
        local = self._local_state()
        if self.trainer.world_size == 1:
            return {"ranks": [local]}
        import torch.distributed as dist

        everyone: list[Any] = [None] * self.trainer.world_size
        dist.all_gather_object(everyone, local)
        return {"ranks": everyone}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Keep the saved states; they are restored when training starts."""
        self._pending = list(state_dict.get("ranks") or []) or None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Restore this process's random states of a resumed run."""
        if self._pending is None:
            return
        state = self._pending[trainer.global_rank]
        self._pending = None
        torch.set_rng_state(state["torch"])
        dev = trainer.strategy.root_device
        if dev.type == "cuda" and state.get("cuda") is not None:
            torch.cuda.set_rng_state(state["cuda"], dev)
        np.random.set_state(state["numpy"])  # noqa: NPY002
        gens = self._generators(trainer)
        for name, saved in state["generators"].items():
            if name in gens:
                gens[name].set_state(saved)


class RunLog(L.Callback):
    """``metrics.json`` after every epoch, one log line per epoch, early stops honoured.

    Parameters
    ----------
    path : Path or None
        The JSON file (None: no file).
    extra : dict, optional
        Entries written first (encoder name, dataset summary, ...).
    config : dict, optional
        The trainer's options (written as ``trainer``).
    """

    def __init__(
        self,
        path: Path | None,
        extra: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.extra = dict(extra or {})
        self.config = dict(config or {})

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """A resumed run that had stopped early trains no further."""
        if any(cb.stopped_epoch > 0 for cb in trainer.early_stopping_callbacks):
            trainer.should_stop = True

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Log the epoch's line; rewrite ``metrics.json`` with the history so far."""
        history = getattr(pl_module, "history", None)
        if trainer.sanity_checking or not history:
            return
        entry = history[-1]
        monitor = pl_module.task.monitor
        log.info("epoch %d/%d loss %.4f val %s %.4f", entry["epoch"], trainer.max_epochs,
                 entry["train_loss"], monitor, entry["val"][monitor])  # fmt: skip
        if self.path is None or not trainer.is_global_zero:
            return
        best = best_epoch(history, monitor, pl_module.task.higher_is_better)
        doc = {
            **self.extra,
            "trainer": self.config,
            "device": str(trainer.strategy.root_device),
            "monitor": monitor,
            "best_epoch": best,
            "best_score": history[best - 1]["val"][monitor],
            "stopped_early": False,
            "epochs": history,
        }
        write_text_atomic(self.path, json.dumps(doc, indent=2, default=str) + "\n")


def best_epoch(history: list[dict[str, Any]], monitor: str, higher_is_better: bool) -> int:
    """The 1-based epoch with the best validation ``monitor`` (the first of equal ones)."""
    best, score = 0, None
    for i, entry in enumerate(history):
        v = entry["val"][monitor]
        if score is None or (v > score if higher_is_better else v < score):
            best, score = i + 1, v
    return best
