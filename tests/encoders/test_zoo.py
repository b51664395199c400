"""The zoo: files, table, resume, scoring through pygbs.compare (when available)."""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from encoders.data import load_dataset
from encoders.zoo import DEMO_SCALES, PRESETS, SCALES, run_zoo, zoo_markdown

TINY = {"spa_embed_dim": 16, "hidden_dim": 16}
TRAIN = {"epochs": 1, "batch_size": 100}


@pytest.fixture(scope="module")
def tiny():
    return load_dataset("synthetic-vmf", n_train=300, n_val=60, n_test=120, num_classes=5, seed=0)


def test_zoo_without_scoring_and_resume(tiny, tmp_path):
    res = run_zoo(tiny, tmp_path, encoders=["xyz", "wrap_ffn"], hparams=TINY,
                  trainer_options=TRAIN, score=False, progress=False)  # fmt: skip
    table = pd.read_csv(tmp_path / "zoo.csv")
    assert table["model"].tolist() == ["no_prior", "xyz", "wrap_ffn"]
    assert {"top1", "top3", "mrr"} <= set(table.columns)
    for m in table["model"]:
        df = pd.read_csv(tmp_path / "predictions" / f"{m}.csv", index_col=0)
        assert len(df) == 120
        # zoo.csv metrics are the means of the exported per-sample columns
        row = table.set_index("model").loc[m]
        assert row["top1"] == pytest.approx(df["hit@1"].mean())
        assert row["mrr"] == pytest.approx(df["reciprocal_rank"].mean())
    assert (tmp_path / "runs" / "xyz" / "model.pt").is_file()
    assert "| no_prior |" in (tmp_path / "zoo.md").read_text()
    pd.testing.assert_frame_equal(res.table.reset_index(drop=True), table, check_dtype=False)
    stamp = (tmp_path / "predictions" / "xyz.csv").stat().st_mtime_ns
    run_zoo(tiny, tmp_path, encoders=["xyz"], hparams=TINY, trainer_options=TRAIN, score=False,
            resume=True, progress=False)  # fmt: skip
    assert (tmp_path / "predictions" / "xyz.csv").stat().st_mtime_ns == stamp


def test_zoo_scores_with_pygbs(tiny, tmp_path):
    pygbs = pytest.importorskip("pygbs")
    if not hasattr(pygbs, "compare"):
        pytest.skip("pygbs.compare not implemented yet")
    # the full preset scores at the default scales (SCALES); demo has its own
    res = run_zoo(tiny, tmp_path, encoders=["xyz"], hparams=TINY, trainer_options=TRAIN,
                  preset="full", report=False, progress=False)  # fmt: skip
    cols = set(res.table.columns)
    for score in ("unmarked_ssi", "marked_ssi"):
        for scale in ("100km", "1000km", "nn50"):
            assert f"{score}@{scale}" in cols
    # identical locations and coding -> the unmarked SSI (location-only) is the same for all
    nn50 = res.table["unmarked_ssi@nn50"].to_numpy()
    assert np.isfinite(nn50).all() and np.allclose(nn50, nn50[0])
    assert (tmp_path / "compare").is_dir()


def test_zoo_scores_at_the_presets_scales(tiny, tmp_path, monkeypatch):
    pytest.importorskip("pygbs")
    assert PRESETS["full"].scales == SCALES and PRESETS["demo"].scales == DEMO_SCALES
    monkeypatch.setitem(PRESETS, "demo", replace(PRESETS["demo"], scales=("nn10", "500km")))
    res = run_zoo(tiny, tmp_path, encoders=["xyz"], hparams=TINY, trainer_options=TRAIN,
                  report=False, progress=False)  # fmt: skip
    geo = [c for c in res.table.columns if "@" in c]
    means = [f"{score}@{scale}"
             for score in ("unmarked_ssi", "marked_ssi", "performance_ssi", "spread")
             for scale in ("nn10", "500km")]  # fmt: skip
    excess = [f"{score}@{scale}_excess"
              for score in ("marked_ssi", "performance_ssi", "spread")
              for scale in ("nn10", "500km")]  # fmt: skip
    assert geo == means + excess
    assert json.loads((tmp_path / "zoo.json").read_text())["scales"] == ["nn10", "500km"]
    compared = pd.read_csv(tmp_path / "compare" / "compare.csv")
    assert {"marked_ssi@nn10", "marked_ssi@500km"} <= set(compared.columns)
    assert not any("nn50" in c or "100km" in c for c in compared.columns)


