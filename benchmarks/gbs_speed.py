"""Centres per second of the fast SSI scorer against the dense reference-style baseline.

For each scale, in the same process and on the same prediction file:

* ``baseline``: :func:`pygbs.testing.dense.dense_score` (a Python loop over centres, BallTree
  neighbourhoods, dense ``m x m`` k-NN weight matrices, the public PyGBS way) on a seeded
  random sample of ``--centres`` centres, unmarked + marked SSI;
* ``ours``: ``pygbs.score(pred, scales=[scale], scores=("unmarked", "marked"),
  centres=rows)`` on a seeded random sample of ``--fast-centres`` rows that contains the
  baseline's rows.

Each side runs ``--repeats`` times per scale and the median wall time counts (this VM's
timings vary by +-15 % from run to run). Also reported: the numba compile time (a fresh
process with an empty numba cache scores a tiny table twice: first call minus second
call), the first-call overhead in this process (numba cache load), and the wall time of
scoring the whole file at each scale.

With ``--whole-process`` the fast side is the command line instead, one process per run:
``pygbs score FILE --scale S --score unmarked --score marked --out DIR`` on the whole
file (interpreter start-up, imports, reading the file, loading the numba kernels from the
cache, scoring, writing the outputs), against the same dense baseline per centre. The
first run is reported on its own (it may compile or write the numba cache); the median of
the ``--repeats`` runs after it counts. The start-up of ``import pygbs`` and
``pygbs --help`` is timed too, and so is the *floor* of any process on this package's
stack: a script that imports NumPy (and pandas) and runs one numba kernel loaded from the
disk cache, which no ``pygbs score`` run can undercut. Per scale it also times the same
command on one centre (``--centres 1``: everything but the per-centre work) and prints
what a ``--target`` speed-up (150x) allows for the whole run, and the speed-up that the
fixed part alone would cap. ``--reference PATH`` adds one whole-process run of the
public reference implementation's ``scripts/ssi_run.py`` (a checkout of seai-lab/PyGBS at
PATH) on the same file, distance scales only. Examples::

    python benchmarks/gbs_speed.py
    python benchmarks/gbs_speed.py --centres 50 --scales 100km,nn50 --json out/gbs_speed.json
    python benchmarks/gbs_speed.py --file path/to/eval_yfcc__test_rbf.csv.gz
    python benchmarks/gbs_speed.py --whole-process --scales 100km --repeats 5

The baseline and ours share the machine's cores with whatever else runs: compare ratios
from one run, not numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("gbs_speed")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FILE = "../shared/data/predictions/torchspatial/eval_yfcc__test_NeRF.csv.gz"
SCORES = ("unmarked", "marked")

# Run in a fresh interpreter with an empty NUMBA_CACHE_DIR: two calls of pygbs.score on a
# tiny synthetic table; prints the two wall times as JSON.
_COMPILE_PROBE = """
import json, time
import numpy as np, pandas as pd
import pygbs
rng = np.random.default_rng(0)
table = pd.DataFrame({"lon": rng.uniform(-1, 1, 200), "lat": rng.uniform(-1, 1, 200),
                      "hit@1": rng.integers(0, 2, 200).astype(float)})
times = []
for _ in range(2):
    t = time.perf_counter()
    pygbs.score(table, scales=["100km", "nn50"], scores=("unmarked", "marked"))
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""

