"""Options of the statistics: declared once, as frozen dataclasses, validated once.

Every option is a dataclass field made by :func:`option`: its default, its help text, its
command-line flag and its bounds live in one place. From these fields come the command
line's options (:mod:`pygbs.cli.options`), the keyword arguments of :func:`pygbs.score`,
the ``parameters`` block of ``summary.json`` and the checks of every value, each with one
message naming the option and its flag.

:class:`CommonOptions` holds what every score shares (scales, neighbourhood size,
inference); each statistic family declares its own options class beside its scores in
:mod:`pygbs.stats.scores` (e.g. :class:`pygbs.stats.scores.ssi.SSIOptions`).

This module imports nothing heavy: the command line reads it to build its options.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, ClassVar

from pygbs.errors import InputError
from pygbs.geo.scales import DEFAULT_K_MAX, DEFAULT_MIN_POINTS, EARTH_RADIUS_KM

__all__ = [
    "DEFAULT_SCALES",
    "DEFAULT_SCORES",
    "MAX_SEED",
    "SAME",
    "CommonOptions",
    "OptionSpec",
    "Options",
    "option",
    "option_fields",
]


#: :attr:`OptionSpec.cli_default` of an option whose command-line default is its default.
SAME = "<same>"


@dataclass(frozen=True)
class OptionSpec:
    """What an option field says about itself (its ``metadata["option"]``).

    Attributes
    ----------
    help : str
        Help text of the command-line option (one sentence or two).
    flag : str or None
        Command-line flag (``'--k'``); None: a library option only.
    kind : {int, float, str}
        Type of the value.
    choices : tuple of str, optional
        The allowed values of a ``str`` option.
    low, high : float, optional
        Bounds of a number (inclusive, unless ``low_open``).
    low_open, high_open : bool
        ``low`` (``high``) itself is not allowed.
    none : bool
        None is allowed (``'none'`` on the command line when the default is not None).
    km : bool
        The command line takes kilometres; the value is in radians.
    multiple : bool
        The flag is repeated, one value each time (a tuple).
    metavar : str, optional
        Placeholder of the value in the help.
    cli_default : object
        Default on the command line where it differs from the library's (a command then
        picks its own; :data:`SAME` otherwise).
    summary : str or None
        Key in ``summary.json``'s parameters (default: the field name); ``''``: not
        recorded there.
    """

    help: str
    flag: str | None = None
    kind: type = int
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    none: bool = False
    km: bool = False
    multiple: bool = False
    metavar: str | None = None
    cli_default: Any = SAME
    summary: str | None = None

    def requirement(self, with_none: bool = True) -> str:
        """What a valid value is, in words (``'an integer >= 1'``)."""
        if self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.kind is int:
            if self.low is not None and self.high is not None:
                text = f"an integer from {int(self.low)} to {int(self.high)}"
            elif self.low is not None:
                text = f"an integer >= {int(self.low)}"
            else:
                text = "an integer"
        else:
            text = "a finite number"
            if self.low is not None:
                text += f" {'>' if self.low_open else '>='} {self.low:g}"
            if self.high is not None:
                cmp = "<" if self.high_open else "<="
                text += f"{' and' if self.low is not None else ''} {cmp} {self.high:g}"
        return text + (" or None" if self.none and with_none else "")

    def valid(self, value: Any) -> bool:
        """Whether ``value`` meets the spec."""
        if value is None:
            return self.none
        if self.choices is not None:
            return isinstance(value, str) and value in self.choices
        if self.kind is int:
            if isinstance(value, bool) or not isinstance(value, Integral):
                return False
        elif self.kind is float:
            if isinstance(value, bool) or not isinstance(value, Real):
                return False
            if not math.isfinite(float(value)):
                return False
        else:
            return isinstance(value, self.kind)
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)


def option(default: Any, help: str, **spec: Any) -> Any:  # noqa: A002 (the help text)
    """A dataclass field with its :class:`OptionSpec` (keyword arguments of the spec)."""
    return field(default=default, metadata={"option": OptionSpec(help=help, **spec)})


def option_fields(cls: type) -> Iterator[tuple[dataclasses.Field[Any], OptionSpec]]:
    """The option fields of an options class, in declaration order, with their specs."""
    for f in dataclasses.fields(cls):
        if "option" in f.metadata:
            yield f, f.metadata["option"]


def described(name: str, spec: OptionSpec) -> str:
    """``'name (--flag)'``: how a message names an option."""
    return f"{name} ({spec.flag})" if spec.flag else name


def shown(value: Any, spec: OptionSpec) -> str:
    """The value as a message quotes it (kilometres for a radians option with a km flag)."""
    if spec.km and isinstance(value, Real) and not isinstance(value, bool):
        return f"{float(value) * EARTH_RADIUS_KM!r} km"
    return repr(value)


@dataclass(frozen=True)
class Options:
    """Base of every options class: each field is checked against its spec on creation.

    Subclasses add their own checks in :meth:`check` (called after the fields' checks)
    and may describe how their values read in ``summary.json`` (:meth:`parameters`).
    """

    #: Key of the family's block in ``summary.json``'s parameters (None: its keys sit at
    #: the top level of the parameters).
    SUMMARY_BLOCK: ClassVar[str | None] = None
    #: Whether the block is written (as null) when none of the family's scores runs.
    SUMMARY_ALWAYS: ClassVar[bool] = False

    def __post_init__(self) -> None:
        for f, spec in option_fields(type(self)):
            value = getattr(self, f.name)
            if spec.multiple:
                continue  # sequences are checked by the class (scales, scores)
            if not spec.valid(value):
                raise InputError(
                    f"{described(f.name, spec)} must be "
                    f"{spec.requirement(with_none=value is None or isinstance(value, str))}; "
                    f"got {shown(value, spec)}"
                )
        self.check()

    def check(self) -> None:
        """Checks that involve several fields (none by default)."""

    def check_with(self, common: CommonOptions, scores: tuple[str, ...]) -> None:
        """Checks against the shared options and the scores of a run (none by default)."""

    def parameters(self) -> dict[str, Any]:
        """The options as ``summary.json`` records them (summary key -> value)."""
        out = {}
        for f, spec in option_fields(type(self)):
            if spec.summary != "":
                out[spec.summary or f.name] = getattr(self, f.name)
        return out


#: Scales scored when none are given.
DEFAULT_SCALES = ("100km", "1000km", "nn50")
#: Scores computed when none are given.
DEFAULT_SCORES = ("unmarked", "marked")
#: Largest seed (numba and NumPy take 32-bit seeds).
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class CommonOptions(Options):
    """Options that every score shares: scales, neighbourhoods, seed and inference.

    Attributes
    ----------
    scales : tuple of str
        ``'<r>km'`` distance scales and ``'nn<K>'`` nearest-neighbour scales.
    scores : tuple of str
        The ``--score`` names of the scores to compute (checked against the registry by
        :class:`pygbs.stats.scoring.ScoringOptions`).
    k_max : int or None
        Cap on distance-scale neighbourhoods (None: no cap).
    min_points : int
        Smaller neighbourhoods are not scored.
    seed : int
        Seed of every random draw (permutation tests, null draws, bootstrap).
    bootstrap : int
        Spatial block-bootstrap replicates of each headline mean (0: no interval).
    null : {'none', 'accuracy'}
        The accuracy-matched null (docs/method.md, D7).
    null_draws : int
        Draws of the accuracy-matched null.
    ci : float
        Level of the headline intervals.
    alpha : float
        Level of the ``share_significant`` aggregates.
    """

    scales: tuple[str, ...] = option(
        DEFAULT_SCALES,
        f"'<r>km' or 'nn<K>'; repeat for several (default: {' '.join(DEFAULT_SCALES)}).",
        flag="--scale",
        kind=str,
        multiple=True,
        metavar="SCALE",
    )
    scores: tuple[str, ...] = option(
        DEFAULT_SCORES,
        f"Score to compute; repeat for several (default: {' '.join(DEFAULT_SCORES)}).",
        flag="--score",
        kind=str,
        multiple=True,
    )
    k_max: int | None = option(
        DEFAULT_K_MAX,
        "Cap on distance-scale neighbourhoods ('none' for no cap).",
        flag="--k-max",
        low=1,
        none=True,
    )
    min_points: int = option(
        DEFAULT_MIN_POINTS, "Smaller neighbourhoods are not scored.", flag="--min-points", low=1
    )
    seed: int = option(0, "Seed of permutation tests.", flag="--seed", low=0, high=MAX_SEED)
    bootstrap: int = option(
        1000,
        "Spatial block-bootstrap replicates of each headline interval (0: none).",
        flag="--bootstrap",
        low=0,
    )
    null: str = option(
        "none",
        "Accuracy-matched null: score random permutations of the model's coded performance "
        "among its samples and report each score's excess over them (default: accuracy for "
        "compare, profile and report; none for score and map).",
        flag="--null",
        kind=str,
        choices=("accuracy", "none"),
        cli_default=None,
    )
    null_draws: int = option(99, "Draws of the accuracy-matched null.", flag="--null-draws", low=1)
    ci: float = option(
        0.95,
        "Level of the headline intervals (ci_low, ci_high).",
        flag="--ci",
        kind=float,
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    )
    alpha: float = option(
        0.05,
        "Level of the share_significant and share_significant_fdr aggregates.",
        kind=float,
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    )

    def check(self) -> None:
        """Scales and scores are non-empty sequences of names; bootstrap is not 1."""
        for name in ("scales", "scores"):
            value = self.__dict__[name]
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise InputError(f"{name} must be a sequence of names; got {value!r}")
        if not self.scales:
            raise InputError("give at least one scale")
        if not self.scores:
            raise InputError("give at least one score")
        if self.bootstrap == 1:
            raise InputError(
                "bootstrap replicates (--bootstrap) must be 0 (no interval) or at least 2; got 1"
            )
