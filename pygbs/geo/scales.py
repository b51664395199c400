"""Neighbourhood scales: ``"100km"``, ``"1000km"``, ``"<r>km"``, ``"nn"``, ``"nn<K>"``."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pygbs.errors import InputError

__all__ = [
    "EARTH_RADIUS_KM",
    "MAX_RADIUS_KM",
    "Scale",
    "parse_scale",
    "DEFAULT_K_MAX",
    "DEFAULT_MIN_POINTS",
]

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), km. A radius of ``r`` km is ``r / EARTH_RADIUS_KM`` radians."""

#: Largest distance-scale radius: half the Earth's circumference (``pi`` radians, about
#: 20,015 km). Every point of the sphere lies within it, so a larger radius would select
#: the same neighbourhoods while changing the scores (the background grid fills a disc of
#: the given radius); such radii are refused.
MAX_RADIUS_KM = math.pi * EARTH_RADIUS_KM
#: Default cap on the neighbourhood size of distance scales (the reference examples' k).
DEFAULT_K_MAX = 100
#: Neighbourhoods with fewer samples get no score (NaN) and are counted.
DEFAULT_MIN_POINTS = 5
#: K of the bare ``"nn"`` scale.
DEFAULT_NN = 50

_KM = re.compile(r"^\s*((?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*km\s*$", re.IGNORECASE)
_NN = re.compile(r"^\s*nn(\d*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Scale:
    """A neighbourhood definition.

    Attributes
    ----------
    name : str
        Canonical name (``"100km"``, ``"nn50"``).
    radius_km : float or None
        Radius of a distance scale; None for a nearest-neighbour scale.
    k : int or None
        K of a nearest-neighbour scale (the centre included); None for a distance scale.
    k_max : int or None
        Cap on the size of a distance-scale neighbourhood (its ``k_max`` nearest samples
        within the radius); None means no cap. Unused for ``nn`` scales.
    min_points : int
        Neighbourhoods with fewer samples are not scored.
    """

    name: str
    radius_km: float | None
    k: int | None
    k_max: int | None
    min_points: int

    @property
    def is_knn(self) -> bool:
        """True for a nearest-neighbour scale."""
        return self.k is not None

    @property
    def radius_rad(self) -> float | None:
        """The radius in radians (distance scales only)."""
        return None if self.radius_km is None else self.radius_km / EARTH_RADIUS_KM


def _fmt_km(r: float) -> str:
    return f"{int(r)}km" if float(r).is_integer() else f"{r:g}km"


def parse_scale(
    spec: str | Scale,
    k_max: int | None = DEFAULT_K_MAX,
    min_points: int = DEFAULT_MIN_POINTS,
) -> Scale:
    """Parse a scale name.

    Parameters
    ----------
    spec : str or Scale
        ``"<r>km"`` (e.g. ``"100km"``, ``"2.5km"``), ``"nn"`` (= ``"nn50"``) or ``"nn<K>"``.
        A :class:`Scale` is returned unchanged.
    k_max : int or None, default=100
        Cap on distance-scale neighbourhoods; None for no cap.
    min_points : int, default=5
        Minimum neighbourhood size to be scored.

    Returns
    -------
    Scale

    Raises
    ------
    InputError
        For an unknown form, a non-positive radius or K, a radius beyond
        :data:`MAX_RADIUS_KM` (half the Earth's circumference), or bad
        ``k_max``/``min_points``.

    Examples
    --------
    >>> parse_scale("100km").radius_km
    100.0
    >>> parse_scale("nn").k
    50
    """
    if isinstance(spec, Scale):
        return spec
    if k_max is not None and (int(k_max) != k_max or k_max < 1):
        raise InputError(f"k_max must be a positive integer or None; got {k_max!r}")
    if int(min_points) != min_points or min_points < 1:
        raise InputError(f"min_points must be a positive integer; got {min_points!r}")
    text = str(spec)
    m = _KM.match(text)
    if m:
        r = float(m.group(1))
        if r <= 0:
            raise InputError(f"scale {text!r}: the radius must be positive")
        if r > MAX_RADIUS_KM:
            raise InputError(
                f"scale {text!r}: radius {r:g} km exceeds the maximum {MAX_RADIUS_KM:.1f} km "
                "(half the Earth's circumference, which already covers the whole sphere)"
            )
        return Scale(_fmt_km(r), r, None, None if k_max is None else int(k_max), int(min_points))
    m = _NN.match(text)
    if m:
        k = int(m.group(1)) if m.group(1) else DEFAULT_NN
        if k < 2:
            raise InputError(f"scale {text!r}: K must be at least 2")
        return Scale(f"nn{k}", None, k, None, int(min_points))
    raise InputError(
        f"unknown scale {text!r}; expected '<r>km' (e.g. '100km', '1000km') or 'nn<K>' "
        "(e.g. 'nn50'; 'nn' means nn50)"
    )
