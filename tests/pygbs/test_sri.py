"""SRI (docs/method.md, D5): hand-computed cases, the reference's two defects, invariants.

Test matrix:
- hand-checkable neighbourhoods for the three partitions (expected KL written out);
- the two defects of the public reference implementation, each reproduced by a tiny
  NumPy function ("what the reference does"), shown to differ from ours;
- invariants: sample permutation, longitude shift across the antimeridian;
- cross-check against the dense NumPy implementation (pygbs.testing.dense) on random data;
- argument validation.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from pygbs.errors import InputError
from pygbs.geo.neighbours import Neighbourhoods
from pygbs.stats.sri import sri_scores
from pygbs.testing.dense import dense_neighbourhoods, dense_sri


def sri_arrays(lat, lon, values, centres, indptr, indices, dist, radius, **kw):
    """sri_scores on raw CSR arrays (radians): the index and neighbourhoods built around them."""
    index = SimpleNamespace(lat_rad=lat, lon_rad=lon)
    nb = Neighbourhoods(None, centres, indptr, indices, dist, radius)
    return sri_scores(index, nb, values, **kw)


EPS = 1e-8


def haversine(lat1, lon1, lat2, lon2):
    """Great-circle distance in radians (written here, independent of pygbs)."""
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * np.arcsin(np.sqrt(a))


def csr(lat, lon, centre_ids, hoods):
    """CSR arrays for the given neighbourhoods (lists of sample ids), distances computed."""
    indptr = np.zeros(len(hoods) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(h) for h in hoods])
    indices = np.concatenate([np.asarray(h, dtype=np.int64) for h in hoods])
    centre_of = np.repeat(np.asarray(centre_ids), [len(h) for h in hoods])
    dist = haversine(lat[centre_of], lon[centre_of], lat[indices], lon[indices])
    return indptr, indices, dist


def kl(p_g, p_p):
    """sum_b pG ln(pG / (pP + eps)) with 0 ln 0 = 0."""
    return sum(g * math.log(g / (p + EPS)) for g, p in zip(p_g, p_p) if g > 0)


# A hand-made neighbourhood. Rows 0-2 are far away (not in G), so positions in the
# neighbour list (0..5) differ from the sample ids (3..8). Centre: row 3 at (0, 0).
#   near part (grid cell a=0,b=0; lag ring 0): rows 3, 4, 5, all -1
#   far part (grid cell a=-1,b=-1; lag ring 1): rows 6, 7 (+1) and 8 (-1)
LAT = np.array([0.5, 0.6, 0.7, 0.0, 0.001, 0.002, -0.004, -0.0045, -0.003])
LON = np.array([0.5, 0.6, 0.7, 0.0, 0.001, 0.000, -0.004, -0.0030, -0.0045])
VAL = np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 1.0, 1.0, -1.0])
G = [3, 4, 5, 6, 7, 8]
R = 0.01
# pG over bins [-1, 0), [0, 1]: four -1, two +1.
P_G = [4 / 6, 2 / 6]
KL_NEAR = kl(P_G, [1.0, 0.0])  # = (2/3) ln(2/3 / (1+eps)) + (1/3) ln(1/3 / eps)
KL_FAR = kl(P_G, [1 / 3, 2 / 3])
HAND_SRI = (3 * KL_NEAR + 3 * KL_FAR) / 6


def run(partition, lat=LAT, lon=LON, val=VAL, hood=G, centre=3, radius=R, **kw):
    indptr, indices, dist = csr(lat, lon, [centre], [hood])
    return sri_arrays(
        lat,
        lon,
        val,
        np.array([centre]),
        indptr,
        indices,
        dist,
        np.array([radius]),
        partition=partition,
        **kw,
    )


def test_hand_value_is_what_we_think():
    # explicit numbers, to catch a mistake in the expression itself
    assert KL_NEAR == pytest.approx((2 / 3) * math.log(2 / 3) + (1 / 3) * math.log(1 / 3 / EPS))
    # (1/2) [(1/3) ln(1e8 / 3) + (2/3) ln(2/3) + (1/3) ln 2], up to O(eps) terms
    assert HAND_SRI == pytest.approx(2.8673809, abs=1e-6)


@pytest.mark.parametrize(
    ("partition", "kw"),
    [("grid", {"scale": 0.005}), ("lag", {"lag": 0.005})],
)
def test_hand_grid_and_lag(partition, kw):
    sri, n_parts = run(partition, threshold=3, **kw)
    assert n_parts[0] == 2
    assert sri[0] == pytest.approx(HAND_SRI, rel=1e-12)


def test_defaults_are_half_and_quarter_radius():
    # scale None = r/2 (cells of 0.005), lag None = r/4 (rings of 0.0025)
    assert run("grid", threshold=3)[0][0] == pytest.approx(HAND_SRI, rel=1e-12)
    lag_default = run("lag", threshold=1)
    lag_explicit = run("lag", threshold=1, lag=R / 4)
    np.testing.assert_array_equal(lag_default[0], lag_explicit[0])
    # rings of 0.0025: {3, 4, 5} (d <= 0.002), {} , {6, 7, 8} (0.0054..0.0057)
    assert lag_default[1][0] == 2


def test_threshold_skips_parts_and_nan_when_none_kept():
    # threshold 4: both parts (3 samples each) are skipped -> NaN, 0 parts
    sri, n_parts = run("lag", lag=0.005, threshold=4)
    assert np.isnan(sri[0]) and n_parts[0] == 0
    # add a fourth -1 sample to the near ring: only that ring is kept
    lat = np.append(LAT, 0.0)
    lon = np.append(LON, 0.003)
    val = np.append(VAL, -1.0)
    sri, n_parts = run("lag", lat=lat, lon=lon, val=val, hood=[*G, 9], lag=0.005, threshold=4)
    p_g = [5 / 7, 2 / 7]
    assert n_parts[0] == 1
    assert sri[0] == pytest.approx(kl(p_g, [1.0, 0.0]), rel=1e-12)


# Sector case (n_splits=2: sector 0 = bearings [-pi, 0), the west; sector 1 = [0, pi)).
SEC_LAT = np.array([0.0, 0.0, 0.0005, 0.0, 0.001, -0.001])
SEC_LON = np.array([0.0, -0.001, -0.002, 0.003, 0.003, 0.002])
SEC_VAL = np.array([-1.0, -1.0, -1.0, 1.0, 1.0, -1.0])


def test_hand_sector_centre_in_sector_zero():
    sri, n_parts = run(
        "sector",
        lat=SEC_LAT,
        lon=SEC_LON,
        val=SEC_VAL,
        hood=range(6),
        centre=0,
        n_splits=2,
        threshold=3,
    )
    # west: centre + two -1 samples; east: +1, +1, -1 -> same parts as the hand case
    assert n_parts[0] == 2
    assert sri[0] == pytest.approx(HAND_SRI, rel=1e-12)


def test_due_south_is_sector_zero():
    # bearing +pi (due south) is the bearing -pi: with 4 sectors it opens sector 0
    lat = np.array([0.0, -0.002, -0.003])
    lon = np.array([0.0, 0.0, 0.0])
    val = np.array([1.0, 1.0, -1.0])
    sri, n_parts = run(
        "sector", lat=lat, lon=lon, val=val, hood=[0, 1, 2], centre=0, n_splits=4, threshold=3
    )
    assert n_parts[0] == 1  # everything in one sector: the part equals G
    assert sri[0] == pytest.approx(kl([1 / 3, 2 / 3], [1 / 3, 2 / 3]), abs=1e-12)


def test_continuous_values_bins_from_neighbourhood_range():
    # values 0..5 in 3 bins over G's range [0, 5]: edges 0, 5/3, 10/3, 5
    lat = np.zeros(6)
    lon = np.array([0.0, 0.001, 0.002, 0.006, 0.007, 0.008])
    val = np.arange(6.0)
    sri, n_parts = run(
        "lag", lat=lat, lon=lon, val=val, hood=range(6), centre=0, lag=0.005, threshold=3, bins=3
    )
    p_g = [1 / 3, 1 / 3, 1 / 3]
    expected = (3 * kl(p_g, [2 / 3, 1 / 3, 0]) + 3 * kl(p_g, [0, 1 / 3, 2 / 3])) / 6
    assert n_parts[0] == 2
    assert sri[0] == pytest.approx(expected, rel=1e-12)


def test_all_equal_values():
    val = np.full(LAT.shape, 7.0)
    sri, n_parts = run("lag", val=val, lag=0.005, threshold=3)
    assert n_parts[0] == 2
    assert sri[0] == pytest.approx(math.log(1 / (1 + EPS)), rel=1e-9)


# --- the two defects of the public reference implementation -------------------------


def reference_with_positions(
    lat, lon, values, ids, dist, centre, partition, width, bins=2, threshold=3
):
    """What the reference does (defect 1): parts are *positions* in the neighbour list.

    It indexes the sample arrays with positions 0..len(G)-1 instead of the sample ids, so
    it reads the values (and, for the grid, the coordinates) of rows 0..len(G)-1. The
    neighbourhood histogram itself uses the right ids. Bins: G's range (defect 2 removed).
    """
    pos = np.arange(len(ids))
    g_counts, edges = np.histogram(values[ids], bins=bins)
    p_g = g_counts / len(ids)
    if partition == "lag":
        masks = [
            (dist >= j * width) & (dist < (j + 1) * width) for j in range(int(np.ceil(R / width)))
        ]
    else:
        k = int(np.ceil(R / width))
        la, lo = lat[pos], lon[pos]  # coordinates looked up with positions
        masks = [
            (la >= lat[centre] + a * width)
            & (la < lat[centre] + (a + 1) * width)
            & (lo >= lon[centre] + b * width)
            & (lo < lon[centre] + (b + 1) * width)
            for a in range(-k, k)
            for b in range(-k, k)
        ]
    num = den = 0.0
    for m in masks:
        part = pos[m]
        if len(part) < threshold:
            continue
        p_p = np.histogram(values[part], bins=edges)[0] / len(part)  # values of wrong rows
        num += len(part) * kl(p_g, p_p)
        den += len(part)
    return num / den if den else math.nan


def reference_own_range(values, ids, parts, bins=2, threshold=3):
    """What the reference does (defect 2): each part's histogram on its own min-max range."""
    g_counts = np.histogram(values[ids], bins=bins)[0]
    p_g = g_counts / len(ids)
    num = den = 0.0
    for part in parts:
        if len(part) < threshold:
            continue
        p_p = np.histogram(values[part], bins=bins)[0] / len(part)  # own range
        num += len(part) * kl(p_g, p_p)
        den += len(part)
    return num / den


