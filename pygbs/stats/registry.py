"""The registry of scores: the one list of statistics, collected from :mod:`pygbs.stats.scores`.

Each module of :mod:`pygbs.stats.scores` declares a statistic family: its options class
and its :class:`ScoreDef` entries (name, column, label, units, skip reasons, computing
function, null, torch counterpart). The CLI's choices and options, :func:`pygbs.score`'s
options, the summary's parameters, the map and report labels, the result table and the
loss kinds of :mod:`encoders.losses` all read :data:`REGISTRY`; adding a score is one
module there plus its kernel (docs/method.md, "Adding a score").
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from pygbs.errors import InputError
from pygbs.stats import scores as _families
from pygbs.stats.definition import (
    REASONS,
    Batch,
    ScoreDef,
    ScoreValues,
    Surrogate,
    constant_neighbourhoods,
)
from pygbs.stats.options import Options

__all__ = [
    "FAMILIES",
    "REASONS",
    "REGISTRY",
    "Batch",
    "ScoreDef",
    "ScoreValues",
    "Surrogate",
    "constant_neighbourhoods",
    "get_score",
    "option_classes",
    "score_columns",
]


def _family_modules() -> list[ModuleType]:
    """Every module of :mod:`pygbs.stats.scores`, by its ``ORDER``."""
    mods = [
        importlib.import_module(f"{_families.__name__}.{m.name}")
        for m in pkgutil.iter_modules(_families.__path__)
        if not m.name.startswith("_")
    ]
    return sorted(mods, key=lambda m: (m.ORDER, m.__name__))


#: The statistic family modules, in table order.
FAMILIES: tuple[ModuleType, ...] = tuple(_family_modules())

#: Every score, by ``--score`` name, in table order.
REGISTRY: dict[str, ScoreDef] = {d.name: d for m in FAMILIES for d in m.SCORES}


def option_classes() -> tuple[type[Options], ...]:
    """The options class of every family that has one, in table order."""
    return tuple(m.OPTIONS for m in FAMILIES if m.OPTIONS is not None)


def get_score(key: str) -> ScoreDef:
    """The score named ``key`` (a ``--score`` name or its column)."""
    if key in REGISTRY:
        return REGISTRY[key]
    for d in REGISTRY.values():
        if d.column == key:
            return d
    raise InputError(f"unknown score {key!r}; choose from {list(REGISTRY)}")


def score_columns() -> dict[str, str]:
    """``--score`` name -> per-centre column, for every registered score."""
    return {d.name: d.column for d in REGISTRY.values()}
