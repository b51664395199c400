"""Geary's C of performance (``--score geary``): checked against esda.Geary.

C, its z-values and p-values under normality and randomisation, per neighbourhood, on the
same samples and k-NN weights as esda (built here by brute force), on several patterns:
random, clustered, a fine checkerboard and continuous values; then the score's
plumbing (CLI option, summary parameter, accuracy-matched null, skip reasons).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pygbs
from pygbs import Neighbourhoods, SphereIndex, parse_scale
from pygbs.cli import main
from pygbs.errors import InputError
from pygbs.stats.registry import REGISTRY
from pygbs.stats.scores.geary import geary_null, geary_scores


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


def _pattern(kind, lon, lat, rng):
    if kind == "random":
        return np.where(rng.random(len(lon)) < 0.6, 1.0, -1.0)
    if kind == "clustered":  # right and wrong in blobs of about 50 km, 10 % flipped
        blobs = np.sin(lon * 6) * np.sin(lat * 6) > 0
        return np.where(blobs ^ (rng.random(len(lon)) < 0.1), 1.0, -1.0)
    if kind == "checkerboard":  # cells of about 20 km, finer than the samples' spacing
        return np.where((np.floor(lon / 0.2) + np.floor(lat / 0.2)) % 2 == 0, 1.0, -1.0)
    return rng.normal(size=len(lon)) ** 2  # continuous, skewed (kurtosis matters)


@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")
@pytest.mark.parametrize("kind", ["random", "clustered", "checkerboard", "continuous"])
@pytest.mark.parametrize("k", [4, 7])
def test_geary_equals_esda_on_the_same_samples_and_weights(kind, k):
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    rng = np.random.default_rng(11)
    n = 300
    lon, lat = rng.uniform(0, 3, n), rng.uniform(0, 3, n)
    marks = _pattern(kind, lon, lat, rng)
    index = SphereIndex(lon, lat)
    nb = Neighbourhoods.from_scale(index, np.arange(0, n, 30), parse_scale("100km", k_max=None))
    normal = geary_scores(index, nb, marks, k=k, variance="normal")
    rand = geary_scores(index, nb, marks, k=k, variance="randomization")
    np.testing.assert_array_equal(normal["geary_c"], rand["geary_c"])
    checked = 0
    for j in range(len(nb.centres)):
        ids = nb.indices[nb.indptr[j] : nb.indptr[j + 1]]
        if len(ids) < 5 or np.unique(marks[ids]).size == 1:
            continue
        w = libpysal.weights.full2W(_brute_knn_weights(lat[ids], lon[ids], k))
        g = esda.Geary(marks[ids], w, permutations=0)  # row-standardised, esda's default
        assert normal["geary_c"][j] == pytest.approx(g.C, rel=1e-9)
        assert normal["geary_z"][j] == pytest.approx(g.z_norm, rel=1e-7, abs=1e-9)
        assert normal["geary_p"][j] == pytest.approx(g.p_norm, rel=1e-7, abs=1e-12)
        assert rand["geary_z"][j] == pytest.approx(g.z_rand, rel=1e-7, abs=1e-9)
        assert rand["geary_p"][j] == pytest.approx(g.p_rand, rel=1e-7, abs=1e-12)
        checked += 1
    assert checked >= 5
    if kind == "clustered":  # neighbours alike: C below 1 nearly everywhere
        c = normal["geary_c"][np.isfinite(normal["geary_c"])]
        assert np.median(c) < 0.85 and (c < 1).mean() >= 0.8


def test_constant_neighbourhoods_and_small_ones_get_no_value():
    rng = np.random.default_rng(2)
    lon, lat = rng.uniform(0, 1, 200), rng.uniform(0, 1, 200)
    index = SphereIndex(lon, lat)
    nb = Neighbourhoods.from_scale(index, np.arange(10), parse_scale("nn30"))
    res = geary_scores(index, nb, np.ones(200))
    assert np.isnan(res["geary_c"]).all() and np.isnan(res["geary_p"]).all()
    small = Neighbourhoods.from_scale(index, np.arange(10), parse_scale("nn3"))
    marks = np.where(rng.random(200) < 0.5, 1.0, -1.0)
    assert np.isnan(geary_scores(index, small, marks, min_points=3)["geary_c"]).all()


def test_null_is_the_score_of_each_labelling():
    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(0, 2, 250), rng.uniform(0, 2, 250)
    index = SphereIndex(lon, lat)
    nb = Neighbourhoods.from_scale(index, np.arange(0, 250, 10), parse_scale("nn40"))
    draws = np.where(rng.random((3, 250)) < 0.5, 1.0, -1.0)
    null = geary_null(index, nb, draws, k=5)
    for r in range(3):
        one = geary_scores(index, nb, draws[r], k=5)["geary_c"]
        np.testing.assert_allclose(null[:, r], one, rtol=1e-12)


def test_unknown_variance_names_the_option():
    with pytest.raises(InputError, match=r"geary_variance \(--geary-variance\) must be one of"):
        pygbs.score(pd.DataFrame({"lon": [0.0], "lat": [0.0], "hit@1": [1]}), scores=["geary"],
                    geary_variance="exact")  # fmt: skip


def _table(tmp_path, n=300, seed=3):
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(0, 2, n), rng.uniform(0, 2, n)
    hit = (rng.random(n) < np.where(lon < 1, 0.9, 0.3)).astype(int)
    df = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit})
    f = tmp_path / "p.csv"
    df.to_csv(f, index=False)
    return df, f


def test_geary_is_a_registered_score_with_its_cli_option_and_summary_block(tmp_path):
    d = REGISTRY["geary"]
    assert d.column == "geary_c" and d.has_p and d.null is not None
    df, f = _table(tmp_path)
    out = tmp_path / "o"
    args = ["score", str(f), "--scale", "nn30", "--score", "geary", "--geary-variance",
            "normal", "--null", "accuracy", "--null-draws", "9", "--bootstrap", "0",
            "--out", str(out)]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    cen = pd.read_csv(out / "centres.csv")
    assert {"geary_c", "geary_c_p", "geary_c_q", "geary_c_excess"} <= set(cen.columns)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parameters"]["geary"] == {"variance": "normal"}
    agg = summary["aggregates"]["geary_c"]["nn30"]
    assert agg["n_scored"] > 0 and "excess" in agg and "n_skipped_constant" in agg
    # the same numbers as the array function on the same options
    api = pygbs.score(df, scales=["nn30"], scores=["geary"], geary_variance="normal",
                      bootstrap=0)  # fmt: skip
    np.testing.assert_allclose(api.centres["geary_c"], cen["geary_c"], rtol=1e-12)
    # clustered accuracy (west good, east bad): neighbours alike, C below 1 on average
    assert agg["mean"] < 1.0
    # without geary, the summary has no geary block (older summaries are unchanged)
    plain = pygbs.score(df, scales=["nn30"], scores=["marked"], bootstrap=0)
    assert "geary" not in plain.summary["parameters"]


def test_geary_needs_four_points(tmp_path):
    _, f = _table(tmp_path, n=50)
    r = CliRunner().invoke(main, ["score", str(f), "--scale", "nn8", "--score", "geary",
                                  "--min-points", "3", "--out", str(tmp_path / "o")])  # fmt: skip
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "min_points (--min-points)" in lines[0] and "geary" in lines[0]
    assert not (tmp_path / "o").exists()
