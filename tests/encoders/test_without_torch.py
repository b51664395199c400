"""Without PyTorch (``pip install geobias``): one line saying what to install.

PyTorch is hidden from a fresh interpreter with ``sys.modules["torch"] = None``, which
makes both ``import torch`` and ``importlib.util.find_spec("torch")`` see no torch. The
test that installs the built wheel into an environment without torch is
tests/test_install.py (slow).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HIDE = "import sys; sys.modules['torch'] = None; "


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HIDE + code],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("argv", [["--help"], ["list"], []])
def test_the_command_says_what_to_install(argv):
    proc = _run(f"sys.argv = ['encoders', *{argv!r}]; from encoders.cli import main; main()")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: the encoders need PyTorch")
    assert "pip install 'geobias[encoders]'" in proc.stderr


def test_import_works_and_every_name_raises_the_hint():
    proc = _run(
        "import encoders\n"
        "try:\n    encoders.build\n"
        "except ModuleNotFoundError as err:\n    print('hint:', err, err.name)\n"
        "from pygbs.cli import main\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "hint: the encoders need PyTorch" in proc.stdout
    assert proc.stdout.strip().endswith("torch")


def test_pygbs_never_imports_torch():
    code = (
        "import sys, pygbs, pygbs.cli, pygbs.plot, pygbs.datasets\n"
        "pygbs.score(pygbs.example_path('NeRF'), scales=['nn8'], scores=['unmarked'],"
        " centres=50, bootstrap=0)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]"