def test_demo_preset_scores_every_centre_and_warns_about_nothing(tmp_path, caplog):
    # the two Sphere2Vec encoders whose registry default is TorchSpatial's degenerate
    # max-only list, on the demo's dataset and scales: no warning of any kind, no log
    # warning (e.g. pygbs's constant-neighbourhood note) and every centre scored
    sizes = {"n_train": 1000, "n_val": 100, "n_test": 400}
    kw = dict(encoders=["Sphere2Vec-sphereM+", "Sphere2Vec-dfs"], dataset_options=sizes,
              trainer_options={"epochs": 1, "batch_size": 250}, report=False,
              progress=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING):
            res = run_zoo("synthetic-vmf-biased", tmp_path, **kw)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    meta = json.loads((tmp_path / "zoo.json").read_text())
    assert meta["dataset"]["name"] == "synthetic-vmf-biased"
    assert meta["models"]["Sphere2Vec-dfs"]["hparams"]["scales"] == "geometric"
    for name in ("no_prior", "Sphere2Vec-sphereM+"):
        summary = json.loads((tmp_path / "compare" / name / "summary.json").read_text())
        for scale in DEMO_SCALES:
            marked = summary["aggregates"]["marked_ssi"][scale]
            assert (marked["n_scored"], marked["n_skipped"], marked["n_constant"]) == (400, 0, 0)
    assert np.isfinite(res.table[[f"marked_ssi@{s}" for s in DEMO_SCALES]].to_numpy()).all()
    # the warning stays for a user who asks for the degenerate scales
    with pytest.warns(UserWarning, match="max_only"):
        run_zoo("synthetic-vmf-biased", tmp_path / "parity", encoders=["Sphere2Vec-dfs"],
                hparams={"scales": "max_only"}, score=False, **{k: v for k, v in kw.items()
                                                                 if k != "encoders"})  # fmt: skip


def test_zoo_rejects_unknown_names(tiny, tmp_path):
    from pygbs.errors import InputError

    with pytest.raises(InputError, match="unknown encoder"):
        run_zoo(tiny, tmp_path, encoders=["resnet"], score=False)
    with pytest.raises(InputError, match="preset"):
        run_zoo(tiny, tmp_path, preset="huge", score=False)


def test_presets_and_markdown():
    assert set(PRESETS) == {"demo", "full"}
    t = pd.DataFrame(
        {"model": ["a"], "top1": [0.5123], "mrr": [0.61234], "marked_ssi@nn50": [1.23456],
         "x": [np.nan]}
    )  # fmt: skip
    md = zoo_markdown(t, "classification", "T")
    assert "| a | 51.23 | 0.6123 | 1.235 | – |" in md and md.startswith("# T")


def test_zoo_regression_table(tmp_path):
    ds = load_dataset("synthetic-vmf", task="regression", n_train=200, n_val=40, n_test=40,
                      num_classes=5, feature_dim=3)  # fmt: skip
    res = run_zoo(ds, tmp_path, encoders=["xyz"], hparams=TINY, trainer_options=TRAIN,
                  score=False, progress=False)  # fmt: skip
    assert res.table["model"].tolist() == ["no_prior", "xyz"]
    assert {"r2", "mae", "rmse"} <= set(res.table.columns)
    df = pd.read_csv(tmp_path / "predictions" / "xyz.csv")
    assert list(df.columns) == ["lon", "lat", "predictions", "labels", "relative_error"]
    rmse = float(np.sqrt(np.mean((df["predictions"] - df["labels"]) ** 2)))
    assert res.table.set_index("model").loc["xyz", "rmse"] == pytest.approx(rmse, rel=1e-5)


