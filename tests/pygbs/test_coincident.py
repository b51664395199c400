"""Neighbourhoods whose k-NN graph depends on the row order are not scored by the scores
built on that graph (marked SSI, performance SSI, Moran's I, Geary's C).

- hand-built neighbourhoods: which are order-dependent (group sizes around ``k + 1``,
  mixed or equal coded values, the share of samples at such locations);
- every sample at one location at a km scale: the same output for shuffled rows, the
  skips counted (``n_skipped_coincident``), explained and warned about; unmarked SSI and
  the SRI, which do not depend on the order, still scored;
- fewer rows at repeated locations (not skipped): exactly the scores of
  ``ORDER_DEPENDENT`` change when the rows are shuffled, the repeated-locations warning
  says so, and ``duplicates='collapse'`` does not depend on the order (a tie takes the
  worst mark).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pygbs
from pygbs.cli import main
from pygbs.stats.coincident import order_dependent


def _csr(groups: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    indptr = np.cumsum([0] + [len(g) for g in groups]).astype(np.int64)
    return indptr, np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])


@pytest.mark.parametrize(
    ("loc", "marks", "expected"),
    [
        # 6 samples at one location, k = 4: each has 5 others there, one too many
        ([0] * 6, [1, 1, 1, -1, -1, -1], True),
        # 5 samples: every one has exactly k others there, no choice
        ([0] * 5, [1, 1, 1, -1, -1], False),
        # the same coded value everywhere: the choice does not change the statistic
        ([0] * 9, [1] * 9, False),
        # 6 of 10 samples at an ambiguous location: more than half
        ([0] * 6 + [1, 2, 3, 4], [1, -1] * 3 + [1] * 4, True),
        # 6 of 12: exactly half is not more than half
        ([0] * 6 + [1, 2, 3, 4, 5, 6], [1, -1] * 3 + [1] * 6, False),
        # two locations of 3 samples each: no location holds more than k + 1
        ([0, 0, 0, 1, 1, 1], [1, -1, 1, -1, 1, -1], False),
    ],
)
def test_order_dependent_by_hand(loc, marks, expected):
    n = len(loc)
    indptr, indices = _csr([list(range(n))])
    got = order_dependent(
        np.asarray(loc, dtype=np.int64), np.asarray(marks, dtype=float), indptr, indices, 4
    )
    assert got.tolist() == [expected]


def test_order_dependent_counts_only_the_samples_of_each_neighbourhood():
    # location 0 holds 8 samples in all, but the first neighbourhood sees only 4 of them
    loc = np.array([0] * 8 + [1, 2], dtype=np.int64)
    marks = np.array([1, -1] * 4 + [1, 1], dtype=float)
    indptr, indices = _csr([[0, 1, 2, 3, 8, 9], list(range(10))])
    assert order_dependent(loc, marks, indptr, indices, 4).tolist() == [False, True]
    # with k = 7 no location holds more than k + 1 samples
    assert order_dependent(loc, marks, indptr, indices, 7).tolist() == [False, False]


def test_order_dependent_looks_at_the_coded_values_inside_each_neighbourhood():
    # location 0 holds six +1 and two -1 samples: mixed in all, but the first
    # neighbourhood sees only its six +1 samples, whose order cannot matter
    loc = np.array([0] * 8 + [1, 2], dtype=np.int64)
    marks = np.array([1] * 6 + [-1] * 2 + [1, 1], dtype=float)
    indptr, indices = _csr([[0, 1, 2, 3, 4, 5, 8], list(range(10))])
    assert order_dependent(loc, marks, indptr, indices, 4).tolist() == [False, True]


def _one_location(n: int = 120, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"lon": np.full(n, 10.0), "lat": np.full(n, 20.0), "hit@1": rng.integers(0, 2, n)}
    )


SCORES = ["unmarked", "marked", "performance", "moran", "sri-lag"]


def _aggregates(df: pd.DataFrame) -> dict:
    res = pygbs.score(df, scales=["100km"], scores=SCORES, bootstrap=0)
    return {c: v["100km"] for c, v in res.summary["aggregates"].items() if c != "spread"}


def test_one_location_gives_the_same_output_for_shuffled_rows(caplog):
    df = _one_location()
    with caplog.at_level("WARNING", logger="pygbs"):
        first = _aggregates(df)
    assert "n_skipped_coincident" in caplog.text
    assert "depend on the order of the rows" in caplog.text
    for col in ("marked_ssi", "performance_ssi", "moran_i"):
        a = first[col]
        assert a["n_scored"] == 0 and a["n_skipped_coincident"] == len(df), (col, a)
        assert a["n_skipped"] == a["n_skipped_coincident"]
    # the scores that do not depend on the order are still given
    assert first["unmarked_ssi"]["n_scored"] == len(df)
    assert "n_skipped_coincident" not in first["unmarked_ssi"]
    for seed in (1, 2):
        shuffled = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        again = _aggregates(shuffled)
        assert again.keys() == first.keys()
        for col, a in first.items():
            b = again[col]
            assert a.keys() == b.keys(), col
            for key, va in a.items():
                vb = b[key]
                if va is None or vb is None:
                    assert va is vb, (col, key, va, vb)
                else:
                    assert va == pytest.approx(vb, rel=1e-9, nan_ok=True), (col, key)


def test_one_location_collapsed_is_not_skipped_for_coincidence():
    res = pygbs.score(
        _one_location(), scales=["100km"], scores=["marked"], bootstrap=0, duplicates="collapse"
    )
    agg = res.summary["aggregates"]["marked_ssi"]["100km"]
    assert "n_skipped_coincident" not in agg


def test_cli_explains_the_skip(tmp_path):
    f = tmp_path / "p.csv"
    _one_location(80).to_csv(f, index=False)
    out = tmp_path / "o"
    res = CliRunner().invoke(
        main, ["score", str(f), "--scale", "100km", "--score", "marked", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if "marked_ssi@100km" in ln)
    assert "(0 scored, 80 skipped)" in line
    assert "80 where most samples share a few locations" in line
    assert "--duplicates collapse" in line


# ------------------------------------------------- repeated rows below the skipping share


def _mixed_sites(seed: int = 4) -> pd.DataFrame:
    """300 scattered samples, 40 of whose locations get 1-3 more rows of the other outcome."""
    rng = np.random.default_rng(seed)
    n = 300
    df = pd.DataFrame({"lon": rng.uniform(0, 20, n), "lat": rng.uniform(30, 50, n),
                       "hit@1": rng.integers(0, 2, n),
                       "reciprocal_rank": rng.uniform(0.05, 1, n)})  # fmt: skip
    extra = df.iloc[np.repeat(np.arange(40), rng.integers(1, 4, 40))].copy()
    extra["hit@1"] = 1 - extra["hit@1"]
    extra["reciprocal_rank"] = rng.uniform(0.05, 1, len(extra))
    return pd.concat([df, extra], ignore_index=True)


NEIGHBOURHOOD_COLUMNS = {"row", "lon", "lat", "scale", "n_neighbours", "radius_km",
                         "mean_performance", "local_performance"}  # fmt: skip


def _by_original_row(res, perm: np.ndarray) -> pd.DataFrame:
    c = res.centres.copy()
    c["row"] = perm[c["row"].to_numpy()]
    return c.sort_values(["scale", "row"]).reset_index(drop=True)


def test_the_order_dependent_scores_are_those_that_change_with_shuffled_rows():
    from pygbs.stats.coincident import ORDER_DEPENDENT
    from pygbs.stats.registry import REGISTRY

    df = _mixed_sites()
    perm = np.random.default_rng(9).permutation(len(df))
    kw = {"scales": ["nn20", "300km"], "bootstrap": 0, "value": "reciprocal_rank"}
    changed = set()
    for name in REGISTRY:
        a = pygbs.score(df, scores=[name], **kw)
        b = pygbs.score(df.iloc[perm].reset_index(drop=True), scores=[name], **kw)
        ca, cb = _by_original_row(a, np.arange(len(df))), _by_original_row(b, perm)
        # the score's own columns (a k-NN neighbourhood's members, and so its mean
        # performance, also follow the row order where ties cut through a site)
        cols = [c for c in ca.columns if c not in NEIGHBOURHOOD_COLUMNS]
        diff = ~np.isclose(ca[cols].to_numpy(float), cb[cols].to_numpy(float),
                           rtol=1e-9, atol=1e-12, equal_nan=True)  # fmt: skip
        if diff.any():
            changed.add(name)
    assert changed == set(ORDER_DEPENDENT)


def test_the_warning_says_which_scores_follow_the_row_order(caplog):
    df = _mixed_sites()
    with caplog.at_level("WARNING", logger="pygbs.api"):
        res = pygbs.score(df, scales=["nn20"], scores=["marked"], bootstrap=0)
    sites = df.groupby(["lon", "lat"])["hit@1"].agg(["nunique", "size"])
    mixed = sites[sites["nunique"] > 1]
    rep = res.summary["input"]["repeated_locations"]
    assert (rep["n_mixed_locations"], rep["n_rows_at_mixed"]) == (
        len(mixed),
        int(mixed["size"].sum()),
    )
    assert len(mixed) > 0
    assert (f"{len(mixed)} of those locations hold rows with different outcomes "
            f"({int(mixed['size'].sum())} rows)") in caplog.text  # fmt: skip
    assert "can change when the rows are shuffled" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="pygbs.api"):
        pygbs.score(df, scales=["nn20"], scores=["unmarked"], bootstrap=0)
    assert "share their location" in caplog.text and "shuffled" not in caplog.text


def test_collapse_does_not_depend_on_the_row_order():
    df = _mixed_sites()
    perm = np.random.default_rng(5).permutation(len(df))
    kw = {"scales": ["nn20"], "scores": ["marked"], "bootstrap": 0, "duplicates": "collapse"}
    a = pygbs.score(df, **kw)
    b = pygbs.score(df.iloc[perm].reset_index(drop=True), **kw)
    key = ["lon", "lat"]
    ca = a.centres.sort_values(key).reset_index(drop=True)
    cb = b.centres.sort_values(key).reset_index(drop=True)
    np.testing.assert_allclose(ca["marked_ssi"], cb["marked_ssi"], rtol=1e-9)
    # a tie (one +1 and one -1 at a site) takes the worst mark, whichever row comes first
    two = pd.DataFrame({"lon": [1.0, 1.0, 2.0, 3.0, 4.0, 5.0], "lat": [0.0] * 6,
                        "hit@1": [1, 0, 1, 1, 0, 1]})  # fmt: skip
    for rows in ([0, 1, 2, 3, 4, 5], [1, 0, 2, 3, 4, 5]):
        r = pygbs.score(two.iloc[rows].reset_index(drop=True), scales=["nn3"],
                        scores=["unmarked"], bootstrap=0, duplicates="collapse")  # fmt: skip
        assert r.coded.tolist()[0] == -1.0
