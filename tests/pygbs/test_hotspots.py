"""Hotspot statistics and maps (pygbs.plot.hotspots).

Covers: the spherical graph (k-NN and distance band equal brute-force haversine
neighbours, across the antimeridian and near the poles; a degree-space graph differs at
high latitude), agreement with esda run directly on the same weights (Gi* and LISA:
statistic, z and p_sim identical), the classic Getis-Ord Gi* and Anselin local Moran
formulas computed by hand, the labels on a planted failure cluster, isolates, constant
input, argument validation, and the rendered map (legend counts, stated graph and level).
"""

from __future__ import annotations

import esda
import matplotlib.image as mpimg
import numpy as np
import pytest
from libpysal.graph import Graph

from pygbs.errors import InputError
from pygbs.geo.scales import EARTH_RADIUS_KM
from pygbs.plot import local_hotspots, plot_hotspots, sphere_graph
from pygbs.plot.hotspots import unit_vectors

PERMS = 99


def haversine_km(lon1, lat1, lon2, lat2):
    """Independent great-circle distance (haversine), km."""
    l1, p1, l2, p2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _neighbours(g: Graph, n: int) -> list[set[int]]:
    adj = g.adjacency
    out = [set() for _ in range(n)]
    for (i, j), w in adj.items():
        if w != 0:
            out[int(i)].add(int(j))
    return out


@pytest.fixture(scope="module")
def points():
    """Random points with many at high latitude and around the antimeridian."""
    rng = np.random.default_rng(7)
    n = 150
    lon = np.r_[rng.uniform(-180, 180, 50), rng.uniform(170, 190, 50), rng.uniform(-180, 180, 50)]
    lat = np.r_[rng.uniform(70, 89.9, 50), rng.uniform(-30, 30, 50), rng.uniform(-80, 80, 50)]
    lon = (lon + 180) % 360 - 180
    assert lon.size == n
    return lon, lat


def test_unit_vectors_round_trip(points):
    lon, lat = points
    xyz = unit_vectors(lon, lat)
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=1), 1.0)
    np.testing.assert_allclose(np.degrees(np.arcsin(xyz[:, 2])), lat, atol=1e-9)
    back = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
    np.testing.assert_allclose((back - lon + 180) % 360 - 180, 0, atol=1e-9)


def test_knn_graph_is_great_circle(points):
    lon, lat = points
    k = 5
    g = sphere_graph(lon, lat, graph="knn", k=k)
    got = _neighbours(g, lon.size)
    d = haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    np.fill_diagonal(d, np.inf)
    for i in range(lon.size):
        assert got[i] == set(np.argsort(d[i])[:k].tolist()), i
    assert (g.cardinalities == k).all()


def test_distance_band_graph_is_great_circle(points):
    lon, lat = points
    km = 800.0
    g = sphere_graph(lon, lat, graph="distance", distance_km=km)
    got = _neighbours(g, lon.size)
    d = haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    np.fill_diagonal(d, np.inf)
    for i in range(lon.size):
        assert got[i] == set(np.flatnonzero(d[i] <= km).tolist()), i
    lonely = [i for i in range(lon.size) if not got[i]]
    assert set(g.isolates.tolist()) == set(lonely)


def test_neighbours_across_the_antimeridian():
    lon = np.array([179.95, -179.95, 0.0, 90.0])
    lat = np.array([0.0, 0.0, 0.0, 0.0])
    nb = _neighbours(sphere_graph(lon, lat, k=1), 4)
    assert nb[0] == {1} and nb[1] == {0}
    band = _neighbours(sphere_graph(lon, lat, graph="distance", distance_km=20.0), 4)
    assert band[0] == {1} and band[2] == set()


def test_degree_space_graph_differs_at_high_latitude():
    """At 80N, 10 degrees of longitude (193 km) are nearer than 2 of latitude (222 km)."""
    lon = np.array([0.0, 10.0, 0.0, 100.0, -120.0])
    lat = np.array([80.0, 80.0, 82.0, 0.0, -40.0])
    d = haversine_km(lon[0], lat[0], lon[1:3], lat[1:3])
    assert d[0] < d[1]
    ours = _neighbours(sphere_graph(lon, lat, k=1), 5)
    degrees = _neighbours(Graph.build_knn(np.column_stack([lon, lat]), k=1), 5)
    assert ours[0] == {1}
    assert degrees[0] == {2}


