"""``pygbs map`` and ``pygbs report`` through click's CliRunner.

Covers: scoring a file and mapping it (score outputs plus every map, real PNG files), the
same maps from a scored directory (``--from``), an explicit extent crossing the
antimeridian given with negative numbers, the HTML report of two files, and usage errors
(exit code 2 with one line).
"""

from __future__ import annotations

import hashlib

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pygbs.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(4)
    n = 80
    lon = (rng.uniform(165, 195, n) + 180) % 360 - 180  # around the antimeridian
    lat = rng.uniform(-30, -5, n)
    hit_a = (rng.random(n) < 0.7).astype(int)
    hit_b = np.where(lon > 0, rng.random(n) < 0.2, rng.random(n) < 0.9).astype(int)
    a = d / "model_a.csv"
    b = d / "model_b.csv"
    pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit_a}).to_csv(a, index=False)
    pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit_b}).to_csv(b, index=False)
    return a, b


@pytest.fixture(scope="module")
def mapped(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps") / "maps"
    res = CliRunner().invoke(
        main,
        [
            "map",
            str(files[1]),
            "--scale",
            "nn10",
            "--out",
            str(out),
            "--hotspot-k",
            "6",
            "--hotspot-permutations",
            "99",
            "--dpi",
            "40",
        ],
    )
    return res, out


def _real_png(path):
    img = mpimg.imread(path)
    assert img.shape[0] > 100 and img.shape[1] > 200
    assert img[..., :3].std() > 0.02


def test_map_scores_and_maps(mapped):
    res, out = mapped
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            ".geobias-output.json",  # the manifest of docs/cli.md
            "summary.json",
            "centres.csv",
            "density.png",
            "hotspots_gi.png",
            "hotspots_lisa.png",
            "centres_unmarked_ssi_nn10.png",
            "centres_marked_ssi_nn10.png",
        ]
    )
    for p in out.glob("*.png"):
        _real_png(p)
    assert "7 map files" not in res.output  # 5 images: the two score files are not maps
    assert res.output.startswith("5 map files ->")


def test_map_from_scored_directory(mapped, tmp_path):
    _, scored = mapped
    out = tmp_path / "again"
    res = CliRunner().invoke(
        main,
        [
            "map",
            "--from",
            str(scored),
            "--out",
            str(out),
            "--no-hotspots",
            "--extent",
            "160",
            "-165",
            "-35",
            "0",
            "--format",
            "svg",
            "--dpi",
            "40",
        ],
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".geobias-output.json",
        "centres_marked_ssi_nn10.svg",
        "centres_unmarked_ssi_nn10.svg",
        "density.svg",
    ]
    assert b"<svg" in (out / "density.svg").read_bytes()[:500]


def test_report_command(files, tmp_path):
    out = tmp_path / "r.html"
    res = CliRunner().invoke(
        main,
        [
            "report",
            str(files[0]),
            str(files[1]),
            "--scale",
            "nn10",
            "--out",
            str(out),
            "--name",
            "A",
            "--name",
            "B",
            "--title",
            "CLI report",
        ],
    )
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "<h1>CLI report</h1>" in text and text.count("<img ") == 4


def test_report_from_a_compare_folder_scores_nothing(files, tmp_path, monkeypatch):
    import geopandas as gpd
    import shapely

    import pygbs.api

    cmp_dir, reg_dir = tmp_path / "cmp", tmp_path / "reg"
    runner = CliRunner()
    res = runner.invoke(main, ["compare", str(files[0]), str(files[1]), "--scale", "nn10",
                               "--out", str(cmp_dir)])  # fmt: skip
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["regions", str(files[0]), str(files[1]), "--by", "healpix:8",
                               "--min-n", "5", "--bootstrap", "50",
                               "--out", str(reg_dir)])  # fmt: skip
    assert res.exit_code == 0, res.output
    zone = tmp_path / "zone.geojson"
    gpd.GeoDataFrame({"name": ["east of 180"]}, geometry=[shapely.box(-180, -30, -165, -5)],
                     crs="EPSG:4326").to_file(zone)  # fmt: skip

    def no_scoring(*args, **kwargs):
        raise AssertionError("the report scored again")

    monkeypatch.setattr(pygbs.api, "compare", no_scoring)
    out = tmp_path / "r.html"
    res = runner.invoke(main, ["report", str(cmp_dir), "--regions", str(reg_dir),
                               "--highlight", str(zone), "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "Is the difference real?" in text and "per region (healpix:8)" in text
    # the difference map from the baseline, under short names (the common "model_" cut)
    assert "<figcaption>b − a</figcaption>" in text
    for name in ("model_a.csv", "model_b.csv"):  # input checksums
        digest = hashlib.sha256((files[0].parent / name).read_bytes()).hexdigest()
        assert digest in text
    res = runner.invoke(main, ["report", str(cmp_dir), "--highlight", "nowhere.gpkg",
                               "--out", str(tmp_path / "x.html")])  # fmt: skip
    assert res.exit_code == 2 and "no such file: nowhere.gpkg" in res.output
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["map", "--out", "x"], "give either FILE or --from DIR"),
        (["map", "f.csv", "--from", "d", "--out", "x"], "give either FILE or --from DIR"),
        (["map", "f.csv", "--out", "x", "--hotspot-graph", "distance"], "--hotspot-km"),
        (
            ["map", "f.csv", "--out", "x", "--world", "--extent", "0", "1", "0", "1"],
            "--world and --extent",
        ),
        (["map", "--from", "d", "--scale", "nn10", "--out", "x"], "scoring options"),
        (["report", "a.csv", "b.csv", "--name", "A", "--out", "r.html"], "1 names for 2"),
    ],
)
def test_usage_errors(args, message):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert message in res.output


def test_input_errors_are_one_line_exit_2(mapped, tmp_path):
    res = CliRunner().invoke(main, ["map", "--from", str(tmp_path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "not a pygbs score output directory" in res.output
    assert len(res.output.strip().splitlines()) == 1
    _, scored = mapped
    res = CliRunner().invoke(
        main,
        [
            "map",
            "--from",
            str(scored),
            "--out",
            str(tmp_path / "o"),
            "--no-hotspots",
            "--extent",
            "0",
            "10",
            "50",
            "40",
        ],
    )
    assert res.exit_code == 2
    assert "extent latitudes must satisfy" in res.output
    assert len(res.output.strip().splitlines()) == 1
