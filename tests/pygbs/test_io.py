"""Tests of pygbs.io.predictions.read_predictions.

Covers: every input error on tiny generated tables (the message must name the file, the
column and the row), the layouts of the shared prediction files read without options,
CSV/CSV.gz/Parquet/DataFrame/GeoDataFrame inputs, and coords_from.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pygbs.errors import CoordinatesError, EmptyInputError, InputError
from pygbs.io.predictions import is_binary_name, is_lower_better_name, read_predictions

CLASSIF = ",lon,lat,true_class_prob,reciprocal_rank,hit@1,hit@3\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def classif_rows(rows: list[tuple]) -> str:
    return CLASSIF + "".join(",".join(map(str, (i, *r))) + "\n" for i, r in enumerate(rows))


# ----------------------------------------------------------------------------- layouts


def test_torchspatial_classification_layout(tmp_path):
    path = write(
        tmp_path,
        "eval_x__test_m.csv.gz",
        classif_rows([(10.0, 20.0, 0.5, 1.0, 1.0, 1.0), (-30.5, -40.25, 0.1, 0.2, 0.0, 1.0)]),
    )
    p = read_predictions(path)
    assert p.value_name == "hit@1"
    assert p.binary and not p.lower_is_better
    np.testing.assert_array_equal(p.lon, [10.0, -30.5])
    np.testing.assert_array_equal(p.lat, [20.0, -40.25])
    np.testing.assert_array_equal(p.value, [1.0, 0.0])
    assert p.lon.dtype == np.float64 and p.value.dtype == np.float64
    assert "Unnamed: 0" not in p.table.columns
    assert list(p.table.columns) == [
        "lon",
        "lat",
        "true_class_prob",
        "reciprocal_rank",
        "hit@1",
        "hit@3",
    ]
    assert (p.n_rows, p.n_missing_coords, len(p)) == (2, 0, 2)
    assert p.source == str(path) and p.name == "eval_x__test_m"


def test_regression_layout_defaults_to_relative_error(tmp_path):
    path = write(
        tmp_path, "r.csv", "lon,lat,predictions,labels,relative_error\n1,2,3,4,-0.25\n5,6,7,8,0.5\n"
    )
    p = read_predictions(path)
    assert p.value_name == "relative_error"
    assert p.lower_is_better and not p.binary
    np.testing.assert_array_equal(p.value, [-0.25, 0.5])


def test_foundation_layout_minus_one_plus_one(tmp_path):
    path = write(
        tmp_path,
        "f.csv",
        "lon,lat,hit@1,hit@3,reciprocal_rank,true_class_probability\n"
        "1,2,-1,1,0.5,0.3\n3,4,1,1,1.0,0.9\n",
    )
    p = read_predictions(path)
    assert p.value_name == "hit@1" and p.binary
    np.testing.assert_array_equal(p.value, [-1.0, 1.0])


def test_single_obvious_value_column_is_taken(tmp_path):
    path = write(tmp_path, "a.csv", "id,lon,lat,true_class_probability\n7,1,2,0.3\n")
    p = read_predictions(path)
    assert p.value_name == "true_class_probability" and not p.binary
    assert not p.lower_is_better


def test_case_insensitive_coordinate_names(tmp_path):
    path = write(tmp_path, "a.csv", "Longitude,LAT,abs_error\n1,2,0.5\n")
    p = read_predictions(path)
    assert (p.lon[0], p.lat[0], p.value_name, p.lower_is_better) == (1.0, 2.0, "abs_error", True)


def test_explicit_columns(tmp_path):
    path = write(tmp_path, "a.csv", "x,y,hit@1,score_a\n1,2,1,0.25\n3,4,0,0.75\n")
    p = read_predictions(path, lon="x", lat="y", value="score_a")
    np.testing.assert_array_equal(p.lon, [1.0, 3.0])
    np.testing.assert_array_equal(p.value, [0.25, 0.75])
    assert not p.binary


def test_missing_coordinates_dropped_and_counted(tmp_path):
    rows = [
        (1.0, 1.0, 0.1, 1.0, 1.0, 1.0),
        ("", "", 0.2, 1.0, 0.0, 1.0),
        (3.0, "", 0.3, 1.0, 1.0, 1.0),
        (4.0, 4.0, 0.4, 1.0, 0.0, 1.0),
        ("", 5.0, 0.5, 1.0, 1.0, 1.0),
        (6.0, 6.0, 0.6, 1.0, 1.0, 1.0),
    ]
    p = read_predictions(write(tmp_path, "m.csv", classif_rows(rows)))
    assert (p.n_rows, p.n_missing_coords, len(p)) == (6, 3, 3)
    np.testing.assert_array_equal(p.lon, [1.0, 4.0, 6.0])
    np.testing.assert_array_equal(p.value, [1.0, 0.0, 1.0])
    assert list(p.table.index) == [0, 1, 2]
    np.testing.assert_array_equal(p.table["true_class_prob"], [0.1, 0.4, 0.6])


def test_nan_value_allowed_on_dropped_row(tmp_path):
    path = write(tmp_path, "a.csv", "lon,lat,hit@1\n1,2,1\n,,\n3,4,0\n")
    p = read_predictions(path)
    assert (len(p), p.n_missing_coords) == (2, 1)


def test_longitude_bounds_inclusive_exclusive(tmp_path):
    path = write(tmp_path, "a.csv", "lon,lat,hit@1\n-180,-90,1\n359.5,90,0\n")
    p = read_predictions(path)
    np.testing.assert_array_equal(p.lon, [-180.0, 359.5])


def test_bool_value_column_is_binary():
    df = pd.DataFrame({"lon": [1.0, 2.0], "lat": [3.0, 4.0], "ok": [True, False]})
    p = read_predictions(df, value="ok")
    assert p.binary
    np.testing.assert_array_equal(p.value, [1.0, 0.0])


def test_dataframe_input_not_mutated_and_unnamed_dropped():
    df = pd.DataFrame(
        {"": [0, 1], "lon": [1.0, 2.0], "lat": [3.0, 4.0], "hit@1": [1, 0]}, index=[10, 20]
    )
    before = df.copy()
    p = read_predictions(df)
    pd.testing.assert_frame_equal(df, before)
    assert p.source == "<DataFrame>"
    assert list(p.table.columns) == ["lon", "lat", "hit@1"]
    assert list(p.table.index) == [0, 1]


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_round_trip(tmp_path, suffix):
    df = pd.DataFrame(
        {"lon": [1.5, np.nan, -3.0], "lat": [2.0, 1.0, 4.0], "relative_error": [0.1, 0.2, -0.3]}
    )
    path = tmp_path / f"p{suffix}"
    df.to_parquet(path)
    p = read_predictions(path)
    ref = read_predictions(df)
    np.testing.assert_array_equal(p.lon, ref.lon)
    np.testing.assert_array_equal(p.value, ref.value)
    np.testing.assert_array_equal(p.lon, [1.5, -3.0])
    assert p.n_missing_coords == 1 and p.value_name == "relative_error"


def test_csv_and_csv_gz_agree(tmp_path):
    text = classif_rows([(1.0, 2.0, 0.5, 1.0, 1.0, 1.0), (3.0, 4.0, 0.5, 1.0, 0.0, 0.0)])
    a = read_predictions(write(tmp_path, "a.csv", text))
    b = read_predictions(write(tmp_path, "a.csv.gz", text))
    pd.testing.assert_frame_equal(a.table, b.table)


def test_geodataframe_reprojected_points():
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    from pyproj import Transformer

    lonlat = [(10.0, 45.0), (-70.5, -33.25), (150.0, 60.0)]
    to_merc = Transformer.from_crs(4326, 3857, always_xy=True)
    xy = [to_merc.transform(lo, la) for lo, la in lonlat]
    gdf = gpd.GeoDataFrame(
        {"hit@1": [1, 0, 1]}, geometry=[shapely.Point(x, y) for x, y in xy], crs="EPSG:3857"
    )
    p = read_predictions(gdf)
    np.testing.assert_allclose(p.lon, [ll[0] for ll in lonlat], atol=1e-9)
    np.testing.assert_allclose(p.lat, [ll[1] for ll in lonlat], atol=1e-9)
    assert p.source == "<GeoDataFrame>" and p.value_name == "hit@1"
    assert "geometry" not in p.table.columns
    np.testing.assert_allclose(p.table["lon"], p.lon)


def test_geodataframe_missing_geometry_dropped():
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    gdf = gpd.GeoDataFrame(
        {"hit@1": [1, 0, 1]},
        geometry=[shapely.Point(1, 2), None, shapely.Point(3, 4)],
        crs="EPSG:4326",
    )
    p = read_predictions(gdf)
    assert (p.n_rows, p.n_missing_coords) == (3, 1)
    np.testing.assert_array_equal(p.lon, [1.0, 3.0])


def test_geodataframe_non_point_rejected():
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    gdf = gpd.GeoDataFrame(
        {"hit@1": [1, 0]},
        geometry=[shapely.Point(1, 2), shapely.LineString([(0, 0), (1, 1)])],
        crs="EPSG:4326",
    )
    with pytest.raises(InputError, match=r"row 1.*Point.*LineString"):
        read_predictions(gdf)


def test_normalised_coordinates_warn(tmp_path, caplog):
    path = write(tmp_path, "w.csv", "lon,lat,hit@1\n0.5,0.2,1\n-0.9,0.99,0\n")
    with caplog.at_level(logging.WARNING, logger="pygbs.io.predictions"):
        read_predictions(path)
    assert "[-1, 1]" in caplog.text


def test_name_rules():
    for name in ["hit@1", "HIT@3", "hits@10", "hit_5", "acc@1", "top1", "correct"]:
        assert is_binary_name(name), name
    for name in ["reciprocal_rank", "true_class_prob", "hitrate", "relative_error"]:
        assert not is_binary_name(name), name
    for name in [
        "relative_error",
        "error",
        "abs_error",
        "absolute_error",
        "MAE",
        "rmse",
        "residual",
        "distance-error",
        "rank",
    ]:
        assert is_lower_better_name(name), name
    for name in ["hit@1", "reciprocal_rank", "true_class_prob", "value", "terror_count"]:
        assert not is_lower_better_name(name), name


# ----------------------------------------------------------------------------- coords_from


def test_coords_from_supplies_coordinates(tmp_path):
    enc = write(
        tmp_path,
        "enc.csv",
        classif_rows([(1.0, 2.0, 0.1, 1, 1, 1), ("", "", 0.1, 1, 1, 1), (5.0, 6.0, 0.1, 1, 0, 1)]),
    )
    nop = write(
        tmp_path,
        "nop.csv",
        ",true_class_prob,reciprocal_rank,hit@1,hit@3\n0,.1,1,0,0\n1,.2,1,1,1\n2,.3,1,1,1\n",
    )
    with pytest.raises(InputError, match=r"nop\.csv.*no coordinate columns.*coords-from"):
        read_predictions(nop)
    p = read_predictions(nop, coords_from=enc)
    np.testing.assert_array_equal(p.lon, [1.0, 5.0])
    np.testing.assert_array_equal(p.value, [0.0, 1.0])
    assert (p.n_rows, p.n_missing_coords) == (3, 1)
    assert list(p.table.columns[:2]) == ["lon", "lat"]
    np.testing.assert_array_equal(p.table["true_class_prob"], [0.1, 0.3])
    assert p.source == str(nop)


def test_coords_from_row_count_mismatch(tmp_path):
    enc = write(tmp_path, "enc.csv", "lon,lat,hit@1\n1,2,1\n3,4,0\n")
    nop = write(tmp_path, "nop.csv", "hit@1\n1\n0\n1\n")
    with pytest.raises(InputError, match=r"nop\.csv.* 3 rows.*enc\.csv.* 2 rows"):
        read_predictions(nop, coords_from=enc)


def test_coords_from_refused_when_coordinates_present(tmp_path):
    enc = write(tmp_path, "enc.csv", "lon,lat,hit@1\n1,2,1\n")
    with pytest.raises(InputError, match=r"already has coordinate"):
        read_predictions(enc, coords_from=enc)


def test_coords_from_bad_latitude_names_coords_file(tmp_path):
    enc = write(tmp_path, "enc.csv", "lon,lat,hit@1\n1,2,1\n3,95,0\n")
    nop = write(tmp_path, "nop.csv", "hit@1\n1\n0\n")
    with pytest.raises(InputError, match=r"enc\.csv: column 'lat', row 1: latitude 95"):
        read_predictions(nop, coords_from=enc)


def test_coords_from_without_coordinates(tmp_path):
    nop = write(tmp_path, "nop.csv", "hit@1\n1\n0\n")
    with pytest.raises(InputError, match=r"coords_from .*no longitude column"):
        read_predictions(nop, coords_from=pd.DataFrame({"hit@1": [1, 0]}))


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("lon,lat,hit@1\n1,2,1\n3,91,0\n", r"bad\.csv: column 'lat', row 1: latitude 91"),
        ("lon,lat,hit@1\n1,-90.5,1\n", r"bad\.csv: column 'lat', row 0: latitude -90\.5"),
        ("lon,lat,hit@1\n1,2,1\n1,2,1\n360,2,0\n", r"bad\.csv: column 'lon', row 2: longitude 360"),
        ("lon,lat,hit@1\n-180.5,2,1\n", r"bad\.csv: column 'lon', row 0: longitude -180\.5"),
        ("lon,lat,hit@1\n1,2,1\nabc,2,1\n", r"bad\.csv: column 'lon', row 1: non-numeric .*abc"),
        ("lon,lat,hit@1\n1,2,1\n1,x,1\n", r"bad\.csv: column 'lat', row 1: non-numeric .*'x'"),
        ("lon,lat,hit@1\n1,2,yes\n", r"bad\.csv: column 'hit@1', row 0: non-numeric .*yes"),
        ("lon,lat,hit@1\n1,2,1\n3,4,\n", r"bad\.csv: column 'hit@1', row 1: missing value"),
        ("lon,lat,hit@1\n1,2,1\n3,4,0\n5,6,0.5\n", r"bad\.csv: column 'hit@1', row 2: value 0\.5"),
        ("lon,lat,hit@1\n1,2,1\n3,4,0\n5,6,-1\n", r"bad\.csv: column 'hit@1', row 2: .*mixes"),
        ("lon,lat,hit@1\n", r"bad\.csv: the table has no data rows"),
        ("lon,lat,hit@1\n,,1\n,,0\n", r"bad\.csv: none of the 2 rows has both coordinates"),
        ("a,b,hit@1\n1,2,1\n", r"bad\.csv: no coordinate columns.*'a', 'b'.*coords-from"),
        ("lat,hit@1\n1,1\n", r"bad\.csv: no longitude column"),
        ("lon,lat,foo,bar\n1,2,3,4\n", r"bad\.csv: cannot choose .*'foo', 'bar'.*--value"),
        (
            "lon,lat,true_class_prob,reciprocal_rank\n1,2,.3,.5\n",
            r"bad\.csv: cannot choose .*several candidates.*'true_class_prob'.*value=",
        ),
        ("Lon,LON,lat,hit@1\n1,2,3,1\n", r"bad\.csv: .*'lon' is ambiguous.*'Lon', 'LON'"),
        # infinities: in the value column, and as coordinates (first offending row named)
        (
            "lon,lat,value\n1,2,0.5\n3,4,inf\n5,6,-inf\n",
            r"bad\.csv: column 'value', row 1: value inf is not finite \(2 such rows\)",
        ),
        ("lon,lat,error\n1,2,-inf\n", r"bad\.csv: column 'error', row 0: value -inf is not"),
        ("lon,lat,hit@1\n1,2,1\n3,inf,1\n", r"bad\.csv: column 'lat', row 1: latitude inf"),
        ("lon,lat,hit@1\n-inf,2,1\n", r"bad\.csv: column 'lon', row 0: longitude -inf"),
        # a header that repeats a name (pandas would silently rename the second 'lat.1')
        (
            "lon,lat,lat,hit@1\n1,2,3,1\n",
            r"bad\.csv: header row: column name 'lat' appears more than once \(columns 2 and 3\)",
        ),
        (
            "lon,lat,hit@1,hit@1\n1,2,1,0\n",
            r"bad\.csv: header row: column name 'hit@1' appears more than once \(columns 3 and 4",
        ),
    ],
)
def test_input_errors(tmp_path, text, pattern):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError, match=pattern) as info:
        read_predictions(path)
    assert "\n" not in str(info.value)


def test_unknown_value_lists_columns(tmp_path):
    path = write(tmp_path, "a.csv", "lon,lat,hit@1,hit@3\n1,2,1,1\n")
    with pytest.raises(InputError, match=r"a\.csv: value column 'acc' not found.*'hit@1', 'hit@3'"):
        read_predictions(path, value="acc")


def test_duplicate_header_in_csv_gz_and_dataframe(tmp_path):
    path = write(tmp_path, "dup.csv.gz", ",lon,lat,hit@1,hit@1\n0,1,2,1,0\n")
    with pytest.raises(InputError, match=r"dup\.csv\.gz: header row: column name 'hit@1'"):
        read_predictions(path)
    df = pd.DataFrame([[1.0, 2.0, 3.0, 1]], columns=["lon", "lat", "lat", "hit@1"])
    with pytest.raises(InputError, match=r"<DataFrame>: header row: column name 'lat'"):
        read_predictions(df)


def test_renamed_duplicate_is_not_mistaken_for_a_repeat(tmp_path):
    # a genuine 'lat.1' column next to 'lat' is fine
    path = write(tmp_path, "a.csv", "lon,lat,lat.1,hit@1\n1,2,3,1\n")
    assert read_predictions(path).lat.tolist() == [2.0]


@pytest.mark.parametrize(("lon", "lat"), [("lat", "lat"), ("lon", "lon"), ("LAT", "lat")])
def test_same_column_for_lon_and_lat(tmp_path, lon, lat):
    path = write(tmp_path, "a.csv", "lon,lat,hit@1\n1,2,1\n")
    with pytest.raises(InputError, match=r"a\.csv: column '\w+' is given for both longitude and"):
        read_predictions(path, lon=lon, lat=lat)


def test_same_column_for_lon_and_lat_in_coords_from(tmp_path):
    nop = write(tmp_path, "nop.csv", "hit@1\n1\n")
    other = write(tmp_path, "other.csv", "x,lat,hit@1\n1,2,1\n")
    with pytest.raises(InputError, match=r"other\.csv: column 'lat' is given for both"):
        read_predictions(nop, lon="lat", coords_from=other)


def test_value_column_that_is_a_coordinate(tmp_path):
    path = write(tmp_path, "a.csv", "lon,lat,hit@1\n1,2,1\n")
    with pytest.raises(InputError, match=r"a\.csv: value column 'lat' is a coordinate column"):
        read_predictions(path, value="lat")


def test_unknown_coordinate_column(tmp_path):
    path = write(tmp_path, "a.csv", "lon,lat,hit@1\n1,2,1\n")
    with pytest.raises(InputError, match=r"a\.csv: column 'x' not found.*'lon'"):
        read_predictions(path, lon="x")


def test_nan_in_explicit_value_column(tmp_path):
    path = write(tmp_path, "a.csv", "lon,lat,hit@1,reciprocal_rank\n1,2,1,1\n3,4,0,\n")
    with pytest.raises(InputError, match=r"column 'reciprocal_rank', row 1: missing value"):
        read_predictions(path, value="reciprocal_rank")


def test_file_not_found(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        read_predictions(tmp_path / "nope.csv")


@pytest.mark.parametrize("name", ["a.txt", "a.xlsx", "a.json"])
def test_unsupported_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text(json.dumps({"lon": 1}))
    with pytest.raises(InputError, match=rf"{name}: unsupported file extension.*\.parquet"):
        read_predictions(path)


def test_zero_byte_file(tmp_path):
    path = write(tmp_path, "e.csv", "")
    with pytest.raises(InputError, match=r"e\.csv: the file is empty"):
        read_predictions(path)


def test_corrupt_parquet(tmp_path):
    path = write(tmp_path, "c.parquet", "not parquet")
    with pytest.raises(InputError, match=r"c\.parquet: cannot read as Parquet"):
        read_predictions(path)


def test_source_type_error():
    with pytest.raises(TypeError, match="source must be"):
        read_predictions(42)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- shared files

SHARED_LAYOUTS = [
    # file, n_rows, valid, value_name, binary, lower_is_better
    ("torchspatial/eval_yfcc__test_NeRF.csv.gz", 17798, 17798, "hit@1", True, False),
    ("torchspatial/eval_birdsnap_ebird_meta_test_wrap.csv.gz", 2262, 2217, "hit@1", True, False),
    (
        "torchspatial/eval_mosaiks_population__test_rbf.csv.gz",
        4256,
        4256,
        "relative_error",
        False,
        True,
    ),
    (
        "torchspatial/eval_mosaiks_elevation__test_no_prior_regress copy.csv.gz",
        4981,
        4981,
        "relative_error",
        False,
        True,
    ),
    ("foundation_models/croma-finetune_eurosat.csv.gz", 5400, 5400, "hit@1", True, False),
    ("foundation_models/gpt4o_eurosat.csv.gz", 5400, 5400, "hit@1", True, False),
    ("foundation_models/satmae-finetune_eurosat.csv.gz", 5400, 5400, "hit@1", True, False),
]


@pytest.mark.shared
@pytest.mark.parametrize(("rel", "n_rows", "n_valid", "value", "binary", "lib"), SHARED_LAYOUTS)
def test_shared_layouts(predictions_dir, rel, n_rows, n_valid, value, binary, lib):
    path = predictions_dir / rel
    p = read_predictions(path)
    assert (p.n_rows, len(p), p.n_missing_coords) == (n_rows, n_valid, n_rows - n_valid)
    assert (p.value_name, p.binary, p.lower_is_better) == (value, binary, lib)
    # independent check with plain pandas
    df = pd.read_csv(path)
    ok = df["lon"].notna() & df["lat"].notna()
    np.testing.assert_array_equal(p.lon, df.loc[ok, "lon"].to_numpy(float))
    np.testing.assert_array_equal(p.value, df.loc[ok, value].to_numpy(float))
    assert "Unnamed: 0" not in p.table.columns


@pytest.mark.shared
def test_shared_no_prior_needs_coords_from(predictions_dir):
    nop = predictions_dir / "torchspatial/eval_yfcc__test_no_prior.csv.gz"
    enc = predictions_dir / "torchspatial/eval_yfcc__test_NeRF.csv.gz"
    with pytest.raises(
        InputError,
        match=r"eval_yfcc__test_no_prior\.csv\.gz: no coordinate.*"
        r"coords-from",
    ):
        read_predictions(nop)
    p = read_predictions(nop, coords_from=enc)
    e = read_predictions(enc)
    assert len(p) == 17798 and p.n_missing_coords == 0
    np.testing.assert_array_equal(p.lon, e.lon)
    np.testing.assert_array_equal(p.lat, e.lat)
    assert p.value_name == "hit@1" and p.name == "eval_yfcc__test_no_prior"


@pytest.mark.shared
def test_shared_birdsnap_no_prior_coords_from_drops_same_rows(predictions_dir):
    ts = predictions_dir / "torchspatial"
    p = read_predictions(
        ts / "eval_birdsnap_ebird_meta_test_no_prior.csv.gz",
        coords_from=ts / "eval_birdsnap_ebird_meta_test_NeRF.csv.gz",
    )
    assert (p.n_rows, len(p), p.n_missing_coords) == (2262, 2217, 45)


# ----------------------------------------------------------------------------- encoded coords


def _wrap_pair(tmp_path, n=40, dtype=np.float32, shift=0.0, seed=0):
    """A degree file and a wrap file of the same rows (all values written in ``dtype``)."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-179, 179, n).astype(dtype).astype(np.float64)
    lat = rng.uniform(-80, 80, n).astype(dtype).astype(np.float64)
    hit = (rng.random(n) < 0.5).astype(int)
    deg = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit})
    # the wrap encoding's first two features, computed by hand with math-free numpy
    enc_lon = np.sin(np.pi * lon / 180.0).astype(dtype).astype(np.float64) + shift
    enc_lat = np.sin(np.pi * lat / 90.0).astype(dtype).astype(np.float64)
    wrap = pd.DataFrame({"lon": enc_lon, "lat": enc_lat, "hit@1": hit[::-1]})
    a, b = tmp_path / "deg.csv", tmp_path / "wrap.csv"
    deg.to_csv(a)
    wrap.to_csv(b)
    return a, b, deg, wrap


