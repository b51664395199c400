"""The ``pygbs score`` / ``pygbs compare`` command-line contract."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pygbs
from pygbs.cli import main


@pytest.fixture()
def runner():
    return CliRunner()


def _table(seed=0, n=120):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(5, 15, n)
    lat = rng.uniform(40, 50, n)
    return pd.DataFrame(
        {"lon": lon, "lat": lat, "hit@1": (rng.random(n) < 0.3 + 0.04 * (lon - 5)).astype(int)}
    )


def test_score_writes_summary_and_centres(runner, tmp_path):
    f = tmp_path / "model_a.csv"
    _table().to_csv(f)
    out = tmp_path / "res"
    r = runner.invoke(
        main,
        [
            "score",
            str(f),
            "--scale",
            "200km",
            "--scale",
            "nn10",
            "--score",
            "unmarked",
            "--score",
            "marked",
            "--score",
            "sri-lag",
            "--centres",
            "30",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    centres = pd.read_csv(out / "centres.csv")
    assert summary["parameters"]["scales"] == ["200km", "nn10"]
    assert summary["input"]["n_valid"] == 120
    assert list(centres.columns)[:12] == [
        "row",
        "lon",
        "lat",
        "scale",
        "n_neighbours",
        "radius_km",
        "mean_performance",
        "local_performance",
        "unmarked_ssi",
        "unmarked_ssi_p",
        "marked_ssi",
        "marked_ssi_p",
    ]
    assert list(centres.columns)[12] == "sri_lag"
    # Benjamini-Hochberg q-values of the scores with p-values come last
    assert list(centres.columns)[13:] == ["unmarked_ssi_q", "marked_ssi_q"]
    assert len(centres) == 60 and set(centres["row"]) == set(range(30))
    # the aggregates are the means of the per-centre table
    agg = summary["aggregates"]["marked_ssi"]["200km"]
    col = centres.loc[centres["scale"] == "200km", "marked_ssi"]
    assert agg["mean"] == pytest.approx(col.mean())
    assert agg["n_scored"] + agg["n_skipped"] == 30
    back = pygbs.GeoBiasResult.read(out)
    assert back.headline("marked", "200km") == pytest.approx(col.mean())


def test_bad_input_exits_2_with_one_line_and_no_output(runner, tmp_path):
    f = tmp_path / "bad.csv"
    df = _table()
    df.loc[7, "lat"] = 95.0
    df.to_csv(f, index=False)
    out = tmp_path / "never"
    r = runner.invoke(main, ["score", str(f), "--out", str(out)])
    assert r.exit_code == 2
    assert "lat" in r.output and "7" in r.output
    assert not out.exists()
    assert not list(tmp_path.glob(".never*"))


def test_unknown_scale_is_a_usage_error(runner, tmp_path):
    f = tmp_path / "a.csv"
    _table().to_csv(f, index=False)
    r = runner.invoke(main, ["score", str(f), "--scale", "100miles", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "unknown scale" in r.output


@pytest.mark.parametrize("scale", ["1000000km", "1e9km"])
def test_radius_beyond_half_the_circumference_exits_2(runner, tmp_path, scale):
    f = tmp_path / "a.csv"
    _table().to_csv(f, index=False)
    r = runner.invoke(main, ["score", str(f), "--scale", scale, "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert r.output.count("\n") == 1 and "exceeds the maximum 20015.1 km" in r.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "extra", "pattern"),
    [
        ("lon,lat,value\n1,2,0.5\n3,4,inf\n", [], "column 'value', row 1: value inf is not finite"),
        ("lon,lat,lat,hit@1\n1,2,3,1\n", [], "header row: column name 'lat' appears more"),
        ("lon,lat,hit@1\n1,2,1\n", ["--lon", "lat", "--lat", "lat"], "'lat' is given for both"),
        ("lon,lat,hit@1\n1,2,1\n-inf,2,1\n", [], "column 'lon', row 1: longitude -inf"),
    ],
)
def test_bad_numbers_and_columns_exit_2(runner, tmp_path, text, extra, pattern):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    out = tmp_path / "o"
    r = runner.invoke(main, ["score", str(f), *extra, "--out", str(out)])
    assert r.exit_code == 2
    assert r.output.startswith("error: ") and r.output.count("\n") == 1
    assert "bad.csv" in r.output and pattern in r.output
    assert not out.exists()


def test_transform_option_reaches_the_coding(runner, tmp_path):
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "lon": rng.uniform(0, 5, 60),
            "lat": rng.uniform(40, 45, 60),
            "relative_error": rng.normal(size=60),
        }
    )
    f = tmp_path / "reg.csv"
    df.to_csv(f, index=False)
    for option, applied in (([], "abs"), (["--transform", "none"], "none")):
        out = tmp_path / f"o_{applied}"
        r = runner.invoke(main, ["score", str(f), "--scale", "nn10", *option, "--out", str(out)])
        assert r.exit_code == 0, r.output
        coding = json.loads((out / "summary.json").read_text())["input"]["coding"]
        assert coding["transform"] == applied


def test_compare_table_layout(runner, tmp_path):
    df = _table()
    a, b = tmp_path / "model_a.csv", tmp_path / "model_b.csv"
    df.to_csv(a, index=False)
    df.assign(**{"hit@1": 1 - df["hit@1"]}).to_csv(b, index=False)
    out = tmp_path / "cmp"
    r = runner.invoke(main, ["compare", str(a), str(b), "--scale", "300km", "--out", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "compare.csv")
    assert list(table["model"]) == ["model_a", "model_b"]
    # headline means, then their block-bootstrap intervals, then the accuracy-matched null
    # (the default of compare): its mean, the excess, its interval and p-value
    cols = ["unmarked_ssi@300km", "marked_ssi@300km", "spread@300km"]
    suffixes = ["", "_ci_low", "_ci_high", "_null", "_excess", "_excess_ci_low",
                "_excess_ci_high", "_p_excess"]  # fmt: skip
    assert list(table.columns) == ["model", "accuracy", "n"] + [
        c + sfx for sfx in suffixes for c in cols
    ]
    pairs = pd.read_csv(out / "pairs.csv")
    assert list(pairs.columns[:9]) == [
        "model_a", "model_b", "score", "scale", "diff", "ci_low", "ci_high", "p_value",
        "n_centres",
    ]  # fmt: skip
    # baseline: the first file (no no_prior among them); unmarked SSI never differs
    assert set(pairs["model_b"]) == {"model_a"}
    scores = ["unmarked", "marked", "marked_excess", "spread", "spread_excess"]
    assert list(pairs["score"]) == scores
    assert pairs.loc[0, "diff"] == 0.0 and pairs.loc[0, "p_value"] == 1.0
    assert table["accuracy"].sum() == pytest.approx(1.0)
    # unmarked SSI depends on locations only: identical for both models
    assert table["unmarked_ssi@300km"].nunique() == 1
    assert (out / "compare.md").read_text().startswith("| model | accuracy")
    assert (out / "model_a" / "summary.json").is_file()


def test_compare_refuses_different_locations(runner, tmp_path):
    df = _table()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    df.to_csv(a, index=False)
    df.assign(lon=df["lon"] + 0.5).to_csv(b, index=False)
    r = runner.invoke(main, ["compare", str(a), str(b), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "locations differ" in r.output


def test_coords_from(runner, tmp_path):
    df = _table()
    a, nop = tmp_path / "a.csv", tmp_path / "no_prior.csv"
    df.to_csv(a, index=False)
    df[["hit@1"]].to_csv(nop, index=False)
    r = runner.invoke(main, ["score", str(nop), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "coords-from" in r.output
    r = runner.invoke(
        main,
        [
            "score",
            str(nop),
            "--coords-from",
            str(a),
            "--scale",
            "nn10",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert r.exit_code == 0, r.output


def test_help_lists_every_command(runner):
    r = runner.invoke(main, ["--help"])
    for cmd in ("score", "compare", "map", "report"):
        assert cmd in r.output


def test_accuracy_is_share_correct_for_pm1_hits(tmp_path):
    df = _table()
    pm1 = df.assign(**{"hit@1": 2 * df["hit@1"] - 1})  # the foundation-model coding
    cmp = pygbs.compare([df, pm1], names=["zero_one", "minus_plus"], scales=["nn10"])
    acc = cmp.table.set_index("model")["accuracy"]
    assert acc["zero_one"] == pytest.approx(df["hit@1"].mean())
    assert acc["minus_plus"] == pytest.approx(acc["zero_one"])


def test_sri_options_reach_the_scores(runner, tmp_path):
    f = tmp_path / "a.csv"
    _table(n=300).to_csv(f, index=False)
    out = tmp_path / "o"
    args = ["score", str(f), "--scale", "nn15", "--score", "sri-sector", "--out", str(out)]
    r = runner.invoke(main, args)  # 15 samples: no part can reach 20
    assert r.exit_code == 0 and "no part reached --sri-threshold" in r.output
    r = runner.invoke(
        main,
        [
            *args,
            "--sri-threshold",
            "3",
            "--sri-sectors",
            "4",
            "--score",
            "sri-lag",
            "--sri-lag-km",
            "50",
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parameters"]["sri"]["threshold"] == 3
    assert summary["parameters"]["sri"]["sectors"] == 4
    assert summary["parameters"]["sri"]["lag_rad"] == pytest.approx(50 / pygbs.EARTH_RADIUS_KM)
    assert summary["aggregates"]["sri_sector"]["nn15"]["n_scored"] > 250
