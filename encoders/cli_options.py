"""Options of the ``encoders`` commands: their parsing and checks, and the shared set.

Each check turns a bad value into a click usage error (exit code 2, one line naming the
option); :func:`common` declares the options ``train`` and ``zoo`` share, and
:func:`debias_options` / :func:`method_options` turn the debiasing options into trainer
settings (refusing those given without a weight).
"""

from __future__ import annotations

import json
from typing import Any

import click

import encoders
from pygbs.errors import InputError
from pygbs.geo.scales import parse_scale

__all__ = [
    "check_dataset",
    "check_debias_kind",
    "check_encoder",
    "check_encoders",
    "check_lambdas",
    "check_methods",
    "check_scale",
    "check_scales_option",
    "check_weight",
    "common",
    "debias_options",
    "encoder_name",
    "key_values",
    "method_options",
    "parse_value",
]


def parse_value(text: str) -> Any:
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


def key_values(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict:
    """``KEY=VALUE`` options (``--data-option``, ``--hparam``) as a dict of parsed values."""
    out: dict[str, Any] = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", ctx=ctx, param=param)
        key, _, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not key:
            raise click.BadParameter(f"empty key in {item!r}", ctx=ctx, param=param)
        out[key] = parse_value(value)
    return out


def check_dataset(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--dataset``: a registered dataset name."""
    from encoders.data import list_datasets

    if value is not None and value not in list_datasets():
        raise click.BadParameter(
            f"unknown dataset {value!r}; choose one of: {', '.join(list_datasets())}",
            ctx=ctx,
            param=param,
        )
    return value


def encoder_name(name: str, ctx: click.Context, param: click.Parameter | None) -> str:
    """The canonical name of encoder ``name`` (``no_prior`` as is); a usage error if unknown."""
    from encoders.train import NO_PRIOR

    if name == NO_PRIOR:
        return name
    try:
        return encoders.canonical_name(name)
    except ValueError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from err


def check_encoder(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--encoder``: a registered encoder (or ``no_prior``)."""
    return None if value is None else encoder_name(value, ctx, param)


def check_encoders(ctx: click.Context, param: click.Parameter, value: str | None) -> list | None:
    """``--encoders``: comma-separated registered encoders, canonical and without repeats."""
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise click.BadParameter("give at least one encoder name", ctx=ctx, param=param)
    return [encoder_name(n, ctx, param) for n in names]


def check_debias_kind(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--debias``: a kind of geo-bias term."""
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


def check_scale(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--debias-scale``: a scale (``<r>km`` or ``nn<K>``)."""
    if value is None:
        return None

    try:
        parse_scale(value)
    except InputError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None
    return value


def check_scales_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple | None:
    """``--scales`` of the zoo: comma-separated scales (:func:`encoders.zoo.check_scales`)."""
    if value is None:
        return None
    from encoders.zoo import check_scales

    try:
        return check_scales([v for v in value.split(",") if v.strip()])
    except InputError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None


def check_weight(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A weight: finite and >= 0."""
    if value is not None and not 0 <= value < float("inf"):
        raise click.BadParameter(f"{value!r} is not a finite weight >= 0", ctx=ctx, param=param)
    return value


def check_lambdas(ctx: click.Context, param: click.Parameter, value: str | None) -> list | None:
    """``--debias-lambdas``: comma-separated weights >= 0, sorted, with 0 (the reference)."""
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


def debias_options(
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


def check_methods(ctx: click.Context, param: click.Parameter, value: str | None) -> list | None:
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


def method_options(
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


def common(f: Any) -> Any:
    """Options shared by ``train`` and ``zoo``."""
    options = [
        click.option("--data-option", "data_options", multiple=True, metavar="KEY=VALUE",
                     callback=key_values,
                     help="Dataset loader option (repeatable), e.g. n_train=5000, path=my.csv."),
        click.option("--hparam", "hparams", multiple=True, metavar="KEY=VALUE",
                     callback=key_values,
                     help="Encoder hyper-parameter (repeatable), e.g. hidden_dim=512."),
        click.option("--epochs", type=click.IntRange(min=1), help="Maximum number of epochs."),
        click.option("--lr", type=click.FloatRange(min=0, min_open=True),
                     help="Adam learning rate of the first epoch."),
        click.option("--lr-decay", type=click.FloatRange(0, 1, min_open=True),
                     help="Per-epoch learning-rate factor (default 0.98)."),
        click.option("--batch-size", type=click.IntRange(min=1), help="Training batch size."),
        click.option("--patience", type=click.IntRange(min=1),
                     help="Early stopping: epochs without validation improvement."),
        click.option("--debias", metavar="KIND", callback=check_debias_kind,
                     help="Kind of geo-bias term added to the loss: performance-ssi (the "
                          "default once a weight is given), marked-ssi, sri-lag, ... "
                          "(see Debiasing in the documentation)."),
        click.option("--debias-scale", metavar="SCALE", callback=check_scale,
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
