"""The ``encoders`` command line: ``list``, ``train`` and ``zoo``.

A thin layer over :mod:`encoders.train` and :mod:`encoders.zoo`: parse, call the library,
write. Bad options (unknown encoder, dataset, dataset option or hyper-parameter) are click
usage errors (exit code 2); the other exit codes (an unusable path, Ctrl-C / SIGTERM, an
unexpected error) are those of docs/cli.md, via :func:`pygbs.cli.runtime.run_command`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import click

import encoders
from encoders.dependencies import INSTALL_HINT, has_torch
from pygbs.cli.outputs import files_below, workspace
from pygbs.cli.runtime import guarded
from pygbs.cli.usage_errors import OneLineGroup
from pygbs.console import exit_on_signal
from pygbs.errors import InputError
from pygbs.geo.scales import parse_scale

__all__ = ["main"]

log = logging.getLogger("encoders.cli")

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _parse_value(text: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, ``"[1, 2]"`` -> [1, 2], else str."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _key_values(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict:
    out: dict[str, Any] = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", ctx=ctx, param=param)
        key, _, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not key:
            raise click.BadParameter(f"empty key in {item!r}", ctx=ctx, param=param)
        out[key] = _parse_value(value)
    return out


def _check_dataset(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from encoders.data import list_datasets

    if value is not None and value not in list_datasets():
        raise click.BadParameter(
            f"unknown dataset {value!r}; choose one of: {', '.join(list_datasets())}",
            ctx=ctx,
            param=param,
        )
    return value


def _encoder_name(name: str, ctx: click.Context, param: click.Parameter | None) -> str:
    from encoders.train import NO_PRIOR

    if name == NO_PRIOR:
        return name
    try:
        return encoders.canonical_name(name)
    except ValueError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from err


def _check_encoder(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return None if value is None else _encoder_name(value, ctx, param)


def _check_encoders(ctx: click.Context, param: click.Parameter, value: str | None) -> list | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise click.BadParameter("give at least one encoder name", ctx=ctx, param=param)
    return [_encoder_name(n, ctx, param) for n in names]


def _check_debias_kind(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from encoders.losses import GEO_BIAS_KINDS

    if value not in GEO_BIAS_KINDS:
        raise click.BadParameter(
            f"unknown geo-bias kind {value!r}; choose one of: {', '.join(GEO_BIAS_KINDS)}",
            ctx=ctx,
            param=param,
        )
    return value


def _check_scale(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None

    try:
        parse_scale(value)
    except InputError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None
    return value


def _check_scales(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple | None:
    if value is None:
        return None
    from encoders.zoo import check_scales

    try:
        return check_scales([v for v in value.split(",") if v.strip()])
    except InputError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None


def _check_weight(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not 0 <= value < float("inf"):
        raise click.BadParameter(f"{value!r} is not a finite weight >= 0", ctx=ctx, param=param)
    return value


def _check_lambdas(ctx: click.Context, param: click.Parameter, value: str | None) -> list | None:
    if value is None:
        return None
    out = []
    for item in value.split(","):
        try:
            w = float(item)
        except ValueError:
            w = float("nan")
        if not 0 <= w < float("inf"):
            raise click.BadParameter(
                f"{item.strip()!r} is not a weight >= 0 (give e.g. 0,0.1,0.5,1)",
                ctx=ctx,
                param=param,
            )
        out.append(w)
    # weight 0 is the reference of the paired differences: always trained
    return sorted({0.0, *out})


def _debias_options(
    debias: str | None, weight: float | None, scale: str | None, centres: int | None, flag: str
) -> dict[str, Any]:
    """Trainer options of the geo-bias term; ``weight`` is the value of ``flag``.

    Without ``flag`` the other geo-bias options would do nothing, and are refused. With a
    weight > 0 and no ``--debias``, the kind is ``marked-ssi`` (docs/debiasing.md).
    """
    if weight is None:
        given = [n for n, v in (("--debias", debias), ("--debias-scale", scale),
                                ("--debias-centres", centres)) if v is not None]  # fmt: skip
        if given:
            raise click.UsageError(
                f"{given[0]} needs {flag} (the weight of the geo-bias term), e.g. {flag} 0.5"
            )
        return {}
    from encoders.train import DEFAULT_DEBIAS

    out: dict[str, Any] = {"debias": debias or DEFAULT_DEBIAS}
    if scale is not None:
        out["debias_scale"] = scale
    if centres is not None:
        out["debias_centres"] = centres
    return out


def _check_methods(ctx: click.Context, param: click.Parameter, value: str | None) -> list | None:
    """``--debias-methods``: comma-separated names of :data:`encoders.debias.DEBIAS_METHODS`."""
    if value is None:
        return None
    from encoders.debias import DEBIAS_METHODS

    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in DEBIAS_METHODS]
    if bad or not names:
        raise click.BadParameter(
            f"unknown method {bad[0] if bad else value!r}; choose from {', '.join(DEBIAS_METHODS)}",
            param=param,
        )
    return list(dict.fromkeys(names))


def _method_options(
    method: str | None,
    cell_km: float | None,
    step: float | None,
    weight: Any,
    flag: str,
    method_flag: str,
    bandwidth_km: float | None = None,
) -> dict[str, Any]:
    """Trainer options of the methods other than the geo-bias loss (refused without a weight)."""
    given = [n for n, v in ((method_flag, method), ("--debias-cell-km", cell_km),
                            ("--debias-dro-step", step), ("--debias-bandwidth-km", bandwidth_km))
             if v is not None]  # fmt: skip
    if weight is None:
        if given:
            raise click.UsageError(f"{given[0]} needs {flag} (the weight of the method), "
                                   f"e.g. {flag} 0.5")  # fmt: skip
        return {}
    out: dict[str, Any] = {}
    if method is not None:
        out["debias_method"] = method
    if cell_km is not None:
        out["debias_cell_km"] = cell_km
    if step is not None:
        out["debias_dro_step"] = step
    if bandwidth_km is not None:
        out["debias_bandwidth_km"] = bandwidth_km
    return out


def _common(f: Any) -> Any:
    """Options shared by ``train`` and ``zoo``."""
    options = [
        click.option("--data-option", "data_options", multiple=True, metavar="KEY=VALUE",
                     callback=_key_values,
                     help="Dataset loader option (repeatable), e.g. n_train=5000, path=my.csv."),
        click.option("--hparam", "hparams", multiple=True, metavar="KEY=VALUE",
                     callback=_key_values,
                     help="Encoder hyper-parameter (repeatable), e.g. hidden_dim=512."),
        click.option("--epochs", type=click.IntRange(min=1), help="Maximum number of epochs."),
        click.option("--lr", type=click.FloatRange(min=0, min_open=True),
                     help="Adam learning rate of the first epoch."),
        click.option("--lr-decay", type=click.FloatRange(0, 1, min_open=True),
                     help="Per-epoch learning-rate factor (default 0.98)."),
        click.option("--batch-size", type=click.IntRange(min=1), help="Training batch size."),
        click.option("--patience", type=click.IntRange(min=1),
                     help="Early stopping: epochs without validation improvement."),
        click.option("--debias", metavar="KIND", callback=_check_debias_kind,
                     help="Kind of geo-bias term added to the loss: performance-ssi (the "
                          "default once a weight is given), marked-ssi, sri-lag, ... "
                          "(see Debiasing in the documentation)."),
        click.option("--debias-scale", metavar="SCALE", callback=_check_scale,
                     help="Scale of the geo-bias term: <r>km or nn<K> (default nn50)."),
        click.option("--debias-centres", type=click.IntRange(min=1),
                     help="Centres drawn per training step for the geo-bias term (default 256)."),
        click.option("--debias-cell-km", type=click.FloatRange(min=0, min_open=True),
                     help="Side (km) of the equal-area cells of the reweight and group-dro "
                          "methods (default 1000)."),
        click.option("--debias-dro-step", type=click.FloatRange(min=0, min_open=True),
                     help="Step size of group DRO's exponentiated-gradient weights "
                          "(default 0.01)."),
        click.option("--debias-bandwidth-km", type=click.FloatRange(min=0, min_open=True),
                     help="Kernel bandwidth (km) of the densities of the importance method "
                          "(default 250)."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
                     show_default=True, help="auto = CUDA when available."),
        click.option("--devices", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Processes per model, one device each (CPU processes with --device "
                          "cpu); with --strategy ddp each holds its shard of the training rows."),
        click.option("--strategy", type=click.Choice(["auto", "ddp"]), default="auto",
                     show_default=True, help="Lightning strategy: ddp for several devices."),
        click.option("--precision", type=click.Choice(["32-true", "bf16-mixed", "16-mixed"]),
                     help="Numeric precision (default: mixed precision on CUDA, 32-true on "
                          "CPU)."),
        click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
                     help="Seed of the data, the model and the training."),
        click.option("--resume", is_flag=True,
                     help="Continue from the checkpoints (and finished runs) in --out; refused "
                          "when they were trained with other settings (more --epochs is fine)."),
        click.option("--threads", type=click.IntRange(min=1),
                     help="torch CPU threads (default: torch's choice)."),
        click.option("--no-progress", is_flag=True, help="No progress bars."),
        click.option("--out", "out", required=True, type=click.Path(file_okay=False),
                     help="Output folder."),
        click.option("--force", is_flag=True,
                     help="Write into a non-empty --out that is not an earlier output of this "
                          "command (only the files written are replaced)."),
    ]  # fmt: skip
    for opt in reversed(options):
        f = opt(f)
    return f


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
    callback=_check_encoder,
    help="Encoder name (see `encoders list`), or no_prior for the baseline.",
)
@click.option(
    "--dataset",
    required=True,
    callback=_check_dataset,
    help="Dataset: synthetic-vmf, synthetic-vmf-biased, synthetic-vmf-sparse, cities, "
    "locbench or table.",
)
@click.option(
    "--debias-lambda",
    type=float,
    callback=_check_weight,
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
@_common
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
    geo = _debias_options(debias, debias_lambda, debias_scale, debias_centres, "--debias-lambda")
    geo.update(_method_options(debias_method, debias_cell_km, debias_dro_step,
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
    callback=_check_dataset,
    help="Dataset: synthetic-vmf, synthetic-vmf-biased, synthetic-vmf-sparse, cities, "
    "locbench or table.",
)
@click.option(
    "--encoders",
    "encoder_names",
    callback=_check_encoders,
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
    callback=_check_lambdas,
    metavar="W1,W2,...",
    help="Train every encoder at each weight of the geo-bias term (0 is always added) and "
    "write tradeoff.csv, tradeoff.png and a trade-off section of the report.",
)
@click.option(
    "--debias-methods",
    callback=_check_methods,
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
    callback=_check_scales,
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
@_common
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
    geo = _debias_options(debias, top, debias_scale, debias_centres, "--debias-lambdas")
    geo.update(_method_options(None, debias_cell_km, debias_dro_step, top, "--debias-lambdas",
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
