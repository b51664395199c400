"""``encoders zoo --debias-lambdas``: runs per encoder and weight, tradeoff.csv (accuracy,
geo-bias, paired differences against weight 0, Pareto front, predictions), tradeoff.png,
the report's section, resume; the Pareto front by hand. The geo-bias loss is the stand-in
of ``geo_stub`` (the wiring is tested, not the loss)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from encoders.cli import main
from encoders.data import load_dataset
from encoders.tradeoff import pareto_front, run_name
from encoders.zoo import output_files, run_zoo

TINY = {"spa_embed_dim": 16, "hidden_dim": 16}
TRAIN = {"epochs": 1, "batch_size": 100}
SCALES = ("100km", "1000km", "nn50")


@pytest.fixture(scope="module")
def tiny():
    return load_dataset("synthetic-vmf", n_train=300, n_val=60, n_test=150, num_classes=5, seed=0)


def test_pareto_front_by_hand():
    acc = np.array([0.5, 0.6, 0.6, 0.4, 0.7, np.nan])
    bias = np.array([1.0, 1.0, 2.0, 0.5, 3.0, 0.1])
    # (0.6, 1.0) beats (0.5, 1.0) and (0.6, 2.0); (0.4, 0.5) and (0.7, 3.0) are extremes
    np.testing.assert_array_equal(pareto_front(acc, bias), [False, True, False, True, True, False])
    assert pareto_front(np.array([0.5, 0.5]), np.array([1.0, 1.0])).all()  # ties: both
    assert run_name("xyz", 0.0) == "xyz" and run_name("xyz", 0.5) == "xyz@debias0.5"


def test_zoo_tradeoff_table_plot_report_and_resume(geo_stub, tiny, tmp_path):
    res = run_zoo(tiny, tmp_path, encoders=["xyz"], hparams=TINY, trainer_options=TRAIN,
                  preset="full",
                  debias_lambdas=[0.5, 0.0], progress=False)  # fmt: skip
    assert res.table["model"].tolist() == ["no_prior", "xyz", "xyz@debias0.5"]
    assert res.table["debias_lambda"].tolist() == [0.0, 0.0, 0.5]
    run = json.loads((tmp_path / "runs" / "xyz@debias0.5" / "metrics.json").read_text())
    # the zoo's default kind and scale of the term (docs/debiasing.md)
    assert run["trainer"]["debias"] == "performance-ssi" and run["trainer"]["debias_lambda"] == 0.5
    assert run["trainer"]["debias_scale"] == "nn50"
    base = json.loads((tmp_path / "runs" / "xyz" / "metrics.json").read_text())
    assert base["trainer"]["debias_lambda"] == 0.0 and "train_geo_loss" not in base["epochs"][0]

    trade = pd.read_csv(tmp_path / "tradeoff.csv")
    assert trade["model"].tolist() == ["no_prior", "xyz", "xyz"]
    assert trade["debias_lambda"].tolist() == [0.0, 0.0, 0.5]
    geo = [f"{s}@{sc}" for s in ("marked_ssi", "performance_ssi") for sc in SCALES]
    diffs = [c + suf for c in geo for suf in ("_diff", "_diff_ci_low", "_diff_ci_high")]
    assert list(trade.columns[:5]) == ["model", "method", "debias_lambda", "seed", "top1"]
    assert trade["method"].tolist() == ["none", "none", "geobias-loss"]
    assert set(geo + diffs + ["pareto", "predictions"]) <= set(trade.columns)
    assert "unmarked_ssi@100km" not in trade.columns
    # accuracy and scores are those of the zoo table, row by row
    zoo = pd.read_csv(tmp_path / "zoo.csv")
    np.testing.assert_allclose(trade["top1"], zoo["top1"])
    np.testing.assert_allclose(trade[geo].to_numpy(float), zoo[geo].to_numpy(float))
    # predictions: paths relative to OUT whose hit@1 gives the row's top-1
    for _, row in trade.iterrows():
        pred = pd.read_csv(tmp_path / row["predictions"], index_col=0)
        assert row["top1"] == pytest.approx(pred["hit@1"].mean())
    assert trade.loc[2, "predictions"] == "predictions/xyz@debias0.5.csv"
    # the paired difference is the mean over the centres scored for both runs, a minus b
    comp = res.comparison
    for col in ("marked_ssi@nn50", "performance_ssi@1000km"):
        score, scale = col.split("@")
        a = comp.results["xyz@debias0.5"].centres
        b = comp.results["xyz"].centres
        a, b = a[a["scale"] == scale][score].to_numpy(), b[b["scale"] == scale][score].to_numpy()
        both = np.isfinite(a) & np.isfinite(b)
        assert trade.loc[2, col + "_diff"] == pytest.approx(np.mean(a[both] - b[both]))
        assert trade.loc[2, col + "_diff_ci_low"] <= trade.loc[2, col + "_diff"]
        assert trade.loc[2, col + "_diff"] <= trade.loc[2, col + "_diff_ci_high"]
    assert trade.loc[:1, diffs].isna().all().all()  # weight 0: the reference itself
    # the Pareto front on (top1, marked SSI): at the term's scale (nn50, the default), or,
    # where the runs cannot be told apart there, at the first scale where they can
    meta = json.loads((tmp_path / "zoo.json").read_text())
    bias = meta["tradeoff"]["geo_bias"]
    order = ["marked_ssi@nn50", "marked_ssi@100km", "marked_ssi@1000km"]
    assert bias == [c for c in order if trade[c].dropna().nunique() > 1][0]
    front = pareto_front(trade["top1"].to_numpy(), trade[bias].to_numpy())
    assert trade["pareto"].tolist() == front.tolist() and front.any()

    png = (tmp_path / "tradeoff.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    html = (tmp_path / "report.html").read_text()
    assert "Accuracy against geo-bias: the weight of the geo-bias term" in html
    assert html.index("the weight of the geo-bias term") < html.index("<h2>Where?")
    assert meta["debias_lambdas"] == [0.0, 0.5] and "performance" in meta["scores"]
    files = output_files(tmp_path, res.table["model"])
    assert {"tradeoff.csv", "tradeoff.png", "runs/xyz@debias0.5/model.pt",
            "predictions/xyz@debias0.5.csv"} <= files  # fmt: skip

    # resume: every run is reused, the table is the same
    stamp = (tmp_path / "predictions" / "xyz@debias0.5.csv").stat().st_mtime_ns
    built = len(geo_stub.built)
    run_zoo(tiny, tmp_path, encoders=["xyz"], hparams=TINY, trainer_options=TRAIN,
                  preset="full",
            debias_lambdas=[0.0, 0.5], progress=False, resume=True, report=False)  # fmt: skip
    assert (tmp_path / "predictions" / "xyz@debias0.5.csv").stat().st_mtime_ns == stamp
    assert len(geo_stub.built) == built
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "tradeoff.csv"), trade)


def test_zoo_without_lambdas_writes_no_tradeoff(tiny, tmp_path):
    res = run_zoo(tiny, tmp_path, encoders=["xyz"], hparams=TINY, trainer_options=TRAIN,
                  preset="full",
                  score=False, progress=False)  # fmt: skip
    assert "debias_lambda" not in res.table.columns
    assert not (tmp_path / "tradeoff.csv").exists()
    assert not any(p.name.startswith("xyz@") for p in (tmp_path / "runs").iterdir())


def test_zoo_cli_lambdas(geo_stub, tmp_path):
    data = ["--dataset", "synthetic-vmf", "--data-option", "n_train=200", "--data-option",
            "n_val=40", "--data-option", "n_test=40", "--data-option", "num_classes=5"]  # fmt: skip
    small = ["--epochs", "1", "--batch-size", "100", "--hparam", "spa_embed_dim=16",
             "--hparam", "hidden_dim=16", "--no-progress"]  # fmt: skip
    runner = CliRunner()
    out = tmp_path / "zoo"
    res = runner.invoke(main, ["zoo", *data, *small, "--encoders", "xyz", "--no-score",
                               "--debias-lambdas", "0.25", "--debias", "sri-lag",
                               "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        "no_prior", "xyz", "xyz@debias0.25"
    ]  # fmt: skip
    doc = json.loads((out / "runs" / "xyz@debias0.25" / "metrics.json").read_text())
    assert doc["trainer"]["debias"] == "sri-lag" and doc["trainer"]["debias_lambda"] == 0.25
    for extra, word in (
        (["--debias-lambdas", "0,x"], "'x' is not a weight"),
        (["--debias-lambdas", "-1"], "'-1' is not a weight"),
        (["--debias", "marked-ssi"], "--debias needs --debias-lambdas"),
        (["--debias-lambdas", "1", "--debias", "moran"], "unknown geo-bias kind"),
    ):
        res = runner.invoke(main, ["zoo", *data, "--encoders", "xyz", *extra, "--out",
                                   str(tmp_path / "bad")])  # fmt: skip
        assert res.exit_code == 2 and word in res.output, (extra, res.output)


def test_tradeoff_scale_choice():
    from encoders.train import Trainer
    from encoders.zoo import _bias_column

    t = pd.DataFrame({"marked_ssi@100km": [0.2, 0.2, np.nan], "marked_ssi@1000km": [1.0, 2.0, 3.0],
                      "marked_ssi@nn50": [4.0, 5.0, 6.0], "top1": [0.1, 0.2, 0.3]})  # fmt: skip
    assert _bias_column(t, Trainer(debias_scale="nn50")) == "marked_ssi@nn50"  # the term's scale
    assert _bias_column(t, Trainer(debias_scale="100km")) == "marked_ssi@1000km"  # flat: next
    assert _bias_column(t, Trainer(debias_scale="5km")) == "marked_ssi@1000km"  # not scored
    flat = t.assign(**{"marked_ssi@1000km": 1.0, "marked_ssi@nn50": np.nan})
    assert _bias_column(flat, Trainer()) == "marked_ssi@100km"  # nothing varies: first scored
    assert _bias_column(t[["top1"]], Trainer()) is None


def test_zoo_cli_tradeoff_with_the_real_loss(tmp_path):
    out = tmp_path / "zoo"
    res = CliRunner().invoke(main, [
        "zoo", "--dataset", "synthetic-vmf", "--data-option", "n_train=600", "--data-option",
        "n_val=60", "--data-option", "n_test=300", "--data-option", "num_classes=5",
        "--encoders", "xyz", "--epochs", "1", "--batch-size", "200", "--hparam",
        "spa_embed_dim=16", "--hparam", "hidden_dim=16", "--no-progress", "--no-report",
        "--debias-lambdas", "0,1", "--debias-scale", "nn20", "--out", str(out),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    trade = pd.read_csv(out / "tradeoff.csv")
    assert trade[["model", "debias_lambda"]].values.tolist() == [
        ["no_prior", 0.0], ["xyz", 0.0], ["xyz", 1.0]
    ]  # fmt: skip
    assert np.isfinite(trade.loc[2, "marked_ssi@nn100_diff"])  # the demo preset's scale
    assert (out / "tradeoff.png").is_file()
    doc = json.loads((out / "runs" / "xyz@debias1" / "metrics.json").read_text())
    assert doc["trainer"]["debias_scale"] == "nn20" and "train_geo_loss" in doc["epochs"][0]


def test_zoo_cli_scales_replace_the_presets(geo_stub, tmp_path):
    data = ["--dataset", "synthetic-vmf", "--data-option", "n_train=200", "--data-option",
            "n_val=40", "--data-option", "n_test=150", "--data-option",
            "num_classes=5"]  # fmt: skip
    small = ["--epochs", "1", "--batch-size", "100", "--hparam", "spa_embed_dim=16",
             "--hparam", "hidden_dim=16", "--no-progress", "--no-report"]  # fmt: skip
    runner = CliRunner()
    out = tmp_path / "zoo"
    res = runner.invoke(main, ["zoo", *data, *small, "--encoders", "xyz", "--debias-lambdas",
                               "0.5", "--scales", "nn20, 2000 km", "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "zoo.json").read_text())
    assert meta["scales"] == ["nn20", "2000km"]
    trade = pd.read_csv(out / "tradeoff.csv")
    geo = [c for c in trade.columns if "_ssi@" in c and "_diff" not in c and "_excess" not in c]
    assert geo == ["marked_ssi@nn20", "marked_ssi@2000km", "performance_ssi@nn20",
                   "performance_ssi@2000km"]  # fmt: skip
    # the excess over the accuracy-matched null, and its paired difference
    assert {"marked_ssi@nn20_excess", "marked_ssi@nn20_excess_diff"} <= set(trade.columns)
    # the paired differences at the requested scales: every centre is scored at nn20
    for c in ("marked_ssi@nn20", "performance_ssi@nn20"):
        row = trade.iloc[2]
        assert row[c + "_diff_ci_low"] <= row[c + "_diff"] <= row[c + "_diff_ci_high"]
    zoo = pd.read_csv(out / "zoo.csv")
    assert not any(c.endswith(("@nn100", "@nn200")) for c in zoo.columns)  # not the preset's
    for value, word in (
        ("nn20,5mi", "5mi"),
        ("nn20,nn20", "given twice"),
        ("100km,100 km", "given twice"),
        (",", "at least one"),
        ("nn0", "nn0"),
    ):
        res = runner.invoke(main, ["zoo", *data, "--encoders", "xyz", "--scales", value,
                                   "--out", str(tmp_path / "bad")])  # fmt: skip
        errors = [line for line in res.output.splitlines() if line.lower().startswith("error")]
        assert res.exit_code == 2 and len(errors) == 1, (value, res.output)
        assert word in errors[0] and "--scales" in errors[0], (value, res.output)
    assert not (tmp_path / "bad").exists()