def test_wrap_coordinates_are_checked_and_replaced(tmp_path):
    deg_path, wrap_path, deg, wrap = _wrap_pair(tmp_path)
    p = read_predictions(wrap_path, coords_from=deg_path)
    np.testing.assert_array_equal(p.lon, deg["lon"].to_numpy())
    np.testing.assert_array_equal(p.lat, deg["lat"].to_numpy())
    np.testing.assert_array_equal(p.value, wrap["hit@1"].to_numpy())
    np.testing.assert_array_equal(p.table["lon"], deg["lon"].to_numpy())
    assert p.coords_source == f"coords-from:{deg_path}"
    check = p.coords_check
    assert check["kind"] == "encoding" and check["encoding"] == "wrap"
    assert check["precision"] == "float32" and check["rows_checked"] == 40
    assert 0 <= check["max_abs_diff_lon"] <= check["tolerance_lon"] < 1e-4
    # a file with its own degrees says so
    assert read_predictions(deg_path).coords_source == "file"


def test_wrap_mismatch_names_file_row_and_both_values(tmp_path):
    deg_path, _, deg, wrap = _wrap_pair(tmp_path)
    wrap.loc[7, "lat"] = -wrap.loc[7, "lat"] if abs(wrap.loc[7, "lat"]) > 0.1 else 0.9
    bad = tmp_path / "bad_wrap.csv"
    wrap.to_csv(bad)
    with pytest.raises(CoordinatesError) as info:
        read_predictions(bad, coords_from=deg_path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{bad}: column 'lat', row 7: value ")
    assert repr(float(wrap.loc[7, "lat"])) in msg and repr(float(deg.loc[7, "lat"])) in msg
    assert "sin(pi * lat / 90)" in msg and str(deg_path) in msg


def test_wrap_tolerance_follows_the_float_precision(tmp_path):
    # a float32 file may be off by float32 rounding; a float64 file may not
    d1 = tmp_path / "f32"
    d1.mkdir()
    deg_path, wrap_path, _, _ = _wrap_pair(d1, dtype=np.float32)
    assert read_predictions(wrap_path, coords_from=deg_path).coords_check["precision"] == "float32"
    d2 = tmp_path / "f64"
    d2.mkdir()
    deg_path, wrap_path, _, _ = _wrap_pair(d2, dtype=np.float64)
    p = read_predictions(wrap_path, coords_from=deg_path)
    assert p.coords_check["precision"] == "float64"
    assert p.coords_check["tolerance_lon"] < 1e-12
    d3 = tmp_path / "f64_off"
    d3.mkdir()
    deg_path, wrap_path, _, _ = _wrap_pair(d3, dtype=np.float64, shift=1e-9)
    with pytest.raises(CoordinatesError, match=r"column 'lon', row 0"):
        read_predictions(wrap_path, coords_from=deg_path)


def test_wrap_rows_without_coordinates_must_agree(tmp_path):
    deg_path, _, deg, wrap = _wrap_pair(tmp_path)
    deg.loc[3, ["lon", "lat"]] = np.nan
    wrap.loc[3, ["lon", "lat"]] = np.nan
    deg.to_csv(deg_path)
    ok = tmp_path / "ok.csv"
    wrap.to_csv(ok)
    p = read_predictions(ok, coords_from=deg_path)
    assert (p.n_rows, len(p), p.n_missing_coords) == (40, 39, 1)
    wrap.loc[3, ["lon", "lat"]] = [0.5, 0.5]
    bad = tmp_path / "bad.csv"
    wrap.to_csv(bad)
    with pytest.raises(CoordinatesError, match=r"bad\.csv: row 3: .*both or in neither"):
        read_predictions(bad, coords_from=deg_path)


def test_small_region_degrees_are_not_taken_for_an_encoding(tmp_path):
    df = pd.DataFrame({"lon": [0.1, 0.2, 0.3], "lat": [0.5, 0.4, 0.3], "hit@1": [1, 0, 1]})
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    df.to_csv(a, index=False)
    df.assign(**{"hit@1": [0, 0, 1]}).to_csv(b, index=False)
    p = read_predictions(b, coords_from=a)
    assert p.coords_source == "file"
    np.testing.assert_array_equal(p.lon, df["lon"])


def test_empty_files_raise_empty_input_error(tmp_path):
    for name, text in [
        ("newline.csv", "\n"),
        ("newline.csv.gz", "\n"),
        ("header.csv", "lon,lat,hit@1\n"),
        ("nan_rows.csv", ",lon,lat,hit@1\n0,,,\n1,,,\n"),
        ("zero.csv", ""),
        ("zero.csv.gz", ""),
        ("zero.parquet", ""),  # a zero-byte Parquet file is empty, not unreadable
    ]:
        path = write(tmp_path, name, text)
        with pytest.raises(EmptyInputError, match=re.escape(f"{path}: ")) as info:
            read_predictions(path)
        assert "\n" not in str(info.value)


def test_encoded_looking_coordinates_warn_without_coords_from(tmp_path, caplog):
    _, wrap_path, _, _ = _wrap_pair(tmp_path)
    with caplog.at_level(logging.WARNING, logger="pygbs.io.predictions"):
        p = read_predictions(wrap_path)
    assert p.coords_source == "file"
    assert "within [-1, 1]" in caplog.text and "--coords-from" in caplog.text


@pytest.mark.shared
@pytest.mark.parametrize("dataset", ["birdsnap_ebird_meta_test", "yfcc__test"])
def test_shared_wrap_files_hold_the_wrap_encoding(predictions_dir, dataset):
    ts = predictions_dir / "torchspatial"
    wrap, nerf = ts / f"eval_{dataset}_wrap.csv.gz", ts / f"eval_{dataset}_NeRF.csv.gz"
    p = read_predictions(wrap, coords_from=nerf)
    raw_w, raw_n = pd.read_csv(wrap), pd.read_csv(nerf)
    ok = raw_n["lon"].notna().to_numpy()
    # independent check: the stored columns are sin(pi lon / 180), sin(pi lat / 90)
    lon, lat = raw_n["lon"][ok], raw_n["lat"][ok]
    np.testing.assert_allclose(raw_w["lon"][ok], np.sin(np.radians(lon)), atol=1e-6)
    np.testing.assert_allclose(raw_w["lat"][ok], np.sin(np.radians(2 * lat)), atol=1e-6)
    np.testing.assert_array_equal(p.lon, raw_n["lon"][ok].to_numpy())
    np.testing.assert_array_equal(p.value, raw_w["hit@1"][ok].to_numpy())
    assert p.coords_check["rows_checked"] == int(ok.sum())
