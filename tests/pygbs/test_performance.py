"""Performance SSI (docs/method.md, D4): Moran's I of performance among the samples alone."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import pygbs
from pygbs import Neighbourhoods, SphereIndex, parse_scale
from pygbs.errors import InputError
from pygbs.stats.registry import REGISTRY
from pygbs.stats.ssi import performance_scores


def _brute_knn_weights(lat_deg, lon_deg, k=4):
    """Directed k-NN weights by great-circle distance, ties by index."""
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    d = 2 * np.arcsin(np.sqrt(
        np.sin((la[:, None] - la[None]) / 2) ** 2
        + np.cos(la[:, None]) * np.cos(la[None]) * np.sin((lo[:, None] - lo[None]) / 2) ** 2
    ))  # fmt: skip
    np.fill_diagonal(d, np.inf)
    w = np.zeros_like(d)
    for a in range(len(d)):
        w[a, np.lexsort((np.arange(len(d)), d[a]))[:k]] = 1.0
    return w


def test_performance_ssi_equals_esda_moran_on_the_same_samples_and_weights():
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    rng = np.random.default_rng(0)
    n = 300
    lon, lat = rng.uniform(0, 3, n), rng.uniform(0, 3, n)
    marks = np.where(rng.random(n) < 0.6, 1.0, -1.0)
    index = SphereIndex(lon, lat)
    nb = Neighbourhoods.from_scale(index, np.arange(0, n, 25), parse_scale("100km", k_max=None))
    res = performance_scores(index, nb, marks)
    for j in range(len(nb.centres)):
        ids = nb.indices[nb.indptr[j] : nb.indptr[j + 1]]
        w = _brute_knn_weights(lat[ids], lon[ids])
        mi = esda.Moran(marks[ids], libpysal.weights.full2W(w), transformation="B",
                        permutations=0)  # fmt: skip
        p = 2 * norm.sf(abs(mi.z_rand))
        assert res["performance_ssi_p"][j] == pytest.approx(p, rel=1e-8)
        assert res["performance_ssi"][j] == pytest.approx(-math.log(p), rel=1e-8)
        # the effect size behind it: Moran's I itself
        assert res["performance_moran"][j] == pytest.approx(mi.I, rel=1e-8)


def test_constant_performance_gives_p_1_and_ssi_0():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(0, 1, 200), rng.uniform(0, 1, 200)
    index = SphereIndex(lon, lat)
    nb = Neighbourhoods.from_scale(index, np.arange(20), parse_scale("nn30"))
    res = performance_scores(index, nb, np.ones(200))
    assert (res["performance_ssi"] == 0).all() and (res["performance_ssi_p"] == 1).all()
    with pytest.raises(InputError, match="'analytic' or 'permutation'"):
        performance_scores(index, nb, np.ones(200), method="pygbs")


def test_always_right_model_marked_equals_unmarked_but_performance_is_zero():
    rng = np.random.default_rng(2)
    n = 600
    c = rng.integers(0, 3, n)
    lon = np.array([10.0, 20.0, 30.0])[c] + rng.normal(0, 0.4, n)
    lat = np.array([0.0, 5.0, -5.0])[c] + rng.normal(0, 0.4, n)
    right = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": np.ones(n, int)})
    kw = {"scales": ["100km"], "scores": ["unmarked", "marked", "performance"], "bootstrap": 0}
    res = pygbs.score(right, **kw)
    cen = res.centres
    ok = cen["marked_ssi"].notna()
    np.testing.assert_allclose(cen.loc[ok, "marked_ssi"], cen.loc[ok, "unmarked_ssi"])
    assert (cen["performance_ssi"].dropna() == 0).all()
    agg = res.summary["aggregates"]["performance_ssi"]["100km"]
    assert agg["n_constant"] == agg["n_scored"] > 0
    # errors that cluster among the samples raise it
    patchy = right.assign(**{"hit@1": (np.floor(lon) % 2 == 0).astype(int)})
    clustered = pygbs.score(patchy, **kw).summary["aggregates"]["performance_ssi"]["100km"]
    assert clustered["mean"] > 3 and clustered["n_constant"] < clustered["n_scored"]


def test_performance_is_a_registered_score_with_its_own_null(tmp_path):
    from click.testing import CliRunner

    from pygbs.cli import main

    d = REGISTRY["performance"]
    assert d.column == "performance_ssi" and d.has_p and d.label == "performance SSI"
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"lon": rng.uniform(0, 2, 300), "lat": rng.uniform(0, 2, 300),
                       "hit@1": rng.integers(0, 2, 300)})  # fmt: skip
    f = tmp_path / "p.csv"
    df.to_csv(f, index=False)
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["score", str(f), "--scale", "50km", "--score", "performance",
                                  "--bootstrap", "0", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    cen = pd.read_csv(out / "centres.csv")
    assert {"performance_ssi", "performance_ssi_p", "performance_ssi_q"} <= set(cen.columns)
    # --method pygbs is for patterns with background points: performance SSI stays analytic
    a = pygbs.score(df, scales=["50km"], scores=["performance"], method="pygbs", bootstrap=0)
    b = pygbs.score(df, scales=["50km"], scores=["performance"], method="analytic", bootstrap=0)
    pd.testing.assert_series_equal(a.centres["performance_ssi"], b.centres["performance_ssi"])
    c = pygbs.score(df, scales=["50km"], scores=["performance"], method="permutation",
                    permutations=99, bootstrap=0)  # fmt: skip
    p = c.centres["performance_ssi_p"].dropna()
    assert ((p >= 0.01) & (p <= 1)).all()  # smallest permutation p is 1 / (P + 1)


def test_compare_gives_one_constant_neighbourhood_warning_for_all_models(caplog, tmp_path):
    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(0, 1, 200), rng.uniform(0, 1, 200)
    paths = []
    for name in ("a", "b", "c"):
        paths.append(tmp_path / f"{name}.csv")
        pd.DataFrame({"lon": lon, "lat": lat, "hit@1": np.ones(200, int)}).to_csv(
            paths[-1], index=False
        )
    with caplog.at_level("WARNING", logger="pygbs.api"):
        pygbs.compare(paths, scales=["nn10"], bootstrap=0)
    notes = [r for r in caplog.records if "same coded" in r.getMessage()]
    assert len(notes) == 1 and "3 of 3 models" in notes[0].getMessage()
