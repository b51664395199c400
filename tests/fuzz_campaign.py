"""A seeded fuzz campaign over the commands: malformed files and bad option values.

Each case is one command of :data:`COMMANDS` (``pygbs score``, ``compare``, ``profile``,
``regions``, ``map``, ``report`` and ``encoders train``), a small prediction table damaged
in one way or not (:data:`FILE_FAULTS`; ``encoders train`` reads no file), and one option
set, valid or not (the command's option faults). It runs the command in a child process
with a time limit and sorts the outcome into one class:

- ``ok``: exit 0, a complete output whose numbers add up (for the scoring commands:
  scored + skipped = centres, the reasons of the skips add up to the skipped, finite
  means where something was scored; for ``encoders train``: finite test metrics and a
  top-1 that is not that of a model right everywhere when its loss is not finite);
- ``input-error``: exit 2 with one line starting with ``error:`` and no output directory;
- ``usage-error``: exit 2 with one line starting with ``error:`` and naming the command's
  help (``(see 'pygbs score --help')``): a bad option;
- ``silently-wrong``: exit 0 but a summary that does not add up, or a damaged file
  accepted where it must be refused;
- ``unexpected``: exit 1 (an internal error), or a usage error over several lines;
- ``traceback``: a Python traceback on stderr;
- ``partial-output``: a failure that left the output directory behind;
- ``hang``: no exit within the time limit.

Run the whole campaign with ``python -m tests.fuzz_campaign [--commands score,compare]
[--n 120] [--seed 0]`` (``--n``: cases per command; by default each fault alone once); the
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
    command: str = "score"


@dataclass(frozen=True)
class Outcome:
    """The class of a case's outcome and its first stderr line."""

    case: Case
    kind: str
    detail: str


def _summary_adds_up(summary_path: Path) -> str | None:
    try:
        summary = json.loads(summary_path.read_text())
    except (OSError, ValueError) as err:
        return f"{summary_path.name} unreadable: {err}"
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


def _every_summary_adds_up(out: Path) -> str | None:
    found = sorted(out.rglob("summary.json"))
    if not found:
        return "no summary.json written"
    for path in found:
        problem = _summary_adds_up(path)
        if problem:
            return f"{path.relative_to(out)}: {problem}"
    return None


def _profile_adds_up(out: Path) -> str | None:
    prof = pd.read_csv(out / "profile.csv")
    bad = prof[(prof["n_scored"] > 0) & ~np.isfinite(prof["mean"].astype(float))]
    if len(bad):
        return f"profile.csv: {len(bad)} scales with scored centres but no finite mean"
    return _every_summary_adds_up(out)


def _regions_add_up(out: Path) -> str | None:
    reg = pd.read_csv(out / "regions.csv")
    n = json.loads((out / "regions.json").read_text())
    acc = reg["accuracy"].astype(float)
    if ((acc < 0) | (acc > 1)).any() and not n.get("regression"):
        return "regions.csv: an accuracy outside [0, 1]"
    if not (out / "disparity.csv").is_file():
        return "no disparity.csv"
    return None


def _maps_drawn(out: Path) -> str | None:
    return None if any(out.glob("*.png")) else "no map drawn"


def _report_written(out: Path) -> str | None:
    text = out.read_text(errors="replace")
    return None if "<html" in text.lower() and "</html>" in text.lower() else "not a whole page"


def _training_adds_up(out: Path) -> str | None:
    doc = json.loads((out / "metrics.json").read_text())
    test = doc.get("test", {})
    for key, v in test.items():
        if isinstance(v, float) and not math.isfinite(v):
            return f"metrics.json: test {key} = {v}"
    losses = [e.get("train_loss") for e in doc.get("epochs", [])]
    if any(x is None or not math.isfinite(float(x)) for x in losses):
        return "a run with a non-finite training loss reported as finished"
    if not (out / "predictions.csv").is_file():
        return "no predictions.csv"
    return None


@dataclass(frozen=True)
class Command:
    """A command of the campaign: how to call it, its option faults, how to check its output.

    ``args(data, other, out)`` gives the command line (``data``: the possibly damaged
    table, ``other``: an intact table of the same locations, ``out``: the output path);
    ``reads_file`` says whether the file faults apply.
    """

    program: str
    args: Callable[[Path, Path, Path], list[str]]
    options: dict[str, list[str]]
    check: Callable[[Path], str | None]
    reads_file: bool = True


