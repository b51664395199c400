"""``pygbs compare`` over real-world file sets: names, coordinates, empty files, datasets.

Covers: default and ``--name`` model names (repeated stems, the option named in the error),
files whose coordinates are the TorchSpatial wrap encoding (taken from ``--coords-from``
after a row-by-row check, recorded in summary.json), files without data (error or
``--skip-empty``), ``--locations own``, folders as arguments, the parsing of TorchSpatial
file names, ``--group-by dataset`` on a generated folder and on the 64 shared files, and
the README's own ``pygbs compare`` examples.
"""

from __future__ import annotations

import glob
import json
import logging
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pygbs
from pygbs.cli import main
from pygbs.datasets import copy_examples
from pygbs.errors import EmptyInputError, InputError
from pygbs.io.sources import unique_names
from pygbs.io.torchspatial import group_by_dataset, parse_eval_name

REPO = Path(__file__).resolve().parents[2]

#: The 64 file names of TorchSpatial's eval_results for yfcc, birdsnap_ebird_meta,
#: mosaiks_population and mosaiks_elevation (15 encoders + the baseline each).
ENCODERS = [
    "NeRF", "Space2Vec-grid", "Space2Vec-theory", "Sphere2Vec-dfs", "Sphere2Vec-sphereC+",
    "Sphere2Vec-sphereC", "Sphere2Vec-sphereM+", "Sphere2Vec-sphereM", "rbf", "rff",
    "spherical_harmonics", "tile_ffn", "wrap", "wrap_ffn", "xyz",
]  # fmt: skip
PREFIXES = {
    "birdsnap_ebird_meta": ("eval_birdsnap_ebird_meta_test_", "no_prior"),
    "yfcc": ("eval_yfcc__test_", "no_prior"),
    "mosaiks_population": ("eval_mosaiks_population__test_", "no_prior_regress"),
    "mosaiks_elevation": ("eval_mosaiks_elevation__test_", "no_prior_regress copy"),
}
NAMES_64 = [
    f"{prefix}{model}.csv.gz"
    for prefix, baseline in PREFIXES.values()
    for model in [*ENCODERS, baseline]
]


@pytest.fixture()
def runner():
    return CliRunner()


def _table(seed=0, n=80, lon0=5.0):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(lon0, lon0 + 10, n)
    lat = rng.uniform(40, 50, n)
    hit = (rng.random(n) < 0.3 + 0.04 * (lon - lon0)).astype(int)
    return pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit})


def _wrap_of(df):
    """TorchSpatial's wrap layout: lon/lat replaced by sin(pi lon/180), sin(pi lat/90)."""
    return df.assign(lon=np.sin(np.radians(df["lon"])), lat=np.sin(np.radians(2 * df["lat"])))


# --------------------------------------------------------------------------- names


def test_unique_names_add_parent_folders_only_where_stems_repeat():
    assert unique_names(["a/x.csv", "b/x.csv.gz", "c/y.parquet"]) == ["a/x", "b/x", "y"]
    assert unique_names(["/d/a/x.csv", "/e/a/x.csv", "z.csv"]) == ["d/a/x", "e/a/x", "z"]
    assert unique_names(["r/x.csv", "r/x.csv"]) == ["r/x", "r/x"]  # same file: reported later


def test_compare_default_names_are_unique_and_folders_safe(runner, tmp_path):
    df = _table()
    for run in ("run1", "run2"):
        (tmp_path / run).mkdir()
        df.to_csv(tmp_path / run / "predictions.csv", index=False)
    out = tmp_path / "o"
    files = [str(tmp_path / "run1" / "predictions.csv"), str(tmp_path / "run2" / "predictions.csv")]
    r = runner.invoke(main, ["compare", *files, "--scale", "nn10", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(out / "compare.csv")["model"]) == [
        "run1/predictions",
        "run2/predictions",
    ]
    folders = json.loads((out / "compare.json").read_text())["folders"]
    assert folders == {
        "run1/predictions": "run1_predictions",
        "run2/predictions": "run2_predictions",
    }
    assert (out / "run1_predictions" / "summary.json").is_file()


def test_compare_name_option(runner, tmp_path):
    df = _table()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    df.to_csv(a, index=False)
    df.to_csv(b, index=False)
    out = tmp_path / "o"
    args = ["compare", str(a), str(b), "--scale", "nn10", "--out", str(out)]
    r = runner.invoke(main, [*args, "--name", "small", "--name", "large"])
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(out / "compare.csv")["model"]) == ["small", "large"]
    r = runner.invoke(main, [*args, "--name", "same", "--name", "same"])
    assert r.exit_code == 2
    assert "model names repeat: 'same'" in r.output and "--name" in r.output
    r = runner.invoke(main, [*args, "--name", "only-one"])
    assert r.exit_code == 2 and "--name" in r.output and "1 names for 2 files" in r.output
    # the same file twice: the default names repeat and the error says how to fix it
    r = runner.invoke(main, ["compare", str(a), str(a), "--out", str(out)])
    assert r.exit_code == 2 and "--name NAME once per file" in r.output


