"""The validated options of one scoring run, derived from the registry.

:class:`ScoringOptions` holds the shared options (:class:`pygbs.stats.options.CommonOptions`)
and one options object per statistic family (:func:`pygbs.stats.registry.option_classes`).
:meth:`ScoringOptions.build` takes the keyword arguments of :func:`pygbs.score`, sends each
to the class that declares it and validates everything before any data is read;
:meth:`ScoringOptions.parameters` gives the statistics' part of ``summary.json``'s
``parameters``, and :func:`with_options` adds the options of every family to the
signature and docstring of :func:`pygbs.score`.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pygbs.errors import InputError
from pygbs.stats.options import CommonOptions, Options, OptionSpec, option_fields
from pygbs.stats.registry import REGISTRY, option_classes

__all__ = ["PARAMETER_ORDER", "ScoringOptions", "option_owners", "with_options"]

T = TypeVar("T", bound=Options)

#: Order of the keys of ``summary.json``'s ``parameters`` (as published); the options of
#: statistics added later follow, in registry order.
PARAMETER_ORDER = (
    "scales",
    "scores",
    "method",
    "k",
    "k_max",
    "min_points",
    "transform",
    "min_label",
    "near_zero_labels",
    "duplicates",
    "presence",
    "graph",
    "permutations",
    "seed",
    "null",
    "null_draws",
    "local_performance",
    "alpha",
    "bootstrap",
    "ci",
    "centres",
    "n_centres",
    "earth_radius_km",
    "sri",
)


def option_owners() -> dict[str, type[Options]]:
    """Option name -> the class that declares it (shared options first)."""
    owners: dict[str, type[Options]] = {}
    for cls in (CommonOptions, *option_classes()):
        for f, _ in option_fields(cls):
            owners.setdefault(f.name, cls)
    return owners


@dataclass(frozen=True)
class ScoringOptions:
    """The options of one scoring run: shared ones and each family's, all validated.

    Attributes
    ----------
    common : CommonOptions
        Scales, scores, neighbourhoods, seed and inference.
    families : tuple of Options
        One object per options class of :func:`pygbs.stats.registry.option_classes`.
    """

    common: CommonOptions
    families: tuple[Options, ...]

    @classmethod
    def build(cls, **options: Any) -> ScoringOptions:
        """Validated options from keyword arguments (defaults for those not given).

        Raises
        ------
        TypeError
            For a name that no options class declares.
        pygbs.errors.InputError
            For a bad value (one line naming the option and its flag).
        """
        owners = option_owners()
        per: dict[type[Options], dict[str, Any]] = {c: {} for c in set(owners.values())}
        for name, value in options.items():
            if name not in owners:
                raise TypeError(f"unknown scoring option {name!r}")
            if name in ("scales", "scores") and not isinstance(value, str):
                value = tuple(value)
            per[owners[name]][name] = value
        common = CommonOptions(**per.get(CommonOptions, {}))
        unknown = [s for s in common.scores if s not in REGISTRY]
        if unknown:
            raise InputError(f"unknown score {unknown[0]!r}; choose from {list(REGISTRY)}")
        families = tuple(c(**per.get(c, {})) for c in option_classes())
        run = cls(common, families)
        for fam in families:
            fam.check_with(common, common.scores)
        for name in common.scores:
            requires = REGISTRY[name].requires
            if requires is not None:
                requires(run)
        return run

    @property
    def scores(self) -> tuple[str, ...]:
        """The ``--score`` names of the run."""
        return self.common.scores

    def of(self, cls: type[T]) -> T:
        """The options of the family whose options class is ``cls``."""
        for fam in self.families:
            if type(fam) is cls:
                return fam
        raise KeyError(f"no options of class {cls.__name__} in this run")

    def parameters(self) -> dict[str, Any]:
        """The statistics' part of ``summary.json``'s ``parameters`` (unordered).

        The shared options, every family's flat keys, and each family's block (a family
        with :attr:`Options.SUMMARY_BLOCK` is written only when one of its scores runs,
        or as null where :attr:`Options.SUMMARY_ALWAYS`).
        """
        c = self.common
        out: dict[str, Any] = {
            "scores": list(c.scores),
            "k_max": c.k_max,
            "min_points": c.min_points,
            "seed": c.seed,
            "null": c.null,
            "null_draws": c.null_draws if c.null != "none" else None,
            "alpha": c.alpha,
            "bootstrap": c.bootstrap,
            "ci": c.ci,
        }
        for fam in self.families:
            block = type(fam).SUMMARY_BLOCK
            if block is None:
                out.update(fam.parameters())
                continue
            used = any(REGISTRY[s].options is type(fam) for s in c.scores)
            if used:
                out[block] = fam.parameters()
            elif type(fam).SUMMARY_ALWAYS:
                out[block] = None
        return out


def ordered_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` in :data:`PARAMETER_ORDER`, other keys after them in their own order."""
    known = {k: params[k] for k in PARAMETER_ORDER if k in params}
    return {**known, **{k: v for k, v in params.items() if k not in known}}


def _numpydoc_type(annotation: str, spec: OptionSpec, default: Any) -> str:
    if spec.choices is not None:
        kind = "{" + ", ".join(repr(c) for c in spec.choices) + "}"
    else:
        kind = annotation.replace(" | None", " or None")
    return f"{kind}, default={default!r}"


def with_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (taking ``**options``) with every family option it does not name explicitly.

    Its ``__signature__`` gains them as keyword-only parameters (before the ``**``
    parameter, which it loses) and its docstring's Parameters section their help, so that
    the options of a statistic added to :mod:`pygbs.stats.scores` appear in
    :func:`pygbs.score` without editing it.
    """
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    named = {p.name for p in params}
    docs = []
    for cls in option_classes():
        for f, spec in option_fields(cls):
            if f.name in named:
                continue
            annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            params.append(
                inspect.Parameter(
                    f.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=f.default,
                    annotation=annotation,
                )  # fmt: skip
            )
            flag = f" (command line: ``{spec.flag}``)" if spec.flag else ""
            text = textwrap.fill(
                spec.help + flag,
                width=88,
                initial_indent=" " * 8,
                subsequent_indent=" " * 8,
                break_on_hyphens=False,
                break_long_words=False,
            )
            docs.append(f"    {f.name} : {_numpydoc_type(annotation, spec, f.default)}\n{text}\n")
    fn.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    if docs and fn.__doc__ and "\n    Returns\n" in fn.__doc__:
        head, tail = fn.__doc__.split("\n    Returns\n", 1)
        fn.__doc__ = head.rstrip("\n") + "\n" + "".join(docs) + "\n    Returns\n" + tail
    return fn
