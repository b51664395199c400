"""The HTML report rendered in a real browser (Chromium through selenium).

Each report (one from a fresh comparison, one from a ``pygbs compare`` folder read back
with its per-region table and outlined regions) is opened from ``file://`` in headless
Chromium at a desktop width (1,100 px) and at a phone width (390 px): no console error,
every image decoded, the page no wider than the window, and the key sections present.
Skipped with a reason where Chromium, chromedriver or selenium is missing (``make venv``
installs them where it can; see the README).
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import pygbs
from pygbs.plot import write_report
from pygbs.results.comparison import read_comparison

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (dev extra)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="no Chromium with chromedriver (apt-get install chromium chromium-driver)",
)

SECTIONS = ("Which model is geo-biased?", "Is the difference real?", "Where?", "Reproducibility")


def _models(n=150, seed=0):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-5, 25, n)
    lat = rng.uniform(40, 55, n)
    east = lon > 10
    tables = {
        "eval_demo_test_uniform": (rng.random(n) < 0.8),
        "eval_demo_test_east-bad": np.where(east, rng.random(n) < 0.3, rng.random(n) < 0.95),
        "eval_demo_test_west-bad": np.where(~east, rng.random(n) < 0.4, rng.random(n) < 0.9),
    }
    return {k: pd.DataFrame({"lon": lon, "lat": lat, "hit@1": v.astype(int)})
            for k, v in tables.items()}  # fmt: skip


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    import geopandas as gpd
    import shapely

    d = tmp_path_factory.mktemp("browser")
    models = _models()
    cmp = pygbs.compare(list(models.values()), names=list(models), scales=("nn10",),
                        scores=("marked",), pairs="all")  # fmt: skip
    fresh = write_report(cmp, d / "fresh.html")
    cmp.write(d / "compare")
    back = read_comparison(d / "compare")
    regions = pygbs.regions(list(models.values()), names=list(models), by="healpix:8",
                            n_boot=100, min_n=10)  # fmt: skip
    east = gpd.GeoDataFrame({"name": ["east"]}, geometry=[shapely.box(10, 40, 25, 55)],
                            crs="EPSG:4326")  # fmt: skip
    read = write_report(back, d / "read.html", regions=regions,
                        highlight=(list(east.geometry), ["east"]))  # fmt: skip
    return {"fresh": fresh, "read": read}


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"):  # fmt: skip
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


@pytest.mark.parametrize("name", ["fresh", "read"])
@pytest.mark.parametrize("width", [1100, 390])
def test_report_renders_in_chromium(browser, reports, name, width):
    browser.set_window_size(width, 1000)
    browser.get(reports[name].as_uri())
    state = browser.execute_script(
        "return {ready: document.readyState,"
        " inner: window.innerWidth,"
        " scroll: document.documentElement.scrollWidth,"
        " images: Array.from(document.images).map(i => [i.complete, i.naturalWidth]),"
        " links: Array.from(document.querySelectorAll('[href],[src]'))"
        "   .map(e => e.getAttribute('href') || e.getAttribute('src'))"
        "   .filter(u => !u.startsWith('data:') && !u.startsWith('#')),"
        " h2: Array.from(document.querySelectorAll('h2')).map(h => h.textContent)}"
    )
    assert state["ready"] == "complete"
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors
    assert state["images"] and all(c and w > 0 for c, w in state["images"]), state["images"]
    assert state["links"] == []  # everything embedded: nothing to load from elsewhere
    assert state["scroll"] <= state["inner"], (state["scroll"], state["inner"])
    for section in SECTIONS:
        assert any(h.startswith(section) for h in state["h2"]), (section, state["h2"])
    if name == "read":
        assert any("per region" in h for h in state["h2"])
    # short names: the shared prefix is gone from the chart's table
    body = browser.find_element("tag name", "body").text
    assert "east-bad" in body and "eval_demo_test_east-bad" not in body.split("Reproducibility")[0]
