"""Wall time of ``pygbs compare DIR --group-by dataset`` over a whole results folder.

Times, in one process and on the same folder (default: the shared TorchSpatial folder,
64 files of 4 datasets):

* ``check``: phase 1 alone (:func:`pygbs.by_dataset.plan_datasets`: read and check every
  file, place coordinates, decide per dataset);
* ``compare``: the whole command's work (:func:`pygbs.by_dataset.compare_by_dataset`,
  phase 1 included) at ``--centres`` centres per file and one ``--scale``, with the
  default scores and bootstrap; without the accuracy-matched null (``null='none'``) and,
  when this version of :func:`pygbs.score` has a ``null`` parameter, with it
  (``null='accuracy'``) as well.

A warm-up run on a few centres loads the numba kernels first. Each timing is the median of
``--repeats`` runs; other processes on the machine move the numbers, so compare timings
of one run. Examples::

    python benchmarks/compare_folder.py
    python benchmarks/compare_folder.py --repeats 3 --json out/compare_folder.json
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = REPO.parent / "shared" / "data" / "predictions" / "torchspatial"


def _timed(fn: Any, repeats: int) -> tuple[float, list[float], Any]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print and return the timings."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    ap.add_argument("--centres", type=int, default=2000, help="centres per file")
    ap.add_argument("--scale", default="100km")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the decisions' warnings are not timed noise

    import pygbs
    from pygbs.by_dataset import compare_by_dataset, plan_datasets

    if not args.folder.is_dir():
        raise SystemExit(f"{args.folder}: not a folder (pass --folder)")
    files = sorted(p for p in args.folder.iterdir() if p.is_file())
    kwargs: dict[str, Any] = {"scales": [args.scale], "centres": args.centres}
    has_null = "null" in inspect.signature(pygbs.score).parameters

    compare_by_dataset([args.folder], scales=[args.scale], centres=5)  # numba warm-up
    check_s, check_all, plans = _timed(lambda: plan_datasets([args.folder]), args.repeats)
    n_scored = sum(len(plan.tables) for plan in plans[0])
    runs: dict[str, Any] = {}
    variants = [("without null", {"null": "none"} if has_null else {})]
    if has_null:
        variants.append(("with null", {"null": "accuracy"}))
    for label, extra in variants:
        med, all_, _ = _timed(
            lambda extra=extra: compare_by_dataset([args.folder], **kwargs, **extra),
            args.repeats,
        )
        runs[label] = {"median_s": med, "runs_s": all_, **extra}
    result = {
        "folder": str(args.folder),
        "files": len(files),
        "files_scored": n_scored,
        "datasets": len(plans[0]),
        "centres_per_file": args.centres,
        "scale": args.scale,
        "check_median_s": check_s,
        "check_runs_s": check_all,
        "compare": runs,
        "null_available": has_null,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pygbs": pygbs.__version__,
    }
    print(
        f"{args.folder}: {len(files)} files, {n_scored} scored in {len(plans[0])} datasets; "
        f"{args.centres} centres per file at {args.scale}; {os.cpu_count()} CPUs"
    )
    print(f"  read and check every file: {check_s:.1f} s")
    for label, r in runs.items():
        print(f"  compare --group-by dataset, {label}: {r['median_s']:.1f} s")
    if not has_null:
        print("  (this version of pygbs.score has no null parameter: timed without it only)")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
