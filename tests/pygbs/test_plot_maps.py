"""Score maps, density maps, frames, the basemap and write_maps (pygbs.plot).

Covers: the map frame (extent from data, antimeridian, poles, world, explicit extents and
their validation, projection round trip against pyproj's inverse), the Natural Earth
basemap (loaded offline, split at the seam so no polygon streaks across the map, the
visible note when missing), every map type rendered to real PNG/SVG/PDF files of the
expected size with non-blank content (points at the poles and across the antimeridian
included), hexagon aggregation of large inputs (equal-area: uniform points on the sphere
give uniform counts), and a coarse regression fingerprint of one small fixed image.
"""

from __future__ import annotations

import types
from dataclasses import replace

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pyproj
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath

from pygbs.errors import InputError
from pygbs.plot import basemap as basemap_mod
from pygbs.plot import choose_frame, plot_centres, plot_density, write_maps
from pygbs.plot.basemap import NO_BASEMAP_NOTE, basemap_path, load_basemap
from pygbs.plot.frame import MapFrame

DPI = 40


def _check_png(path, size_in, dpi=DPI, min_std=0.02):
    """The file is a PNG of figsize * dpi pixels with visible structure."""
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(path)
    w, h = size_in
    assert abs(img.shape[0] - h * dpi) <= 1 and abs(img.shape[1] - w * dpi) <= 1
    rgb = img[..., :3]
    assert float(rgb.std()) > min_std
    # a real map: a good share of pixels is neither white nor one flat colour
    non_white = (rgb < 0.97).any(axis=-1).mean()
    assert non_white > 0.1
    return rgb


