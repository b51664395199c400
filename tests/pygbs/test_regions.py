"""Per-region metrics and disparity (``pygbs.regions``, ``pygbs regions``).

Covered: the region of a sample (known places, the nearest-country rule, HEALPix and
rotated grids, user polygons and their errors); per-region numbers against a plain
groupby; the gap, ratio and Theil index against their formulas; a planted regional
failure found by every statistic and at every rotation of the robust grids; random errors
giving gaps that match the sampling noise; the fairlearn-style accessors; the files and
exit codes of the command.
"""

from __future__ import annotations

import json

import healpix
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pygbs.cli import main
from pygbs.errors import InputError
from pygbs.partitions import (
    NONE,
    assign_regions,
    cell_km,
    random_rotations,
    rotated_cells,
)
from pygbs.regional import regions, robust_disparity
from pygbs.results.regions import RegionResult

CAP = (20.0, 5.0, 2000.0)  # lon, lat, radius km of the planted failure


def _sphere(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    return lon, lat


def _km_from(lon, lat, lon0, lat0):
    a, b = np.radians(lat), np.radians(lat0)
    c = np.sin(a) * np.sin(b) + np.cos(a) * np.cos(b) * np.cos(np.radians(lon - lon0))
    return 6371.0088 * np.arccos(np.clip(c, -1, 1))


def _table(seed: int, planted: bool, n: int = 8000) -> pd.DataFrame:
    """Hits with probability 0.8 everywhere, 0.3 inside the cap when ``planted``."""
    rng = np.random.default_rng(seed)
    lon, lat = _sphere(n, rng)
    inside = _km_from(lon, lat, CAP[0], CAP[1]) < CAP[2]
    p = np.where(inside & planted, 0.3, 0.8)
    return pd.DataFrame({"lon": lon, "lat": lat, "hit@1": (rng.random(n) < p).astype(int)})


# --- partitions --------------------------------------------------------------------------


def test_known_places_fall_in_their_country_continent_and_subregion():
    lon = np.array([2.35, 13.40, -74.0, 151.2, 77.2, -47.9, 31.2])
    lat = np.array([48.86, 52.52, 40.7, -33.87, 28.6, -15.8, 30.0])
    country = assign_regions(lon, lat, "country").labels
    assert list(country) == [
        "France", "Germany", "United States of America", "Australia", "India", "Brazil", "Egypt",
    ]  # fmt: skip
    continent = assign_regions(lon, lat, "continent").labels
    assert list(continent) == [
        "Europe", "Europe", "North America", "Oceania", "Asia", "South America", "Africa",
    ]  # fmt: skip
    sub = assign_regions(lon, lat, "subregion").labels
    assert sub[0] == "Western Europe" and sub[4] == "Southern Asia" and sub[6] == "Northern Africa"


def test_samples_at_sea_go_to_the_nearest_country_within_the_distance_else_none():
    # 0.5 degrees west of Lisbon's coast (about 40 km at sea); the middle of the Atlantic
    lon = np.array([-10.0, -30.0])
    lat = np.array([38.7, 0.0])
    part = assign_regions(lon, lat, "country")
    assert list(part.labels) == ["Portugal", NONE]
    assert part.n_nearest == 1 and part.n_none == 1
    off = assign_regions(lon, lat, "country", nearest_km=0)
    assert list(off.labels) == [NONE, NONE] and off.n_nearest == 0
    # a longitude in [180, 360) is the same place as its -360 twin
    assert assign_regions(np.array([360 - 74.0]), np.array([40.7]), "country").labels[0] == (
        "United States of America"
    )


def test_healpix_partition_names_the_cells_of_healpix():
    rng = np.random.default_rng(1)
    lon, lat = _sphere(500, rng)
    part = assign_regions(lon, lat, "healpix:4")
    pix = healpix.ang2pix(4, lon, lat, lonlat=True)
    assert list(part.labels) == [f"hp4:{p}" for p in pix]
    assert part.n_none == 0
    assert cell_km(1) == pytest.approx(np.sqrt(4 * np.pi * 6371.0088**2 / 12))


def test_rotations_are_proper_and_the_identity_gives_the_plain_grid():
    rots = random_rotations(5, seed=3)
    for r in rots:
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0)
    np.testing.assert_array_equal(rots, random_rotations(5, seed=3))
    rng = np.random.default_rng(2)
    lon, lat = _sphere(300, rng)
    np.testing.assert_array_equal(
        rotated_cells(lon, lat, 8, np.eye(3)), healpix.ang2pix(8, lon, lat, lonlat=True)
    )
    # a rotation moves the borders: the cells differ for some samples
    assert np.any(rotated_cells(lon, lat, 8, rots[0]) != rotated_cells(lon, lat, 8, np.eye(3)))


