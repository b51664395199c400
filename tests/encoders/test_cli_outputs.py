"""Output folders, errors and interrupts of ``encoders train`` / ``encoders zoo``.

A non-empty --out that is not the same command's output is refused (exit code 2, one
line) unless --force. Ctrl-C and SIGTERM stop between batches: exit code 130 (SIGINT) or
143 (SIGTERM), one line on stderr, no temporary or half-written file; the checkpoints of
finished epochs stay for ``--resume`` (docs/cli.md).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from encoders.cli import main
from pygbs.cli.outputs import MANIFEST

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ENCODERS = Path(sys.executable).with_name("encoders")
DATA = ["--dataset", "synthetic-vmf", "--data-option", "n_train=1500", "--data-option",
        "n_val=100", "--data-option", "n_test=100", "--data-option", "num_classes=5",
        "--batch-size", "32", "--no-progress", "--threads", "1"]  # fmt: skip


def _run_until(args: list[str], started, signum: int) -> tuple[int, str, float]:
    proc = subprocess.Popen([str(ENCODERS), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    end = time.monotonic() + 120
    while not started():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"ended early ({proc.returncode}): {out}{err}")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail("did not start training in time")
        time.sleep(0.05)
    t0 = time.monotonic()
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("no exit 30 s after the signal")
    return proc.returncode, err, time.monotonic() - t0


def _temporaries(d: Path) -> list[Path]:
    return [p for p in d.rglob("*") if p.name.endswith(".tmp")]


def test_train_sigint_keeps_the_last_checkpoint(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--encoder", "xyz", *DATA, "--epochs", "500", "--out", str(out)]
    rc, err, took = _run_until(args, lambda: (out / "checkpoint.ckpt").is_file(), signal.SIGINT)
    assert rc == 130, err
    assert err.strip().splitlines() == ["error: interrupted by SIGINT"]
    assert took < 10.0
    assert not _temporaries(tmp_path)
    blob = torch.load(out / "checkpoint.ckpt", weights_only=False)  # complete, loadable
    assert blob["encoders_epochs"] >= 1
    doc = json.loads((out / MANIFEST).read_text())
    assert doc["command"] == "encoders train" and doc["complete"] is False
    assert not (out / "predictions.csv").exists()


def test_zoo_sigterm_stops_and_leaves_no_partial_files(tmp_path):
    out = tmp_path / "zoo"
    args = ["zoo", *DATA, "--encoders", "xyz", "--epochs", "500", "--no-report",
            "--out", str(out)]  # fmt: skip
    ckpt = out / "runs" / "xyz" / "checkpoint.ckpt"
    rc, err, took = _run_until(args, ckpt.is_file, signal.SIGTERM)
    assert rc == 143, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert took < 10.0
    assert not _temporaries(tmp_path)
    assert not (out / "zoo.csv").exists() and not (out / "compare").exists()
    assert (out / "predictions" / "no_prior.csv").is_file()  # the finished run stays
    assert json.loads((out / MANIFEST).read_text())["complete"] is False


def test_foreign_out_is_refused_and_force_keeps_user_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("user data")
    args = ["train", "--encoder", "no_prior", *DATA, "--out", str(out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        f"error: {out}: is not empty and is not an output of this program; choose another "
        "directory for `encoders train` or use --force (then only the files it writes are "
        "replaced)"
    ]
    res = CliRunner().invoke(main, [*args, "--force"])
    assert res.exit_code == 0, res.output
    assert (out / "notes.txt").read_text() == "user data"
    doc = json.loads((out / MANIFEST).read_text())
    assert doc["complete"] is True and "predictions.csv" in doc["files"]
    assert "notes.txt" not in doc["files"]
    res = CliRunner().invoke(main, ["--debug", *args])  # our own output now: accepted
    assert res.exit_code == 0, res.output


def test_unexpected_error_is_one_line_exit_1(tmp_path, monkeypatch):
    import encoders.train

    def broken(*args, **kwargs):
        raise RuntimeError("odd state")

    monkeypatch.setattr(encoders.train, "train_and_evaluate", broken)
    args = ["train", "--encoder", "no_prior", *DATA, "--out", str(tmp_path / "o")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1, res.output
    assert res.output.strip().splitlines() == [
        "error: RuntimeError: odd state (run with --debug for the traceback)"
    ]
    assert list(tmp_path.iterdir()) == []  # the folder it made is gone again
    res = CliRunner().invoke(main, ["--debug", *args])
    assert isinstance(res.exception, RuntimeError)