_TRAIN = ["--encoder", "xyz", "--dataset", "synthetic-vmf", "--data-option", "n_train=300",
          "--data-option", "n_val=60", "--data-option", "n_test=60", "--data-option",
          "num_classes=5", "--epochs", "1", "--no-progress", "--threads", "1"]  # fmt: skip

#: name -> the command; ``score`` uses :data:`OPTION_FAULTS`.
COMMANDS: dict[str, Command] = {
    "score": Command(
        "pygbs", lambda d, o, out: ["score", str(d), "--out", str(out)],
        OPTION_FAULTS, lambda out: _summary_adds_up(out / "summary.json"),
    ),
    "compare": Command(
        "pygbs",
        lambda d, o, out: ["compare", str(d), str(o), "--name", "a", "--name", "b",
                           "--bootstrap", "20", "--out", str(out)],
        {"none": [], "baseline-unknown": ["--baseline", "nope"],
         "scale-repeated": ["--scale", "nn10", "--scale", "nn10"],
         "ci-above-1": ["--ci", "1.5"], "ci-nan": ["--ci", "nan"],
         "name-is-output": ["--name", "compare.csv"], "null-accuracy": ["--null", "accuracy",
                                                                        "--null-draws", "9"]},
        _every_summary_adds_up,
    ),
    "profile": Command(
        "pygbs", lambda d, o, out: ["profile", str(d), "--bootstrap", "20", "--out", str(out)],
        {"none": ["--scales", "50km:2000km:3"], "scales-reversed": ["--scales", "2000km:50km:3"],
         "scales-zero-steps": ["--scales", "50km:2000km:0"], "scales-text": ["--scales", "abc"],
         "scales-zero-km": ["--scales", "0km:100km:3"],
         "scales-exponent": ["--scales", "1e1km:1e3km:3"]},
        _profile_adds_up,
    ),
    "regions": Command(
        "pygbs", lambda d, o, out: ["regions", str(d), "--out", str(out)],
        {"none": ["--by", "healpix:2"], "continent": ["--by", "continent"],
         "healpix-0": ["--by", "healpix:0"], "healpix-text": ["--by", "healpix:x"],
         "by-missing-file": ["--by", "nowhere.gpkg:name"],
         "robust-rotations-0": ["--by", "healpix:2", "--robust", "--rotations", "0"],
         "nsides-bad": ["--by", "healpix:2", "--robust", "--nsides", "2,zero"]},
        _regions_add_up,
    ),
    "map": Command(
        "pygbs", lambda d, o, out: ["map", str(d), "--scale", "nn10", "--out", str(out)],
        {"none": ["--no-hotspots"], "hotspot-k-0": ["--hotspot-k", "0"],
         "hotspot-k-huge": ["--hotspot-k", "5000"],
         "hotspot-permutations-0": ["--hotspot-permutations", "0"],
         "extent-flat": ["--no-hotspots", "--extent", "1", "1", "30", "50"],
         "extent-nan": ["--no-hotspots", "--extent", "nan", "10", "30", "50"]},
        _maps_drawn,
    ),
    "report": Command(
        "pygbs",
        lambda d, o, out: ["report", str(d), str(o), "--scale", "nn10", "--bootstrap", "20",
                           "--out", str(out)],
        {"none": [], "out-is-folder": ["--out", "."], "name-once": ["--name", "only-one"],
         "skip-empty": ["--skip-empty"]},
        _report_written,
    ),
    "train": Command(
        "encoders", lambda d, o, out: ["train", *_TRAIN, "--out", str(out)],
        {"none": [], "hidden-negative": ["--hparam", "hidden_dim=-1"],
         "hidden-text": ["--hparam", "hidden_dim=abc"],
         "layers-huge": ["--hparam", "num_hidden_layer=1000000"],
         "epochs-0": ["--epochs", "0"], "lr-nan": ["--lr", "nan"],
         "batch-0": ["--batch-size", "0"], "n-train-negative": ["--data-option", "n_train=-5"],
         "n-train-text": ["--data-option", "n_train=abc"],
         "diverging": ["--debias", "marked-ssi", "--debias-lambda", "1e300"],
         "encoder-unknown": ["--encoder", "nope"], "seed-negative": ["--seed", "-1"],
         "devices-0": ["--devices", "0"], "resume-nothing": ["--resume"]},
        _training_adds_up, reads_file=False,
    ),
}  # fmt: skip


