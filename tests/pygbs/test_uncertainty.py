"""Uncertainty of Geo-Bias Scores: equal-area blocks, block bootstrap, paired tests, FDR."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import pygbs
from pygbs.errors import InputError
from pygbs.geo.scales import EARTH_RADIUS_KM
from pygbs.inference.bootstrap import block_bootstrap, block_size_km, make_blocks, paired_bootstrap
from pygbs.results.result import fdr_q_values


def test_blocks_are_equal_area_cells_at_least_as_wide_as_asked():
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-180, 180, 20000), np.degrees(np.arcsin(rng.uniform(-1, 1, 20000)))
    for km in (150.0, 1000.0, 5000.0):
        b = make_blocks(lon, lat, km)
        assert b.block_km >= km
        # the next finer resolution would be narrower than asked
        assert EARTH_RADIUS_KM * math.sqrt(math.pi / 3) / (b.nside + 1) < km
        # equal area: uniform points fill the 12 nside^2 cells evenly
        counts = np.bincount(b.ids)
        if 12 * b.nside**2 <= 200:  # every cell holds ~100 or more of the points
            assert b.n_blocks == 12 * b.nside**2
            expected = len(lon) / b.n_blocks
            assert counts.max() < 1.5 * expected and counts.min() > 0.5 * expected


def test_blocks_at_the_poles_and_the_antimeridian():
    # points 20 km apart across the antimeridian, and near the pole, share a 1000 km block
    lon = np.array([179.9, -179.9, 10.0, 40.0, 80.0])
    lat = np.array([10.0, 10.0, 89.95, 89.95, 89.95])
    b = make_blocks(lon, lat, 1000.0)
    assert b.ids[0] == b.ids[1]
    assert b.ids[2] == b.ids[3] == b.ids[4]
    with pytest.raises(InputError, match="block size"):
        make_blocks(lon, lat, 0.0)


def test_block_size_is_twice_the_neighbourhood_diameter():
    assert block_size_km(np.full(5, 100.0)) == 400.0
    assert block_size_km(np.array([10.0, 20.0, 30.0, np.nan, 0.0])) == 80.0
    assert block_size_km(np.zeros(3)) == pytest.approx(1e-3)


def test_iid_bootstrap_matches_the_normal_interval():
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, 4000)
    est = block_bootstrap(x, np.arange(len(x)), n_boot=4000, seed=2)
    se = x.std(ddof=1) / math.sqrt(len(x))
    assert est.estimate == pytest.approx(x.mean())
    assert est.ci_low == pytest.approx(x.mean() - 1.96 * se, abs=0.1 * se)
    assert est.ci_high == pytest.approx(x.mean() + 1.96 * se, abs=0.1 * se)
    assert est.n_blocks == len(x) and est.p_value < 0.01


def test_block_bootstrap_resamples_whole_blocks():
    # two blocks of two centres each, constant within: a replicate mean is 0, 5 or 10 with
    # probabilities 1/4, 1/2, 1/4. With b_eff = 2 the expanded levels are tiny, so the
    # interval is the whole range of the replicates: [0, 10] (a Student interval,
    # 5 +- 6.31 * 5, would leave the range of the values)
    values = np.array([0.0, 0.0, 10.0, 10.0, np.nan])
    blocks = np.array([0, 0, 1, 1, 1])
    est = block_bootstrap(values, blocks, n_boot=20000, ci=0.9, seed=0)
    assert est.estimate == 5.0 and est.n_centres == 4 and est.n_blocks == 2
    assert est.effective_blocks == 2.0
    assert (est.ci_low, est.ci_high) == (0.0, 10.0)
    # the p-value: Student's t with 1 degree of freedom, se = sqrt(12.5 * 2) = 5
    from scipy.stats import t as student_t

    assert est.p_value == pytest.approx(2 * student_t.sf(5.0 / 5.0, 1), rel=0.03)
    # unequal blocks count as fewer: counts 8, 1, 1 give b_eff = 100 / 66
    assert block_bootstrap(
        np.arange(10.0), np.array([0] * 8 + [1, 2]), seed=0
    ).effective_blocks == pytest.approx(100 / 66)
    # one block: no interval; n_boot=0: no interval
    assert math.isnan(block_bootstrap(values, np.zeros(5, int), seed=0).ci_low)
    assert math.isnan(block_bootstrap(values, blocks, n_boot=0).ci_high)
    # seeded
    a = block_bootstrap(np.arange(50.0), np.arange(50) // 5, seed=3)
    b = block_bootstrap(np.arange(50.0), np.arange(50) // 5, seed=3)
    assert a == b
    with pytest.raises(InputError, match="confidence level"):
        block_bootstrap(values, blocks, ci=1.5)


def test_paired_bootstrap_uses_centres_scored_for_both():
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    b = np.array([0.0, 1.0, 3.0, np.nan, 4.0, 5.0])
    est = paired_bootstrap(a, b, np.arange(6), n_boot=200)
    assert est.estimate == 1.0 and est.n_centres == 4
    assert est.ci_low == est.ci_high == 1.0 and est.p_value == 0.0
    same = paired_bootstrap(a, a, np.arange(6), n_boot=200)
    assert same.estimate == 0.0 and same.p_value == 1.0


def test_fdr_q_values_by_hand():
    # Benjamini-Hochberg with m = 4: sorted p 0.01, 0.03, 0.04, 0.5 give p m / rank
    # 0.04, 0.06, 0.0533, 0.5, then the running minimum from the top: 0.04, 0.0533, 0.0533, 0.5
    p = np.array([0.01, 0.04, 0.03, 0.5, np.nan])
    q = fdr_q_values(p)
    np.testing.assert_allclose(q[:4], [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    assert math.isnan(q[4])


def _clustered(rng, n=1500, clusters=6, sd_km=250.0):
    c = rng.integers(0, clusters, n)
    clon, clat = rng.uniform(-120, 120, clusters), rng.uniform(-50, 50, clusters)
    lat = clat[c] + rng.normal(0, sd_km / 111.2, n)
    lon = clon[c] + rng.normal(0, sd_km / 111.2, n) / np.cos(np.radians(clat[c]))
    return lon, lat


def _marked(lon, lat, hit):
    df = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit.astype(int)})
    res = pygbs.score(df, scales=["100km"], scores=["marked"], bootstrap=0)
    return res.centres


def test_summary_and_table_carry_intervals_and_q_values():
    rng = np.random.default_rng(5)
    lon, lat = _clustered(rng, n=600)
    df = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": (rng.random(600) < 0.7).astype(int)})
    res = pygbs.score(df, scales=["100km", "nn20"], bootstrap=300, seed=1)
    for col in ("unmarked_ssi", "marked_ssi"):
        for scale in ("100km", "nn20"):
            agg = res.summary["aggregates"][col][scale]
            assert agg["ci_low"] <= agg["mean"] <= agg["ci_high"]
            assert agg["n_blocks"] > 10 and agg["block_km"] > 0
            assert agg["share_significant_fdr"] <= agg["share_significant"]
        assert f"{col}_q" in res.centres.columns
        assert (res.centres[f"{col}_q"].dropna() >= res.centres[f"{col}_p"].dropna()).all()
    assert res.summary["aggregates"]["marked_ssi"]["100km"]["block_km"] >= 400.0
    off = pygbs.score(df, scales=["100km"], bootstrap=0)
    assert off.summary["aggregates"]["marked_ssi"]["100km"]["ci_low"] is None


@pytest.mark.parametrize("n_seeds", [50])
def test_calibration_of_the_paired_interval_without_geo_bias(n_seeds):
    """Two models whose errors fall at random over a clustered sample: no real difference.

    The 95 % interval of the difference from the spatial block bootstrap must cover 0 in
    90-99 % of the seeds; the naive i.i.d. bootstrap over centres, which ignores that
    neighbouring centres share samples, covers it clearly less often.
    """
    covered_block = covered_iid = 0
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        lon, lat = _clustered(rng)
        a = _marked(lon, lat, rng.random(len(lon)) < 0.7)
        b = _marked(lon, lat, rng.random(len(lon)) < 0.7)
        cells = make_blocks(lon, lat, block_size_km(a["radius_km"]))
        blk = paired_bootstrap(b["marked_ssi"], a["marked_ssi"], cells.ids, n_boot=400, seed=seed)
        iid = paired_bootstrap(
            b["marked_ssi"], a["marked_ssi"], np.arange(len(lon)), n_boot=400, seed=seed
        )
        covered_block += blk.ci_low <= 0.0 <= blk.ci_high
        covered_iid += iid.ci_low <= 0.0 <= iid.ci_high
    print(f"\ncoverage of 0 over {n_seeds} seeds: block {covered_block}, i.i.d. {covered_iid}")
    assert 0.90 * n_seeds <= covered_block <= 0.99 * n_seeds
    assert covered_iid <= covered_block - 0.2 * n_seeds


def test_planted_failure_patches_are_detected():
    """Failures in a 1-degree checkerboard (patches about the neighbourhood's size) raise
    marked SSI beyond what the choice of locations explains."""
    rng = np.random.default_rng(11)
    lon, lat = _clustered(rng)
    board = (np.floor(lon) + np.floor(lat)) % 2 == 0
    patchy = np.where(board, rng.random(len(lon)) < 0.95, rng.random(len(lon)) < 0.45)
    random = rng.random(len(lon)) < patchy.mean()
    a, b = _marked(lon, lat, patchy), _marked(lon, lat, random)
    cells = make_blocks(lon, lat, block_size_km(a["radius_km"]))
    est = paired_bootstrap(a["marked_ssi"], b["marked_ssi"], cells.ids, n_boot=1000, seed=0)
    assert est.ci_low > 0 and est.p_value < 0.05


def _three_models(tmp_path):
    rng = np.random.default_rng(2)
    lon, lat = _clustered(rng, n=400)
    paths = []
    for name, acc in (
        ("eval_x_test_NeRF", 0.9),
        ("eval_x_test_no_prior", 0.5),
        ("eval_x_test_wrap", 0.7),
    ):
        df = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": (rng.random(400) < acc).astype(int)})
        paths.append(tmp_path / f"{name}.csv")
        df.to_csv(paths[-1], index=False)
    return paths


def test_compare_pairs_against_no_prior_or_all(tmp_path):
    paths = _three_models(tmp_path)
    kw = {"scales": ["200km"], "bootstrap": 200}
    cmp = pygbs.compare(paths, **kw)
    assert cmp.baseline == "eval_x_test_no_prior"
    assert set(cmp.pairs["model_b"]) == {"eval_x_test_no_prior"}
    assert set(cmp.pairs["model_a"]) == {"eval_x_test_NeRF", "eval_x_test_wrap"}
    row = cmp.pairs[(cmp.pairs["model_a"] == "eval_x_test_NeRF") & (cmp.pairs["score"] == "marked")]
    a = cmp.results["eval_x_test_NeRF"].centres["marked_ssi"]
    b = cmp.results["eval_x_test_no_prior"].centres["marked_ssi"]
    assert row["diff"].iloc[0] == pytest.approx(np.nanmean(a - b))
    assert row["ci_low"].iloc[0] <= row["diff"].iloc[0] <= row["ci_high"].iloc[0]
    every = pygbs.compare(paths, pairs="all", baseline="eval_x_test_wrap", **kw)
    # 3 pairs x (unmarked, marked and its excess, spread and its excess)
    assert len(every.pairs) == 3 * 5
    assert set(every.pairs["score"]) == {
        "unmarked",
        "marked",
        "marked_excess",
        "spread",
        "spread_excess",
    }
    with pytest.raises(InputError, match="baseline 'nope'"):
        pygbs.compare(paths, baseline="nope", **kw)
    # three models: accuracy correlation per score; unmarked SSI is the same for all
    corr = cmp.accuracy_correlation.set_index("column")
    assert corr.loc["marked_ssi@200km", "n_models"] == 3
    assert np.isnan(corr.loc["unmarked_ssi@200km", "spearman"])
    md = cmp.to_markdown()
    assert "## Paired differences" in md and "## Does the score track accuracy?" in md


def test_accuracy_correlation_flags_a_score_that_tracks_accuracy():
    from pygbs.api import accuracy_correlation

    table = pd.DataFrame(
        {
            "model": list("abcde"),
            "accuracy": [0.1, 0.2, 0.3, 0.4, 0.5],
            "marked_ssi@100km": [1.0, 2.0, 3.0, 5.0, 4.0],  # rho = 0.9
            "unmarked_ssi@100km": [3.0, 1.0, 5.0, 2.0, 4.0],  # rho = 0.3
        }
    )
    corr = accuracy_correlation(table).set_index("column")
    assert corr.loc["marked_ssi@100km", "spearman"] == pytest.approx(0.9)
    assert corr.loc["marked_ssi@100km", "tracks_accuracy"]
    assert corr.loc["unmarked_ssi@100km", "spearman"] == pytest.approx(0.3)
    assert not corr.loc["unmarked_ssi@100km", "tracks_accuracy"]


def test_report_shows_intervals_and_pairs(tmp_path):
    from pygbs.plot import write_report

    paths = _three_models(tmp_path)
    cmp = pygbs.compare(paths, scales=["200km"], bootstrap=100)
    html = write_report(cmp, tmp_path / "r.html").read_text()
    assert "Is the difference real?" in html and "<th" in html and ">q</th>" in html
    assert "Does a score only track accuracy?" in html
    # the q-values are Benjamini-Hochberg's over the rows that can differ (not unmarked)
    from scipy.stats import false_discovery_control

    from pygbs.plot.report_parts import compact_pairs

    shown = cmp.pairs[cmp.pairs["score"] != "unmarked"]
    q = np.sort(false_discovery_control(shown["p_value"].to_numpy(), method="bh"))
    table = compact_pairs(cmp.pairs, {})
    assert len(table) == len(shown)
    np.testing.assert_allclose(table["q"].astype(float), q, rtol=0.06)  # shown to 2 digits
    for row in shown.itertuples():
        assert f"{row.diff:.3g} [{row.ci_low:.3g}, {row.ci_high:.3g}]" in html


def test_typed_aggregate_mirrors_the_summary():
    rng = np.random.default_rng(8)
    lon, lat = _clustered(rng, n=300)
    df = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": (rng.random(300) < 0.7).astype(int)})
    res = pygbs.score(df, scales=["100km"], bootstrap=100)
    agg = res.aggregate("marked", "100km")
    raw = res.summary["aggregates"]["marked_ssi"]["100km"]
    assert agg.mean == raw["mean"] == res.headline("marked", "100km")
    assert (agg.ci_low, agg.ci_high) == (raw["ci_low"], raw["ci_high"])
    assert agg.n_blocks == raw["n_blocks"]
    assert agg.counts["n_constant"] == raw["n_constant"]
    with pytest.raises(InputError, match="no score"):
        res.aggregate("marked", "5km")


def test_fdr_q_values_equal_scipy():
    from scipy.stats import false_discovery_control

    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 50, 2000):
        p = rng.uniform(0, 1, n) ** 3
        p[: n // 4] = p[n // 4 : 2 * (n // 4)]  # ties
        if n > 10:
            p[:3] = [0.0, 1.0, 1.0]
        want = false_discovery_control(p, method="bh")
        assert np.array_equal(fdr_q_values(p), want), n


def test_bootstrap_interval_is_the_expanded_percentile_of_the_replicates():
    # bounds: quantiles of the replicate means at the levels Phi(-z), z = sqrt(b/(b-1)) t;
    # p-value: 2 t.sf(|estimate| / se), se from the replicates; all with scipy.stats
    from scipy.stats import norm
    from scipy.stats import t as student_t

    from pygbs.inference.bootstrap import resampled_sums

    rng = np.random.default_rng(2)
    values = rng.normal(0.3, 1.0, 300)
    blocks = rng.integers(0, 17, 300)
    est = block_bootstrap(values, blocks, n_boot=500, ci=0.9, seed=1)
    sums = np.bincount(blocks, weights=values, minlength=17)
    counts = np.bincount(blocks, minlength=17).astype(float)
    rep = resampled_sums(np.column_stack([sums, counts]), 500, 1)
    means = rep[:, 0] / rep[:, 1]
    b = est.effective_blocks
    assert b == pytest.approx(counts.sum() ** 2 / (counts**2).sum())
    z = math.sqrt(b / (b - 1)) * float(student_t.ppf(0.95, b - 1))
    level = float(norm.cdf(-z))
    assert est.ci_low == pytest.approx(np.quantile(means, level), rel=1e-12)
    assert est.ci_high == pytest.approx(np.quantile(means, 1 - level), rel=1e-12)
    se = means.std(ddof=1) * math.sqrt(b / (b - 1))
    want = float(2.0 * student_t.sf(abs(est.estimate) / se, b - 1))
    assert 0.0 < want < 0.5 and est.p_value == pytest.approx(want, rel=1e-12)
    # wider than the plain percentile interval with few blocks
    assert est.ci_low < np.quantile(means, 0.05) and est.ci_high > np.quantile(means, 0.95)
