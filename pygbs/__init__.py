"""pygbs: Geo-Bias Scores of GeoAI models.

Spatial self-information (SSI, unmarked and marked) and spatial relative information (SRI)
of a model's per-location performance, at distance and nearest-neighbour scales.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geobias")
except PackageNotFoundError:  # pragma: no cover - source tree without install
    __version__ = "0.0.0"

from pygbs.errors import InputError
from pygbs.predictions import Predictions
from pygbs.scales import EARTH_RADIUS_KM, Scale, parse_scale

__all__ = [
    "EARTH_RADIUS_KM",
    "InputError",
    "Predictions",
    "Scale",
    "parse_scale",
    "__version__",
]
