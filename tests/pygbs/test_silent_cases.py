"""Inputs that used to give a misleading number with exit 0.

- an nn scale larger than the table says that it means "all samples" (it did silently);
- a symbolic link in place of a folder of an output directory is refused, not written
  through;
- a ``centres.csv`` cut inside its last row is refused by ``map``/``report --from``;
- every sample at one location: the skip note does not suggest a larger scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pygbs
from pygbs.cli import main


def _one_location(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"lon": np.full(n, 10.0), "lat": np.full(n, 20.0), "hit@1": rng.integers(0, 2, n)}
    )


def test_nn_scale_larger_than_the_table_says_so(tmp_path, caplog):
    df = _one_location(50)
    df["lon"] = np.linspace(0, 10, 50)
    with caplog.at_level("WARNING", logger="pygbs"):
        res = pygbs.score(df, scales=["nn999999"], bootstrap=0)
    assert "asks for the 999999 nearest samples, but the table has 50" in caplog.text
    assert (res.centres["n_neighbours"] == 50).all()
    f = tmp_path / "p.csv"
    df.to_csv(f, index=False)
    out = tmp_path / "o"
    caplog.clear()
    with caplog.at_level("WARNING", logger="pygbs"):
        res = CliRunner().invoke(main, ["score", str(f), "--scale", "nn999999", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "every neighbourhood at nn999999 holds all of them" in caplog.text


def test_a_link_in_place_of_an_output_subfolder_is_not_written_through(tmp_path):
    from pygbs.cli.outputs import output_dir

    def write(stage, files):
        for rel, text in files.items():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            (stage / rel).write_text(text)

    out = tmp_path / "out"
    with output_dir(out, "pygbs compare") as stage:
        write(stage, {"compare.csv": "1", "model_a/summary.json": "{}"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "summary.json").write_text("precious")
    import shutil

    shutil.rmtree(out / "model_a")
    (out / "model_a").symlink_to(outside, target_is_directory=True)
    with pytest.raises(pygbs.InputError, match="model_a: is a symbolic link"):  # noqa: SIM117
        with output_dir(out, "pygbs compare") as stage:
            write(stage, {"compare.csv": "2", "model_a/summary.json": "{2}"})
    assert (outside / "summary.json").read_text() == "precious"
    assert (out / "compare.csv").read_text() == "1"  # nothing half-written


def test_read_refuses_a_centres_csv_cut_inside_its_last_row(tmp_path):
    df = _one_location(60)
    df["lon"] = np.linspace(0, 5, 60)
    out = tmp_path / "scored"
    pygbs.score(df, scales=["nn10"], bootstrap=0).write(out)
    assert pygbs.GeoBiasResult.read(out).centres.shape[0] == 60
    path = out / "centres.csv"
    text = path.read_bytes()
    path.write_bytes(text[:-4])  # the last row loses its line break and a few digits
    with pytest.raises(pygbs.InputError, match="ends inside a row"):
        pygbs.GeoBiasResult.read(out)
    res = CliRunner().invoke(main, ["map", "--from", str(out), "--out", str(tmp_path / "maps")])
    assert res.exit_code == 2, res.output
    assert "ends inside a row" in res.output


def test_every_sample_at_one_location_does_not_suggest_a_larger_scale(tmp_path):
    f = tmp_path / "p.csv"
    _one_location(80).to_csv(f, index=False)
    res = CliRunner().invoke(
        main, ["score", str(f), "--scale", "nn50", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    assert "every sample at one location" in res.output
    assert "a larger scale" not in res.output
    assert "no scale helps" in res.output
