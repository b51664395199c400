"""The accuracy-matched null: draws, excess, spread of local performance, paired excess.

Checked against independent truth: a null draw that is the identity labelling reproduces
the scores computed by the ordinary kernels; random errors give no excess; planted
clustered errors give a significant excess that grows with their strength; equal accuracy
with different clustering gives a significant paired excess.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import pygbs
from pygbs import Neighbourhoods, SphereIndex, parse_scale
from pygbs.errors import InputError
from pygbs.inference.bootstrap import make_blocks
from pygbs.inference.null import null_draws, spread_aggregate
from pygbs.stats.ssi import marked_null, performance_null, performance_scores, ssi_scores


def _points(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-30, 30, n), rng.uniform(-20, 20, n)


def _clustered_hits(lon, lat, accuracy, strength, seed=0):
    """Hits whose log-odds follow a smooth field of amplitude ``strength`` (0: random)."""
    rng = np.random.default_rng(seed)
    field = np.sin(np.radians(lon) * 6) * np.cos(np.radians(lat) * 6)
    logit = math.log(accuracy / (1 - accuracy)) + strength * field
    return (rng.random(len(lon)) < 1 / (1 + np.exp(-logit))).astype(int)


@pytest.mark.parametrize(("method", "graph"), [("pygbs", "reference"), ("analytic", "strict")])
def test_identity_draw_reproduces_marked_ssi(method, graph):
    lon, lat = _points(600, 1)
    rng = np.random.default_rng(2)
    marks = np.where(rng.random(600) < 0.7, 1.0, -1.0)
    index = SphereIndex(lon, lat)
    nb = Neighbourhoods.from_scale(index, np.arange(0, 600, 7), parse_scale("400km"))
    ref = ssi_scores(index, nb, marks, unmarked=False, method=method, graph=graph)["marked_ssi"]
    draws = np.vstack([marks, marks[::-1]])
    got = marked_null(index, nb, draws, method=method, graph=graph)
    assert got.shape == (len(nb.centres), 2)
    ok = np.isfinite(ref)
    assert ok.sum() > 50
    np.testing.assert_array_equal(np.isfinite(got[:, 0]), ok)
    np.testing.assert_allclose(got[ok, 0], ref[ok], rtol=1e-9, atol=1e-9)
    # the second labelling is another pattern: the same as scoring it directly
    ref2 = ssi_scores(index, nb, marks[::-1], unmarked=False, method=method, graph=graph)
    np.testing.assert_allclose(got[ok, 1], ref2["marked_ssi"][ok], rtol=1e-9, atol=1e-9)


def test_identity_draw_reproduces_performance_ssi_and_moran():
    lon, lat = _points(500, 3)
    rng = np.random.default_rng(4)
    marks = np.where(rng.random(500) < 0.6, 1.0, -1.0)
    index = SphereIndex(lon, lat)
    nb = Neighbourhoods.from_scale(index, np.arange(0, 500, 5), parse_scale("nn30"))
    ref = performance_scores(index, nb, marks)
    ssi, moran = performance_null(index, nb, marks[None, :])
    np.testing.assert_allclose(ssi[:, 0], ref["performance_ssi"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(moran[:, 0], ref["performance_moran"], rtol=1e-9, atol=1e-12)


def test_draws_are_seeded_permutations():
    marks = np.array([1.0, 1.0, -1.0, 1.0, -1.0, 1.0])
    a, b = null_draws(marks, 5, seed=3), null_draws(marks, 5, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, null_draws(marks, 5, seed=4))
    for row in a:
        np.testing.assert_array_equal(np.sort(row), np.sort(marks))


def _frame(lon, lat, hits):
    return pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hits})


def _score(df, **kw):
    kw = {"scales": ["500km"], "scores": ["marked", "moran"], "null": "accuracy",
          "null_draws": 19, "bootstrap": 300, **kw}  # fmt: skip
    return pygbs.score(df, **kw)


def test_random_errors_have_no_excess():
    lon, lat = _points()
    res = _score(_frame(lon, lat, _clustered_hits(lon, lat, 0.75, 0.0, seed=5)))
    for col in ("marked_ssi", "moran_i", "spread"):
        agg = res.summary["aggregates"][col]["500km"]
        assert agg["null_draws"] == 19
        assert agg["excess_ci_low"] <= 0.0 <= agg["excess_ci_high"], (col, agg)
        assert agg["excess"] == pytest.approx(agg["mean"] - agg["null_mean"], abs=1e-12)
        assert agg["p_excess"] > 0.05


def test_planted_clustering_is_found_and_grows_with_its_strength():
    lon, lat = _points()
    excess = []
    for strength in (0.0, 1.0, 2.5):
        res = _score(_frame(lon, lat, _clustered_hits(lon, lat, 0.75, strength, seed=6)))
        aggs = res.summary["aggregates"]
        excess.append([aggs[c]["500km"]["excess"] for c in ("spread", "moran_i", "marked_ssi")])
        if strength == 2.5:
            # a field whose wavelength (60 degrees) is far above the neighbourhood's size:
            # local accuracy varies between neighbourhoods, which the spread measures;
            # Moran's I and SSI measure autocorrelation *inside* a neighbourhood
            agg = aggs["spread"]["500km"]
            assert agg["excess_ci_low"] > 0
            assert agg["p_excess"] == pytest.approx(1 / 20)
    excess = np.array(excess)
    assert np.all(np.diff(excess[:, 0]) > 0)  # spread


def test_small_clusters_are_found_by_morans_i():
    lon, lat = _points()
    # clusters about 450 km across (wavelength 8 degrees): inside each 500 km neighbourhood
    rng = np.random.default_rng(11)
    field = np.sin(np.radians(lon) * 45) * np.cos(np.radians(lat) * 45)
    logit = math.log(3) + 3.0 * field
    hits = (rng.random(len(lon)) < 1 / (1 + np.exp(-logit))).astype(int)
    aggs = _score(_frame(lon, lat, hits)).summary["aggregates"]
    for col in ("moran_i", "marked_ssi"):
        agg = aggs[col]["500km"]
        assert agg["excess_ci_low"] > 0, col
        assert agg["p_excess"] == pytest.approx(1 / 20), col


def test_unmarked_ssi_has_zero_excess_by_construction():
    lon, lat = _points(400)
    res = _score(_frame(lon, lat, _clustered_hits(lon, lat, 0.6, 2.0)), scores=["unmarked"])
    agg = res.summary["aggregates"]["unmarked_ssi"]["500km"]
    assert (agg["excess"], agg["excess_ci_low"], agg["excess_ci_high"]) == (0.0, 0.0, 0.0)
    assert agg["null_mean"] == agg["mean"]


@pytest.mark.parametrize(
    ("frequency", "found"),
    [
        (6, ("spread", "spread_excess")),  # broad regions: local accuracy differs
        (45, ("marked_excess", "moran_excess")),  # clusters inside each neighbourhood
    ],
)
def test_paired_excess_separates_equal_accuracy_with_different_clustering(frequency, found):
    lon, lat = _points()
    rng = np.random.default_rng(7)
    field = np.sin(np.radians(lon) * frequency) * np.cos(np.radians(lat) * frequency)
    logit = math.log(3) + 3.0 * field
    clustered = (rng.random(len(lon)) < 1 / (1 + np.exp(-logit))).astype(int)
    shuffled = rng.permutation(clustered)  # same accuracy, no clustering
    comp = pygbs.compare([_frame(lon, lat, clustered), _frame(lon, lat, shuffled)],
                         names=["clustered", "shuffled"], baseline="shuffled",
                         scales=["500km"], scores=["marked", "moran"], null_draws=19,
                         bootstrap=300)  # fmt: skip
    pairs = comp.pairs.set_index("score")
    assert {"marked", "marked_excess", "moran", "moran_excess", "spread", "spread_excess"} <= set(
        pairs.index
    )
    for score in found:
        assert pairs.loc[score, "ci_low"] > 0, score
        assert pairs.loc[score, "p_value"] < 0.05, score
    wide = comp.table.set_index("model")
    for col in ("marked_ssi@500km_excess", "spread@500km_excess", "moran_i@500km_p_excess"):
        assert col in wide.columns


def test_spread_aggregate_by_hand():
    local = np.array([0.2, 0.4, 0.6, 0.8, np.nan])
    agg = spread_aggregate(local, None, bootstrap=0, ci=0.95, seed=0)
    assert agg["mean"] == pytest.approx(np.std([0.2, 0.4, 0.6, 0.8]))
    assert agg["n_scored"] == 4 and agg["n_skipped"] == 1
    # a null whose every draw has local values 0.5 +- 0.1: null spread 0.1
    sums = np.array([[2.0, 2.0], [4 * 0.25 + 4 * 0.01, 4 * 0.25 + 4 * 0.01], [4.0, 4.0]])
    sums[0] = 4 * 0.5
    agg = spread_aggregate(local, None, m1=np.full(5, 0.5), m2=np.full(5, 0.26),
                           draw_sums=sums, bootstrap=0, ci=0.95, seed=0)  # fmt: skip
    assert agg["null_mean"] == pytest.approx(0.1)
    assert agg["excess"] == pytest.approx(np.std([0.2, 0.4, 0.6, 0.8]) - 0.1)


def test_spread_interval_inside_its_range_and_consistent_with_the_estimate():
    rng = np.random.default_rng(9)
    lon, lat = rng.uniform(0, 50, 800), rng.uniform(0, 50, 800)
    local = rng.random(800)
    blocks = make_blocks(lon, lat, 800.0)
    agg = spread_aggregate(local, blocks, bootstrap=500, ci=0.95, seed=0)
    assert 0.0 <= agg["ci_low"] <= agg["mean"] <= agg["ci_high"] <= 0.5


def test_null_options_are_checked():
    lon, lat = _points(200)
    df = _frame(lon, lat, _clustered_hits(lon, lat, 0.7, 0.0))
    with pytest.raises(InputError, match=r"null \(--null\) must be one of"):
        pygbs.score(df, scales=["nn20"], null="shuffle")
    with pytest.raises(InputError, match=r"null_draws \(--null-draws\) must be an integer >= 1"):
        pygbs.score(df, scales=["nn20"], null="accuracy", null_draws=0)
    with pytest.raises(InputError, match="method 'pygbs' or 'analytic'"):
        pygbs.score(df, scales=["nn20"], null="accuracy", method="permutation")


def test_null_is_deterministic_and_independent_of_batches(monkeypatch):
    import pygbs.engine.base as engine

    lon, lat = _points(700)
    df = _frame(lon, lat, _clustered_hits(lon, lat, 0.7, 1.0))
    kw = {"scales": ["nn30"], "scores": ["marked", "performance"], "null": "accuracy",
          "null_draws": 7, "bootstrap": 100}  # fmt: skip
    a = pygbs.score(df, **kw)
    monkeypatch.setattr(engine, "MAX_BATCH", 97)
    monkeypatch.setattr(engine, "BATCH_ENTRIES", 97 * 30)
    b = pygbs.score(df, **kw)
    pd.testing.assert_frame_equal(a.centres, b.centres)
    # per-draw sums are added batch by batch: equal up to the order of the additions
    for col, per_scale in a.summary["aggregates"].items():
        for key, value in per_scale["nn30"].items():
            other = b.summary["aggregates"][col]["nn30"][key]
            if isinstance(value, float):
                assert other == pytest.approx(value, rel=1e-12, abs=1e-15), (col, key)
            else:
                assert other == value, (col, key)


def _adversarial_frame():
    """Coincident points, sparse outliers, constant patches and a dense cluster."""
    rng = np.random.default_rng(12)
    lon = np.concatenate([[1.0] * 12, [50.0, 80.0, 80.01, 80.02], rng.uniform(10, 14, 300),
                          rng.uniform(20, 20.3, 40)])  # fmt: skip
    lat = np.concatenate([[2.0] * 12, [3.0, 10.0, 10.0, 10.01], rng.uniform(10, 14, 300),
                          rng.uniform(0, 0.3, 40)])  # fmt: skip
    hits = np.concatenate([[1, 0] * 6, [1, 0, 1, 1], rng.random(300) < 0.7, np.ones(40)])
    return _frame(lon, lat, hits.astype(int))


@pytest.mark.parametrize("null", ["none", "accuracy"])
def test_every_skipped_centre_has_a_reason(null):
    from pygbs.stats.registry import REASONS

    res = pygbs.score(
        _adversarial_frame(), scales=["nn5", "100km", "300km", "nn60"],
        scores=["unmarked", "marked", "performance", "moran", "sri-lag", "sri-sector"],
        null=null, null_draws=5, bootstrap=50,
    )  # fmt: skip
    n_centres = res.summary["parameters"]["n_centres"]
    seen = set()
    for col, per_scale in res.summary["aggregates"].items():
        for scale, agg in per_scale.items():
            reasons = {k: v for k, v in agg.items() if k in REASONS.values()}
            seen |= {k for k, v in reasons.items() if v}
            assert agg["n_scored"] + sum(reasons.values()) == n_centres, (col, scale, agg)
            assert agg["n_skipped"] == sum(reasons.values()), (col, scale)
    # the case exercises most reasons
    assert {"n_skipped_min_points", "n_skipped_one_location", "n_skipped_no_part",
            "n_skipped_constant"} <= seen  # fmt: skip


def test_intervals_never_leave_the_range_of_the_score():
    # sparse data: many small, near-zero SSI values (the old mean +- t se went below 0)
    rng = np.random.default_rng(13)
    lon, lat = rng.uniform(-170, 170, 150), rng.uniform(-60, 60, 150)
    df = _frame(lon, lat, (rng.random(150) < 0.5).astype(int))
    res = pygbs.score(df, scales=["nn8"], scores=["marked", "performance", "moran"],
                      null="accuracy", null_draws=9)  # fmt: skip
    for col in ("marked_ssi", "performance_ssi"):
        agg = res.summary["aggregates"][col]["nn8"]
        values = res.centres[col].dropna()
        assert values.min() <= agg["ci_low"] <= agg["mean"] <= agg["ci_high"] <= values.max()
    # a tight cluster saturates the pygbs method at -ln(1e-256): the interval stays below
    at = np.repeat(np.arange(6) * 40.0 - 100.0, 150)  # six tight clusters, far apart
    lon = at + rng.normal(0, 0.01, 900)
    lat = rng.normal(0, 0.01, 900)
    res = pygbs.score(_frame(lon, lat, np.ones(900, int)), scales=["300km"],
                      scores=["unmarked"], k_max=None)  # fmt: skip
    agg = res.summary["aggregates"]["unmarked_ssi"]["300km"]
    assert agg["n_blocks"] == 6
    assert agg["mean"] > 500
    eps = 1e-9  # rounding of means of equal values
    assert agg["ci_low"] <= agg["mean"] + eps
    assert agg["mean"] <= agg["ci_high"] + eps
    assert agg["ci_high"] <= -math.log(1e-256) + eps
