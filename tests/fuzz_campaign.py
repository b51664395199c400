"""A seeded fuzz campaign over ``pygbs score``: malformed files and bad option values.

Each case is a small prediction table, damaged in one way or not (:data:`FILE_FAULTS`),
and one option set, valid or not (:data:`OPTION_FAULTS`). It runs the command in a child
process with a time limit and sorts the outcome into one class:

- ``ok``: exit 0, a complete output whose summary adds up (scored + skipped = centres,
  the reasons of the skips add up to the skipped, finite means where something was
  scored);
- ``input-error``: exit 2 with one line starting with ``error:`` and no output directory;
- ``usage-error``: exit 2 with one line starting with ``error:`` and naming the command's
  help (``(see 'pygbs score --help')``): a bad option;
- ``silently-wrong``: exit 0 but a summary that does not add up, or a damaged file
  accepted where it must be refused;
- ``unexpected``: exit 1 (an internal error), or a usage error over several lines;
- ``traceback``: a Python traceback on stderr;
- ``partial-output``: a failure that left the output directory behind;
- ``hang``: no exit within the time limit.

Run the whole campaign with ``python -m tests.fuzz_campaign [--n 120] [--seed 0]``; the
test suite runs a few cases of it (tests/pygbs/test_fuzz_small.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
#: Seconds a case may take.
TIME_LIMIT_S = 180.0


def _valid(rng: np.random.Generator, n: int = 60) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lon": rng.uniform(-10, 10, n),
            "lat": rng.uniform(30, 50, n),
            "hit@1": rng.integers(0, 2, n),
        }
    )


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


#: name -> (how the file is damaged, whether the damage must be refused)
FILE_FAULTS: dict[str, tuple[Callable[[pd.DataFrame, np.random.Generator], bytes], bool]] = {
    "none": (lambda df, rng: _csv(df), False),
    "empty-file": (lambda df, rng: b"", True),
    "header-only": (lambda df, rng: b"lon,lat,hit@1\n", True),
    "truncated-mid-row": (lambda df, rng: _csv(df)[:-7], False),  # a CSV may end anywhere
    "no-lat-column": (lambda df, rng: _csv(df.drop(columns="lat")), True),
    "text-in-lon": (
        lambda df, rng: _csv(df.assign(lon=df["lon"].astype(object).where(df.index != 3, "east"))),
        True,
    ),  # noqa: E501
    "lat-out-of-range": (
        lambda df, rng: _csv(df.assign(lat=df["lat"].where(df.index != 5, 123.0))),
        True,
    ),  # noqa: E501
    "nan-hit": (
        lambda df, rng: _csv(
            df.assign(**{"hit@1": df["hit@1"].astype(float).where(df.index != 7, np.nan)})
        ),
        True,
    ),  # noqa: E501
    "huge-values": (lambda df, rng: _csv(df.assign(**{"hit@1": df["hit@1"] * 1e308})), False),
    "binary-garbage": (lambda df, rng: rng.bytes(300), True),
    "semicolons": (lambda df, rng: df.to_csv(index=False, sep=";").encode(), True),
    "all-one-location": (lambda df, rng: _csv(df.assign(lon=1.0, lat=2.0)), False),
    "duplicate-header": (lambda df, rng: b"lon,lon,lat,hit@1\n1,1,2,1\n", True),
}

#: name -> extra options (valid or not)
OPTION_FAULTS: dict[str, list[str]] = {
    "none": [],
    "nn-too-large": ["--scale", "nn999999"],
    "nn0": ["--scale", "nn0"],
    "negative-km": ["--scale", "-5km"],
    "nan-km": ["--scale", "nankm"],
    "seed-negative": ["--seed", "-1"],
    "seed-huge": ["--seed", "123456789012345678901"],
    "bootstrap-1": ["--bootstrap", "1"],
    "min-points-0": ["--min-points", "0"],
    "performance-min-points-2": ["--score", "performance", "--min-points", "2"],
    "threshold-nan": ["--threshold", "nan"],
    "permutation-small": ["--method", "permutation", "--permutations", "19"],
    "k-zero": ["--k", "0"],
    "km-100-marked": ["--scale", "100km", "--score", "marked", "--score", "performance"],
    "scheduler-bogus": ["--scheduler", "bogus"],
    "unknown-option": ["--no-such-option"],
}


@dataclass(frozen=True)
class Case:
    """One run: a file fault and an option fault, with the seed of the table."""

    file_fault: str
    option_fault: str
    seed: int


@dataclass(frozen=True)
class Outcome:
    """The class of a case's outcome and its first stderr line."""

    case: Case
    kind: str
    detail: str


