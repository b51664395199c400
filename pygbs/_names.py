"""Score names and defaults shared by the API and the CLI, read from their one source.

The defaults are those of the option dataclasses (:class:`pygbs.stats.options.CommonOptions`)
and the score names those of the registry (:mod:`pygbs.stats.registry`). Kept in a module
that imports nothing heavy, so that ``pygbs --help`` and the option parsing of every
command run without pandas or numba (docs/cli.md).
"""

from __future__ import annotations

from pygbs.stats.options import DEFAULT_SCALES, DEFAULT_SCORES, CommonOptions
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
#: Block-bootstrap replicates of each headline interval (``--bootstrap``).
DEFAULT_BOOTSTRAP: int = CommonOptions.bootstrap
#: Confidence level of the headline intervals (``--ci``).
DEFAULT_CI: float = CommonOptions.ci
#: Draws of the accuracy-matched null (docs/method.md, D7).
DEFAULT_NULL_DRAWS: int = CommonOptions.null_draws
