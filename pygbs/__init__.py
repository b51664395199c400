"""pygbs: Geo-Bias Scores of GeoAI models.

Spatial self-information (SSI, unmarked and marked) and spatial relative information (SRI)
of a model's per-location performance, at distance and nearest-neighbour scales.

The public names below are imported on first use, so ``import pygbs`` is quick and
pandas, numba and the plotting stack load only when something needs them
(docs/api.md).

Examples
--------
>>> import pygbs
>>> res = pygbs.score("preds.csv.gz", scales=["100km", "nn50"])  # doctest: +SKIP
>>> res.headline("marked", "100km")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from pygbs.api import score
    from pygbs.by_dataset import compare_by_dataset
    from pygbs.coding import Coding, code_performance
    from pygbs.comparing import compare
    from pygbs.datasets import copy_examples, example_files, example_path
    from pygbs.errors import InputError
    from pygbs.geo.neighbours import Neighbourhoods, SphereIndex
    from pygbs.geo.scales import EARTH_RADIUS_KM, Scale, parse_scale
    from pygbs.io.predictions import read_predictions
    from pygbs.predictions import Predictions
    from pygbs.regional import regions
    from pygbs.results.comparison import Comparison
    from pygbs.results.regions import RegionResult
    from pygbs.results.result import SCORE_COLUMNS, Aggregate, GeoBiasResult
    from pygbs.scale_profile import Profile, profile, scale_range
    from pygbs.stats.sri import sri_scores
    from pygbs.stats.ssi import ssi_scores

#: Public name -> the module that defines it (imported when the name is first used).
_EXPORTS = {
    "EARTH_RADIUS_KM": "pygbs.geo.scales",
    "SCORE_COLUMNS": "pygbs.results.result",
    "Aggregate": "pygbs.results.result",
    "Coding": "pygbs.coding",
    "Comparison": "pygbs.results.comparison",
    "GeoBiasResult": "pygbs.results.result",
    "InputError": "pygbs.errors",
    "Neighbourhoods": "pygbs.geo.neighbours",
    "Predictions": "pygbs.predictions",
    "Profile": "pygbs.scale_profile",
    "RegionResult": "pygbs.results.regions",
    "Scale": "pygbs.geo.scales",
    "SphereIndex": "pygbs.geo.neighbours",
    "code_performance": "pygbs.coding",
    "copy_examples": "pygbs.datasets",
    "compare": "pygbs.comparing",
    "compare_by_dataset": "pygbs.by_dataset",
    "example_files": "pygbs.datasets",
    "example_path": "pygbs.datasets",
    "parse_scale": "pygbs.geo.scales",
    "profile": "pygbs.scale_profile",
    "read_predictions": "pygbs.io.predictions",
    "regions": "pygbs.regional",
    "scale_range": "pygbs.scale_profile",
    "score": "pygbs.api",
    "sri_scores": "pygbs.stats.sri",
    "ssi_scores": "pygbs.stats.ssi",
}

__all__ = [
    "EARTH_RADIUS_KM",
    "SCORE_COLUMNS",
    "Aggregate",
    "Coding",
    "Comparison",
    "GeoBiasResult",
    "InputError",
    "Neighbourhoods",
    "Predictions",
    "Profile",
    "RegionResult",
    "Scale",
    "SphereIndex",
    "code_performance",
    "compare",
    "compare_by_dataset",
    "copy_examples",
    "example_files",
    "example_path",
    "parse_scale",
    "profile",
    "read_predictions",
    "regions",
    "scale_range",
    "score",
    "sri_scores",
    "ssi_scores",
    "__version__",
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("geobias")
    except PackageNotFoundError:  # pragma: no cover - source tree without install
        return "0.0.0"


def __getattr__(name: str) -> Any:
    """Import a public name on first access (PEP 562) and keep it in the module."""
    if name == "__version__":
        value: Any = _version()
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif not name.startswith("__"):
        # a submodule (``pygbs.api``, ``pygbs.plot``...), as when everything was imported
        # up front
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'pygbs' has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module 'pygbs' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
