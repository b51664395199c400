"""One-line messages of ``encoders train`` for bad files, options and a full disk.

- ``--resume`` from a truncated, random or empty checkpoint: exit 2 naming the checkpoint;
- a full disk while a checkpoint is written (a real ``ENOSPC`` from ``/dev/full``): exit
  2, "No space left", naming the file, nothing half-written;
- ``--data-option n_train=abc``: a usage error naming the option, key and value;
- a bad latitude in a ``table`` dataset: the row of the user's file and the value;
- usage errors on one ``error:`` line.
"""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from encoders.cli import main

SMALL = ["--dataset", "synthetic-vmf", "--data-option", "n_train=200", "--data-option",
         "n_val=40", "--data-option", "n_test=40", "--data-option", "num_classes=3",
         "--batch-size", "64", "--no-progress", "--threads", "1"]  # fmt: skip


def _one_line(res, code: int, *needles: str) -> str:
    assert res.exit_code == code, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    res = CliRunner().invoke(main, ["train", "--encoder", "xyz", *SMALL, "--epochs", "1",
                                    "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize(
    ("damage", "word"),
    [
        (lambda b: b[: len(b) // 2], "damaged"),
        (lambda b: np.random.default_rng(0).bytes(len(b)), "damaged"),
        (lambda b: b"", "the file is empty"),
    ],
    ids=["truncated", "random", "empty"],
)
def test_resume_from_a_damaged_checkpoint_names_it(trained, tmp_path, damage, word):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    ckpt = run / "checkpoint.ckpt"
    ckpt.write_bytes(damage(ckpt.read_bytes()))
    res = CliRunner().invoke(main, ["train", "--encoder", "xyz", *SMALL, "--epochs", "2",
                                    "--resume", "--out", str(run)])  # fmt: skip
    line = _one_line(res, 2, str(ckpt), "cannot resume", word)
    assert "Traceback" not in res.output and "unexpected" not in line


def test_resume_from_a_file_that_is_not_a_checkpoint(trained, tmp_path):
    import shutil

    import torch

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    torch.save([1, 2, 3], run / "checkpoint.ckpt")
    res = CliRunner().invoke(main, ["train", "--encoder", "xyz", *SMALL, "--epochs", "2",
                                    "--resume", "--out", str(run)])  # fmt: skip
    _one_line(res, 2, str(run / "checkpoint.ckpt"), "not a training checkpoint")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_while_saving_a_checkpoint(tmp_path, monkeypatch):
    import encoders.torch_files

    real_open = builtins.open

    def full_disk(path, mode="r", *args, **kwargs):
        # the checkpoint's temporary file is written to /dev/full: every write fails
        # with ENOSPC, as on a full disk
        if "w" in mode and str(path).endswith(".tmp"):
            return real_open("/dev/full", mode, *args, **kwargs)
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(encoders.torch_files, "open", full_disk, raising=False)
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["train", "--encoder", "xyz", *SMALL, "--epochs", "1",
                                    "--out", str(out)])  # fmt: skip
    line = _one_line(res, 2, "No space left on device")
    assert line.endswith(".ckpt: No space left on device") and str(out) in line, line
    left = [p.name for p in out.rglob("*")] if out.exists() else []
    assert not [n for n in left if n.endswith((".tmp", ".ckpt", ".pt"))], left


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("n_train=abc", ["--data-option", "n_train='abc'", "must be an integer"]),
        ("num_classes=2.5", ["--data-option", "num_classes=2.5", "must be an integer"]),
        ("n_train=true", ["--data-option", "n_train=True", "must be an integer"]),
    ],
)
def test_data_option_of_the_wrong_type_is_a_usage_error(tmp_path, option, words):
    args = ["train", "--encoder", "xyz", "--dataset", "synthetic-vmf", "--data-option", option]
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "o")])
    _one_line(res, 2, *words)
    assert not (tmp_path / "o").exists()


def test_whole_number_float_is_accepted_for_an_integer_option():
    from encoders.data import load_dataset

    ds = load_dataset("synthetic-vmf", n_train=2e2, n_val=40.0, n_test=40, num_classes=3)
    assert len(ds.train.label) == 200


@pytest.mark.parametrize(
    ("column", "row", "value", "words"),
    [
        ("lat", 7, 123.0, ["column 'lat', row 7", "latitude '123'", "outside [-90, 90]"]),
        ("lon", 4, -200.0, ["column 'lon', row 4", "longitude '-200'", "[-180, 360)"]),
        ("lat", 9, "north", ["column 'lat', row 9", "'north' is not a number"]),
        ("lat", 5, "inf", ["column 'lat', row 5", "is not finite"]),
    ],
)
def test_table_dataset_names_the_bad_coordinate_by_file_row(tmp_path, column, row, value, words):
    rng = np.random.default_rng(1)
    n = 60
    df = pd.DataFrame({"lon": rng.uniform(0, 5, n), "lat": rng.uniform(40, 45, n),
                       "label": rng.integers(0, 3, n).astype(float)}).astype(object)  # fmt: skip
    df.loc[2, "label"] = np.nan  # a dropped row before the bad one: rows stay the file's
    df.loc[row, column] = value
    f = tmp_path / "obs.csv"
    df.to_csv(f, index=False)
    args = ["train", "--encoder", "xyz", "--dataset", "table", "--data-option", f"path={f}"]
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "o")])
    line = _one_line(res, 2, str(f), *words)
    assert "np." not in line and "array(" not in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["train", "--bogus"], ["No such option", "'encoders train --help'"]),
        (["train", "--encoder", "nope", "--dataset", "synthetic-vmf", "--out", "x"],
         ["Invalid value for '--encoder'", "unknown encoder 'nope'"]),
        (["nosuchcommand"], ["No such command", "'encoders --help'"]),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(args, words):
    res = CliRunner().invoke(main, args, prog_name="encoders")
    line = _one_line(res, 2, *words)
    assert "Usage:" not in res.output and "Try " not in line
    assert os.linesep not in line
