"""The ``encoders`` command line: ``list``, ``train`` and ``zoo``.

A thin layer over :mod:`encoders.train` and :mod:`encoders.zoo`: parse, call the library,
write. Bad options (unknown encoder, dataset, dataset option or hyper-parameter) are click
usage errors (exit code 2); the other exit codes (an unusable path, Ctrl-C / SIGTERM, an
unexpected error) are those of docs/cli.md, via :func:`pygbs.cli.runtime.run_command`.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import click

import encoders
from encoders.cli_options import (
    check_dataset,
    check_encoder,
    check_encoders,
    check_lambdas,
    check_methods,
    check_scales_option,
    check_weight,
    common,
    debias_options,
    method_options,
)
from encoders.dependencies import INSTALL_HINT, has_torch
from pygbs.cli.outputs import files_below, workspace
from pygbs.cli.runtime import guarded
from pygbs.cli.usage_errors import OneLineGroup
from pygbs.console import exit_on_signal
from pygbs.errors import InputError

__all__ = ["main"]

log = logging.getLogger("encoders.cli")

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _trainer_options(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _other_process() -> bool:
    """True in the processes a multi-device run starts beside the first (they write nothing)."""
    return any(int(os.environ.get(k, "0") or 0) > 0 for k in ("LOCAL_RANK", "NODE_RANK", "RANK"))


def _setup(threads: int | None) -> None:
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def _load(dataset: str, options: dict[str, Any]) -> Any:
    from encoders.data import load_dataset

    try:
        return load_dataset(dataset, **options)
    except InputError as err:
        raise click.BadParameter(str(err), param_hint="--data-option") from err


class _EncodersGroup(OneLineGroup):
    """The ``encoders`` group: without PyTorch, one line saying what to install (exit 2)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line, or stop with the install hint when PyTorch is missing."""
        if not has_torch():
            click.echo(f"error: {INSTALL_HINT}", err=True)
            raise SystemExit(2)
        with exit_on_signal():
            return super().main(*args, **kwargs)


@click.group(cls=_EncodersGroup, context_settings=_CONTEXT)
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def main(verbose: int, debug: bool) -> None:
    """Location-encoder zoo (TorchSpatial's 15 encoders): list, train, zoo.

    \b
    Examples:
      encoders list
      encoders train --encoder Sphere2Vec-sphereC --dataset synthetic-vmf --epochs 5 --out run/
      encoders zoo --dataset synthetic-vmf-biased --preset demo --out out/demo
    """  # noqa: D301
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@main.command("list")
@click.option("--datasets", is_flag=True, help="List the datasets instead of the encoders.")
@click.option("-l", "--long", "long_", is_flag=True, help="Add a one-line summary.")
def list_cmd(datasets: bool, long_: bool) -> None:
    """List the registered encoders (or, with --datasets, the datasets).

    \b
    Examples:
      encoders list
      encoders list --long
      encoders list --datasets
    """  # noqa: D301
    if datasets:
        from encoders.data import dataset_options, list_datasets

        for name in list_datasets():
            opts = ", ".join(dataset_options(name))
            click.echo(f"{name}\t{opts}" if long_ else name)
        return

    for name in encoders.list():
        click.echo(f"{name}\t{encoders.get_spec(name).summary}" if long_ else name)


@main.command("train", context_settings=_CONTEXT)
@click.option(
    "--encoder",
    required=True,
    callback=check_encoder,
    help="Encoder name (see `encoders list`), or no_prior for the baseline.",
)
@click.option(
    "--dataset",
    required=True,
    callback=check_dataset,
    help="Dataset: synthetic-vmf, synthetic-vmf-biased, synthetic-vmf-sparse, cities, "
    "locbench or table.",
)
@click.option(
    "--debias-lambda",
    type=float,
    callback=check_weight,
    help="Weight of the geo-bias term in the loss (default 0: none; see Debiasing in the "
    "documentation).",
)
@click.option(
    "--debias-method",
    type=click.Choice(["geobias-loss", "reweight", "group-dro", "importance"]),
    help="What --debias-lambda weighs: the geo-bias loss (default), the inverse-density "
    "re-weighted loss, group DRO over equal-area cells, or the loss importance-weighted "
    "towards the test locations (see Debiasing in the documentation).",
)
@click.option(
    "--logger",
    type=click.Choice(["csv", "tensorboard", "none"]),
    default="csv",
    show_default=True,
    help="Logger of the per-epoch numbers, in <out>/logs (tensorboard needs the "
    "tensorboard package).",
)
@common
@guarded
def train_cmd(encoder: str, dataset: str, debias_lambda: float | None,
              debias_method: str | None, devices: int,
              strategy: str, precision: str | None, logger: str, data_options: dict,
              hparams: dict, epochs: int | None, lr: float | None, lr_decay: float | None,
              batch_size: int | None, patience: int | None, debias: str | None,
              debias_scale: str | None, debias_centres: int | None,
              debias_cell_km: float | None, debias_dro_step: float | None,
              debias_bandwidth_km: float | None, device: str,
              seed: int, resume: bool, threads: int | None, no_progress: bool, out: str,
              force: bool) -> None:  # fmt: skip
    """Train one encoder on one dataset; write model.pt, metrics.json, predictions.csv.

    predictions.csv holds the per-sample test predictions in TorchSpatial's layout (lon,
    lat, true_class_prob, reciprocal_rank, hit@1, hit@3; for regression lon, lat,
    predictions, labels, relative_error), ready for `pygbs score`.

    \b
    Examples:
      encoders train --encoder Sphere2Vec-sphereC --dataset synthetic-vmf --out run/
      encoders train --encoder rbf --dataset cities --data-option target=country \\
          --epochs 20 --lr 0.001 --hparam hidden_dim=512 --out run_rbf/
      encoders train --encoder wrap --dataset table --data-option path=obs.csv \\
          --device cuda --out run_wrap/
      encoders train --encoder wrap --dataset synthetic-vmf --resume --out run_wrap/
      encoders train --encoder Sphere2Vec-sphereC --dataset synthetic-vmf \\
          --debias marked-ssi --debias-lambda 0.5 --debias-scale 1000km --out run_geo/
      encoders train --encoder xyz --dataset synthetic-vmf --device cpu \\
          --devices 2 --strategy ddp --out run_ddp/
    """  # noqa: D301
    from encoders.train import NO_PRIOR, Trainer, build_model, train_and_evaluate

    _setup(threads)
    geo = debias_options(debias, debias_lambda, debias_scale, debias_centres, "--debias-lambda")
    geo.update(method_options(debias_method, debias_cell_km, debias_dro_step,
                               debias_lambda, "--debias-lambda", "--debias-method",
                               debias_bandwidth_km))  # fmt: skip
    if debias_lambda is not None:
        geo["debias_lambda"] = debias_lambda
    data_options.setdefault("seed", seed)
    ds = _load(dataset, data_options)
    tr_opts = _trainer_options(epochs=epochs, lr=lr, lr_decay=lr_decay, batch_size=batch_size,
                               patience=patience)  # fmt: skip
    tr_opts.update(geo)
    try:
        trainer = Trainer(**tr_opts, device=device, seed=seed, resume=resume, out_dir=Path(out),
                          progress=False if no_progress else "auto", devices=devices,
                          strategy=strategy, precision=precision, logger=logger)  # fmt: skip
        trainer._check()
        if device == "cuda":
            from encoders.train import resolve_device

            resolve_device(device)
        if encoder != NO_PRIOR:
            build_model(encoder, ds, hparams=hparams, seed=seed)
    except (InputError, ValueError, TypeError) as err:
        raise click.UsageError(str(err)) from err
    from encoders.train import BEST_CHECKPOINT, CHECKPOINT

    if _other_process():  # a further process of a multi-device run: it trains, writes nothing
        train_and_evaluate(encoder, ds, Path(out), trainer=trainer, hparams=hparams)
        return
    t0 = time.perf_counter()
    with workspace(out, "encoders train", force=force) as ws:
        doc = train_and_evaluate(encoder, ds, Path(out), trainer=trainer, hparams=hparams)
        names = ("model.pt", "metrics.json", CHECKPOINT, BEST_CHECKPOINT, "predictions.csv")
        ws.files = {n for n in names if (Path(out) / n).is_file()}
        ws.files |= files_below(Path(out) / "logs", Path(out))
    test = ", ".join(f"{k} {v:.4f}" for k, v in doc["test"].items() if k != "n")
    click.echo(f"{encoder} on {ds.name}: test {test} ({time.perf_counter() - t0:.1f} s) -> {out}")


@main.command("zoo", context_settings=_CONTEXT)
@click.option(
    "--dataset",
    required=True,
    callback=check_dataset,
    help="Dataset: synthetic-vmf, synthetic-vmf-biased, synthetic-vmf-sparse, cities, "
    "locbench or table.",
)
@click.option(
    "--encoders",
    "encoder_names",
    callback=check_encoders,
    metavar="A,B,...",
    help="Comma-separated encoders (default: all 15); no_prior is always added.",
)
@click.option(
    "--preset",
    type=click.Choice(["demo", "full"]),
    default="demo",
    show_default=True,
    help="demo: minutes on 2 CPU cores; full: TorchSpatial sizes and 30 epochs.",
)
@click.option(
    "--debias-lambdas",
    callback=check_lambdas,
    metavar="W1,W2,...",
    help="Train every encoder at each weight of the geo-bias term (0 is always added) and "
    "write tradeoff.csv, tradeoff.png and a trade-off section of the report.",
)
@click.option(
    "--debias-methods",
    callback=check_methods,
    metavar="M1,M2,...",
    help="With --debias-lambdas: the methods trained at each weight, from geobias-loss "
    "(the default), reweight, group-dro and importance.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Training seeds per setting (--seed, --seed + 1, ...; the data stay those of "
    "--seed); paired differences compare runs of the same seed.",
)
@click.option(
    "--scales",
    callback=check_scales_option,
    metavar="S1,S2,...",
    help="Comma-separated geo-bias scales of the scoring (e.g. nn50,100km), instead of the "
    "preset's.",
)
@click.option("--no-score", is_flag=True, help="Skip the geo-bias scoring with pygbs.")
@click.option("--no-report", is_flag=True, help="Skip report.html.")
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Train the models as tasks on a Dask cluster: a scheduler address "
    "(tcp://HOST:8786) or 'local:N' for N local worker processes.",
)
@common
@guarded
def zoo_cmd(dataset: str, encoder_names: list | None, preset: str, debias_lambdas: list | None,
            debias_methods: list | None, seeds: int, scales: tuple | None, no_score: bool,
            no_report: bool, scheduler: str | None,
            data_options: dict, hparams: dict, epochs: int | None, lr: float | None,
            lr_decay: float | None, batch_size: int | None, patience: int | None,
            debias: str | None,
            debias_scale: str | None, debias_centres: int | None,
            debias_cell_km: float | None, debias_dro_step: float | None,
            debias_bandwidth_km: float | None, device: str,
            devices: int, strategy: str, precision: str | None, seed: int, resume: bool,
            threads: int | None, no_progress: bool, out: str,
            force: bool) -> None:  # fmt: skip
    """Train every encoder plus the no_prior baseline and compare accuracy and geo-bias.

    Writes OUT/predictions/<model>.csv, OUT/runs/<model>/ (model.pt, metrics.json),
    OUT/zoo.csv and OUT/zoo.md (one row per model: top-1/top-3/MRR or R2/MAE/RMSE, then the
    geo-bias columns <score>@<scale> of `pygbs compare` at the preset's scales (demo: nn100,
    nn200; full: 100km, 1000km, nn50; --scales replaces them) for the unmarked, marked and
    performance SSI), OUT/compare/ and OUT/report.html (when pygbs can write it).

    \b
    Examples:
      encoders zoo --dataset synthetic-vmf --preset demo --out out/demo
      encoders zoo --dataset cities --encoders xyz,wrap,Sphere2Vec-sphereC --out out/cities
      encoders zoo --dataset locbench --data-option root=geo_prior_data/data \\
          --data-option benchmark=yfcc --preset full --device cuda --out out/yfcc
      encoders zoo --dataset synthetic-vmf --scheduler tcp://10.0.0.5:8786 --out out/demo
      encoders zoo --dataset synthetic-vmf --encoders xyz,Sphere2Vec-sphereC \\
          --debias-lambdas 0,0.1,0.5,1 --scales nn50,100km --out out/tradeoff
      encoders zoo --dataset synthetic-vmf-sparse --encoders NeRF \\
          --debias-methods reweight,group-dro,geobias-loss --debias-lambdas 0,0.5,1 \\
          --seeds 3 --out out/sparse
    """  # noqa: D301
    from encoders.train import Trainer
    from encoders.zoo import run_zoo

    _setup(threads)
    top = None if debias_lambdas is None else max(debias_lambdas)
    geo = debias_options(debias, top, debias_scale, debias_centres, "--debias-lambdas")
    geo.update(method_options(None, debias_cell_km, debias_dro_step, top, "--debias-lambdas",
                               "--debias-methods", debias_bandwidth_km))  # fmt: skip
    if debias_methods and top is None:
        raise click.UsageError("--debias-methods needs --debias-lambdas (the weights of the "
                               "methods), e.g. --debias-lambdas 0,0.5,1")  # fmt: skip
    tr_opts = _trainer_options(epochs=epochs, lr=lr, lr_decay=lr_decay, batch_size=batch_size,
                               patience=patience, precision=precision)  # fmt: skip
    tr_opts.update(devices=devices, strategy=strategy)
    tr_opts.update(geo)
    if devices > 1 and scheduler is not None:
        raise click.UsageError("--devices trains each model in several processes of this "
                               "machine; with --scheduler each Dask worker trains on one "
                               "device (drop --devices or --scheduler)")  # fmt: skip
    try:
        Trainer(**tr_opts)._check()
        if device == "cuda":
            from encoders.train import resolve_device

            resolve_device(device)
    except ValueError as err:
        raise click.UsageError(str(err)) from err
    from encoders.data import load_dataset
    from encoders.zoo import PRESETS

    opts = {"seed": seed, **PRESETS[preset].dataset_options.get(dataset, {}), **data_options}
    try:
        ds = load_dataset(dataset, **opts)
    except InputError as err:
        raise click.UsageError(str(err)) from err
    if hparams:
        try:  # the hyper-parameters must suit every encoder of the zoo
            for name in encoder_names or encoders.list():
                encoders.build(name, **{k: v for k, v in hparams.items() if k != "rbf_anchors"})
        except (ValueError, TypeError) as err:
            raise click.UsageError(str(err)) from err
    if scheduler is not None:
        from pygbs.engine.dask import log_level, parse_scheduler

        try:
            parse_scheduler(scheduler)
            log_level(logging.getLogger().getEffectiveLevel())
        except InputError as err:
            raise click.UsageError(str(err)) from err
    from encoders.zoo import output_files

    t0 = time.perf_counter()
    zoo_args = {
        "encoders": encoder_names, "preset": preset, "trainer_options": tr_opts,
        "hparams": hparams or None, "device": device, "seed": seed, "score": not no_score,
        "report": not no_report, "resume": resume,
        "progress": False if no_progress else "auto", "scheduler": scheduler,
        "debias_lambdas": debias_lambdas, "scales": scales, "debias_methods": debias_methods,
        "seeds": seeds,
    }  # fmt: skip
    if _other_process():  # a further process of multi-device runs: it trains, writes nothing
        run_zoo(ds, Path(out), **zoo_args)
        return
    with workspace(out, "encoders zoo", force=force) as ws:
        result = run_zoo(ds, Path(out), **zoo_args)
        ws.files = output_files(out, result.table["model"])
    click.echo((Path(out) / "zoo.md").read_text(encoding="utf-8"))
    extra = f", report {result.report}" if result.report else ""
    click.echo(
        f"zoo of {len(result.table)} models in {time.perf_counter() - t0:.1f} s -> {out}{extra}"
    )
