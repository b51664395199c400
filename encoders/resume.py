"""What decides a training run's result, and whether a saved run may be resumed.

:func:`run_settings` is what a run's ``metrics.json`` records of the settings that decide
its numbers; :func:`check_resume` (before training, on ``metrics.json``) and
:func:`check_checkpoint` (when Lightning loads ``checkpoint.ckpt``, from
:class:`encoders.callbacks.SettingsGuard`) refuse to continue a run with other settings,
naming the first one that differs (docs/training.md, "Resuming a run"). More epochs than
were trained are fine: the run trains on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from encoders.data import GeoDataset

__all__ = [
    "CHECKPOINT",
    "DEFAULT_DEBIAS",
    "NO_PRIOR",
    "RUN_ONLY",
    "check_checkpoint",
    "check_resume",
    "deciding_options",
    "first_difference",
    "jsonable",
    "run_settings",
]

#: Name of the no-location baseline (TorchSpatial's ``no_prior`` files).
NO_PRIOR = "no_prior"
#: Checkpoint file written after every epoch (inside ``out_dir``).
CHECKPOINT = "checkpoint.ckpt"
#: Trainer options that say where and how a run is shown, not what it computes: they may
#: change when a run is resumed (docs/training.md, "Resuming a run").
RUN_ONLY = frozenset({"device", "progress", "out_dir", "resume", "logger"})
#: Kind of geo-bias term of the command line when only a weight is given: the one whose
#: reductions were significant at small accuracy cost (docs/debiasing.md, "The measured
#: trade-off").
DEFAULT_DEBIAS = "performance-ssi"
#: Trainer options of the geo-bias term; they decide nothing while ``debias_lambda`` is 0.
DEBIAS_OPTIONS = ("debias", "debias_lambda", "debias_scale", "debias_centres",
                   "debias_method", "debias_cell_km", "debias_dro_step")  # fmt: skip
#: Options of the geo-bias loss alone, and of re-weighting and group DRO alone.
_GEO_LOSS_OPTIONS = ("debias", "debias_scale", "debias_centres")
_CELL_OPTIONS = ("debias_method", "debias_cell_km", "debias_dro_step")


def deciding_options(trainer: dict[str, Any]) -> dict[str, Any]:
    """The trainer options that decide a run's result.

    Leaves out those of ``RUN_ONLY`` and, while ``debias_lambda`` is 0 (or not recorded,
    as in runs written before the geo-bias term existed), those of the geo-bias term: such
    a run is the plain run, whatever kind or scale is named.
    """
    out = {k: v for k, v in trainer.items() if k not in RUN_ONLY}
    if not out.get("debias_lambda"):
        for k in DEBIAS_OPTIONS:
            out.pop(k, None)
        return out
    # only the chosen method's options decide (a geo-bias-loss run is recorded as before
    # the other methods existed)
    method = out.get("debias_method", "geobias-loss")
    drop = _CELL_OPTIONS if method == "geobias-loss" else _GEO_LOSS_OPTIONS
    if method == "reweight":
        drop = (*drop, "debias_dro_step")
    for k in drop:
        if k != "debias_method" or method == "geobias-loss":
            out.pop(k, None)
    return out


def jsonable(obj: Any) -> Any:
    """``obj`` as it reads back from ``metrics.json`` (tuples become lists, ...)."""
    return json.loads(json.dumps(obj, default=str))


def run_settings(
    encoder: str | None,
    dataset: GeoDataset,
    trainer: Any,
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
    trainer : encoders.train.Trainer
        Training options (those in ``RUN_ONLY`` are left out: device, progress bars,
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
    return jsonable(
        {
            "model": name,
            "dataset": dataset.summary(),
            "hparams": dict(hparams or {}),
            "head": dict(head or {}),
            "trainer": deciding_options(trainer.config()),
        }
    )


def first_difference(saved: Any, wanted: Any, key: str) -> tuple[str, Any, Any] | None:
    """The first ``(dotted key, saved, wanted)`` that differs, or None."""
    if isinstance(saved, dict) and isinstance(wanted, dict):
        for k in list(wanted) + [k for k in saved if k not in wanted]:
            sub = f"{key}.{k}" if key else str(k)
            if k not in saved:
                return sub, "<not recorded>", wanted[k]
            if k not in wanted:
                return sub, saved[k], "<not set>"
            diff = first_difference(saved[k], wanted[k], sub)
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
        The run's folder (holding ``metrics.json`` and ``checkpoint.ckpt``).
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
        saved["trainer"] = deciding_options(saved_trainer)
        want_epochs = wanted_trainer.get("epochs")
        if isinstance(want_epochs, int) and want_epochs >= max(done, 1):
            # more epochs than trained so far: the run continues from its checkpoint
            saved["trainer"]["epochs"] = want_epochs
    diff = first_difference(saved, wanted, "")
    if diff is None:
        return doc
    key, was, now = diff
    extra = f" after {done} trained epoch(s)" if key == "trainer.epochs" else ""
    raise InputError(
        f"{run}: cannot resume: setting {key} is {was!r} in the saved run{extra} but "
        f"{now!r} was requested; drop --resume (resume=False) to retrain, or use another "
        "output folder"
    )


def check_checkpoint(
    path: str | Path, saved_config: dict[str, Any], saved_epochs: int, config: dict[str, Any]
) -> None:
    """Refuse a checkpoint written with other trainer options (more epochs are fine).

    Parameters
    ----------
    path : path-like
        The checkpoint (named in the message).
    saved_config : dict
        The trainer options saved in the checkpoint.
    saved_epochs : int
        Epochs trained when it was written.
    config : dict
        This run's trainer options (:meth:`encoders.train.Trainer.config`).

    Raises
    ------
    InputError
        One line naming the checkpoint, the first differing option and both values.
    """
    from pygbs.errors import InputError

    saved = deciding_options(jsonable(saved_config or {}))
    wanted = deciding_options(jsonable(config))
    if int(wanted["epochs"]) >= saved_epochs:
        saved["epochs"] = wanted["epochs"]
    diff = first_difference(saved, wanted, "trainer")
    if diff is not None:
        key, was, now = diff
        raise InputError(
            f"{path}: cannot resume: setting {key} is {was!r} in the checkpoint (after "
            f"epoch {saved_epochs}) but {now!r} was requested; drop resume to retrain"
        )
