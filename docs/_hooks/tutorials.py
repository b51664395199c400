"""MkDocs hook: the tutorial pages (mkdocs-jupyter) load nothing from the network.

The notebook template of nbconvert adds a MathJax loader (with an empty address here:
the site typesets formulas with its bundled KaTeX) and a loader of Mermaid diagrams from
a CDN. The tutorials have neither MathJax formulas nor diagrams; both loaders are removed
so that the pages stay offline and their console clean.
"""

from __future__ import annotations

import re
from typing import Any

PREFIX = "tutorials/"
_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>', re.S)


def strip_loaders(html: str) -> str:
    """The page without nbconvert's MathJax and Mermaid loaders."""
    return _MERMAID.sub("", _MATHJAX.sub("", html))


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Strip the loaders from the tutorial pages."""
    if page.file.src_uri.startswith(PREFIX):
        return strip_loaders(output)
    return output
