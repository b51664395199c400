"""SSI: hand-computed moments, esda agreement, invariants, duplicates, determinism."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import pygbs
from pygbs._kernels import ssi as K
from pygbs._kernels.background import bearings
from pygbs._kernels.stats import centred_statistic, log_norm_sf, pygbs_moments
from pygbs.geo.background import background_points, rotations
from pygbs.geo.geometry import to_unit_vectors


def _with_background(lat, lon, radius):
    """Samples (centre first) + their background grid, checked against the public
    background_points."""
    rot = rotations(lat[:1], lon[:1])[0]
    xyz = to_unit_vectors(lat, lon)
    table = bearings(100)
    plat, plon, pcos, pxyz = K.build_pattern(
        lat, lon, np.cos(lat), xyz, np.arange(len(lat)), radius, rot, table, True
    )
    lazy = K.build_pattern(lat, lon, np.cos(lat), xyz, np.arange(len(lat)), radius, rot, table)
    assert np.isnan(lazy[0][len(lat) :]).all() and np.array_equal(lazy[3], pxyz)
    blat, blon = background_points(lat[0], lon[0], radius, len(lat))
    n = len(lat)
    assert np.array_equal(plat[n:], blat) and np.array_equal(plon[n:], blon)
    np.testing.assert_allclose(pxyz[n:], to_unit_vectors(blat, blon), atol=1e-15)
    np.testing.assert_array_equal(pcos, np.cos(plat))
    return plat, plon, pcos, pxyz


def test_pygbs_moments_by_hand():
    # z = [1, 0, 0]: values (0, 1), counts (2, 1), N = 3, xbar = 1/3, R = value 0.
    # mu = 1/9 (8/3 - 1) + 2 (-2/9)(8/3) + 4/9 (-1) = -13/9 ; V = 0 -> sigma = 1
    mu, sigma = pygbs_moments(np.array([1.0, 0.0, 0.0]))
    assert mu == pytest.approx(-13 / 9, rel=1e-14)
    assert sigma == 1.0
    # z = [1, 1, 0, 0, 0]: mu = 0.608 - 2.304 + 0.216 = -1.48;
    # V = 2 (2-1) 4*2/5 (1 - 4*3/15) * (1-0)^4 = 0.64 -> sigma = 1.8
    mu, sigma = pygbs_moments(np.array([1.0, 1.0, 0.0, 0.0, 0.0]))
    assert mu == pytest.approx(-1.48, rel=1e-14)
    assert sigma == pytest.approx(1.8, rel=1e-14)


def test_centred_statistic_by_hand():
    z = np.array([1.0, 0.0, 0.0, 1.0])  # mean 0.5, x = (.5, -.5, -.5, .5)
    nbr = np.array([[1, -1], [0, 2], [3, 1], [0, -1]])
    # row 0: .5 * (-.5) ; row 1: -.5 * (.5 - .5) ; row 2: -.5 * (.5 - .5) ; row 3: .5 * .5
    assert centred_statistic(z, nbr) == pytest.approx(-0.25 + 0 + 0 + 0.25, abs=1e-15)


def test_log_norm_sf_matches_scipy_and_extends_the_tail():
    from scipy.stats import norm

    for a in (0.0, 1.0, 5.0, 20.0, 29.9, 30.1, 35.0):
        assert log_norm_sf(a) == pytest.approx(norm.logsf(a), rel=1e-10)
    assert np.isfinite(log_norm_sf(60.0)) and log_norm_sf(60.0) < -1790


def _pattern(n=40, seed=0, spread=0.3):
    rng = np.random.default_rng(seed)
    lat = np.radians(45 + rng.uniform(-spread, spread, n) * 10)
    lon = np.radians(8 + rng.uniform(-spread, spread, n) * 10)
    plat, plon, pcos, xyz = _with_background(lat, lon, np.radians(spread * 15))
    marks = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    return plat, plon, pcos, xyz, marks


@pytest.mark.parametrize("labels", ["unmarked", "marked"])
def test_analytic_matches_esda(labels):
    esda = pytest.importorskip("esda")
    from libpysal.weights import W

    plat, plon, pcos, xyz, marks = _pattern()
    nbr = K.knn_graph(plat, plon, pcos, xyz, plat[0], plon[0], 4, False)
    m = xyz.shape[0]
    z = np.zeros(m)
    z[: len(marks)] = 1.0 if labels == "unmarked" else marks
    out = np.empty(K.N_OUT)
    K.score_pattern(z, nbr, K.METHOD_ANALYTIC, 0, 0, out)
    w = W({a: [int(b) for b in nbr[a]] for a in range(m)}, silence_warnings=True)
    mi = esda.Moran(z, w, transformation="b", permutations=0)
    # our statistic is S = I * S0 * sum(x^2) / n: compare the standardised forms
    zs = (out[K.OUT_S] - out[K.OUT_MU]) / out[K.OUT_SIGMA]
    assert zs == pytest.approx(mi.z_rand, rel=1e-8)
    scale = mi.w.s0 * np.sum((z - z.mean()) ** 2) / m
    assert out[K.OUT_MU] / scale == pytest.approx(mi.EI, rel=1e-8)
    assert (out[K.OUT_SIGMA] / scale) ** 2 == pytest.approx(mi.VI_rand, rel=1e-8)
    assert out[K.OUT_P] == pytest.approx(mi.p_rand, rel=1e-8)
    assert out[K.OUT_SSI] == pytest.approx(-math.log(mi.p_rand), rel=1e-8)


def test_permutation_is_seeded_and_consistent_with_analytic():
    plat, plon, pcos, xyz, marks = _pattern(n=60, seed=3)
    nbr = K.knn_graph(plat, plon, pcos, xyz, plat[0], plon[0], 4, False)
    z = np.zeros(xyz.shape[0])
    z[:60] = 1.0  # strongly clustered: samples vs background
    a, b, c = np.empty(K.N_OUT), np.empty(K.N_OUT), np.empty(K.N_OUT)
    K.score_pattern(z, nbr, K.METHOD_PERMUTATION, 199, 7, a)
    K.score_pattern(z, nbr, K.METHOD_PERMUTATION, 199, 7, b)
    K.score_pattern(z, nbr, K.METHOD_ANALYTIC, 0, 0, c)
    assert np.array_equal(a, b, equal_nan=True)
    # the observed S is far outside every permutation: p is the minimum 1/(P+1)
    assert a[K.OUT_P] == pytest.approx(1 / 200)
    assert c[K.OUT_P] < 1e-6
    # permutation mean agrees with the analytic expectation under randomisation
    assert a[K.OUT_MU] == pytest.approx(c[K.OUT_MU], rel=0.1, abs=0.5)


def _random_table(n=400, seed=1):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-10, 10, n) + np.repeat(rng.uniform(-150, 150, 8), n // 8)
    lat = rng.uniform(-5, 5, n) + np.repeat(rng.uniform(-60, 60, 8), n // 8)
    hit = (rng.random(n) < 0.5 + 0.4 * np.sin(np.radians(lon * 3))).astype(int)
    return pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit})


def test_row_permutation_invariance():
    df = _random_table()
    perm = np.random.default_rng(5).permutation(len(df))
    kw = dict(scales=["500km", "nn20"], scores=["unmarked", "marked"], min_points=3)
    a = pygbs.score(df, **kw).centres
    b = pygbs.score(df.iloc[perm].reset_index(drop=True), **kw).centres
    # row r of the permuted table is original row perm[r]
    b = b.assign(row=perm[b["row"].to_numpy()]).sort_values(["scale", "row"])
    a = a.sort_values(["scale", "row"])
    for col in ("n_neighbours", "unmarked_ssi", "marked_ssi"):
        np.testing.assert_allclose(a[col].to_numpy(), b[col].to_numpy(), rtol=1e-12, equal_nan=True)


def test_rotation_about_the_axis_invariance():
    """Rotating every point about the Earth's axis leaves the scores unchanged.

    With ``graph="strict"`` points that are equidistant in exact arithmetic (a background
    ring and the centre, say) are tied and ordered by index, so the k-NN graph, and the
    score, is the same wherever the data sit. (The reference rule lets floating-point
    rounding decide such ties, as the public implementation does; there a rotation can
    change a few neighbourhoods, see docs/method.md.)
    """
    df = _random_table(seed=2)
    kw = dict(scales=["300km", "nn15"], scores=["unmarked", "marked"], graph="strict", min_points=3)
    a = pygbs.score(df, **kw).centres
    rot = df.assign(lon=((df["lon"] + 137.0 + 180.0) % 360.0) - 180.0)
    b = pygbs.score(rot, **kw).centres
    np.testing.assert_array_equal(a["n_neighbours"], b["n_neighbours"])
    for col in ("unmarked_ssi", "marked_ssi"):
        assert np.isfinite(a[col]).mean() > 0.9
        np.testing.assert_allclose(a[col], b[col], rtol=1e-9, equal_nan=True)


def test_duplicates_are_counted_and_scored():
    rng = np.random.default_rng(4)
    lon = np.repeat(rng.uniform(0, 5, 30), 4)  # every location 4 times
    lat = np.repeat(rng.uniform(40, 45, 30), 4)
    df = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": rng.integers(0, 2, 120)})
    res = pygbs.score(df, scales=["200km", "nn8"])
    assert res.summary["input"]["n_duplicate_locations"] == 90
    assert np.isfinite(res.centres["marked_ssi"]).mean() > 0.9


def test_all_coincident_neighbourhood_is_skipped_and_counted():
    df = pd.DataFrame(
        {"lon": [1.0] * 10 + [50.0], "lat": [2.0] * 10 + [3.0], "hit@1": [1, 0] * 5 + [1]}
    )
    res = pygbs.score(df, scales=["nn5"])
    agg = res.summary["aggregates"]["marked_ssi"]["nn5"]
    assert agg["n_skipped"] == 10  # radius 0: no background can be placed
    assert agg["n_scored"] == 1


def test_deterministic_bit_for_bit():
    df = _random_table(seed=9)
    kw = dict(scales=["400km"], scores=["unmarked", "marked", "sri-lag"])
    a, b = pygbs.score(df, **kw).centres, pygbs.score(df, **kw).centres
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_bad_options_name_the_value():
    df = _random_table(n=40)
    with pytest.raises(pygbs.InputError, match="method"):
        pygbs.score(df, method="bogus")
    with pytest.raises(pygbs.InputError, match="unknown score 'sri'"):
        pygbs.score(df, scores=["sri"])
    with pytest.raises(pygbs.InputError, match="scale"):
        pygbs.score(df, scales=["100miles"])
    with pytest.raises(pygbs.InputError, match="centre row 99"):
        pygbs.score(df, centres=[0, 99])


def test_chunking_does_not_change_results(monkeypatch):
    import pygbs.api
    import pygbs.stats.ssi

    df = _random_table(seed=11, n=160)
    kw = dict(
        scales=["600km", "nn12"],
        scores=["unmarked", "marked", "sri-lag", "sri-sector"],
        sri_threshold=3,
    )
    whole = pygbs.score(df, **kw).centres
    monkeypatch.setattr(pygbs.api, "SRI_CHUNK", 7)
    monkeypatch.setattr(pygbs.stats.ssi, "CHUNK", 5)
    monkeypatch.setattr(pygbs.stats.ssi, "CHUNK_POINTS", 300)  # some batches of a single centre
    chunked = pygbs.score(df, **kw).centres
    pd.testing.assert_frame_equal(whole, chunked, check_exact=True)
    assert whole["sri_lag"].notna().any()


def _brute_force_neighbours(plat, plon, pcos, a, width, reference_rule):
    """Rank every point by (haversine reduced distance, index); the strict rule treats
    distances within a relative 1e-9 as ties and excludes the point itself."""
    import functools

    from pygbs._kernels.kdtree import rdist

    m = len(plat)
    h = [rdist(plat[a], plon[a], pcos[a], plat[b], plon[b], pcos[b]) for b in range(m)]
    tol = 0.0 if reference_rule else 1e-9

    def cmp(i, j):
        if h[i] == h[j] or (tol and abs(h[i] - h[j]) <= tol * max(h[i], h[j])):
            return i - j
        return -1 if h[i] < h[j] else 1

    order = sorted((b for b in range(m) if reference_rule or b != a), key=functools.cmp_to_key(cmp))
    return {b for b in order[:width] if b != a}


@pytest.mark.parametrize(
    ("reference_rule", "n", "n_coincident", "spread"),
    [
        (True, 80, 16, 0.3),  # 16 coincident samples: a tie group overflows the buffer
        (False, 80, 16, 0.3),
        (True, 120, 70, 0.3),  # more points in a block than the fast path takes
        (False, 120, 70, 0.3),
        (True, 150, 0, 0.02),  # samples much denser than the background grid
        (False, 60, 0, 0.45),
        (True, 240, 0, 0.04),  # a dense cluster: smaller blocks around its cells
        (False, 240, 0, 0.04),
    ],
)
def test_fast_knn_graph_equals_brute_force(reference_rule, n, n_coincident, spread):
    """The chord-ranked neighbour sets equal a brute-force haversine ranking, ties included,
    through every path of the search (fast path, general search, overflow retry)."""
    rng = np.random.default_rng(8)
    lat = np.radians(48 + rng.uniform(-spread, spread, n))
    lon = np.radians(2 + rng.uniform(-spread, spread, n))
    lat[10 : 10 + n_coincident], lon[10 : 10 + n_coincident] = lat[3], lon[3]
    plat, plon, pcos, xyz = _with_background(lat, lon, np.radians(0.5))
    # background angles left NaN, as in the kernel: computed where a near-tie needs them
    lazy = [a.copy() for a in (plat, plon, pcos)]
    for a in lazy:
        a[n:] = np.nan
    nbr = K.knn_graph(*lazy, xyz, lat[0], lon[0], 4, reference_rule)
    done = ~np.isnan(lazy[0])
    assert done[n:].any()  # some near-ties were settled with haversine distances
    for a, full in zip(lazy, (plat, plon, pcos), strict=True):
        np.testing.assert_array_equal(a[done], full[done])
    width = nbr.shape[1]
    for a in range(len(plat)):
        want = _brute_force_neighbours(plat, plon, pcos, a, width, reference_rule)
        assert {int(b) for b in nbr[a] if b >= 0} == want, a


@pytest.mark.parametrize("reference_rule", [True, False])
@pytest.mark.parametrize("k", [1, 3])
def test_knn_graph_with_near_ties_at_most_points(reference_rule, k):
    """With k = 1 nearly every background point has a near-tie at the k-th place (its two
    neighbours on its ring are equidistant in exact arithmetic): more such queries than the
    fast path keeps for settling after its loop, so the rest go to the general search.
    Every row still equals a brute-force ranking."""
    rng = np.random.default_rng(21)
    n = 40
    lat = np.radians(-33 + rng.uniform(-0.2, 0.2, n))
    lon = np.radians(151 + rng.uniform(-0.2, 0.2, n))
    plat, plon, pcos, xyz = _with_background(lat, lon, np.radians(0.3))
    m = len(plat)
    lazy = [a.copy() for a in (plat, plon, pcos)]
    for a in lazy:
        a[n:] = np.nan
    nbr = K.knn_graph(*lazy, xyz, lat[0], lon[0], k, reference_rule)
    width = nbr.shape[1]
    ties = 0
    for a in range(m):
        want = _brute_force_neighbours(plat, plon, pcos, a, width, reference_rule)
        assert {int(b) for b in nbr[a] if b >= 0} == want, a
        d2 = np.sort(np.sum((xyz - xyz[a]) ** 2, axis=1))[1:]  # without the point itself
        ties += bool(abs(d2[k] - d2[k - 1]) <= 1e-5 * d2[k])
    if k == 1:
        assert ties > m // 4 + 8  # the premise: more near-tie queries than are kept


@pytest.mark.parametrize("n_distinct", [1, 2, 3, 16, 17, 200])
def test_value_counts_matches_numpy_unique(n_distinct):
    from pygbs._kernels.stats import value_counts

    rng = np.random.default_rng(n_distinct)
    z = rng.choice(rng.normal(size=n_distinct), size=500)
    cs, ns = value_counts(z)
    want_c, want_n = np.unique(z, return_counts=True)
    np.testing.assert_array_equal(cs, want_c)
    np.testing.assert_array_equal(ns, want_n.astype(float))


def test_batches_cover_every_centre_once():
    from pygbs.stats.ssi import _batches

    sizes = np.array([1, 5000, 3, 3, 700_000, 2, 2, 2] * 50)
    batches = _batches(sizes)
    assert batches[0][0] == 0 and batches[-1][1] == len(sizes)
    assert all(a < b for a, b in batches)
    assert all(b == c for (_, b), (c, _) in zip(batches, batches[1:], strict=False))


@pytest.mark.parametrize("method", ["pygbs", "analytic", "permutation"])
def test_poles_antimeridian_and_near_coincident_points(method):
    # points at a pole share one location whatever their longitude; a few metres apart
    # points give radii far below a metre at nn scales; the antimeridian is crossed
    lon = np.concatenate(
        [
            np.linspace(-180, 179, 12),
            [179.99, -179.99, 180.0, -179.98],
            10 + 1e-9 * np.arange(8),
            np.linspace(-50, 50, 10),
        ]
    )
    lat = np.concatenate(
        [[90.0] * 6 + [-90.0] * 6, [1.0, 1.01, 1.02, 0.99], [20.0] * 8, np.linspace(-60, 60, 10)]
    )
    df = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": np.arange(len(lon)) % 2})
    res = pygbs.score(
        df,
        scales=["300km", "nn4"],
        method=method,
        permutations=19,
        min_points=2,
        scores=["unmarked", "marked", "sri-sector"],
        sri_threshold=1,
    )
    c = res.centres
    ok = c["marked_ssi"].dropna()
    assert len(ok) > 20 and np.isfinite(ok).all() and (ok >= 0).all()
    # the pole groups at nn4 have radius 0: not scored, and counted
    agg = res.summary["aggregates"]["marked_ssi"]["nn4"]
    assert agg["n_skipped"] >= 12


# --- neighbourhoods whose coded performance is constant ------------------------------


def _half_right_table(seed=11, n=400):
    """West half: the model is always right; east half: right and wrong at random."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(0, 20, n)
    lat = rng.uniform(40, 45, n)
    hit = np.where(lon < 10, 1, rng.integers(0, 2, n))
    return pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit})


