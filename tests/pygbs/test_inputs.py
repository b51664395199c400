"""Inputs that could fake geo-bias, and the published folder in one command.

- relative errors whose labels are often near zero: refused with the share and the ways
  out (``absolute_error``, ``min_label``, ``near_zero_labels='allow'``), each checked
  against a hand computation;
- regression files report R² and MAE (checked against scikit-learn), hit files accuracy;
- repeated locations: the warning with its share, ``duplicates='collapse'`` against a
  hand-collapsed table scored directly;
- ``compare --group-by dataset`` on generated folders: every problem reported before any
  scoring, skips and per-dataset decisions recorded, the long table built from whatever
  fields the aggregates hold.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import mean_absolute_error, r2_score

import pygbs
from pygbs.by_dataset import InputProblems, compare_by_dataset
from pygbs.cli import main
from pygbs.errors import InputError, NearZeroLabelsError
from pygbs.regression import near_zero_cutoff
from pygbs.results.comparison import GroupedComparison

SCALE = ["nn10"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _regression(seed=0, n=120, zero_share=0.0, lon0=5.0):
    """A TorchSpatial-style regression table: relative_error = (p - y) / (y + 1e-8)."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(lon0, lon0 + 10, n)
    lat = rng.uniform(40, 50, n)
    labels = rng.uniform(1.0, 5.0, n)
    labels[: int(round(zero_share * n))] = 0.0
    preds = labels + rng.normal(0, 0.5, n)
    rel = (preds - labels) / (labels + 1e-8)
    return pd.DataFrame(
        {"lon": lon, "lat": lat, "predictions": preds, "labels": labels, "relative_error": rel}
    )


def _hits(seed=0, n=80, lon0=5.0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "lon": rng.uniform(lon0, lon0 + 10, n),
            "lat": rng.uniform(40, 50, n),
            "hit@1": rng.integers(0, 2, n),
        }
    )


# --------------------------------------------------------------------------- near-zero labels


def test_relative_error_with_many_zero_labels_is_refused_naming_the_share():
    df = _regression(zero_share=0.88, n=100)
    with pytest.raises(NearZeroLabelsError) as err:
        pygbs.score(df, scales=SCALE)
    msg = str(err.value)
    assert "88.0 % of the rows (88 of 100)" in msg and "\n" not in msg
    for way in ("--value absolute_error", "--min-label", "--near-zero-labels allow"):
        assert way in msg


def test_few_near_zero_labels_pass():
    df = _regression(n=200)
    df.loc[:1, "labels"] = 0.0  # 1 % of the rows
    res = pygbs.score(df, scales=SCALE)
    check = res.summary["input"]["relative_error_check"]
    assert check["n_near_zero"] == 2 and check["share_near_zero"] == pytest.approx(0.01)


def test_near_zero_cutoff_is_one_percent_of_the_median_non_zero_label():
    assert near_zero_cutoff(np.array([0.0, 0.0, 2.0, 4.0, 6.0])) == pytest.approx(0.04)
    assert near_zero_cutoff(np.zeros(3)) == 0.0


def test_absolute_error_is_derived_from_predictions_and_labels():
    df = _regression(zero_share=0.88, n=100)
    res = pygbs.score(df, scales=SCALE, value="absolute_error")
    assert res.summary["input"]["value_name"] == "absolute_error"
    want = np.abs(df["predictions"] - df["labels"]).to_numpy()
    np.testing.assert_allclose(res.predictions.value, want)
    coding = res.summary["input"]["coding"]
    assert coding["lower_is_better"] and coding["threshold"] == pytest.approx(np.median(want))


def test_min_label_floors_the_denominator():
    df = _regression(zero_share=0.5, n=40)
    df.loc[5, "labels"] = -3.0  # a negative label keeps its sign
    res = pygbs.score(df, scales=SCALE, min_label=0.5)
    p, y = df["predictions"].to_numpy(), df["labels"].to_numpy()
    want = [(pi - yi) / (np.sign(yi or 1.0) * max(abs(yi), 0.5)) for pi, yi in zip(p, y)]
    np.testing.assert_allclose(res.predictions.value, want)
    check = res.summary["input"]["relative_error_check"]
    assert check["policy"] == "floor" and check["min_label"] == 0.5
    assert res.summary["parameters"]["min_label"] == 0.5


