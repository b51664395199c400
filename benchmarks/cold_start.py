"""The first ``pygbs score`` after an install against the next ones, on the shipped data.

Each run is a fresh process of the installed command line, ``pygbs score`` on the example
file ``eval_birdsnap_ebird_meta_test_NeRF.csv.gz`` (2,217 located rows) at the default
scales, with the numba cache in a new empty folder (``NUMBA_CACHE_DIR``):

* ``cold``: the first run, which compiles every kernel it uses and writes them to the cache;
* ``warm``: ``--repeats`` runs after it, which load the kernels from the cache (median);
* ``cold +performance``: the first run with ``--score performance`` added after the warm
  runs (the extra kernels of the performance SSI), then a warm one.

It also checks that the cold run printed the first-run note and the warm runs did not.
Examples::

    python benchmarks/cold_start.py
    python benchmarks/cold_start.py --repeats 5 --json out/cold_start.json

The machine's other load changes the numbers: report the load with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pygbs.cli.options import FIRST_RUN_NOTE
from pygbs.datasets import example_path

NOTE = FIRST_RUN_NOTE.split("{", 1)[0]


def _pygbs() -> list[str]:
    exe = shutil.which("pygbs", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "pygbs.cli"]


def _run(args: list[str], env: dict[str, str], out: Path) -> tuple[float, bool]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        _pygbs() + args + ["--out", str(out), "--force"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"pygbs score failed:\n{proc.stderr}")
    return wall, NOTE in proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm runs (median)")
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = parser.parse_args()

    nerf = str(example_path("NeRF"))
    with tempfile.TemporaryDirectory(prefix="pygbs-cold-") as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba_cache")}
        out = Path(tmp) / "out"
        cold, cold_note = _run(["score", nerf], env, out)
        warm = [_run(["score", nerf], env, out) for _ in range(args.repeats)]
        perf = ["score", nerf, "--score", "unmarked", "--score", "marked"]
        perf += ["--score", "performance"]
        perf_cold, perf_note = _run(perf, env, out)
        perf_warm, _ = _run(perf, env, out)
    result = {
        "file": Path(nerf).name,
        "cold_s": round(cold, 1),
        "cold_note_printed": cold_note,
        "warm_median_s": round(statistics.median(w for w, _ in warm), 1),
        "warm_note_printed": any(n for _, n in warm),
        "performance_cold_s": round(perf_cold, 1),
        "performance_cold_note_printed": perf_note,
        "performance_warm_s": round(perf_warm, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
