"""Shared click options: a flag means the same thing in every ``pygbs`` command."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from pygbs._names import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_CI,
    DEFAULT_NULL_DRAWS,
    DEFAULT_SCALES,
    DEFAULT_SCORES,
    SCORE_COLUMNS,
)
from pygbs.geo.scales import DEFAULT_K_MAX, EARTH_RADIUS_KM

__all__ = [
    "force_option",
    "cluster_options",
    "format_option",
    "out_option",
    "run_or_exit",
    "score_options",
    "scoring_kwargs",
]


def _k_max(ctx: click.Context, param: click.Parameter, value: str) -> int | None:
    if value.lower() == "none":
        return None
    try:
        k = int(value)
    except ValueError:
        raise click.BadParameter(f"expected a positive integer or 'none'; got {value!r}") from None
    if k < 1:
        raise click.BadParameter(f"expected a positive integer or 'none'; got {value!r}")
    return k


def score_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``score``, ``compare``, ``map`` and ``report``."""
    opts = [
        click.option("--value", help="Performance column (default: detected, e.g. hit@1)."),
        click.option("--lon", help="Longitude column (default: detected)."),
        click.option("--lat", help="Latitude column (default: detected)."),
        click.option(
            "--scale",
            "scales",
            multiple=True,
            metavar="SCALE",
            help=f"'<r>km' or 'nn<K>'; repeat for several (default: {' '.join(DEFAULT_SCALES)}).",
        ),
        click.option(
            "--score",
            "scores",
            multiple=True,
            type=click.Choice(list(SCORE_COLUMNS)),
            help=f"Score to compute; repeat for several (default: {' '.join(DEFAULT_SCORES)}).",
        ),
        click.option(
            "--method",
            type=click.Choice(["pygbs", "analytic", "permutation"]),
            default="pygbs",
            show_default=True,
            help="SSI null distribution.",
        ),
        click.option(
            "--k-max",
            default=str(DEFAULT_K_MAX),
            show_default=True,
            callback=_k_max,
            help="Cap on distance-scale neighbourhoods ('none' for no cap).",
        ),
        click.option(
            "--k",
            "k",
            default=4,
            show_default=True,
            type=click.IntRange(1),
            help="Neighbours per point in the SSI weight graph.",
        ),
        click.option(
            "--min-points",
            default=5,
            show_default=True,
            type=click.IntRange(1),
            help="Smaller neighbourhoods are not scored.",
        ),
        click.option(
            "--centres",
            type=click.IntRange(1),
            default=None,
            help="Score only the first N valid rows (quick looks).",
        ),
        click.option(
            "--seed",
            default=0,
            show_default=True,
            type=click.IntRange(0, 2**32 - 1),
            help="Seed of permutation tests.",
        ),
        click.option(
            "--permutations",
            default=999,
            show_default=True,
            type=click.IntRange(1),
            help="Permutations for --method permutation.",
        ),
        click.option(
            "--bootstrap",
            default=DEFAULT_BOOTSTRAP,
            show_default=True,
            type=click.IntRange(0),
            help="Spatial block-bootstrap replicates of each headline interval (0: none).",
        ),
        click.option(
            "--null",
            type=click.Choice(["accuracy", "none"]),
            default=None,
            help="Accuracy-matched null: score random permutations of the model's coded "
            "performance among its samples and report each score's excess over them "
            "(default: accuracy for compare, profile and report; none for score and map).",
        ),
        click.option(
            "--null-draws",
            default=DEFAULT_NULL_DRAWS,
            show_default=True,
            type=click.IntRange(1),
            help="Draws of the accuracy-matched null.",
        ),
        click.option(
            "--ci",
            default=DEFAULT_CI,
            show_default=True,
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            help="Level of the headline intervals (ci_low, ci_high).",
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
        click.option(
            "--presence",
            type=click.Choice(["all", "good"]),
            default="all",
            show_default=True,
            help="Unmarked SSI over all or only good samples.",
        ),
        click.option(
            "--coords-from",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Take lon/lat row by row from this prediction file (for files without "
            "coordinates, or whose lon/lat hold the wrap encoding; compare also takes 'auto').",
        ),
        click.option(
            "--sri-threshold",
            default=20,
            show_default=True,
            type=click.IntRange(1),
            help="SRI: parts with fewer samples are skipped.",
        ),
        click.option(
            "--sri-sectors",
            default=8,
            show_default=True,
            type=click.IntRange(1),
            help="SRI: number of direction sectors.",
        ),
        click.option(
            "--sri-cell-km",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            help="SRI: grid cell side in km (default: half the radius).",
        ),
        click.option(
            "--sri-lag-km",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            help="SRI: distance ring width in km (default: a quarter of the radius).",
        ),
        click.option(
            "--sri-bins",
            type=click.IntRange(1),
            default=None,
            help="SRI: histogram bins (default: 2 for +-1 codes, else 10).",
        ),
    ]
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
    """Turn the parsed :func:`score_options` into keyword arguments of :func:`pygbs.score`."""
    threshold = params.get("threshold")
    if threshold is not None and threshold.lower() != "median":
        try:
            threshold = float(threshold)
        except ValueError:
            raise click.BadParameter(
                f"expected a number or 'median'; got {threshold!r}", param_hint="--threshold"
            ) from None
    return {
        "value": params.get("value"),
        "lon": params.get("lon"),
        "lat": params.get("lat"),
        "scales": tuple(params.get("scales") or DEFAULT_SCALES),
        "scores": tuple(params.get("scores") or DEFAULT_SCORES),
        "method": params["method"],
        "k": params["k"],
        "k_max": params["k_max"],
        "min_points": params["min_points"],
        "centres": params.get("centres"),
        "seed": params["seed"],
        "permutations": params["permutations"],
        "bootstrap": params["bootstrap"],
        "ci": params["ci"],
        "threshold": threshold,
        "lower_is_better": params.get("lower_is_better"),
        "raw": params.get("raw", False),
        "transform": params.get("transform", "auto"),
        "min_label": params.get("min_label"),
        "near_zero_labels": params.get("near_zero_labels"),
        "duplicates": params.get("duplicates", "keep"),
        "presence": params["presence"],
        "coords_from": params.get("coords_from"),
        "sri_threshold": params.get("sri_threshold", 20),
        "sri_sectors": params.get("sri_sectors", 8),
        "sri_scale": _km_to_rad(params.get("sri_cell_km")),
        "sri_lag": _km_to_rad(params.get("sri_lag_km")),
        "sri_bins": params.get("sri_bins"),
        **({"null": params["null"]} if params.get("null") else {}),
        "null_draws": params.get("null_draws", DEFAULT_NULL_DRAWS),
    }


def _km_to_rad(km: float | None) -> float | None:
    return None if km is None else km / EARTH_RADIUS_KM


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
    ``scores`` adds the kernels of those scores to the ones every run needs.
    """
    from pygbs._kernels.cache_state import kernels_for, uncached_kernels

    missing, folder = uncached_kernels(kernels_for(scores))
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

    A cluster that fails exits with code 1 and one line (docs/cli.md); Dask's own INFO
    logs (every worker start and stop) show only with -v. Scoring here (no ``scheduler``)
    first says when the numba kernels (of ``scores`` too) are compiled for the first time.
    """
    if scheduler is None:
        with first_run_notice(scores):
            return run_or_exit(fn)
    import logging
    import sys

    from pygbs.engine.dask import ClusterError, log_level

    try:
        return run_or_exit(lambda: (log_level(logging.getLogger().getEffectiveLevel()), fn())[1])
    except ClusterError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)


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