def test_duplicate_sites_get_k_other_neighbours():
    lon = np.array([5.0] * 6 + [6.0, 7.0])
    lat = np.array([45.0] * 6 + [45.0, 45.0])
    g = sphere_graph(lon, lat, k=3)
    for i, nb in enumerate(_neighbours(g, 8)):
        assert len(nb) == 3 and i not in nb


@pytest.fixture(scope="module")
def planted():
    """Failures (-1) concentrated in one region, random performance elsewhere."""
    rng = np.random.default_rng(11)
    n = 240
    lon = rng.uniform(-10, 30, n)
    lat = rng.uniform(35, 60, n)
    inside = (lon > 15) & (lat > 50)
    v = np.where(rng.random(n) < 0.75, 1.0, -1.0)
    v[inside] = np.where(rng.random(inside.sum()) < 0.9, -1.0, 1.0)
    return lon, lat, v, inside


_ESDA_WARNING = pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")


@_ESDA_WARNING
def test_gi_agrees_with_esda_on_the_same_weights(planted):
    lon, lat, v, _ = planted
    table = local_hotspots(lon, lat, v, statistic="gi", k=6, permutations=PERMS, seed=3)
    w = sphere_graph(lon, lat, k=6)
    ref = esda.G_Local(
        (v > 0).astype(float),
        w,
        transform="B",
        star=True,
        permutations=PERMS,
        seed=3,
        n_jobs=1,
        keep_simulations=False,
    )
    np.testing.assert_array_equal(table["statistic"].to_numpy(), ref.Gs)
    np.testing.assert_array_equal(table["z"].to_numpy(), ref.Zs)
    np.testing.assert_array_equal(table["p_sim"].to_numpy(), ref.p_sim)


@_ESDA_WARNING
def test_lisa_agrees_with_esda_on_the_same_weights(planted):
    lon, lat, v, _ = planted
    table = local_hotspots(
        lon, lat, v, statistic="lisa", graph="distance", distance_km=400, permutations=PERMS, seed=5
    )
    w = sphere_graph(lon, lat, graph="distance", distance_km=400)
    ref = esda.Moran_Local(
        v, w, transformation="r", permutations=PERMS, seed=5, n_jobs=1, keep_simulations=False
    )
    ok = table["n_neighbours"].to_numpy() > 0
    np.testing.assert_array_equal(table["statistic"].to_numpy()[ok], ref.Is[ok])
    np.testing.assert_array_equal(table["p_sim"].to_numpy()[ok], ref.p_sim[ok])
    np.testing.assert_array_equal(table["quadrant"].to_numpy()[ok], ref.q[ok])


def test_gi_star_matches_the_getis_ord_formula(planted):
    """Gi* z = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n S1_i - W_i^2) / (n - 1))), w_ii = 1."""
    lon, lat, v, _ = planted
    k = 6
    table = local_hotspots(lon, lat, v, statistic="gi", k=k, permutations=PERMS)
    x = (v > 0).astype(float)
    n = x.size
    nb = _neighbours(sphere_graph(lon, lat, k=k), n)
    xbar = x.mean()
    s = np.sqrt((x**2).mean() - xbar**2)
    wi = k + 1.0  # binary weights, self included
    expected = np.array(
        [
            (x[list(nb[i])].sum() + x[i] - xbar * wi) / (s * np.sqrt((n * wi - wi**2) / (n - 1)))
            for i in range(n)
        ]
    )
    np.testing.assert_allclose(table["z"].to_numpy(), expected, rtol=1e-9)


def test_lisa_matches_the_anselin_formula(planted):
    """I_i = (n - 1) z_i sum_j w_ij z_j / sum z^2 with row-standardised w, z = x - xbar."""
    lon, lat, v, _ = planted
    table = local_hotspots(lon, lat, v, statistic="lisa", k=5, permutations=PERMS)
    nb = _neighbours(sphere_graph(lon, lat, k=5), v.size)
    z = v - v.mean()
    lag = np.array([z[list(nb[i])].mean() for i in range(v.size)])
    expected = (v.size - 1) * z * lag / (z**2).sum()
    np.testing.assert_allclose(table["statistic"].to_numpy(), expected, rtol=1e-9)