@pytest.mark.parametrize(("partition", "width"), [("lag", 0.005), ("grid", 0.005)])
def test_reference_defect_positions_instead_of_ids(partition, width):
    ids = np.array(G)
    dist = haversine(LAT[3], LON[3], LAT[ids], LON[ids])
    ref = reference_with_positions(LAT, LON, VAL, ids, dist, 3, partition, width)
    key = "lag" if partition == "lag" else "scale"
    ours = run(partition, threshold=3, **{key: width})[0][0]
    assert ours == pytest.approx(HAND_SRI, rel=1e-12)
    assert not np.isclose(ref, ours, rtol=1e-3)
    if partition == "lag":
        # rows 0-2 (+1, +1, +1) stand in for the near ring, rows 3-5 (all -1) for the far
        # one: explicit value of the reference's result
        assert ref == pytest.approx((3 * kl(P_G, [0, 1]) + 3 * kl(P_G, [1, 0])) / 6, rel=1e-12)
    else:
        # rows 0-2 lie far outside every cell: only positions 3-5 land in a cell
        assert ref == pytest.approx(kl(P_G, [1, 0]), rel=1e-12)


def test_reference_defect_own_range_binary():
    # The near part is all -1: on its own range (-1.5, -0.5) the value -1 falls in the
    # upper bin, so the reference sees it as "all +1".
    ref = reference_own_range(VAL, G, [[3, 4, 5], [6, 7, 8]])
    ours = run("lag", lag=0.005, threshold=3)[0][0]
    assert ours == pytest.approx(HAND_SRI, rel=1e-12)
    assert ref == pytest.approx((3 * kl(P_G, [0, 1]) + 3 * KL_FAR) / 6, rel=1e-12)
    assert not np.isclose(ref, ours, rtol=1e-3)


