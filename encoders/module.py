"""``LocationTask``: a geo-aware classifier or regressor as a ``LightningModule``.

The model (encoder and head, :func:`encoders.train.build_model`), its objective and its
validation metrics, in torchgeo's manner: :meth:`LocationTask.configure_losses` (the task's
loss plus, with ``debias_lambda > 0``, the weighted geo-bias term of docs/debiasing.md),
:meth:`LocationTask.configure_metrics` (the validation predictions, gathered over all
processes) and :meth:`LocationTask.configure_optimizers` (Adam with TorchSpatial's
per-epoch decay ``lr * lr_decay**epoch``). ``lightning.Trainer`` runs the loop; the data
come from :class:`encoders.datamodule.GeoDataModule`.

The objective is a list of :class:`LossTerm` objects, each called on the model and the
batch; a subclass adds a term by extending :meth:`LocationTask.configure_losses`.
"""

from __future__ import annotations

import math
import time
from typing import Any

import lightning as L
import numpy as np
import torch
import torchmetrics
from torch import Tensor, nn

from encoders.data import Split
from encoders.datamodule import seeded_generator
from encoders.tasks import Task, get_task
from pygbs.errors import Interrupted
from pygbs.runtime import check_interrupt

__all__ = [
    "GeoBiasTerm",
    "GroupDROTerm",
    "LocationTask",
    "LossTerm",
    "ReweightTerm",
    "StopRequest",
    "TaskLoss",
]

#: Stream numbers of the generators derived from the seed (per process where it matters).
_GEO_STREAM = 1
_BACKGROUND_STREAM = 2
#: Training steps between two checks of the loss values (a check waits for the device).
CHECK_EVERY = 50


class StopRequest(Exception):
    """A signal arrived during training; ``interrupt`` is the :class:`pygbs.errors.Interrupted`."""

    def __init__(self, interrupt: Interrupted) -> None:
        super().__init__(str(interrupt))
        self.interrupt = interrupt


class LossTerm:
    """One weighted term of the training objective (see :meth:`LocationTask.configure_losses`).

    The objective of a step is the sum of ``weight * term(model, batch)`` over the terms.
    A term with random draws of its own keeps them in its own generator, returned by
    :meth:`rng_generators` (checkpoints keep its state).
    """

    #: Name in the per-epoch log (``train_<name>_loss``).
    name: str = ""
    #: Weight of the term in the objective.
    weight: float = 1.0

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        """The term's value on one step."""
        raise NotImplementedError

    def rng_generators(self) -> dict[str, torch.Generator]:
        """The term's own generators (name -> generator); empty when it draws nothing."""
        return {}

    def state(self) -> dict[str, Any]:
        """State a checkpoint keeps besides the generators (empty: none)."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state`."""


class TaskLoss(LossTerm):
    """The task's own loss (:meth:`encoders.tasks.Task.training_step`), weight 1.

    Parameters
    ----------
    task : Task
        The task.
    generator : torch.Generator
        The background locations' generator (classification).
    keep_per_sample : bool, default=False
        Compute the loss per row (:meth:`encoders.tasks.Task.per_sample_loss`, the same
        draws) and keep it in :attr:`per_sample` for the terms that weight it.
    """

    name = "task"

    def __init__(
        self, task: Task, generator: torch.Generator, keep_per_sample: bool = False
    ) -> None:
        self.task = task
        self.generator = generator
        self.keep_per_sample = bool(keep_per_sample)
        self.per_sample: Tensor | None = None

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        """The task's loss on the batch."""
        if not self.keep_per_sample:
            return self.task.training_step(model, batch, self.generator)
        self.per_sample = self.task.per_sample_loss(model, batch, self.generator)
        return self.per_sample.mean()


class ReweightTerm(LossTerm):
    """Inverse-density re-weighted task loss, ``mean_i w_i l_i`` (docs/debiasing.md).

    Parameters
    ----------
    task_loss : TaskLoss
        The task term (``keep_per_sample=True``), called before this one in each step.
    weights : torch.Tensor
        ``(n_train,)`` weight of each training row
        (:func:`encoders.debias.inverse_density_weights`).
    weight : float
        ``debias_lambda``.
    """

    name = "reweight"

    def __init__(self, task_loss: TaskLoss, weights: Tensor, weight: float) -> None:
        self.task_loss = task_loss
        self.weights = weights
        self.weight = float(weight)

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        """The weighted mean of the batch's per-sample losses."""
        losses = self.task_loss.per_sample
        w = self.weights.to(losses.device)[batch["rows"].to(losses.device)]
        return (w.to(losses.dtype) * losses).mean()


