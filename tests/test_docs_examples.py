"""The examples of the documentation run, and every command line in it is valid.

Two checks keep the Markdown pages (docs/**/*.md, README.md) in step with the code:

- every bash or Python block marked ``<!-- example -->`` on the line before its opening
  fence runs (with bash, or this environment's Python), in a fresh folder holding small
  generated prediction files named as the docs name them (TorchSpatial's YFCC evaluation
  files) and ``examples/``, the example files that ship with pygbs as ``pygbs
  example-data examples`` writes them, with this environment's console scripts first on
  PATH; a failing command fails the test and shows its output. The pages a newcomer
  follows from the top (README, front page, quick start) run instead as pasted: all
  their examples in order, in one empty folder, starting with ``pygbs example-data``;
- every ``pygbs ...`` / ``encoders ...`` command line of any shell block or inline code
  span, and of the examples in the commands' own ``--help`` texts, names an existing
  subcommand and only existing options (checked against the click commands, nothing runs),
  so a renamed option breaks the tests even in examples too heavy to run.

Mark a block as an example only when it runs in seconds on the generated files.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest

from pygbs.datasets import copy_examples

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted((REPO / "docs").rglob("*.md")) + [REPO / "README.md"]
MARKER = "<!-- example -->"
_BLOCK = re.compile(
    r"^<!-- example -->[ \t]*\n```(bash|sh|python)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S
)
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_INLINE = re.compile(r"`((?:\S*/)?(?:pygbs|encoders) [^`\n]+)`")


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _examples() -> list[pytest.param]:
    params = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            ident = f"{_rel(page)}:{line}"
            params.append(pytest.param(match.group(1), match.group(2), id=ident))
    return params


EXAMPLES = _examples()
#: Pages a newcomer follows from top to bottom: their examples run in order, as pasted, in
#: one empty folder (nothing prepared: the first block fetches the example data).
AS_PASTED = ("README.md", "docs/index.md", "docs/quickstart.md")


def _page(param: pytest.param) -> str:
    return param.id.rsplit(":", 1)[0]


def test_every_marker_is_followed_by_a_shell_block():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        n_markers = len(re.findall(rf"^{MARKER}[ \t]*$", text, re.M))
        n_blocks = len(_BLOCK.findall(text))
        assert n_markers == n_blocks, (
            f"{_rel(page)}: {n_markers} '{MARKER}' markers but {n_blocks} bash or python "
            "blocks right after one (the marker goes on the line before the opening fence)"
        )


def test_the_guide_has_examples_for_each_task():
    pages = {p.id.split(":")[0] for p in EXAMPLES}
    for page in ("docs/index.md", "docs/quickstart.md", "docs/comparing.md", "docs/cluster.md"):
        assert page in pages, f"{page} has no executed example"
    commands = " ".join(p.values[1] for p in EXAMPLES if p.values[0] != "python")
    for command in ("pygbs score", "pygbs compare", "pygbs map", "pygbs report", "encoders zoo"):
        assert command in commands, f"no executed example runs {command!r}"


def _write_predictions(folder: Path) -> None:
    """Small TorchSpatial-style evaluation files: two encoders and a no-location baseline.

    600 samples over about 1000 x 800 km (so that 100 km neighbourhoods hold several
    samples); the NeRF model is better in the west, the xyz model nearly uniform.
    """
    rng = np.random.default_rng(0)
    n = 600
    lon = rng.uniform(-100.0, -90.0, n)
    lat = rng.uniform(35.0, 42.0, n)
    for name, slope in (("NeRF", 1.0), ("xyz", 0.1)):
        p = 1.0 / (1.0 + np.exp(slope * (lon + 95.0)))
        hit = (rng.random(n) < p).astype(float)
        hit3 = np.maximum(hit, (rng.random(n) < 0.5).astype(float))
        pd.DataFrame(
            {
                "lon": lon,
                "lat": lat,
                "true_class_prob": p,
                "reciprocal_rank": np.where(hit > 0, 1.0, 0.25),
                "hit@1": hit,
                "hit@3": hit3,
            }
        ).to_csv(folder / f"eval_yfcc__test_{name}.csv.gz")
    hit = (rng.random(n) < 0.4).astype(int)
    pd.DataFrame(
        {
            "true_class_prob": rng.random(n),
            "reciprocal_rank": np.where(hit > 0, 1.0, 0.2),
            "hit@1": hit,
            "hit@3": hit,
        }
    ).to_csv(folder / "eval_yfcc__test_no_prior.csv.gz")


@pytest.fixture(scope="module")
def prediction_files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("doc_predictions")
    _write_predictions(folder)
    copy_examples(folder / "examples")
    return folder


def _run_example(language: str, script: str, cwd: Path) -> None:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("NUMBA_CACHE_DIR", str(REPO / ".numba_cache"))
    env["MPLBACKEND"] = "Agg"
    if language == "python":
        argv = [sys.executable, "-c", script]
    else:
        argv = ["bash", "-euo", "pipefail", "-c", script]
    proc = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, (
        f"example failed with exit code {proc.returncode}:\n{script}\n"
        f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"
    )


@pytest.mark.parametrize(("language", "script"), [p for p in EXAMPLES if _page(p) not in AS_PASTED])
def test_example_runs(language, script, prediction_files, tmp_path):
    for path in prediction_files.iterdir():
        (tmp_path / path.name).symlink_to(path)
    _run_example(language, script, tmp_path)


@pytest.mark.parametrize("page", AS_PASTED)
def test_page_runs_as_pasted(page, tmp_path):
    blocks = [p.values for p in EXAMPLES if _page(p) == page]
    assert blocks, f"{page} has no example"
    assert "pygbs example-data" in blocks[0][1], f"{page}: the first example gets the data"
    for language, script in blocks:
        _run_example(language, script, tmp_path)


# --- every command line names existing subcommands and options -----------------------------


def _groups() -> dict[str, click.Group]:
    from encoders.cli import main as encoders_main
    from pygbs.cli import main as pygbs_main

    return {"pygbs": pygbs_main, "encoders": encoders_main}


def _shell_lines(script: str) -> list[str]:
    """Logical lines of a shell script: continuations joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", script)
    lines = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line)
        lines.extend(part for part in re.split(r"&&|\|\||;|\|", line) if part.strip())
    return lines