def test_reference_defect_own_range_continuous():
    # values 0,1,2 | 3,4,5 in 3 bins: each part alone spreads evenly over its own range,
    # so the reference finds no difference from G (KL = -3 eps ~ 0); ours does.
    val = np.arange(6.0)
    ref = reference_own_range(val, list(range(6)), [[0, 1, 2], [3, 4, 5]], bins=3)
    ours = run(
        "lag",
        lat=np.zeros(6),
        lon=np.array([0.0, 0.001, 0.002, 0.006, 0.007, 0.008]),
        val=val,
        hood=range(6),
        centre=0,
        lag=0.005,
        threshold=3,
        bins=3,
    )[0][0]
    assert abs(ref) < 1e-7
    assert ours > 1.0


# --- invariants ------------------------------------------------------------------------


def random_table(seed, n=300, lon0=0.0, binary=True):
    rng = np.random.default_rng(seed)
    lat = rng.uniform(0.10, 0.16, n)
    lon = lon0 + rng.uniform(-0.03, 0.03, n)
    lon = (lon + np.pi) % (2 * np.pi) - np.pi
    val = rng.choice([-1.0, 1.0], n) if binary else rng.normal(size=n)
    return lat, lon, val


def hoods_csr(lat, lon, centres, radius):
    hoods = dense_neighbourhoods(lat, lon, centres, radius=radius, k_max=None)
    indptr = np.zeros(len(hoods) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(h[0]) for h in hoods])
    indices = np.concatenate([h[0] for h in hoods])
    dist = np.concatenate([h[1] for h in hoods])
    radii = np.array([h[2] for h in hoods])
    return hoods, indptr, indices, dist, radii