def test_api_repeated_names_name_both_spellings():
    df = _table()
    with pytest.raises(InputError, match=r"names=\[\.\.\.\] in Python, --name NAME"):
        pygbs.compare([df, df], scales=["nn10"])


# --------------------------------------------------------------------------- coordinates


def test_wrap_file_takes_checked_coordinates_from_coords_from(runner, tmp_path):
    df = _table(n=120)
    deg, wrap, nop = tmp_path / "m_NeRF.csv", tmp_path / "m_wrap.csv", tmp_path / "m_nop.csv"
    df.to_csv(deg, index=False)
    w = _wrap_of(df).assign(**{"hit@1": 1 - df["hit@1"]})
    w.to_csv(wrap, index=False)
    df[["hit@1"]].to_csv(nop, index=False)
    out = tmp_path / "o"
    args = ["compare", str(deg), str(wrap), str(nop), "--scale", "300km", "--out", str(out)]
    r = runner.invoke(main, args)
    assert r.exit_code == 2 and "--coords-from" in r.output
    r = runner.invoke(main, [*args, "--coords-from", str(deg)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "compare.csv").set_index("model")
    assert list(table.index) == ["m_NeRF", "m_wrap", "m_nop"]
    # independent truth: the wrap model scored directly on the true degrees
    direct = pygbs.score(df.assign(**{"hit@1": 1 - df["hit@1"]}), scales=["300km"])
    assert table.loc["m_wrap", "marked_ssi@300km"] == pytest.approx(
        direct.headline("marked", "300km")
    )
    assert table["unmarked_ssi@300km"].nunique() == 1  # same locations everywhere
    summary = json.loads((out / "m_wrap" / "summary.json").read_text())
    assert summary["input"]["coords_source"] == f"coords-from:{deg}"
    check = summary["input"]["coords_check"]
    assert check["encoding"] == "wrap" and check["rows_checked"] == 120
    assert check["max_abs_diff_lat"] <= check["tolerance_lat"]
    nop_summary = json.loads((out / "m_nop" / "summary.json").read_text())
    assert nop_summary["input"]["coords_source"] == f"coords-from:{deg}"
    assert nop_summary["input"]["coords_check"]["kind"] == "row-count"
    own = json.loads((out / "m_NeRF" / "summary.json").read_text())["input"]
    assert own["coords_source"] == "file" and own["coords_check"] is None
    info = json.loads((out / "compare.json").read_text())
    assert info["models"]["m_wrap"]["coords_source"] == f"coords-from:{deg}"
    # 'auto' picks the degree file itself
    r = runner.invoke(main, [*args, "--coords-from", "auto"])
    assert r.exit_code == 0, r.output
    info = json.loads((out / "compare.json").read_text())
    assert info["coords_from"] == "auto" and info["coords_reference"] == str(deg)


def test_wrap_file_of_other_rows_is_refused_or_skipped(runner, tmp_path):
    df = _table(n=60)
    deg, wrap = tmp_path / "deg.csv", tmp_path / "wrap.csv"
    df.to_csv(deg, index=False)
    _wrap_of(df.iloc[::-1].reset_index(drop=True)).to_csv(wrap, index=False)
    out = tmp_path / "o"
    args = ["compare", str(deg), str(wrap), "--coords-from", str(deg), "--scale", "nn10"]
    r = runner.invoke(main, [*args, "--out", str(out)])
    assert r.exit_code == 2 and not out.exists()
    line = r.output.strip()
    assert "\n" not in line and f"{wrap}: column 'lon', row 0: value" in line
    assert "--skip-unlocated" in line
    r = runner.invoke(main, [*args, "--skip-unlocated", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(out / "compare.csv")["model"]) == ["deg"]
    assert str(wrap) in json.loads((out / "compare.json").read_text())["skipped"]


def test_encoded_file_without_coords_from_gets_a_hint(tmp_path):
    df = _table()
    with pytest.raises(InputError, match=r"look encoded.*--coords-from"):
        pygbs.compare([df, _wrap_of(df)], names=["a", "w"], scales=["nn10"])


def test_locations_own_scores_each_model_on_its_locations(runner, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    da, db = _table(seed=1), _table(seed=2, n=90)
    da.to_csv(a, index=False)
    db.to_csv(b, index=False)
    out = tmp_path / "o"
    args = ["compare", str(a), str(b), "--scale", "nn10", "--out", str(out)]
    r = runner.invoke(main, args)
    assert r.exit_code == 2 and "locations differ" in r.output and "--locations own" in r.output
    r = runner.invoke(main, [*args, "--locations", "own"])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "compare.csv").set_index("model")
    assert table.loc["b", "n"] == 90
    direct = pygbs.score(db, scales=["nn10"]).headline("marked", "nn10")
    assert table.loc["b", "marked_ssi@nn10"] == pytest.approx(direct)
    assert json.loads((out / "compare.json").read_text())["locations"] == "own"


# --------------------------------------------------------------------------- empty files


def test_empty_file_is_an_error_or_skipped(runner, tmp_path):
    df = _table()
    a, empty, nans = tmp_path / "a.csv", tmp_path / "empty.csv", tmp_path / "nans.csv"
    df.to_csv(a, index=False)
    empty.write_text("\n")
    nans.write_text("lon,lat,hit@1\n,,\n,,\n")
    out = tmp_path / "o"
    args = ["compare", str(a), str(empty), str(nans), "--scale", "nn10", "--out", str(out)]
    r = runner.invoke(main, args)
    assert r.exit_code == 2 and not out.exists()
    line = r.output.strip()
    assert (
        line
        == f"error: {empty}: the file is empty; pass --skip-empty (skip_empty=True) to leave it out"
    )
    r = runner.invoke(main, [*args, "--skip-empty"])
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(out / "compare.csv")["model"]) == ["a"]
    skipped = json.loads((out / "compare.json").read_text())["skipped"]
    assert set(skipped) == {str(empty), str(nans)}
    assert "none of the 2 rows has both coordinates" in skipped[str(nans)]
    with pytest.raises(InputError, match="nothing left to compare"):
        pygbs.compare([empty], skip_empty=True)
    with pytest.raises(EmptyInputError):
        pygbs.compare([empty, a])


# --------------------------------------------------------------------------- TorchSpatial names


def test_parse_all_64_torchspatial_names():
    parsed = [parse_eval_name(n) for n in NAMES_64]
    assert all(p is not None for p in parsed)
    by_dataset: dict[str, list[str]] = {}
    for p in parsed:
        assert p.split == "test"
        by_dataset.setdefault(p.dataset, []).append(p.model)
    assert set(by_dataset) == set(PREFIXES)
    for dataset, models in by_dataset.items():
        assert models == [*ENCODERS, PREFIXES[dataset][1]]
    assert parse_eval_name("preds.csv") is None and parse_eval_name("eval__test_x.csv") is None
    groups = group_by_dataset(NAMES_64)
    assert [g.label for g in groups] == list(PREFIXES)
    for g in groups:
        assert g.models == [*ENCODERS, "no_prior"]  # 'copy' and '_regress' folded
    # a clash keeps the file's own name; several splits get their own column group
    g = group_by_dataset(["eval_a__test_m.csv", "eval_a__test_m copy.csv", "eval_a__val_m.csv"])
    assert [(x.label, x.models) for x in g] == [("a-test", ["m", "m copy"]), ("a-val", ["m"])]
    with pytest.raises(InputError, match=r"preds\.csv: cannot tell the dataset"):
        group_by_dataset(["eval_a__test_m.csv", "preds.csv"])


def _write_dataset(folder, prefix, df, models, *, wrap=True, no_prior=True, empty=False):
    for i, m in enumerate(models):
        df.assign(**{"hit@1": (df["hit@1"] + i) % 2}).to_csv(folder / f"{prefix}{m}.csv.gz")
    if wrap:
        _wrap_of(df).to_csv(folder / f"{prefix}wrap.csv.gz")
    if no_prior:
        df[["hit@1"]].to_csv(folder / f"{prefix}no_prior copy.csv")
    if empty:
        (folder / f"{prefix}broken.csv").write_text("\n")


def test_group_by_dataset_on_a_generated_folder(runner, tmp_path):
    folder = tmp_path / "eval_results"
    folder.mkdir()
    da, db = _table(seed=3, n=100), _table(seed=4, n=70, lon0=-20)
    _write_dataset(folder, "eval_alpha_meta_test_", da, ["NeRF", "xyz"], empty=True)
    _write_dataset(folder, "eval_beta__test_", db, ["NeRF"], no_prior=False)
    out = tmp_path / "o"
    args = ["compare", str(folder), "--group-by", "dataset", "--scale", "nn10", "--out", str(out)]
    # --strict: the empty file is a problem, nothing is scored or written
    r = runner.invoke(main, [*args, "--strict"])
    assert r.exit_code == 2 and "alpha_meta: " in r.output and "--skip-empty" in r.output
    assert not out.exists()
    r = runner.invoke(main, args)  # by default it is skipped with a warning
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "compare.csv")
    assert list(table["model"]) == ["no_prior", "NeRF", "wrap", "xyz"]  # file-name order
    assert list(table.columns[:3]) == ["model", "alpha_meta/accuracy", "alpha_meta/n"]
    assert "beta/marked_ssi@nn10" in table.columns
    t = table.set_index("model")
    assert np.isnan(t.loc["xyz", "beta/n"]) and np.isnan(t.loc["no_prior", "beta/n"])
    assert t.loc["wrap", "beta/n"] == 70
    # each dataset's folder is that dataset's usual compare output
    sub = pd.read_csv(out / "alpha_meta" / "compare.csv").set_index("model")
    for col in sub.columns:
        np.testing.assert_allclose(t.loc[sub.index, f"alpha_meta/{col}"], sub[col])
    direct = pygbs.score(da, scales=["nn10"]).headline("marked", "nn10")
    assert t.loc["wrap", "alpha_meta/marked_ssi@nn10"] == pytest.approx(direct)
    summary = json.loads((out / "alpha_meta" / "wrap" / "summary.json").read_text())
    assert (
        summary["input"]["coords_source"]
        == f"coords-from:{folder / 'eval_alpha_meta_test_NeRF.csv.gz'}"
    )
    doc = json.loads((out / "compare.json").read_text())
    assert doc["datasets"]["alpha_meta"]["coords_reference"].endswith(
        "eval_alpha_meta_test_NeRF.csv.gz"
    )
    assert list(doc["datasets"]["alpha_meta"]["skipped"]) == [
        str(folder / "eval_alpha_meta_test_broken.csv")
    ]
    md = (out / "compare.md").read_text()
    assert md.startswith("| model | alpha_meta accuracy |") and "| xyz |" in md and "–" in md
    # compact cells: "x [lo, hi]" of the per-dataset table, to 3 significant digits
    row = t.loc["wrap"]
    cell = (
        f"{row['alpha_meta/marked_ssi@nn10']:.3g} [{row['alpha_meta/marked_ssi@nn10_ci_low']:.3g}, "
        f"{row['alpha_meta/marked_ssi@nn10_ci_high']:.3g}]"
    )
    assert f"| {cell} |" in md
    # one long table: a row per dataset, model, score and scale, the summary's numbers
    long = pd.read_csv(out / "compare_long.csv")
    assert list(long.columns[:7]) == [
        "dataset", "model", "score", "scale", "value", "ci_low", "ci_high"
    ]  # fmt: skip
    # alpha: no_prior, NeRF, xyz, wrap; beta: NeRF, wrap; unmarked, marked SSI and spread
    assert len(long) == (4 + 2) * 3
    agg = summary["aggregates"]["marked_ssi"]["nn10"]
    hit = long[
        (long.dataset == "alpha_meta") & (long.model == "wrap") & (long.score == "marked_ssi")
    ]
    assert hit["value"].item() == pytest.approx(agg["mean"])
    assert hit["n_scored"].item() == agg["n_scored"]
    # every dataset shares its locations: paired tests for both, in one pairs.csv
    pairs = pd.read_csv(out / "pairs.csv")
    assert set(pairs["dataset"]) == {"alpha_meta", "beta"}
    decisions = json.loads((out / "summary.json").read_text())["datasets"]
    assert decisions["alpha_meta"]["locations"] == "same" and decisions["alpha_meta"]["pairs"]
    assert list(decisions["alpha_meta"]["skipped"]) == [
        str(folder / "eval_alpha_meta_test_broken.csv")
    ]
    r = runner.invoke(main, [*args, "--name", "x"])
    assert r.exit_code == 2 and "--name" in r.output


