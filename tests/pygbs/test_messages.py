"""Bad values that used to end as an unexpected error (exit 1) are usage errors (exit 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pygbs
from pygbs.cli import main


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    f = tmp_path / "p.csv"
    pd.DataFrame(
        {
            "lon": rng.uniform(0, 5, 40),
            "lat": rng.uniform(40, 45, 40),
            "hit@1": rng.integers(0, 2, 40),
        }
    ).to_csv(f, index=False)
    return f


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        (["--seed", "-1"], "--seed"),
        (["--seed", "12345678901234567890"], "--seed"),
        (["--score", "performance", "--min-points", "3"], "--min-points"),
    ],
)
def test_bad_values_are_usage_errors(table, tmp_path, extra, word):
    out = tmp_path / "o"
    res = CliRunner().invoke(
        main, ["score", str(table), "--scale", "nn10", *extra, "--out", str(out)]
    )
    assert res.exit_code == 2, res.output
    assert word in res.output
    assert "unexpected" not in res.output and not out.exists()


def test_library_refuses_the_same_values(table):
    with pytest.raises(pygbs.InputError, match="seed"):
        pygbs.score(table, scales=["nn10"], seed=-1, bootstrap=0)
    with pytest.raises(pygbs.InputError, match="at least 4 for the performance score"):
        pygbs.score(table, scales=["nn10"], scores=["performance"], min_points=2, bootstrap=0)


def test_encoders_seed_out_of_range_is_a_usage_error(tmp_path):
    from encoders.cli import main as encoders_main

    res = CliRunner().invoke(
        encoders_main,
        [
            "train",
            "--encoder",
            "xyz",
            "--dataset",
            "synthetic-vmf",
            "--seed",
            "-1",
            "--out",
            str(tmp_path / "x"),
        ],  # fmt: skip
    )
    assert res.exit_code == 2, res.output
    assert "--seed" in res.output


def test_one_bootstrap_replicate_is_refused(table, tmp_path):
    with pytest.raises(pygbs.InputError, match="at least 2"):
        pygbs.score(table, scales=["nn10"], bootstrap=1)
    res = CliRunner().invoke(
        main,
        ["score", str(table), "--scale", "nn10", "--bootstrap", "1", "--out", str(tmp_path / "o")],
    )
    assert res.exit_code == 2, res.output
    assert "--bootstrap" in res.output and "RuntimeWarning" not in res.output


def test_out_below_a_regular_file_names_the_file(table, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    out = blocker / "sub" / "out"
    res = CliRunner().invoke(main, ["score", str(table), "--scale", "nn10", "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert (
        res.output.strip()
        == f"error: {blocker}: is a file, not a directory; cannot create {out.parent} in it"
    )