@pytest.mark.parametrize("partition", ["grid", "lag", "sector"])
def test_permuting_samples_leaves_sri_unchanged(partition):
    lat, lon, val = random_table(1, binary=False)
    centres = np.arange(0, 300, 15)
    _, indptr, indices, dist, radii = hoods_csr(lat, lon, centres, 0.02)
    base = sri_arrays(
        lat, lon, val, centres, indptr, indices, dist, radii, partition=partition, threshold=5
    )
    perm = np.random.default_rng(2).permutation(300)
    new_id = np.empty(300, dtype=np.int64)
    new_id[perm] = np.arange(300)  # sample perm[i] becomes row i
    # shuffle each neighbourhood's entries too
    order = np.concatenate(
        [
            indptr[i] + np.random.default_rng(i).permutation(indptr[i + 1] - indptr[i])
            for i in range(len(centres))
        ]
    )
    moved = sri_arrays(
        lat[perm],
        lon[perm],
        val[perm],
        new_id[centres],
        indptr,
        new_id[indices[order]],
        dist[order],
        radii,
        partition=partition,
        threshold=5,
    )
    assert np.sum(base[1]) > 20  # the test exercises many kept parts
    np.testing.assert_allclose(moved[0], base[0], rtol=1e-12)
    np.testing.assert_array_equal(moved[1], base[1])


@pytest.mark.parametrize("partition", ["grid", "sector", "lag"])
def test_antimeridian_shift(partition):
    # the same pattern around lon 0 and around lon pi (where cells straddle the wrap)
    lat, lon, val = random_table(3)
    lat2, lon2, _ = random_table(3, lon0=np.pi)
    centres = np.arange(0, 300, 10)
    a = sri_arrays(
        lat,
        lon,
        val,
        centres,
        *hoods_csr(lat, lon, centres, 0.02)[1:],
        partition=partition,
        threshold=4,
    )
    b = sri_arrays(
        lat2,
        lon2,
        val,
        centres,
        *hoods_csr(lat2, lon2, centres, 0.02)[1:],
        partition=partition,
        threshold=4,
    )
    assert np.any(lon2 > 3.1) and np.any(lon2 < -3.1)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_allclose(a[0], b[0], rtol=1e-9)


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("partition", ["grid", "lag", "sector"])
def test_matches_dense_reference(partition, binary):
    lat, lon, val = random_table(4, lon0=3.13, binary=binary)
    centres = np.arange(0, 300, 7)
    hoods, indptr, indices, dist, radii = hoods_csr(lat, lon, centres, 0.025)
    ours = sri_arrays(
        lat,
        lon,
        val,
        centres,
        indptr,
        indices,
        dist,
        radii,
        partition=partition,
        threshold=5,
        n_splits=6,
    )
    dense = dense_sri(lat, lon, val, centres, hoods, partition=partition, threshold=5, n_splits=6)
    assert np.sum(ours[1]) > 50
    np.testing.assert_array_equal(ours[1], dense[1])
    np.testing.assert_allclose(ours[0], dense[0], rtol=1e-12)


# --- the grid near the poles ------------------------------------------------------------


def _rotate_towards_north(lon, lat, deg):
    """Rotate points (degrees) about the y axis: (lat 0, lon 0) goes to (lat deg, lon 0)."""
    la, lo = np.radians(lat), np.radians(lon)
    x, y, z = np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)
    t = np.radians(deg)
    rx, rz = x * np.cos(t) - z * np.sin(t), x * np.sin(t) + z * np.cos(t)
    return np.degrees(np.arctan2(y, rx)), np.degrees(np.arcsin(np.clip(rz, -1, 1)))


