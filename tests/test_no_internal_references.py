"""What users read names no internal matter: no issues, temporary paths or machine paths.

Scanned: every Markdown page and tutorial of the documentation and the README, and in the packages
every docstring (shown in the API reference and by ``help()``) and every other string
constant (warnings, errors, ``--help`` texts). A user-facing string constant may not send
the reader to a source path of the documentation (``docs/method.md``) either, which an
installed package does not have; docstrings may, since the site turns those into links.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = (
    sorted((REPO / "docs").rglob("*.md"))
    + sorted((REPO / "docs" / "tutorials").glob("*.py"))
    + [REPO / "README.md"]
)
SOURCES = sorted(p for pkg in ("pygbs", "encoders") for p in (REPO / pkg).rglob("*.py"))

#: Phrases that refer to how the project is worked on rather than to what a user can use.
INTERNAL = re.compile(
    r"\bthe issue\b|\bissue ?#?\d+|\bticket\b|\bthe lead\b|/tmp/|\bmirror\b|/work/"
    r"|\bstored commit\b|\bnewest stored\b|\bsession conditions?\b",
    re.I,
)
DOC_PATH = re.compile(r"\bdocs/[\w/-]+\.md\b")


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _hits(text: str, pattern: re.Pattern[str]) -> list[str]:
    return [m.group(0) for m in pattern.finditer(text)]


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_pages_have_no_internal_references(page):
    text = page.read_text(encoding="utf-8")
    bad = [
        f"{_rel(page)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}"
        for m in INTERNAL.finditer(text)
    ]
    assert not bad, "internal references in the documentation:\n" + "\n".join(bad)


def _strings(tree: ast.AST) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(docstrings, other string constants) with their line numbers."""
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    docs, others = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            (docs if id(node) in docstrings else others).append((node.lineno, node.value))
    return docs, others


@pytest.mark.parametrize("source", SOURCES, ids=_rel)
def test_code_text_has_no_internal_references(source):
    docs, others = _strings(ast.parse(source.read_text(encoding="utf-8")))
    bad = [
        f"{_rel(source)}:{line}: {hit!r}"
        for line, text in docs + others
        for hit in _hits(text, INTERNAL)
    ]
    bad += [
        f"{_rel(source)}:{line}: {hit!r} (a user-facing text; name the page instead)"
        for line, text in others
        for hit in _hits(text, DOC_PATH)
    ]
    assert not bad, "internal references in docstrings or messages:\n" + "\n".join(bad)


def test_the_scan_catches_what_it_should():
    assert _hits("The issue's criterion is met", INTERNAL)
    assert _hits("made with /tmp/pygbs-ref and a mirror of it", INTERNAL) == ["/tmp/", "mirror"]
    assert not _hits("a neighbourhood of 50 samples; see the method page", INTERNAL)
    tree = ast.parse('"""See docs/method.md, D3."""\nX = "see docs/cli.md"\n')
    docs, others = _strings(tree)
    assert [t for _, t in docs] == ["See docs/method.md, D3."]
    assert [t for _, t in others] == ["see docs/cli.md"]
