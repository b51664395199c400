"""MkDocs hook: the version of the documented code on every page.

The version is read from ``pyproject.toml`` beside ``mkdocs.yml`` (the code the site is
built from, installed or not). It is added to the site name, so that the header and the
title of every page show it, and to the footer; ``@VERSION@`` in a page is replaced by it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

TOKEN = "@VERSION@"
_state: dict[str, str] = {"version": ""}


def read_version(config_file: str | Path) -> str:
    """The ``[project] version`` of the ``pyproject.toml`` beside ``config_file``."""
    pyproject = Path(config_file).resolve().parent / "pyproject.toml"
    with pyproject.open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def on_config(config: Any) -> Any:
    """Add the version to the site name and the footer."""
    version = read_version(config.config_file_path)
    _state["version"] = version
    config.site_name = f"{config.site_name} {version}"
    config.copyright = f"geobias {version} · MIT licence"
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace ``@VERSION@`` by the version."""
    return markdown.replace(TOKEN, _state["version"])
