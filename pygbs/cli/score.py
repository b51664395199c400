"""``pygbs score``: geo-bias scores of one prediction file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pygbs.cli.options import out_option, run_or_exit, score_options, scoring_kwargs


@click.command("score", short_help="Score one prediction file.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@score_options
@out_option
def score_cmd(file: Path, out: Path, **params: Any) -> None:
    """Geo-bias scores (SSI, SRI) of FILE's per-location predictions.

    Writes OUT/summary.json (parameters, counts, aggregates per score and scale) and
    OUT/centres.csv (one row per centre and scale).

    \b
    Examples:
      pygbs score eval_yfcc__test_NeRF.csv.gz --out result/
      pygbs score preds.csv --value relative_error --scale 100km --scale nn50 \\
          --score marked --score sri-lag --out result/
      pygbs score no_prior.csv.gz --coords-from NeRF.csv.gz --centres 500 --out quick/
    """
    kwargs = scoring_kwargs(**params)

    def run() -> None:
        from pygbs.api import score  # pandas and numba load only when a command runs

        res = score(file, progress=sys.stderr.isatty(), **kwargs)
        res.write(out)
        agg = res.summary["aggregates"]
        click.echo(
            f"{res.summary['input']['model']}: {res.summary['input']['n_valid']} samples, "
            f"{len(res.centres)} centre rows -> {out}"
        )
        for col, per_scale in agg.items():
            for scale, a in per_scale.items():
                mean = "nan" if a["mean"] is None else f"{a['mean']:.4g}"
                hint = ""
                if a["n_scored"] == 0 and col.startswith("sri"):
                    hint = " - no part reached --sri-threshold samples; try a larger scale"
                click.echo(
                    f"  {col}@{scale}: mean {mean} ({a['n_scored']} scored, "
                    f"{a['n_skipped']} skipped){hint}"
                )

    run_or_exit(run)