@pytest.fixture
def zones(tmp_path):
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame(
        {"zone": ["west", "east"]},
        geometry=[shapely.box(-10, 0, 0, 10), shapely.box(0, 0, 10, 10)],
        crs="EPSG:4326",
    )
    path = tmp_path / "zones.gpkg"
    gdf.to_file(path)
    return path


def test_user_polygons_assign_by_their_column(zones):
    lon = np.array([-5.0, 5.0, 50.0])
    lat = np.array([5.0, 5.0, 5.0])
    part = assign_regions(lon, lat, f"{zones}:zone")
    assert list(part.labels) == ["west", "east", NONE]
    assert part.n_none == 1


def test_bad_partitions_name_the_problem(zones):
    lon, lat = np.array([0.0]), np.array([0.0])
    with pytest.raises(InputError, match="no column 'name'.*zone"):
        assign_regions(lon, lat, f"{zones}:name")
    with pytest.raises(InputError, match="no such file"):
        assign_regions(lon, lat, "missing.gpkg:zone")
    with pytest.raises(InputError, match="unknown partition 'planets'"):
        assign_regions(lon, lat, "planets")
    with pytest.raises(InputError, match="healpix:N needs an integer"):
        assign_regions(lon, lat, "healpix:x")


# --- numbers -----------------------------------------------------------------------------


def test_region_numbers_match_a_groupby_and_the_formulas():
    df = _table(0, planted=True, n=4000)
    res = regions(df, by="healpix:1", n_boot=200, names=["m"])
    labels = assign_regions(df.lon.to_numpy(), df.lat.to_numpy(), "healpix:1").labels
    g = df.assign(region=labels).groupby("region")["hit@1"].agg(["mean", "size"])
    t = res.table.set_index("region")
    np.testing.assert_allclose(t.loc[g.index, "accuracy"], g["mean"])
    np.testing.assert_array_equal(t.loc[g.index, "n"], g["size"])
    rest = [(df["hit@1"].sum() - g.loc[r, "mean"] * g.loc[r, "size"]) / (len(df) - g.loc[r, "size"])
            for r in g.index]  # fmt: skip
    np.testing.assert_allclose(t.loc[g.index, "vs_rest"], g["mean"] - rest)
    d = res.disparity.set_index("statistic")
    assert d.loc["overall", "value"] == pytest.approx(df["hit@1"].mean())
    assert d.loc["gap", "value"] == pytest.approx(g["mean"].max() - g["mean"].min())
    assert d.loc["ratio", "value"] == pytest.approx(g["mean"].min() / g["mean"].max())
    share = g["size"] / g["size"].sum()
    mu = float((share * g["mean"]).sum())
    theil = sum(s * (x / mu) * np.log(x / mu) for s, x in zip(share, g["mean"], strict=True))
    assert d.loc["theil", "value"] == pytest.approx(theil)
    assert d.loc["worst_region", "region"] == g["mean"].idxmin()
    assert d.loc["best_region", "region"] == g["mean"].idxmax()
    # fairlearn's vocabulary on the same numbers
    assert res.by_region["m"].to_dict() == pytest.approx(g["mean"].to_dict())
    assert res.overall["m"] == pytest.approx(df["hit@1"].mean())
    assert res.difference()["m"] == pytest.approx(res.group_max()["m"] - res.group_min()["m"])
    assert res.ratio()["m"] == pytest.approx(res.group_min()["m"] / res.group_max()["m"])
    assert res.worst()["m"] == g["mean"].idxmin()
    assert res.theil()["m"] == pytest.approx(theil)