def _centres(lon, lat, scales=("100km", "nn10"), seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    for scale in scales:
        frames.append(
            pd.DataFrame(
                {
                    "row": np.arange(len(lon)),
                    "lon": lon,
                    "lat": lat,
                    "scale": scale,
                    "n_neighbours": 10,
                    "radius_km": 100.0,
                    "mean_performance": 0.5,
                    "unmarked_ssi": rng.gamma(2.0, 3.0, len(lon)),
                    "marked_ssi": rng.gamma(2.0, 2.0, len(lon)),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def edge_points():
    """Points at both poles, on and across the antimeridian, and at ordinary places."""
    lon = np.array(
        [
            0.0,
            45.0,
            179.9,
            -179.9,
            180.0,
            -180.0,
            170.0,
            -170.0,
            10.0,
            -75.0,
            120.0,
            -120.0,
            30.0,
            0.0,
            90.0,
            -45.0,
        ]
    )
    lat = np.array(
        [
            90.0,
            -90.0,
            10.0,
            10.5,
            -20.0,
            -21.0,
            60.0,
            61.0,
            50.0,
            -40.0,
            89.5,
            -89.5,
            0.0,
            0.0,
            45.0,
            -10.0,
        ]
    )
    return lon, lat


# --------------------------------------------------------------------------- frames


def test_frame_across_antimeridian_is_regional_and_centred_on_180():
    lon = np.array([170.0, 175.0, 179.5, -179.5, -175.0, -172.0])
    lat = np.array([-20.0, -18.0, -17.0, -16.0, -15.0, -19.0])
    frame = choose_frame(lon, lat)
    assert frame.extent is not None
    lon0, lon1, _, _ = frame.extent
    # the shortest arc is 18 degrees (170 .. 188), not the 350 degrees of min..max
    assert 18.0 < lon1 - lon0 < 30.0
    assert abs(((frame.lon_0 - 179.0) + 180.0) % 360.0 - 180.0) < 1.0
    x, _ = frame.project(lon, lat)
    (x0, x1), _ = frame.limits()
    assert np.all((x > x0) & (x < x1))
    # contiguous on the map: about 18 degrees wide, not split to both edges of the world
    world_width = np.ptp(MapFrame(0.0, None).outline()[0])
    assert np.ptp(x) < 0.1 * world_width


def test_frame_wide_data_gets_world_and_explicit_options():
    lon = np.array([-150.0, -60.0, 0.0, 60.0, 150.0])
    lat = np.array([-50.0, 0.0, 30.0, 10.0, 60.0])
    assert choose_frame(lon, lat).world
    assert choose_frame(world=True) == MapFrame(0.0, None)
    f = choose_frame(extent=(160, -170, -30, 0))  # crosses the antimeridian
    assert f.extent == (160.0, 190.0, -30.0, 0.0)
    assert f.lon_0 == 175.0


@pytest.mark.parametrize(
    "extent",
    [(0, 10, 20, 10), (0, 10, -95, 10), (0, 10, 20), (0, np.nan, 0, 10)],
    ids=["lat-order", "lat-range", "three", "nan"],
)
def test_bad_extent_raises(extent):
    with pytest.raises(InputError, match="extent"):
        choose_frame(extent=extent)


def test_world_and_extent_exclusive():
    with pytest.raises(InputError, match="not both"):
        choose_frame(extent=(0, 10, 0, 10), world=True)


@pytest.mark.parametrize("lon_0", [0.0, 175.0, -100.0])
def test_projection_round_trip_against_pyproj_inverse(lon_0, edge_points):
    lon, lat = edge_points
    frame = MapFrame(lon_0, None)
    x, y = frame.project(lon, lat)
    inv = pyproj.Transformer.from_crs(frame.crs, "EPSG:4326", always_xy=True)
    lon2, lat2 = inv.transform(x, y)
    np.testing.assert_allclose(lat2, lat, atol=1e-7)
    not_pole = np.abs(lat) < 89.9
    dlon = (lon2 - lon + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(dlon[not_pole], 0.0, atol=1e-6)


def test_world_frame_is_epsg_8857():
    assert MapFrame(0.0, None).crs.to_epsg() == 8857


# --------------------------------------------------------------------------- basemap


def test_basemap_is_installed_and_offline():
    base = load_basemap()
    assert base is not None, "no basemap package installed"
    assert "Natural Earth" in base.source
    assert len(base.geometries) > 150  # countries of the world


@pytest.mark.parametrize("lon_0", [0.0, 175.0, -100.0])
def test_basemap_has_no_streak_across_the_map(lon_0):
    """No polygon edge spans the map: polygons are split at the projection's seam."""
    path = basemap_path(lon_0, 0.1)
    assert path is not None
    verts, codes = path.vertices, path.codes
    width = np.ptp(MapFrame(lon_0, None).outline()[0])
    seg = np.hypot(np.diff(verts[:, 0]), np.diff(verts[:, 1]))
    inside_ring = codes[1:] == MplPath.LINETO
    # edges along a pole line (Antarctica's southern edge, a straight line in Equal Earth)
    # are legitimately long
    ymax = np.abs(MapFrame(lon_0, None).outline()[1]).max()
    polar = (np.abs(verts[:-1, 1]) > 0.999 * ymax) & (np.abs(verts[1:, 1]) > 0.999 * ymax)
    assert seg[inside_ring & ~polar].max() < 0.2 * width


def test_no_basemap_renders_with_note(tmp_path, monkeypatch):
    monkeypatch.setattr(basemap_mod, "basemap_path", lambda lon_0, tol: None)
    lon = np.array([0.0, 10.0, 20.0])
    lat = np.array([0.0, 5.0, 10.0])
    ax = plot_density(lon, lat)
    assert any(t.get_text() == NO_BASEMAP_NOTE for t in ax.texts)
    fig = ax.figure
    fig.savefig(tmp_path / "m.png", dpi=DPI)
    _check_png(tmp_path / "m.png", fig.get_size_inches(), min_std=0.01)


# --------------------------------------------------------------------------- maps


@pytest.mark.parametrize("world", [False, True], ids=["auto-extent", "world"])
def test_plot_centres_poles_and_antimeridian(tmp_path, edge_points, world):
    lon, lat = edge_points
    table = _centres(lon, lat)
    table.loc[3, "marked_ssi"] = np.nan  # one centre not scored
    ax = plot_centres(table, "marked_ssi", "100km", world=world)
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    scored = table[table.scale == "100km"]["marked_ssi"].dropna().to_numpy()
    coloured = next(c for c in scatters if c.get_array() is not None)
    np.testing.assert_allclose(np.sort(coloured.get_array()), np.sort(scored))
    assert "not scored (1)" in [t.get_text() for t in ax.get_legend().get_texts()]
    cbar_label = ax.figure.axes[-1].get_xlabel()
    assert cbar_label == "marked SSI at 100km (nats, -ln p)"
    fig = ax.figure
    fig.savefig(tmp_path / "c.png", dpi=DPI)
    _check_png(tmp_path / "c.png", fig.get_size_inches())


def test_plot_centres_points_land_where_pyproj_puts_them():
    lon = np.array([179.9, -179.9, 0.0])
    lat = np.array([0.0, 0.0, 89.0])
    table = _centres(lon, lat, scales=("100km",))
    ax = plot_centres(table, "unmarked_ssi", "100km", world=True, colorbar=False)
    coloured = next(c for c in ax.collections if isinstance(c, PathCollection))
    xy = coloured.get_offsets()
    t = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:8857", always_xy=True)
    ex, ey = t.transform(lon, lat)
    order = np.argsort(table["unmarked_ssi"].to_numpy(), kind="stable")
    np.testing.assert_allclose(xy[:, 0], np.asarray(ex)[order], rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(xy[:, 1], np.asarray(ey)[order], rtol=1e-9, atol=1e-3)
    # the two antimeridian points sit at opposite edges of a Greenwich-centred map
    assert xy[:, 0].max() > 1.7e7 and xy[:, 0].min() < -1.7e7


def test_plot_centres_bad_column_and_scale():
    table = _centres(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    with pytest.raises(InputError, match="score column 'sri_lag'"):
        plot_centres(table, "sri_lag", "100km")
    with pytest.raises(InputError, match="scale '1000km' not in"):
        plot_centres(table, "marked_ssi", "1000km")
    with pytest.raises(TypeError, match="GeoBiasResult"):
        plot_centres([1, 2], "marked_ssi", "100km")


def test_plot_centres_accepts_a_result_and_scale_alias(edge_points):
    lon, lat = edge_points
    result = types.SimpleNamespace(centres=_centres(lon, lat, scales=("nn50",)))
    ax = plot_centres(result, "marked_ssi", "nn")  # "nn" is "nn50"
    assert "nn50" in ax.get_title()


def test_large_input_is_aggregated_into_hexagons():
    rng = np.random.default_rng(1)
    n = 3000
    lon = rng.uniform(-20, 40, n)
    lat = rng.uniform(30, 60, n)
    table = _centres(lon, lat, scales=("100km",))
    ax = plot_centres(table, "marked_ssi", "100km", hexbin_above=1000)
    hexes = [
        c for c in ax.collections if isinstance(c, PolyCollection) and c.get_array() is not None
    ]
    assert len(hexes) == 1
    means = np.asarray(hexes[0].get_array())
    vals = table["marked_ssi"].to_numpy()
    assert vals.min() <= means.min() and means.max() <= vals.max()
    assert not [
        c for c in ax.collections if isinstance(c, PathCollection) and c.get_array() is not None
    ]


def test_density_is_equal_area():
    """Uniform points on the sphere give the same hexagon counts near the equator and at
    high latitude (an equirectangular map would show ~3x fewer per cell at 70 degrees)."""
    rng = np.random.default_rng(2)
    n = 200_000
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    ax = plot_density(lon, lat, world=True)
    hexes = next(
        c for c in ax.collections if isinstance(c, PolyCollection) and c.get_array() is not None
    )
    counts = np.asarray(hexes.get_array(), dtype=float)
    xy = hexes.get_offsets()
    frame = MapFrame(0.0, None)
    _, y_eq = frame.project(np.array([0.0]), np.array([0.0]))
    _, y_60 = frame.project(np.array([0.0]), np.array([60.0]))
    _, y_75 = frame.project(np.array([0.0]), np.array([75.0]))
    xmax = 0.4 * np.ptp(frame.outline()[0]) / 2
    central = np.abs(xy[:, 0]) < xmax
    near_eq = central & (np.abs(xy[:, 1] - y_eq[0]) < 1.5e6)
    high = central & (np.abs(xy[:, 1]) > y_60[0]) & (np.abs(xy[:, 1]) < y_75[0])
    assert near_eq.sum() > 50 and high.sum() > 50
    ratio = counts[high].mean() / counts[near_eq].mean()
    assert 0.9 < ratio < 1.1
    assert "km²" in ax.figure.axes[-1].get_xlabel()


# --------------------------------------------------------------------------- write_maps


def _fake_result(lon, lat, predictions=None):
    return types.SimpleNamespace(
        centres=_centres(lon, lat),
        summary={
            "parameters": {"scales": ["100km", "nn10"]},
            "input": {"source": "<DataFrame>", "coding": {"rule": "binary"}},
        },
        predictions=predictions,
    )


def test_write_maps_every_format(tmp_path, edge_points):
    lon, lat = edge_points
    paths = write_maps(
        _fake_result(lon, lat),
        tmp_path / "maps",
        formats=("png", "svg", "pdf"),
        world=True,
        hotspots=False,
        dpi=DPI,
    )
    names = sorted(p.name for p in paths)
    expected = sorted(
        f"{stem}.{fmt}"
        for stem in [
            "centres_unmarked_ssi_100km",
            "centres_unmarked_ssi_nn10",
            "centres_marked_ssi_100km",
            "centres_marked_ssi_nn10",
            "density",
        ]
        for fmt in ("png", "svg", "pdf")
    )
    assert names == expected
    for p in paths:
        head = p.read_bytes()[:200]
        if p.suffix == ".png":
            _check_png(p, _size_of(p) / DPI)
        elif p.suffix == ".svg":
            assert b"<svg" in head
        else:
            assert head.startswith(b"%PDF")
    assert not list((tmp_path / "maps").glob("*.tmp"))


def _size_of(path):
    img = mpimg.imread(path)
    return np.array([img.shape[1], img.shape[0]], dtype=float)


def test_write_maps_png_size_follows_dpi(tmp_path, edge_points):
    lon, lat = edge_points
    paths = write_maps(_fake_result(lon, lat), tmp_path, world=True, hotspots=False, dpi=DPI)
    for p in paths:
        # world frame: 9 inches wide, height from the Equal Earth aspect ratio
        img = mpimg.imread(p)
        assert img.shape[1] == 9 * DPI
        assert 4.5 * DPI < img.shape[0] < 6.0 * DPI
        _check_png(p, (img.shape[1] / DPI, img.shape[0] / DPI))


def test_write_maps_bad_format(tmp_path, edge_points):
    lon, lat = edge_points
    with pytest.raises(InputError, match="format"):
        write_maps(_fake_result(lon, lat), tmp_path, formats=("jpg",))


# --------------------------------------------------------------------------- regression


# Mean grey level of 6 x 12 blocks of a 240 x 120 px world density map of fixed points,
# without text (recorded from this implementation; a change of projection, extent, basemap
# or colours moves these by far more than the tolerance).
_FINGERPRINT_TOL = 0.06


def _fingerprint():
    rng = np.random.default_rng(3)
    lon = np.r_[rng.normal(10, 10, 400), rng.normal(-100, 8, 400)]
    lat = np.clip(np.r_[rng.normal(50, 6, 400), rng.normal(40, 6, 400)], -89, 89)
    fig = Figure(figsize=(6, 3), dpi=40)
    ax = fig.add_axes((0, 0, 1, 1))
    plot_density(lon, lat, ax, world=True, colorbar=False, title=" ")
    for t in list(ax.texts):
        t.remove()
    ax.set_title("")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba(), dtype=float)[..., :3] / 255.0
    grey = rgb.mean(axis=-1)
    return grey.reshape(6, 20, 12, 20).mean(axis=(1, 3))


def test_regression_fingerprint():
    got = _fingerprint()
    expected = np.array(_EXPECTED_FINGERPRINT)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < _FINGERPRINT_TOL


_EXPECTED_FINGERPRINT = [
    [0.999, 0.956, 0.903, 0.853, 0.868, 0.875, 0.728, 0.895, 0.914, 0.915, 0.958, 0.999],
    [0.972, 0.968, 0.765, 0.711, 0.958, 0.908, 0.760, 0.870, 0.882, 0.902, 0.952, 0.972],
    [0.960, 0.969, 0.960, 0.906, 0.956, 0.922, 0.881, 0.907, 0.948, 0.897, 0.953, 0.961],
    [0.960, 0.967, 0.968, 0.924, 0.922, 0.968, 0.912, 0.928, 0.969, 0.946, 0.907, 0.948],
    [0.972, 0.968, 0.968, 0.944, 0.938, 0.968, 0.948, 0.963, 0.968, 0.955, 0.934, 0.966],
    [0.999, 0.974, 0.953, 0.949, 0.923, 0.955, 0.956, 0.950, 0.951, 0.947, 0.973, 0.999],
]


@pytest.mark.parametrize("lon_0", [0.0, -116.01338958740234, 179.95, -180.0])
def test_globe_outline_spans_the_whole_width(lon_0):
    """The outline's west and east edges stay apart whatever the central meridian."""
    x, y = MapFrame(lon_0, None).outline()
    half = np.ptp(MapFrame(0.0, None).outline()[0]) / 2
    np.testing.assert_allclose([x.min(), x.max()], [-half, half], rtol=1e-6)
    assert np.abs(y).max() == pytest.approx(8392927.6, rel=1e-6)


def test_hotspot_values_repeat_the_recorded_coding(tmp_path):
    # the plot layer draws what the result holds; a result read back from disk gets its
    # samples and their recorded coding again from the API (pygbs.api.attach_samples)
    from pygbs.api import attach_samples
    from pygbs.plot.maps import _sample_points
    from pygbs.results.result import GeoBiasResult

    err = np.array([0.1, 0.5, 0.2, 0.9, 0.35, 0.05])
    f = tmp_path / "p.csv"
    pd.DataFrame({"lon": np.arange(6.0), "lat": np.zeros(6), "abs_error": err}).to_csv(
        f, index=False
    )
    coding = {"rule": "threshold", "threshold": 0.3, "lower_is_better": True}
    result = GeoBiasResult.from_summary(
        _centres(np.arange(6.0), np.zeros(6)),
        {
            "input": {"coding": coding, "source": str(f), "value_name": "abs_error"},
            "parameters": {},
        },
    )
    lon, lat, coded, kind = _sample_points(attach_samples(result))
    assert kind == "samples"
    np.testing.assert_array_equal(coded, np.where(err < 0.3, 1.0, -1.0))
    # no predictions and an unreadable source: centres only, no coded values
    result = replace(result, input=replace(result.input, source="/nonexistent/file.csv"))
    lon, lat, coded, kind = _sample_points(attach_samples(result))
    assert coded is None and kind == "centres" and lon.size == 6


@pytest.mark.slow
def test_one_million_points_render(tmp_path):
    """1M centres and samples render as hexagons (about 5 s each on 2 shared cores)."""
    rng = np.random.default_rng(5)
    n = 1_000_000
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    table = pd.DataFrame(
        {
            "row": np.arange(n),
            "lon": lon,
            "lat": lat,
            "scale": "100km",
            "marked_ssi": rng.gamma(2.0, 2.0, n),
        }
    )
    for name, ax in (
        ("c", plot_centres(table, "marked_ssi", "100km")),
        ("d", plot_density(lon, lat)),
    ):
        assert any(
            isinstance(c, PolyCollection) and c.get_array() is not None for c in ax.collections
        )
        ax.figure.savefig(tmp_path / f"{name}.png", dpi=DPI)
        _check_png(tmp_path / f"{name}.png", ax.figure.get_size_inches())
