"""MkDocs hook: the table of scores and their options is generated from the registry.

A line ``<!-- score-table -->`` in a page is replaced by one row per registered score
(:data:`pygbs.stats.registry.REGISTRY`: its ``--score`` name, column, what it measures,
p-value, null and options class), and a line ``<!-- score-options -->`` by one table per
options class (:mod:`pygbs.stats.options`: flag, keyword argument of ``pygbs.score``,
default, ``summary.json`` key, help), so that a statistic added to
``pygbs/stats/scores/`` appears in the documentation without editing it.
"""

from __future__ import annotations

import re
from typing import Any

TABLE = re.compile(r"^<!-- score-table -->$", re.M)
OPTIONS = re.compile(r"^<!-- score-options -->$", re.M)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def score_table() -> str:
    """Markdown table of every registered score."""
    from pygbs.stats.registry import REGISTRY

    lines = [
        "| `--score` | column | what it measures | p-value | accuracy-matched null | options |",
        "|---|---|---|---|---|---|",
    ]
    for d in REGISTRY.values():
        null = "yes" if d.null is not None else ("0 by construction" if not d.uses_performance
                                                 else "no")  # fmt: skip
        opts = f"`{d.options.__name__}`" if d.options is not None else "shared only"
        lines.append(
            f"| `{d.name}` | `{d.column}` | {_cell(d.summary)} | {'yes' if d.has_p else 'no'} "
            f"| {null} | {opts} |"
        )
    return "\n".join(lines)


def options_tables() -> str:
    """One Markdown table per options class: the shared options, then each family's."""
    from pygbs.stats.options import CommonOptions, option_fields
    from pygbs.stats.registry import REGISTRY, option_classes

    out = []
    for cls in (CommonOptions, *option_classes()):
        users = [d.name for d in REGISTRY.values() if d.options is cls]
        title = "every score" if cls is CommonOptions else ", ".join(f"`{u}`" for u in users)
        block = cls.SUMMARY_BLOCK
        out += [f"**`{cls.__name__}`** ({title})", ""]
        out += [
            "| command line | `pygbs.score(...)` | default | `summary.json` | meaning |",
            "|---|---|---|---|---|",
        ]
        for f, spec in option_fields(cls):
            flag = f"`{spec.flag}`" + (" (km)" if spec.km else "") if spec.flag else "-"
            key = spec.summary or f.name
            where = "-" if spec.summary == "" else (f"`{block}.{key}`" if block else f"`{key}`")
            out.append(
                f"| {flag} | `{f.name}`{' (radians)' if spec.km else ''} | `{f.default!r}` "
                f"| {where} | {_cell(spec.help)} |"
            )
        out.append("")
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace the score markers by the generated tables."""
    markdown = TABLE.sub(lambda m: score_table(), markdown)
    return OPTIONS.sub(lambda m: options_tables(), markdown)
