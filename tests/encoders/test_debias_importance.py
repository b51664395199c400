"""Importance re-weighting towards the test locations, and the training loss's optimum.

docs/debiasing.md: ``--debias-method importance`` (density-ratio weights from spherical
kernel density estimates) and the ``loss_optimum`` row of ``encoders.ceiling_table``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from encoders.ceiling import ceiling_table, loss_optimal_prior
from encoders.data import load_dataset
from encoders.data.synthetic_vmf import location_density, location_posterior, region_of
from encoders.debias import density_ratio_weights, kde_density


def _uniform_sphere(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180.0, 180.0, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    return np.column_stack([lon, lat])


def test_kde_of_a_uniform_sample_is_flat_and_scales_with_the_sample() -> None:
    pts = _uniform_sphere(6000, 0)
    at = _uniform_sphere(300, 1)
    d = kde_density(pts, at, 1000.0)
    # a uniform sample has (up to sampling noise) the same density everywhere
    assert d.std() / d.mean() < 0.1
    # the value is a mean over the points: the same points twice give the same density
    np.testing.assert_allclose(kde_density(np.vstack([pts, pts]), at, 1000.0), d, rtol=0.02)
    with pytest.raises(ValueError, match="bandwidth"):
        kde_density(pts, at, 0.0)


def test_density_ratio_of_a_hemisphere_target() -> None:
    """Training uniform on the sphere, target uniform on the northern hemisphere: the
    density ratio is 2 in the north and 0 in the south (known answer, up to the kernel's
    blur near the equator)."""
    train = _uniform_sphere(5000, 2)
    target = _uniform_sphere(8000, 3)
    target[:, 1] = np.abs(target[:, 1])
    w = density_ratio_weights(train, target, 500.0)
    assert w.mean() == pytest.approx(1.0)
    north, south = train[:, 1] > 30.0, train[:, 1] < -30.0
    assert np.median(w[north]) == pytest.approx(2.0, rel=0.15)
    assert w[south].max() < 0.01
    # the cap clamps the northern ratios (about 2) to one value, then the mean is 1 again
    capped = density_ratio_weights(train, target, 500.0, max_weight=1.5)
    assert capped.mean() == pytest.approx(1.0)
    assert capped.max() * np.minimum(w, 1.5).mean() == pytest.approx(1.5)
    assert (capped[north] == capped.max()).mean() > 0.9
    with pytest.raises(ValueError, match="max_weight"):
        density_ratio_weights(train, target, 500.0, max_weight=0.5)


def test_density_ratio_undoes_the_thinning_of_the_sparse_caps() -> None:
    """synthetic-vmf-sparse keeps 1/15 of the training samples in the caps and none is
    thinned in the test split: towards the test locations a sample in a cap weighs about
    15 times a sample outside."""
    ds = load_dataset("synthetic-vmf-sparse", n_train=6000, n_val=100, n_test=6000, seed=0)
    w = density_ratio_weights(ds.train.lonlat, ds.test.lonlat, 250.0)
    inside = region_of(ds.train.lonlat) >= 0
    ratio = w[inside].mean() / w[~inside].mean()
    assert 8.0 < ratio < 25.0
    # a training sample without a location keeps the mean weight
    lonlat = ds.train.lonlat.astype(np.float64).copy()
    lonlat[0] = np.nan
    w2 = density_ratio_weights(lonlat, ds.test.lonlat, 250.0)
    assert np.isfinite(w2).all() and w2.mean() == pytest.approx(1.0)


def test_location_density_integrates_to_one_and_matches_the_test_split() -> None:
    ds = load_dataset("synthetic-vmf-sparse", n_train=100, n_val=10, n_test=20_000, seed=1)
    # integral over the sphere by a fine Fibonacci lattice (equal areas)
    n = 2**19
    i = np.arange(n) + 0.5
    lat = np.degrees(np.arcsin(1.0 - 2.0 * i / n))
    lon = (np.degrees(np.pi * (1.0 + 5.0**0.5) * i) + 180.0) % 360.0 - 180.0
    grid = np.column_stack([lon, lat])
    dens = location_density(ds, grid)
    assert dens.mean() * 4.0 * np.pi == pytest.approx(1.0, abs=0.01)
    # the mass of the caps is the share of (unthinned) test samples in them
    mass = (dens * (region_of(grid) >= 0)).mean() * 4.0 * np.pi
    share = (region_of(ds.test.lonlat) >= 0).mean()
    assert mass == pytest.approx(share, abs=0.012)


def test_loss_optimum_minimises_the_expected_loss() -> None:
    """At a location, the optimum of ``full_loss``'s expected terms found numerically
    equals :func:`loss_optimal_prior`'s closed form (TorchSpatial's positive weight C)."""
    from scipy.optimize import minimize_scalar

    # unthinned, so the training density is the location density itself
    ds = load_dataset("synthetic-vmf-sparse", n_train=100, n_val=10, n_test=200, seed=2,
                      train_region_rate=1.0)  # fmt: skip
    c = ds.num_classes
    x = ds.test.lonlat[:5].astype(np.float64)
    sig = loss_optimal_prior(ds, x)
    post = location_posterior(ds, x)
    q = location_density(ds, x)
    u = 1 / (4 * np.pi)
    for i in range(len(x)):
        for k in (int(post[i].argmax()), int(post[i].argmin())):
            p = post[i, k]

            def loss(z, p=p, qi=q[i]):
                s = 1 / (1 + np.exp(-z))
                return -qi * (c * p * np.log(s) + (1 - p) * np.log1p(-s)) - u * np.log1p(-s)

            z = minimize_scalar(loss, bounds=(-30, 30), method="bounded",
                                options={"xatol": 1e-10}).x  # fmt: skip
            assert 1 / (1 + np.exp(-z)) == pytest.approx(sig[i, k], rel=5e-3, abs=1e-6)


def test_ceiling_table_has_the_loss_optimum_between_image_and_posterior() -> None:
    ds = load_dataset("synthetic-vmf-sparse", n_train=100, n_val=10, n_test=6000, seed=0)
    t = ceiling_table(ds).set_index("predictor")
    assert list(t.index) == ["location_posterior", "loss_optimum", "image_only"]
    inside = t["top1_inside"]
    # in the caps the presence-only loss's optimum is well above the image model alone and
    # below the calibrated posterior (its presences saturate: C times the positive weight)
    assert inside["image_only"] + 0.2 < inside["loss_optimum"] < inside["location_posterior"]


def test_trainer_and_cli_take_the_importance_method(tmp_path) -> None:
    from click.testing import CliRunner

    from encoders import Trainer
    from encoders.cli import main
    from encoders.resume import run_settings

    ds = load_dataset("synthetic-vmf-sparse", n_train=200, n_val=50, n_test=100, seed=0)
    with pytest.raises(ValueError, match="debias_bandwidth_km"):
        Trainer(debias_method="importance", debias_lambda=1.0, debias_bandwidth_km=-1)._check()
    # only the options the method uses decide the run (earlier re-weighted runs resume)
    imp = run_settings("xyz", ds, Trainer(debias_method="importance", debias_lambda=1.0))
    assert imp["trainer"]["debias_bandwidth_km"] == 250.0
    assert "debias_cell_km" not in imp["trainer"] and "debias_dro_step" not in imp["trainer"]
    rw = run_settings("xyz", ds, Trainer(debias_method="reweight", debias_lambda=1.0))
    assert "debias_bandwidth_km" not in rw["trainer"] and "debias_cell_km" in rw["trainer"]
    plain = run_settings("xyz", ds, Trainer(debias_bandwidth_km=100.0))
    assert not any(k.startswith("debias") for k in plain["trainer"])

    base = ["train", "--encoder", "xyz", "--dataset", "synthetic-vmf-sparse",
            "--data-option", "n_train=300", "--data-option", "n_val=50",
            "--data-option", "n_test=200", "--epochs", "1", "--hparam", "hidden_dim=16",
            "--no-progress"]  # fmt: skip
    res = CliRunner().invoke(main, [*base, "--debias-bandwidth-km", "100",
                                    "--out", str(tmp_path / "a")])  # fmt: skip
    assert res.exit_code == 2 and "--debias-bandwidth-km needs --debias-lambda" in res.output
    res = CliRunner().invoke(main, [*base, "--debias-method", "importance", "--debias-lambda",
                                    "1", "--debias-bandwidth-km", "300",
                                    "--out", str(tmp_path / "b")])  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert doc["trainer"]["debias_method"] == "importance"
    assert doc["trainer"]["debias_bandwidth_km"] == 300.0
    assert doc["epochs"][-1]["train_reweight_loss"] > 0