# The floor of a process on this stack: NumPy (+ pandas) and one parallel numba kernel
# loaded from the disk cache (run from a file: numba caches only functions defined in one).
_FLOOR_PROBE = """
import numpy as np
{imports}
from numba import njit, prange

@njit(cache=True, parallel=True)
def kernel(x):
    for i in prange(x.shape[0]):
        x[i] += 1.0
    return x

kernel(np.ones(4))
"""


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--file",
        default=DEFAULT_FILE,
        help=f"prediction file; a relative path is resolved against the repo root "
        f"(default: {DEFAULT_FILE})",
    )
    p.add_argument(
        "--centres", type=int, default=200, help="centres scored by the baseline (default: 200)"
    )
    p.add_argument(
        "--fast-centres",
        type=int,
        default=2000,
        help="centres scored by ours for the centres/s column (default: 2000)",
    )
    p.add_argument(
        "--scales",
        default="100km,1000km,nn50",
        help="comma-separated scales (default: %(default)s)",
    )
    p.add_argument("--k-max", type=int, default=100, help="cap of distance-scale neighbourhoods")
    p.add_argument("--min-points", type=int, default=5, help="smallest neighbourhood scored")
    p.add_argument("--seed", type=int, default=0, help="seed of the centre samples")
    p.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed runs of each side per scale; the median is reported (default: 3)",
    )
    p.add_argument(
        "--no-full", action="store_true", help="skip the wall time of scoring the whole file"
    )
    p.add_argument(
        "--no-compile", action="store_true", help="skip the cold-cache compile measurement"
    )
    p.add_argument(
        "--whole-process",
        action="store_true",
        help="time the `pygbs score` command as a separate process (whole file, per centre) "
        "against the dense baseline, and the start-up of `import pygbs` / `pygbs --help`",
    )
    p.add_argument(
        "--startup-repeats",
        type=int,
        default=7,
        help="with --whole-process: runs of each start-up probe (default: %(default)s)",
    )
    p.add_argument(
        "--target",
        type=float,
        default=150.0,
        help="with --whole-process: the speed-up whose time allowance is printed "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--reference",
        type=Path,
        default=None,
        metavar="PATH",
        help="with --whole-process: a checkout of the public reference implementation "
        "(seai-lab/PyGBS); its scripts/ssi_run.py is run once per distance scale on the "
        "whole file",
    )
    p.add_argument(
        "--reference-python",
        default=sys.executable,
        help="interpreter for --reference (default: this one)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return p.parse_args(argv)


def _resolve_file(arg: str) -> Path:
    path = Path(arg).expanduser()
    if not path.is_absolute():
        path = (REPO / path).resolve()
    if not path.is_file():
        raise SystemExit(
            f"gbs_speed: prediction file not found: {path}\n"
            "  pass --file PATH (a relative path is taken from the repository root)"
        )
    return path


def _require_score() -> Any:
    import pygbs

    score = getattr(pygbs, "score", None)
    if score is None:
        raise SystemExit(
            "gbs_speed: pygbs.score is missing from this checkout (the fast scorer, "
            "pygbs/api.py); nothing to compare the baseline with"
        )
    return score


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def _time_baseline(
    args: argparse.Namespace,
    sc: Any,
    lat: np.ndarray,
    lon: np.ndarray,
    values: np.ndarray,
    rows: np.ndarray,
) -> tuple[float, list[float]]:
    """Median and all wall times of the dense baseline on ``rows`` at scale ``sc``."""
    from pygbs.testing.dense import dense_score

    kw = {"knn": sc.k} if sc.is_knn else {"radius": sc.radius_rad}
    log.info("baseline %s: %d centres x %d", sc.name, rows.shape[0], args.repeats)
    return _median_time(
        args.repeats,
        dense_score,
        lat,
        lon,
        values,
        rows,
        k_max=args.k_max,
        min_points=args.min_points,
        **kw,
    )


def _median_time(repeats: int, fn: Any, *args: Any, **kwargs: Any) -> tuple[float, list[float]]:
    """Median wall time of ``repeats`` calls (and all of them)."""
    times = [_timed(fn, *args, **kwargs)[1] for _ in range(max(repeats, 1))]
    return float(np.median(times)), times


def _compile_time() -> dict[str, float]:
    """First minus second call of pygbs.score in a fresh process with an empty numba cache."""
    with tempfile.TemporaryDirectory(prefix="gbs_speed_numba_") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        res = subprocess.run(
            [sys.executable, "-c", _COMPILE_PROBE],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO,
        )
    if res.returncode != 0:
        raise SystemExit(f"gbs_speed: the compile probe failed:\n{res.stderr.strip()}")
    first, second = json.loads(res.stdout.strip().splitlines()[-1])
    return {"first_call_s": first, "second_call_s": second, "compile_s": first - second}


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("nan")


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the results dict (also printed, and written with --json)."""
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    path = _resolve_file(args.file)
    if args.whole_process:
        return _report(_run_whole_process(args, path), _format_whole_process, args.json)
    score = _require_score()

    from pygbs.coding import code_performance
    from pygbs.geo.scales import parse_scale
    from pygbs.io.predictions import read_predictions

    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    parsed = {s: parse_scale(s, k_max=args.k_max, min_points=args.min_points) for s in scales}

    compile_info = None if args.no_compile else _compile_time()
    log.info("compile probe: %s", compile_info)

    pred, read_s = _timed(read_predictions, path)
    n = len(pred)
    values = np.asarray(code_performance(pred).values, dtype=np.float64)
    # degrees -> radians the way the reference's reader does it
    lat = pred.lat / 180 * np.pi
    lon = pred.lon / 180 * np.pi
    rng = np.random.default_rng(args.seed)
    # both sides score seeded random samples of the file's rows (the baseline's rows are a
    # subset of ours), so neither gets an easier part of the file
    order = rng.permutation(n)
    base_rows = np.sort(order[: min(args.centres, n)])
    n_fast = min(args.fast_centres, n)
    fast_rows = np.sort(order[:n_fast])
    common = {
        "scores": SCORES,
        "k_max": args.k_max,
        "min_points": args.min_points,
        "seed": args.seed,
    }

    # first call in this process: numba functions come from the on-disk cache
    tiny = pred.table.iloc[: min(n, 200)]
    _, first_s = _timed(score, tiny, value=pred.value_name, scales=scales[:1], **common)
    _, second_s = _timed(score, tiny, value=pred.value_name, scales=scales[:1], **common)

    per_scale: dict[str, Any] = {}
    for s in scales:
        base_s, base_all = _time_baseline(args, parsed[s], lat, lon, values, base_rows)
        log.info("ours %s: %d centres x %d", s, n_fast, args.repeats)
        ours_s, ours_all = _median_time(
            args.repeats, score, pred, scales=[s], centres=fast_rows, **common
        )
        b_rate = _rate(base_rows.shape[0], base_s)
        o_rate = _rate(n_fast, ours_s)
        per_scale[s] = {
            "baseline": {
                "centres": int(base_rows.shape[0]),
                "seconds": base_s,
                "runs_s": base_all,
                "centres_per_s": b_rate,
            },
            "ours": {
                "centres": n_fast,
                "seconds": ours_s,
                "runs_s": ours_all,
                "centres_per_s": o_rate,
            },
            "speedup": o_rate / b_rate,
        }

    full: dict[str, Any] = {}
    if not args.no_full:
        for s in scales:
            log.info("whole file %s: %d centres", s, n)
            _, full_s = _timed(score, pred, scales=[s], **common)
            full[s] = {"centres": n, "seconds": full_s, "centres_per_s": _rate(n, full_s)}

    results = {
        "file": str(path),
        "n_samples": n,
        "read_seconds": read_s,
        "parameters": _parameters(args, int(base_rows.shape[0]), scales, fast_centres=n_fast),
        "compile": compile_info,
        "first_call_in_process": {
            "first_call_s": first_s,
            "second_call_s": second_s,
            "overhead_s": first_s - second_s,
        },
        "scales": per_scale,
        "full_file": full,
        "machine": _machine(),
    }
    return _report(results, _format, args.json)


def _parameters(
    args: argparse.Namespace, centres: int, scales: list[str], **extra: Any
) -> dict[str, Any]:
    """The run's parameters as reported (both modes), plus ``extra``."""
    return {
        "centres": centres,
        "scales": scales,
        "scores": list(SCORES),
        "k_max": args.k_max,
        "min_points": args.min_points,
        "method": "pygbs",
        "k": 4,
        "seed": args.seed,
        "repeats": args.repeats,
        **extra,
    }


def _report(results: dict[str, Any], fmt: Any, json_path: Path | None) -> dict[str, Any]:
    """Print ``results`` with ``fmt``; also write them as JSON to ``json_path``."""
    print(fmt(results))
    if json_path is not None:
        from pygbs.io.atomic import write_text_atomic

        json_path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(json_path, json.dumps(results, indent=2) + "\n")
    return results


def _machine() -> dict[str, Any]:
    import numba

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }


