"""Griffe extension: the reST markup of our numpydoc docstrings, rendered in the API pages.

The docstrings cross-reference with Sphinx roles (``:func:`score```, ``:class:`~pygbs.Scale```)
and introduce literal blocks with ``::``, as ``help()`` and IDEs show them. mkdocstrings
renders Markdown, so this extension rewrites each role into an optional cross-reference (a
link where the target is documented on the site, plain code otherwise: never a broken link)
and ``text::`` into ``text:`` (the indented block that follows is code in Markdown too).
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

_LITERAL_END = re.compile(r"(\S)::[ \t]*$", re.M)
_LITERAL_ALONE = re.compile(r"^[ \t]*::[ \t]*$", re.M)
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|data|attr|mod|obj|exc|const):`([^`]+)`")


def _candidates(obj: griffe.Object, target: str) -> list[str]:
    names = [target]
    scope: Any = obj
    while scope is not None:
        names.append(f"{scope.path}.{target}")
        scope = scope.parent
    return names


def _resolve(obj: griffe.Object, target: str) -> str:
    """The full path of ``target`` as seen from ``obj``, or ``target`` itself."""
    collection = obj.modules_collection
    for name in _candidates(obj, target):
        try:
            collection[name]
        except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        return name
    return target


def _rewrite(obj: griffe.Object, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        raw = match.group(1).strip()
        # "Title <target>" form: keep the title.
        titled = re.fullmatch(r"(.*?)\s*<([^>]+)>", raw)
        title, target = titled.groups() if titled else (None, raw)
        short = target.startswith("~")
        target = target.lstrip("~.").rstrip("()")
        shown = title or (target.rsplit(".", 1)[-1] if short else target)
        if match.group(0).startswith((":func:", ":meth:")) and not title:
            shown += "()"
        ident = html.escape(_resolve(obj, target), quote=True)
        return f'<autoref identifier="{ident}" optional><code>{html.escape(shown)}</code></autoref>'

    text = _ROLE.sub(replace, text)
    text = _LITERAL_END.sub(r"\1:", text)
    return _LITERAL_ALONE.sub("", text)


class RstMarkup(griffe.Extension):
    """Rewrite the reST roles and literal-block markers of every loaded docstring."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Rewrite the docstrings of a package once it is fully loaded."""
        self._walk(pkg, set())

    def _walk(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = _rewrite(obj, obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)
