"""The golden cases: commands whose outputs must not change under a refactor."""

from __future__ import annotations

import hashlib
import inspect
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FROZEN = Path(__file__).resolve().parent / "frozen"
SHIPPED = REPO / "pygbs" / "datasets" / "torchspatial"
SHARED_TS = REPO.parent / "shared" / "data" / "predictions" / "torchspatial"
#: Files above this size are frozen by hash only (not copied into the repository).
COPY_LIMIT = 80_000
#: Output files that describe the run rather than its results.
SKIP = {".geobias-output.json"}

BIRDSNAP = sorted(p.name for p in SHIPPED.glob("eval_*.csv.gz"))


@dataclass(frozen=True)
class Case:
    """One golden command: run in ``data`` (so sources are bare file names)."""

    name: str
    data: Path
    argv: tuple[str, ...]
    shared: bool = False
    #: ``pygbs`` or ``encoders``
    program: str = "pygbs"
    #: Only output files whose name is one of these are golden (empty: all).
    include: tuple[str, ...] = ()

    def available(self) -> bool:
        """Whether the case's input folder exists on this machine."""
        return self.data.is_dir()


def _shared(pattern: str) -> list[str]:
    return sorted(p.name for p in SHARED_TS.glob(pattern)) if SHARED_TS.is_dir() else []


CASES = (
    Case(
        "shipped-compare",
        SHIPPED,
        (
            "compare",
            *BIRDSNAP,
            "--coords-from",
            "auto",
            "--scale",
            "100km",
            "--scale",
            "nn50",
            "--null-draws",
            "19",
            "--centres",
            "500",
            "--bootstrap",
            "200",
        ),
    ),
    Case(
        "shipped-score",
        SHIPPED,
        (
            "score",
            "eval_birdsnap_ebird_meta_test_NeRF.csv.gz",
            "--scale",
            "100km",
            "--scale",
            "1000km",
            "--scale",
            "nn50",
            "--score",
            "unmarked",
            "--score",
            "marked",
            "--score",
            "performance",
            "--score",
            "moran",
            "--score",
            "sri-grid",
            "--null",
            "accuracy",
            "--null-draws",
            "19",
            "--centres",
            "400",
            "--bootstrap",
            "200",
        ),
    ),
    Case(
        "shared-yfcc",
        SHARED_TS,
        (
            "compare",
            *_shared("eval_yfcc__test_*.csv.gz"),
            "--coords-from",
            "auto",
            "--scale",
            "100km",
            "--scale",
            "1000km",
            "--null-draws",
            "19",
            "--centres",
            "1500",
        ),
        shared=True,
    ),
    Case(
        "shared-population",
        SHARED_TS,
        (
            "compare",
            *_shared("eval_mosaiks_population__test_*.csv.gz"),
            "--coords-from",
            "auto",
            "--scale",
            "100km",
            "--score",
            "marked",
            "--score",
            "performance",
            "--score",
            "sri-grid",
            "--locations",
            "own",
            "--skip-unlocated",
            "--value",
            "absolute_error",
            "--null-draws",
            "19",
            "--centres",
            "1500",
        ),
        shared=True,
    ),
    # `make demo`: the zoo's scoring of 16 trained models (training about 1.5 min); zoo.csv
    # holds training times and is left out
    Case(
        "demo",
        REPO,
        ("zoo", "--dataset", "synthetic-vmf-biased", "--preset", "demo"),
        shared=True,
        program="encoders",
        include=(
            "compare.csv",
            "pairs.csv",
            "summary.json",
            "centres.csv",
            "predictions.csv",
            "tradeoff.csv",
        ),
    ),
)


def run_case(case: Case, out: Path) -> subprocess.CompletedProcess[str]:
    """Run ``case`` with this interpreter's ``pygbs`` into ``out`` (a new folder)."""
    cmd = [
        sys.executable,
        "-c",
        f"from {case.program}.cli import main; main()",
        *case.argv,
        "--out",
        str(out),
    ]
    return subprocess.run(cmd, cwd=case.data, capture_output=True, text=True, check=False)


def output_files(out: Path, include: tuple[str, ...] = ()) -> dict[str, Path]:
    """The result files of a run (only those named in ``include`` if given), by path."""
    return {
        p.relative_to(out).as_posix(): p
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in SKIP and (not include or p.name in include)
    }


def sha256(path: Path, out: Path | None = None) -> str:
    """Hex SHA-256 of a file's bytes, the run's output folder ``out`` written as ``<OUT>``."""
    data = path.read_bytes()
    if out is not None:
        data = data.replace(str(out).encode(), b"<OUT>")
    return hashlib.sha256(data).hexdigest()


def api_snapshot() -> dict[str, dict[str, str]]:
    """Every public name of ``pygbs`` and ``encoders`` with its kind and signature."""
    import importlib

    snap: dict[str, dict[str, str]] = {}
    for pkg in ("pygbs", "encoders"):
        mod = importlib.import_module(pkg)
        names = {}
        for name in sorted(getattr(mod, "__all__", [])):
            if name == "__version__":
                continue
            obj = getattr(mod, name)
            if inspect.isclass(obj):
                kind = "class"
                try:
                    sig = str(inspect.signature(obj))
                except (TypeError, ValueError):
                    sig = ""
            elif callable(obj):
                kind = "function"
                sig = str(inspect.signature(obj))
            else:
                kind = type(obj).__name__
                sig = ""
            names[name] = f"{kind} {sig}".strip()
        snap[pkg] = names
    return snap


def load_hashes() -> dict[str, dict[str, str]]:
    """The frozen hashes, by case and file."""
    path = FROZEN / "hashes.json"
    return json.loads(path.read_text()) if path.exists() else {}