def _pygbs_command() -> list[str]:
    """The ``pygbs`` console script of this interpreter's environment (else ``python -c``)."""
    script = Path(sys.executable).parent / "pygbs"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from pygbs.cli import main; sys.exit(main())"]


def _run_process(cmd: list[str], **kwargs: Any) -> float:
    """Wall time of one run of ``cmd``; a failed run stops the benchmark with its stderr."""
    return _run_process_cpu(cmd, **kwargs)[0]


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes so far."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _run_process_cpu(cmd: list[str], **kwargs: Any) -> tuple[float, float]:
    """``(wall, cpu)`` seconds of one run of ``cmd`` (cpu: user + system, all threads).

    On a machine shared with other jobs the wall time includes waiting for a core; the
    CPU time does not (but counts every thread, and numba's idle threads spin a little).
    """
    cpu0 = _children_cpu()
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(
            f"gbs_speed: `{' '.join(cmd)}` failed with exit code {res.returncode}:\n"
            f"{res.stderr.strip()[-2000:]}"
        )
    return wall, _children_cpu() - cpu0


def _load() -> float:
    """The 1-minute load average (NaN where the OS has none)."""
    try:
        return float(os.getloadavg()[0])
    except OSError:
        return float("nan")


def _startup(repeats: int) -> dict[str, Any]:
    """Median and minimum wall time of the start-up probes (one untimed run first).

    The two floor probes run from a temporary folder with their own numba cache, which
    the untimed first run fills.
    """
    with tempfile.TemporaryDirectory(prefix="gbs_speed_floor_") as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp / "cache")}
        floors = {}
        for name, imports in (
            ("numpy + numba kernel", ""),
            ("+ pandas", "import pandas"),
        ):
            script = tmp / f"floor_{len(floors)}.py"
            script.write_text(_FLOOR_PROBE.format(imports=imports))
            floors[name] = [sys.executable, str(script)]
        probes = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import pygbs": [sys.executable, "-c", "import pygbs"],
            "pygbs --help": [*_pygbs_command(), "--help"],
            **floors,
        }
        out: dict[str, Any] = {}
        for name, cmd in probes.items():
            _run_process(cmd, env=env)
            times = [_run_process(cmd, env=env) for _ in range(max(repeats, 1))]
            out[name] = {
                "median_s": float(np.median(times)),
                "min_s": min(times),
                "runs_s": times,
            }
    return out


