"""MkDocs hook: references to documentation pages in docstrings become links.

Docstrings point the reader to a page by its source path, e.g. ``(docs/method.md, D3)``,
which reads well in ``help()`` and an editor. On the site, this hook replaces each such
path (outside code) by a link titled with the page's title, and a following ``D1``-``D9``
(a definition of the method page) by a link to that definition's heading. The link text
is the page's title in the navigation (else its first heading).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from markdown.extensions.toc import slugify
from mkdocs.utils import get_relative_url

_REF = re.compile(r"\bdocs/(?P<path>[\w/-]+\.md)(?P<defn>, D(?P<n>\d)\b(?:-D\d)?)?")
_CODE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>|<a\b.*?</a>)", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$", re.M)
_state: dict[str, Any] = {"titles": {}, "definitions": {}}


def _scan(docs_dir: Path) -> None:
    titles: dict[str, str] = {}
    definitions: dict[tuple[str, str], str] = {}
    for path in docs_dir.rglob("*.md"):
        uri = path.relative_to(docs_dir).as_posix()
        text = path.read_text(encoding="utf-8")
        for match in _HEADING.finditer(text):
            level, heading = len(match.group(1)), match.group(2)
            plain = re.sub(r"[`*]", "", heading)
            if level == 1 and uri not in titles:
                titles[uri] = plain
            defn = re.match(r"D(\d)\b", plain)
            if defn:
                definitions[(uri, defn.group(1))] = slugify(plain, "-")
    _state["titles"], _state["definitions"] = titles, definitions


def _nav_titles(nav: Any) -> dict[str, str]:
    """``{page path: title}`` of the pages that ``mkdocs.yml``'s nav names."""
    titles: dict[str, str] = {}
    items = nav if isinstance(nav, list) else [nav]
    for item in items:
        if isinstance(item, dict):
            for title, value in item.items():
                if isinstance(value, str):
                    titles[value] = title
                else:
                    titles.update(_nav_titles(value))
    return titles


def on_config(config: Any) -> Any:
    """Read the title and the definition headings of every page (nav titles first)."""
    _scan(Path(config.docs_dir))
    _state["titles"].update(_nav_titles(config.nav or []))
    return config


def _link(match: re.Match[str], page: Any, files: Any) -> str:
    uri = match.group("path")
    target = files.get_file_from_path(uri)
    if target is None:
        return match.group(0)
    href = get_relative_url(target.url, page.file.url)
    title = _state["titles"].get(uri, uri)
    number = match.group("n")
    anchor = _state["definitions"].get((uri, number)) if number else None
    if anchor:
        label = match.group("defn").lstrip(", ")
        return f'<a href="{href}#{anchor}">{title}, {label}</a>'
    suffix = match.group("defn") or ""
    return f'<a href="{href}">{title}</a>{suffix}'


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Turn ``docs/<page>.md`` outside code into links to the page."""
    parts = _CODE.split(html)
    for i in range(0, len(parts), 2):  # even parts are outside code and links
        parts[i] = _REF.sub(lambda m: _link(m, page, files), parts[i])
    return "".join(parts)
