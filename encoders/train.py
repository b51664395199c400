"""Training and evaluation of geo-aware models (TorchSpatial's LocBench protocol).

:class:`Trainer` follows sklearn's habit: the constructor stores the options, the work
happens in :meth:`Trainer.fit`. It is seeded (torch and numpy), picks the device
(``"auto"``: CUDA when available), uses mixed precision on CUDA only, trains with Adam and
a per-epoch learning-rate decay ``lr · lr_decay^epoch`` (TorchSpatial's schedule), evaluates
on the validation split after every epoch, keeps the best epoch (early stopping with
``patience``), writes a checkpoint after every epoch (``resume=True`` continues from it,
giving the same result as an uninterrupted run on CPU) and a JSON log ``metrics.json``.

:meth:`Trainer.fit` is put together from parts chosen once per fit, in torchgeo's manner:
the task (:mod:`encoders.tasks`: model head, loss, metrics), the loss terms
(:meth:`Trainer.configure_losses`: the task's loss plus, with ``debias_lambda > 0``, the
geo-bias term of docs/debiasing.md), one step function, and the callbacks
(:mod:`encoders.callbacks`: model selection, early stopping, logging, checkpoints).

:func:`train_and_evaluate` is the whole job of ``encoders train``: build the model, fit,
predict the test split, write ``model.pt``, ``metrics.json`` and ``predictions.csv``.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from encoders.callbacks import (
    BestModel,
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochLog,
    FitState,
    MetricsLog,
    ProgressBar,
)
from encoders.data import GeoDataset, Split
from encoders.tasks import EVAL_BATCH, Task, amp_dtype, get_task
from pygbs.outputs import atomic_path, write_text_atomic
from pygbs.runtime import check_interrupt

__all__ = [
    "NO_PRIOR",
    "GeoBiasTerm",
    "LossTerm",
    "TaskLoss",
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

#: Name of the no-location baseline (TorchSpatial's ``no_prior`` files).
NO_PRIOR = "no_prior"
#: Checkpoint file written after every epoch (inside ``out_dir``).
CHECKPOINT = "checkpoint.pt"
#: Trainer options that say where and how a run is shown, not what it computes: they may
#: change when a run is resumed (docs/training.md, "Resuming a run").
_RUN_ONLY = frozenset({"device", "progress", "out_dir", "resume"})
#: Kind of geo-bias term of the command line when only a weight is given: the one whose
#: reductions were significant at small accuracy cost (docs/debiasing.md, "The measured
#: trade-off").
DEFAULT_DEBIAS = "performance-ssi"
#: Trainer options of the geo-bias term; they decide nothing while ``debias_lambda`` is 0.
_DEBIAS_OPTIONS = ("debias", "debias_lambda", "debias_scale", "debias_centres")


def _deciding(trainer: dict[str, Any]) -> dict[str, Any]:
    """The trainer options that decide a run's result.

    Leaves out those of ``_RUN_ONLY`` and, while ``debias_lambda`` is 0 (or not recorded,
    as in runs written before the geo-bias term existed), those of the geo-bias term: such
    a run is the plain run, whatever kind or scale is named.
    """
    out = {k: v for k, v in trainer.items() if k not in _RUN_ONLY}
    if not out.get("debias_lambda"):
        for k in _DEBIAS_OPTIONS:
            out.pop(k, None)
    return out


def _jsonable(obj: Any) -> Any:
    """``obj`` as it reads back from ``metrics.json`` (tuples become lists, ...)."""
    return json.loads(json.dumps(obj, default=str))


def run_settings(
    encoder: str | None,
    dataset: GeoDataset,
    trainer: Trainer,
    hparams: dict[str, Any] | None = None,
    head: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The settings that decide a run's result, as recorded in its ``metrics.json``.

    Parameters
    ----------
    encoder : str or None
        Encoder name, or None / ``"no_prior"`` for the baseline.
    dataset : GeoDataset
        The data (its :meth:`~encoders.data.GeoDataset.summary` is recorded).
    trainer : Trainer
        Training options (those in ``_RUN_ONLY`` are left out: device, progress bars,
        folder and the resume flag do not change what is computed; so are the geo-bias
        options while ``debias_lambda`` is 0).
    hparams, head : dict, optional
        Encoder hyper-parameters and regressor options.

    Returns
    -------
    dict
        ``model``, ``dataset``, ``hparams``, ``head`` and ``trainer``, JSON-normalised.
    """
    name = NO_PRIOR if encoder in (None, NO_PRIOR) else encoder
    return _jsonable(
        {
            "model": name,
            "dataset": dataset.summary(),
            "hparams": dict(hparams or {}),
            "head": dict(head or {}),
            "trainer": _deciding(trainer.config()),
        }
    )