def _reference_input(path: Path, tmp: Path) -> Path:
    """The prediction file as a plain ``.csv`` (the reference reader accepts nothing else)."""
    if path.suffix == ".csv":
        return path
    if path.suffixes[-2:] != [".csv", ".gz"]:
        raise SystemExit(f"gbs_speed: --reference needs a .csv or .csv.gz file; got {path}")
    import gzip
    import shutil

    out = tmp / path.name[: -len(".gz")]
    with gzip.open(path, "rb") as src, out.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return out


def _reference_run(
    args: argparse.Namespace, csv: Path, value: str, radius_rad: float, out: Path
) -> tuple[float, float]:
    """``(wall, cpu)`` seconds of the reference's ``scripts/ssi_run.py`` on the whole file."""
    root = args.reference.expanduser().resolve()
    script = root / "scripts" / "ssi_run.py"
    if not script.is_file():
        raise SystemExit(f"gbs_speed: --reference: {script} not found (a PyGBS checkout?)")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    # "--scale street" sets the reader's threshold to 1: hit columns become -1/+1 marks
    # (sign-flipped, which leaves both SSIs unchanged); "--k" is the neighbourhood cap
    cmd = [
        args.reference_python,
        str(script),
        "--input",
        str(csv),
        "--value-column",
        value,
        "--coords-columns",
        "lat",
        "lon",
        "--scale",
        "street",
        "--radius",
        repr(radius_rad),
        "--k",
        str(args.k_max),
        "--marked",
        "both",
        "--output",
        str(out),
    ]
    return _run_process_cpu(cmd, env=env, cwd=root)