def test_zoo_resume_checks_each_runs_settings(tiny, tmp_path):
    import json

    from pygbs.errors import InputError

    run_zoo(tiny, tmp_path, encoders=["xyz"], hparams=TINY, trainer_options=TRAIN, score=False,
            progress=False)  # fmt: skip
    stamp = (tmp_path / "predictions" / "xyz.csv").stat().st_mtime_ns
    # another hyper-parameter: refused, naming the run and the setting; nothing rewritten
    with pytest.raises(InputError, match=r"runs/xyz: cannot resume: setting hparams.hidden_dim"):
        run_zoo(tiny, tmp_path, encoders=["xyz"], hparams={**TINY, "hidden_dim": 32},
                trainer_options=TRAIN, score=False, resume=True, progress=False)  # fmt: skip
    with pytest.raises(InputError, match=r"setting trainer.batch_size is 100"):
        run_zoo(tiny, tmp_path, encoders=["xyz"], hparams=TINY,
                trainer_options={**TRAIN, "batch_size": 50}, score=False, resume=True,
                progress=False)  # fmt: skip
    assert (tmp_path / "predictions" / "xyz.csv").stat().st_mtime_ns == stamp
    # more epochs: the finished run is not reused but trained on from its checkpoint, and
    # zoo.json records what the run really used
    run_zoo(tiny, tmp_path, encoders=["xyz"], hparams=TINY,
            trainer_options={**TRAIN, "epochs": 2}, score=False, resume=True,
            progress=False)  # fmt: skip
    log = json.loads((tmp_path / "runs" / "xyz" / "metrics.json").read_text())
    assert [e["epoch"] for e in log["epochs"]] == [1, 2]
    meta = json.loads((tmp_path / "zoo.json").read_text())
    assert meta["models"]["xyz"]["trainer"]["epochs"] == 2
    assert meta["models"]["xyz"]["hparams"]["hidden_dim"] == TINY["hidden_dim"]


def test_zoo_on_a_dask_cluster_matches_the_local_run(tiny, tmp_path):
    distributed = pytest.importorskip("distributed")
    # the full preset: scored at the default scales (SCALES)
    kw = dict(encoders=["xyz", "wrap_ffn"], hparams=TINY, trainer_options=TRAIN, device="cpu",
              preset="full", report=False, progress=False)  # fmt: skip
    local = run_zoo(tiny, tmp_path / "local", **kw)
    # one worker thread: models train one after the other, as in the local run
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster) as client:  # fmt: skip
        remote = run_zoo(tiny, tmp_path / "remote", scheduler=client, **kw)
    cols = [c for c in local.table.columns if c != "train_s"]
    pd.testing.assert_frame_equal(local.table[cols], remote.table[cols], check_exact=True)
    assert "marked_ssi@100km" in cols
    for name in ("no_prior", "xyz", "wrap_ffn"):
        a = tmp_path / "local" / "predictions" / f"{name}.csv"
        b = tmp_path / "remote" / "predictions" / f"{name}.csv"
        assert a.read_bytes() == b.read_bytes()
    for name in ("xyz", "wrap_ffn"):
        run = tmp_path / "remote" / "runs" / name
        assert (run / "model.pt").is_file()
        doc = json.loads((run / "metrics.json").read_text())
        assert doc["trainer"]["out_dir"] == str(tmp_path / "remote" / "runs" / name)
        ref = json.loads((tmp_path / "local" / "runs" / name / "metrics.json").read_text())
        assert doc["test"] == ref["test"]

        def untimed(epochs):
            return [{k: v for k, v in e.items() if k != "time_s"} for e in epochs]

        assert untimed(doc["epochs"]) == untimed(ref["epochs"]) and len(doc["epochs"]) == 1


@pytest.mark.slow
def test_zoo_cli_on_local_worker_processes(tmp_path):
    pytest.importorskip("distributed")
    from click.testing import CliRunner

    from encoders.cli import main

    args = ["zoo", "--dataset", "synthetic-vmf", "--encoders", "xyz,wrap_ffn",
            "--data-option", "n_train=300", "--data-option", "n_val=60",
            "--data-option", "n_test=120", "--data-option", "num_classes=5",
            "--hparam", "spa_embed_dim=16", "--hparam", "hidden_dim=16", "--epochs", "1",
            "--device", "cpu", "--no-report", "--no-progress"]  # fmt: skip
    r1 = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")])
    assert r1.exit_code == 0, r1.output
    r2 = CliRunner().invoke(main, [*args, "--scheduler", "local:2", "--out", str(tmp_path / "b")])
    assert r2.exit_code == 0, r2.output
    a = pd.read_csv(tmp_path / "a" / "zoo.csv").drop(columns="train_s")
    b = pd.read_csv(tmp_path / "b" / "zoo.csv").drop(columns="train_s")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_workers_of_a_machine_take_its_gpus_in_turn():
    from encoders._cluster import gpu_slots

    slots = gpu_slots(["tcp://10.0.0.2:4001", "tcp://10.0.0.1:4003", "tcp://10.0.0.1:4002",
                       "tcp://10.0.0.2:4000", "tcp://10.0.0.1:4001"])  # fmt: skip
    assert slots == {"tcp://10.0.0.1:4001": 0, "tcp://10.0.0.1:4002": 1, "tcp://10.0.0.1:4003": 2,
                     "tcp://10.0.0.2:4000": 0, "tcp://10.0.0.2:4001": 1}  # fmt: skip
    assert gpu_slots([]) == {}
