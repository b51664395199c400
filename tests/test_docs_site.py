"""The documentation site builds in strict mode, works offline and shows what it should.

One strict ``mkdocs build`` (mkdocs.yml) into a tmp folder, with a stand-in gallery folder
holding one of the gallery's images; the tests read the built HTML. Strict mode turns every
warning into a failure: broken links and anchors, references to undocumented objects and
docstring warnings (griffe's numpydoc parser).
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
# The one gallery image the stand-in gallery holds; the page's other images are missing.
GALLERY_IMAGE = "birdsnap-nerf/hotspots_gi.png"
# The smallest valid PNG (1 x 1 pixel).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if os.environ.get("CI") is None:
        pytest.importorskip(
            "mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')"
        )
    tmp = tmp_path_factory.mktemp("docs")
    gallery = tmp / "gallery"
    (gallery / GALLERY_IMAGE).parent.mkdir(parents=True)
    (gallery / GALLERY_IMAGE).write_bytes(PNG)
    out = tmp / "site"
    env = {**os.environ, "GEOBIAS_GALLERY": str(gallery), "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"strict docs build failed:\n{proc.stderr[-6000:]}"
    return out


class _Refs(HTMLParser):
    """Collect (tag, attribute, value, rel) of every URL-bearing attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = {k: v or "" for k, v in attrs}
        for attr in ("src", "href", "data"):
            if attr in d:
                self.refs.append((tag, attr, d[attr], d.get("rel", "")))
        if "style" in d:
            self.styles.append(d["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _parse(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


_REMOTE = re.compile(r"^(?:https?:)?//", re.I)
_CSS_REMOTE = re.compile(r"(?:@import\s+(?:url\()?|url\()\s*['\"]?(?:https?:)?//", re.I)


def test_no_remote_scripts_styles_or_fonts(site):
    """Offline: nothing the browser loads by itself comes from the network (no CDN)."""
    bad = []
    for page in _pages(site):
        refs = _parse(page)
        for tag, attr, value, rel in refs.refs:
            loads = tag in ("script", "img", "iframe", "source", "video", "audio", "embed")
            loads = loads or (tag == "link" and rel.split()[:1] != ["canonical"])
            loads = loads or tag == "object"
            if loads and _REMOTE.match(value):
                bad.append(f"{page.relative_to(site)}: <{tag} {attr}={value}>")
        for style in refs.styles:
            if _CSS_REMOTE.search(style):
                bad.append(f"{page.relative_to(site)}: remote url() in a style")
    for css in site.rglob("*.css"):
        if _CSS_REMOTE.search(css.read_text(encoding="utf-8", errors="replace")):
            bad.append(f"{css.relative_to(site)}: remote @import or url()")
    assert not bad, "the site loads from the network:\n" + "\n".join(bad[:20])


def test_links_resolve_to_files(site):
    """From file://, every local link and asset must name an existing file (no dir/ URLs)."""
    bad = []
    for page in _pages(site):
        if page.name == "404.html":  # a web server's error page: site-absolute links
            continue
        for tag, attr, value, _ in _parse(page).refs:
            if not value or value.startswith(("#", "mailto:", "data:", "javascript:")):
                continue
            if _REMOTE.match(value) or urlsplit(value).scheme:
                continue
            target = (page.parent / unquote(urlsplit(value).path)).resolve()
            if not target.is_file():
                bad.append(f"{page.relative_to(site)}: <{tag} {attr}={value}>")
    assert not bad, "links that do not open from file://:\n" + "\n".join(bad[:20])


def test_search_works_offline(site):
    """The offline plugin ships the search index as a script, and the worker shim is local."""
    assert (site / "search" / "search_index.js").read_text(encoding="utf-8").startswith("var ")
    scripts = [v for t, _, v, _ in _parse(site / "index.html").refs if t == "script"]
    assert "assets/javascripts/iframe-worker-shim.js" in scripts


def test_front_page_leads_to_each_task(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    for target in (
        "quickstart.html#score-a-prediction-file",  # score a file
        "comparing.html",  # compare models
        "hotspots.html",  # draw maps
        "gallery.html",
        "training.html#4-the-zoo",  # train the zoo
    ):
        assert f'href="{target}"' in html, f"the front page does not link {target}"


def test_api_reference_documents_every_export(site):
    import encoders
    import pygbs

    for package, page in ((pygbs, "api-pygbs.html"), (encoders, "api-encoders.html")):
        html = (site / "reference" / page).read_text(encoding="utf-8")
        missing = [
            name
            for name in package.__all__
            if not name.startswith("_") and f'id="{package.__name__}.{name}"' not in html
        ]
        assert not missing, f"{page} lacks {missing} (add a docstring to each export)"
        # reST roles of the docstrings became links (docs/_hooks/rst_markup.py)
        assert not re.search(r":(?:func|class|meth|data|attr|mod):`", html)
        assert 'class="autorefs autorefs-internal"' in html
    score = (site / "reference" / "api-pygbs.html").read_text(encoding="utf-8")
    assert 'href="#pygbs.read_predictions"><code>pygbs.read_predictions()</code>' in score


def test_cli_reference_is_the_help_text(site):
    """Each command's section holds its --help output verbatim, every option included."""
    from click.testing import CliRunner

    from encoders.cli import main as encoders_main
    from pygbs.cli import main as pygbs_main

    runner = CliRunner()
    for prog, group in (("pygbs", pygbs_main), ("encoders", encoders_main)):
        page = (site / "reference" / f"cli-{prog}.html").read_text(encoding="utf-8")
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        for name, command in [("", group), *group.commands.items()]:
            args = [name, "--help"] if name else ["--help"]
            out = runner.invoke(group, args, prog_name=prog, terminal_width=76)
            assert out.exit_code == 0
            assert out.output.strip() in text, f"`{prog} {name} --help` differs on cli-{prog}.html"
            for param in command.params:
                for opt in getattr(param, "opts", []):
                    assert opt in out.output, f"{prog} {name}: {opt} not in its help"


def test_gallery_shows_generated_images_and_says_how_to_make_the_rest(site):
    html = (site / "gallery.html").read_text(encoding="utf-8")
    assert f'src="gallery/{GALLERY_IMAGE}"' in html
    assert (site / "gallery" / GALLERY_IMAGE).read_bytes() == PNG
    # the images not generated are replaced by a note, never a broken image
    assert "../out/gallery" not in html
    assert html.count("not generated yet, run <code>make docs-gallery</code>") == 3


def test_gallery_notes_keep_their_italics():
    """An image's alt text with Markdown characters (``Gi*``) does not end the note early."""
    from markdown import markdown

    spec = importlib.util.spec_from_file_location("gallery_hook", REPO / "docs/_hooks/gallery.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    hook._state["folder"] = REPO / "no-such-gallery"

    class _Page:
        class file:  # noqa: N801 - the attribute path mkdocs pages have
            src_uri = "gallery.md"

    text = hook.on_page_markdown(
        "![Gi* hotspots](../out/gallery/x/hotspots_gi.png)", _Page, None, None
    )
    rendered = markdown(text)
    assert "<em>[Gi* hotspots: not generated yet" in rendered, rendered


def _version() -> str:
    with (REPO / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def test_every_page_shows_the_version(site):
    label = f"geobias {_version()}"
    missing = [
        str(page.relative_to(site))
        for page in _pages(site)
        if page.name != "404.html" and label not in page.read_text(encoding="utf-8")
    ]
    assert not missing, f"pages without {label!r}: {missing[:10]}"
    citation = html.unescape(re.sub(r"<[^>]+>", "", (site / "citation.html").read_text()))
    assert f"version = {{{_version()}}}" in citation


def test_formulas_are_typeset_by_the_bundled_katex(site):
    for name in ("debiasing.html", "method.html", "comparing.html", "encoders/sphere2vec.html",
                 "encoders/sh.html"):  # fmt: skip
        page = site / name
        html_text = page.read_text(encoding="utf-8")
        assert 'class="arithmatex"' in html_text, f"{name}: no formula marked for KaTeX"
        refs = {v for _, _, v, _ in _parse(page).refs}
        prefix = "../" if "/" in name else ""
        for asset in ("assets/katex/katex.min.js", "assets/javascripts/katex.js",
                      "assets/katex/katex.min.css"):  # fmt: skip
            assert prefix + asset in refs, f"{name} does not load {asset}"
        outside = re.sub(r'<(pre|code)\b.*?</\1>|class="arithmatex">.*?</(span|div)>', "",
                         html_text, flags=re.S)  # fmt: skip
        assert "$$" not in outside, f"{name}: a formula was not recognised"
        if name in ("method.html", "comparing.html"):  # pages without a literal dollar sign
            assert "$" not in outside, f"{name}: a formula was not recognised"
    css = (site / "assets" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    fonts = re.findall(r"url\((fonts/[^)]+)\)", css)
    assert fonts and all((site / "assets" / "katex" / f).is_file() for f in fonts)


# Symbols that belong in a typeset formula, not in a code span.
_MATH_IN_CODE = re.compile(r"[\u0370-\u03ff\u2070-\u209f\u00b2\u00b3\u00b9\u00bd\u1d40"
                           r"\u00b7\u00d7\u2200-\u22ff]")  # fmt: skip


@pytest.mark.parametrize("page", ["method.md", "comparing.md"])
def test_formulas_are_maths_not_code_spans(page):
    """Formulas are written as $...$ for KaTeX, not as code spans with Unicode symbols."""
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    spans = re.findall(r"`([^`\n]+)`", text)
    assert spans, page
    offending = [s for s in spans if _MATH_IN_CODE.search(s)]
    assert not offending, f"{page}: formulas in code spans: {offending[:10]}"


def test_docstring_page_references_are_links(site):
    page = (site / "reference" / "api-pygbs.html").read_text(encoding="utf-8")
    outside = re.sub(r"<(pre|code)\b.*?</\1>", "", page, flags=re.S)
    assert "docs/method.md" not in outside
    assert re.search(r'href="\.\./method\.html#d\d-[\w-]+">The method[^<]*, D\d</a>', page)


# --- in a real browser: headless Chromium, 1,280 px wide, from file:// ---------------------

BROWSER_PAGES = (
    "index.html",
    "quickstart.html",
    "debiasing.html",
    "method.html",
    "comparing.html",
    "encoders/sphere2vec.html",
    "encoders/tile.html",
    "citation.html",
    "gallery.html",
    "reference/cli-pygbs.html",
    "reference/api-pygbs.html",
    "tutorials/compare-models.html",
)
# Appended to a copy of each page: after the page's own scripts ran, report what a reader
# sees into the DOM that --dump-dom prints.
_PROBE = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  var code = Array.from(document.querySelectorAll(
    ".md-content pre > code, .jupyter-wrapper .jp-InputArea pre"));
  var r = {
    blocks: code.length,
    overflowing: code.filter(function (e) { return e.scrollWidth > e.clientWidth + 1; })
                     .map(function (e) { return e.textContent.slice(0, 60); }),
    formulas: document.querySelectorAll(".arithmatex").length,
    typeset: document.querySelectorAll(".arithmatex .katex").length,
    katex_errors: document.querySelectorAll(".katex-error").length,
    broken_images: Array.from(document.images)
      .filter(function (i) { return !i.complete || i.naturalWidth === 0; })
      .map(function (i) { return i.getAttribute("src"); })
  };
  var out = document.createElement("div");
  out.id = "probe-report";
  out.textContent = JSON.stringify(r);
  document.body.appendChild(out);
}, 300); });
</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no headless Chromium on this machine (chromium not on PATH)")


def test_pages_in_a_browser(site, tmp_path):
    """Formulas typeset, no code block wider than the text column, no broken image or error."""
    browser = _chromium()
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    problems = []
    for name in BROWSER_PAGES:
        page = copy / name
        page.write_text(
            page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"),
            encoding="utf-8",
        )
        proc = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
             "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0",
             "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        match = re.search(r'<div id="probe-report">([^<]*)</div>', proc.stdout)
        assert match, f"{name}: the page did not finish loading:\n{proc.stderr[-2000:]}"
        report = json.loads(html.unescape(match.group(1)))
        if report["overflowing"]:
            problems.append(f"{name}: code wider than the column: {report['overflowing']}")
        if report["typeset"] != report["formulas"] or report["katex_errors"]:
            counts = (report["formulas"], report["typeset"], report["katex_errors"])
            problems.append(f"{name}: formulas, typeset, KaTeX errors: {counts}")
        if report["broken_images"]:
            problems.append(f"{name}: broken images {report['broken_images']}")
        errors = [
            line for line in proc.stderr.splitlines()
            if "CONSOLE" in line and re.search(r"Uncaught|Error", line)
        ]  # fmt: skip
        if errors:
            problems.append(f"{name}: console errors {errors[:3]}")
        least = {"debiasing.html": 20, "method.html": 300}.get(name, 0)
        if report["formulas"] < least:
            problems.append(f"{name}: only {report['formulas']} formulas found")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_tutorials_execute_with_their_outputs_in_the_page(tmp_path):
    """``make docs`` runs the tutorials: every cell's output is in the page, no error."""
    out = tmp_path / "site"
    env = {**os.environ, "GEOBIAS_EXECUTE_TUTORIALS": "true", "NO_MKDOCS_2_WARNING": "1"}
    env.pop("MPLBACKEND", None)  # the kernel's inline backend draws the figures
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, f"docs build with the tutorials failed:\n{proc.stderr[-6000:]}"
    pages = sorted((out / "tutorials").glob("*.html"))
    assert len(pages) == 4
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "Out[" in text or "jp-OutputArea-output" in text, f"{page.name}: no output"
        assert "Traceback" not in text, f"{page.name}: a cell failed"
    where = (out / "tutorials" / "where-biased.html").read_text(encoding="utf-8")
    assert where.count("data:image/png") >= 2  # the two maps
