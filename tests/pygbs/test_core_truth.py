"""The numerical core against independent truth, with no shared data needed.

Each test pins one part of the core that a one-line change could break without any other
test of the default suite noticing when ``../shared`` is absent (the parity tests then
skip):

- the "pygbs" null moments on a hand-worked pattern with three label values (every term
  written out as an exact fraction);
- the "pygbs" p-value against its formula evaluated by scipy, ``2 Phi(min(S, 2 mu - S))``;
- the p-value floor: a tight cluster whose SSI saturates at exactly ``-ln(1e-256)``;
- ``pygbs.score`` against the dense NumPy implementation (pygbs.testing.dense) on generated data;
- permutation p-values against an exact enumeration of every labelling of a 6-point
  pattern (ties with the observed value count);
- the bootstrap block size on radii whose mean and median differ.

``benchmarks/mutation_check.py`` applies one-line mutations to the core and runs these
tests (docs/benchmarks.md, "Mutations of the numerical core").
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction as F

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import pygbs
from pygbs._kernels.stats import (
    centred_statistic,
    permutation_pvalue,
    pygbs_moments,
    pygbs_pvalue,
)
from pygbs.geo.scales import EARTH_RADIUS_KM
from pygbs.inference.bootstrap import block_size_km
from pygbs.testing.dense import dense_score


def test_pygbs_moments_three_labels_by_hand():
    # z: ten 0s, two 1s, one 2.  N = 13, xbar = 4/13, the most frequent value is 0 (R).
    # Centred values: c0 = -4/13, c1 = 9/13, c2 = 22/13.  K = 4 (the reference's).
    z = np.array([0.0] * 10 + [1.0] * 2 + [2.0])
    c0, c1, c2 = F(-4, 13), F(9, 13), F(22, 13)
    n = 13
    # mu: pairs i != j add c_i c_j min(n_i, n_j) K max(n_i, n_j) / N (each pair twice),
    # the diagonal adds c_i^2 ((n_i - 1) K n_i / N - 1)
    mu = (
        2 * c0 * c1 * F(2 * 4 * 10, n)
        + 2 * c0 * c2 * F(1 * 4 * 10, n)
        + 2 * c1 * c2 * F(1 * 4 * 2, n)
        + c0**2 * (F(9 * 4 * 10, n) - 1)
        + c1**2 * (F(1 * 4 * 2, n) - 1)
        + c2**2 * (F(0) - 1)
    )
    # V: only values other than R.  Pair (1, 2) and (2, 1): min n = 1, max n = 2,
    # weight 1 * (8/13) * (1 - 8/13); e = (c_i c_j - 2 c_i c_R + c_R^2)^2 (not symmetric).
    w12 = F(8, 13) * (1 - F(8, 13))
    e12 = (c1 * c2 - 2 * c1 * c0 + c0**2) ** 2
    e21 = (c1 * c2 - 2 * c2 * c0 + c0**2) ** 2
    # diagonal of value 1 (n = 2): 2 (n-1) K n / N (1 - K (2n - 1) / (3N)) (1 - 0)^4;
    # value 2 (n = 1) adds 0
    d1 = 2 * 1 * F(4 * 2, n) * (1 - F(4 * 3, 3 * n))
    var = (e12 + e21) * w12 + d1
    got_mu, got_sigma = pygbs_moments(z)
    assert got_mu == pytest.approx(float(mu), rel=1e-13)
    assert got_sigma == pytest.approx(math.sqrt(float(var)) + 1.0, rel=1e-13)
    # the labels' order does not matter
    mu2, sigma2 = pygbs_moments(z[::-1].copy())
    assert (mu2, sigma2) == pytest.approx((got_mu, got_sigma), rel=1e-14)


def test_statistic_with_unequal_degrees_by_hand():
    # rows with k and k + 1 neighbours (the reference rule at coincident points), -1 pads
    z = np.array([1.0, 1.0, 0.0, 0.0])
    nbr = np.array([[1, 2], [0, 2], [0, -1], [0, -1]], dtype=np.int64)
    # x = z - 1/2 = (1/2, 1/2, -1/2, -1/2); S = sum_a x_a sum_{b in N(a)} x_b
    #   = 1/2 (1/2 - 1/2) + 1/2 (1/2 - 1/2) - 1/2 (1/2) - 1/2 (1/2) = -1/2
    assert centred_statistic(z, nbr) == pytest.approx(-0.5, abs=1e-15)


@pytest.mark.parametrize(
    ("s", "mu", "sigma"),
    [(1.0, 2.0, 1.0), (3.5, 2.0, 1.0), (-4.0, -1.5, 2.5), (10.0, 3.0, 1.7), (0.3, 0.3, 1.0)],
)
def test_pygbs_pvalue_is_the_two_sided_normal_tail(s, mu, sigma):
    want = 2.0 * norm.cdf(min(s, 2.0 * mu - s), loc=mu, scale=sigma)
    assert pygbs_pvalue(s, mu, sigma) == pytest.approx(want, rel=1e-12)
    # symmetric about mu
    assert pygbs_pvalue(2.0 * mu - s, mu, sigma) == pytest.approx(want, rel=1e-12)


def _generated(n: int = 300, seed: int = 11) -> pd.DataFrame:
    """Six clusters of samples with a hit rate that varies with longitude."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-8, 8, n) + np.repeat(rng.uniform(-150, 150, 6), n // 6)
    lat = rng.uniform(-4, 4, n) + np.repeat(rng.uniform(-50, 50, 6), n // 6)
    hit = (rng.random(n) < 0.5 + 0.4 * np.sin(np.radians(lon * 3))).astype(int)
    return pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit})