def test_constant_neighbourhoods_counted_and_marked_equals_unmarked(caplog):
    df = _half_right_table()
    with caplog.at_level("WARNING", logger="pygbs.api"):
        res = pygbs.score(df, scales=["100km", "nn10"], scores=["unmarked", "marked"])
    c = res.centres
    for scale in ("100km", "nn10"):
        block = c[c["scale"] == scale]
        # independent truth: the coded values of each neighbourhood, from a brute-force
        # distance computation (the k_max cap of 100 is not reached at 100 km here)
        lat, lon = np.radians(df["lat"].to_numpy()), np.radians(df["lon"].to_numpy())
        hit = df["hit@1"].to_numpy()
        flat = []
        for row, r_km in zip(block["row"], block["radius_km"], strict=True):
            h = (
                np.sin((lat - lat[row]) / 2) ** 2
                + np.cos(lat) * np.cos(lat[row]) * np.sin((lon - lon[row]) / 2) ** 2
            )
            d = 2 * np.arcsin(np.sqrt(h)) * pygbs.EARTH_RADIUS_KM
            inside = d <= r_km * (1 + 1e-9)
            flat.append(len(set(hit[inside])) == 1)
        flat = np.array(flat)
        scored = np.isfinite(block["marked_ssi"]).to_numpy()
        agg = res.summary["aggregates"]["marked_ssi"][scale]
        assert agg["n_constant"] == int((flat & scored).sum()) > 50
        # the definition is kept: for those centres marked SSI = unmarked SSI
        m = block["marked_ssi"].to_numpy()[flat & scored]
        u = block["unmarked_ssi"].to_numpy()[flat & scored]
        np.testing.assert_allclose(m, u, rtol=1e-9)
        assert "n_constant" not in res.summary["aggregates"]["unmarked_ssi"][scale]
    warnings = [r for r in caplog.records if "same coded performance" in r.getMessage()]
    assert len(warnings) == 1  # once per run, naming every scale
    msg = warnings[0].getMessage()
    n100 = res.summary["aggregates"]["marked_ssi"]["100km"]["n_constant"]
    assert f"{n100} of " in msg and "at 100km" in msg and "at nn10" in msg
    assert "see The method in the documentation" in msg