def test_allow_codes_the_relative_error_as_stored():
    df = _regression(zero_share=0.88, n=100)
    res = pygbs.score(df, scales=SCALE, near_zero_labels="allow")
    np.testing.assert_allclose(res.predictions.value, df["relative_error"])
    assert res.summary["input"]["relative_error_check"]["policy"] == "allow"


def test_min_label_needs_a_relative_error_with_labels():
    with pytest.raises(InputError, match="min_label .* applies to a relative error"):
        pygbs.score(_hits(), scales=SCALE, min_label=0.1)


def test_cli_near_zero_labels_exit_2_one_line(runner, tmp_path):
    path = tmp_path / "reg.csv"
    _regression(zero_share=0.88, n=100).to_csv(path, index=False)
    out = tmp_path / "o"
    r = runner.invoke(main, ["score", str(path), "--scale", "nn10", "--out", str(out)])
    assert r.exit_code == 2 and not out.exists()
    assert r.output.count("\n") == 1 and "88.0 % of the rows" in r.output
    r = runner.invoke(
        main, ["score", str(path), "--scale", "nn10", "--min-label", "0.5", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output


# --------------------------------------------------------------------------- metrics


def test_regression_metrics_replace_accuracy():
    df = _regression(n=150)
    res = pygbs.score(df, scales=SCALE)
    inp = res.summary["input"]
    assert "accuracy" not in inp
    assert inp["r2"] == pytest.approx(r2_score(df["labels"], df["predictions"]))
    assert inp["mae"] == pytest.approx(mean_absolute_error(df["labels"], df["predictions"]))
    cmp = pygbs.compare([df, df.assign(predictions=df["labels"] + 0.1)], names=["a", "b"],
                        scales=SCALE)  # fmt: skip
    assert "accuracy" not in cmp.table.columns
    assert cmp.table.set_index("model").loc["b", "mae"] == pytest.approx(0.1)


def test_hit_files_keep_accuracy():
    df = _hits()
    res = pygbs.score(df, scales=SCALE)
    assert res.summary["input"]["accuracy"] == pytest.approx(df["hit@1"].mean())
    assert "r2" not in res.summary["input"]


# --------------------------------------------------------------------------- repeated locations


def _sites(n_sites=30, per_site=5, seed=1):
    """Sites with several rows each; every row of a site has the site's outcome."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(5, 15, n_sites)
    lat = rng.uniform(40, 50, n_sites)
    hit = rng.integers(0, 2, n_sites)
    return pd.DataFrame(
        {
            "lon": np.repeat(lon, per_site),
            "lat": np.repeat(lat, per_site),
            "hit@1": np.repeat(hit, per_site),
        }
    )


def test_many_repeated_locations_warn_with_the_share(caplog):
    df = _sites()
    with caplog.at_level(logging.WARNING, logger="pygbs.api"):
        res = pygbs.score(df, scales=SCALE)
    assert "100.0 % of the rows (150 of 150) share their location" in caplog.text
    assert "--duplicates collapse" in caplog.text
    rep = res.summary["input"]["repeated_locations"]
    assert (rep["n_locations"], rep["n_repeated_locations"]) == (30, 30)
    caplog.clear()
    few = pd.concat([_hits(n=100), _hits(n=100).iloc[:5]], ignore_index=True)  # 10 of 105
    with caplog.at_level(logging.WARNING, logger="pygbs.api"):
        pygbs.score(few, scales=SCALE)
    assert "share their location" not in caplog.text


def test_collapse_equals_scoring_the_hand_collapsed_table():
    base = _hits(seed=2, n=60)
    # sites 0..9 get extra rows: 2 more wrong rows at 0..4 (majority flips or ties)
    extra = base.iloc[:10].copy()
    extra["hit@1"] = 0
    df = pd.concat([base, extra, extra.iloc[:5]], ignore_index=True)
    df = df.sample(frac=1.0, random_state=3).reset_index(drop=True)  # sites interleaved
    res = pygbs.score(df, scales=SCALE, scores=["unmarked", "marked"], duplicates="collapse")
    # by hand: mean of the +1/-1 codes per site, its sign, a tie takes the worst code (-1)
    codes = np.where(df["hit@1"] > 0, 1.0, -1.0)
    rows = []
    for (lon, lat), idx in df.groupby(["lon", "lat"], sort=False).indices.items():
        m = codes[idx].mean()
        rows.append((min(idx), lon, lat, np.sign(m) if m != 0 else -1.0))
    rows.sort()
    hand = pd.DataFrame(
        {"lon": [r[1] for r in rows], "lat": [r[2] for r in rows],
         "hit@1": [1 if r[3] > 0 else 0 for r in rows]}
    )  # fmt: skip
    direct = pygbs.score(hand, scales=SCALE, scores=["unmarked", "marked"])
    assert len(res.predictions) == 60
    np.testing.assert_array_equal(res.coded, np.where(hand["hit@1"] > 0, 1.0, -1.0))
    for s in ("unmarked", "marked"):
        assert res.headline(s, "nn10") == pytest.approx(direct.headline(s, "nn10"))
    info = res.summary["input"]["repeated_locations"]["collapsed"]
    n_ties = sum(1 for (_, idx) in df.groupby(["lon", "lat"]).indices.items()
                 if codes[idx].mean() == 0)  # fmt: skip
    assert info == {"n_rows": 75, "n_locations": 60, "n_ties": n_ties} and n_ties > 0
    # the model's accuracy is over every row, not the collapsed sites
    assert res.summary["input"]["accuracy"] == pytest.approx(df["hit@1"].mean())


def test_collapse_keeps_paired_tests_of_models_on_the_same_locations():
    df = _sites(per_site=3)
    other = df.assign(**{"hit@1": 1 - df["hit@1"]})
    other.loc[::3, "hit@1"] = 1  # a tie-free mix that differs per model
    cmp = pygbs.compare([df, other], names=["a", "b"], scales=SCALE, duplicates="collapse")
    # unmarked, marked and its excess over the accuracy-matched null, spread and its excess
    assert cmp.pairs is not None and len(cmp.pairs) == 5
    assert set(cmp.pairs["n_centres"]) <= {30}


# --------------------------------------------------------------------------- empty Parquet


def test_zero_byte_parquet_is_skipped_by_skip_empty(runner, tmp_path):
    a, empty = tmp_path / "a.csv", tmp_path / "empty.parquet"
    _hits().to_csv(a, index=False)
    empty.write_bytes(b"")
    out = tmp_path / "o"
    args = ["compare", str(a), str(empty), "--scale", "nn10", "--out", str(out)]
    r = runner.invoke(main, args)
    assert r.exit_code == 2 and "the file is empty" in r.output and "--skip-empty" in r.output
    r = runner.invoke(main, [*args, "--skip-empty"])
    assert r.exit_code == 0, r.output
    assert list(json.loads((out / "compare.json").read_text())["skipped"]) == [str(empty)]


# --------------------------------------------------------------------------- group-by


def _folder(tmp_path):
    """alpha: 3 models on shared locations; beta: 2 models on their own samples; gamma: a
    baseline without coordinates only; delta: regression with 88 % zero labels."""
    folder = tmp_path / "eval_results"
    folder.mkdir()
    a = _hits(seed=1, n=90)
    for i, m in enumerate(["NeRF", "xyz", "rbf"]):
        a.assign(**{"hit@1": (a["hit@1"] + i) % 2}).to_csv(
            folder / f"eval_alpha__test_{m}.csv", index=False
        )
    for i, m in enumerate(["NeRF", "xyz"]):
        _hits(seed=10 + i, n=70, lon0=-30).to_csv(folder / f"eval_beta__test_{m}.csv", index=False)
    _hits(seed=3)[["hit@1"]].to_csv(folder / "eval_gamma__test_no_prior.csv", index=False)
    for i, m in enumerate(["NeRF", "no_prior_regress"]):
        _regression(seed=20 + i, n=100, zero_share=0.88, lon0=60).to_csv(
            folder / f"eval_delta__test_{m}.csv", index=False
        )
    # a delta file with the relative error alone cannot be coded by the absolute error
    _regression(seed=22, n=100, lon0=60).drop(columns=["predictions", "labels"]).to_csv(
        folder / "eval_delta__test_xyz.csv", index=False
    )
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    (folder / "eval_alpha__test_empty.parquet").write_bytes(b"")
    return folder


def test_group_by_defaults_decide_per_dataset_and_record_it(runner, tmp_path, caplog):
    folder = _folder(tmp_path)
    out = tmp_path / "o"
    args = ["compare", str(folder), "--group-by", "dataset", "--scale", "nn10", "--out", str(out)]
    with caplog.at_level(logging.WARNING):
        r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    d = summary["datasets"]
    assert set(d) == {"alpha", "beta", "delta"}  # gamma's only file cannot be placed
    assert d["alpha"]["locations"] == "same" and d["alpha"]["pairs"]
    assert d["beta"]["locations"] == "own" and not d["beta"]["pairs"]
    assert "each model is scored on its own locations" in d["beta"]["locations_reason"]
    assert d["delta"]["value"] == "absolute_error" and "88.0 %" in d["delta"]["value_reason"]
    assert (
        "no predictions and labels"
        in d["delta"]["skipped"][str(folder / "eval_delta__test_xyz.csv")]
    )
    assert list(d["alpha"]["skipped"]) == [str(folder / "eval_alpha__test_empty.parquet")]
    skipped = summary["skipped_files"]
    assert str(folder / "notes.csv") in skipped
    assert "cannot be placed" in skipped[str(folder / "eval_gamma__test_no_prior.csv")]
    # each decision is printed too
    for what in ("own locations", "absolute error", "notes.csv", "eval_alpha__test_empty"):
        assert what in caplog.text
    # pairs for the dataset that shares locations only
    pairs = pd.read_csv(out / "pairs.csv")
    # 2 models x (unmarked, marked, marked excess, spread, spread excess)
    assert set(pairs["dataset"]) == {"alpha"} and len(pairs) == 2 * 5
    # beta: each model on its own locations, as scoring its file alone
    beta = pd.read_csv(out / "compare.csv").set_index("model")
    direct = pygbs.score(folder / "eval_beta__test_xyz.csv", scales=SCALE)
    assert beta.loc["xyz", "beta/marked_ssi@nn10"] == pytest.approx(
        direct.headline("marked", "nn10")
    )
    # delta: coded by the absolute error, R² and MAE reported
    reg = pd.read_csv(folder / "eval_delta__test_NeRF.csv")
    assert beta.loc["NeRF", "delta/mae"] == pytest.approx(
        mean_absolute_error(reg["labels"], reg["predictions"])
    )
    md = (out / "compare.md").read_text()
    assert "## Decisions" in md and "| model | alpha accuracy |" in md


def test_group_by_reports_every_problem_before_scoring(tmp_path, caplog):
    folder = _folder(tmp_path)
    bad = _hits(seed=1, n=90).astype({"hit@1": object})
    bad.loc[7, "hit@1"] = "x"
    bad.to_csv(folder / "eval_alpha__test_broken.csv", index=False)
    other = _hits(seed=11, n=70, lon0=-30)
    other.loc[3, "lat"] = 95.0
    other.to_csv(folder / "eval_beta__test_bad.csv", index=False)
    with caplog.at_level(logging.ERROR), pytest.raises(InputProblems) as err:
        compare_by_dataset([folder], scales=SCALE)
    problems = err.value.problems
    assert len(problems) == 2
    assert "row 7: non-numeric value 'x'" in problems[0] and problems[0].startswith("alpha: ")
    assert "latitude 95.0 outside" in problems[1] and problems[1].startswith("beta: ")
    assert "2 problems in the input files, nothing was scored" in str(err.value)
    assert caplog.text.count("ERROR") == 2
    # --strict adds the skips and the absolute-error fallback to the problems
    with pytest.raises(InputProblems) as err:
        compare_by_dataset([folder], scales=SCALE, strict=True)
    text = "\n".join(err.value.problems)
    assert len(err.value.problems) == 6
    for what in ("notes.csv", "eval_gamma__test_no_prior", "empty.parquet", "labels near zero"):
        assert what in text


def test_long_table_carries_any_aggregate_field():
    a, b = _hits(seed=1), _hits(seed=2)
    cmp = pygbs.compare([a, b.assign(lon=a["lon"], lat=a["lat"])], names=["m1", "m2"],
                        scales=SCALE, null="none")  # fmt: skip
    for i, (name, res) in enumerate(cmp.results.items()):  # a field added by a later version
        doc = res.summary_dict()
        doc["aggregates"]["marked_ssi"]["nn10"]["excess"] = float(i) + 0.5
        doc["aggregates"]["marked_ssi"]["nn10"]["p_excess"] = 0.01
        cmp.results[name] = pygbs.GeoBiasResult.from_summary(res.centres, doc)
    grouped = GroupedComparison.combine({"ds": cmp})
    long = grouped.long_table()
    marked = long[long["score"] == "marked_ssi"].set_index("model")
    assert list(marked["excess"]) == [0.5, 1.5] and list(marked["p_excess"]) == [0.01, 0.01]
    unmarked = long[long["score"] == "unmarked_ssi"]
    assert unmarked["excess"].isna().all()
    agg = cmp.results["m2"].summary["aggregates"]["marked_ssi"]["nn10"]
    assert marked.loc["m2", "value"] == agg["mean"]
    assert (marked.loc["m2", "ci_low"], marked.loc["m2", "ci_high"]) == (
        agg["ci_low"], agg["ci_high"]
    )  # fmt: skip


def test_group_by_pairs_the_files_that_share_locations(tmp_path):
    """A dataset whose files hold two samples: own locations, and paired tests among the
    larger group; a baseline whose row count matches no file cannot be placed."""
    folder = tmp_path / "eval_results"
    folder.mkdir()
    shared, other = _hits(seed=1, n=80), _hits(seed=2, n=60, lon0=-40)
    for i, m in enumerate(["NeRF", "xyz", "rbf"]):
        shared.assign(**{"hit@1": (shared["hit@1"] + i) % 2}).to_csv(
            folder / f"eval_eps__test_{m}.csv", index=False
        )
    other.to_csv(folder / "eval_eps__test_wrap.csv", index=False)
    _hits(seed=3, n=50)[["hit@1"]].to_csv(folder / "eval_eps__test_no_prior.csv", index=False)
    grouped = compare_by_dataset([folder], scales=SCALE)
    d = grouped.decisions["datasets"]["eps"]
    assert d["locations"] == "own" and d["paired_models"] == [
        "NeRF",
        "rbf",
        "xyz",
    ]  # file-name order
    assert (
        "has 50 rows but coords_from" in d["skipped"][str(folder / "eval_eps__test_no_prior.csv")]
    )
    pairs = grouped.pairs()
    assert set(pairs["model_b"]) == {"NeRF"} and set(pairs["model_a"]) == {"xyz", "rbf"}
    # the paired difference is the difference of the two models' own headline means here
    # (same centres, every centre scored for both)
    cmp = grouped.comparisons["eps"]
    row = pairs[(pairs.model_a == "xyz") & (pairs.score == "unmarked")].iloc[0]
    assert row["diff"] == pytest.approx(0.0)  # same locations: the same unmarked SSI
    assert cmp.results["wrap"].summary["input"]["n_valid"] == 60
