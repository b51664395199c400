"""Tests of pygbs.coding.code_performance (docs/method.md, D1).

Hand-computed codings (binary, median and explicit thresholds in both directions, raw),
option errors, and the reference README numbers for the shared prediction files.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pygbs.coding import Coding, code_performance
from pygbs.errors import InputError
from pygbs.io.predictions import read_predictions
from pygbs.predictions import Predictions


def make(values, *, name="score", binary=False, lower=False) -> Predictions:
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[0]
    lon = np.linspace(0.0, 10.0, n)
    lat = np.zeros(n)
    return Predictions(
        lon=lon,
        lat=lat,
        value=v,
        value_name=name,
        source="t.csv",
        n_rows=n,
        n_missing_coords=0,
        table=pd.DataFrame({"lon": lon, "lat": lat, name: v}),
        binary=binary,
        lower_is_better=lower,
    )


def test_binary_zero_one_and_minus_one_plus_one_agree():
    a = code_performance(make([0, 1, 1, 0, 1], name="hit@1", binary=True))
    b = code_performance(make([-1, 1, 1, -1, 1], name="hit@1", binary=True))
    np.testing.assert_array_equal(a.values, [-1, 1, 1, -1, 1])
    np.testing.assert_array_equal(a.values, b.values)
    assert (a.rule, a.threshold, a.n_good, a.n_bad) == ("binary", None, 3, 2)
    assert a.values.dtype == np.float64


def test_binary_median_string_keeps_binary_rule():
    c = code_performance(make([0, 0, 0, 1], binary=True), threshold="median")
    assert c.rule == "binary"
    np.testing.assert_array_equal(c.values, [-1, -1, -1, 1])


def test_binary_with_numeric_threshold_uses_threshold():
    c = code_performance(make([0, 1, 1], binary=True), threshold=0.5)
    assert (c.rule, c.threshold) == ("threshold", 0.5)
    np.testing.assert_array_equal(c.values, [-1, 1, 1])
    # a threshold above every hit leaves no good row: refused, not coded all -1
    with pytest.raises(InputError, match="every one of the 3 rows is bad"):
        code_performance(make([0, 1, 1], binary=True), threshold=1.5)


def test_binary_lower_is_better_refused():
    with pytest.raises(InputError, match=r"t\.csv: column 'hit@1' is a hit indicator"):
        code_performance(make([0, 1], name="hit@1", binary=True), lower_is_better=True)


def test_median_even_higher_is_better():
    # median of [3, 1, 2, 5] is 2.5; good = value >= 2.5
    c = code_performance(make([3, 1, 2, 5]))
    assert (c.rule, c.threshold, c.lower_is_better) == ("threshold", 2.5, False)
    np.testing.assert_array_equal(c.values, [1, -1, -1, 1])


def test_median_even_lower_is_better_from_predictions():
    c = code_performance(make([3, 1, 2, 5], lower=True))
    assert c.lower_is_better
    np.testing.assert_array_equal(c.values, [-1, 1, 1, -1])


def test_median_odd_tie_goes_to_good_only_when_higher_is_better():
    # median of [1, 2, 3] is 2: value >= 2 is good (higher); value < 2 is good (lower)
    hi = code_performance(make([1, 2, 3]))
    lo = code_performance(make([1, 2, 3]), lower_is_better=True)
    np.testing.assert_array_equal(hi.values, [-1, 1, 1])
    np.testing.assert_array_equal(lo.values, [1, -1, -1])
    assert (hi.n_good, hi.n_bad, lo.n_good, lo.n_bad) == (2, 1, 1, 2)


def test_explicit_lower_is_better_overrides_predictions():
    c = code_performance(make([3, 1, 2, 5], lower=True), lower_is_better=False)
    np.testing.assert_array_equal(c.values, [1, -1, -1, 1])


@pytest.mark.parametrize("t", [2.0, 2, "2", " 2.0 ", np.float32(2.0)])
def test_numeric_threshold_forms(t):
    c = code_performance(make([1, 2, 3]), threshold=t)
    assert c.threshold == 2.0
    np.testing.assert_array_equal(c.values, [-1, 1, 1])


def test_median_string_equals_default():
    a = code_performance(make([0.3, 0.1, 0.7, 0.2]), threshold="Median")
    b = code_performance(make([0.3, 0.1, 0.7, 0.2]))
    assert a.threshold == b.threshold == pytest.approx(0.25)
    np.testing.assert_array_equal(a.values, b.values)


@pytest.mark.parametrize("t", ["abc", "mean", float("nan"), float("inf"), True, [1.0]])
def test_bad_threshold(t):
    with pytest.raises(InputError, match="threshold must be"):
        code_performance(make([1, 2, 3]), threshold=t)


def test_raw_values_kept():
    c = code_performance(make([-0.5, 2.0, 3.5]), raw=True)
    assert (c.rule, c.threshold, c.n_good, c.n_bad) == ("raw", None, 2, 1)
    np.testing.assert_array_equal(c.values, [-0.5, 2.0, 3.5])


def test_raw_zero_names_row():
    with pytest.raises(InputError, match=r"t\.csv: column 'score', row 2: .*exactly 0"):
        code_performance(make([1.0, -2.0, 0.0, 0.0]), raw=True)


def test_raw_zero_one_hits_rejected():
    with pytest.raises(InputError, match=r"row 0: .*exactly 0"):
        code_performance(make([0, 1], name="hit@1", binary=True), raw=True)


def test_raw_non_finite_and_with_threshold():
    with pytest.raises(InputError, match=r"row 1: non-finite"):
        code_performance(make([1.0, np.inf]), raw=True)
    with pytest.raises(InputError, match=r"raw=True .*threshold"):
        code_performance(make([1.0, 2.0]), raw=True, threshold=1.0)


def test_nan_value_names_row():
    with pytest.raises(InputError, match=r"row 1: missing value"):
        code_performance(make([1.0, np.nan, 3.0]))


def test_never_zero_and_read_only():
    rng = np.random.default_rng(0)
    c = code_performance(make(rng.normal(size=101)))
    assert set(np.unique(c.values)) == {-1.0, 1.0}
    assert c.n_good + c.n_bad == len(c) == 101
    assert c.n_good == 51  # the median itself is good when higher is better
    with pytest.raises(ValueError, match="read-only"):
        c.values[0] = 0.0


def test_to_dict_json():
    c = code_performance(make([3, 1, 2, 5]), threshold=np.float64(2.5))
    d = c.to_dict()
    assert d == {
        "rule": "threshold",
        "transform": "none",
        "threshold": 2.5,
        "lower_is_better": False,
        "n_good": 2,
        "n_bad": 2,
        "good_if": "value >= threshold",
    }
    assert json.loads(json.dumps(d)) == d
    assert isinstance(c, Coding) and "values" not in d


@pytest.mark.shared
def test_reference_mosaiks_population_rbf(predictions_dir):
    # the reference coded the signed relative_error as stored: transform="none"
    p = read_predictions(predictions_dir / "torchspatial/eval_mosaiks_population__test_rbf.csv.gz")
    c = code_performance(p, transform="none")
    assert c.rule == "threshold" and c.lower_is_better
    assert c.threshold == 0.018049711176259836
    assert c.n_good == 2128 and c.n_bad == 4256 - 2128
    np.testing.assert_array_equal(c.values == 1.0, p.value < 0.018049711176259836)


# --- signed errors -------------------------------------------------------------------


def test_signed_error_is_coded_by_its_size():
    # errors -5, -0.1, 0, 0.2, 3 (lower is better): |e| = 5, 0.1, 0, 0.2, 3, median 0.2;
    # good = |e| < 0.2: the perfect prediction and -0.1. The signed coding (median 0)
    # would call -5 good and the perfect prediction bad.
    c = code_performance(make([-5, -0.1, 0, 0.2, 3], name="relative_error", lower=True))
    assert (c.rule, c.transform, c.threshold, c.lower_is_better) == ("threshold", "abs", 0.2, True)
    np.testing.assert_array_equal(c.values, [-1, 1, 1, -1, -1])
    assert c.to_dict()["transform"] == "abs"
    signed = code_performance(
        make([-5, -0.1, 0, 0.2, 3], name="relative_error", lower=True), transform="none"
    )
    assert (signed.transform, signed.threshold) == ("none", 0.0)
    np.testing.assert_array_equal(signed.values, [1, 1, -1, -1, -1])


@pytest.mark.parametrize(
    ("values", "lower", "kw"),
    [
        ([0.5, 0.1, 2.0], True, {}),  # one sign only: nothing to fold
        ([-2.0, 0.5, 1.0], False, {}),  # higher is better: signs mean something
        ([-2.0, 0.5, 1.0], True, {"raw": True}),  # raw values are kept as stored
    ],
)
def test_auto_keeps_values_otherwise(values, lower, kw):
    c = code_performance(make(values, name="error", lower=lower), **kw)
    assert c.transform == "none"


def test_abs_explicit_and_basis():
    c = code_performance(make([-3.0, 1.0, 2.0]), transform="abs", lower_is_better=True)
    assert c.transform == "abs" and c.threshold == 2.0
    np.testing.assert_array_equal(c.values, [-1, 1, -1])
    np.testing.assert_array_equal(c.basis(np.array([-3.0, 1.0])), [3.0, 1.0])


def test_transform_errors():
    with pytest.raises(InputError, match="transform must be one of auto, none, abs; got 'sq'"):
        code_performance(make([1.0, 2.0]), transform="sq")
    with pytest.raises(InputError, match="hit indicator: transform='abs'"):
        code_performance(make([0, 1], name="hit@1", binary=True), transform="abs")


def test_auto_never_folds_a_hit_column():
    c = code_performance(
        make([-1, 1, 1], name="hit@1", binary=True), threshold=0.0, lower_is_better=True
    )
    assert c.transform == "none"
    np.testing.assert_array_equal(c.values, [1, -1, -1])


@pytest.mark.shared
def test_shared_regression_files_default_to_absolute_error(predictions_dir):
    p = read_predictions(predictions_dir / "torchspatial/eval_mosaiks_population__test_rbf.csv.gz")
    assert p.value.min() < 0 < p.value.max()  # relative_error is stored signed
    c = code_performance(p)
    assert c.transform == "abs" and c.threshold == float(np.median(np.abs(p.value)))
    np.testing.assert_array_equal(c.values == 1.0, np.abs(p.value) < c.threshold)


@pytest.mark.shared
@pytest.mark.parametrize(
    ("rel", "n_valid"),
    [
        ("torchspatial/eval_yfcc__test_NeRF.csv.gz", 17798),
        ("torchspatial/eval_birdsnap_ebird_meta_test_wrap.csv.gz", 2217),
        ("foundation_models/croma-finetune_eurosat.csv.gz", 5400),
    ],
)
def test_reference_binary_files(predictions_dir, rel, n_valid):
    path = predictions_dir / rel
    c = code_performance(read_predictions(path))
    df = pd.read_csv(path)
    df = df[df["lon"].notna() & df["lat"].notna()]
    expected = np.where(df["hit@1"].to_numpy() > 0, 1.0, -1.0)
    assert c.rule == "binary" and len(c) == n_valid
    np.testing.assert_array_equal(c.values, expected)


# --------------------------------------------------------------------------- ties at the threshold


def test_error_zero_where_right_ties_at_median_are_good():
    # 0 where the model is right (6 rows), 0.5 elsewhere (4 rows): median 0, and
    # "value < 0" would make no row good; the tie rule makes good = value <= 0
    err = [0, 0, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0]
    c = code_performance(make(err, name="relative_error", lower=True))
    assert c.threshold == 0.0 and c.inclusive
    np.testing.assert_array_equal(c.values, np.where(np.asarray(err) == 0, 1.0, -1.0))
    assert (c.n_good, c.n_bad) == (6, 4)
    assert c.to_dict()["good_if"] == "value <= threshold"


def test_threshold_zero_on_non_negative_errors_uses_tie_rule():
    c = code_performance(make([0, 0, 1, 2], name="error", lower=True), threshold=0)
    assert (c.n_good, c.n_bad, c.inclusive) == (2, 2, True)


def test_higher_is_better_all_at_threshold_side_moves_ties_to_bad():
    # every value >= 1 is good: the tie rule makes good = value > 1
    c = code_performance(make([1, 1, 1, 3]), threshold=1.0)
    np.testing.assert_array_equal(c.values, [-1, -1, -1, 1])
    assert c.to_dict()["good_if"] == "value > threshold"


def test_no_tie_rule_when_usual_comparison_splits():
    c = code_performance(make([0, 0, 0.5, 0.7, 0.9], name="error", lower=True))
    # median 0.5: good = value < 0.5 splits the rows, nothing moves
    assert not c.inclusive and (c.n_good, c.n_bad) == (2, 3)


@pytest.mark.parametrize("kw", [{}, {"threshold": 0.0}, {"threshold": 5.0}])
def test_no_contrast_is_one_line_error(kw):
    with pytest.raises(InputError, match=r"every one of the 4 rows is (good|bad)") as err:
        code_performance(make([0, 0, 0, 0], name="relative_error", lower=True), **kw)
    assert "\n" not in str(err.value) and "'relative_error'" in str(err.value)