def test_always_right_model_every_neighbourhood_constant(caplog):
    df = _half_right_table()
    df["hit@1"] = 1
    with caplog.at_level("WARNING", logger="pygbs.api"):
        res = pygbs.score(df, scales=["nn10"], scores=["unmarked", "marked", "sri-lag"])
    agg = res.summary["aggregates"]["marked_ssi"]["nn10"]
    assert agg["n_constant"] == agg["n_scored"] == 400
    sri = res.summary["aggregates"]["sri_lag"]["nn10"]
    assert sri["n_constant"] == sri["n_scored"]
    np.testing.assert_allclose(res.centres["marked_ssi"], res.centres["unmarked_ssi"], rtol=1e-9)
    assert any("400 of 400 scored centres at nn10" in r.getMessage() for r in caplog.records)


def test_no_warning_when_no_neighbourhood_is_constant(caplog):
    # a checkerboard: every point's nearest neighbours have the other value
    i, j = np.meshgrid(np.arange(20), np.arange(20))
    df = pd.DataFrame(
        {
            "lon": 0.1 * i.ravel(),
            "lat": 40 + 0.1 * j.ravel(),
            "hit@1": (i + j).ravel() % 2,
        }
    )
    with caplog.at_level("WARNING", logger="pygbs.api"):
        res = pygbs.score(df, scales=["nn10"], scores=["marked", "sri-lag"], sri_threshold=2)
    assert res.summary["aggregates"]["marked_ssi"]["nn10"]["n_constant"] == 0
    assert res.summary["aggregates"]["sri_lag"]["nn10"]["n_constant"] == 0
    assert res.summary["aggregates"]["marked_ssi"]["nn10"]["n_scored"] == 400
    assert not any("same coded performance" in r.getMessage() for r in caplog.records)


