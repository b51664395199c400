"""Centres per second against the number of samples and against the number of Dask workers.

Two tables, both on seeded clustered world-wide samples from
``benchmarks/clustered_sample.py`` (unmarked + marked SSI, ``method='pygbs'``,
``k_max=100``):

1. **Samples.** For each size in ``--sizes`` (default 1e4, 1e5, 1e6, 1e7), a fresh process
   reads the table, builds the k-d tree (timed apart) and scores ``--centres`` centres
   (default 20,000) at each scale with the batched engine of ``pygbs.score``, twice:
   100 seeded random stretches of the order in which a whole-table run scores its
   centres (the k-d tree's leaf order), which cost per centre what the whole run costs;
   and the same number of seeded random centres scattered over the table (a
   ``centres=`` subset). Printed per scale: centres/s and the per-centre time of the
   stretches, its ratio to that at 1e5 samples, the per-centre time of scattered
   centres, the share of 100 km neighbourhoods at the cap; and the process's peak
   resident memory. With
   ``--full N`` the sizes up to N are also scored whole (every centre, every scale) with
   ``pygbs score --format parquet``, and its peak memory and wall time are printed.
2. **Workers.** On a table of ``--workers-n`` samples (default 1e5), all centres scored in
   this process (``scheduler=None``) and on local Dask clusters of 1 and 2 worker processes
   (``--workers``), each worker with ``cores / workers`` numba threads; centres/s exclude
   the cluster's start-up (printed apart).

Example::

    python benchmarks/gbs_scale.py --sizes 1e4,1e5,1e6,1e7 --full 1e6 --json out/gbs_scale.json

Run nothing else heavy at the same time: the processes' timings and peak memory are only
comparable within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCORES = ("unmarked", "marked")

# Runs in a fresh process: read every table, code it, build its k-d tree (timed), then
# score the centres of each size, interleaving the sizes, --repeats times; keeps the
# fastest time of each (the least disturbed by other load on the machine); prints JSON.
_SAMPLE_PROBE = """
import json, sys, time
import numpy as np
import pygbs
from pygbs.engine.base import BlockOptions, LocalEngine, Samples
from pygbs.geo.scales import parse_scale
from pygbs.stats.scoring import ScoringOptions
paths, n_centres, scales = sys.argv[1].split(","), int(sys.argv[2]), sys.argv[3].split(",")
seed, repeats = int(sys.argv[4]), int(sys.argv[5])
opts = BlockOptions(ScoringOptions.build(scores=("unmarked", "marked")))
sizes = []
for path in paths:
    t = time.perf_counter(); pred = pygbs.read_predictions(path); read_s = time.perf_counter() - t
    n = len(pred)
    marks = np.asarray(pygbs.code_performance(pred).values, dtype=np.float64)
    samples = Samples.from_arrays(pred.lon, pred.lat, pred.value, marks)
    pygbs.score(pred, scales=scales, scores=("unmarked", "marked"), centres=64)  # numba load
    t = time.perf_counter(); engine = LocalEngine(samples); index_s = time.perf_counter() - t
    rng = np.random.default_rng(seed)
    m = min(n_centres, n)
    scattered = np.sort(rng.choice(n, size=m, replace=False))
    # a whole-table run scores the centres in the tree's leaf order: 100 random stretches
    # of that order, m / 100 centres each, cost per centre what the whole run costs
    leaf = engine.index.tree[0]
    run = max(m // 100, 1)
    starts = rng.choice(max(n - run, 1), size=min(100, max(n // run, 1)), replace=False)
    stretches = np.concatenate([leaf[a : a + run] for a in starts])
    sizes.append({"n": n, "centres": int(m), "read_s": read_s, "index_s": index_s,
                  "engine": engine, "rows": {"whole": stretches, "scattered": scattered},
                  "scales": {s: {"whole": {"seconds": np.inf, "centres": int(len(stretches))},
                                 "scattered": {"seconds": np.inf, "centres": int(m)}}
                             for s in scales}})
for _ in range(repeats):
    for sz in sizes:
        for s in scales:
            scale = parse_scale(s, k_max=100)
            res = sz["scales"][s]
            for kind, rows in sz["rows"].items():
                t = time.perf_counter()
                nb = np.concatenate(
                    [b["n_neighbours"] for _, _, b in sz["engine"].blocks(rows, [scale], opts)])
                res[kind]["seconds"] = min(res[kind]["seconds"], time.perf_counter() - t)
            res["mean_neighbours"] = float(nb.mean())
            res["share_at_cap"] = None if scale.is_knn else float((nb == 100).mean())
for sz in sizes:
    del sz["engine"], sz["rows"]
print(json.dumps(sizes))
"""

# Runs in a fresh process: score all centres of a table here and on local clusters of
# each size (started once), interleaved, --repeats times; keeps the fastest of each.
_WORKERS_PROBE = """
import json, os, sys, time
import pygbs
path, scales = sys.argv[1], sys.argv[2].split(",")
workers, repeats = [int(w) for w in sys.argv[3].split(",")], int(sys.argv[4])
pred = pygbs.read_predictions(path)
kw = dict(scales=scales, scores=("unmarked", "marked"))
if __name__ == "__main__":
    import distributed
    pygbs.score(pred, centres=64, **kw)  # numba cache load
    cores = os.cpu_count() or 1
    clients, out = {0: None}, {"n": len(pred), "runs": {0: {"seconds": 1e300, "start_s": 0.0}}}
    for w in workers:
        t = time.perf_counter()
        cluster = distributed.LocalCluster(
            n_workers=w, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0",
            env={"NUMBA_NUM_THREADS": str(max(1, cores // w))})
        clients[w] = distributed.Client(cluster)
        pygbs.score(pred, centres=64, scheduler=clients[w], **kw)  # numba load + k-d tree
        out["runs"][w] = {"seconds": 1e300, "start_s": time.perf_counter() - t}
    for _ in range(repeats):
        for w, client in clients.items():
            t = time.perf_counter(); pygbs.score(pred, scheduler=client, **kw)
            wall = time.perf_counter() - t
            out["runs"][w]["seconds"] = min(out["runs"][w]["seconds"], wall)
    out["runs"] = [{"workers": w, **v} for w, v in out["runs"].items()]
    print(json.dumps(out))
"""


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", default="1e4,1e5,1e6,1e7", help="sample sizes (default: %(default)s)")
    p.add_argument("--centres", type=int, default=20_000, help="sampled centres per size")
    p.add_argument("--scales", default="100km,nn50", help="scales (default: %(default)s)")
    p.add_argument(
        "--full", type=float, default=0, help="also score whole tables up to this size (CLI)"
    )
    p.add_argument("--workers", default="1,2", help="local Dask cluster sizes (default: 1,2)")
    p.add_argument("--workers-n", type=float, default=1e5, help="samples of the workers table")
    p.add_argument("--no-workers", action="store_true", help="skip the workers table")
    p.add_argument("--seed", type=int, default=0, help="seed of the tables and centres")
    p.add_argument("--repeats", type=int, default=3, help="timed runs of each; the fastest counts")
    p.add_argument("--tmp", type=Path, default=None, help="folder for the generated tables")
    p.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    return p.parse_args(argv)


def _run_rss(cmd: list[str]) -> tuple[str, float, float]:
    """Run ``cmd``: (stdout, wall seconds, the child's own peak resident memory in GiB)."""
    t = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as out, tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"gbs_scale: {' '.join(cmd[:4])} failed:\n{stderr.strip()[-2000:]}")
    return stdout, wall, usage.ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux


def _table(n: int, seed: int, folder: Path) -> Path:
    sys.path.insert(0, str(HERE))
    from clustered_sample import generate

    path = folder / f"clustered_{n}.parquet"
    if not path.is_file():
        generate(n, seed=seed).to_parquet(path, index=False)
    return path


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the results (also printed, and written with --json)."""
    args = _parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    tmp_ctx = tempfile.TemporaryDirectory(prefix="gbs_scale_") if args.tmp is None else None
    folder = Path(tmp_ctx.name) if tmp_ctx else args.tmp
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"sizes": [], "full": [], "workers": None}
    try:
        paths = [_table(n, args.seed, folder) for n in sizes]
        stdout, _, rss = _run_rss(
            [sys.executable, "-c", _SAMPLE_PROBE, ",".join(map(str, paths)), str(args.centres),
             ",".join(scales), str(args.seed), str(args.repeats)]
        )  # fmt: skip
        results["sizes"] = json.loads(stdout.strip().splitlines()[-1])
        results["probe_peak_gib"] = rss
        for row in results["sizes"]:
            for s in scales:
                for kind in ("whole", "scattered"):
                    k = row["scales"][s][kind]
                    k["us_per_centre"] = 1e6 * k["seconds"] / k["centres"]
                    k["centres_per_s"] = k["centres"] / k["seconds"]
        print("  sampled centres: done", file=sys.stderr)
        for n, path in zip(sizes, paths):
            if n <= args.full:
                out = folder / f"result_{n}"
                pygbs_cmd = str(Path(sys.executable).parent / "pygbs")
                cmd = [pygbs_cmd, "score", str(path), "--format", "parquet", "--out", str(out)]
                for s in scales:
                    cmd += ["--scale", s]
                _, wall, rss = _run_rss(cmd)
                results["full"].append({"n": n, "seconds": wall, "peak_gib": rss})
                print(f"  n={n} whole: done", file=sys.stderr)
        if not args.no_workers:
            path = _table(int(args.workers_n), args.seed, folder)
            stdout, _, _ = _run_rss(
                [
                    sys.executable,
                    "-c",
                    _WORKERS_PROBE,
                    str(path),
                    ",".join(scales),
                    args.workers,
                    str(args.repeats),
                ]  # fmt: skip
            )
            results["workers"] = json.loads(stdout.strip().splitlines()[-1])
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    import numba

    results["parameters"] = {
        "centres": args.centres,
        "scales": scales,
        "scores": list(SCORES),
        "k_max": 100,
        "seed": args.seed,
        "repeats": args.repeats,
    }
    results["machine"] = {
        "python": platform.python_version(),
        "numba_threads": numba.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    print(_format(results))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


def _format(r: dict[str, Any]) -> str:
    p = r["parameters"]
    scales = p["scales"]
    lines = [
        f"unmarked + marked SSI, k_max={p['k_max']}; {p['centres']} centres per size; "
        f"fastest of {p['repeats']} runs; {r['machine']['cpu_count']} cores",
        "",
        f"{'samples':>10} {'scale':<7} {'centres/s':>10} {'us/centre':>10} {'vs 1e5':>7} "
        f"{'scattered us':>13} {'at cap':>7} {'tree s':>7}",
    ]
    ref = {s: None for s in scales}
    for row in r["sizes"]:
        if row["n"] == 100_000:
            ref = {s: row["scales"][s]["whole"]["us_per_centre"] for s in scales}
    for row in r["sizes"]:
        for s in scales:
            v = row["scales"][s]
            w, sc = v["whole"], v["scattered"]
            ratio = "" if ref[s] is None else f"{w['us_per_centre'] / ref[s]:.2f}x"
            cap = "" if v["share_at_cap"] is None else f"{v['share_at_cap']:.2f}"
            lines.append(
                f"{row['n']:>10} {s:<7} {w['centres_per_s']:>10.0f} {w['us_per_centre']:>10.1f} "
                f"{ratio:>7} {sc['us_per_centre']:>13.1f} {cap:>7} {row['index_s']:>7.2f}"
            )
    if "probe_peak_gib" in r:
        lines.append(f"(all sizes in one process: peak {r['probe_peak_gib']:.2f} GiB)")
    if r["full"]:
        lines += ["", "whole table (pygbs score --format parquet, every centre and scale):"]
        for f in r["full"]:
            lines.append(
                f"{f['n']:>10} samples: {f['seconds']:.1f} s, peak {f['peak_gib']:.2f} GiB"
            )
    w = r["workers"]
    if w:
        lines += ["", f"all {w['n']} centres x {len(scales)} scales:"]
        lines.append(f"{'workers':>8} {'centres/s':>10} {'seconds':>8} {'cluster start s':>16}")
        for run in w["runs"]:
            label = "none" if run["workers"] == 0 else str(run["workers"])
            rate = w["n"] * len(scales) / run["seconds"]
            lines.append(f"{label:>8} {rate:>10.0f} {run['seconds']:>8.1f} {run['start_s']:>16.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    run(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