def _run_whole_process(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    """``pygbs score`` as a process against the dense baseline, per centre."""
    from pygbs.coding import code_performance
    from pygbs.geo.scales import parse_scale
    from pygbs.io.predictions import read_predictions

    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    parsed = {s: parse_scale(s, k_max=args.k_max, min_points=args.min_points) for s in scales}
    log.info("start-up probes x %d", args.startup_repeats)
    startup = _startup(args.startup_repeats)

    pred = read_predictions(path)
    n = len(pred)
    values = np.asarray(code_performance(pred).values, dtype=np.float64)
    lat = pred.lat / 180 * np.pi
    lon = pred.lon / 180 * np.pi
    base_rows = np.sort(np.random.default_rng(args.seed).permutation(n)[: min(args.centres, n)])
    n_base = int(base_rows.shape[0])

    per_scale: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="gbs_speed_cli_") as tmp_name:
        tmp = Path(tmp_name)
        ref_csv = _reference_input(path, tmp) if args.reference is not None else None
        for s in scales:
            sc = parsed[s]
            load_start = _load()
            base_s, base_all = _time_baseline(args, sc, lat, lon, values, base_rows)
            cmd = [
                *_pygbs_command(),
                "score",
                str(path),
                "--scale",
                s,
                "--score",
                "unmarked",
                "--score",
                "marked",
                "--k-max",
                str(args.k_max),
                "--min-points",
                str(args.min_points),
                "--seed",
                str(args.seed),
            ]
            log.info("pygbs score %s: 1 + %d runs", s, args.repeats)
            timed = [
                _run_process_cpu([*cmd, "--out", str(tmp / f"{s}-{i}")])
                for i in range(max(args.repeats, 1) + 1)
            ]
            runs = [w for w, _ in timed]
            whole_s = float(np.median(runs[1:]))
            log.info("pygbs score %s --centres 1: %d runs", s, args.repeats)
            fixed = [
                _run_process([*cmd, "--centres", "1", "--out", str(tmp / f"{s}-fixed-{i}")])
                for i in range(max(args.repeats, 1))
            ]
            fixed_s = float(np.median(fixed))
            baseline_whole_s = base_s / n_base * n
            entry: dict[str, Any] = {
                "baseline": {
                    "centres": n_base,
                    "seconds": base_s,
                    "runs_s": base_all,
                    "per_centre_s": base_s / n_base,
                },
                "whole_process": {
                    "command": " ".join([*cmd, "--out", "DIR"]),
                    "centres": n,
                    "first_run_s": runs[0],
                    "runs_s": runs[1:],
                    "cpu_runs_s": [c for _, c in timed[1:]],
                    "seconds": whole_s,
                    "per_centre_s": whole_s / n,
                },
                "speedup": (base_s / n_base) / (whole_s / n),
                "fixed_part": {
                    "command": " ".join([*cmd, "--centres", "1", "--out", "DIR"]),
                    "runs_s": fixed,
                    "seconds": fixed_s,
                    "speedup_ceiling": baseline_whole_s / fixed_s,
                },
                "target": {
                    "speedup": args.target,
                    "allowed_s": baseline_whole_s / args.target,
                },
                "reference": None,
                "load_average": [load_start, _load()],
            }
            if ref_csv is not None and not sc.is_knn:
                log.info("reference %s: %d centres, 1 run", s, n)
                ref_s, ref_cpu = _reference_run(
                    args, ref_csv, pred.value_name, sc.radius_rad, tmp / f"reference-{s}.npz"
                )
                entry["reference"] = {
                    "centres": n,
                    "seconds": ref_s,
                    "cpu_s": ref_cpu,
                    "per_centre_s": ref_s / n,
                    "speedup": (ref_s / n) / (whole_s / n),
                    "baseline_speedup": (ref_s / n) / (base_s / n_base),
                }
                entry["load_average"].append(_load())
            per_scale[s] = entry

    return {
        "mode": "whole-process",
        "file": str(path),
        "n_samples": n,
        "parameters": _parameters(
            args,
            n_base,
            scales,
            startup_repeats=args.startup_repeats,
            target=args.target,
            numba_cache_dir=os.environ.get("NUMBA_CACHE_DIR"),
        ),
        "startup": startup,
        "scales": per_scale,
        "machine": _machine(),
    }