def cases(n: int, seed: int = 0) -> Iterator[Case]:
    """``n`` cases: every file fault and option fault alone first, then seeded pairs."""
    singles = [Case(f, "none", seed) for f in FILE_FAULTS]
    singles += [Case("none", o, seed) for o in OPTION_FAULTS if o != "none"]
    rng = np.random.default_rng(seed)
    out = singles[:n]
    files, options = sorted(FILE_FAULTS), sorted(OPTION_FAULTS)
    while len(out) < n:
        out.append(Case(files[rng.integers(len(files))], options[rng.integers(len(options))],
                        int(rng.integers(2**31))))  # fmt: skip
    yield from out


def _summary_adds_up(out: Path) -> str | None:
    try:
        summary = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError) as err:
        return f"summary.json unreadable: {err}"
    n = summary["parameters"]["n_centres"]
    for score, by_scale in summary["aggregates"].items():
        for scale, agg in by_scale.items():
            if agg["n_scored"] + agg["n_skipped"] != n:
                return f"{score} {scale}: scored + skipped != {n}"
            reasons = sum(v for k, v in agg.items() if k.startswith("n_skipped_"))
            if reasons != agg["n_skipped"]:
                return f"{score} {scale}: {agg['n_skipped']} skipped, {reasons} explained"
            mean = agg["mean"]
            if agg["n_scored"] and (mean is None or not math.isfinite(mean)):
                return f"{score} {scale}: {agg['n_scored']} scored but mean {mean}"
    return None


def run_case(case: Case, workdir: Path) -> Outcome:
    """Run one case in ``workdir`` and classify it."""
    rng = np.random.default_rng(case.seed)
    make, must_refuse = FILE_FAULTS[case.file_fault]
    data = workdir / "p.csv"
    data.write_bytes(make(_valid(rng), rng))
    out = workdir / "out"
    args = ["score", str(data), *OPTION_FAULTS[case.option_fault], "--out", str(out)]
    if "--scale" not in args:
        args[2:2] = ["--scale", "nn10"]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        res = subprocess.run(
            [sys.executable, "-c", "from pygbs.cli import main; main()", *args],
            cwd=workdir, env=env, capture_output=True, text=True, timeout=TIME_LIMIT_S,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return Outcome(case, "hang", f"no exit within {TIME_LIMIT_S:g} s")
    err = res.stderr.strip()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    if "Traceback (most recent call last)" in err:
        return Outcome(case, "traceback", first)
    if res.returncode == 0:
        if must_refuse:
            return Outcome(case, "silently-wrong", f"accepted a damaged file ({case.file_fault})")
        problem = _summary_adds_up(out)
        return Outcome(case, "silently-wrong" if problem else "ok", problem or "")
    if out.exists():
        return Outcome(case, "partial-output", first)
    if res.returncode == 2 and len(lines) == 1 and first.startswith("error:"):
        usage = first.endswith("--help')")
        return Outcome(case, "usage-error" if usage else "input-error", first)
    return Outcome(case, "unexpected", f"exit {res.returncode}: {first}")


def campaign(n: int, seed: int = 0) -> list[Outcome]:
    """Run :func:`cases` ``(n, seed)``, each in a fresh temporary folder."""
    results = []
    for case in cases(n, seed):
        with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
            results.append(run_case(case, Path(tmp)))
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; print the counts by class and every case that is not acceptable."""
    ap = argparse.ArgumentParser(description="Fuzz campaign over pygbs score.")
    ap.add_argument("--n", type=int, default=len(FILE_FAULTS) + len(OPTION_FAULTS) - 1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    results = campaign(args.n, args.seed)
    counts = Counter(r.kind for r in results)
    print(f"{len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    bad = [r for r in results if r.kind not in ("ok", "input-error", "usage-error")]
    for r in bad:
        print(f"  {r.kind}: {r.case.file_fault} + {r.case.option_fault}: {r.detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