def cases(n: int | None = None, seed: int = 0, command: str = "score") -> Iterator[Case]:
    """Cases of ``command``: every file fault and option fault alone first, then seeded pairs.

    ``n`` (default: the faults alone) is the number of cases.
    """
    cmd = COMMANDS[command]
    files = sorted(FILE_FAULTS) if cmd.reads_file else ["none"]
    options = sorted(cmd.options)
    singles = [Case(f, "none", seed, command) for f in files]
    singles += [Case("none", o, seed, command) for o in options if o != "none"]
    n = len(singles) if n is None else n
    rng = np.random.default_rng(seed)
    out = singles[:n]
    while len(out) < n:
        out.append(Case(files[rng.integers(len(files))], options[rng.integers(len(options))],
                        int(rng.integers(2**31)), command))  # fmt: skip
    yield from out


def _command_line(case: Case, workdir: Path) -> tuple[list[str], Path, bool]:
    """The command line of ``case`` (its files written into ``workdir``), its output path
    and whether the damaged file must be refused."""
    rng = np.random.default_rng(case.seed)
    cmd = COMMANDS[case.command]
    make, must_refuse = FILE_FAULTS[case.file_fault]
    valid = _valid(rng)
    data, other = workdir / "p.csv", workdir / "q.csv"
    data.write_bytes(make(valid, rng))
    other.write_bytes(_csv(valid.assign(**{"hit@1": 1 - valid["hit@1"]})))
    out = workdir / ("report.html" if case.command == "report" else "out")
    args = [*cmd.args(data, other, out), *cmd.options[case.option_fault]]
    if case.command == "score" and "--scale" not in args:
        args[2:2] = ["--scale", "nn10"]
    module = "pygbs.console" if cmd.program == "pygbs" else "encoders.console"
    return [sys.executable, "-c", f"from {module} import main; main()", *args], out, must_refuse


def run_case(case: Case, workdir: Path) -> Outcome:
    """Run one case in ``workdir`` and classify it."""
    argv, out, must_refuse = _command_line(case, workdir)
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        res = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True,
                             timeout=TIME_LIMIT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        return Outcome(case, "hang", f"no exit within {TIME_LIMIT_S:g} s")
    err = res.stderr.strip()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    first = errors[0] if errors else (lines[0] if lines else "")
    if "Traceback (most recent call last)" in err:
        return Outcome(case, "traceback", lines[0] if lines else "")
    if res.returncode == 0:
        if must_refuse:
            return Outcome(case, "silently-wrong", f"accepted a damaged file ({case.file_fault})")
        problem = COMMANDS[case.command].check(out)
        return Outcome(case, "silently-wrong" if problem else "ok", problem or "")
    if out.exists() and out != workdir:
        return Outcome(case, "partial-output", first)
    if res.returncode == 2 and len(errors) == 1 and lines[-1] == first:
        usage = first.endswith("--help')")
        return Outcome(case, "usage-error" if usage else "input-error", first)
    return Outcome(case, "unexpected", f"exit {res.returncode}: {first}")


def campaign(commands: list[str], n: int | None = None, seed: int = 0) -> list[Outcome]:
    """Run :func:`cases` of each command, each case in a fresh temporary folder."""
    results = []
    for command in commands:
        for case in cases(n, seed, command):
            with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
                results.append(run_case(case, Path(tmp)))
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; print the counts by class and every case that is not acceptable."""
    ap = argparse.ArgumentParser(description="Fuzz campaign over the commands.")
    ap.add_argument("--commands", default=",".join(COMMANDS),
                    help="comma-separated, from: " + ", ".join(COMMANDS))  # fmt: skip
    ap.add_argument("--n", type=int, default=None, help="cases per command (default: each "
                    "fault alone once)")  # fmt: skip
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    unknown = [c for c in commands if c not in COMMANDS]
    if unknown:
        ap.error(f"unknown command(s) {', '.join(unknown)}; choose from {', '.join(COMMANDS)}")
    results = campaign(commands, args.n, args.seed)
    for command in commands:
        mine = [r for r in results if r.case.command == command]
        counts = Counter(r.kind for r in mine)
        print(f"{command}: {len(mine)} cases: "
              + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))  # fmt: skip
    counts = Counter(r.kind for r in results)
    print(f"all: {len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    bad = [r for r in results if r.kind not in ("ok", "input-error", "usage-error")]
    for r in bad:
        print(f"  {r.kind}: {r.case.command}: {r.case.file_fault} + {r.case.option_fault}: "
              f"{r.detail}")  # fmt: skip
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
