"""Datasets: vMF sampler against its exact law, synthetic-vmf, cities, table and LocBench
loaders (on small files generated in tmp_path in TorchSpatial's layout), option errors."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse, stats
from scipy.spatial import cKDTree

from encoders.data import SPLITS, GeoDataset, Split, list_datasets, load_dataset
from encoders.data._simulate import far_apart_groups, lonlat_to_xyz, xyz_to_lonlat
from encoders.data.synthetic_vmf import BIASED_REGIONS, region_of, sample_vmf
from pygbs.errors import InputError


# --------------------------------------------------------------------------- vMF sampler
@pytest.mark.parametrize("kappa", [0.5, 5.0, 50.0, 2000.0])
def test_vmf_w_follows_exact_law(kappa):
    # on S^2, w = mu.x has density ∝ exp(kappa w) on [-1, 1]:
    # CDF F(w) = (exp(kappa (w + 1)) - 1) / (exp(2 kappa) - 1), mean coth(kappa) - 1/kappa
    rng = np.random.default_rng(1)
    mu = np.tile(lonlat_to_xyz(np.array([[30.0, 60.0]])), (20_000, 1))
    x = sample_vmf(mu, np.full(20_000, kappa), rng)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-12)
    w = x @ mu[0]

    def cdf(t):
        # overflow-free form of the CDF above
        return np.exp(kappa * (t - 1.0)) * np.expm1(-kappa * (t + 1.0)) / np.expm1(-2.0 * kappa)

    assert stats.kstest(w, cdf).pvalue > 1e-3
    mean = 1.0 / np.tanh(kappa) - 1.0 / kappa
    assert abs(w.mean() - mean) < 5 * w.std() / np.sqrt(w.size) + 1e-9


def test_vmf_tangent_direction_is_uniform():
    rng = np.random.default_rng(2)
    mu = np.tile([[0.0, 0.0, 1.0]], (20_000, 1))  # north pole: azimuth = longitude
    x = sample_vmf(mu, np.full(20_000, 10.0), rng)
    lon = xyz_to_lonlat(x)[:, 0]
    assert stats.kstest((lon + 180) / 360, "uniform").pvalue > 1e-3


def test_lonlat_xyz_round_trip():
    ll = np.array([[0.0, 0.0], [-179.5, 45.0], [120.0, -89.0], [33.3, 12.0]])
    np.testing.assert_allclose(xyz_to_lonlat(lonlat_to_xyz(ll)), ll, atol=1e-9)


def test_far_apart_groups_are_far_apart():
    rng = np.random.default_rng(0)
    ll = np.stack([rng.uniform(-180, 180, 40), np.degrees(np.arcsin(rng.uniform(-1, 1, 40)))], 1)
    xyz = lonlat_to_xyz(ll)
    g = far_apart_groups(xyz, 4, np.random.default_rng(0))
    assert np.bincount(g).max() == 4 and set(np.bincount(g)) == {4}

    def min_angle(groups):
        out = []
        for k in np.unique(groups):
            m = xyz[groups == k]
            c = m @ m.T
            out.append(np.degrees(np.arccos(np.clip(c[~np.eye(len(m), dtype=bool)].max(), -1, 1))))
        return np.mean(out)

    random_groups = np.random.default_rng(5).permutation(np.repeat(np.arange(10), 4))
    assert min_angle(g) > min_angle(random_groups) + 20


# --------------------------------------------------------------------------- synthetic-vmf
def test_list_datasets():
    assert list_datasets() == ["synthetic-vmf", "synthetic-vmf-biased", "synthetic-vmf-sparse",
                               "cities", "locbench", "table"]  # fmt: skip


def _fingerprint(split):
    """Exact label hash plus float sums of one split (tolerant to last-bit libm changes)."""
    lab = split.label
    key = (
        hashlib.sha256(np.ascontiguousarray(lab).tobytes()).hexdigest()[:16]
        if lab.dtype == np.int64
        else float(lab.astype(np.float64).sum())
    )
    sums = [float(split.lonlat.astype(np.float64).sum()),
            float(np.abs(split.lonlat.astype(np.float64)).sum())]  # fmt: skip
    if split.image_probs is not None:
        w = np.arange(1, split.image_probs.shape[1] + 1)
        sums.append(float((split.image_probs.astype(np.float64) * w).sum()))
    if split.image_features is not None:
        sums.append(float(split.image_features.astype(np.float64).sum()))
    return key, sums


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"n_train": 300, "n_val": 50, "n_test": 60, "num_classes": 10, "seed": 3},
            {
                "train": ("7cc7e574ccb90c99", [-11619.718380622566, 32587.059715025127]),
                "val": ("d8366171f792c2c4",
                        [-2931.3982999920845, 5682.813450992107, 252.1786945420463]),
                "test": ("f418caf6edc4cec7",
                         [-3532.6154448091984, 6185.5063343942165, 300.658049983409]),
            },
        ),
        (
            {"n_train": 200, "n_val": 20, "n_test": 30, "task": "regression", "seed": 1},
            {
                "train": (286.06604390218854,
                          [4952.903585880995, 27397.430314153433, -10.921095772238914]),
                "val": (28.661447286605835,
                        [-767.6853761672974, 2733.7999897003174, -5.9005477679893374]),
                "test": (45.28774452209473,
                         [1642.430926322937, 4535.3256006240845, -5.1599751964677125]),
            },
        ),
    ],
)  # fmt: skip
def test_synthetic_vmf_default_variant_is_unchanged(options, expected):
    # fingerprints of the arrays generated before the biased variant was added: the same
    # options must keep giving the same arrays
    d = load_dataset("synthetic-vmf", **options)
    for split, (key, sums) in expected.items():
        got_key, got_sums = _fingerprint(d[split])
        if isinstance(key, str):
            assert got_key == key
        else:
            assert got_key == pytest.approx(key, rel=1e-9)
        assert got_sums == pytest.approx(sums, rel=1e-6)


def test_synthetic_vmf_contract_and_seed():
    a = load_dataset("synthetic-vmf", n_train=300, n_val=50, n_test=60, num_classes=10, seed=3)
    b = load_dataset("synthetic-vmf", n_train=300, n_val=50, n_test=60, num_classes=10, seed=3)
    c = load_dataset("synthetic-vmf", n_train=300, n_val=50, n_test=60, num_classes=10, seed=4)
    assert isinstance(a, GeoDataset) and a.task == "classification" and a.num_classes == 10
    assert [len(a[s]) for s in ("train", "val", "test")] == [300, 50, 60]
    assert a.train.lonlat.dtype == np.float32 and a.train.label.dtype == np.int64
    assert a.train.image_probs is None
    np.testing.assert_allclose(a.test.image_probs.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(a.test.lonlat, b.test.lonlat)
    np.testing.assert_array_equal(a.test.image_probs, b.test.image_probs)
    assert not np.array_equal(a.test.lonlat, c.test.lonlat)


def test_synthetic_vmf_polar_and_concentration():
    d = load_dataset(
        "synthetic-vmf",
        n_train=2000,
        n_val=10,
        n_test=10,
        num_classes=6,
        polar_fraction=1.0,
        kappa_low=500,
        kappa_high=500,
    )
    assert np.percentile(np.abs(d.train.lonlat[:, 1]), 5) > 60
    # high concentration: each class is a tight blob (mean angle to class mean ~ 1/sqrt(kappa))
    xyz = lonlat_to_xyz(d.train.lonlat)
    for k in range(6):
        m = xyz[d.train.label == k]
        centre = m.mean(0) / np.linalg.norm(m.mean(0))
        assert np.degrees(np.arccos(np.clip(m @ centre, -1, 1))).mean() < 5


def test_synthetic_vmf_image_model_is_noisy_but_informative():
    d = load_dataset("synthetic-vmf", n_train=10, n_val=10, n_test=4000)
    acc = (d.test.image_probs.argmax(1) == d.test.label).mean()
    assert 0.3 < acc < 0.8


def test_synthetic_vmf_regression():
    d = load_dataset(
        "synthetic-vmf",
        task="regression",
        n_train=500,
        n_val=50,
        n_test=50,
        feature_dim=4,
        label_noise=0.0,
        feature_noise=0.0,
    )
    assert d.task == "regression" and d.num_classes is None
    assert d.train.label.dtype == np.float32 and d.train.image_features.shape == (500, 4)
    # without feature noise the features are label * w for a unit vector w
    np.testing.assert_allclose(
        np.linalg.norm(d.train.image_features, axis=1), np.abs(d.train.label), rtol=1e-4
    )


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"n_train": 0}, "n_train"),
        ({"num_classes": 1}, "num_classes"),
        ({"kappa_low": 5, "kappa_high": 1}, "kappa"),
        ({"task": "segment"}, "task"),
        ({"polar_fraction": 2}, "polar_fraction"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_synthetic_vmf_bad_options(options, word):
    with pytest.raises(InputError, match=word):
        load_dataset("synthetic-vmf", **options)


def test_unknown_dataset_and_missing_option():
    with pytest.raises(InputError, match="synthetic-vmf"):
        load_dataset("imagenet")
    with pytest.raises(InputError, match="'path'"):
        load_dataset("table")


# --------------------------------------------------------------------------- synthetic-vmf-biased
def test_biased_contract_seed_and_train_image_probs():
    kw = {"n_train": 400, "n_val": 50, "n_test": 70, "num_classes": 12, "region_classes": 2}
    a = load_dataset("synthetic-vmf-biased", seed=3, **kw)
    b = load_dataset("synthetic-vmf-biased", seed=3, **kw)
    c = load_dataset("synthetic-vmf-biased", seed=4, **kw)
    assert a.name == "synthetic-vmf-biased" and a.task == "classification"
    assert a.num_classes == 12 and [len(a[s]) for s in SPLITS] == [400, 50, 70]
    for s in SPLITS:  # every split, train included, has image probabilities
        assert a[s].image_probs.shape == (len(a[s]), 12)
        assert a[s].image_probs.dtype == np.float32 and a[s].lonlat.dtype == np.float32
        np.testing.assert_allclose(a[s].image_probs.sum(1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(a[s].lonlat, b[s].lonlat)
        np.testing.assert_array_equal(a[s].label, b[s].label)
        np.testing.assert_array_equal(a[s].image_probs, b[s].image_probs)
    assert not np.array_equal(a.test.lonlat, c.test.lonlat)
    assert a.info["regions"] == {k: list(v) for k, v in BIASED_REGIONS.items()}
    assert a.info["vagrant_fraction"] == 0.2 and a.info["seed"] == 3
    assert a.summary()["image_probs"] is True


def test_region_of_cap_edges_and_order():
    # 1000 km along a meridian is 1000 / 6371.0088 rad = 8.9932 degrees of latitude
    pts = np.array([[10.0, 10.0], [10.0, 18.95], [10.0, 19.05], [-60.0, -15.0], [0.0, -80.0]])
    np.testing.assert_array_equal(region_of(pts), [0, 0, -1, 1, -1])
    caps = {"a": [0.0, 0.0, 500.0], "b": [0.0, 0.0, 2000.0]}
    np.testing.assert_array_equal(region_of([[0.0, 0.0], [0.0, 10.0]], caps), [0, 1])
    np.testing.assert_array_equal(region_of([[0.0, 10.0]], [[0.0, 0.0, 1000.0]]), [-1])


def test_biased_caps_have_a_poorer_image_model_that_location_cannot_fix():
    d = load_dataset("synthetic-vmf-biased", n_train=20_000, n_val=10, n_test=8_000)
    inside = region_of(d.test.lonlat) >= 0
    assert 0.15 < inside.mean() < 0.45
    image_hit = d.test.image_probs.argmax(1) == d.test.label
    # image top-1 inside the caps is much lower (about 0.23 against 0.56)
    assert image_hit[inside].mean() < image_hit[~inside].mean() - 0.2
    # a location prior estimated independently (class counts of the 50 nearest training
    # samples) fused with the image model: right outside the caps, wrong inside them
    _, nearest = cKDTree(lonlat_to_xyz(d.train.lonlat)).query(lonlat_to_xyz(d.test.lonlat), 50)
    counts = np.stack([np.bincount(r, minlength=d.num_classes) for r in d.train.label[nearest]])
    fused_hit = ((counts + 0.5) * d.test.image_probs).argmax(1) == d.test.label
    assert fused_hit[~inside].mean() > 0.75
    assert fused_hit[inside].mean() < 0.35
    # the training split is biased the same way
    inside_tr = region_of(d.train.lonlat) >= 0
    hit_tr = d.train.image_probs.argmax(1) == d.train.label
    assert hit_tr[inside_tr].mean() < hit_tr[~inside_tr].mean() - 0.2


def test_biased_region_classes_sit_in_their_cap_and_vagrants_leave_it():
    def share_in_cap(q):
        d = load_dataset("synthetic-vmf-biased", n_train=20_000, n_val=10, n_test=10,
                         vagrant_fraction=q)  # fmt: skip
        region = region_of(d.train.lonlat)
        shares, overall = [], []
        for j in range(len(BIASED_REGIONS)):
            ids = np.arange(50 - 4 * (j + 1), 50 - 4 * j)  # the last 4 classes per cap
            members = np.isin(d.train.label, ids)
            shares.append((region[members] == j).mean())
            overall.append((region == j).mean())
        return np.array(shares), np.array(overall)

    clean, _ = share_in_cap(0.0)
    assert clean.min() > 0.75  # spread of half the cap radius around points near its centre
    mixed, overall = share_in_cap(0.2)
    # a vagrant keeps its location but gets a uniform class: the share in the cap mixes
    np.testing.assert_allclose(mixed, 0.8 * clean + 0.2 * overall, atol=0.04)


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"regions": "west"}, "regions"),
        ({"regions": {"a": [0, 95, 100]}}, "'a'"),
        ({"regions": [[0, 0]]}, "region_1"),
        ({"regions": [[0, 0, -5]]}, "radius_km"),
        ({"regions": []}, "regions"),
        ({"region_classes": 13}, "region_classes"),
        ({"region_classes": 0}, "region_classes"),
        ({"vagrant_fraction": 1.0}, "vagrant_fraction"),
        ({"n_test": 0}, "n_test"),
        ({"task": "regression"}, "task"),
    ],
)
def test_biased_bad_options(options, word):
    with pytest.raises(InputError, match=word) as err:
        load_dataset("synthetic-vmf-biased", **{"n_train": 50, "n_val": 5, "n_test": 5, **options})
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- cities
def test_cities_continent():
    d = load_dataset("cities", n_samples=3000, jitter_km=0.0, seed=1)
    assert d.class_names == ("AF", "AS", "EU", "NA", "OC", "SA")
    # population-weighted: Asia is the largest class
    assert np.bincount(d.train.label).argmax() == d.class_names.index("AS")
    # without jitter every sample sits on a city of its continent
    from encoders.data.cities import city_table

    t = city_table()
    ll = np.stack([t["lon"], t["lat"]], 1).astype(np.float32)
    keys = {tuple(r) for r in ll}
    assert all(tuple(r) in keys for r in d.test.lonlat)
    paris = np.argmin(np.abs(t["lon"] - 2.3488) + np.abs(t["lat"] - 48.8534))
    assert t["continent"][paris] == "EU"
    d2 = load_dataset("cities", n_samples=3000, jitter_km=0.0, seed=1)
    np.testing.assert_array_equal(d.test.lonlat, d2.test.lonlat)


def test_cities_country_top_n_and_jitter():
    d = load_dataset("cities", target="country", top_n=5, n_samples=2000, jitter_km=20.0)
    assert d.num_classes == 5 and "CN" in d.class_names and "IN" in d.class_names
    assert np.all(np.abs(d.train.lonlat[:, 1]) <= 90)
    with pytest.raises(InputError, match="target"):
        load_dataset("cities", target="city")
    with pytest.raises(InputError, match="fractions"):
        load_dataset("cities", fractions=(0.5, 0.5, 0.5))


# --------------------------------------------------------------------------- table
def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "lon": rng.uniform(-180, 180, n), "lat": rng.uniform(-80, 80, n),
        "label": rng.choice(["cat", "dog", "eel"], n),
        "feat_a": rng.normal(size=n), "feat_b": rng.normal(size=n),
    })  # fmt: skip


def test_table_csv_strings_random_split(tmp_path):
    df = _table()
    df.loc[3, ["lon", "lat"]] = np.nan
    path = tmp_path / "obs.csv"
    df.to_csv(path, index=False)
    d = load_dataset("table", path=str(path), fractions=(0.6, 0.2, 0.2), seed=1)
    assert d.task == "classification" and d.class_names == ("cat", "dog", "eel")
    assert d.train.image_features.shape[1] == 2
    assert sum(len(d[s]) for s in ("train", "val", "test")) in (59, 60)
    assert np.isfinite(d.train.lonlat).all()
    # labels were mapped in sorted order
    lab = dict(zip(map(tuple, df[["lon", "lat"]].to_numpy(np.float32)), df["label"]))
    for ll, y in zip(d.val.lonlat, d.val.label):
        if np.isfinite(ll).all():
            assert d.class_names[y] == lab[tuple(ll)]


def test_table_parquet_split_column_regression_probs(tmp_path):
    df = _table(30)
    df["label"] = np.linspace(0.1, 3.3, 30)
    df["split"] = ["train"] * 20 + ["val"] * 5 + ["test"] * 5
    df.to_parquet(tmp_path / "obs.parquet")
    d = load_dataset("table", path=tmp_path / "obs.parquet")
    assert d.task == "regression" and len(d.train) == 20 and len(d.test) == 5
    np.testing.assert_allclose(d.test.label, df["label"].to_numpy()[25:], rtol=1e-6)
    df2 = _table(30)
    df2["label"] = np.arange(30) % 3
    for k in range(3):
        df2[f"prob_{k}"] = 1 / 3
    d2 = load_dataset("table", path=df2, seed=0)
    assert d2.num_classes == 3 and d2.test.image_probs.shape == (len(d2.test), 3)


def test_table_errors(tmp_path):
    df = _table(10)
    with pytest.raises(InputError, match="'label'.*'species'"):
        load_dataset("table", path=df, label="species")
    df["split"] = "train"
    df.loc[0, "split"] = "holdout"
    with pytest.raises(InputError, match="holdout"):
        load_dataset("table", path=df)
    with pytest.raises(InputError, match="no such file"):
        load_dataset("table", path=tmp_path / "missing.csv")


def _probs_table(n=30):
    df = _table(n)
    df["label"] = np.arange(n) % 3
    df["split"] = ["train"] * 20 + ["val"] * 5 + ["test"] * 5
    for k in range(3):
        df[f"prob_{k}"] = 1 / 3
    return df


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_table_non_finite_probability_names_file_column_row(tmp_path, bad):
    # a NaN probability used to decide the fused prediction silently (top-1 = 1.0)
    df = _probs_table()
    df.loc[1, "label"] = np.nan  # dropped: file rows keep their numbers in messages
    df.loc[27, "prob_2"] = bad
    df.loc[28, "prob_0"] = bad
    path = tmp_path / "obs.csv"
    df.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        load_dataset("table", path=str(path))
    msg = str(info.value)
    assert f"obs.csv: column 'prob_2', row 27: value {float(bad)!r} is not finite" in msg
    assert "(2 such values)" in msg and "\n" not in msg


def test_table_non_finite_or_text_feature(tmp_path):
    df = _table(10)
    df.loc[4, "feat_b"] = np.inf
    with pytest.raises(InputError, match=r"<DataFrame>: column 'feat_b', row 4: value inf"):
        load_dataset("table", path=df)
    df = _table(10).astype({"feat_a": object})
    df.loc[2, "feat_a"] = "n/a"
    with pytest.raises(InputError, match=r"column 'feat_a', row 2: non-numeric value 'n/a'"):
        load_dataset("table", path=df)
    df = _table(10)
    df.loc[0, "feat_a"] = 1e300  # beyond float32: would become inf
    with pytest.raises(InputError, match=r"column 'feat_a', row 0: value inf"):
        load_dataset("table", path=df)


def test_split_contract_refuses_non_finite_image_inputs():
    ok = Split(lonlat=np.zeros((2, 2), np.float32), label=np.array([0, 1]))
    probs = np.array([[0.5, 0.5], [np.nan, 0.5]], np.float32)
    bad = Split(lonlat=ok.lonlat, label=ok.label, image_probs=probs)
    with pytest.raises(InputError, match=r"split 'test', image_probs: column 0, row 1: value nan"):
        GeoDataset("x", "classification", ok, ok, bad, num_classes=2)


def test_train_cli_refuses_nan_probabilities(tmp_path):
    from click.testing import CliRunner

    from encoders.cli import main

    df = _probs_table()
    df.loc[26, "prob_1"] = np.nan
    path = tmp_path / "obs.csv"
    df.to_csv(path, index=False)
    args = ["train", "--encoder", "wrap", "--dataset", "table", "--data-option",
            f"path={path}", "--epochs", "1", "--out", str(tmp_path / "run")]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert "column 'prob_1', row 26: value nan is not finite" in r.output
    assert not (tmp_path / "run" / "metrics.json").exists()


# --------------------------------------------------------------------------- LocBench layouts
def test_locbench_yfcc(tmp_path):
    d = tmp_path / "yfcc"
    (d / "features_inception").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for split, n in (("train", 40), ("test", 12)):
        for _ in range(n):
            rows.append({"lon": rng.uniform(-100, 100), "lat": rng.uniform(-50, 50),
                         "class": int(rng.integers(100)), "split": split})  # fmt: skip
    pd.DataFrame(rows).to_csv(d / "train_test_split.csv", index=False)
    preds = rng.dirichlet(np.ones(100), 12).astype(np.float32)
    np.save(d / "features_inception" / "YFCC_test_preds.npy", preds)
    ds = load_dataset("locbench", root=tmp_path, benchmark="yfcc", val_fraction=0.25)
    assert ds.num_classes == 100 and len(ds.test) == 12
    assert len(ds.train) == 30 and len(ds.val) == 10  # val carved out of train
    np.testing.assert_allclose(ds.test.image_probs, preds)
    np.testing.assert_array_equal(ds.test.label, [r["class"] for r in rows[40:]])


def test_locbench_birdsnap_sparse_preds_and_missing_locations(tmp_path):
    d = tmp_path / "birdsnap"
    (d / "features_inception").mkdir(parents=True)

    def img(c, lon, lat, user=1, valid=True):
        meta = {"lon": lon, "lat": lat, "user_id": user, "date": 0.5}
        return {"valid_image": valid, "im_path": "x.jpg", "class_id": c,
                "ebird_meta": meta, "orig_meta": meta}  # fmt: skip

    data = {
        "train": [img(0, 10.0, 20.0), img(1, None, None), img(2, 5.0, 5.0, user=None),
                  img(3, 1.0, 2.0)],
        "valid": [img(1, 3.0, 4.0), img(2, 7.0, 8.0)],
        "test": [img(0, -70.0, 45.0), img(4, None, None), img(1, 0.0, 0.0, valid=False),
                 img(2, 30.0, -10.0)],
        "classes": ["a", "b", "c", "d", "e"],
    }  # fmt: skip
    (d / "birdsnap_with_loc_2019.json").write_text(json.dumps(data))
    p = np.zeros((3, 500), dtype=np.float32)
    p[0, 0], p[1, 4], p[2, 1] = 0.9, 0.6, 0.3
    sparse.save_npz(
        d / "features_inception" / "birdsnap_test_preds_sparse.npz", sparse.csr_matrix(p)
    )
    ds = load_dataset("locbench", root=tmp_path, benchmark="birdsnap_ebird_meta")
    assert ds.num_classes == 500
    np.testing.assert_array_equal(ds.train.label, [0, 3])  # rows without location/user dropped
    assert len(ds.val) == 2 and ds.val.image_probs is None
    assert np.isfinite(ds.val.lonlat).all()
    np.testing.assert_array_equal(ds.test.label, [0, 4, 2])  # invalid image dropped
    assert np.isnan(ds.test.lonlat[1]).all() and not ds.test.has_location[1]
    np.testing.assert_allclose(ds.test.image_probs, p)


def test_locbench_inat_and_mosaiks(tmp_path):
    d = tmp_path / "inat_2018"
    d.mkdir()
    for split, ids in (("train", [1, 2, 3, 4]), ("val", [7, 8])):
        locs = [{"id": i, "lon": float(i), "lat": -float(i), "user_id": 5, "date_c": 0.1}
                for i in ids]  # fmt: skip
        ann = {"images": [{"id": i, "file_name": f"{i}.jpg"} for i in ids],
               "annotations": [{"image_id": i, "category_id": i % 3} for i in ids]}  # fmt: skip
        (d / f"{split}2018_locations.json").write_text(json.dumps(locs))
        (d / f"{split}2018.json").write_text(json.dumps(ann))
    ds = load_dataset("locbench", root=tmp_path, benchmark="inat_2018", num_classes=3,
                      val_fraction=0.25)  # fmt: skip
    np.testing.assert_array_equal(ds.test.lonlat, [[7, -7], [8, -8]])  # iNat val -> our test
    np.testing.assert_array_equal(ds.test.label, [1, 2])
    assert len(ds.train) == 3 and len(ds.val) == 1

    m = tmp_path / "mosaiks"
    m.mkdir()
    y = pd.DataFrame({"lon": [1.0, 2, 3, 4, 5, 6], "lat": [0.0, 1, 2, 3, 4, 5],
                      "split": ["train", "train", "val", "test", "train", "test"],
                      "elevation": [10.0, 20, 30, 40, 50, 60]})  # fmt: skip
    y.to_csv(m / "Y_elevation.csv", index=False)
    np.save(m / "X_elevation.npy", np.arange(12, dtype=np.float64).reshape(6, 2))
    ds = load_dataset("locbench", root=tmp_path, benchmark="mosaiks_elevation")
    assert ds.task == "regression"
    np.testing.assert_array_equal(ds.test.label, [40, 60])
    np.testing.assert_array_equal(ds.test.image_features, [[6, 7], [10, 11]])


def test_locbench_non_finite_predictions_and_features(tmp_path):
    d = tmp_path / "yfcc"
    (d / "features_inception").mkdir(parents=True)
    rows = [{"lon": float(i), "lat": 0.0, "class": i % 3, "split": s}
            for i, s in enumerate(["train"] * 8 + ["test"] * 4)]  # fmt: skip
    pd.DataFrame(rows).to_csv(d / "train_test_split.csv", index=False)
    preds = np.full((4, 3), 1 / 3, np.float32)
    preds[2, 1] = np.nan
    np.save(d / "features_inception" / "YFCC_test_preds.npy", preds)
    with pytest.raises(InputError, match=r"YFCC_test_preds\.npy: column 1, row 2: value nan"):
        load_dataset("locbench", root=tmp_path, benchmark="yfcc", num_classes=3)
    m = tmp_path / "mosaiks"
    m.mkdir()
    y = pd.DataFrame({"lon": [1.0, 2, 3], "lat": [0.0, 1, 2], "split": ["train", "val", "test"],
                      "elevation": [10.0, 20, 30]})  # fmt: skip
    y.to_csv(m / "Y_elevation.csv", index=False)
    x = np.zeros((3, 2))
    x[1, 0] = np.inf
    np.save(m / "X_elevation.npy", x)
    with pytest.raises(InputError, match=r"X_elevation\.npy: column 0, row 1: value inf"):
        load_dataset("locbench", root=tmp_path, benchmark="mosaiks_elevation")


def test_locbench_errors(tmp_path):
    with pytest.raises(InputError, match="benchmark"):
        load_dataset("locbench", root=tmp_path, benchmark="imagenet")
    with pytest.raises(InputError, match="root"):
        load_dataset("locbench", root=tmp_path, benchmark="yfcc")


def test_split_validation_messages():
    ok = Split(lonlat=np.zeros((2, 2), np.float32), label=np.array([0, 1]))
    bad = Split(lonlat=np.array([[0, 0], [200, 0]], np.float32), label=np.array([0, 1]))
    with pytest.raises(InputError, match="lon must be in"):
        GeoDataset("x", "classification", bad, ok, ok, num_classes=2)
    with pytest.raises(InputError, match="row 1 has 5"):
        GeoDataset(
            "x",
            "classification",
            ok,
            ok,
            Split(lonlat=ok.lonlat, label=np.array([0, 5])),
            num_classes=2,
        )


def test_unlocated_rows_need_an_image_prediction():
    ok = Split(lonlat=np.zeros((2, 2), np.float32), label=np.array([0, 1]))
    ll = np.array([[0, 0], [np.nan, np.nan]], np.float32)
    with pytest.raises(InputError, match="no location"):
        GeoDataset("x", "classification", ok, ok, Split(lonlat=ll, label=np.array([0, 1])),
                   num_classes=2)  # fmt: skip
    probs = np.full((2, 2), 0.5, np.float32)
    ds = GeoDataset(
        "x",
        "classification",
        ok,
        ok,
        Split(lonlat=ll, label=np.array([0, 1]), image_probs=probs),
        num_classes=2,
    )
    assert ds.test.has_location.tolist() == [True, False]
    assert len(ds.test.drop_unlocated()) == 1
