"""pygbs: Geo-Bias Scores of GeoAI models.

Spatial self-information (SSI, unmarked and marked) and spatial relative information (SRI)
of a model's per-location performance, at distance and nearest-neighbour scales.

Examples
--------
>>> import pygbs
>>> res = pygbs.score("preds.csv.gz", scales=["100km", "nn50"])  # doctest: +SKIP
>>> res.headline("marked", "100km")  # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geobias")
except PackageNotFoundError:  # pragma: no cover - source tree without install
    __version__ = "0.0.0"

from pygbs.api import compare, score  # noqa: E402  (needs __version__ above)
from pygbs.coding import Coding, code_performance
from pygbs.errors import InputError
from pygbs.io import read_predictions
from pygbs.neighbours import Neighbourhoods, SphereIndex
from pygbs.predictions import Predictions
from pygbs.result import SCORE_COLUMNS, Comparison, GeoBiasResult
from pygbs.scale_profile import Profile, profile, scale_range
from pygbs.scales import EARTH_RADIUS_KM, Scale, parse_scale
from pygbs.sri import sri_scores
from pygbs.ssi import ssi_scores

__all__ = [
    "EARTH_RADIUS_KM",
    "SCORE_COLUMNS",
    "Coding",
    "Comparison",
    "GeoBiasResult",
    "InputError",
    "Neighbourhoods",
    "Predictions",
    "Profile",
    "Scale",
    "SphereIndex",
    "code_performance",
    "compare",
    "parse_scale",
    "profile",
    "read_predictions",
    "scale_range",
    "score",
    "sri_scores",
    "ssi_scores",
    "__version__",
]