# --------------------------------------------------------------------------- shared files


@pytest.mark.shared
def test_group_by_dataset_on_the_64_torchspatial_files(predictions_dir, runner, tmp_path, caplog):
    folder = predictions_dir / "torchspatial"
    assert sorted(p.name for p in folder.glob("eval_*")) == sorted(NAMES_64)
    out = tmp_path / "ts"
    args = ["compare", str(folder), "--group-by", "dataset", "--scale", "100km",
            "--centres", "30", "--score", "marked", "--out", str(out)]  # fmt: skip
    # --strict: every problem at once, before any scoring: the MOSAIKS wrap files cannot
    # be placed and mosaiks_population's relative errors have many near-zero labels
    with caplog.at_level(logging.ERROR, logger="pygbs.by_dataset"):
        r = runner.invoke(main, [*args, "--strict"])
    assert r.exit_code == 2 and "3 problems in the input files, nothing was scored" in r.output
    assert not out.exists()
    errors = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.ERROR]
    assert len(errors) == 3  # one line each
    for err, what in zip(errors, ("eval_mosaiks_elevation__test_wrap",
                                  "eval_mosaiks_population__test_wrap",
                                  "have labels near zero"), strict=True):  # fmt: skip
        assert what in err and "\n" not in err
    # forcing shared locations is a problem of the MOSAIKS datasets, found before scoring
    r = runner.invoke(main, [*args, "--locations", "same"])
    assert r.exit_code == 2 and "locations differ" in r.output and not out.exists()
    # the defaults: no extra option needed
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "compare.csv").set_index("model")
    assert list(table.index) == ["no_prior", *ENCODERS]
    # a column group per dataset: accuracy (R² and MAE for regression), n, the scores
    # (with the spread of local accuracy), their intervals, then the accuracy-matched null
    assert [c.split("/")[1] for c in table.columns[:6]] == [
        "accuracy", "n", "marked_ssi@100km", "spread@100km", "marked_ssi@100km_ci_low",
        "spread@100km_ci_low",
    ]  # fmt: skip
    assert "birdsnap_ebird_meta/marked_ssi@100km_excess" in table.columns
    assert [c.split("/")[1] for c in table.columns if c.startswith("mosaiks_elevation/")][:3] == [
        "r2", "mae", "n"
    ]  # fmt: skip
    decisions = json.loads((out / "summary.json").read_text())["datasets"]
    assert {d: v["locations"] for d, v in decisions.items()} == {
        "birdsnap_ebird_meta": "same", "mosaiks_elevation": "own",
        "mosaiks_population": "own", "yfcc": "same",
    }  # fmt: skip
    assert decisions["mosaiks_population"]["value"] == "absolute_error"
    assert decisions["mosaiks_elevation"]["value"] == "auto"  # ~1 % near-zero labels: kept
    pairs = pd.read_csv(out / "pairs.csv")
    assert set(pairs["dataset"]) == {"birdsnap_ebird_meta", "yfcc"}  # datasets sharing locations
    # each encoder against no_prior: marked SSI, its excess, the spread and its excess
    assert len(pairs) == 2 * len(ENCODERS) * 4
    pop = json.loads((out / "mosaiks_population" / "NeRF" / "summary.json").read_text())
    assert pop["input"]["value_name"] == "absolute_error"
    raw = pd.read_csv(folder / "eval_mosaiks_population__test_NeRF.csv.gz")
    assert pop["input"]["mae"] == pytest.approx(np.mean(np.abs(raw.predictions - raw.labels)))
    doc = json.loads((out / "compare.json").read_text())["datasets"]
    n_files = sum(len(d["files"]) for d in doc.values())
    n_scored = sum(len(d["models"]) for d in doc.values())
    assert n_files == 64 and n_scored + sum(len(d["skipped"]) for d in doc.values()) == 64
    for ds in ("mosaiks_elevation", "mosaiks_population"):  # wrap cannot be placed there
        assert list(doc[ds]["skipped"]) == [doc[ds]["files"]["wrap"]]
        assert np.isnan(table.loc["wrap", f"{ds}/n"])
    for ds, n in (("birdsnap_ebird_meta", 2217), ("yfcc", 17798)):
        assert (table[f"{ds}/n"] == n).all()
        wrap = doc[ds]["models"]["wrap"]
        assert wrap["coords_source"].startswith("coords-from:")
        assert wrap["coords_source"].endswith("_NeRF.csv.gz")  # the shared locations
        assert wrap["coords_check"]["max_abs_diff_lon"] < 1e-6
        assert doc[ds]["models"]["no_prior"]["coords_check"]["kind"] == "row-count"
    # independent truth for one cell: the birdsnap wrap model on NeRF's degrees
    nerf = pd.read_csv(folder / "eval_birdsnap_ebird_meta_test_NeRF.csv.gz")
    wrap = pd.read_csv(folder / "eval_birdsnap_ebird_meta_test_wrap.csv.gz")
    direct = pygbs.score(
        wrap.assign(lon=nerf["lon"], lat=nerf["lat"]).drop(columns="Unnamed: 0"),
        scales=["100km"], scores=["marked"], centres=30,
    )  # fmt: skip
    assert table.loc["wrap", "birdsnap_ebird_meta/marked_ssi@100km"] == pytest.approx(
        direct.headline("marked", "100km")
    )
    assert (out / "mosaiks_elevation" / "no_prior" / "summary.json").is_file()


