"""Golden outputs of the shipped-data cases and the public API (tests/goldens).

Byte identity is checked by ``python -m tests.goldens check`` on the machine that froze
them; here, on any machine, every frozen file must come back with the same structure,
the same text and numbers equal to a relative 1e-9 (numba's machine code may differ by
CPU in the last bits).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from tests.goldens.cases import CASES, FROZEN, api_snapshot, output_files, run_case

SHIPPED_CASES = [c for c in CASES if not c.shared]
RTOL = 1e-9


def _close(a: object, b: object, where: str) -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), where
        if math.isnan(a) or math.isnan(b):
            assert math.isnan(a) and math.isnan(b), where
        else:
            assert math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12), f"{where}: {a} != {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _compare_file(got: Path, want: Path, rel: str) -> None:
    if rel.endswith(".json"):
        _close(json.loads(got.read_text()), json.loads(want.read_text()), rel)
    elif rel.endswith(".csv"):
        g, w = pd.read_csv(got), pd.read_csv(want)
        assert list(g.columns) == list(w.columns), rel
        assert len(g) == len(w), rel
        for col in w.columns:
            if pd.api.types.is_numeric_dtype(w[col]):
                pd.testing.assert_series_equal(
                    g[col], w[col], rtol=RTOL, atol=1e-12, check_dtype=False, obj=f"{rel}:{col}"
                )
            else:
                assert g[col].equals(w[col]), f"{rel}:{col}"
    elif rel.endswith(".md"):
        # numbers are printed with 4 significant digits; a last-digit flip is tolerated
        gl, wl = got.read_text().splitlines(), want.read_text().splitlines()
        assert len(gl) == len(wl), rel
        mism = sum(a != b for a, b in zip(gl, wl))
        assert mism <= 2, f"{rel}: {mism} lines differ"
    else:
        assert got.read_bytes() == want.read_bytes(), rel


@pytest.mark.parametrize("case", SHIPPED_CASES, ids=[c.name for c in SHIPPED_CASES])
def test_shipped_golden(case, tmp_path):
    res = run_case(case, tmp_path / "out")
    assert res.returncode == 0, res.stderr
    files = output_files(tmp_path / "out")
    hashes = json.loads((FROZEN / "hashes.json").read_text())[case.name]
    assert sorted(files) == sorted(hashes)
    frozen = [p for p in (FROZEN / case.name).rglob("*") if p.is_file()]
    assert frozen, "nothing frozen for this case"
    for want in frozen:
        rel = want.relative_to(FROZEN / case.name).as_posix()
        _compare_file(files[rel], want, rel)


def test_public_api_unchanged():
    want = json.loads((FROZEN / "api.json").read_text())
    got = api_snapshot()
    for pkg in want:
        assert sorted(got[pkg]) == sorted(want[pkg]), f"{pkg}: public names changed"
        for name, sig in want[pkg].items():
            assert got[pkg][name] == sig, f"{pkg}.{name}: {got[pkg][name]} != {sig}"
