"""One-line messages of the ``pygbs`` commands that used to send the user the wrong way.

- hints name only options of the running command: ``report`` has no ``--skip-empty`` or
  ``--locations``, and ``report``/``compare`` refuse ``--lon``/``--lat``; ``score`` and
  ``compare`` keep their hints;
- a model named like an output table (``compare.csv``) gets another folder, the table stays;
- ``map --hotspot-k`` larger than the table names the option;
- ``profile --scales`` takes radii with exponents (``1e1km:1e3km:3``);
- click's usage errors are one ``error:`` line; a cluster that cannot be reached is its
  own one line with exit code 3 (not "unexpected", no ``--debug`` hint);
- ``--skip-empty`` skips a zero-byte Parquet file; the skip reasons add up.
"""

from __future__ import annotations

import json
import socket

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pygbs
from pygbs.cli import main

QUICK = ["--scale", "nn8", "--score", "unmarked", "--bootstrap", "0"]


def _table(n: int = 60, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"lon": rng.uniform(0, 5, n) + shift, "lat": rng.uniform(40, 45, n),
                         "hit@1": rng.integers(0, 2, n)})  # fmt: skip


@pytest.fixture
def files(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    _table().to_csv(a, index=False)
    _table(seed=1).assign(lon=_table()["lon"], lat=_table()["lat"]).to_csv(b, index=False)
    moved = tmp_path / "moved.csv"
    _table(seed=2, shift=1.0).to_csv(moved, index=False)
    nocoord = tmp_path / "nocoord.csv"
    _table()[["hit@1"]].to_csv(nocoord, index=False)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    return {"a": a, "b": b, "moved": moved, "nocoord": nocoord, "empty": empty}


def _line(res, code: int) -> str:
    assert res.exit_code == code, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    return lines[0]


def _invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], prog_name="pygbs")


def test_report_hints_name_only_its_own_options(files, tmp_path):
    out = tmp_path / "r.html"
    line = _line(_invoke("report", files["a"], files["empty"], *QUICK, "--out", out), 2)
    assert "the file is empty" in line and "--skip-empty" not in line
    line = _line(_invoke("report", files["a"], files["moved"], *QUICK, "--out", out), 2)
    assert "locations differ" in line and "--locations" not in line
    line = _line(_invoke("report", files["nocoord"], files["a"], *QUICK, "--out", out), 2)
    assert "no coordinate columns" in line and "--coords-from" in line
    assert "--lon" not in line and "rename the coordinate columns" in line
    assert not out.exists()


def test_compare_and_score_keep_the_hints_they_can_use(files, tmp_path):
    out = tmp_path / "c"
    line = _line(_invoke("compare", files["a"], files["empty"], *QUICK, "--out", out), 2)
    assert "--skip-empty" in line
    line = _line(_invoke("compare", files["a"], files["moved"], *QUICK, "--out", out), 2)
    assert "--locations own" in line
    line = _line(_invoke("compare", files["nocoord"], files["a"], *QUICK, "--out", out), 2)
    assert "--lon" not in line and "--coords-from" in line
    line = _line(_invoke("score", files["nocoord"], *QUICK, "--out", out), 2)
    assert "(--lon/--lat)" in line and "--coords-from" in line
    # library use: both spellings, as before
    with pytest.raises(pygbs.InputError, match=r"lon=/lat= \(--lon/--lat\)"):
        pygbs.score(files["nocoord"], scales=["nn8"], bootstrap=0)


def test_a_model_named_like_a_table_gets_another_folder(files, tmp_path):
    out = tmp_path / "c"
    res = _invoke("compare", files["a"], files["b"], "--name", "compare.csv", "--name", "pairs.csv",
                  *QUICK, "--out", out)  # fmt: skip
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "compare.csv")
    assert list(table["model"]) == ["compare.csv", "pairs.csv"]
    folders = json.loads((out / "compare.json").read_text())["folders"]
    assert folders == {"compare.csv": "compare.csv-2", "pairs.csv": "pairs.csv-2"}
    for folder in folders.values():
        assert (out / folder / "summary.json").is_file()
    assert pygbs.GeoBiasResult.read(out / "compare.csv-2").centres.shape[0] == 60


def test_hotspot_k_beyond_the_table_names_the_option(files, tmp_path, caplog):
    with caplog.at_level("WARNING", logger="pygbs"):
        res = _invoke("map", files["a"], "--scale", "nn8", "--hotspot-k", "5000", "--dpi", "30",
                      "--out", tmp_path / "m")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "hotspot maps skipped" in caplog.text and "--hotspot-k" in caplog.text
    assert "5000 neighbours" in caplog.text


