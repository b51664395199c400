"""The example prediction files that ship with pygbs and ``pygbs example-data``."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pygbs.cli import main
from pygbs.datasets import (
    EXAMPLE_MODELS,
    copy_examples,
    example_files,
    example_path,
)
from pygbs.errors import InputError
from pygbs.io.predictions import read_predictions


def _raw(path) -> pd.DataFrame:
    """The file as plain pandas reads it (independent of pygbs' readers)."""
    return pd.read_csv(io.BytesIO(gzip.decompress(path.read_bytes())), index_col=0)


def test_the_files_ship_small_with_licence_and_source():
    paths = example_files()
    assert [p.name for p in paths] == [
        f"eval_birdsnap_ebird_meta_test_{m}.csv.gz" for m in EXAMPLE_MODELS
    ]
    assert all(p.is_file() for p in paths)
    assert sum(p.stat().st_size for p in paths) < 2_000_000
    folder = paths[0].parent
    assert "MIT License" in (folder / "LICENSE.txt").read_text()
    source = (folder / "SOURCE.txt").read_text()
    assert "9f8d83361d84da2524596ad099d797d550e76139" in source
    assert "seai-lab/TorchSpatial" in source


def test_the_files_are_byte_identical_to_the_published_ones(predictions_dir):
    for path in example_files():
        assert path.read_bytes() == (predictions_dir / "torchspatial" / path.name).read_bytes()


def test_the_files_hold_what_their_source_note_says():
    nerf = _raw(example_path("NeRF"))
    assert len(nerf) == 2262
    assert nerf[["lon", "lat"]].isna().any(axis=1).sum() == 45
    assert set(np.unique(nerf["hit@1"])) == {0.0, 1.0}
    assert "lon" not in _raw(example_path("no_prior")).columns
    wrap = _raw(example_path("wrap")).dropna()
    assert wrap["lon"].abs().max() <= 1.0 and wrap["lat"].abs().max() <= 1.0
    pred = read_predictions(example_path("NeRF"))
    assert (len(pred), pred.n_rows, pred.n_missing_coords) == (2262 - 45, 2262, 45)


def test_example_path_rejects_an_unknown_model():
    with pytest.raises(InputError, match="no example file for model 'GPT'"):
        example_path("GPT")


def test_copy_examples_is_idempotent_and_refuses_other_content(tmp_path):
    dest = tmp_path / "a" / "b"
    paths = copy_examples(dest)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in example_files()]
    assert (dest / "LICENSE.txt").is_file() and (dest / "SOURCE.txt").is_file()
    assert copy_examples(dest) == paths  # the same content: nothing to do
    (dest / "SOURCE.txt").write_text("mine")
    with pytest.raises(InputError, match="SOURCE.txt: exists with other content"):
        copy_examples(dest)
    assert (dest / "SOURCE.txt").read_text() == "mine"
    copy_examples(dest, overwrite=True)
    assert "TorchSpatial" in (dest / "SOURCE.txt").read_text()
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]  # no temporaries


def test_copy_examples_into_a_file_is_an_error(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="exists and is not a folder"):
        copy_examples(tmp_path / "f")


def test_the_command_copies_and_fails_with_one_line(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["example-data", str(tmp_path / "ex")])
    assert res.exit_code == 0, res.output
    assert "7 prediction files of birdsnap_ebird_meta" in res.output
    assert len(list((tmp_path / "ex").glob("*.csv.gz"))) == 7
    (tmp_path / "ex" / example_path("xyz").name).write_bytes(b"")
    res = runner.invoke(main, ["example-data", str(tmp_path / "ex")])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0
    assert "eval_birdsnap_ebird_meta_test_xyz.csv.gz: exists with other content" in res.output