def test_skip_reasons_are_counted():
    df = pd.DataFrame(
        {
            "lon": [1.0] * 10 + [50.0, 80.0, 80.01, 80.02],
            "lat": [2.0] * 10 + [3.0, 10.0, 10.0, 10.01],
            "hit@1": [1, 0] * 7,
        }
    )
    res = pygbs.score(df, scales=["nn5", "100km"], scores=["marked", "sri-lag"])
    nn5 = res.summary["aggregates"]["marked_ssi"]["nn5"]
    assert nn5["n_skipped_one_location"] == 10 and nn5["n_skipped_min_points"] == 0
    km = res.summary["aggregates"]["marked_ssi"]["100km"]
    # the ten coincident points: 10 samples within 100 km but radius 100 km: scored;
    # the four others have fewer than 5 samples within 100 km
    assert km["n_skipped_min_points"] == 4
    sri = res.summary["aggregates"]["sri_lag"]["100km"]
    assert sri["n_skipped_min_points"] == 4
    assert sri["n_skipped_no_part"] == 10  # 10 samples: no ring reaches 20
    assert sri["n_scored"] == 0


def test_signed_error_scored_on_its_size():
    rng = np.random.default_rng(5)
    n = 200
    lon, lat = rng.uniform(0, 10, n), rng.uniform(40, 45, n)
    err = rng.normal(0, 1, n)
    df = pd.DataFrame({"lon": lon, "lat": lat, "relative_error": err})
    res = pygbs.score(df, scales=["nn10"])
    coding = res.summary["input"]["coding"]
    assert coding["transform"] == "abs"
    assert coding["threshold"] == pytest.approx(np.median(np.abs(err)))
    assert res.summary["parameters"]["transform"] == "auto"
    assert res.summary["input"]["accuracy"] == pytest.approx(np.mean(np.abs(err)))
    # mean_performance is the mean absolute error of the neighbourhood
    first = res.centres.iloc[0]
    assert first["mean_performance"] > 0
    signed = pygbs.score(df, scales=["nn10"], transform="none")
    assert signed.summary["input"]["coding"]["transform"] == "none"
    assert signed.summary["input"]["coding"]["threshold"] == pytest.approx(np.median(err))


