"""Mutations of the numerical core: does the default test suite catch each one.

Each mutation is a one-line change to ``pygbs`` or ``encoders`` (a halved term, a flipped
comparison, a changed constant). For each, a copy of the repository is made in a temporary
folder, the line is changed there (the checkout itself is never touched), and the tests of
the numerical core run against the copy with the shared data hidden
(``GEOBIAS_SHARED`` points at an empty folder, so the parity tests skip). A mutation is
*caught* when a test fails. The numba cache is either one folder kept across all runs
(``--cache warm``: it also holds the unmutated kernels of the baseline run) or a fresh
empty folder per run (``--cache empty``).

Usage::

    python benchmarks/mutation_check.py [--cache warm|empty] [--only NAME ...] [--list]

It prints one line per mutation and the survival rate; exit code 1 when a mutation
survives or the unmutated baseline fails. Expect a minute or two per mutation of a kernel
(the kernels are compiled afresh for every changed kernel source).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: The tests run for every mutation: those written to catch wrong numbers without the
#: shared data (a mutation they catch is caught by the whole default suite as well).
TESTS = (
    "tests/pygbs/test_core_truth.py",
    "tests/pygbs/test_uncertainty.py",
    "tests/encoders/test_soft_performance_values.py",
    # the analytic null and its tail against esda / scipy, the performance SSI
    "tests/pygbs/test_ssi.py::test_analytic_matches_esda",
    "tests/pygbs/test_ssi.py::test_log_norm_sf_matches_scipy_and_extends_the_tail",
    "tests/pygbs/test_performance.py",
    # neighbourhoods whose k-NN graph depends on the row order
    "tests/pygbs/test_coincident.py",
)


@dataclass(frozen=True)
class Mutation:
    """One line changed in one file."""

    name: str
    path: str
    old: str
    new: str
    what: str


MUTATIONS = (
    Mutation(
        "variance-cross-term",
        "pygbs/_kernels/stats.py",
        "e = (coef - 2 * ci * cr + cr**2) ** 2",
        "e = (coef - ci * cr + cr**2) ** 2",
        "cross term of the variance of S halved",
    ),
    Mutation(
        "one-sided-p",
        "pygbs/_kernels/stats.py",
        "return 2.0 * (0.5 * math.erfc(",
        "return 1.0 * (0.5 * math.erfc(",
        "two-sided p-value made one-sided",
    ),
    Mutation(
        "p-floor",
        "pygbs/_kernels/stats.py",
        "PYGBS_P_FLOOR = 1e-256",
        "PYGBS_P_FLOOR = 1e-200",
        "p-value floor changed",
    ),
    Mutation(
        "permutation-ties",
        "pygbs/_kernels/stats.py",
        "if abs(sims[t] - mean) >= dev:",
        "if abs(sims[t] - mean) > dev:",
        "permutation p-value counts ties with > instead of >=",
    ),
    Mutation(
        "block-mean",
        "pygbs/inference/bootstrap.py",
        "diameter = 2.0 * float(np.median(r))",
        "diameter = 2.0 * float(np.mean(r))",
        "block size from the mean instead of the median radius",
    ),
    Mutation(
        "soft-temperature",
        "encoders/losses/surrogate.py",
        "scale = 2.0 * temperature * t.clamp_min(",
        "scale = 4.0 * temperature * t.clamp_min(",
        "regression soft-performance temperature off by 2x",
    ),
    Mutation(
        "mu-diagonal",
        "pygbs/_kernels/stats.py",
        "mu += coef * (((ni - 1) * PYGBS_K * ni / big_n) - 1)",
        "mu += coef * ((ni * PYGBS_K * ni / big_n) - 1)",
        "diagonal term of the null mean uses n instead of n - 1",
    ),
    Mutation(
        "uncentred-statistic",
        "pygbs/_kernels/stats.py",
        "acc += z[b] - mean",
        "acc += z[b]",
        "neighbour values of S not centred",
    ),
    Mutation(
        "reference-value",
        "pygbs/_kernels/stats.py",
        "if ns[i] > ns[r]:",
        "if ns[i] < ns[r]:",
        "reference label of the moments: least instead of most frequent",
    ),
    Mutation(
        "expected-moran",
        "pygbs/_kernels/stats.py",
        "ei = -1.0 / (n - 1)",
        "ei = -1.0 / n",
        "expected Moran's I -1/n instead of -1/(n-1)",
    ),
    Mutation(
        "tail-series",
        "pygbs/_kernels/stats.py",
        "series = 1.0 - 1.0 / a2 + 3.0 / a2**2",
        "series = 1.0 - 1.0 / a2 + 2.0 / a2**2",
        "asymptotic tail series coefficient",
    ),
    Mutation(
        "permutation-log",
        "pygbs/_kernels/ssi.py",
        "out[OUT_SSI] = -math.log(p)\n",
        "out[OUT_SSI] = -math.log10(p)\n",
        "permutation SSI in log10",
    ),
    Mutation(
        "constant-p",
        "pygbs/_kernels/performance.py",
        "out[c, OUT_P] = 1.0",
        "out[c, OUT_P] = 0.5",
        "performance SSI of a constant neighbourhood: p 0.5 instead of 1",
    ),
    Mutation(
        "blocks-per-diameter",
        "pygbs/inference/bootstrap.py",
        "BLOCKS_PER_DIAMETER = 2.0",
        "BLOCKS_PER_DIAMETER = 1.0",
        "bootstrap blocks one diameter wide instead of two",
    ),
    Mutation(
        "mutual-edges",
        "pygbs/_kernels/stats.py",
        "s1 = s0 + mutual",
        "s1 = s0 + 0.5 * mutual",
        "S1 of the analytic null counts mutual edges half",
    ),
    Mutation(
        "coincident-group-size",
        "pygbs/stats/coincident.py",
        "ambiguous = (n_in > k + 1) & mixed",
        "ambiguous = (n_in > k + 2) & mixed",
        "a location is ambiguous only above k + 2 samples",
    ),
    Mutation(
        "coincident-share",
        "pygbs/stats/coincident.py",
        "return rows > share * sizes",
        "return rows >= share * sizes",
        "exactly half the samples at ambiguous locations counts as order-dependent",
    ),
    Mutation(
        "coincident-mixed",
        "pygbs/stats/coincident.py",
        "mixed = np.minimum.reduceat(vals, starts) != np.maximum.reduceat(vals, starts)",
        "mixed = np.ones(starts.size, dtype=bool)",
        "locations with one coded value counted as order-dependent",
    ),
)


def _copy(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc")
    for name in ("pygbs", "encoders", "tests"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "mkdocs.yml"):
        shutil.copy2(REPO / name, dest / name)


def _apply(root: Path, m: Mutation) -> None:
    path = root / m.path
    text = path.read_text()
    if text.count(m.old) != 1:
        raise SystemExit(f"error: mutation {m.name}: {m.old!r} found {text.count(m.old)} times")
    path.write_text(text.replace(m.old, m.new))


def _run_tests(root: Path, cache: Path, empty_shared: Path) -> tuple[bool, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "NUMBA_CACHE_DIR": str(cache),
        "GEOBIAS_SHARED": str(empty_shared),
    }
    env.pop("NUMBA_DISABLE_JIT", None)
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS]
    res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    failed = [ln for ln in res.stdout.splitlines() if ln.startswith("FAILED")]
    return res.returncode == 0, (failed[0] if failed else res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the mutations; print one line each and the survival rate."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", choices=("warm", "empty"), default="warm")
    ap.add_argument("--only", nargs="*", default=None, help="names of mutations to run")
    ap.add_argument("--list", action="store_true", help="list the mutations and stop")
    args = ap.parse_args(argv)
    chosen = [m for m in MUTATIONS if args.only is None or m.name in args.only]
    if args.list:
        for m in chosen:
            print(f"{m.name:22s} {m.path}: {m.what}")
        return 0
    with tempfile.TemporaryDirectory(prefix="mutation-check-") as tmp:
        tmp_path = Path(tmp)
        empty_shared = tmp_path / "no-shared"
        empty_shared.mkdir()
        warm_cache = tmp_path / "cache"
        base = tmp_path / "base"
        _copy(base)
        t0 = time.perf_counter()
        ok, last = _run_tests(base, warm_cache, empty_shared)
        print(f"baseline: {'passes' if ok else 'FAILS'} ({time.perf_counter() - t0:.0f} s) {last}")
        if not ok:
            return 1
        survived = []
        for i, m in enumerate(chosen):
            root = tmp_path / f"m{i}"
            _copy(root)
            _apply(root, m)
            cache = warm_cache if args.cache == "warm" else tmp_path / f"cache{i}"
            t0 = time.perf_counter()
            passed, last = _run_tests(root, cache, empty_shared)
            status = "SURVIVED" if passed else "caught"
            print(f"{m.name:22s} {status:8s} ({time.perf_counter() - t0:.0f} s) {m.what}: {last}")
            sys.stdout.flush()
            if passed:
                survived.append(m.name)
            shutil.rmtree(root)
        print(
            f"survival: {len(survived)} of {len(chosen)} mutations "
            f"({args.cache} numba cache){': ' + ', '.join(survived) if survived else ''}"
        )
        return 1 if survived else 0


if __name__ == "__main__":
    raise SystemExit(main())