def test_scale_ranges_take_exponents(files, tmp_path):
    assert pygbs.scale_range("1e1km:1e3km:3") == ["10km", "100km", "1000km"]
    assert pygbs.scale_range("1E2km:2.5e2km:2") == ["100km", "250km"]
    with pytest.raises(pygbs.InputError, match="expected '<from>km:<to>km:<n>'"):
        pygbs.scale_range("1e1:1e3:3")
    with pytest.raises(pygbs.InputError, match="need 0 < from < to"):
        pygbs.scale_range("1e1km:1e999km:3")
    res = _invoke("profile", files["a"], "--scales", "1e2km:1e3km:2", "--score", "unmarked",
                  "--bootstrap", "0", "--out", tmp_path / "p")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "error" not in res.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["score", "x.csv", "--bogus"], ["No such option '--bogus'", "'pygbs score --help'"]),
        (["score", "x.csv", "--score", "nope", "--out", "o"],
         ["Invalid value for '--score'", "'nope'"]),
        (["score"], ["Missing argument 'FILE'"]),
        (["nosuchcommand"], ["No such command", "'pygbs --help'"]),
        (["score", "x.csv", "--scheduler", "bogus", "--out", "o"], ["scheduler 'bogus'"]),
        (["score", "x.csv", "--scheduler", "local:abc", "--out", "o"], ["scheduler 'local:abc'"]),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(files, args, words):
    line = _line(_invoke(*(files["a"] if a == "x.csv" else a for a in args)), 2)
    for word in words:
        assert word in line
    assert "Usage:" not in line and "Try " not in line


def test_help_and_version_still_work():
    assert _invoke("--version").exit_code == 0
    res = _invoke("score", "--help")
    assert res.exit_code == 0 and res.output.startswith("Usage: pygbs score")


def test_unreachable_cluster_is_its_own_one_line_exit_3(files, tmp_path):
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "o"
    res = _invoke("score", files["a"], *QUICK, "--scheduler", f"tcp://127.0.0.1:{port}",
                  "--out", out)  # fmt: skip
    line = _line(res, 3)
    assert "cannot reach the Dask scheduler" in line
    assert "--debug" not in line and "ClusterError" not in line
    assert not out.exists()


def test_skip_empty_skips_a_zero_byte_parquet_file(files, tmp_path):
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    out = tmp_path / "c"
    line = _line(_invoke("compare", files["a"], files["b"], empty, *QUICK, "--out", out), 2)
    assert str(empty) in line and "--skip-empty" in line
    res = _invoke("compare", files["a"], files["b"], empty, "--skip-empty", *QUICK, "--out", out)
    assert res.exit_code == 0, res.output
    assert list(json.loads((out / "compare.json").read_text())["skipped"]) == [str(empty)]
    assert len(pd.read_csv(out / "compare.csv")) == 2


def test_skip_reasons_add_up():
    # coincident groups, rounded coordinates (ties), all-good and all-bad patches
    rng = np.random.default_rng(4)
    n = 240
    lon = np.round(rng.uniform(0, 2, n), 1)
    lat = np.round(rng.uniform(40, 42, n), 1)
    lon[:40], lat[:40] = 1.05, 41.05
    hit = (rng.uniform(size=n) < 0.5).astype(int)
    hit[(lon > 1.6) & (lat > 41.6)] = 1
    df = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit})
    scores = ["unmarked", "marked", "performance", "moran", "sri-grid"]
    res = pygbs.score(df, scales=["nn6", "15km", "60km"], bootstrap=0, min_points=4, scores=scores)
    seen = set()
    for col, per_scale in res.summary["aggregates"].items():
        for scale, agg in per_scale.items():
            if "n_skipped" not in agg:
                continue
            reasons = {k: v for k, v in agg.items() if k.startswith("n_skipped_")}
            assert sum(reasons.values()) == agg["n_skipped"], (col, scale, agg)
            assert agg["n_scored"] + agg["n_skipped"] == n, (col, scale)
            seen |= {k for k, v in reasons.items() if v}
    # the table exercises several reasons, not only one
    assert seen == {
        f"n_skipped_{r}"
        for r in (
            "min_points",
            "one_location",
            "coincident",
            "zero_variance",
            "constant",
            "no_part",
        )
    }, seen