def _first_difference(saved: Any, wanted: Any, key: str) -> tuple[str, Any, Any] | None:
    """The first ``(dotted key, saved, wanted)`` that differs, or None."""
    if isinstance(saved, dict) and isinstance(wanted, dict):
        for k in list(wanted) + [k for k in saved if k not in wanted]:
            sub = f"{key}.{k}" if key else str(k)
            if k not in saved:
                return sub, "<not recorded>", wanted[k]
            if k not in wanted:
                return sub, saved[k], "<not set>"
            diff = _first_difference(saved[k], wanted[k], sub)
            if diff is not None:
                return diff
        return None
    return None if saved == wanted else (key, saved, wanted)


def check_resume(run_dir: str | Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    """Refuse to resume a run whose saved settings differ from the requested ones.

    A run may be continued with a larger ``trainer.epochs`` than it was started with (it
    trains on from its checkpoint); every other setting of :func:`run_settings` must be
    equal (docs/training.md, "Resuming a run").

    Parameters
    ----------
    run_dir : path-like
        The run's folder (holding ``metrics.json`` and ``checkpoint.pt``).
    settings : dict
        The requested settings, from :func:`run_settings`.

    Returns
    -------
    dict or None
        The saved ``metrics.json`` (None when the folder holds no run yet).

    Raises
    ------
    InputError
        One line naming the run folder, the first differing setting and both values.
    """
    from pygbs.errors import InputError

    run = Path(run_dir)
    log_path = run / "metrics.json"
    if not log_path.is_file():
        if (run / CHECKPOINT).is_file():
            raise InputError(
                f"{run}: cannot resume: {CHECKPOINT} has no metrics.json beside it, so its "
                "settings cannot be checked; delete the folder or train without --resume"
            )
        return None
    try:
        doc = json.loads(log_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{log_path}: cannot read the saved run: {err}") from None
    saved = {k: doc.get(k, "<not recorded>") for k in settings}
    wanted = dict(settings)
    done = len(doc.get("epochs") or [])
    saved_trainer, wanted_trainer = saved.get("trainer"), wanted.get("trainer")
    if isinstance(saved_trainer, dict) and isinstance(wanted_trainer, dict):
        saved["trainer"] = _deciding(saved_trainer)
        want_epochs = wanted_trainer.get("epochs")
        if isinstance(want_epochs, int) and want_epochs >= max(done, 1):
            # more epochs than trained so far: the run continues from its checkpoint
            saved["trainer"]["epochs"] = want_epochs
    diff = _first_difference(saved, wanted, "")
    if diff is None:
        return doc
    key, was, now = diff
    extra = f" after {done} trained epoch(s)" if key == "trainer.epochs" else ""
    raise InputError(
        f"{run}: cannot resume: setting {key} is {was!r} in the saved run{extra} but "
        f"{now!r} was requested; drop --resume (resume=False) to retrain, or use another "
        "output folder"
    )


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


def _model_spec(model: nn.Module, dataset: GeoDataset, head: dict[str, Any] | None) -> dict:
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


class LossTerm:
    """One weighted term of the training objective (see :meth:`Trainer.configure_losses`).

    The objective of a step is the sum of ``weight * term(model, idx)`` over the terms.
    A term with random draws of its own keeps them in its own generator and returns its
    state from :meth:`state_dict` (saved in the checkpoint).
    """

    #: Name in the per-epoch log (``train_<name>_loss``) and in the checkpoint.
    name: str = ""
    #: Weight of the term in the objective.
    weight: float = 1.0

    def __call__(self, model: nn.Module, idx: torch.Tensor) -> torch.Tensor:
        """The term's value on one step (``idx``: the step's training rows)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Random state to checkpoint (empty when the term draws nothing)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


class TaskLoss(LossTerm):
    """The task's own loss (:meth:`encoders.tasks.Task.training_step`), weight 1.

    Parameters
    ----------
    task : Task
        The task (set up on the training split).
    generator : torch.Generator
        The trainer's generator (background locations of the classification loss).
    """

    name = "task"

    def __init__(self, task: Task, generator: torch.Generator) -> None:
        self.task = task
        self.generator = generator

    def __call__(self, model: nn.Module, idx: torch.Tensor) -> torch.Tensor:
        """The task's loss on the rows ``idx``."""
        return self.task.training_step(model, idx, self.generator)


#: Stream number of the geo-bias term's generator, derived from the trainer's seed.
_GEO_STREAM = 1


class GeoBiasTerm(LossTerm):
    """The geo-bias term: ``GeoBiasLoss`` of the model's soft performance (docs/debiasing.md).

    Each step draws its own centres (:meth:`encoders.losses.GeoBiasLoss.sample`, with a
    generator of its own seeded from the trainer's seed, so the trainer's other draws are
    those of a run without the term), computes the model's soft performance on the rows
    those centres need, and returns the loss's mean surrogate score over the centres.

    Parameters
    ----------
    loss : encoders.losses.GeoBiasLoss
        Built once per fit on the training locations.
    task : Task
        The task (its :meth:`~encoders.tasks.Task.soft_performance`).
    weight : float
        ``debias_lambda``.
    seed : int
        The trainer's seed.
    """

    name = "geo"

    def __init__(self, loss: Any, task: Task, weight: float, seed: int) -> None:
        self.loss = loss
        self.task = task
        self.weight = float(weight)
        stream = np.random.SeedSequence([int(seed) % 2**63, _GEO_STREAM])
        self.generator = torch.Generator().manual_seed(int(stream.generate_state(1, np.uint64)[0]))

    def __call__(self, model: nn.Module, idx: torch.Tensor) -> torch.Tensor:
        """The geo-bias loss of one draw of centres (``idx`` is not used)."""
        batch = self.loss.sample(self.generator).to(self.task.device)
        return self.loss(self.task.soft_performance(model, batch.rows), batch)

    def state_dict(self) -> dict[str, Any]:
        """The state of the centre generator."""
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the centre generator."""
        self.generator.set_state(state["generator"])


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
    """

    model: nn.Module
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = float("nan")
    monitor: str = ""
    stopped_early: bool = False
    device: str = "cpu"


def _check_finite_loss(step: dict[str, float], epoch: int, batch: int) -> None:
    """Stop a diverged run: a non-finite loss value would train on garbage (and NaN scores)."""
    bad = {k: v for k, v in step.items() if not math.isfinite(v)}
    if bad:
        from pygbs.errors import InputError

        what = ", ".join(f"{k} {v}" for k, v in bad.items())
        raise InputError(
            f"training diverged at epoch {epoch + 1}, batch {batch + 1} ({what}); lower the "
            "learning rate or the weight of the geo-bias term (debias_lambda)"
        )


@dataclass
class Trainer:
    """Seeded trainer of geo-aware classifiers and regressors.

    Parameters
    ----------
    epochs : int, default=10
        Maximum number of epochs.
    lr : float, default=1e-3
        Adam learning rate of the first epoch.
    lr_decay : float, default=0.98
        Per-epoch factor: epoch ``e`` (0-based) uses ``lr · lr_decay**e``.
    batch_size : int, default=1024
        Training batch size (classification: plus as many random background locations).
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
        Smallest change of the validation metric that counts as improvement.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where to train.
    amp : bool, default=True
        Mixed precision (bfloat16, or float16 with loss scaling) on CUDA; ignored on CPU.
    seed : int, default=0
        Seed of the batches, background points, dropout (torch and numpy are seeded).
    progress : bool or 'auto', default='auto'
        tqdm progress bar; ``'auto'`` shows it only when stderr is a terminal.
    out_dir : path-like or None, default=None
        Where the per-epoch checkpoint and ``metrics.json`` go (nothing written when None).
    resume : bool, default=False
        Continue from ``out_dir/checkpoint.pt`` when it exists. The checkpoint must have
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
        self._check_debias()

    def _check_debias(self) -> None:
        lam = self.debias_lambda
        if isinstance(lam, bool) or not isinstance(lam, int | float) or not 0 <= lam < np.inf:
            raise ValueError(f"debias_lambda must be a finite number >= 0; got {lam!r}")
        if self.debias is not None:
            from encoders.losses import GEO_BIAS_KINDS

            if self.debias not in GEO_BIAS_KINDS:
                raise ValueError(
                    f"unknown debias kind {self.debias!r}; choose one of "
                    f"{', '.join(GEO_BIAS_KINDS)}"
                )
        elif lam > 0:
            raise ValueError(
                f"debias_lambda={lam!r} needs debias, the kind of geo-bias term (e.g. 'marked-ssi')"
            )
        if isinstance(self.debias_centres, bool) or int(self.debias_centres) < 1:
            raise ValueError(f"debias_centres must be >= 1; got {self.debias_centres!r}")
        from pygbs.scales import parse_scale

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

    def _epoch_order(self, labels: np.ndarray | None, n: int, gen: torch.Generator) -> np.ndarray:
        perm = torch.randperm(n, generator=gen).numpy()
        if self.max_per_class is None or labels is None:
            return perm
        lab = labels[perm]
        order = np.argsort(lab, kind="stable")
        sorted_lab = lab[order]
        starts = np.searchsorted(sorted_lab, sorted_lab, side="left")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n) - starts
        return perm[rank < int(self.max_per_class)]

    # -- the parts of fit, chosen once per fit ---------------------------------------------
    def configure_task(self, dataset: GeoDataset) -> Task:
        """The task object of ``dataset.task`` (:mod:`encoders.tasks`)."""
        return get_task(dataset.task, rand_sample_weight=self.rand_sample_weight)

    def configure_optimizers(
        self, model: nn.Module, device: torch.device
    ) -> tuple[torch.optim.Optimizer, torch.amp.GradScaler]:
        """Adam and the gradient scaler (active with float16 mixed precision only)."""
        opt = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        use_amp = bool(self.amp) and device.type == "cuda"
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype() == torch.float16)
        return opt, scaler

    def configure_losses(
        self, task: Task, dataset: GeoDataset, generator: torch.Generator
    ) -> list[LossTerm]:
        """The terms of the objective: the task's loss, plus the geo-bias term when on.

        With ``debias_lambda > 0`` the geo-bias loss is built here, once, on the training
        locations (``encoders.losses.GeoBiasLoss``; its neighbourhoods are computed with
        the pygbs kernels, which may take a while on large data).

        Raises
        ------
        InputError
            When no centre can be scored at ``debias_scale`` (one line, from the loss).
        """
        terms: list[LossTerm] = [TaskLoss(task, generator)]
        if self.debias_lambda > 0:
            from encoders.losses import GeoBiasLoss

            loss = GeoBiasLoss(
                dataset.train.lonlat, kind=self.debias, scale=self.debias_scale,
                centres_per_batch=int(self.debias_centres), seed=self.seed,
                progress=self._show_progress(),
            )  # fmt: skip
            terms.append(GeoBiasTerm(loss, task, self.debias_lambda, self.seed))
        return terms

    def configure_callbacks(self, extra_log: dict | None = None) -> list[Callback]:
        """Progress bar, model selection, log line, early stopping, checkpoint, metrics.json.

        They run in this order at every hook.
        """
        out: list[Callback] = [ProgressBar()] if self._show_progress() else []
        out += [BestModel(self.min_delta), EpochLog()]
        if self.patience is not None:
            out.append(EarlyStopping(int(self.patience)))
        if self.out_dir is not None:
            out_dir = Path(self.out_dir)
            out.append(Checkpoint(out_dir / CHECKPOINT, self.resume, self._check_checkpoint))
            out.append(MetricsLog(out_dir / "metrics.json", extra_log))
        return out

    @staticmethod
    def _step(state: FitState, idx: torch.Tensor) -> dict[str, float]:
        """One optimiser step on the training rows ``idx``; the value of each loss term."""
        dev = state.device
        use_amp = bool(state.config["amp"]) and dev.type == "cuda"
        with torch.autocast(dev.type, dtype=amp_dtype(), enabled=use_amp):
            values = {t.name: t(state.model, idx) for t in state.terms}
            loss = None
            for t in state.terms:
                v = values[t.name] if t.weight == 1.0 else t.weight * values[t.name]
                loss = v if loss is None else loss + v
        state.optimizer.zero_grad(set_to_none=True)
        state.scaler.scale(loss).backward()
        state.scaler.step(state.optimizer)
        state.scaler.update()
        out = {"loss": float(loss.detach())}
        if len(values) > 1:
            out.update({k: float(v.detach()) for k, v in values.items()})
        return out

    def fit(
        self, model: nn.Module, dataset: GeoDataset, *, extra_log: dict | None = None
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

        Returns
        -------
        TrainResult
            Each epoch of ``history`` has ``train_loss`` (the objective) and, with the
            geo-bias term, ``train_task_loss`` and ``train_geo_loss`` (the term's value
            before weighting), means over the epoch's samples.
        """
        self._check()
        dev = resolve_device(self.device)
        torch.manual_seed(self.seed)
        # our own draws use `gen`; the global numpy RNG is seeded for third-party code
        np.random.seed(self.seed % 2**32)  # noqa: NPY002
        gen = torch.Generator().manual_seed(self.seed)
        task = self.configure_task(dataset)
        train = dataset.train
        task.setup(model, train, dev)
        model.to(dev)
        opt, scaler = self.configure_optimizers(model, dev)
        state = FitState(
            model=model, optimizer=opt, scaler=scaler, device=dev, epochs=int(self.epochs),
            generator=gen, terms=self.configure_losses(task, dataset, gen),
            config=self.config(), monitor=task.monitor, higher_is_better=task.higher_is_better,
        )  # fmt: skip
        callbacks = self.configure_callbacks(extra_log)
        for cb in callbacks:
            cb.on_fit_start(state)

        labels = task.epoch_labels(train)
        for epoch in range(state.start, int(self.epochs)):
            if state.stopped:
                break
            state.epoch = epoch
            t0 = time.perf_counter()
            lr = self.lr * self.lr_decay**epoch
            for group in opt.param_groups:
                group["lr"] = lr
            model.train()
            order = torch.from_numpy(self._epoch_order(labels, len(train), gen)).to(dev)
            batches = range(0, order.numel(), int(self.batch_size))
            state.batches = len(batches)
            for cb in callbacks:
                cb.on_epoch_start(state)
            sums: dict[str, float] = {}
            count = 0
            for i in batches:
                check_interrupt()  # stop between batches (the last epoch's checkpoint stays)
                idx = order[i : i + int(self.batch_size)]
                step = self._step(state, idx)
                _check_finite_loss(step, epoch, i // int(self.batch_size))
                for k, v in step.items():
                    sums[k] = sums.get(k, 0.0) + v * idx.numel()
                count += idx.numel()
                state.running_loss = sums["loss"] / count
                for cb in callbacks:
                    cb.on_batch_end(state)
            for cb in callbacks:
                cb.on_train_epoch_end(state)
            val_metrics, _ = evaluate(model, dataset.val, task.name, device=dev, amp=self.amp)
            n = max(count, 1)
            entry = {"epoch": epoch + 1, "lr": lr, "train_loss": sums.get("loss", 0.0) / n}
            entry.update({f"train_{k}_loss": v / n for k, v in sums.items() if k != "loss"})
            entry["val"] = val_metrics
            entry["time_s"] = round(time.perf_counter() - t0, 3)
            state.history.append(entry)
            for cb in callbacks:
                cb.on_epoch_end(state)
            if state.stopped:
                break

        for cb in callbacks:
            cb.on_fit_end(state)
        model.cpu().eval()
        return TrainResult(
            model=model,
            history=state.history,
            best_epoch=int(state.best["epoch"]),
            best_score=float(state.best["score"]),
            monitor=state.monitor,
            stopped_early=bool(state.stopped),
            device=str(dev),
        )

    def _check_checkpoint(self, ckpt: Path, blob: dict[str, Any]) -> None:
        """Refuse a checkpoint written with other trainer settings (more epochs are fine)."""
        from pygbs.errors import InputError

        saved = _deciding(_jsonable(blob.get("config") or {}))
        wanted = _deciding(_jsonable(self.config()))
        if int(self.epochs) >= int(blob.get("epoch", 0)):
            saved["epochs"] = wanted["epochs"]
        diff = _first_difference(saved, wanted, "trainer")
        if diff is not None:
            key, was, now = diff
            raise InputError(
                f"{ckpt}: cannot resume: setting {key} is {was!r} in the checkpoint (after "
                f"epoch {blob.get('epoch')}) but {now!r} was requested; drop resume to retrain"
            )


def train_and_evaluate(
    encoder: str | None,
    dataset: GeoDataset,
    out_dir: str | Path,
    *,
    trainer: Trainer | None = None,
    hparams: dict[str, Any] | None = None,
    head: dict[str, Any] | None = None,
    predictions_path: str | Path = "predictions.csv",
) -> dict[str, Any]:
    """Train one model, evaluate it on the test split and write its outputs.

    Writes ``out_dir/model.pt`` (weights + how to rebuild them, see :func:`load_model`;
    not for the classification baseline), ``out_dir/metrics.json`` (per-epoch log, best
    epoch, test metrics) and ``out_dir/<predictions_name>`` (per-sample test predictions in
    the TorchSpatial layout, see :mod:`encoders.export`; ``predictions_path``, relative
    to ``out_dir`` unless absolute), each atomically.

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
    hparams, head : dict, optional
        Encoder hyper-parameters and regressor options (see :func:`build_model`).
    predictions_path : path-like, default='predictions.csv'
        Where the per-sample predictions go (relative paths are inside ``out_dir``).

    Returns
    -------
    dict
        The content of ``metrics.json``.

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
        result = tr.fit(model, dataset, extra_log=extra)
        history = result.history
        spec = _model_spec(result.model, dataset, head)
        with atomic_path(out / "model.pt") as tmp:
            torch.save({"spec": spec, "state_dict": result.model.state_dict()}, tmp)
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
