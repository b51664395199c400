"""Exit codes and output directories of the ``pygbs`` commands (docs/cli.md).

Every expected failure of the input or the environment is exit code 2 with one line
naming the path; an unexpected one is exit code 1 with one line (``--debug`` re-raises);
a failing command leaves no output and no temporaries behind.
"""

from __future__ import annotations

import errno
import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pygbs.cli import main
from pygbs.cli.outputs import MANIFEST

QUICK = ["--scale", "nn8", "--score", "unmarked"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(5)
    n = 80
    df = pd.DataFrame({"lon": rng.uniform(0, 10, n), "lat": rng.uniform(40, 50, n),
                       "hit@1": rng.integers(0, 2, n)})  # fmt: skip
    df.to_csv(d / "p.csv", index=False)
    df[["hit@1"]].to_csv(d / "nocoords.csv", index=False)
    raw = gzip.compress(df.to_csv(index=False).encode())
    (d / "cut.csv.gz").write_bytes(raw[: len(raw) // 2])  # EOFError
    bad = bytearray(raw)
    for i in range(60, 120):
        bad[i] ^= 0x5A
    (d / "bad.csv.gz").write_bytes(bytes(bad))  # zlib.error
    (d / "notgz.csv.gz").write_bytes(b"plain text, not gzip data")  # gzip.BadGzipFile
    return d


def _one_line_error(res, code, *needles):
    assert res.exit_code == code, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert "Traceback" not in res.output
    for needle in needles:
        assert needle in lines[0]


def _clean(d: Path, *allowed: str) -> None:
    """Nothing but ``allowed`` in ``d``: no output, no temporaries."""
    assert sorted(p.name for p in d.iterdir()) == sorted(allowed)


@pytest.mark.parametrize("name", ["cut.csv.gz", "bad.csv.gz", "notgz.csv.gz"])
def test_corrupt_gzip_is_one_line_naming_the_file(data, tmp_path, name):
    bad = str(data / name)
    good = str(data / "p.csv")
    for args in (
        ["score", bad, *QUICK, "--out", str(tmp_path / "o")],
        ["compare", good, bad, *QUICK, "--out", str(tmp_path / "o")],
        ["report", good, bad, *QUICK, "--out", str(tmp_path / "r.html")],
        ["score", str(data / "nocoords.csv"), "--coords-from", bad, *QUICK,
         "--out", str(tmp_path / "o")],
    ):  # fmt: skip
        _one_line_error(CliRunner().invoke(main, args), 2, name)
    _clean(tmp_path)


def test_map_failing_after_scoring_writes_nothing(data, tmp_path):
    # the extent holds no sample: found only after scoring; the scores are not kept either
    out = tmp_path / "maps"
    args = ["map", str(data / "p.csv"), *QUICK, "--no-hotspots", "--no-basemap",
            "--extent", "100", "120", "-10", "10", "--out", str(out)]  # fmt: skip
    _one_line_error(CliRunner().invoke(main, args), 2, "holds none of the 80 samples")
    _clean(tmp_path)
    # longitudes outside the world: refused before any work
    args[-6:-2] = ["-200", "200", "40", "50"]
    _one_line_error(CliRunner().invoke(main, args), 2, "extent longitudes must lie in")
    _clean(tmp_path)


def test_map_rerun_replaces_its_own_output(data, tmp_path):
    out = tmp_path / "maps"
    base = ["map", str(data / "p.csv"), *QUICK, "--no-basemap", "--dpi", "30",
            "--hotspot-permutations", "9", "--out", str(out)]  # fmt: skip
    res = CliRunner().invoke(main, base)
    assert res.exit_code == 0, res.output
    assert (out / "hotspots_gi.png").is_file()
    (out / "my_notes.txt").write_text("keep")
    res = CliRunner().invoke(main, [*base, "--no-hotspots"])
    assert res.exit_code == 0, res.output
    # the previous run's hotspot maps are gone; the user's file is untouched
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MANIFEST, "centres.csv", "summary.json", "centres_unmarked_ssi_nn8.png",
         "density.png", "my_notes.txt"]
    )  # fmt: skip
    assert (out / "my_notes.txt").read_text() == "keep"
    _clean(tmp_path, "maps")


def test_existing_directory_needs_force(data, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("user data")
    args = ["score", str(data / "p.csv"), *QUICK, "--out", str(out)]
    _one_line_error(CliRunner().invoke(main, args), 2, "mine", "--force")
    res = CliRunner().invoke(main, [*args, "--force"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "centres.csv", "notes.txt",
                                                     "summary.json"]  # fmt: skip
    assert json.loads((out / MANIFEST).read_text())["command"] == "pygbs score"
    other = ["compare", str(data / "p.csv"), *QUICK, "--out", str(out)]
    _one_line_error(CliRunner().invoke(main, other), 2, "holds the output of `pygbs score`")
    _clean(tmp_path, "mine")


def test_report_does_not_overwrite_a_foreign_file(data, tmp_path):
    out = tmp_path / "r.html"
    out.write_text("<html>my page</html>")
    args = ["report", str(data / "p.csv"), *QUICK, "--out", str(out)]
    _one_line_error(CliRunner().invoke(main, args), 2, "r.html", "--force")
    assert out.read_text() == "<html>my page</html>"


@pytest.mark.parametrize("broken", ["json", "csv"])
def test_map_from_a_damaged_directory(data, tmp_path, broken):
    scored = tmp_path / "scored"
    assert CliRunner().invoke(main, ["score", str(data / "p.csv"), *QUICK,
                                     "--out", str(scored)]).exit_code == 0  # fmt: skip
    if broken == "json":
        text = (scored / "summary.json").read_text()
        (scored / "summary.json").write_text(text[: len(text) // 2])
        name = "summary.json"
    else:
        text = (scored / "centres.csv").read_text()
        (scored / "centres.csv").write_text(text[: len(text) // 2 + 7])  # cut mid-row
        name = "centres.csv"
    res = CliRunner().invoke(main, ["map", "--from", str(scored), "--out", str(tmp_path / "m")])
    _one_line_error(res, 2, name)
    _clean(tmp_path, "scored")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
def test_unwritable_out_is_one_line(data, tmp_path):
    for out in ("/proc/pygbs-test/out", "/sys/pygbs-test"):
        args = ["score", str(data / "p.csv"), *QUICK, "--out", out]
        _one_line_error(CliRunner().invoke(main, args), 2, out)
    args = ["report", str(data / "p.csv"), *QUICK, "--out", "/proc/pygbs-test.html"]
    _one_line_error(CliRunner().invoke(main, args), 2, "/proc/pygbs-test.html")


def test_full_disk_is_one_line_naming_the_output(data, tmp_path, monkeypatch):
    import pygbs.results.result

    def full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pygbs.results.result.GeoBiasResult, "to_csv", full)
    out = tmp_path / "o"
    res = CliRunner().invoke(main, ["score", str(data / "p.csv"), *QUICK, "--out", str(out)])
    _one_line_error(res, 2, f"{out}/centres.csv: No space left on device")
    _clean(tmp_path)


def test_unexpected_error_is_one_line_and_debug_shows_it(data, tmp_path, monkeypatch):
    import pygbs.api

    def broken(*args, **kwargs):
        raise RuntimeError("something odd\nsecond line")

    monkeypatch.setattr(pygbs.api, "score", broken)
    args = ["score", str(data / "p.csv"), "--out", str(tmp_path / "o")]
    _one_line_error(CliRunner().invoke(main, args), 1,
                    "RuntimeError: something odd", "--debug")  # fmt: skip
    res = CliRunner().invoke(main, ["--debug", *args])
    assert isinstance(res.exception, RuntimeError)
    _clean(tmp_path)


def test_out_dot_needs_force_and_keeps_the_users_files(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.txt").write_text("keep")
    args = ["score", str(data / "p.csv"), *QUICK, "--out", "."]
    _one_line_error(CliRunner().invoke(main, args), 2, "--force")
    res = CliRunner().invoke(main, [*args, "--force"])
    assert res.exit_code == 0, res.output
    _clean(tmp_path, MANIFEST, "centres.csv", "mine.txt", "summary.json")
    assert (tmp_path / "mine.txt").read_text() == "keep"
