"""Typed results, the long form of comparisons and the store (pygbs.io.store).

A result is written and read back equal; ``summary.json`` carries a schema version and a
reader refuses one it does not know; a comparison's long form and its published wide
layout hold the same numbers; the library writes plain files (no output-directory policy);
``compare`` checks its arguments before reading any file.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import pygbs
from pygbs.cli.outputs import MANIFEST
from pygbs.errors import InputError
from pygbs.io import store
from pygbs.results.comparison import (
    Comparison,
    long_from_wide,
    read_comparison,
    wide_column,
    wide_columns,
)
from pygbs.results.result import GeoBiasResult, InputInfo, aggregates_frame

QUICK = {"scales": ["300km", "nn20"], "bootstrap": 50, "null": "accuracy", "null_draws": 9}


def _predictions(seed: int, accuracy: float, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lon = np.concatenate([rng.normal(10, 3, n // 2), rng.normal(-60, 4, n - n // 2)])
    lat = np.concatenate([rng.normal(45, 2, n // 2), rng.normal(-10, 3, n - n // 2)])
    hit = (rng.random(n) < accuracy).astype(int)
    return pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit})


@pytest.fixture(scope="module")
def result() -> GeoBiasResult:
    return pygbs.score(_predictions(0, 0.7), scores=["unmarked", "marked", "moran"], **QUICK)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> Comparison:
    d = tmp_path_factory.mktemp("cmp")
    paths = []
    # the same locations (seed 3) with different outcomes per model
    base = _predictions(3, 0.5)
    rng = np.random.default_rng(9)
    for name, acc in (("no_prior", 0.4), ("model_a", 0.6), ("model_b", 0.8)):
        df = base.assign(**{"hit@1": (rng.random(len(base)) < acc).astype(int)})
        paths.append(d / f"{name}.csv")
        df.to_csv(paths[-1], index=False)
    return pygbs.compare(paths, **QUICK)


# -- typed result ---------------------------------------------------------------------------


def test_aggregates_are_a_table_indexed_by_score_and_scale(result):
    agg = result.aggregates
    assert agg.index.names == ["score", "scale"]
    for col in ("unmarked_ssi", "marked_ssi", "moran_i", "spread"):
        for scale in ("300km", "nn20"):
            assert (col, scale) in agg.index
    # the headline is the mean of the per-centre scores (docs/method.md, D6)
    at = result.centres[result.centres["scale"] == "300km"]
    assert agg.loc[("marked_ssi", "300km"), "mean"] == pytest.approx(at["marked_ssi"].mean())
    # counts stay integers, missing values are missing (not 0)
    assert str(agg["n_scored"].dtype) == "Int64"
    n = agg.loc[("marked_ssi", "300km"), "n_scored"]
    assert n == int(at["marked_ssi"].notna().sum())
    assert result.aggregate("marked", "300km").n_scored == n
    assert result.headline("marked", "300km") == agg.loc[("marked_ssi", "300km"), "mean"]


def test_summary_is_a_read_only_view_built_from_the_typed_parts(result):
    summary = result.summary
    assert list(summary) == ["schema_version", "pygbs_version", "parameters", "input",
                             "aggregates"]  # fmt: skip
    assert summary["input"]["model"] == result.input.model
    assert summary["input"]["accuracy"] == result.input.metrics["accuracy"]
    assert summary["parameters"]["scales"] == ["300km", "nn20"]
    with pytest.raises(TypeError):
        summary["input"]["source"] = "elsewhere"  # type: ignore[index]
    with pytest.raises(TypeError):
        summary["aggregates"]["marked_ssi"]["300km"]["mean"] = 0.0  # type: ignore[index]
    with pytest.raises(TypeError):
        summary["parameters"].update(seed=1)  # type: ignore[attr-defined]
    # still JSON: the same text as summary.json
    assert json.dumps(summary, indent=2) + "\n" == result.to_json()
    # a change goes through the typed parts
    moved = replace(result, input=replace(result.input, source="elsewhere"))
    assert moved.summary["input"]["source"] == "elsewhere"
    assert result.summary["input"]["source"] != "elsewhere"


def test_input_info_keeps_the_order_of_summary_json_and_unknown_keys():
    info = {
        "source": "a.csv",
        "model": "a",
        "value_name": "err",
        "n_rows": 10,
        "n_missing_coords": 1,
        "n_valid": 9,
        "coords_source": "file",
        "coords_check": None,
        "n_duplicate_locations": 0,
        "r2": 0.5,
        "mae": 1.25,
        "coding": {"rule": "threshold", "threshold": 1.0},
        "relative_error_check": None,
        "repeated_locations": {"n_rows": 9},
        "written_by_a_later_version": [1, 2],
    }
    typed = InputInfo.from_dict(info)
    assert typed.metrics == {"r2": 0.5, "mae": 1.25}
    assert typed.extra == {"written_by_a_later_version": [1, 2]}
    assert list(typed.to_dict().items()) == list(info.items())


def test_aggregates_frame_keeps_each_aggregates_fields_and_their_order():
    nested = {
        "a": {"10km": {"n_scored": 3, "mean": 0.5, "ci_low": None}},
        "spread": {"10km": {"mean": 0.25, "n_scored": 4, "null_draws": 9}},
    }
    table, keys = aggregates_frame(nested)
    assert list(table.columns) == ["n_scored", "mean", "ci_low", "null_draws"]
    assert keys[("spread", "10km")] == ("mean", "n_scored", "null_draws")
    res = GeoBiasResult(pd.DataFrame(), aggregates=table, aggregate_keys=keys)
    assert res.summary_dict()["aggregates"] == nested
    assert [type(v) for v in res.aggregate_record("spread", "10km").values()] == [
        float,
        int,
        int,
    ]


# -- store ------------------------------------------------------------------------------------


def test_result_round_trip_is_equal_and_byte_identical(result, tmp_path):
    result.write(tmp_path / "a")
    back = GeoBiasResult.read(tmp_path / "a")
    assert back.summary_dict() == result.summary_dict()
    pd.testing.assert_frame_equal(back.aggregates, result.aggregates)
    pd.testing.assert_frame_equal(back.centres, result.centres, check_exact=False, rtol=1e-15)
    back.write(tmp_path / "b")
    for name in ("summary.json", "centres.csv"):
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
    doc = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert next(iter(doc)) == "schema_version" and doc["schema_version"] == store.SCHEMA_VERSION


def test_parquet_round_trip(result, tmp_path):
    result.write(tmp_path, format="parquet")
    assert not (tmp_path / "centres.csv").exists()
    back = GeoBiasResult.read(tmp_path)
    pd.testing.assert_frame_equal(back.centres, result.centres)


def test_an_unknown_schema_version_is_refused_with_one_line(result, tmp_path):
    result.write(tmp_path)
    path = tmp_path / "summary.json"
    doc = json.loads(path.read_text())
    doc["schema_version"] = 99
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as err:
        GeoBiasResult.read(tmp_path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and "99" in message
    # written before the version was recorded: read as the same layout
    del doc["schema_version"]
    path.write_text(json.dumps(doc))
    assert GeoBiasResult.read(tmp_path).summary_dict() == result.summary_dict()


def test_library_write_is_plain_files_without_policy(result, tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    result.write(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["centres.csv", "mine.txt", "summary.json"]
    assert MANIFEST not in names and (tmp_path / "mine.txt").read_text() == "keep"


def test_markdown_table_by_hand():
    table = pd.DataFrame({"model": ["a", "b"], "x": [0.123456, np.nan], "n": [3, 4]})
    assert store.markdown_table(table) == (
        "| model | x | n |\n|---|---|---|\n| a | 0.1235 | 3 |\n| b | – | 4 |\n"
    )


# -- comparisons: long form and the published layout -----------------------------------------


def test_long_form_holds_each_models_aggregates(comparison):
    scores = comparison.scores
    assert list(scores.columns) == ["model", "score", "scale", "statistic", "value"]
    for model, res in comparison.results.items():
        for (col, scale), agg in res.aggregate_records().items():
            at = scores[
                (scores["model"] == model) & (scores["score"] == col) & (scores["scale"] == scale)
            ].set_index("statistic")["value"]
            for stat in ("mean", "ci_low", "ci_high", "excess", "p_excess"):
                want = agg.get(stat)
                got = at.get(stat)
                assert (want is None and np.isnan(got)) or got == want, (model, col, scale, stat)


def test_wide_is_the_published_layout(comparison):
    wide = comparison.wide()
    assert list(wide["model"]) == list(comparison.results)
    assert list(wide.columns[:3]) == ["model", "accuracy", "n"]
    cols = wide_columns(wide)
    # headline means first, then their intervals, then the null's columns
    stats = [stat for _, _, _, stat in cols]
    assert stats.index("ci_low") > max(i for i, s in enumerate(stats) if s == "mean")
    res = comparison.results["model_a"]
    row = wide.set_index("model").loc["model_a"]
    assert row[wide_column("marked_ssi", "300km", "mean")] == res.headline("marked", "300km")
    assert row["marked_ssi@300km_excess_ci_high"] == res.aggregate("marked", "300km").excess_ci_high
    # the wide table read back is the long form again
    models, scores = long_from_wide(wide)
    pd.testing.assert_frame_equal(scores, comparison.scores)
    pd.testing.assert_frame_equal(models, comparison.models)


def test_wide_by_hand():
    models = pd.DataFrame({"model": ["a", "b"], "accuracy": [0.5, 0.75], "n": [10, 10]})
    scores = pd.DataFrame(
        [
            ("a", "marked_ssi", "100km", "mean", 1.0),
            ("a", "marked_ssi", "100km", "ci_low", 0.5),
            ("a", "marked_ssi", "100km", "excess", 0.25),
            ("b", "marked_ssi", "100km", "mean", 2.0),
        ],
        columns=["model", "score", "scale", "statistic", "value"],
    )
    wide = Comparison(models, scores).wide()
    want = pd.DataFrame(
        {
            "model": ["a", "b"],
            "accuracy": [0.5, 0.75],
            "n": [10, 10],
            "marked_ssi@100km": [1.0, 2.0],
            "marked_ssi@100km_ci_low": [0.5, np.nan],
            "marked_ssi@100km_excess": [0.25, np.nan],
        }
    )
    pd.testing.assert_frame_equal(wide, want)


def test_comparison_round_trip(comparison, tmp_path):
    comparison.write(tmp_path)
    assert not (tmp_path / MANIFEST).exists()
    back = read_comparison(tmp_path)
    pd.testing.assert_frame_equal(back.wide(), comparison.wide(), check_exact=False, rtol=1e-15)
    assert back.baseline == comparison.baseline == "no_prior"
    for name, res in comparison.results.items():
        assert back.results[name].summary_dict() == res.summary_dict()
    back.write(tmp_path / "again")
    for name in ("compare.csv", "pairs.csv", "compare.json"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / name).read_bytes()
    # the accuracy correlation is not stored: the rest of compare.md is the same
    cut = "## Does the score track accuracy?"
    md = (tmp_path / "compare.md").read_text()
    again = (tmp_path / "again" / "compare.md").read_text()
    assert cut in md and again.rstrip() == md.split(cut)[0].rstrip()


def test_accuracy_correlation_of_the_wide_table_equals_the_comparisons(comparison):
    from pygbs.comparing import accuracy_correlation

    got = accuracy_correlation(comparison.wide())
    pd.testing.assert_frame_equal(got, comparison.accuracy_correlation)
    assert set(got["column"]) >= {"marked_ssi@300km", "marked_ssi@300km_excess"}


# -- compare() checks its arguments first -----------------------------------------------------


def test_compare_checks_pairs_and_baseline_before_reading_any_file(tmp_path):
    missing = [tmp_path / "absent_a.csv", tmp_path / "absent_b.csv"]
    with pytest.raises(InputError, match="pairs must be 'baseline' or 'all'; got 'some'"):
        pygbs.compare(missing, pairs="some")
    with pytest.raises(InputError, match="baseline 'c' is not one of the models"):
        pygbs.compare(missing, baseline="c")
    # the names given are the models
    with pytest.raises(InputError, match="baseline 'absent_a' is not one of the models"):
        pygbs.compare(missing, names=["x", "y"], baseline="absent_a")
    # with valid arguments, the missing file is what is reported
    with pytest.raises(InputError, match="absent_a"):
        pygbs.compare(missing, baseline="absent_b")