class GroupDROTerm(LossTerm):
    """Group DRO over equal-area cells (:class:`encoders.debias.GroupDRO`).

    Parameters
    ----------
    task_loss : TaskLoss
        The task term (``keep_per_sample=True``), called before this one in each step.
    groups : torch.Tensor
        ``(n_train,)`` int64 cell of each training row.
    weight : float
        ``debias_lambda``.
    step : float
        Step size of the exponentiated-gradient update.
    """

    name = "dro"

    def __init__(self, task_loss: TaskLoss, groups: Tensor, weight: float, step: float) -> None:
        from encoders.debias import GroupDRO

        self.task_loss = task_loss
        self.groups = groups
        self.weight = float(weight)
        self.dro = GroupDRO(int(groups.max()) + 1, step)

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        """The batch's robust loss (the group weights move once per call)."""
        losses = self.task_loss.per_sample
        return self.dro(losses, self.groups.to(losses.device)[batch["rows"].to(losses.device)])

    def state(self) -> dict[str, Any]:
        """The group weights."""
        return self.dro.state()

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore the group weights."""
        self.dro.load_state(state)


class GeoBiasTerm(LossTerm):
    """The geo-bias term: ``GeoBiasLoss`` of the model's soft performance (docs/debiasing.md).

    Each step draws its own centres (:meth:`encoders.losses.GeoBiasLoss.sample`, with a
    generator of its own, so the other draws are those of a run without the term),
    computes the model's soft performance on the training rows those centres need, and
    returns the loss's mean surrogate score over the centres.

    Parameters
    ----------
    loss : encoders.losses.GeoBiasLoss
        Built once per fit on the training locations.
    task : Task
        The task, set up on the training split (its
        :meth:`~encoders.tasks.Task.soft_performance`).
    weight : float
        ``debias_lambda``.
    generator : torch.Generator
        Source of the centre draws.
    """

    name = "geo"

    def __init__(self, loss: Any, task: Task, weight: float, generator: torch.Generator) -> None:
        self.loss = loss
        self.task = task
        self.weight = float(weight)
        self.generator = generator

    def __call__(self, model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        """The geo-bias loss of one draw of centres (the batch is not used)."""
        draw = self.loss.sample(self.generator).to(self.task.device)
        return self.loss(self.task.soft_performance(model, draw.rows), draw)

    def rng_generators(self) -> dict[str, torch.Generator]:
        """The centre generator."""
        return {"geo": self.generator}


class _RowOutputs(torchmetrics.Metric):
    """Per-row outputs of the evaluation batches, gathered over processes in row order."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("rows", default=[], dist_reduce_fx="cat")
        self.add_state("outputs", default=[], dist_reduce_fx="cat")

    def update(self, rows: Tensor, outputs: Tensor) -> None:
        """Add one batch (``rows``: row numbers; ``outputs``: one row of output per row)."""
        self.rows.append(rows.reshape(-1))
        self.outputs.append(outputs.double())

    def compute(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, outputs)`` as arrays, one entry per row number, sorted."""
        rows = torchmetrics.utilities.dim_zero_cat(self.rows).cpu().numpy()
        out = torchmetrics.utilities.dim_zero_cat(self.outputs).cpu().numpy()
        uniq, first = np.unique(rows, return_index=True)
        return uniq, out[first]


def check_finite_loss(step: dict[str, float], epoch: int, batch: int) -> None:
    """Stop a diverged run: a non-finite loss value would train on garbage (and NaN scores)."""
    bad = {k: v for k, v in step.items() if not math.isfinite(v)}
    if bad:
        from pygbs.errors import InputError

        what = ", ".join(f"{k} {v}" for k, v in bad.items())
        raise InputError(
            f"training diverged at epoch {epoch + 1}, batch {batch + 1} ({what}); lower the "
            "learning rate or the weight of the geo-bias term (debias_lambda)"
        )


class LocationTask(L.LightningModule):
    """Train a geo-aware model with Lightning: the task loss and the geo-bias term.

    Parameters
    ----------
    model : torch.nn.Module
        :class:`~encoders.models.GeoClassifier` or :class:`~encoders.models.GeoRegressor`
        (:func:`encoders.train.build_model`).
    task : str
        ``'classification'`` or ``'regression'`` (the dataset's task).
    lr : float, default=1e-3
        Adam learning rate of the first epoch.
    lr_decay : float, default=0.98
        Epoch ``e`` (0-based) trains at ``lr * lr_decay**e``.
    weight_decay : float, default=0.0
        Adam weight decay.
    rand_sample_weight : float, default=1.0
        Weight of the background term of ``full_loss`` (classification).
    seed : int, default=0
        Seed of the background locations (with one process they share the data module's
        generator, as the batch order does) and of the geo-bias term's centres.
    debias : str or None, default=None
        Kind of geo-bias term (:data:`encoders.losses.GEO_BIAS_KINDS`).
    debias_lambda : float, default=0.0
        Its weight (0: no term).
    debias_scale : str, default='nn50'
        Its neighbourhood scale.
    debias_centres : int, default=256
        Centres drawn per step.
    debias_method : {'geobias-loss', 'reweight', 'group-dro'}, default='geobias-loss'
        The term weighted by ``debias_lambda`` (:data:`encoders.debias.DEBIAS_METHODS`).
    debias_cell_km : float, default=1000
        Side of the equal-area cells of ``reweight`` and ``group-dro``.
    debias_dro_step : float, default=0.01
        Step size of the group DRO weights.
    progress : bool, default=False
        Show a progress bar while the geo-bias term's tables are built.

    Examples
    --------
    Without :class:`encoders.Trainer` (which adds the checkpoints, the resume guarantees and
    ``metrics.json``), with Lightning alone:

    >>> import lightning as L  # doctest: +SKIP
    >>> from encoders import GeoDataModule, LocationTask, load_dataset  # doctest: +SKIP
    >>> from encoders.train import build_model  # doctest: +SKIP
    >>> ds = load_dataset("synthetic-vmf", n_train=5000)  # doctest: +SKIP
    >>> task = LocationTask(build_model("xyz", ds), ds.task, lr=0.005)  # doctest: +SKIP
    >>> L.Trainer(max_epochs=3).fit(task, datamodule=GeoDataModule(ds))  # doctest: +SKIP
    >>> task.history[-1]["val"]  # doctest: +SKIP

    Attributes
    ----------
    history : list of dict
        One entry per validated epoch: ``epoch`` (1-based), ``lr``, ``train_loss`` (the
        objective, mean over the epoch's rows), ``train_<term>_loss`` per term when there
        are several, ``val`` (the task's metrics) and ``time_s``. Kept in checkpoints.
    """

    def __init__(
        self,
        model: nn.Module,
        task: str,
        *,
        lr: float = 1e-3,
        lr_decay: float = 0.98,
        weight_decay: float = 0.0,
        rand_sample_weight: float = 1.0,
        seed: int = 0,
        debias: str | None = None,
        debias_lambda: float = 0.0,
        debias_scale: str = "nn50",
        debias_centres: int = 256,
        debias_method: str = "geobias-loss",
        debias_cell_km: float = 1000.0,
        debias_dro_step: float = 0.01,
        progress: bool = False,
    ) -> None:
        super().__init__()
        self.model = model
        self.task = get_task(task, rand_sample_weight=rand_sample_weight)
        self.lr, self.lr_decay, self.weight_decay = float(lr), float(lr_decay), weight_decay
        self.seed = int(seed)
        self.debias, self.debias_lambda = debias, float(debias_lambda)
        self.debias_scale, self.debias_centres = debias_scale, int(debias_centres)
        self.debias_method = str(debias_method)
        self.debias_cell_km, self.debias_dro_step = float(debias_cell_km), float(debias_dro_step)
        self._pending_state: dict[str, Any] = {}
        self.progress = bool(progress)
        self.history: list[dict[str, Any]] = []
        self.terms: list[LossTerm] = []
        self.generator: torch.Generator | None = None
        self.val_outputs = self.configure_metrics()
        self._sums: dict[str, float] = {}
        self._count = 0
        self._pending_steps: list[tuple[int, int, Tensor]] = []
        self._t0 = 0.0

    # -- the parts, torchgeo's names ---------------------------------------------------------
    @property
    def monitor(self) -> str:
        """The logged validation metric that picks the best epoch (``val_mrr``, ``val_rmse``)."""
        return f"val_{self.task.monitor}"

    @property
    def mode(self) -> str:
        """``'max'`` or ``'min'``: the direction of :attr:`monitor`."""
        return "max" if self.task.higher_is_better else "min"

    def configure_metrics(self) -> torchmetrics.Metric:
        """The validation outputs, gathered over processes (the task's metrics use them)."""
        return _RowOutputs()

    def configure_losses(self, train: Split) -> list[LossTerm]:
        """The terms of the objective: the task's loss, plus the geo-bias term when on.

        With ``debias_lambda > 0`` the geo-bias loss is built here, once, on the training
        locations (``encoders.losses.GeoBiasLoss``; its neighbourhoods are computed with
        the pygbs kernels, which may take a while on large data).

        Raises
        ------
        InputError
            When no centre can be scored at ``debias_scale`` (one line, from the loss).
        """
        if self.debias_lambda > 0 and self.debias_method in ("reweight", "group-dro"):
            from encoders.debias import equal_area_cells, inverse_density_weights

            base = TaskLoss(self.task, self.generator, keep_per_sample=True)
            cells = equal_area_cells(train.lonlat, self.debias_cell_km)
            if self.debias_method == "reweight":
                w = torch.from_numpy(inverse_density_weights(cells))
                return [base, ReweightTerm(base, w, self.debias_lambda)]
            groups = torch.from_numpy(cells)
            return [base, GroupDROTerm(base, groups, self.debias_lambda, self.debias_dro_step)]
        terms: list[LossTerm] = [TaskLoss(self.task, self.generator)]
        if self.debias_lambda > 0:
            from encoders.losses import GeoBiasLoss

            loss = GeoBiasLoss(
                train.lonlat, kind=self.debias, scale=self.debias_scale,
                centres_per_batch=self.debias_centres, seed=self.seed, progress=self.progress,
            )  # fmt: skip
            rank, world = self._ranks()
            gen = (
                seeded_generator(self.seed, _GEO_STREAM)
                if world == 1
                else seeded_generator(self.seed, _GEO_STREAM, rank)
            )
            terms.append(GeoBiasTerm(loss, self.task, self.debias_lambda, gen))
        return terms

    def configure_optimizers(self) -> dict[str, Any]:
        """Adam, and the per-epoch decay ``lr * lr_decay**epoch`` (TorchSpatial's)."""
        opt = torch.optim.Adam(
            self.model.parameters(), lr=self.lr, weight_decay=self.weight_decay, foreach=True
        )
        decay = self.lr_decay
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: decay**epoch)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}

    def rng_generators(self) -> dict[str, torch.Generator]:
        """The generators whose state a checkpoint keeps (name -> generator)."""
        out: dict[str, torch.Generator] = {}
        if self.generator is not None:
            out["background"] = self.generator
        for t in self.terms:
            out.update(t.rng_generators())
        return out

    # -- set-up ------------------------------------------------------------------------------
    def _ranks(self) -> tuple[int, int]:
        trainer = self._trainer
        return (0, 1) if trainer is None else (trainer.global_rank, trainer.world_size)

    def _datamodule(self) -> Any:
        dm = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        if dm is None or not hasattr(dm, "dataset"):
            raise TypeError("LocationTask trains on an encoders.GeoDataModule (datamodule=...)")
        return dm

    def setup(self, stage: str) -> None:
        """Put the training split where the task needs it; draw the generators; the terms."""
        if stage != "fit":
            return
        dm = self._datamodule()
        train = dm.train  # this process's shard with several processes
        rank, world = self._ranks()
        # one process: the background locations share the batch order's generator (the
        # stream of a run on one device); several: a stream of their own per process
        self.generator = (
            dm.generator if world == 1 else seeded_generator(self.seed, _BACKGROUND_STREAM, rank)
        )
        self.task.setup(self.model, train, self.trainer.strategy.root_device)
        self.terms = self.configure_losses(train)
        self._restore_terms()

    def _restore_terms(self) -> None:
        """Give the terms the state of a checkpoint loaded before they existed."""
        for t in self.terms:
            if t.name in self._pending_state:
                t.load_state(self._pending_state.pop(t.name))

    # -- training ----------------------------------------------------------------------------
    def forward(self, lonlat: Tensor, *args: Any) -> Tensor:
        """The model's output at ``lonlat``."""
        return self.model(lonlat, *args)

    def on_train_epoch_start(self) -> None:
        """Reset the epoch's loss sums."""
        self._sums, self._count, self._pending_steps = {}, 0, []
        self._t0 = time.perf_counter()

    def on_train_batch_start(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        """Stop between batches on SIGINT / SIGTERM (the last epoch's checkpoint stays).

        Raises :class:`StopRequest` (Lightning turns a ``KeyboardInterrupt`` into exit
        status 1); :meth:`encoders.train.Trainer.fit` raises the interrupt again.
        """
        try:
            check_interrupt()
        except Interrupted as err:
            raise StopRequest(err) from None

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        """The objective: the sum of the weighted terms (:meth:`configure_losses`).

        The values stay on the device; :meth:`on_train_batch_end` adds them to the epoch's
        sums and checks them every :data:`CHECK_EVERY` steps and at the end of the epoch,
        so a step does not wait for the device.
        """
        values = [t(self.model, batch) for t in self.terms]
        loss = None
        for t, v in zip(self.terms, values):
            v = v if t.weight == 1.0 else t.weight * v
            loss = v if loss is None else loss + v
        kept = [loss, *values] if len(values) > 1 else [loss]
        step = torch.stack([v.detach().double() for v in kept])
        self._pending_steps.append((batch_idx, batch["rows"].numel(), step))
        return loss

    def on_train_batch_end(self, outputs: Any, batch: dict[str, Tensor], batch_idx: int) -> None:
        """Every :data:`CHECK_EVERY` steps and at the epoch's end: sum and check the losses."""
        if (batch_idx + 1) % CHECK_EVERY == 0 or batch_idx + 1 >= self.trainer.num_training_batches:
            self._flush_losses()

    def _flush_losses(self) -> None:
        """Add the pending steps' loss values to the epoch's sums (one wait for the device).

        Raises
        ------
        InputError
            At the first step with a non-finite value (:func:`check_finite_loss`).
        """
        if not self._pending_steps:
            return
        steps, self._pending_steps = self._pending_steps, []
        table = torch.stack([v for _, _, v in steps]).cpu().tolist()
        names = ["loss", *(t.name for t in self.terms)] if len(self.terms) > 1 else ["loss"]
        for (batch_idx, n, _), row in zip(steps, table):
            check_finite_loss(dict(zip(names, row)), self.current_epoch, batch_idx)
            for k, v in zip(names, row):
                self._sums[k] = self._sums.get(k, 0.0) + v * n
            self._count += n

    def _epoch_losses(self) -> dict[str, float]:
        self._flush_losses()
        sums, count = dict(self._sums), self._count
        if self._ranks()[1] > 1:  # the sums of all processes
            keys = sorted(sums)
            t = torch.tensor([sums[k] for k in keys] + [count], dtype=torch.float64,
                             device=self.device)  # fmt: skip
            t = self.trainer.strategy.reduce(t, reduce_op="sum")
            sums = dict(zip(keys, t[:-1].tolist()))
            count = int(t[-1].item())
        n = max(count, 1)
        out = {"train_loss": sums.get("loss", 0.0) / n}
        out.update({f"train_{k}_loss": v / n for k, v in sums.items() if k != "loss"})
        return out

    # -- validation --------------------------------------------------------------------------
    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        """The task's test-time output on one validation batch (returned for callbacks)."""
        out = self.task.predict_batch(self.model, batch)
        self.val_outputs.update(batch["rows"], out)
        return out

    @property
    def performance_name(self) -> str:
        """Name of :meth:`sample_performance` as an exported column (``hit@1``, ...)."""
        return self.task.performance_name

    def sample_performance(self, outputs: Tensor, batch: dict[str, Tensor]) -> Tensor:
        """Per-sample performance of one validation batch (:class:`encoders.GeoBiasCallback`)."""
        return self.task.sample_performance(outputs, batch)

    def on_validation_epoch_end(self) -> None:
        """The task's metrics on the whole validation split; log them and the epoch entry."""
        rows, out = self.val_outputs.compute()
        self.val_outputs.reset()
        if self.trainer.sanity_checking:
            return
        split = self._datamodule().dataset.val
        pred = self.task.finish_predictions(out, split.subset(rows))
        val = self.task.metrics(pred, split.label[rows])
        epoch = self.current_epoch
        entry = {"epoch": epoch + 1, "lr": self.lr * self.lr_decay**epoch}
        entry.update(self._epoch_losses())
        entry["val"] = val
        entry["time_s"] = round(time.perf_counter() - self._t0, 3)
        if self.trainer.state.fn == "fit":
            self.history.append(entry)
        logged = {f"val_{k}": float(v) for k, v in val.items() if k != "n"}
        logged.update({k: v for k, v in entry.items() if k.startswith("train_")})
        # already the same numbers in every process (gathered outputs, summed losses): no
        # further reduction over the processes
        self.log_dict(logged)

    # -- checkpoints -------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Keep the per-epoch history."""
        checkpoint["encoders_history"] = self.history
        states = {t.name: t.state() for t in self.terms}
        checkpoint["encoders_terms"] = {k: v for k, v in states.items() if v}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore the per-epoch history."""
        self.history = list(checkpoint.get("encoders_history") or [])
        self._pending_state = dict(checkpoint.get("encoders_terms") or {})
        self._restore_terms()
