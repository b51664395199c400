"""Training and evaluation of geo-aware models (TorchSpatial's LocBench protocol).

:class:`Trainer` follows sklearn's habit: the constructor stores the options, the work
happens in :meth:`Trainer.fit`, which hands the loop to ``lightning.Trainer``: the model
and its objective are a :class:`~encoders.module.LocationTask` (``LightningModule``), the
data a :class:`~encoders.datamodule.GeoDataModule`; ``ModelCheckpoint`` keeps the best
epoch (and, with ``out_dir``, ``checkpoint.ckpt`` after every epoch), ``EarlyStopping``
stops after ``patience`` epochs without improvement, and the callbacks of
:mod:`encoders.callbacks` refuse to resume with other settings, restore every random
stream (a resumed CPU run equals an uninterrupted one) and write ``metrics.json``. It is
seeded (torch and numpy), picks the device (``"auto"``: CUDA when available), uses mixed
precision on CUDA only, and trains with Adam and a per-epoch learning-rate decay
``lr · lr_decay^epoch`` (TorchSpatial's schedule) on ``devices`` processes.

:func:`train_and_evaluate` is the whole job of ``encoders train``: build the model, fit,
predict the test split, write ``model.pt``, ``metrics.json`` and ``predictions.csv``.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch import nn

from encoders.callbacks import RandomState, RunLog, SettingsGuard, best_epoch
from encoders.data import GeoDataset
from encoders.datamodule import GeoDataModule
from encoders.ddp import LocalDDPStrategy
from encoders.evaluation import (
    build_model,
    evaluate,
    load_model,
    model_spec,
    predict,
    resolve_device,
)
from encoders.lightning_setup import AtomicCheckpointIO, checkpoint_dir, quiet_lightning
from encoders.module import LocationTask, StopRequest
from encoders.resume import (
    CHECKPOINT,
    DEFAULT_DEBIAS,
    NO_PRIOR,
    check_checkpoint,
    check_resume,
    jsonable,
    run_settings,
)
from encoders.tasks import amp_dtype
from encoders.torch_files import read_checkpoint, save_atomic
from pygbs.cancel import check_cancelled
from pygbs.errors import InputError
from pygbs.geo.scales import parse_scale
from pygbs.io.atomic import write_text_atomic

# run settings, models and predictions come from encoders.resume and encoders.evaluation;
# they are named here too, where the trainer's users have always found them
__all__ = [
    "BEST_CHECKPOINT",
    "CHECKPOINT",
    "DEFAULT_DEBIAS",
    "LOGGERS",
    "NO_PRIOR",
    "check_resume",
    "run_settings",
    "TrainResult",
    "Trainer",
    "build_model",
    "load_model",
    "predict",
    "resolve_device",
    "train_and_evaluate",
]

log = logging.getLogger(__name__)

#: The best epoch's checkpoint (inside ``out_dir``).
BEST_CHECKPOINT = "best.ckpt"
#: Training steps between two redraws of the progress bar.
PROGRESS_EVERY = 10
#: The checkpoint of earlier versions (not resumable).
_OLD_CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` returns.

    Attributes
    ----------
    model : torch.nn.Module
        The trained model, with the weights of ``best_epoch`` (in eval mode, on the CPU).
    history : list of dict
        One entry per epoch: ``epoch`` (1-based), ``lr``, ``train_loss``, ``val`` metrics,
        ``time_s``.
    best_epoch : int
        Epoch (1-based) with the best validation metric.
    best_score : float
        Its value of ``monitor``.
    monitor : str
        Validation metric used to pick the epoch (``mrr`` or ``rmse``).
    stopped_early : bool
        True when training stopped before ``epochs`` for lack of improvement.
    device : str
        Device trained on.
    is_global_zero : bool
        False in the other processes of a multi-process run (they write nothing).
    """

    model: nn.Module
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = float("nan")
    monitor: str = ""
    stopped_early: bool = False
    device: str = "cpu"
    is_global_zero: bool = True


#: ``--logger`` names -> Lightning logger classes (module, class).
LOGGERS = {"csv": "CSVLogger", "tensorboard": "TensorBoardLogger"}


