"""Geo-bias across scales: one search for all scales, profile = score, peaks at the patch size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pygbs
from pygbs.cli import main
from pygbs.errors import InputError
from pygbs.geo.neighbours import Neighbourhoods, NeighbourSearch, SphereIndex
from pygbs.scale_profile import PROFILE_COLUMNS, scale_range


def test_scale_range():
    assert scale_range("10km:1000km:3") == ["10km", "100km", "1000km"]
    names = scale_range("10km:2000km:12")
    assert len(names) == 12 and names[0] == "10km" and names[-1] == "2000km"
    radii = [float(n[:-2]) for n in names]
    ratios = np.diff(np.log(radii))
    np.testing.assert_allclose(ratios, ratios[0], rtol=0.01)  # evenly spaced on a log axis
    for bad in ("10km:5km:3", "10km:100km:1", "10:100:3", "nn5:nn50:3"):
        with pytest.raises(InputError, match="scale range"):
            scale_range(bad)


def test_one_search_gives_the_same_neighbourhoods_as_one_search_per_scale():
    rng = np.random.default_rng(0)
    lon = np.round(rng.uniform(0, 3, 800), 2)  # rounded: many exact ties and duplicates
    lat = np.round(rng.uniform(0, 3, 800), 2)
    index = SphereIndex(lon, lat)
    centres = np.arange(0, 800, 7)
    capped = (("20km", 30), ("80km", 30), ("150km", 60), ("nn10", None), ("nn40", None))
    scales = [pygbs.parse_scale(s, k_max=k) for s, k in capped]
    scales += [pygbs.parse_scale(s, k_max=None) for s in ("30km", "90km")]
    shared = NeighbourSearch(index, centres, scales)
    for scale in scales:
        one = Neighbourhoods.from_scale(index, centres, scale)
        got = shared.neighbourhoods(scale)
        for field in ("indptr", "indices", "dist", "radius"):
            np.testing.assert_array_equal(getattr(got, field), getattr(one, field))


def _patchy(rng, n, patch_deg):
    lon, lat = rng.uniform(0, 30, n), rng.uniform(-15, 15, n)
    board = (np.floor(lon / patch_deg) + np.floor(lat / patch_deg)) % 2 == 0
    hit = np.where(board, rng.random(n) < 0.85, rng.random(n) < 0.25)
    return pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit.astype(int)})


def test_profile_equals_score_at_each_scale():
    df = _patchy(np.random.default_rng(1), 1500, 3.0)
    scales = ["60km", "150km", "nn20"]
    prof = pygbs.profile(df, scales=scales, scores=["marked", "sri-lag"], bootstrap=200)
    assert list(prof.table.columns) == PROFILE_COLUMNS
    for scale in scales:
        one = pygbs.score(df, scales=[scale], scores=["marked", "sri-lag"], bootstrap=200)
        for score, col in (("marked", "marked_ssi"), ("sri-lag", "sri_lag")):
            row = prof.table[(prof.table["scale"] == scale) & (prof.table["score"] == score)]
            agg = one.summary["aggregates"][col][scale]
            for field in ("mean", "ci_low", "ci_high", "n_scored"):
                want = np.nan if agg[field] is None else agg[field]
                np.testing.assert_array_equal(row[field].iloc[0], want)
            both = next(iter(prof.results.values())).centres
            np.testing.assert_array_equal(
                both.loc[both["scale"] == scale, col].to_numpy(), one.centres[col].to_numpy()
            )
    with pytest.raises(InputError, match="at least two scales"):
        pygbs.profile(df, scales=["100km"])


@pytest.mark.parametrize("patch_deg", [3.0, 6.0])
def test_sri_profile_peaks_near_the_size_of_planted_failure_patches(patch_deg):
    """Failures planted in a checkerboard of squares of a known side: the SRI (distance
    lag) profile peaks at a radius near that side."""
    df = _patchy(np.random.default_rng(0), 5000, patch_deg)
    scales = scale_range("120km:1800km:7")
    prof = pygbs.profile(df, scales=scales, scores=["sri-lag"], centres=250, bootstrap=0)
    t = prof.table[prof.table["score"] == "sri-lag"].dropna(subset=["mean"])
    peak_km = float(t.loc[t["mean"].idxmax(), "radius_km"])
    side_km = patch_deg * 111.2
    print(f"\npatch side {side_km:.0f} km: SRI-lag profile peaks at {peak_km:.0f} km")
    assert side_km / 2 <= peak_km <= side_km * 2


def test_profile_and_compare_profile_cli(tmp_path):
    df = _patchy(np.random.default_rng(2), 600, 3.0)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    df.to_csv(a, index=False)
    df.assign(**{"hit@1": 1 - df["hit@1"]}).to_csv(b, index=False)
    runner = CliRunner()
    out = tmp_path / "prof"
    r = runner.invoke(
        main,
        ["profile", str(a), "--scales", "50km:400km:4", "--bootstrap", "50", "--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "profile.csv")
    # by default: marked SSI, Moran's I and the spread, each with its excess over the null
    assert list(table.columns) == PROFILE_COLUMNS and len(table) == 12
    assert set(table["score"]) == {"marked", "moran", "spread"}
    scored = table.dropna(subset=["mean"])
    assert scored["excess"].notna().all() and scored["null_mean"].notna().all()
    assert (out / "profile.png").stat().st_size > 0 and (out / "summary.json").is_file()
    r = runner.invoke(main, ["profile", str(a), "--scales", "50km:400km:4", "--scale", "9km",
                             "--out", str(tmp_path / "x")])  # fmt: skip
    assert r.exit_code == 2 and "not both" in r.output
    cmp_out = tmp_path / "cmp"
    r = runner.invoke(
        main,
        ["compare", str(a), str(b), "--scale", "50km", "--scale", "200km", "--profile",
         "--bootstrap", "50", "--out", str(cmp_out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    both = pd.read_csv(cmp_out / "profile.csv")
    assert list(both.columns) == ["model", *PROFILE_COLUMNS]
    assert set(both["model"]) == {"a", "b"} and (cmp_out / "profile.png").is_file()


def test_profile_marks_the_radii_where_k_max_binds():
    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(0, 10, 2000), rng.uniform(0, 10, 2000)  # ~20 samples per 100 km disc
    df = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": (rng.random(2000) < 0.7).astype(int)})
    prof = pygbs.profile(df, scales=["50km", "100km", "400km", "1000km"], centres=300,
                         k_max=60, bootstrap=50)  # fmt: skip
    capped = prof.table[prof.table["score"] == "marked"].set_index("scale")["share_capped"]
    assert capped["50km"] == 0.0 and capped["100km"] < 0.5
    assert capped["400km"] > 0.9 and capped["1000km"] == 1.0
    # past the cap the samples no longer change but the surprisal keeps rising
    marked = prof.table[prof.table["score"] == "marked"].set_index("scale")["mean"]
    assert marked["1000km"] > marked["400km"]