def test_grid_scores_a_cluster_near_the_pole_like_at_the_equator():
    import pandas as pd

    import pygbs

    rng = np.random.default_rng(0)
    n = 1000
    east, north = rng.normal(0, 40, n), rng.normal(0, 40, n)  # km around (0, 0)
    lat0 = np.degrees(north / pygbs.EARTH_RADIUS_KM)
    lon0 = np.degrees(east / pygbs.EARTH_RADIUS_KM)
    hit = (rng.random(n) < np.where(east > 0, 0.8, 0.3)).astype(int)
    scored, means = [], []
    for deg in (0.0, 89.0, 89.9):
        lon, lat = _rotate_towards_north(lon0, lat0, deg)
        res = pygbs.score(
            pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit}),
            scales=["100km"],
            scores=["sri-grid"],
        )
        agg = res.summary["aggregates"]["sri_grid"]["100km"]
        scored.append(agg["n_scored"])
        means.append(agg["mean"])
    # a latitude/longitude grid scored none of the centres at 89N (its cells shrink to
    # slivers near the pole); cells on the tangent plane score as many as at the equator
    assert scored[0] > 950
    assert abs(scored[1] - scored[0]) <= 10 and abs(scored[2] - scored[0]) <= 10
    assert means[1] == pytest.approx(means[0], rel=0.15)
    assert means[2] == pytest.approx(means[0], rel=0.15)


def test_plane_coordinates_keep_distance_and_bearing():
    from pygbs._kernels.sri import plane_xy

    rng = np.random.default_rng(7)
    for lat_c, lon_c in [(0.0, 0.0), (1.55, 2.0), (-1.5706, -3.1), (0.7, 3.14)]:
        lat = np.clip(lat_c + rng.normal(0, 0.05, 50), -np.pi / 2, np.pi / 2)
        lon = lon_c + rng.normal(0, 0.5, 50)
        d = haversine(lat_c, lon_c, lat, lon)
        # bearing from the centre, from the spherical triangle (independent of pygbs)
        bearing = np.arctan2(
            np.sin(lon - lon_c) * np.cos(lat),
            np.cos(lat_c) * np.sin(lat) - np.sin(lat_c) * np.cos(lat) * np.cos(lon - lon_c),
        )
        xy = np.array(
            [plane_xy(lat_c, np.cos(lat_c), np.sin(lat_c), lon_c, a, b) for a, b in zip(lat, lon)]
        )
        np.testing.assert_allclose(np.hypot(xy[:, 0], xy[:, 1]), d, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(xy[:, 0], d * np.sin(bearing), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(xy[:, 1], d * np.cos(bearing), rtol=1e-9, atol=1e-12)
    # the centre is the origin; its antipode lies due south at distance pi
    assert plane_xy(0.3, np.cos(0.3), np.sin(0.3), 1.0, 0.3, 1.0) == (0.0, 0.0)
    assert plane_xy(np.pi / 2, 0.0, 1.0, 0.0, -np.pi / 2, 0.0) == (0.0, -np.pi)


# --- validation ------------------------------------------------------------------------


def test_bad_partition_lists_choices():
    with pytest.raises(ValueError, match=r"partition must be one of \['grid', 'lag', 'sector'\]"):
        run("rings")


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"partition": "grid", "scale": 0.0}, "scale must be positive"),
        ({"partition": "lag", "lag": -1.0}, "lag must be positive"),
        ({"partition": "sector", "n_splits": 0}, "n_splits must be an integer >= 1"),
        ({"partition": "lag", "threshold": 2.5}, "threshold must be an integer"),
        ({"partition": "lag", "bins": 0}, "bins must be an integer >= 1"),
    ],
)
def test_bad_options(kw, match):
    with pytest.raises(InputError, match=match):
        run(**kw)


def test_bad_arrays():
    indptr, indices, dist = csr(LAT, LON, [3], [G])
    with pytest.raises(ValueError, match="indptr must have length"):
        sri_arrays(
            LAT, LON, VAL, np.array([3]), indptr[:1], indices, dist, np.array([R]), partition="lag"
        )
    with pytest.raises(ValueError, match="not a sample id"):
        sri_arrays(
            LAT, LON, VAL, np.array([3]), indptr, indices + 5, dist, np.array([R]), partition="lag"
        )
    with pytest.raises(ValueError, match="values must be finite"):
        sri_arrays(
            LAT,
            LON,
            np.where(VAL > 0, np.nan, VAL),
            np.array([3]),
            indptr,
            indices,
            dist,
            np.array([R]),
            partition="lag",
        )
