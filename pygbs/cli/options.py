"""Shared click options: a flag means the same thing in every ``pygbs`` command."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from pygbs._names import SCORE_COLUMNS
from pygbs.geo.scales import EARTH_RADIUS_KM
from pygbs.stats.options import SAME, CommonOptions, OptionSpec, option_fields
from pygbs.stats.registry import option_classes
from pygbs.stats.scoring import ScoringOptions, option_owners

__all__ = [
    "force_option",
    "cluster_options",
    "format_option",
    "out_option",
    "run_or_exit",
    "score_options",
    "scoring_kwargs",
]


def _none_or_int(ctx: click.Context, param: click.Parameter, value: str) -> int | None:
    """Callback of an integer option that also takes 'none' (e.g. ``--k-max``).

    Its bounds are checked with the option's dataclass (one line naming the option).
    """
    if value.lower() == "none":
        return None
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"expected a positive integer or 'none'; got {value!r}") from None


class _IntBounds(click.IntRange):
    """An integer whose bounds show in the help but are checked by the option's dataclass.

    A value out of bounds then stops the command with one ``error:`` line naming the
    option (exit code 2, docs/cli.md), as every other bad value does.
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return click.INT.convert(value, param, ctx)


class _FloatBounds(click.FloatRange):
    """A number whose bounds show in the help but are checked by the option's dataclass."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return click.FLOAT.convert(value, param, ctx)


def _generated(name: str, default: Any, spec: OptionSpec) -> Callable[[Any], Any]:
    """The click option of one option field (:class:`pygbs.stats.options.OptionSpec`)."""
    kw: dict[str, Any] = {"help": spec.help}
    if spec.multiple:
        kw.update(multiple=True)
        if spec.metavar:
            kw.update(metavar=spec.metavar)
        if name == "scores":  # the registry's names
            kw.update(type=click.Choice(list(SCORE_COLUMNS)))
        return click.option(spec.flag, name, **kw)
    cli_default = default if spec.cli_default == SAME else spec.cli_default
    if spec.choices is not None:
        kw.update(type=click.Choice(list(spec.choices)))
    elif spec.kind is int and spec.none and cli_default is not None:
        kw.update(callback=_none_or_int, default=str(cli_default))
        cli_default = str(cli_default)
    elif spec.kind is int:
        kw.update(type=_IntBounds(spec.low, spec.high))
    elif spec.kind is float:
        kw.update(
            type=_FloatBounds(spec.low, spec.high, min_open=spec.low_open, max_open=spec.high_open)
        )
    kw.update(default=cli_default)
    if cli_default is not None:
        kw.update(show_default=True)
    return click.option(spec.flag, name, **kw)


def _statistics_options() -> list[Callable[[Any], Any]]:
    """Click options of the shared options and of every statistic family, in order."""
    out = []
    for cls in (CommonOptions, *option_classes()):
        for f, spec in option_fields(cls):
            if spec.flag is not None:
                out.append(_generated(f.name, f.default, spec))
    return out


def score_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``score``, ``compare``, ``profile``, ``map`` and ``report``.

    The options of the statistics are generated from their dataclasses
    (:class:`pygbs.stats.options.CommonOptions` and each family's options class of
    :func:`pygbs.stats.registry.option_classes`); those that read and code the input
    are declared here.
    """
    reading = [
        click.option("--value", help="Performance column (default: detected, e.g. hit@1)."),
        click.option("--lon", help="Longitude column (default: detected)."),
        click.option("--lat", help="Latitude column (default: detected)."),
        click.option(
            "--coords-from",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Take lon/lat row by row from this prediction file (for files without "
            "coordinates, or whose lon/lat hold the wrap encoding; compare also takes 'auto').",
        ),
        click.option(
            "--centres",
            type=click.IntRange(1),
            default=None,
            help="Score only the first N valid rows (quick looks).",
        ),
        click.option(
            "--threshold",
            default=None,
            help="Good/bad threshold for non-binary values: a number or 'median'.",
        ),
        click.option(
            "--lower-is-better/--higher-is-better",
            "lower_is_better",
            default=None,
            help="Direction of the value (default: from the column name).",
        ),
        click.option("--raw", is_flag=True, help="Marked SSI on raw values, not +-1 codes."),
        click.option(
            "--transform",
            type=click.Choice(["auto", "none", "abs"]),
            default="auto",
            show_default=True,
            help="Code the values as stored ('none') or their absolute value ('abs'); "
            "'auto' codes |value| for an error column that takes both signs.",
        ),
        click.option(
            "--min-label",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            help="Floor of a relative error's denominator: recompute it as (prediction - "
            "label) / max(|label|, X) from the predictions and labels columns.",
        ),
        click.option(
            "--near-zero-labels",
            type=click.Choice(["error", "allow"]),
            default=None,
            help="A relative error column with more than 2 % near-zero labels: stop with an "
            "error, or code it as stored.  [default: error; with compare --group-by the "
            "dataset is coded by its absolute error]",
        ),
        click.option(
            "--duplicates",
            type=click.Choice(["keep", "collapse"]),
            default="keep",
            show_default=True,
            help="Score every row, or one sample per location (its majority outcome).",
        ),
    ]
    opts = [*reading[:5], *_statistics_options(), *reading[5:]]
    return functools.reduce(lambda acc, opt: opt(acc), reversed(opts), f)


def force_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--force``: write into an existing directory (or file) that is not our output."""
    return click.option(
        "--force",
        is_flag=True,
        help="Write into a non-empty --out that is not an earlier output of this command "
        "(only the files written are replaced).",
    )(f)


def out_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--out DIR`` (required) and ``--force``."""
    f = force_option(f)
    return click.option(
        "--out",
        "out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Output directory (written atomically: complete or untouched).",
    )(f)


def scoring_kwargs(**params: Any) -> dict[str, Any]:
    """Turn the parsed :func:`score_options` into keyword arguments of :func:`pygbs.score`.

    The statistics' options are read by their field names (kilometres turned into
    radians where the field says so); an option whose command-line default differs from
    the library's (``--null``) is passed only when given. They are validated here, before
    any file is read: a bad value stops the command with one line naming the option.
    """
    threshold = params.get("threshold")
    if threshold is not None and threshold.lower() != "median":
        try:
            threshold = float(threshold)
        except ValueError:
            raise click.BadParameter(
                f"expected a number or 'median'; got {threshold!r}", param_hint="--threshold"
            ) from None
    out: dict[str, Any] = {
        "value": params.get("value"),
        "lon": params.get("lon"),
        "lat": params.get("lat"),
        "centres": params.get("centres"),
        "threshold": threshold,
        "lower_is_better": params.get("lower_is_better"),
        "raw": params.get("raw", False),
        "transform": params.get("transform", "auto"),
        "min_label": params.get("min_label"),
        "near_zero_labels": params.get("near_zero_labels"),
        "duplicates": params.get("duplicates", "keep"),
        "coords_from": params.get("coords_from"),
    }
    for cls in (CommonOptions, *option_classes()):
        for f, spec in option_fields(cls):
            if spec.flag is None:
                continue
            value = params.get(f.name)
            if spec.multiple:
                out[f.name] = tuple(value or f.default)
            elif spec.cli_default != SAME:
                if value is not None:
                    out[f.name] = value
            elif f.name not in params:
                out[f.name] = f.default
            elif spec.km and value is not None:
                out[f.name] = value / EARTH_RADIUS_KM
            else:
                out[f.name] = value
    stats = {k: v for k, v in out.items() if k in option_owners()}
    run_or_exit(lambda: ScoringOptions.build(**stats))  # bad values: one line, exit 2
    return out


def run_or_exit(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` through :func:`pygbs.runtime.run_command` (exit codes of docs/cli.md)."""
    from pygbs.runtime import run_command

    return run_command(fn)


#: What the first run after an install says (docs/benchmarks.md, "First run after an install").
FIRST_RUN_NOTE = (
    "note: compiling the numba kernels for their first use on this machine (half a minute "
    "to a few minutes, once; later runs load them from the cache in {folder})"
)
#: Seconds a run with uncompiled kernels waits before saying so (a bad input fails sooner).
FIRST_RUN_DELAY_S = 2.0


@contextlib.contextmanager
def first_run_notice(
    scores: tuple[str, ...] = (), delay_s: float = FIRST_RUN_DELAY_S
) -> Iterator[None]:
    """Say on stderr that the kernels are being compiled, when they are not cached yet.

    The note comes ``delay_s`` seconds into the block, and only if the block still runs,
    so that a command that stops early on a bad input prints its one error line alone.
    ``scores`` adds the kernels of those scores (:attr:`pygbs.stats.registry.ScoreDef.kernels`)
    to the ones every run needs.
    """
    from pygbs._kernels.cache_state import CORE_KERNELS, uncached_kernels
    from pygbs.stats.registry import REGISTRY

    own = tuple(k for s in scores if s in REGISTRY for k in REGISTRY[s].kernels)
    missing, folder = uncached_kernels(tuple(dict.fromkeys(CORE_KERNELS + own)))
    if not missing:
        yield
        return
    timer = threading.Timer(
        delay_s, lambda: click.echo(FIRST_RUN_NOTE.format(folder=folder), err=True)
    )
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def run_scoring(fn: Callable[[], Any], scheduler: str | None, scores: tuple[str, ...] = ()) -> Any:
    """:func:`run_or_exit` for a command that scores, on a Dask cluster with ``scheduler``.

    A cluster that fails exits with code 3 and one line (docs/cli.md); Dask's own INFO
    logs (every worker start and stop) show only with -v. Scoring here (no ``scheduler``)
    first says when the numba kernels (of ``scores`` too) are compiled for the first time.
    """
    if scheduler is None:
        with first_run_notice(scores):
            return run_or_exit(fn)
    import logging

    from pygbs.engine.dask import log_level

    return run_or_exit(lambda: (log_level(logging.getLogger().getEffectiveLevel()), fn())[1])


def cluster_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--scheduler`` and ``--chunk-size``: score on a Dask cluster (docs/scale.md)."""
    f = click.option(
        "--chunk-size",
        type=click.IntRange(1),
        default=None,
        help="Centres per Dask task (default: about 8 tasks per worker and scale).",
    )(f)
    return click.option(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Score on a Dask cluster: a scheduler address (tcp://HOST:8786) or 'local:N' "
        "for N local worker processes. Needs pip install 'geobias[dask]'.",
    )(f)


def format_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--format csv|parquet`` of the per-centre table."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["csv", "parquet"]),
        default="csv",
        show_default=True,
        help="Format of OUT/centres.* (Parquet is smaller and faster for millions of rows).",
    )(f)