def _readme_commands(tool: str) -> list[list[str]]:
    """The README's ``<tool> ...`` commands (continuation lines joined)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    commands = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith(f"{tool} "):
                commands.append(shlex.split(line)[1:])
    return commands


def _readme_folder(folder: Path, predictions_dir: Path) -> None:
    """``folder`` as the README's commands expect it: the shipped example files in
    ``examples/`` and TorchSpatial's published files as ``eval_results/``."""
    copy_examples(folder / "examples")
    (folder / "eval_results").symlink_to(predictions_dir / "torchspatial")


@pytest.mark.shared
def test_readme_compare_examples_run(predictions_dir, runner, tmp_path, monkeypatch):
    commands = [c for c in _readme_commands("pygbs") if c[0] == "compare"]
    assert len(commands) >= 2  # the one-dataset and the whole-folder examples
    _readme_folder(tmp_path, predictions_dir)
    monkeypatch.chdir(tmp_path)
    for i, cmd in enumerate(commands):
        args: list[str] = []
        for a in cmd:  # the shell's glob expansion
            args.extend(sorted(glob.glob(a)) if "*" in a else [a])
        out = tmp_path / f"out{i}"
        args[args.index("--out") + 1] = str(out)
        r = runner.invoke(main, [*args, "--centres", "30"])
        assert r.exit_code == 0, (cmd, r.output)
        assert (out / "compare.csv").is_file() and (out / "compare.md").is_file()
        if "--group-by" in cmd:  # the whole folder, no option beyond --scale and --out
            assert [a for a in cmd if a.startswith("--")] == ["--group-by", "--scale", "--out"]
            pairs = pd.read_csv(out / "pairs.csv")  # every dataset that shares locations
            assert set(pairs["dataset"]) == {"birdsnap_ebird_meta", "yfcc"}


