"""Per-sample export in TorchSpatial's layout: hand-computed columns, atomic writes, and the
round trip through pygbs.read_predictions without options."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from encoders.data import Split
from encoders.export import (
    CLASSIFICATION_COLUMNS,
    REGRESSION_COLUMNS,
    ZERO_LABEL,
    export_predictions,
    predictions_frame,
)


@pytest.fixture
def cls_split():
    lonlat = np.array([[10.0, 20.0], [-30.0, 40.0], [np.nan, np.nan], [170.0, -80.0]], np.float32)
    return Split(lonlat=lonlat, label=np.array([1, 0, 2, 2]))


SCORES = np.array([[0.1, 0.6, 0.3], [0.2, 0.5, 0.4], [0.3, 0.2, 0.1], [0.5, 0.4, 0.45]])


def test_classification_columns_by_hand(cls_split):
    df = predictions_frame(cls_split, SCORES, "classification")
    assert tuple(df.columns) == CLASSIFICATION_COLUMNS
    np.testing.assert_allclose(df["true_class_prob"], [0.6, 0.2, 0.1, 0.45])
    np.testing.assert_allclose(df["reciprocal_rank"], [1, 1 / 3, 1 / 3, 1 / 2])
    np.testing.assert_array_equal(df["hit@1"], [1, 0, 0, 0])
    np.testing.assert_array_equal(df["hit@3"], [1, 1, 1, 1])
    assert df["lon"].isna().tolist() == [False, False, True, False]


def test_regression_columns_by_hand():
    split = Split(lonlat=np.array([[0, 0], [1, 1], [2, 2]], np.float32),
                  label=np.array([2.0, -4.0, 0.0], np.float32))  # fmt: skip
    df = predictions_frame(split, np.array([3.0, -2.0, 0.5]), "regression")
    assert tuple(df.columns) == REGRESSION_COLUMNS
    np.testing.assert_allclose(df["relative_error"], [0.5, -0.5, 0.5 / ZERO_LABEL])
    np.testing.assert_allclose(df["labels"], [2, -4, 0])


def test_bad_shapes_and_task(cls_split):
    with pytest.raises(ValueError, match="shape"):
        predictions_frame(cls_split, SCORES[:2], "classification")
    with pytest.raises(ValueError, match="task"):
        predictions_frame(cls_split, SCORES, "ranking")


def test_written_layout_is_torchspatial(cls_split, tmp_path):
    path = export_predictions(tmp_path / "m.csv", cls_split, SCORES, "classification")
    assert (
        path.read_text().splitlines()[0] == ",lon,lat,true_class_prob,reciprocal_rank,hit@1,hit@3"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["m.csv"]  # no temporary file left
    gz = export_predictions(tmp_path / "m.csv.gz", cls_split, SCORES, "classification")
    with gzip.open(gz, "rt") as fh:
        assert fh.readline().startswith(",lon,lat")
    pq = export_predictions(tmp_path / "m.parquet", cls_split, SCORES, "classification")
    expect = predictions_frame(cls_split, SCORES, "classification")
    pd.testing.assert_frame_equal(pd.read_parquet(pq), expect)


def test_failed_write_leaves_old_file(cls_split, tmp_path):
    path = export_predictions(tmp_path / "m.csv", cls_split, SCORES, "classification")
    before = path.read_text()
    with pytest.raises(ValueError):
        export_predictions(path, cls_split, SCORES[:, :1].T, "classification")
    assert path.read_text() == before


def test_round_trip_through_pygbs(cls_split, tmp_path):
    pygbs = pytest.importorskip("pygbs")
    if not hasattr(pygbs, "read_predictions"):
        pytest.skip("pygbs.read_predictions not implemented yet")
    p = pygbs.read_predictions(
        export_predictions(tmp_path / "cls.csv", cls_split, SCORES, "classification")
    )
    assert p.value_name == "hit@1" and p.binary
    assert p.n_rows == 4 and p.n_missing_coords == 1
    np.testing.assert_allclose(p.lon, [10, -30, 170])
    np.testing.assert_allclose(p.lat, [20, 40, -80])
    np.testing.assert_array_equal(p.value, [1, 0, 0])
    split = Split(lonlat=np.array([[5, 6], [7, 8]], np.float32),
                  label=np.array([1.0, 2.0], np.float32))  # fmt: skip
    r = pygbs.read_predictions(
        export_predictions(tmp_path / "reg.csv.gz", split, np.array([1.5, 1.0]), "regression")
    )
    assert r.value_name == "relative_error" and r.lower_is_better
    np.testing.assert_allclose(r.value, [0.5, -0.5])
    np.testing.assert_allclose(r.lon, [5, 7])