def _pattern_and_rings(lat, lon, radius):
    """A pattern as the kernel builds it (background angles NaN), and its ring count."""
    from pygbs._kernels.background import grid_shape

    n = len(lat)
    rot = rotations(lat[:1], lon[:1])[0]
    table = bearings(100)
    pattern = K.build_pattern(
        lat, lon, np.cos(lat), to_unit_vectors(lat, lon), np.arange(n), radius, rot, table
    )
    return pattern, grid_shape(radius, n)[1], table[2]


def _statistic_cases():
    """(label, lat, lon, radius) in radians: clustered, uniform, on background points."""
    rng = np.random.default_rng(31)
    out = []
    for spread, n in ((0.02, 90), (0.45, 60), (0.3, 120)):
        lat = np.radians(48 + rng.uniform(-spread, spread, n))
        lon = np.radians(2 + rng.uniform(-spread, spread, n))
        out.append((f"spread {spread}", lat, lon, np.radians(0.5)))
    # samples placed exactly on background points and halfway between two of them, and
    # a cluster: rows of those background points must not be skipped
    lat = np.radians(10 + rng.uniform(-0.01, 0.01, 40))
    lon = np.radians(-70 + rng.uniform(-0.01, 0.01, 40))
    (plat, plon, pcos, pxyz), _, _ = _pattern_and_rings(lat, lon, np.radians(0.5))
    bg_lat = np.arcsin(pxyz[40:, 2])
    bg_lon = np.arctan2(pxyz[40:, 1], pxyz[40:, 0])
    pick = rng.choice(len(bg_lat) - 1, 12, replace=False)
    # and at 0.9 times a background point's nearest-neighbour distance from it, in a
    # random direction: inside its k-NN, near the edge of the region searched for samples
    near = rng.choice(len(bg_lat), 30, replace=False)
    d = np.array([np.sort(np.linalg.norm(pxyz[40:] - pxyz[40 + i], axis=1))[1] for i in near])
    theta = rng.uniform(0, 2 * np.pi, len(near))
    near_lat = bg_lat[near] + 0.9 * d * np.cos(theta)
    near_lon = bg_lon[near] + 0.9 * d * np.sin(theta) / np.cos(bg_lat[near])
    lat = np.concatenate([lat, bg_lat[pick], (bg_lat[pick] + bg_lat[pick + 1]) / 2, near_lat])
    lon = np.concatenate([lon, bg_lon[pick], (bg_lon[pick] + bg_lon[pick + 1]) / 2, near_lon])
    out.append(("on the grid", lat, lon, np.radians(0.5)))
    return out


