"""HTML pieces of the report (:func:`pygbs.plot.report.write_report`).

Its style sheet and reading guide, figures embedded as PNG, values and tables as cells.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "READING_GUIDE",
    "REPORT_CSS",
    "figure_html",
    "format_value",
    "png_data_uri",
    "table_html",
]

#: The style sheet of the report page.
REPORT_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.8em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td.text, th.text { text-align: left; }
figure { margin: 1em 0; } figcaption { font-size: 0.88em; color: #555; }
img { max-width: 100%; height: auto; } .note { color: #555; font-size: 0.9em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 0.5em; }
.grid figure { margin: 0; } .grid img { width: 100%; aspect-ratio: auto; }
.scroll { overflow-x: auto; max-width: 100%; } code { background: #f5f5f5; padding: 0 0.2em; }
code { overflow-wrap: anywhere; }
"""

#: The reading guide at the end of the report.
READING_GUIDE = """
<ul>
<li><b>Geo-Bias Score.</b> For each centre (a sample) the scores look at its neighbourhood at a
scale (all samples within a radius such as 100 km, or its K nearest samples, "nn50"). The
headline number of a model at a scale is the mean over centres. Higher means more
geographic structure.</li>
<li><b>Marked SSI</b> (spatial self-information, in nats: -ln p) asks whether the model's
successes and failures are arranged in space less randomly than chance would give. A high
value means errors (or successes) come in geographic clusters: the model is worse in some
places than in others.</li>
<li><b>Unmarked SSI</b> measures how clustered the samples themselves are. It depends only
on the locations, so it is the same for every model on one dataset; use it as the baseline
against which marked SSI is read.</li>
<li><b>SRI</b> (spatial relative information, nats) compares the distribution of performance
in parts of a neighbourhood (grid cells, distance rings, direction sectors) with the whole
neighbourhood: high values mean performance changes within a short distance.</li>
<li><b>Comparing models</b> is meaningful only on the same locations, scales and
parameters, which this report uses for every model. A model can be more accurate and more
geo-biased at the same time: the scatter plot shows both axes.</li>
<li><b>Maps.</b> Each dot is a centre coloured by its score at one scale, on one colour scale
shared by all models. Bright regions are where performance is most spatially structured;
look there for regions the model gets systematically wrong. The density map shows where the
data is: a pattern where there are few samples is weak evidence.</li>
<li>Hotspot maps (local Getis-Ord Gi* and local Moran) of one model are made with
<code>pygbs map</code>; see the guide to reading hotspot maps in the documentation.</li>
</ul>
"""


def png_data_uri(fig: Figure, dpi: int = 100) -> str:
    """``fig`` as an embedded PNG (a ``data:`` URI), so that the page opens offline."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(src: str, caption: str) -> str:
    """An ``<figure>`` of image ``src`` with ``caption`` (escaped) as alt text and caption."""
    return (
        f'<figure><img src="{src}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def format_value(value: Any) -> str:
    """A value as a table cell shows it: thousands separators, 4 significant digits, – for none."""
    if value is None:
        return "–"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return "–" if not math.isfinite(float(value)) else f"{float(value):.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={format_value(v)}" for k, v in value.items())
    return str(value)


def table_html(frame: pd.DataFrame) -> str:
    """``frame`` as an HTML table (text columns left-aligned), scrollable when wide."""
    head = "".join(
        f'<th class="{"text" if frame[c].dtype == object else ""}">{html.escape(str(c))}</th>'
        for c in frame.columns
    )
    rows = []
    for _, row in frame.iterrows():
        cells = "".join(
            f'<td class="{"text" if isinstance(row[c], str) else ""}">'
            f"{html.escape(format_value(row[c]))}</td>"
            for c in frame.columns
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