def _format_whole_process(r: dict[str, Any]) -> str:
    p = r["parameters"]
    lines = [
        f"file: {r['file']} ({r['n_samples']} samples)",
        f"scores: unmarked + marked SSI, method=pygbs, k=4, k_max={p['k_max']}, "
        f"min_points={p['min_points']}; numba threads: {r['machine']['numba_threads']}",
        "",
        f"start-up (median / min of {p['startup_repeats']} runs):",
    ]
    for name, v in r["startup"].items():
        lines.append(f"  {name:<22} {v['median_s']:.3f} s / {v['min_s']:.3f} s")
    lines += [
        "",
        f"{'scale':<8} {'baseline ms/c':>13} {'pygbs score ms/c':>17} {'speed-up':>9} "
        f"{'first run':>10} {'cpu s':>6} {'load':>9}   (baseline {p['centres']} centres in "
        f"process; pygbs score on all {r['n_samples']} as a process, median of "
        f"{p['repeats']} runs after the first; cpu: its median user + system seconds)",
    ]
    for s, v in r["scales"].items():
        w = v["whole_process"]
        load = "-".join(f"{x:.1f}" for x in v.get("load_average", []))
        lines.append(
            f"{s:<8} {1e3 * v['baseline']['per_centre_s']:>13.3f} "
            f"{1e3 * w['per_centre_s']:>17.4f} {v['speedup']:>8.1f}x {w['first_run_s']:>9.2f}s "
            f"{float(np.median(w['cpu_runs_s'])):>6.2f} {load:>9}"
        )
    floor = r["startup"].get("+ pandas")
    allows = f"{p['target']:g}x allows"
    lines += [
        "",
        f"{'scale':<8} {'whole run':>10} {allows:>12} "
        f"{'fixed part':>11} {'ceiling':>8}   (fixed part: the same command with --centres 1; "
        "ceiling: the speed-up if scoring the centres cost nothing)",
    ]
    for s, v in r["scales"].items():
        fx = v["fixed_part"]
        lines.append(
            f"{s:<8} {v['whole_process']['seconds']:>9.2f}s "
            f"{v['target']['allowed_s']:>11.2f}s {fx['seconds']:>10.2f}s "
            f"{fx['speedup_ceiling']:>7.0f}x"
        )
    if floor is not None:
        lines.append(
            f"  (no process that imports NumPy and pandas and loads one numba kernel from "
            f"the cache took less than {floor['min_s']:.2f} s here)"
        )
    refs = {s: v["reference"] for s, v in r["scales"].items() if v["reference"]}
    if refs:
        lines.append("")
        lines.append("reference scripts/ssi_run.py, whole file, one run:")
        for s, ref in refs.items():
            lines.append(
                f"  {s:<8} {ref['seconds']:.1f} s wall, {ref['cpu_s']:.1f} s cpu "
                f"({1e3 * ref['per_centre_s']:.3f} ms/centre, "
                f"{ref['baseline_speedup']:.2f}x the dense baseline's time per centre); "
                f"speed-up of pygbs score: {ref['speedup']:.1f}x"
            )
    return "\n".join(lines)


def _format(r: dict[str, Any]) -> str:
    p = r["parameters"]
    lines = [
        f"file: {r['file']} ({r['n_samples']} samples; read in {r['read_seconds']:.2f} s)",
        f"scores: unmarked + marked SSI, method=pygbs, k=4, k_max={p['k_max']}, "
        f"min_points={p['min_points']}; numba threads: {r['machine']['numba_threads']}",
        "",
        f"{'scale':<8} {'baseline c/s':>13} {'ours c/s':>11} {'speed-up':>9}   "
        f"(baseline {p['centres']} centres, ours {p['fast_centres']}; "
        f"median of {p['repeats']} runs each)",
    ]
    for s, v in r["scales"].items():
        lines.append(
            f"{s:<8} {v['baseline']['centres_per_s']:>13.2f} {v['ours']['centres_per_s']:>11.1f} "
            f"{v['speedup']:>8.1f}x"
        )
    c = r["compile"]
    lines.append("")
    if c is not None:
        lines.append(
            f"numba compile (fresh process, empty cache): {c['compile_s']:.2f} s "
            f"(first call {c['first_call_s']:.2f} s, second {c['second_call_s']:.2f} s)"
        )
    f = r["first_call_in_process"]
    lines.append(f"first-call overhead in this process (numba cache load): {f['overhead_s']:.2f} s")
    if r["full_file"]:
        lines.append("")
        lines.append(f"whole file ({r['n_samples']} centres):")
        for s, v in r["full_file"].items():
            lines.append(f"  {s:<8} {v['seconds']:>8.2f} s  ({v['centres_per_s']:.0f} centres/s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    run(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