def test_planted_failure_cluster_is_a_cold_spot(planted):
    lon, lat, v, inside = planted
    for statistic in ("gi", "lisa"):
        table = local_hotspots(lon, lat, v, statistic=statistic, k=8, permutations=PERMS)
        cold = (table["cluster"] == "cold spot").to_numpy()
        hot = (table["cluster"] == "hot spot").to_numpy()
        assert cold[inside].mean() > 0.5, statistic
        assert cold[~inside].mean() < 0.1, statistic
        assert not hot[inside].any(), statistic
        assert (table["significant"] == (table["p_sim"] < 0.05)).all()


def test_fdr_is_stricter(planted):
    lon, lat, v, _ = planted
    plain = local_hotspots(lon, lat, v, permutations=PERMS)
    fdr = local_hotspots(lon, lat, v, permutations=PERMS, correction="fdr")
    assert fdr["significant"].sum() <= plain["significant"].sum()
    assert not (fdr["significant"] & ~plain["significant"]).any()


def test_isolates_and_constant_values():
    lon = np.array([0.0, 0.1, 0.2, 0.05, 50.0])
    lat = np.array([0.0, 0.0, 0.1, 0.1, 0.0])
    v = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    t = local_hotspots(
        lon, lat, v, statistic="lisa", graph="distance", distance_km=100, permutations=PERMS
    )
    assert t["cluster"].iloc[4] == "isolate"
    assert np.isnan(t["p_sim"].iloc[4]) and t["n_neighbours"].iloc[4] == 0
    const = local_hotspots(lon, lat, np.ones(5), k=2, permutations=PERMS)
    assert not const["significant"].any()
    assert const["statistic"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"statistic": "moran"}, "statistic must be one of"),
        ({"graph": "queen"}, "graph must be one of"),
        ({"graph": "distance"}, "distance_km must be a positive"),
        ({"k": 10}, r"k must be an integer in \[1, 4\]"),
        ({"alpha": 1.5}, "alpha must lie in"),
        ({"correction": "bonferroni"}, "correction must be"),
    ],
)
def test_bad_options(kwargs, match):
    lon = np.arange(5.0)
    lat = np.zeros(5)
    with pytest.raises(InputError, match=match):
        local_hotspots(lon, lat, np.array([1.0, -1, 1, -1, 1]), permutations=PERMS, **kwargs)


def test_gi_needs_non_negative_values():
    with pytest.raises(InputError, match="non-negative"):
        local_hotspots(np.arange(5.0), np.zeros(5), np.array([0.5, -2, 1, 3, 1]), k=2)
    with pytest.raises(InputError, match="row 1"):
        local_hotspots(np.arange(3.0), np.array([0.0, 91.0, 0.0]), np.ones(3), k=1)


def test_plot_hotspots_states_graph_and_level(tmp_path, planted):
    lon, lat, v, _ = planted
    ax = plot_hotspots(lon, lat, v, statistic="lisa", k=8, permutations=PERMS, alpha=0.1)
    title = ax.get_title()
    assert "local Moran" in title
    assert "8 nearest neighbours (great-circle)" in title
    assert f"{PERMS} permutations" in title and "p_sim < 0.1" in title
    table = local_hotspots(lon, lat, v, statistic="lisa", k=8, permutations=PERMS, alpha=0.1)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    n_cold = int((table["cluster"] == "cold spot").sum())
    assert f"cold spot: failure cluster ({n_cold:,})" in legend
    ax.figure.savefig(tmp_path / "h.png", dpi=40)
    img = mpimg.imread(tmp_path / "h.png")[..., :3]
    assert img.std() > 0.02


def test_plot_hotspots_subsamples_large_inputs(planted):
    lon, lat, v, _ = planted
    ax = plot_hotspots(lon, lat, v, k=4, permutations=PERMS, max_points=100, graph="knn")
    assert "random subset of 100 of 240 samples (seed 0)" in ax.get_title()


def test_plot_hotspots_at_the_poles_and_antimeridian(tmp_path, points):
    lon, lat = points
    v = np.where(lat > 70, -1.0, 1.0)  # failures around the north pole
    ax = plot_hotspots(lon, lat, v, statistic="gi", k=5, permutations=PERMS, world=True)
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    table = local_hotspots(lon, lat, v, statistic="gi", k=5, permutations=PERMS)
    cold = table["cluster"] == "cold spot"
    assert cold.sum() > 10 and (table.loc[cold, "lat"] > 60).mean() > 0.9
    assert f"cold spot: failure cluster ({int(cold.sum()):,})" in legend
    ax.figure.savefig(tmp_path / "p.png", dpi=40)
    assert mpimg.imread(tmp_path / "p.png")[..., :3].std() > 0.02
