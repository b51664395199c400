"""The distribution installs what each user needs: ``pip install geobias`` has no PyTorch.

Builds the wheel of this checkout, installs it into a fresh virtual environment with pip's
own configuration (its index and local wheels, as any ``pip install`` here) and checks that
torch did not come along, that ``pygbs example-data`` and ``pygbs score`` run on the
shipped example files, and that ``encoders`` says in one line what to install. Slow: the
install resolves every dependency and the first score compiles the numba kernels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: int = 900):
    proc = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return proc


@pytest.mark.slow
def test_the_wheel_installs_and_scores_without_torch(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba_cache")
    env["MPLBACKEND"] = "Agg"
    wheels = tmp_path / "wheels"
    proc = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", str(wheels), str(REPO)],
        tmp_path, env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = wheels.glob("geobias-*.whl")

    venv = tmp_path / "venv"
    proc = _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bin_ = venv / "bin"
    python = str(bin_ / "python")
    proc = _run([python, "-m", "pip", "install", "-q", str(wheel)], tmp_path, env)
    assert proc.returncode == 0, proc.stderr[-3000:]

    proc = _run([python, "-m", "pip", "show", "torch"], tmp_path, env)
    assert proc.returncode != 0, "pip install geobias installed torch"
    proc = _run(
        [python, "-c", "import importlib.util as u; print(u.find_spec('torch'))"], tmp_path, env
    )
    assert proc.stdout.strip() == "None"

    run = tmp_path / "run"
    run.mkdir()
    proc = _run([str(bin_ / "pygbs"), "example-data", "examples"], run, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nerf = "examples/eval_birdsnap_ebird_meta_test_NeRF.csv.gz"
    proc = _run(
        [str(bin_ / "pygbs"), "score", nerf, "--scale", "100km", "--bootstrap", "0",
         "--out", "out/nerf"],
        run, env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run / "out" / "nerf" / "summary.json").read_text())
    assert summary["input"]["n_rows"] == 2262
    assert (run / "out" / "nerf" / "centres.csv").is_file()

    proc = _run([str(bin_ / "encoders"), "--help"], run, env)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "pip install 'geobias[encoders]'" in proc.stderr