@pytest.fixture(scope="module")
def generated_scores() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = _generated()
    res = pygbs.score(
        df, scales=["300km", "nn30"], scores=["unmarked", "marked"], min_points=5, bootstrap=0
    )
    return df, res.centres


@pytest.mark.parametrize("scale", ["300km", "nn30"])
def test_score_agrees_with_the_dense_implementation(generated_scores, scale):
    df, centres_table = generated_scores
    rows = np.arange(0, len(df), 3)
    lat, lon = np.radians(df["lat"].to_numpy()), np.radians(df["lon"].to_numpy())
    marks = np.where(df["hit@1"].to_numpy() > 0, 1.0, -1.0)
    where = {"radius": 300.0 / EARTH_RADIUS_KM} if scale == "300km" else {"knn": 30}
    dense = dense_score(lat, lon, marks, rows, min_points=5, **where)
    got = centres_table[centres_table["scale"] == scale].set_index("row").loc[rows]
    for col in ("unmarked_ssi", "marked_ssi"):
        a, b = got[col].to_numpy(), dense[col].to_numpy()
        # the same centres are skipped (fewer than 5 samples); most are scored
        assert np.array_equal(np.isnan(a), np.isnan(b))
        assert np.isfinite(a).mean() > 0.75
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        same = np.isclose(a, b, rtol=1e-7, atol=1e-9)
        # the two differ only where near-equidistant points are ordered differently
        assert same.mean() >= 0.9, (col, same.mean())
        assert np.median(np.abs(a - b)) < 1e-9


def test_tight_cluster_saturates_at_the_p_floor():
    rng = np.random.default_rng(2)
    n = 100
    df = pd.DataFrame(
        {
            "lon": 20.0 + rng.uniform(-0.004, 0.004, n),
            "lat": -10.0 + rng.uniform(-0.004, 0.004, n),
            "hit@1": (np.arange(n) % 2).astype(int),
        }
    )
    res = pygbs.score(df, scales=["300km"], scores=["unmarked"], min_points=5, bootstrap=0)
    ssi = res.centres["unmarked_ssi"].to_numpy()
    # S lies dozens of sigmas out: p underflows to 0 and SSI = -ln(0 + 1e-256)
    np.testing.assert_allclose(ssi, 256.0 * math.log(10.0), rtol=1e-12)