@pytest.mark.shared
def test_readme_score_example_runs(predictions_dir, runner, tmp_path, monkeypatch):
    commands = [c for c in _readme_commands("pygbs") if c[0] == "score"]
    assert commands
    _readme_folder(tmp_path, predictions_dir)
    monkeypatch.chdir(tmp_path)
    for cmd in commands:
        args = list(cmd)
        args[args.index("--out") + 1] = str(tmp_path / "o")
        r = runner.invoke(main, [*args, "--centres", "30"])
        assert r.exit_code == 0, (cmd, r.output)


@pytest.mark.shared
def test_readme_python_example_runs(predictions_dir, tmp_path, monkeypatch):
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    real_score = pygbs.score
    monkeypatch.setattr(pygbs, "score", lambda *a, **k: real_score(*a, centres=30, **k))
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102
    assert list(tmp_path.glob("out/*/summary.json"))


def test_score_takes_wrap_coordinates_from_coords_from(runner, tmp_path):
    df = _table(n=60)
    deg, wrap = tmp_path / "deg.csv", tmp_path / "wrap.csv"
    df.to_csv(deg, index=False)
    _wrap_of(df).to_csv(wrap, index=False)
    out = tmp_path / "o"
    r = runner.invoke(
        main, ["score", str(wrap), "--coords-from", str(deg), "--scale", "nn10", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["input"]["coords_source"] == f"coords-from:{deg}"
    centres = pd.read_csv(out / "centres.csv")
    np.testing.assert_allclose(centres["lon"], df["lon"])
    # a file with its own degrees is refused: coords_from is not for it
    r = runner.invoke(main, ["score", str(deg), "--coords-from", str(deg), "--out", str(out)])
    assert r.exit_code == 2 and "already has coordinate" in r.output
