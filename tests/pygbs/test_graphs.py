"""pygbs.stats.graphs: patterns, k-NN edges and SRI parts, against independent computations.

- without background points the edges are each sample's k nearest other samples by
  haversine distance (scikit-learn's BallTree; random points, so no ties);
- the graph constants are those of the dense weight matrix made from the edges;
- with background points the pattern sizes follow the grid of docs/method.md, D3;
- lag parts are ``floor(distance / lag)`` of the neighbourhood's distances.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.neighbors import BallTree

from pygbs import Neighbourhoods, SphereIndex, parse_scale
from pygbs.errors import InputError
from pygbs.stats.graphs import pattern_graphs, sri_parts


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(4)
    lon = rng.uniform(5.0, 7.0, 400)
    lat = rng.uniform(44.0, 46.0, 400)
    return SphereIndex(lon, lat), lon, lat


def test_edges_are_the_k_nearest_samples(samples):
    index, lon, lat = samples
    nb = Neighbourhoods.from_scale(index, np.arange(0, 400, 37), parse_scale("nn30"))
    g = pattern_graphs(index, nb, background=False, k=4)
    assert g.active.all() and (g.n_background == 0).all()
    for j in range(len(g.centres)):
        ids = g.members[g.member_ptr[j] : g.member_ptr[j + 1]]
        pts = np.radians(np.column_stack([lat[ids], lon[ids]]))
        want = BallTree(pts, metric="haversine").query(pts, k=5, return_distance=False)[:, 1:]
        e = slice(g.edge_ptr[j], g.edge_ptr[j + 1])
        got = np.full((len(ids), 4), -1)
        for a, b in zip(g.src[e], g.dst[e]):
            row = got[a]
            row[np.argmax(row < 0)] = b
        np.testing.assert_array_equal(np.sort(got, axis=1), np.sort(want, axis=1))


def test_graph_constants_are_those_of_the_dense_matrix(samples):
    index, _, _ = samples
    nb = Neighbourhoods.from_scale(index, np.array([3, 50, 99]), parse_scale("30km"))
    g = pattern_graphs(index, nb, background=True, k=4)
    for j in range(3):
        m = g.n_points[j]
        w = np.zeros((m, m))
        e = slice(g.edge_ptr[j], g.edge_ptr[j + 1])
        w[g.src[e], g.dst[e]] = 1.0
        assert (w.sum(axis=1) == 4).all() and np.trace(w) == 0
        assert g.s0[j] == w.sum()
        assert g.s1[j] == 0.5 * ((w + w.T) ** 2).sum()
        assert g.s2[j] == ((w.sum(axis=0) + w.sum(axis=1)) ** 2).sum()


def test_background_grid_size_follows_the_definition(samples):
    index, _, _ = samples
    nb = Neighbourhoods.from_scale(index, np.array([0, 1]), parse_scale("50km"))
    g = pattern_graphs(index, nb)
    r = 50.0 / 6371.0088
    for j in range(2):
        n = int(g.sizes[j])
        density = math.ceil(5 * n / (math.pi * r**2))
        rings = math.ceil(r * math.sqrt(density))
        assert g.n_background[j] == sum(
            math.ceil(2 * math.pi * ring) for ring in range(1, rings + 1)
        )


def test_small_neighbourhoods_get_no_pattern(samples):
    index, _, _ = samples
    nb = Neighbourhoods.from_scale(index, np.arange(5), parse_scale("nn4"))
    g = pattern_graphs(index, nb, min_points=5)
    assert not g.active.any() and g.edge_ptr[-1] == 0 and np.isnan(g.s0).all()


def test_lag_parts(samples):
    index, _, _ = samples
    nb = Neighbourhoods.from_scale(index, np.array([7, 8]), parse_scale("40km"), cap=False)
    lag = 10.0 / 6371.0088
    part, n_parts = sri_parts(index, nb, "lag", lag=lag)
    assert n_parts.tolist() == [4, 4]
    expect = np.floor(nb.dist / lag).astype(int)
    expect[expect >= 4] = -1
    np.testing.assert_array_equal(part, expect)


def test_bad_options():
    index = SphereIndex(np.zeros(3), np.arange(3.0))
    nb = Neighbourhoods.from_scale(index, np.arange(3), parse_scale("nn3"))
    with pytest.raises(InputError, match="k must be a positive integer"):
        pattern_graphs(index, nb, k=0)
    with pytest.raises(InputError, match="partition must be one of"):
        sri_parts(index, nb, "rings")
