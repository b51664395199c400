"""The options of the statistics: one declaration each, and everything derived from it.

Each option is a field of a frozen dataclass (:mod:`pygbs.stats.options`, and one class per
statistic family in :mod:`pygbs.stats.scores`). These tests check that the command line,
:func:`pygbs.score`, the public array functions and encoders' loss kinds agree with the
declarations, and that every bad value stops with one line naming the option.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pygbs
from pygbs.cli import main
from pygbs.errors import InputError
from pygbs.stats.options import SAME, CommonOptions, option_fields
from pygbs.stats.registry import REGISTRY, option_classes
from pygbs.stats.scores.sri import SRIOptions
from pygbs.stats.scores.ssi import SSIOptions
from pygbs.stats.scoring import PARAMETER_ORDER, ScoringOptions

CLASSES = (CommonOptions, *option_classes())
FIELDS = [(cls, f, spec) for cls in CLASSES for f, spec in option_fields(cls)]
COMMANDS = ("score", "compare", "profile", "map", "report")


def test_every_option_is_declared_once_with_help_and_a_valid_default():
    names = [f.name for _, f, _ in FIELDS]
    assert len(names) == len(set(names))
    flags = [spec.flag for _, _, spec in FIELDS if spec.flag]
    assert len(flags) == len(set(flags))
    for _, f, spec in FIELDS:
        assert spec.help.strip(), f.name
    for cls in CLASSES:
        cls()  # the defaults pass their own checks


def test_every_score_names_a_registered_options_class():
    for d in REGISTRY.values():
        assert d.options is None or d.options in option_classes()


def test_score_signature_has_every_option_with_its_declared_default():
    params = inspect.signature(pygbs.score).parameters
    for _, f, _ in FIELDS:
        assert f.name in params, f.name
        assert params[f.name].default == f.default, f.name
        assert params[f.name].kind is inspect.Parameter.KEYWORD_ONLY


def test_public_array_functions_default_to_the_declared_options():
    ssi = inspect.signature(pygbs.ssi_scores).parameters
    for name in ("method", "k", "presence", "graph", "permutations"):
        assert ssi[name].default == getattr(SSIOptions, name), name
    assert ssi["min_points"].default == CommonOptions.min_points
    assert ssi["seed"].default == CommonOptions.seed
    sri = inspect.signature(pygbs.sri_scores).parameters
    assert sri["n_splits"].default == SRIOptions.sri_sectors
    assert sri["threshold"].default == SRIOptions.sri_threshold
    assert sri["bins"].default == SRIOptions.sri_bins


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_every_flag_with_its_default(command):
    res = CliRunner().invoke(main, [command, "--help"], terminal_width=200)
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    for _, f, spec in FIELDS:
        if spec.flag is None:
            continue
        assert f" {spec.flag} " in text, spec.flag
        if not spec.multiple and spec.cli_default == SAME and f.default is not None:
            start = text.index(f" {spec.flag} ")
            assert f"[default: {f.default}" in text[start : start + 400], spec.flag


def test_command_line_defaults_are_the_library_defaults(tmp_path, monkeypatch):
    seen = {}

    def fake_score(source, **kwargs):
        seen.update(kwargs)
        raise InputError("stop here")

    monkeypatch.setattr(pygbs.api, "score", fake_score)
    f = tmp_path / "p.csv"
    pd.DataFrame({"lon": [0.0], "lat": [0.0], "hit@1": [1]}).to_csv(f, index=False)
    res = CliRunner().invoke(main, ["score", str(f), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "stop here" in res.output
    stats = {k: v for k, v in seen.items() if k in {f.name for _, f, _ in FIELDS}}
    assert ScoringOptions.build(**stats) == ScoringOptions.build()


def test_km_options_reach_the_library_in_radians(tmp_path, monkeypatch):
    seen = {}

    def fake_score(source, **kwargs):
        seen.update(kwargs)
        raise InputError("stop here")

    monkeypatch.setattr(pygbs.api, "score", fake_score)
    f = tmp_path / "p.csv"
    pd.DataFrame({"lon": [0.0], "lat": [0.0], "hit@1": [1]}).to_csv(f, index=False)
    CliRunner().invoke(main, ["score", str(f), "--sri-cell-km", "100", "--sri-lag-km",
                              "250", "--out", str(tmp_path / "o")])  # fmt: skip
    assert seen["sri_scale"] == pytest.approx(100 / pygbs.EARTH_RADIUS_KM, rel=1e-12)
    assert seen["sri_lag"] == pytest.approx(250 / pygbs.EARTH_RADIUS_KM, rel=1e-12)


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="unknown scoring option 'sri_cells'"):
        ScoringOptions.build(sri_cells=3)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("opts")
    rng = np.random.default_rng(5)
    n = 60
    df = pd.DataFrame({"lon": rng.uniform(0, 10, n), "lat": rng.uniform(40, 50, n),
                       "hit@1": rng.integers(0, 2, n)})  # fmt: skip
    df.to_csv(d / "p.csv", index=False)
    big = df.rename(columns={"hit@1": "relative_error"})
    big["relative_error"] = rng.uniform(0.1, 2.0, n)
    big.loc[7, "relative_error"] = 1e308
    big.to_csv(d / "big.csv", index=False)
    return d


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--score", "sri-grid", "--sri-cell-km", "nan"], ["sri_scale (--sri-cell-km)", "nan"]),
        (["--score", "sri-lag", "--sri-lag-km", "inf"], ["sri_lag (--sri-lag-km)", "inf"]),
        (["--seed", "-1"], ["seed (--seed)", "from 0 to 4294967295", "-1"]),
        (["--seed", "12345678901234567890"], ["seed (--seed)", "12345678901234567890"]),
        (["--score", "performance", "--min-points", "3"], ["min_points (--min-points)", "4"]),
        (["--bootstrap", "1"], ["--bootstrap", "at least 2"]),
        (["--k-max", "0"], ["k_max (--k-max)", ">= 1"]),
        (["--k", "0"], ["k (--k)", ">= 1"]),
        (["--ci", "1"], ["ci (--ci)", "< 1"]),
        (["--null-draws", "0"], ["null_draws (--null-draws)"]),
        (["--null", "accuracy", "--method", "permutation"], ["method 'pygbs' or 'analytic'"]),
    ],
)
@pytest.mark.parametrize("command", ["score", "compare"])
def test_bad_option_is_one_line_exit_2_naming_it(table, tmp_path, command, args, needles):
    out = tmp_path / "o"
    res = CliRunner().invoke(
        main, [command, str(table / "p.csv"), "--scale", "nn8", *args, "--out", str(out)]
    )
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    for needle in needles:
        assert needle in lines[0]
    assert not out.exists()


def test_values_too_large_for_the_sums_are_one_line(table, tmp_path):
    out = tmp_path / "o"
    res = CliRunner().invoke(main, ["score", str(table / "big.csv"), "--scale", "nn8", "--raw",
                                    "--out", str(out)])  # fmt: skip
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "'relative_error', row 7" in lines[0] and "1e+308" in lines[0]
    assert not out.exists()


def test_api_names_the_option_in_its_error():
    df = pd.DataFrame({"lon": [0.0], "lat": [0.0], "hit@1": [1]})
    with pytest.raises(InputError, match=r"^sri_bins \(--sri-bins\) must be an integer >= 1"):
        pygbs.score(df, sri_bins=0)
    with pytest.raises(InputError, match=r"^graph must be one of 'reference', 'strict'"):
        pygbs.score(df, graph="loose")
    with pytest.raises(InputError, match=r"^seed \(--seed\) must be an integer"):
        pygbs.score(df, seed=True)
    with pytest.raises(InputError, match=r"^unknown score 'geary-c'"):
        pygbs.score(df, scores=["geary-c"])


def test_summary_parameters_keep_their_published_order(table):
    res = pygbs.score(table / "p.csv", scales=["nn8"], scores=["marked", "sri-lag"],
                      bootstrap=0)  # fmt: skip
    keys = list(res.summary["parameters"])
    assert keys == [k for k in PARAMETER_ORDER if k in keys]
    assert set(PARAMETER_ORDER) <= set(keys)
    assert res.summary["parameters"]["sri"]["sectors"] == SRIOptions.sri_sectors
    json.dumps(res.summary["parameters"])


def test_loss_kinds_are_the_registry_surrogates():
    pytest.importorskip("torch")
    from encoders.losses import GEO_BIAS_KINDS

    want = {d.surrogate.kind: d for d in REGISTRY.values() if d.surrogate is not None}
    assert list(GEO_BIAS_KINDS) == list(want)
    for kind, d in want.items():
        assert GEO_BIAS_KINDS[kind].partition == d.surrogate.partition
        assert GEO_BIAS_KINDS[kind].background == d.surrogate.background


def _hook():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "docs" / "_hooks" / "score_table.py"
    spec = importlib.util.spec_from_file_location("score_table_hook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path.parents[1]


def test_docs_list_every_registered_score_and_option():
    hook, docs = _hook()
    method = (docs / "method.md").read_text()
    assert "<!-- score-table -->" in method and "<!-- score-options -->" in method
    page = hook.on_page_markdown(method, None, None, None)
    assert "<!-- score" not in page
    for d in REGISTRY.values():
        assert f"| `{d.name}` | `{d.column}` |" in page, d.name
    for _, f, spec in FIELDS:
        assert f"`{f.name}`" in page, f.name
        if spec.flag:
            assert f"| `{spec.flag}`" in page, spec.flag