def _command_lines() -> list[tuple[str, str]]:
    """(where, command line) of every pygbs/encoders command in the docs and --help texts."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            if match.group(1) not in ("bash", "sh", "console", ""):
                continue
            line = text.count("\n", 0, match.start()) + 1
            for cmd in _shell_lines(match.group(2)):
                found.append((f"{_rel(page)}:{line}", cmd))
        for match in _INLINE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{_rel(page)}:{line}", match.group(1)))
    for prog, group in _groups().items():
        commands = {prog: group} | {f"{prog} {n}": c for n, c in group.commands.items()}
        for path, command in commands.items():
            for cmd in _shell_lines(command.help or ""):
                if cmd.strip().startswith(("pygbs ", "encoders ")):
                    found.append((f"`{path} --help`", cmd))
    return found


_PREFIXES = {"$", "do", "then", "else", "time", "exec"}


def _check(cmd: str, groups: dict[str, click.Group]) -> list[str]:
    try:
        tokens = shlex.split(cmd)
    except ValueError:
        tokens = cmd.split()
    # Skip what may precede a command: a prompt, variable assignments, shell keywords.
    while tokens and (tokens[0] in _PREFIXES or re.fullmatch(r"\w+=\S*", tokens[0])):
        tokens = tokens[1:]
    if not tokens or tokens[0].rsplit("/", 1)[-1] not in groups:
        return []
    prog = tokens[0].rsplit("/", 1)[-1]
    group, rest = groups[prog], tokens[1:]
    command: click.Command = group
    # A first word that is not an option names the subcommand (upper case: a placeholder).
    if rest and not rest[0].startswith("-") and not rest[0].isupper():
        sub = group.commands.get(rest[0])
        if sub is None:
            return [f"{prog} has no command {rest[0]!r}"]
        command, rest = sub, rest[1:]
    names = {"--help", "-h"}
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    problems = []
    for word in rest:
        if word.startswith("-") and len(word) > 1 and not re.fullmatch(r"-[\d.]+", word):
            option = word.split("=", 1)[0]
            if option not in names:
                problems.append(f"{command.name or prog} has no option {option}")
    return problems


def test_command_lines_use_existing_commands_and_options():
    groups = _groups()
    lines = _command_lines()
    assert len(lines) > 30  # the docs hold many command lines; the scan must find them
    bad = [
        f"{where}: {cmd.strip()} -> {'; '.join(p)}"
        for where, cmd in lines
        if (p := _check(cmd, groups))
    ]
    assert not bad, "command lines that no longer match the CLI:\n" + "\n".join(bad)


def test_the_option_check_catches_a_renamed_option():
    groups = _groups()
    assert _check("pygbs score f.csv --scale 100km --out o/", groups) == []
    assert _check("pygbs map f.csv --no-hotspots --out o/", groups) == []
    assert _check("pygbs score f.csv --scales 100km --out o/", groups) == [
        "score has no option --scales"
    ]
    assert _check("encoders fit --encoder xyz", groups) == ["encoders has no command 'fit'"]
