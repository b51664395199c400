"""Score names and defaults shared by the API and the CLI.

Kept in a module that imports nothing heavy, so that ``pygbs --help`` and the option
parsing of every command run without pandas or numba (docs/cli.md).
"""

from __future__ import annotations

from pygbs.stats.registry import REGISTRY

__all__ = [
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_CI",
    "DEFAULT_SCALES",
    "DEFAULT_NULL_DRAWS",
    "DEFAULT_SCORES",
    "SCORE_COLUMNS",
]

SCORE_COLUMNS = {d.name: d.column for d in REGISTRY.values()}
"""Score name (CLI ``--score``) -> column of the per-centre table (from the registry of
:mod:`pygbs.stats.registry`)."""
#: Scales scored when none are given.
DEFAULT_SCALES = ("100km", "1000km", "nn50")
#: Scores computed when none are given.
DEFAULT_SCORES = ("unmarked", "marked")
#: Block-bootstrap replicates of each headline interval (``--bootstrap``).
DEFAULT_BOOTSTRAP = 1000
#: Confidence level of the headline intervals (``--ci``).
DEFAULT_CI = 0.95
#: Draws of the accuracy-matched null (docs/method.md, D7).
DEFAULT_NULL_DRAWS = 99
