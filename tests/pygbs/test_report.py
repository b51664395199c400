"""The HTML geo-bias report (pygbs.plot.write_report).

Covers: one self-contained file (no script, style sheet, font or image fetched from
anywhere; every figure an embedded, decodable, non-blank PNG), the comparison numbers
of :func:`pygbs.compare` in the table, parameters and inputs, reuse of a given Comparison,
option validation, and opening the file in a headless browser (Chromium, skipped with a
reason where it is not installed).
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from html.parser import HTMLParser

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

import pygbs
from pygbs.errors import InputError
from pygbs.plot import write_report

SCALES = ("nn10", "300km")


def _models(n=90, seed=0):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-5, 25, n)
    lat = rng.uniform(40, 55, n)
    east = lon > 10
    good = (rng.random(n) < 0.8).astype(int)
    biased = np.where(east, (rng.random(n) < 0.3), (rng.random(n) < 0.95)).astype(int)
    a = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": good})
    b = pd.DataFrame({"lon": lon, "lat": lat, "hit@1": biased})
    return a, b


@pytest.fixture(scope="module")
def comparison():
    a, b = _models()
    return pygbs.compare([a, b], names=["uniform", "east-bad"], scales=SCALES)


@pytest.fixture(scope="module")
def report(tmp_path_factory, comparison):
    out = tmp_path_factory.mktemp("report") / "report.html"
    path = write_report(comparison, out, title="Test report")
    return path, path.read_text(encoding="utf-8")


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(text):
    p = _Collector()
    p.feed(text)
    return p


def test_report_is_self_contained(report):
    path, text = report
    assert path.name == "report.html"
    parsed = _parse(text)
    tags = [t for t, _ in parsed.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    assert "@import" not in text and "url(" not in text
    for _, attrs in parsed.tags:
        for key in ("src", "href"):
            if key in attrs:
                assert attrs[key].startswith("data:"), attrs[key][:40]
    imgs = [a["src"] for t, a in parsed.tags if t == "img"]
    # dot-and-whisker chart, accuracy scatter, one map per model but the baseline (its
    # difference from the baseline), density
    assert len(imgs) == 2 + 1 + 1
    for src in imgs:
        head, payload = src.split(",", 1)
        assert head == "data:image/png;base64"
        raw = base64.b64decode(payload)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        img = mpimg.imread(io.BytesIO(raw), format="png")
        assert img.shape[0] > 100 and img.shape[1] > 100
        assert img[..., :3].std() > 0.02


def test_report_holds_the_comparison_numbers(report, comparison):
    _, text = report
    body = " ".join(_parse(text).text)
    from pygbs.plot.report_parts import headline_columns

    shown = [c for c, _, _, _ in headline_columns(comparison.table)]
    # unmarked SSI is the same for both models (same locations): it is left out
    assert shown and not any(c.startswith("unmarked_ssi") for c in shown)
    for _, row in comparison.table.iterrows():
        assert row["model"] in body
        for col in shown:
            lo, hi = row[f"{col}_ci_low"], row[f"{col}_ci_high"]
            assert f"{row[col]:.3g} [{lo:.3g}, {hi:.3g}]" in body, col
    for col in shown:
        assert col in body
    # the biased model is more geo-biased (marked SSI) at every scale
    t = comparison.table.set_index("model")
    for scale in SCALES:
        assert t.loc["east-bad", f"marked_ssi@{scale}"] > t.loc["uniform", f"marked_ssi@{scale}"]
    assert "Test report" in body
    assert "How to read this report" in body
    assert "Parameters" in body and "min_points" in body and "seed" in body


def test_write_report_of_a_fresh_comparison(tmp_path, comparison):
    # the report draws a comparison; scoring the sources is the API's job (pygbs.compare)
    from pygbs import compare

    a, b = _models()
    fresh = compare([a, b], names=["uniform", "east-bad"], scales=SCALES)
    out = write_report(
        fresh,
        tmp_path / "r.html",
        map_score="unmarked_ssi",
        map_scale="300km",
    )
    text = out.read_text(encoding="utf-8")
    assert "unmarked SSI at 300km" in text
    value = comparison.table.loc[1, "marked_ssi@nn10"]
    assert f"{value:.3g}" in text


def test_bad_map_options(tmp_path, comparison):
    with pytest.raises(InputError, match="map score 'sri_lag' not computed"):
        write_report(comparison, tmp_path / "x.html", map_score="sri_lag")
    with pytest.raises(InputError, match="map scale '5km' not computed"):
        write_report(comparison, tmp_path / "x.html", map_scale="5km")
    assert not (tmp_path / "x.html").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no headless browser: /usr/bin/chromium absent (apt-get install chromium)",
)
def test_report_opens_in_headless_chromium(report, tmp_path):
    path, _ = report
    common = [
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: any fetch would fail
        "--enable-logging=stderr",
        "--v=0",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<h1>Test report</h1>" in dom.stdout
    assert dom.stdout.count("<img ") == 4
    problems = [
        line
        for line in dom.stderr.splitlines()
        if "CONSOLE" in line
        or "Uncaught" in line
        or "net::ERR" in line
        or "Failed to load resource" in line
    ]
    assert not problems, problems
    shot = tmp_path / "shot.png"
    run = subprocess.run(
        [
            *common,
            "--hide-scrollbars",
            "--window-size=1000,2400",
            f"--screenshot={shot}",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    img = mpimg.imread(shot)[..., :3]
    assert img.shape[:2] == (2400, 1000)
    assert img.std() > 0.05  # rendered figures, not a blank page


def test_scatter_accuracy_is_share_correct_for_hit_columns(comparison):
    from pygbs.plot.report import _accuracy

    acc, label = _accuracy(comparison.table, comparison.results)
    np.testing.assert_allclose(acc, comparison.table["accuracy"].to_numpy())  # 0/1 columns
    assert label == "accuracy (share of correct samples)"
    a, _ = _models()
    pm = a.assign(**{"hit@1": 2 * a["hit@1"] - 1})  # the same hits coded -1/+1
    cmp = pygbs.compare([a, pm], names=["01", "pm"], scales=("nn10",))
    acc, _ = _accuracy(cmp.table, cmp.results)
    assert acc[0] == acc[1] == a["hit@1"].mean()


def test_extra_sections_are_placed_before_the_maps(tmp_path, comparison):
    from matplotlib.figure import Figure

    from pygbs.plot import ReportSection, plot_tradeoff

    table = pd.DataFrame({"model": ["a", "a", "b"], "w": [0.0, 1.0, 0.0],
                          "acc": [0.5, 0.4, 0.6], "ssi": [1.0, 0.5, 2.0],
                          "pareto": [False, True, True]})  # fmt: skip
    fig = plot_tradeoff(table, x="ssi", y="acc", order="w", x_label="SSI", y_label="acc (%)",
                        y_factor=100)  # fmt: skip
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("SSI", "acc (%)")
    # one curve per model through its points in weight order (y in percent), then the front
    curves = [line for line in ax.get_lines() if line.get_label() in ("a", "b")]
    np.testing.assert_allclose(curves[0].get_xydata(), [[1.0, 50.0], [0.5, 40.0]])
    front = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    np.testing.assert_allclose(front[0].get_xydata(), [[0.5, 40.0], [2.0, 60.0]])
    with pytest.raises(InputError, match="no column 'top1'"):
        plot_tradeoff(table, x="ssi", y="top1", order="w")

    section = ReportSection("Trade <off>", note="a & b", figure=fig, caption="cap",
                            table=table)  # fmt: skip
    out = write_report(comparison, tmp_path / "r.html", extra_sections=[section])
    text = out.read_text(encoding="utf-8")
    assert "<h2>Trade &lt;off&gt;</h2>" in text and "a &amp; b" in text
    assert text.index("Trade &lt;off&gt;") < text.index("<h2>Where?")
    assert text.count("data:image/png;base64,") == 1 + (
        write_report(comparison, tmp_path / "plain.html").read_text().count("data:image/png")
    )
    with pytest.raises(TypeError, match="expected ReportSection"):
        write_report(comparison, tmp_path / "x.html", extra_sections=[Figure()])


def test_report_names_the_most_biased_places(report, comparison):
    from pygbs.plot.report_parts import most_biased_places

    _, text = report
    c = comparison.results["east-bad"].centres
    c = c[c["scale"] == "nn10"]
    top = c.nlargest(10, "marked_ssi")
    places = most_biased_places(comparison.results["east-bad"].centres, "marked_ssi", "nn10")
    np.testing.assert_allclose(places["marked_ssi"], top["marked_ssi"])
    # the samples lie in Europe (5 W to 25 E, 40 to 55 N): every place is named
    assert (places["country"] != "").all() and len(places) == 10
    assert "ten most geo-biased places of east-bad" in text
    assert f"{places['lon'].iloc[0]:.4g}" in text and places["country"].iloc[0] in text