def test_an_error_metric_has_its_worst_region_where_the_error_is_highest():
    rng = np.random.default_rng(4)
    lon, lat = _sphere(3000, rng)
    err = np.where(lat > 0, 2.0, 1.0) * rng.uniform(0.5, 1.5, lon.size)
    res = regions(pd.DataFrame({"lon": lon, "lat": lat, "error": err}), by="healpix:1", n_boot=100)
    assert res.metric == "value" and not res.higher_is_better
    worst = res.worst().iloc[0]
    t = res.table.set_index("region")
    assert t.loc[worst, "value"] == t["value"].max()


def test_regions_below_min_n_are_listed_but_not_compared():
    df = _table(1, planted=False, n=2000)
    res = regions(df, by="healpix:4", n_boot=50, min_n=30)
    small = res.table[res.table["n"] < 30]
    assert len(small) and not small["eligible"].any()
    assert set(res.by_region.index) == set(res.table.loc[res.table["n"] >= 30, "region"])


# --- planted failure and noise -----------------------------------------------------------


def test_a_planted_failure_is_the_worst_region_and_significant():
    res = regions([_table(0, True), _table(0, False)], by="healpix:2", names=["planted", "random"],
                  n_boot=500)  # fmt: skip
    d = res.disparity.set_index(["model", "statistic"])
    cap_cell = f"hp2:{healpix.ang2pix(2, CAP[0], CAP[1], lonlat=True)}"
    assert d.loc[("planted", "worst_region"), "region"] == cap_cell
    assert d.loc[("planted", "worst_region"), "p_value"] < 1e-6
    assert d.loc[("planted", "gap"), "p_value"] < 0.01
    assert d.loc[("random", "gap"), "p_value"] > 0.05
    t = res.table.set_index(["model", "region"])
    assert t.loc[("planted", cap_cell), "q_vs_rest"] < 1e-6
    assert t.loc[("planted", cap_cell), "vs_rest_ci_high"] < 0


def test_the_planted_failure_is_found_at_every_rotation():
    df = _table(0, True)
    rob = robust_disparity(df.lon.to_numpy(), df.lat.to_numpy(), df["hit@1"].to_numpy(float),
                           nsides=(2, 4), rotations=10, seed=1)  # fmt: skip
    assert len(rob) == 20 and rob["gap"].notna().all()
    assert (rob["p_gap"] < 0.05).all()
    assert (rob["gap"] > rob["null_gap"]).all()


def test_random_errors_give_gaps_that_match_the_sampling_noise():
    # 20 data sets without any regional effect: the gap's p-value is about uniform
    p = []
    for seed in range(20):
        res = regions(_table(100 + seed, False, n=4000), by="healpix:2", n_boot=200, seed=seed)
        p.append(res.disparity.set_index("statistic").loc["gap", "p_value"])
    p = np.array(p)
    assert np.mean(p < 0.05) <= 0.15
    assert 0.3 < np.mean(p) < 0.7
    df = _table(7, False)
    rob = robust_disparity(df.lon.to_numpy(), df.lat.to_numpy(), df["hit@1"].to_numpy(float),
                           nsides=(2, 4), rotations=10, seed=2)  # fmt: skip
    for _, g in rob.groupby("cell_km"):
        assert 0.7 < g["gap"].median() / g["null_gap"].median() < 1.4
        assert np.mean(g["p_gap"] < 0.05) <= 0.3


# --- files and command -------------------------------------------------------------------


def test_write_and_read_give_the_same_result(tmp_path):
    res = regions(_table(2, True, n=2000), by="healpix:1", n_boot=50, robust=True,
                  robust_nsides=(2,), rotations=2)  # fmt: skip
    res.write(tmp_path / "out")
    back = RegionResult.read(tmp_path / "out")
    pd.testing.assert_frame_equal(back.table, res.table, check_dtype=False)
    num = ["value", "ci_low", "ci_high", "p_value"]
    pd.testing.assert_frame_equal(back.disparity[num], res.disparity[num])
    assert list(back.disparity["region"].fillna("")) == list(res.disparity["region"])
    pd.testing.assert_frame_equal(back.robust, res.robust, check_dtype=False)
    assert back.info["by"] == "healpix:1"


