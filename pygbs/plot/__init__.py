"""Maps and reports of geo-bias: score maps, density, hotspots, HTML reports.

Everything draws with matplotlib (the Agg backend is enough) on plain
:class:`~matplotlib.figure.Figure` objects, in the equal-area Equal Earth projection, over
Natural Earth country polygons shipped inside an installed package (nothing is downloaded).

Public API
----------
plot_centres
    Centres coloured by their SSI or SRI at one scale.
plot_density
    Where the samples are (hexagon counts on an equal-area grid).
plot_hotspots
    Local Getis-Ord Gi* and local Moran (esda) of per-sample performance on a
    great-circle k-NN or distance-band graph, with permutation inference. The statistics
    themselves are :mod:`pygbs.stats.hotspots`'s (``local_hotspots``, ``sphere_graph``,
    also importable from here).
write_maps
    Every map of a :class:`~pygbs.GeoBiasResult` into a folder.
write_report, ReportSection
    One self-contained HTML report comparing models (with extra sections of the caller).
plot_tradeoff
    Accuracy against geo-bias along a training setting, one curve per model.
plot_robust
    The gap between regions against the cell size (``pygbs regions --robust``).
"""

from __future__ import annotations

from pygbs.plot.basemap import load_basemap
from pygbs.plot.frame import MapFrame, choose_frame
from pygbs.plot.hotspots import plot_hotspots
from pygbs.plot.maps import plot_centres, plot_density, write_maps
from pygbs.plot.regions import plot_robust
from pygbs.plot.report import ReportSection, write_report
from pygbs.plot.tradeoff import plot_tradeoff
from pygbs.stats.hotspots import local_hotspots, sphere_graph

__all__ = [
    "MapFrame",
    "ReportSection",
    "choose_frame",
    "load_basemap",
    "local_hotspots",
    "plot_centres",
    "plot_density",
    "plot_hotspots",
    "plot_robust",
    "plot_tradeoff",
    "sphere_graph",
    "write_maps",
    "write_report",
]
