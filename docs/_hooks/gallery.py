"""MkDocs hook: show the images of ``make docs-gallery`` on the gallery page when present.

``docs/gallery.md`` links its images as ``../out/gallery/<entry>/<image>``, the folder that
``make docs-gallery`` writes (ignored by git), so the page also reads correctly in a
checkout. When the site is built, this hook copies every file of that folder into the site
under ``gallery/`` and points the links there. Images that have not been generated are
replaced by a note saying how to produce them, so the strict build passes on a fresh clone.

The folder is ``out/gallery`` beside ``mkdocs.yml``, or ``$GEOBIAS_GALLERY`` when set.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.gallery")

#: The page whose links are rewritten and the prefix its links use.
PAGE = "gallery.md"
PREFIX = "../out/gallery/"
#: Where the gallery files go in the site, relative to the page.
SITE_FOLDER = "gallery/"
#: Files of the gallery folder copied into the site.
SUFFIXES = {".png", ".svg", ".pdf", ".html", ".json", ".csv"}

_LINK = re.compile(r"(!?)\[([^\]]*)\]\(" + re.escape(PREFIX) + r"([^)\s]+)\)")
_state: dict[str, Any] = {"folder": None}


def _folder(config: Any) -> Path:
    env = os.environ.get("GEOBIAS_GALLERY")
    if env:
        return Path(env)
    return Path(config.config_file_path).resolve().parent / "out" / "gallery"


def on_config(config: Any) -> Any:
    """Remember where the generated gallery is."""
    _state["folder"] = _folder(config)
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add the generated gallery files, if any, to the site under ``gallery/``."""
    folder: Path = _state["folder"]
    if not folder.is_dir():
        log.info("no generated gallery in %s: run `make docs-gallery` to add the maps", folder)
        return files
    n = 0
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUFFIXES:
            uri = SITE_FOLDER + path.relative_to(folder).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(path)))
            n += 1
    log.info("gallery: %d generated files from %s", n, folder)
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Point the gallery page's links at the copied files; note the missing ones."""
    if page.file.src_uri != PAGE:
        return markdown
    folder: Path = _state["folder"]

    def replace(match: re.Match[str]) -> str:
        image, text, rel = match.groups()
        if (folder / rel).is_file():
            return f"{image}[{text}]({SITE_FOLDER}{rel})"
        if image:
            text = re.sub(r"([*_`\\])", r"\\\1", text)  # Markdown inside the italic note
            return f"*[{text}: not generated yet, run `make docs-gallery`, then `make docs`]*"
        return text

    return _LINK.sub(replace, markdown)