def test_command_writes_the_named_files(tmp_path):
    for name, planted in (("planted", True), ("random", False)):
        _table(3, planted, n=3000).to_csv(tmp_path / f"{name}.csv", index=False)
    out = tmp_path / "out"
    args = ["regions", str(tmp_path / "planted.csv"), str(tmp_path / "random.csv"),
            "--by", "healpix:2", "--bootstrap", "100", "--robust", "--nsides", "2",
            "--rotations", "3", "--out", str(out)]  # fmt: skip
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "planted: accuracy" in res.output and "robust gap" in res.output
    regions_csv = pd.read_csv(out / "regions.csv")
    assert list(regions_csv.columns[:6]) == [
        "model", "region", "n", "accuracy", "accuracy_ci_low", "accuracy_ci_high",
    ]  # fmt: skip
    assert set(regions_csv["model"]) == {"planted", "random"}
    disp = pd.read_csv(out / "disparity.csv")
    assert list(disp.columns[:5]) == ["model", "statistic", "value", "ci_low", "ci_high"]
    assert {"gap", "ratio", "theil", "worst_region"} <= set(disp["statistic"])
    robust = pd.read_csv(out / "robust.csv")
    assert list(robust.columns[:4]) == ["model", "cell_km", "rotation", "gap"]
    assert (out / "robust.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(robust) == 2 * 3
    assert json.loads((out / "regions.json").read_text())["by"] == "healpix:2"
    # the same command again replaces its own output
    assert CliRunner().invoke(main, args).exit_code == 0


@pytest.mark.parametrize(
    ("by", "needle"),
    [("planets", "unknown partition 'planets'"), ("healpix:0", "healpix:N needs an integer"),
     ("nothere.gpkg:zone", "no such file")],
)  # fmt: skip
def test_command_bad_partition_is_one_line_and_exit_2(tmp_path, by, needle):
    _table(3, False, n=200).to_csv(tmp_path / "p.csv", index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["regions", str(tmp_path / "p.csv"), "--by", by,
                                    "--out", str(out)])  # fmt: skip
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]
    assert not out.exists()


def test_shared_file_by_country(predictions_dir):
    f = predictions_dir / "torchspatial" / "eval_yfcc__test_NeRF.csv.gz"
    res = regions(f, by="country", n_boot=100)
    t = res.table.set_index("region")
    assert t["n"].idxmax() == "United States of America"
    assert t["n"].sum() == res.info["models"]["eval_yfcc__test_NeRF"]["n"]


def test_cap_polygon_edge_lies_at_the_radius():
    import shapely

    from pygbs.partitions import cap_polygon

    for lon, lat in ((10.0, 10.0), (135.0, -25.0), (0.0, 70.0)):
        poly = cap_polygon(lon, lat, 1000.0)
        xy = shapely.get_coordinates(poly)
        np.testing.assert_allclose(_km_from(xy[:, 0], xy[:, 1], lon, lat), 1000.0, rtol=1e-3)
        assert poly.contains(shapely.Point(lon, lat))
    with pytest.raises(InputError, match="cap radius"):
        cap_polygon(0.0, 0.0, -5.0)


def test_the_function_stays_the_package_attribute():
    import pygbs
    import pygbs.regional  # noqa: F401  (a submodule import must not shadow the function)

    assert callable(pygbs.regions) and pygbs.regions is regions
    assert pygbs.RegionResult is RegionResult


def test_robust_curve_draws_the_summary():
    from pygbs.plot import plot_robust

    res = regions(_table(2, True, n=3000), by="healpix:1", n_boot=20, robust=True,
                  robust_nsides=(2, 4), rotations=3)  # fmt: skip
    s = res.robust_summary().sort_values("cell_km")
    g = res.robust.groupby("cell_km")["gap"]
    np.testing.assert_allclose(s["gap_median"], g.median().sort_index())
    line = plot_robust(res).axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), s["cell_km"])
    np.testing.assert_allclose(line.get_ydata(), s["gap_median"])