@pytest.mark.parametrize("reference_rule", [True, False])
@pytest.mark.parametrize("k", [4, 7])
@pytest.mark.parametrize("case", range(4))
def test_statistic_graph_skips_only_background_rows_and_keeps_s(case, k, reference_rule):
    """background_only flags only background points whose full k-NN row holds background
    points alone, flags most of them on clustered samples, and S on the statistic graph
    equals S on the full graph to the last bit for marked and unmarked labels."""
    from pygbs._kernels import cells

    label, lat, lon, radius = _statistic_cases()[case]
    n = len(lat)
    pattern, rings, first = _pattern_and_rings(lat, lon, radius)
    plat, plon, pcos, pxyz = pattern
    m = len(pxyz)
    full = K.knn_graph(*[a.copy() for a in pattern[:3]], pxyz, lat[0], lon[0], k, reference_rule)
    kk = min(k, m - 1)
    grid = cells.build_cells(pxyz, lat[0], lon[0])
    skip = cells.background_only(pxyz, n, rings, first, grid, kk)
    assert not skip[:n].any()
    truly = np.array([a >= n and bool((full[a][full[a] >= 0] >= n).all()) for a in range(m)])
    assert not (skip & ~truly).any(), np.flatnonzero(skip & ~truly)  # never a wrong skip
    if label == "spread 0.02":
        assert skip[n:].mean() > 0.5, skip[n:].mean()  # the clustered case is mostly skipped
    if label == "on the grid":
        assert not truly[n:].all()  # the premise: some background rows hold samples
    part = K.statistic_graph(
        *[a.copy() for a in pattern[:3]], pxyz, lat[0], lon[0], k, reference_rule, n, radius, first
    )
    np.testing.assert_array_equal(part[~skip], full[~skip])
    rng = np.random.default_rng(case)
    marked = np.zeros(m)
    marked[:n] = rng.choice([-1.0, 1.0], n)
    unmarked = np.zeros(m)
    unmarked[:n] = 1.0
    for z in (marked, unmarked):
        assert centred_statistic(z, part) == centred_statistic(z, full)
