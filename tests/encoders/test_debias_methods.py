"""Re-weighting, group DRO and the sparse-region data with its ceiling (docs/debiasing.md)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from encoders.ceiling import ceiling_table
from encoders.data import load_dataset
from encoders.data.synthetic_vmf import location_posterior, region_of
from encoders.debias import GroupDRO, equal_area_cells, inverse_density_weights
from encoders.losses import full_loss
from pygbs.errors import InputError


def test_inverse_density_weights_by_hand() -> None:
    # cells: a holds 3 samples, b 1: K = 2, n = 4 -> w = 4 / (2 * 3) and 4 / (2 * 1)
    w = inverse_density_weights(np.array([7, 7, 7, 2]))
    np.testing.assert_allclose(w, [2 / 3, 2 / 3, 2 / 3, 2.0])
    assert w.sum() == pytest.approx(4.0)  # mean 1
    # each cell carries the same total weight
    assert w[:3].sum() == pytest.approx(w[3:].sum())


def test_equal_area_cells_group_near_points() -> None:
    lonlat = np.array([[0.0, 0.0], [0.1, 0.1], [90.0, 0.0], [-120.0, 45.0]])
    cells = equal_area_cells(lonlat, 1000.0)
    assert cells[0] == cells[1]
    assert len(np.unique(cells)) == 3
    assert cells.min() == 0 and cells.max() == 2


def test_group_dro_update_by_hand() -> None:
    dro = GroupDRO(3, step=0.5)
    losses = torch.tensor([1.0, 3.0, 2.0, 2.0], dtype=torch.float64)
    groups = torch.tensor([0, 0, 1, 1])  # group 0: mean 2, group 1: mean 2, group 2 absent
    out = dro(losses, groups)
    q = np.array([1 / 3 * np.exp(1.0), 1 / 3 * np.exp(1.0), 1 / 3])
    q /= q.sum()
    np.testing.assert_allclose(dro.q.numpy(), q)
    assert dro.q.sum().item() == pytest.approx(1.0)
    # the robust loss weighs the present groups' means by their (normalised) weights
    assert out.item() == pytest.approx(2.0)


def test_group_dro_moves_to_the_worst_group() -> None:
    dro = GroupDRO(2, step=0.1)
    groups = torch.tensor([0, 0, 1, 1])
    losses = torch.tensor([1.0, 1.0, 3.0, 3.0], dtype=torch.float64)
    previous = 0.5
    for _ in range(20):
        out = dro(losses, groups)
        assert dro.q[1].item() > previous  # each step moves weight to the worse group
        previous = dro.q[1].item()
    assert dro.q[1].item() > 0.95
    # the robust loss approaches the worst group's loss
    assert 2.9 < out.item() <= 3.0


def test_group_dro_gradient_weights_the_groups() -> None:
    dro = GroupDRO(2, step=1.0)
    dro.q = torch.tensor([0.25, 0.75], dtype=torch.float64)
    losses = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    dro(losses, torch.tensor([0, 1])).backward()
    # equal losses leave the weights as they were; the gradient of each loss is its weight
    np.testing.assert_allclose(losses.grad.numpy(), [0.25, 0.75])


def test_per_sample_full_loss_means_to_full_loss() -> None:
    g = torch.Generator().manual_seed(0)
    pos, rand = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    each = full_loss(pos, y, rand, rand_weight=0.7, reduction="none")
    assert each.shape == (6,)
    assert each.mean().item() == pytest.approx(full_loss(pos, y, rand, rand_weight=0.7).item())


def test_sparse_data_thins_the_caps_in_training_only() -> None:
    ds = load_dataset("synthetic-vmf-sparse", n_train=3000, n_val=300, n_test=3000, seed=3)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (3000, 300, 3000)
    inside_train = (region_of(ds.train.lonlat) >= 0).mean()
    inside_test = (region_of(ds.test.lonlat) >= 0).mean()
    # kept with probability 1/15: about 15 times fewer (sampling noise allowed)
    assert 8 < inside_test / inside_train < 30
    again = load_dataset("synthetic-vmf-sparse", n_train=3000, n_val=300, n_test=3000, seed=3)
    np.testing.assert_array_equal(ds.train.lonlat, again.train.lonlat)
    with pytest.raises(InputError, match="train_region_rate"):
        load_dataset("synthetic-vmf-sparse", n_train=10, n_val=5, n_test=5, train_region_rate=0)


def test_location_posterior_matches_the_labels() -> None:
    """The posterior is calibrated: its mean probability of the true class, and its top-1,
    agree with what the labels show (no vagrants, so locations alone decide)."""
    ds = load_dataset("synthetic-vmf-biased", n_train=100, n_val=10, n_test=20_000,
                      vagrant_fraction=0.0, seed=1)  # fmt: skip
    post = location_posterior(ds, ds.test.lonlat)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    top = post.argmax(axis=1)
    conf = post.max(axis=1)
    # calibration: predicted confidence of the top class equals its hit rate
    assert abs(conf.mean() - (top == ds.test.label).mean()) < 0.01


def test_ceiling_of_the_biased_data_has_no_headroom_in_the_caps() -> None:
    ds = load_dataset("synthetic-vmf-biased", n_train=100, n_val=10, n_test=10_000, seed=0)
    t = ceiling_table(ds).set_index("predictor")
    assert t.loc["location_posterior", "top1_inside"] < 0.3
    assert t.loc["location_posterior", "top1_outside"] > t.loc["image_only", "top1_outside"] + 0.2
    sparse = load_dataset("synthetic-vmf-sparse", n_train=100, n_val=10, n_test=10_000, seed=0)
    s = ceiling_table(sparse).set_index("predictor")
    # the sparse data's caps have headroom: the true posterior beats the image there
    assert s.loc["location_posterior", "top1_inside"] > s.loc["image_only", "top1_inside"] + 0.2


def test_run_names_of_methods_and_seeds() -> None:
    from encoders.tradeoff import run_name

    assert run_name("xyz", 0.0) == "xyz"
    assert run_name("xyz", 0.5) == "xyz@debias0.5"
    assert run_name("xyz", 1.0, "reweight") == "xyz@reweight1"
    assert run_name("xyz", 2.0, "group-dro", 2) == "xyz@group-dro2@seed2"
    assert run_name("xyz", 0.0, "reweight", 1) == "xyz@seed1"


def test_region_columns_by_hand() -> None:
    import pandas as pd

    from encoders.tradeoff import ZooRun, add_region_columns

    runs = [ZooRun("m", "m", 0.0, seed=0), ZooRun("m@reweight1", "m", 1.0, "reweight", seed=0)]
    table = pd.DataFrame({"model": ["m", "m"], "debias_lambda": [0.0, 1.0]})
    rng = np.random.default_rng(0)
    n = 400
    lonlat = np.column_stack([rng.uniform(-170, 170, n), rng.uniform(-60, 60, n)])
    region = np.where(np.arange(n) < 200, np.arange(n) % 2, -1)  # regions 0 and 1, then outside
    base = np.zeros(n)
    base[200:] = 1.0  # right everywhere outside, wrong inside
    treated = base.copy()
    treated[:200:2] = 1.0  # region 0 now right: inside accuracy 0.5
    out = add_region_columns(table, runs, {"m": base, "m@reweight1": treated}, lonlat, region,
                             n_boot=200)  # fmt: skip
    assert out.loc[0, "region_top1"] == 0.0 and np.isnan(out.loc[0, "region_top1_diff"])
    assert out.loc[1, "region_top1"] == pytest.approx(0.5)
    assert out.loc[1, "region_top1_diff"] == pytest.approx(0.5)
    assert out.loc[1, "region_top1_diff_ci_low"] > 0  # a clear rise has its interval above 0
    assert out.loc[1, "worst_region_top1"] == 0.0  # region 1 is still all wrong
    assert out.loc[1, "region_gap"] == pytest.approx(0.5)


def test_trainer_refuses_bad_method_options() -> None:
    from encoders import Trainer

    with pytest.raises(ValueError, match="debias_method"):
        Trainer(debias_method="nope", debias_lambda=1.0)._check()
    with pytest.raises(ValueError, match="debias_cell_km"):
        Trainer(debias_method="reweight", debias_lambda=1.0, debias_cell_km=0)._check()
    # re-weighting needs no geo-bias kind
    Trainer(debias_method="reweight", debias_lambda=1.0)._check()


def test_cli_refuses_methods_without_weights(tmp_path) -> None:
    from click.testing import CliRunner

    from encoders.cli import main

    res = CliRunner().invoke(
        main,
        [
            "train",
            "--encoder",
            "xyz",
            "--dataset",
            "synthetic-vmf",
            "--debias-method",
            "reweight",
            "--out",
            str(tmp_path / "a"),
        ],
    )
    assert res.exit_code == 2 and "--debias-method needs --debias-lambda" in res.output
    res = CliRunner().invoke(main, ["zoo", "--dataset", "synthetic-vmf", "--encoders", "xyz",
                                    "--debias-methods", "bogus", "--debias-lambdas", "0,1",
                                    "--out", str(tmp_path / "b")])  # fmt: skip
    assert res.exit_code == 2 and "unknown method 'bogus'" in res.output


def test_group_dro_weights_survive_a_resume(tmp_path) -> None:
    """A resumed group-DRO run continues with the saved group weights (equal results)."""
    from encoders import Trainer
    from encoders.train import train_and_evaluate

    ds = load_dataset("synthetic-vmf-sparse", n_train=600, n_val=100, n_test=100, seed=0)
    opts = {
        "batch_size": 200,
        "lr": 0.01,
        "progress": False,
        "logger": "none",
        "debias_method": "group-dro",
        "debias_lambda": 1.0,
        "debias_dro_step": 0.1,
    }
    hp = {"hidden_dim": 16, "num_hidden_layer": 1}
    full = train_and_evaluate("xyz", ds, tmp_path / "full", trainer=Trainer(epochs=2, **opts),
                              hparams=hp)  # fmt: skip
    train_and_evaluate("xyz", ds, tmp_path / "part", trainer=Trainer(epochs=1, **opts), hparams=hp)
    resumed = train_and_evaluate(
        "xyz", ds, tmp_path / "part", trainer=Trainer(epochs=2, resume=True, **opts), hparams=hp
    )
    assert resumed["test"] == full["test"]
    ckpt = torch.load(tmp_path / "full" / "checkpoint.ckpt", weights_only=False)
    q = ckpt["encoders_terms"]["dro"]["q"]
    assert q.sum().item() == pytest.approx(1.0) and not torch.allclose(q, q.mean())


def test_zoo_compares_methods_over_seeds(tmp_path) -> None:
    import pandas as pd

    from encoders import run_zoo

    ds = load_dataset("synthetic-vmf-sparse", n_train=1500, n_val=150, n_test=1200, seed=0)
    res = run_zoo(ds, tmp_path, encoders=["xyz"], trainer_options={"epochs": 1},
                  hparams={"hidden_dim": 16}, debias_lambdas=[1.0],
                  debias_methods=["reweight", "group-dro"], seeds=2, scales=["nn50"],
                  report=False, progress=False)  # fmt: skip
    assert res.table["model"].tolist() == [
        "no_prior", "xyz", "xyz@reweight1", "xyz@group-dro1",
        "xyz@seed1", "xyz@reweight1@seed1", "xyz@group-dro1@seed1",
    ]  # fmt: skip
    trade = pd.read_csv(tmp_path / "tradeoff.csv")
    assert list(trade.columns[:5]) == ["model", "method", "debias_lambda", "seed", "top1"]
    assert trade["seed"].tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert trade["method"].tolist() == ["none", "none", "reweight", "group-dro"] + [
        "none", "reweight", "group-dro"]  # fmt: skip
    inside = region_of(ds.test.lonlat) >= 0
    hits = {}
    for _, row in trade.iterrows():
        h = pd.read_csv(tmp_path / row["predictions"])["hit@1"].to_numpy(float)
        hits[row["predictions"]] = h
        assert row["region_top1"] == pytest.approx(h[inside].mean())
        assert row["worst_region_top1"] <= row["region_top1"] + 1e-12
    # the difference is against the untreated run of the same seed
    row = trade.iloc[5]
    base = hits["predictions/xyz@seed1.csv"][inside]
    own = hits[row["predictions"]][inside]
    assert row["region_top1_diff"] == pytest.approx((own - base).mean())
    assert row["region_top1_diff_ci_low"] <= row["region_top1_diff"] <= row[
        "region_top1_diff_ci_high"]  # fmt: skip
    runs = {r: (tmp_path / "runs" / r / "metrics.json").read_text() for r in ("xyz@reweight1",)}
    assert '"debias_method": "reweight"' in runs["xyz@reweight1"]