@dataclass
class Trainer:
    """Options of a seeded training run; :meth:`fit` runs it with ``lightning.Trainer``.

    Parameters
    ----------
    epochs : int, default=10
        Maximum number of epochs.
    lr : float, default=1e-3
        Adam learning rate of the first epoch.
    lr_decay : float, default=0.98
        Per-epoch factor: epoch ``e`` (0-based) uses ``lr · lr_decay**e``.
    batch_size : int, default=1024
        Training batch size, over all devices together (classification: plus as many
        random background locations).
    weight_decay : float, default=0.0
        Adam weight decay.
    rand_sample_weight : float, default=1.0
        Weight of the background term of ``full_loss``.
    max_per_class : int or None, default=None
        Balanced sampling: at most this many samples of each class per epoch (drawn anew each
        epoch). TorchSpatial's default is 100; None uses every sample.
    patience : int or None, default=None
        Stop after this many epochs without improvement of the validation metric (None:
        never stop early). The best epoch's weights are returned either way.
    min_delta : float, default=0.0
        Smallest change of the validation metric that counts as improvement for early
        stopping (the best epoch is the one with the best metric).
    device : {'auto', 'cpu', 'cuda', 'cuda:N'}, default='auto'
        Where to train (``'auto'``: CUDA when available).
    amp : bool, default=True
        Mixed precision (bfloat16, or float16 with loss scaling) on CUDA; ignored on CPU
        and when ``precision`` is given.
    seed : int, default=0
        Seed of the batches, background points, dropout (torch and numpy are seeded).
    progress : bool or 'auto', default='auto'
        Progress bar; ``'auto'`` shows it only when stderr is a terminal.
    out_dir : path-like or None, default=None
        Where the checkpoints, ``metrics.json`` and the logger's files go (nothing
        written when None).
    resume : bool, default=False
        Continue from ``out_dir/checkpoint.ckpt`` when it exists. The checkpoint must have
        been written with the same options (``epochs`` may be larger: training goes on);
        otherwise :meth:`fit` raises :class:`pygbs.InputError` naming the option.
    debias : str or None, default=None
        Kind of geo-bias term added to the loss, a name of
        :data:`encoders.losses.GEO_BIAS_KINDS` (e.g. ``'marked-ssi'``); needed when
        ``debias_lambda > 0`` (docs/debiasing.md).
    debias_lambda : float, default=0.0
        Weight of the geo-bias term. 0 trains exactly as without the term (the same random
        draws and numbers); the geo-bias options are then not part of the run's settings.
    debias_scale : str, default='nn50'
        Scale of the geo-bias term's neighbourhoods (``'<r>km'`` or ``'nn<K>'``).
    debias_centres : int, default=256
        Centres drawn per training step for the geo-bias term.
    debias_method : {'geobias-loss', 'reweight', 'group-dro', 'importance'}, default='geobias-loss'
        What ``debias_lambda`` weighs (docs/debiasing.md): the geo-bias loss of ``debias``,
        the inverse-density re-weighted task loss, group DRO over equal-area cells, or the
        task loss importance-weighted towards the test split's locations (never its labels).
    debias_cell_km : float, default=1000
        Side (km) of the equal-area cells of ``reweight`` (density) and ``group-dro``
        (groups).
    debias_dro_step : float, default=0.01
        Step size η of group DRO's exponentiated-gradient weights.
    debias_bandwidth_km : float, default=250
        Bandwidth (km) of the kernel density estimates of ``importance``.
    devices : int, default=1
        Processes (one device each) of a run: with ``strategy='ddp'`` each takes its share
        of every batch (docs/training.md, "Several devices").
    strategy : str, default='auto'
        Lightning's strategy (``'auto'``, ``'ddp'``, ...).
    precision : str or None, default=None
        Lightning's precision (``'32-true'``, ``'bf16-mixed'``, ``'16-mixed'``, ...); None:
        mixed precision on CUDA when ``amp``, else 32-bit.
    logger : {'csv', 'tensorboard', 'none'}, default='csv'
        Logger of the per-epoch numbers in ``out_dir/logs`` (TensorBoard needs the
        ``tensorboard`` package).
    """

    epochs: int = 10
    lr: float = 1e-3
    lr_decay: float = 0.98
    batch_size: int = 1024
    weight_decay: float = 0.0
    rand_sample_weight: float = 1.0
    max_per_class: int | None = None
    patience: int | None = None
    min_delta: float = 0.0
    device: str = "auto"
    amp: bool = True
    seed: int = 0
    progress: bool | str = "auto"
    out_dir: str | Path | None = None
    resume: bool = False
    debias: str | None = None
    debias_lambda: float = 0.0
    debias_scale: str = "nn50"
    debias_centres: int = 256
    debias_method: str = "geobias-loss"
    debias_cell_km: float = 1000.0
    debias_dro_step: float = 0.01
    debias_bandwidth_km: float = 250.0
    devices: int = 1
    strategy: str = "auto"
    precision: str | None = None
    logger: str = "csv"

    def _check(self) -> None:
        if int(self.epochs) < 1:
            raise ValueError(f"epochs must be >= 1; got {self.epochs!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr!r}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay must be in (0, 1]; got {self.lr_decay!r}")
        if int(self.batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1; got {self.batch_size!r}")
        if self.patience is not None and int(self.patience) < 1:
            raise ValueError(f"patience must be >= 1 or None; got {self.patience!r}")
        if self.max_per_class is not None and int(self.max_per_class) < 1:
            raise ValueError(f"max_per_class must be >= 1 or None; got {self.max_per_class!r}")
        if self.resume and self.out_dir is None:
            raise ValueError("resume=True needs out_dir (where the checkpoint is)")
        if isinstance(self.devices, bool) or int(self.devices) < 1:
            raise ValueError(f"devices must be >= 1; got {self.devices!r}")
        if self.logger not in (*LOGGERS, "none"):
            raise ValueError(f"logger must be one of {', '.join(LOGGERS)}, none; got "
                             f"{self.logger!r}")  # fmt: skip
        if self.logger == "tensorboard":
            import importlib.util

            if not any(importlib.util.find_spec(m) for m in ("tensorboard", "tensorboardX")):
                raise ValueError("logger 'tensorboard' needs the tensorboard package "
                                 "(pip install tensorboard)")  # fmt: skip
        self._check_debias()

    def _check_debias(self) -> None:
        lam = self.debias_lambda
        if isinstance(lam, bool) or not isinstance(lam, int | float) or not 0 <= lam < np.inf:
            raise ValueError(f"debias_lambda must be a finite number >= 0; got {lam!r}")
        from encoders.debias import DEBIAS_METHODS

        if self.debias_method not in DEBIAS_METHODS:
            raise ValueError(f"unknown debias_method {self.debias_method!r}; choose one of "
                             f"{', '.join(DEBIAS_METHODS)}")  # fmt: skip
        cell, step = self.debias_cell_km, self.debias_dro_step
        if isinstance(cell, bool) or not isinstance(cell, int | float) or not 0 < cell < np.inf:
            raise ValueError(f"debias_cell_km must be a finite number > 0; got {cell!r}")
        if isinstance(step, bool) or not isinstance(step, int | float) or not 0 < step < np.inf:
            raise ValueError(f"debias_dro_step must be a finite number > 0; got {step!r}")
        bw = self.debias_bandwidth_km
        if isinstance(bw, bool) or not isinstance(bw, int | float) or not 0 < bw < np.inf:
            raise ValueError(f"debias_bandwidth_km must be a finite number > 0; got {bw!r}")
        if self.debias is not None:
            from encoders.losses import GEO_BIAS_KINDS

            if self.debias not in GEO_BIAS_KINDS:
                raise ValueError(
                    f"unknown debias kind {self.debias!r}; choose one of "
                    f"{', '.join(GEO_BIAS_KINDS)}"
                )
        elif lam > 0 and self.debias_method == "geobias-loss":
            raise ValueError(
                f"debias_lambda={lam!r} needs debias, the kind of geo-bias term (e.g. 'marked-ssi')"
            )
        if isinstance(self.debias_centres, bool) or int(self.debias_centres) < 1:
            raise ValueError(f"debias_centres must be >= 1; got {self.debias_centres!r}")

        parse_scale(self.debias_scale)

    def config(self) -> dict[str, Any]:
        """The options as a JSON-able dict."""
        out = asdict(self)
        out["out_dir"] = None if self.out_dir is None else str(self.out_dir)
        return out

    def _show_progress(self) -> bool:
        if self.progress == "auto":
            return sys.stderr.isatty()
        return bool(self.progress)

    def _accelerator(self) -> tuple[str, int | list[int]]:
        """Lightning's ``accelerator`` and ``devices`` for ``device`` and ``devices``."""
        dev = resolve_device(self.device)
        if dev.type == "cpu":
            return "cpu", int(self.devices)
        if dev.index is not None:
            return "gpu", [dev.index + i for i in range(int(self.devices))]
        return "gpu", int(self.devices)

    def _strategy(self) -> Any:
        """``strategy``; ``'auto'`` with several devices is ``'ddp'``.

        ``'ddp'`` is Lightning's, with its rendezvous on the loopback interface when the
        processes run on this machine (:class:`encoders.ddp.LocalDDPStrategy`).
        """
        name = "ddp" if self.strategy == "auto" and int(self.devices) > 1 else str(self.strategy)
        if name == "ddp":
            return LocalDDPStrategy()
        return name

    def _precision(self, accelerator: str) -> str:
        if self.precision is not None:
            return str(self.precision)
        if accelerator == "gpu" and self.amp:
            return "bf16-mixed" if amp_dtype() == torch.bfloat16 else "16-mixed"
        return "32-true"

    # -- the parts of fit -------------------------------------------------------------------
    def configure_module(self, model: nn.Module, dataset: GeoDataset) -> LocationTask:
        """The :class:`~encoders.module.LocationTask` of ``model`` with these options."""
        return LocationTask(
            model, dataset.task, lr=self.lr, lr_decay=self.lr_decay,
            weight_decay=self.weight_decay, rand_sample_weight=self.rand_sample_weight,
            seed=self.seed, debias=self.debias, debias_lambda=self.debias_lambda,
            debias_scale=self.debias_scale, debias_centres=int(self.debias_centres),
            debias_method=self.debias_method, debias_cell_km=float(self.debias_cell_km),
            debias_dro_step=float(self.debias_dro_step),
            debias_bandwidth_km=float(self.debias_bandwidth_km), progress=self._show_progress(),
        )  # fmt: skip

    def configure_datamodule(self, dataset: GeoDataset) -> GeoDataModule:
        """The :class:`~encoders.datamodule.GeoDataModule` of ``dataset``."""
        return GeoDataModule(dataset, batch_size=int(self.batch_size),
                             max_per_class=self.max_per_class, seed=self.seed)  # fmt: skip

    def configure_callbacks(
        self, module: LocationTask, ckpt_dir: Path, extra_log: dict | None = None
    ) -> list[L.Callback]:
        """Settings guard, random states, best and last checkpoint, early stopping, log.

        ``ModelCheckpoint`` keeps ``best.ckpt`` (the best epoch on the validation metric)
        and, with ``out_dir``, ``checkpoint.ckpt`` after every epoch; ``EarlyStopping``
        with ``patience``; :class:`~encoders.callbacks.RunLog` writes ``metrics.json``.
        """
        from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, TQDMProgressBar

        ckpt = ModelCheckpoint(
            dirpath=ckpt_dir, filename=Path(BEST_CHECKPOINT).stem, monitor=module.monitor,
            mode=module.mode, save_top_k=1, save_last=self.out_dir is not None,
            enable_version_counter=False,
        )  # fmt: skip
        ckpt.CHECKPOINT_NAME_LAST = Path(CHECKPOINT).stem
        out: list[L.Callback] = [
            SettingsGuard(jsonable(self.config()), self._check_checkpoint),
            RandomState(),
            ckpt,
        ]
        if self._show_progress():  # redrawn every few steps, not every step
            out.append(TQDMProgressBar(refresh_rate=PROGRESS_EVERY))
        if self.patience is not None:
            out.append(EarlyStopping(module.monitor, mode=module.mode, patience=int(self.patience),
                                     min_delta=float(self.min_delta)))  # fmt: skip
        path = None if self.out_dir is None else Path(self.out_dir) / "metrics.json"
        out.append(RunLog(path, extra_log, self.config()))
        return out

    def configure_loggers(self) -> list[Any]:
        """The logger of ``logger`` in ``out_dir/logs`` (none without ``out_dir``)."""
        if self.out_dir is None or self.logger == "none":
            return []
        from lightning.pytorch import loggers

        cls = getattr(loggers, LOGGERS[self.logger])
        return [cls(save_dir=str(self.out_dir), name="logs", version="")]

    def fit(
        self,
        model: nn.Module,
        dataset: GeoDataset,
        *,
        extra_log: dict | None = None,
        callbacks: list[L.Callback] | None = None,
        loggers: list[Any] | None = None,
    ) -> TrainResult:
        """Train ``model`` on ``dataset.train``, selecting the epoch on ``dataset.val``.

        Parameters
        ----------
        model : GeoClassifier or GeoRegressor
            The model (modified in place).
        dataset : GeoDataset
            Its ``task`` decides the task's loss: ``full_loss`` (classification) or MSE on
            the standardised target (regression); see :mod:`encoders.tasks`.
        extra_log : dict, optional
            Extra JSON-able entries for ``metrics.json`` (encoder name, dataset summary, ...).
        callbacks : list of lightning.Callback, optional
            Callbacks added to ours (e.g. :class:`encoders.GeoBiasCallback`).
        loggers : list of lightning loggers, optional
            Loggers used instead of the one of ``logger``.

        Returns
        -------
        TrainResult
            Each epoch of ``history`` has ``train_loss`` (the objective) and, with the
            geo-bias term, ``train_task_loss`` and ``train_geo_loss`` (the term's value
            before weighting), means over the epoch's samples.
        """
        self._check()
        accelerator, devices = self._accelerator()
        torch.manual_seed(self.seed)
        # our own draws use generators; the global numpy RNG is seeded for third-party code
        np.random.seed(self.seed % 2**32)  # noqa: NPY002
        module = self.configure_module(model, dataset)
        dm = self.configure_datamodule(dataset)
        with checkpoint_dir(self.out_dir) as ckpt_dir:
            cbs = self.configure_callbacks(module, ckpt_dir, extra_log) + list(callbacks or [])
            last = ckpt_dir / CHECKPOINT
            if self.resume and not last.is_file() and (ckpt_dir / _OLD_CHECKPOINT).is_file():
                raise InputError(
                    f"{ckpt_dir / _OLD_CHECKPOINT}: cannot resume: the checkpoint was written "
                    "by an earlier version of encoders; drop resume to retrain"
                )
            ckpt_path = str(last) if self.resume and last.is_file() else None
            if ckpt_path is not None:
                read_checkpoint(last)  # a damaged checkpoint: one line naming it
            with quiet_lightning():
                trainer = L.Trainer(
                    accelerator=accelerator, devices=devices, strategy=self._strategy(),
                    precision=self._precision(accelerator), max_epochs=int(self.epochs),
                    callbacks=cbs, logger=list(loggers) if loggers else self.configure_loggers(),
                    num_sanity_val_steps=0, enable_model_summary=False,
                    enable_progress_bar=self._show_progress(), use_distributed_sampler=False,
                    default_root_dir=str(ckpt_dir), log_every_n_steps=50,
                    plugins=[AtomicCheckpointIO()],
                )  # fmt: skip
                # the checkpoint holds random states (numpy's): not a weights-only file
                try:
                    trainer.fit(module, datamodule=dm, ckpt_path=ckpt_path, weights_only=False)
                except StopRequest as stop:
                    raise stop.interrupt from None
                except SIGTERMException:
                    check_cancelled()  # the signal our caller handles: raise it as such
                    raise
            history = module.history
            best = best_epoch(history, module.task.monitor, module.task.higher_is_better)
            best_path = trainer.checkpoint_callback.best_model_path
            if trainer.is_global_zero and best_path:
                blob = torch.load(best_path, map_location="cpu", weights_only=False)
                module.load_state_dict(blob["state_dict"])
                best = int(blob.get("encoders_epochs", best))  # the epoch of these weights
        stopped = any(cb.stopped_epoch > 0 for cb in trainer.early_stopping_callbacks)
        model.cpu().eval()
        return TrainResult(
            model=model,
            history=history,
            best_epoch=best,
            best_score=float(history[best - 1]["val"][module.task.monitor]) if best else np.nan,
            monitor=module.task.monitor,
            stopped_early=bool(stopped and len(history) < int(self.epochs)),
            device=str(trainer.strategy.root_device),
            is_global_zero=trainer.is_global_zero,
        )

    def _check_checkpoint(self, saved_config: dict[str, Any], saved_epochs: int) -> None:
        """Refuse a checkpoint written with other trainer settings (more epochs are fine)."""
        path = Path(self.out_dir or ".") / CHECKPOINT
        check_checkpoint(path, saved_config, saved_epochs, self.config())


def train_and_evaluate(
    encoder: str | None,
    dataset: GeoDataset,
    out_dir: str | Path,
    *,
    trainer: Trainer | None = None,
    hparams: dict[str, Any] | None = None,
    head: dict[str, Any] | None = None,
    predictions_path: str | Path = "predictions.csv",
    callbacks: list[L.Callback] | None = None,
    loggers: list[Any] | None = None,
) -> dict[str, Any]:
    """Train one model, evaluate it on the test split and write its outputs.

    Writes ``out_dir/model.pt`` (weights + how to rebuild them, see :func:`load_model`;
    not for the classification baseline), ``out_dir/metrics.json`` (per-epoch log, best
    epoch, test metrics) and ``out_dir/<predictions_name>`` (per-sample test predictions in
    the TorchSpatial layout, see :mod:`encoders.export`; ``predictions_path``, relative
    to ``out_dir`` unless absolute), each atomically. In a multi-process run only the
    first process writes them.

    Parameters
    ----------
    encoder : str or None
        Encoder name, or None / ``"no_prior"`` for the no-location baseline.
    dataset : GeoDataset
        The data.
    out_dir : path-like
        Output folder (created).
    trainer : Trainer, optional
        Training options (its ``out_dir`` is set to ``out_dir``); default ``Trainer()``.
        ``devices``, ``strategy``, ``precision`` and ``logger`` pass to Lightning.
    hparams, head : dict, optional
        Encoder hyper-parameters and regressor options (see :func:`build_model`).
    predictions_path : path-like, default='predictions.csv'
        Where the per-sample predictions go (relative paths are inside ``out_dir``).
    callbacks, loggers : list, optional
        Passed to :meth:`Trainer.fit`.

    Returns
    -------
    dict
        The content of ``metrics.json`` (in the other processes of a multi-process run:
        what they know, with ``"status": "worker"``).

    Raises
    ------
    InputError
        With ``trainer.resume``, when ``out_dir`` holds a run whose settings differ from the
        requested ones (see :func:`check_resume`).
    """
    from encoders.export import export_predictions

    out = Path(out_dir)
    tr = copy.copy(trainer) if trainer is not None else Trainer()
    tr.out_dir = out
    name = NO_PRIOR if encoder in (None, NO_PRIOR) else encoder
    settings = run_settings(encoder, dataset, tr, hparams, head)
    if tr.resume:
        check_resume(out, settings)
    out.mkdir(parents=True, exist_ok=True)
    model = build_model(encoder, dataset, hparams=hparams, head=head, seed=tr.seed)
    extra = {k: settings[k] for k in ("model", "dataset", "hparams", "head")}
    t0 = time.perf_counter()
    if model is None:  # classification baseline: the image prediction alone
        result, history = None, []
    else:
        result = tr.fit(model, dataset, extra_log=extra, callbacks=callbacks, loggers=loggers)
        if not result.is_global_zero:
            return {**extra, "trainer": tr.config(), "epochs": result.history, "status": "worker"}
        history = result.history
        spec = model_spec(result.model, dataset, head)
        save_atomic({"spec": spec, "state_dict": result.model.state_dict()}, out / "model.pt")
    train_s = time.perf_counter() - t0
    test_metrics, pred = evaluate(
        None if result is None else result.model, dataset.test, dataset.task,
        device=tr.device, amp=tr.amp,
    )  # fmt: skip
    export_predictions(out / predictions_path, dataset.test, pred, dataset.task)
    doc = {
        **extra,
        "trainer": tr.config(),
        "device": "cpu" if result is None else result.device,
        "monitor": None if result is None else result.monitor,
        "best_epoch": None if result is None else result.best_epoch,
        "best_score": None if result is None else result.best_score,
        "stopped_early": False if result is None else result.stopped_early,
        "epochs": history,
        "train_time_s": round(train_s, 3),
        "test": test_metrics,
        "status": "finished",
    }
    write_text_atomic(out / "metrics.json", json.dumps(doc, indent=2, default=str) + "\n")
    log.info("%s on %s: test %s", name, dataset.name, test_metrics)
    return doc
