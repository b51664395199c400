"""MkDocs hook: the command reference pages are generated from the click commands.

A line ``<!-- click-reference MODULE:GROUP PROG -->`` in a page is replaced by one section
per command of the click group ``MODULE.GROUP`` (the group itself first): a heading, the
command's one-line summary and its full ``--help`` text exactly as the command prints it,
so the pages cannot drift from the code.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import click

MARKER = re.compile(
    r"^<!-- click-reference (?P<module>[\w.]+):(?P<attr>\w+) (?P<prog>[\w-]+) -->$", re.M
)
#: Width of the rendered help texts: a terminal of 76 columns, which fits the text column.
WIDTH = 76


def _context(command: click.Command, name: str, parent: click.Context | None) -> click.Context:
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    return click.Context(command, info_name=name, parent=parent, **settings)


def _section(ctx: click.Context) -> list[str]:
    command = ctx.command
    path = ctx.command_path
    summary = command.get_short_help_str(limit=200)
    return [
        f"## `{path}`",
        "",
        summary,
        "",
        "```text",
        f"$ {path} --help",
        command.get_help(ctx),
        "```",
        "",
    ]


def render(group: click.Group, prog: str) -> str:
    """Markdown sections of ``group`` and of each of its subcommands, in name order."""
    root = _context(group, prog, None)
    lines = _section(root)
    for name in group.list_commands(root):
        sub = group.get_command(root, name)
        if sub is None or sub.hidden:
            continue
        lines += _section(_context(sub, name, root))
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace every click-reference marker by the generated reference."""

    def replace(match: re.Match[str]) -> str:
        module = importlib.import_module(match["module"])
        group = getattr(module, match["attr"])
        if not isinstance(group, click.Group):
            raise TypeError(f"{match['module']}:{match['attr']} is not a click group")
        return render(group, match["prog"])

    return MARKER.sub(replace, markdown)
