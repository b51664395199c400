"""Training and evaluation of geo-aware models (TorchSpatial's LocBench protocol).

:class:`Trainer` follows sklearn's habit: the constructor stores the options, the work
happens in :meth:`Trainer.fit`. It is seeded (torch and numpy), picks the device
(``"auto"``: CUDA when available), uses mixed precision on CUDA only, trains with Adam and
a per-epoch learning-rate decay ``lr · lr_decay^epoch`` (TorchSpatial's schedule), evaluates
on the validation split after every epoch, keeps the best epoch (early stopping with
``patience``), writes a checkpoint after every epoch (``resume=True`` continues from it,
giving the same result as an uninterrupted run on CPU) and a JSON log ``metrics.json``.

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

import numpy as np
import torch
from torch import nn

from encoders.data import GeoDataset, Split
from encoders.losses import full_loss, random_lonlat
from encoders.metrics import classification_metrics, regression_metrics
from encoders.models import GeoClassifier, GeoRegressor
from pygbs.outputs import atomic_path, write_text_atomic
from pygbs.runtime import check_interrupt

__all__ = [
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

#: Name of the no-location baseline (TorchSpatial's ``no_prior`` files).
NO_PRIOR = "no_prior"
#: Checkpoint file written after every epoch (inside ``out_dir``).
CHECKPOINT = "checkpoint.pt"
#: Rows per batch at evaluation time.
EVAL_BATCH = 8192
#: Trainer options that say where and how a run is shown, not what it computes: they may
#: change when a run is resumed (docs/training.md, "Resuming a run").
_RUN_ONLY = frozenset({"device", "progress", "out_dir", "resume"})


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
        folder and the resume flag do not change what is computed).
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
            "trainer": {k: v for k, v in trainer.config().items() if k not in _RUN_ONLY},
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
        saved["trainer"] = {k: v for k, v in saved_trainer.items() if k not in _RUN_ONLY}
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


def _monitor(task: str) -> tuple[str, bool]:
    """Validation metric used for model selection, and whether higher is better."""
    return ("mrr", True) if task == "classification" else ("rmse", False)


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
        Decides the head (classifier or regressor) and its sizes.
    hparams : dict, optional
        Encoder hyper-parameters (passed to :func:`encoders.build`). For ``rbf`` without
        ``rbf_anchors``, anchors are drawn from the training locations (seeded).
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
        name = encoders.canonical_name(encoder)
        if name == "rbf" and "rbf_anchors" not in hp:
            m = int(hp.get("num_rbf_anchor_pts", 200))
            m = min(m, len(dataset.train))
            hp["num_rbf_anchor_pts"] = m
            hp["rbf_anchors"] = encoders.rbf_anchors_from(dataset.train.lonlat, m, seed=hp["seed"])
        enc = encoders.build(name, **hp)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if dataset.task == "classification":
            if enc is None:
                return None
            return GeoClassifier(enc, dataset.num_classes)
        return GeoRegressor(enc, dataset.image_feature_dim, **(head or {}))


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
    if spec["task"] == "classification":
        model: nn.Module = GeoClassifier(enc, spec["num_classes"])
    else:
        model = GeoRegressor(enc, spec["feature_dim"], **spec["head"])
    model.load_state_dict(blob["state_dict"])
    return model.eval()


@torch.no_grad()
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
    was_training = model.training
    model.eval().to(dev)
    has_loc = split.has_location
    lonlat = np.where(has_loc[:, None], split.lonlat, 0.0).astype(np.float32)
    outs = []
    use_amp = amp and dev.type == "cuda"
    for i in range(0, len(split), batch_size):
        x = torch.from_numpy(lonlat[i : i + batch_size]).to(dev)
        with torch.autocast(dev.type, dtype=_amp_dtype(), enabled=use_amp):
            if task == "classification":
                out = torch.sigmoid(model(x).float())
            else:
                f = split.image_features
                ft = None if f is None else torch.from_numpy(f[i : i + batch_size]).to(dev)
                out = model(x, ft).float()
        outs.append(out.double().cpu().numpy())
    model.train(was_training)
    pred = np.concatenate(outs)
    if task == "classification":
        pred[~has_loc] = 1.0  # no location: the image prediction alone
        if split.image_probs is not None:
            pred = pred * split.image_probs.astype(np.float64)
    return pred


def evaluate(
    model: nn.Module | None, split: Split, task: str, **kwargs: Any
) -> tuple[dict[str, float], np.ndarray]:
    """Metrics and predictions of :func:`predict` on ``split``."""
    pred = predict(model, split, task, **kwargs)
    if task == "classification":
        return classification_metrics(pred, split.label), pred
    return regression_metrics(pred, split.label), pred


def _amp_dtype() -> torch.dtype:
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


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

    def fit(
        self, model: nn.Module, dataset: GeoDataset, *, extra_log: dict | None = None
    ) -> TrainResult:
        """Train ``model`` on ``dataset.train``, selecting the epoch on ``dataset.val``.

        Parameters
        ----------
        model : GeoClassifier or GeoRegressor
            The model (modified in place).
        dataset : GeoDataset
            Its ``task`` decides the loss: ``full_loss`` (classification) or MSE on the
            standardised target (regression).
        extra_log : dict, optional
            Extra JSON-able entries for ``metrics.json`` (encoder name, dataset summary, ...).

        Returns
        -------
        TrainResult
        """
        self._check()
        task = dataset.task
        dev = resolve_device(self.device)
        use_amp = bool(self.amp) and dev.type == "cuda"
        monitor, higher = _monitor(task)
        out_dir = None if self.out_dir is None else Path(self.out_dir)

        torch.manual_seed(self.seed)
        # our own draws use `gen`; the global numpy RNG is seeded for third-party code
        np.random.seed(self.seed % 2**32)  # noqa: NPY002
        gen = torch.Generator().manual_seed(self.seed)
        train = dataset.train
        x_all = torch.from_numpy(train.lonlat).to(dev)
        y_all = torch.from_numpy(train.label).to(dev)
        f_all = None
        if task == "regression":
            f_all = None if train.image_features is None else torch.from_numpy(
                train.image_features
            ).to(dev)  # fmt: skip
            model.set_normalisation(f_all, y_all)
        model.to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp and _amp_dtype() == torch.float16)

        history: list[dict[str, Any]] = []
        best = {"epoch": 0, "score": float("nan"), "state": None}
        bad_epochs, start, stopped = 0, 0, False
        ckpt = None if out_dir is None else out_dir / CHECKPOINT
        if self.resume and ckpt is not None and ckpt.is_file():
            blob = torch.load(ckpt, map_location=dev, weights_only=False)
            self._check_checkpoint(ckpt, blob)
            model.load_state_dict(blob["model"])
            opt.load_state_dict(blob["optimizer"])
            scaler.load_state_dict(blob["scaler"])
            torch.set_rng_state(blob["torch_rng"])
            if dev.type == "cuda" and blob.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(blob["cuda_rng"], dev)
            gen.set_state(blob["gen_rng"])
            np.random.set_state(blob["numpy_rng"])  # noqa: NPY002
            history, best = blob["history"], blob["best"]
            bad_epochs, stopped = blob["bad_epochs"], blob["stopped_early"]
            start = blob["epoch"]
            log.info("resumed from %s after epoch %d", ckpt, start)

        labels_np = train.label if task == "classification" else None
        show = self._show_progress()
        for epoch in range(start, int(self.epochs)):
            if stopped:
                break
            t0 = time.perf_counter()
            lr = self.lr * self.lr_decay**epoch
            for group in opt.param_groups:
                group["lr"] = lr
            model.train()
            order = torch.from_numpy(self._epoch_order(labels_np, len(train), gen)).to(dev)
            batches = range(0, order.numel(), int(self.batch_size))
            bar = None
            if show:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(batches), desc=f"epoch {epoch + 1}/{self.epochs}", leave=False)
            total, count = 0.0, 0
            for i in batches:
                check_interrupt()  # stop between batches (the last epoch's checkpoint stays)
                idx = order[i : i + int(self.batch_size)]
                x, y = x_all[idx], y_all[idx]
                with torch.autocast(dev.type, dtype=_amp_dtype(), enabled=use_amp):
                    if task == "classification":
                        r = random_lonlat(idx.numel(), generator=gen, device=dev)
                        logits = model(torch.cat([x, r], dim=0)).float()
                        loss = full_loss(
                            logits[: idx.numel()], y, logits[idx.numel() :],
                            rand_weight=self.rand_sample_weight,
                        )  # fmt: skip
                    else:
                        f = None if f_all is None else f_all[idx]
                        pred = model.forward_normalised(x, f).float()
                        loss = nn.functional.mse_loss(pred, (y - model.y_mean) / model.y_std)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                total += float(loss.detach()) * idx.numel()
                count += idx.numel()
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{total / count:.4f}")
            if bar is not None:
                bar.close()
            val_metrics, _ = evaluate(model, dataset.val, task, device=dev, amp=self.amp)
            score = val_metrics[monitor]
            improved = best["state"] is None or (
                score > best["score"] + self.min_delta
                if higher
                else score < best["score"] - self.min_delta
            )
            if improved:
                state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
                best = {"epoch": epoch + 1, "score": float(score), "state": state}
                bad_epochs = 0
            else:
                bad_epochs += 1
            entry = {
                "epoch": epoch + 1,
                "lr": lr,
                "train_loss": total / max(count, 1),
                "val": val_metrics,
                "time_s": round(time.perf_counter() - t0, 3),
            }
            history.append(entry)
            log.info(
                "epoch %d/%d loss %.4f val %s %.4f%s", epoch + 1, self.epochs, entry["train_loss"],
                monitor, score, " (best)" if improved else "",
            )  # fmt: skip
            if self.patience is not None and bad_epochs >= int(self.patience):
                stopped = epoch + 1 < int(self.epochs)
                if stopped:
                    log.info("early stop: no improvement for %d epochs", bad_epochs)
            if out_dir is not None:
                blob = {
                    "epoch": epoch + 1,
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scaler": scaler.state_dict(),
                    "torch_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
                    "gen_rng": gen.get_state(),
                    "numpy_rng": np.random.get_state(),  # noqa: NPY002
                    "history": history,
                    "best": best,
                    "bad_epochs": bad_epochs,
                    "stopped_early": stopped,
                    "config": self.config(),
                }
                with atomic_path(ckpt) as tmp:
                    torch.save(blob, tmp)
                self._write_log(out_dir, history, best, stopped, monitor, dev, extra_log)
            if stopped:
                break

        if best["state"] is not None:
            model.load_state_dict(best["state"])
        model.cpu().eval()
        return TrainResult(
            model=model,
            history=history,
            best_epoch=int(best["epoch"]),
            best_score=float(best["score"]),
            monitor=monitor,
            stopped_early=bool(stopped),
            device=str(dev),
        )

    def _check_checkpoint(self, ckpt: Path, blob: dict[str, Any]) -> None:
        """Refuse a checkpoint written with other trainer settings (more epochs are fine)."""
        from pygbs.errors import InputError

        saved = {k: v for k, v in _jsonable(blob.get("config") or {}).items() if k not in _RUN_ONLY}
        wanted = {k: v for k, v in _jsonable(self.config()).items() if k not in _RUN_ONLY}
        if int(self.epochs) >= int(blob.get("epoch", 0)):
            saved["epochs"] = wanted["epochs"]
        diff = _first_difference(saved, wanted, "trainer")
        if diff is not None:
            key, was, now = diff
            raise InputError(
                f"{ckpt}: cannot resume: setting {key} is {was!r} in the checkpoint (after "
                f"epoch {blob.get('epoch')}) but {now!r} was requested; drop resume to retrain"
            )

    def _write_log(
        self,
        out_dir: Path,
        history: list,
        best: dict,
        stopped: bool,
        monitor: str,
        dev: torch.device,
        extra: dict | None,
    ) -> None:
        doc = {
            **(extra or {}),
            "trainer": self.config(),
            "device": str(dev),
            "monitor": monitor,
            "best_epoch": best["epoch"],
            "best_score": best["score"],
            "stopped_early": stopped,
            "epochs": history,
        }
        write_text_atomic(out_dir / "metrics.json", json.dumps(doc, indent=2, default=str) + "\n")


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