def _ring_exact_p(z: np.ndarray, nbr: np.ndarray) -> tuple[float, float, float]:
    """Exact two-sided permutation p-value (ties count), and the strict one, by enumeration."""

    def stat(v: np.ndarray) -> float:
        x = v - v.mean()
        return float(sum(x[a] * x[nbr[a]].sum() for a in range(len(v))))

    values = [stat(np.array(p, dtype=float)) for p in itertools.permutations(z)]
    values = np.array(values)
    mean = values.mean()
    dev = abs(stat(z) - mean)
    d = np.abs(values - mean)
    # no other value lies near the observed distance (a noisy mean cannot flip a tie)
    others = d[~np.isclose(d, dev)]
    assert np.min(np.abs(others - dev)) > 0.3
    return float(np.mean(d >= dev - 1e-9)), float(np.mean(d > dev + 1e-9)), mean


@pytest.mark.parametrize(
    ("z", "p_ties", "p_strict"),
    [
        ([1, 1, 1, 0, 0, 0], 8 / 20, 2 / 20),  # contiguous: S = 1
        ([1, 0, 1, 0, 1, 0], 2 / 20, 0.0),  # alternating: S = -3 (negative association)
        ([2, 2, 1, 0, 0, 1], None, None),  # three labels: checked by enumeration only
    ],
)
def test_permutation_pvalue_matches_exact_enumeration(z, p_ties, p_strict):
    # a ring of 6 points, each pointing to its two ring neighbours
    nbr = np.array([[(a - 1) % 6, (a + 1) % 6] for a in range(6)], dtype=np.int64)
    z = np.array(z, dtype=np.float64)
    exact_ties, exact_strict, exact_mean = _ring_exact_p(z, nbr)
    if p_ties is not None:
        assert (exact_ties, exact_strict) == pytest.approx((p_ties, p_strict), abs=1e-12)
    x = z - z.mean()
    s = float(sum(x[a] * x[nbr[a]].sum() for a in range(6)))
    n_perm = 20000
    p, mean, _ = permutation_pvalue(z, nbr, s, n_perm, 123)
    tol = 5.0 * math.sqrt(exact_ties * (1 - exact_ties) / n_perm) + 2.0 / n_perm
    assert p == pytest.approx((1 + exact_ties * n_perm) / (n_perm + 1), abs=tol)
    assert mean == pytest.approx(exact_mean, abs=0.05)
    # the same seed gives the same draw
    assert permutation_pvalue(z, nbr, s, n_perm, 123)[0] == p


def test_block_size_uses_the_median_radius():
    # mean radius 4 km, median 1 km: blocks two diameters wide = 4 * median
    assert block_size_km(np.array([1.0, 1.0, 10.0])) == pytest.approx(4.0)
    # non-positive and missing radii are ignored
    assert block_size_km(np.array([0.0, np.nan, 2.0, 3.0, 100.0])) == pytest.approx(12.0)
    assert block_size_km(np.array([0.0, 0.0])) == pytest.approx(1e-3)


def test_permutation_method_reports_minus_log_p():
    df = _generated(n=120, seed=8)
    res = pygbs.score(
        df, scales=["nn20"], scores=["marked"], method="permutation", permutations=99,
        bootstrap=0,
    )  # fmt: skip
    p = res.centres["marked_ssi_p"].to_numpy()
    ssi = res.centres["marked_ssi"].to_numpy()
    ok = np.isfinite(p)
    assert ok.mean() > 0.9
    # p = (1 + count) / (P + 1): a multiple of 1/100; SSI = -ln p
    np.testing.assert_allclose(p[ok] * 100, np.round(p[ok] * 100), atol=1e-9)
    np.testing.assert_allclose(ssi[ok], -np.log(p[ok]), rtol=1e-12)
