"""What ``import pygbs`` and ``pygbs --help`` load, and the lazily imported public API.

Start-up behaviour is checked in fresh interpreters through ``sys.modules`` (which modules
got imported), never through wall-clock times.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import pytest

import pygbs

#: Modules that only a running command (scoring, maps, reports) needs.
HEAVY = (
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "numba",
    "sklearn",
    "matplotlib",
    "geopandas",
    "shapely",
    "pyproj",
    "esda",
    "libpysal",
    "torch",
    "pygbs._kernels",
    "pygbs.api",
    "pygbs.plot",
)


def _loaded_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; the :data:`HEAVY` modules it imported."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json, sys
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=120
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_probe_sees_heavy_imports():
    # the probe itself can fail: scoring imports numpy, pandas, numba and the kernels
    loaded = _loaded_after("import pygbs; pygbs.score")
    assert {"numpy", "pandas", "numba", "pygbs._kernels", "pygbs.api"} <= set(loaded)


def test_import_pygbs_loads_nothing_heavy():
    assert _loaded_after("import pygbs") == []


def test_version_and_errors_load_nothing_heavy():
    assert _loaded_after("import pygbs; pygbs.__version__; pygbs.InputError") == []


@pytest.mark.parametrize(
    "args", [["--help"], ["score", "--help"], ["compare", "--help"], ["map", "--help"]]
)
def test_cli_help_loads_nothing_heavy(args):
    code = f"""
    from pygbs.cli import main
    try:
        main({args!r})
    except SystemExit as err:
        assert err.code == 0, err.code
    """
    assert _loaded_after(code) == []


def test_all_lists_every_public_name_and_each_resolves():
    expected = {
        "EARTH_RADIUS_KM",
        "SCORE_COLUMNS",
        "Aggregate",
        "Coding",
        "Comparison",
        "GeoBiasResult",
        "InputError",
        "Neighbourhoods",
        "Predictions",
        "Profile",
        "RegionResult",
        "Scale",
        "SphereIndex",
        "code_performance",
        "compare",
        "compare_by_dataset",
        "copy_examples",
        "example_files",
        "example_path",
        "parse_scale",
        "profile",
        "read_predictions",
        "regions",
        "scale_range",
        "score",
        "sri_scores",
        "ssi_scores",
        "__version__",
    }
    assert set(pygbs.__all__) == expected
    assert expected <= set(dir(pygbs))
    homes = {
        "score": "pygbs.api",
        "compare": "pygbs.comparing",
        "compare_by_dataset": "pygbs.by_dataset",
        "GeoBiasResult": "pygbs.results.result",
        "SCORE_COLUMNS": "pygbs.results.result",
        "ssi_scores": "pygbs.stats.ssi",
        "sri_scores": "pygbs.stats.sri",
        "SphereIndex": "pygbs.geo.neighbours",
        "parse_scale": "pygbs.geo.scales",
        "read_predictions": "pygbs.io.predictions",
        "regions": "pygbs.regional",
        "RegionResult": "pygbs.results.regions",
    }
    for name, module in homes.items():
        assert getattr(pygbs, name) is getattr(importlib.import_module(module), name)
    for name in expected:
        assert getattr(pygbs, name) is not None
    assert pygbs.__version__.count(".") >= 1


def test_star_import_gives_the_public_names():
    namespace: dict[str, object] = {}
    exec("from pygbs import *", namespace)
    assert namespace["score"] is pygbs.score
    assert namespace["InputError"] is pygbs.InputError


def test_submodules_are_attributes_and_unknown_names_raise():
    assert pygbs.api.score is pygbs.score
    assert pygbs.geo.scales.parse_scale("nn7").k == 7
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        pygbs.no_such_name  # noqa: B018
    with pytest.raises(AttributeError):
        pygbs.__no_such_dunder__  # noqa: B018


def test_cli_version_is_the_package_version():
    from click.testing import CliRunner

    from pygbs.cli import main

    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0
    assert r.output.strip() == f"pygbs, version {pygbs.__version__}"


def test_scoring_imports_neither_scipy_stats_nor_scipy_spatial():
    # both cost a large part of a command's start-up (docs/benchmarks.md); the rotation
    # matrices, q-values and t quantiles are computed without them
    code = """
    import json, sys
    import numpy as np
    import pandas as pd
    import pygbs
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"lon": rng.uniform(5, 9, 150), "lat": rng.uniform(45, 48, 150),
                          "hit@1": rng.integers(0, 2, 150).astype(float)})
    res = pygbs.score(table, scales=["100km"], scores=("unmarked", "marked"))
    agg = res.summary["aggregates"]["marked_ssi"]["100km"]
    assert agg["ci_low"] < agg["mean"] < agg["ci_high"], agg
    assert agg["share_significant_fdr"] is not None, agg
    print(json.dumps([m for m in ("scipy.stats", "scipy.spatial") if m in sys.modules]))
    """
    res = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == []
