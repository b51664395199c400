"""The caps of ``synthetic-vmf-biased`` and ``-sparse`` and their true location model.

:data:`BIASED_REGIONS` are the default caps; :func:`region_of` says which cap holds each
location; :func:`region_mixture` moves classes into the caps and
:func:`region_image_probs` makes the image model poorer there. :func:`location_density`
and :func:`location_posterior` rebuild the mixture a dataset was drawn from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from encoders.data._base import GeoDataset
from encoders.data._simulate import lonlat_to_xyz
from encoders.data.synthetic_vmf.vmf import CHUNK, mixture
from pygbs.errors import InputError
from pygbs.geo.scales import EARTH_RADIUS_KM

__all__ = [
    "BIASED_REGIONS",
    "REGION_PLACE",
    "REGION_SPREAD",
    "location_density",
    "location_posterior",
    "parse_regions",
    "region_image_probs",
    "region_mixture",
    "region_of",
]


#: The biased regions of ``synthetic-vmf-biased``: name -> (lon, lat, radius_km), spherical
#: caps in which the simulated image model is poorer (docs/training.md, "synthetic-vmf-biased").
BIASED_REGIONS: dict[str, tuple[float, float, float]] = {
    "west-africa": (10.0, 10.0, 1000.0),
    "south-america": (-60.0, -15.0, 1000.0),
    "south-asia": (80.0, 20.0, 1000.0),
    "australia": (135.0, -25.0, 1000.0),
}
#: Angular spread of a region class relative to its cap's angular radius.
REGION_SPREAD = 0.5
#: Centres of the region classes lie within this share of their cap's radius.
REGION_PLACE = 0.25


def parse_regions(regions: Any) -> dict[str, tuple[float, float, float]]:
    """``{name: (lon, lat, radius_km)}`` of the ``regions`` option (a mapping or a list)."""
    if isinstance(regions, Mapping):
        items = [(str(k), v) for k, v in regions.items()]
    elif isinstance(regions, list | tuple):
        items = [(f"region_{i + 1}", v) for i, v in enumerate(regions)]
    else:
        raise InputError(
            f"option 'regions' must map names to [lon, lat, radius_km] or list such triples; "
            f"got {regions!r}"
        )
    if not items:
        raise InputError("option 'regions' needs at least one [lon, lat, radius_km] cap")
    out = {}
    for name, cap in items:
        try:
            lon, lat, r = (float(v) for v in cap)
        except (TypeError, ValueError):
            raise InputError(
                f"option 'regions': region {name!r} must be [lon, lat, radius_km]; got {cap!r}"
            ) from None
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0 and 0.0 < r <= 5000.0):
            raise InputError(
                f"option 'regions': region {name!r} needs lon in [-180, 180], lat in [-90, 90] "
                f"and 0 < radius_km <= 5000; got {cap!r}"
            )
        out[name] = (lon, lat, r)
    return out


def _in_cap_points(
    centre: np.ndarray, radius: float, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` unit vectors uniform (by area) in the cap of angular ``radius`` around ``centre``."""
    cos_t = rng.uniform(np.cos(radius), 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    sin_t = np.sqrt(np.clip(1.0 - cos_t**2, 0.0, None))
    ref = np.array([0.0, 0.0, 1.0]) if abs(centre[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(centre, ref)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(centre, e1)
    return (
        cos_t[:, None] * centre[None, :]
        + (sin_t * np.cos(phi))[:, None] * e1[None, :]
        + (sin_t * np.sin(phi))[:, None] * e2[None, :]
    )


def region_of(lonlat: np.ndarray, regions: Any = None) -> np.ndarray:
    """Index of the biased region (cap) holding each location, -1 outside every cap.

    Parameters
    ----------
    lonlat : ndarray of shape (n, 2)
        (longitude, latitude) in degrees.
    regions : mapping or list, optional
        The caps, as the ``regions`` option of :func:`load_biased` (default
        :data:`BIASED_REGIONS`). A location in several caps gets the first.

    Returns
    -------
    ndarray of shape (n,), int64
        Position of the cap in ``regions``, or -1.
    """
    caps = parse_regions(BIASED_REGIONS if regions is None else regions)
    xyz = lonlat_to_xyz(np.asarray(lonlat, dtype=np.float64))
    out = np.full(xyz.shape[0], -1, dtype=np.int64)
    for j, (lon, lat, r) in reversed(list(enumerate(caps.values()))):
        centre = lonlat_to_xyz(np.array([[lon, lat]]))[0]
        inside = xyz @ centre >= np.cos(r / EARTH_RADIUS_KM)
        out[inside] = j
    return out


def region_image_probs(
    labels: np.ndarray,
    region: np.ndarray,
    groups: np.ndarray,
    members: np.ndarray,
    rng: np.random.Generator,
    *,
    signal: float,
    group_signal: float,
    noise: float,
    region_signal: float,
    region_group_signal: float,
) -> np.ndarray:
    """Image probabilities whose confusion set depends on where the sample lies.

    Outside every cap (``region == -1``) the logits are those of
    :func:`encoders.data._simulate.simulate_image_probs` (the true class's far-apart group);
    inside cap ``j`` the confusion set is the true class plus the classes centred in that
    cap (``members[j]``), with the bonuses ``region_group_signal`` and ``region_signal``.
    """
    n, c = labels.shape[0], groups.shape[0]
    rows = np.arange(n)
    inside = region >= 0
    logits = noise * rng.standard_normal((n, c))
    confuse = groups[None, :] == groups[labels][:, None]
    confuse[inside] = members[region[inside]]
    confuse[rows, labels] = True
    bonus_group = np.where(inside, region_group_signal, group_signal)
    bonus_true = np.where(inside, region_signal, signal)
    logits += bonus_group[:, None] * confuse
    logits[rows, labels] += bonus_true
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return p.astype(np.float32)


def region_mixture(
    c: int,
    k: int,
    caps: dict[str, tuple[float, float, float]],
    kappa_low: float,
    kappa_high: float,
    polar_fraction: float,
    imbalance: float,
    rng: np.random.Generator,
    *,
    place: float,
    spread: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The mixture of synthetic-vmf with the last ``k`` classes per cap moved into it.

    Class centres lie uniformly within ``place`` times the cap's radius, with an angular
    spread of ``spread`` times the radius (κ = 1 / (spread r)²) and the mean prior 1 / c.
    Returns ``mu`` (C, 3), ``kappa`` (C,), ``prior`` (C,) and ``members`` (caps, C), the
    classes of each cap.
    """
    mu, kappa, prior = mixture(c, kappa_low, kappa_high, polar_fraction, imbalance, rng)
    members = np.zeros((len(caps), c), dtype=bool)
    for j, (lon, lat, r_km) in enumerate(caps.values()):
        ids = np.arange(c - k * (j + 1), c - k * j)
        radius = r_km / EARTH_RADIUS_KM
        centre = lonlat_to_xyz(np.array([[lon, lat]]))[0]
        mu[ids] = _in_cap_points(centre, place * radius, k, rng)
        kappa[ids] = 1.0 / (spread * radius) ** 2
        prior[ids] = 1.0 / c
        members[j, ids] = True
    prior /= prior.sum()
    return mu, kappa, prior, members


def _location_model(dataset: GeoDataset, lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mixture density of the locations (per steradian) and ``P(class | location)``."""
    info = dataset.info
    if dataset.name == "synthetic-vmf-biased":
        place, spread = REGION_PLACE, REGION_SPREAD
    elif dataset.name == "synthetic-vmf-sparse":
        place, spread = float(info["region_place"]), float(info["region_spread"])
    else:
        raise InputError(
            f"the true location posterior is known for synthetic-vmf-biased and "
            f"synthetic-vmf-sparse only; got {dataset.name!r}"
        )
    caps = parse_regions(info["regions"])
    rng = np.random.default_rng(info["seed"])
    c = int(info["num_classes"])
    mu, kappa, prior, _ = region_mixture(
        c, int(info["region_classes"]), caps, info["kappa_low"], info["kappa_high"],
        info["polar_fraction"], info["imbalance"], rng, place=place, spread=spread,
    )  # fmt: skip
    xyz = lonlat_to_xyz(np.asarray(lonlat, dtype=np.float64))
    # log vMF density on S^2: log κ - log 2π - log(1 - e^{-2κ}) + κ (μ·x - 1)
    log_c = np.log(kappa) - np.log(2.0 * np.pi) - np.log1p(-np.exp(-2.0 * kappa))
    out = np.empty((xyz.shape[0], c))
    density = np.empty(xyz.shape[0])
    for i in range(0, xyz.shape[0], CHUNK):
        logp = np.log(prior) + log_c + kappa * (xyz[i : i + CHUNK] @ mu.T - 1.0)
        top = logp.max(axis=1, keepdims=True)
        p = np.exp(logp - top)
        total = p.sum(axis=1, keepdims=True)
        out[i : i + CHUNK] = p / total
        density[i : i + CHUNK] = (total * np.exp(top))[:, 0]
    v = float(info["vagrant_fraction"])
    return density, (1.0 - v) * out + v / c


def location_density(dataset: GeoDataset, lonlat: np.ndarray) -> np.ndarray:
    """The density of the locations of a synthetic-vmf-biased or -sparse dataset.

    ``Σ_c π_c f_c(x)``, the vMF mixture the locations are drawn from (rebuilt from
    ``dataset.info``), per steradian: the density of the test split. The training split of
    synthetic-vmf-sparse is this density thinned in the caps (``train_region_rate``).

    Parameters
    ----------
    dataset : GeoDataset
        A dataset made by :func:`load_biased` or :func:`load_sparse`.
    lonlat : ndarray of shape (n, 2)
        Locations (degrees).

    Returns
    -------
    ndarray of shape (n,), float64
        Integrates to 1 over the sphere.
    """
    return _location_model(dataset, lonlat)[0]


def location_posterior(dataset: GeoDataset, lonlat: np.ndarray) -> np.ndarray:
    """The true P(class | location) of a synthetic-vmf-biased or -sparse dataset.

    The generator's mixture is rebuilt from ``dataset.info`` (its seed and options):
    ``P(y | x) = (1 - v) π_y f_y(x) / Σ_c π_c f_c(x) + v / C`` with ``f_c`` the vMF densities,
    ``π`` the class priors and ``v`` the vagrant share (a vagrant's class is uniform).
    Thinning the training caps (synthetic-vmf-sparse) changes where samples are, not the
    class given the location.

    Parameters
    ----------
    dataset : GeoDataset
        A dataset made by :func:`load_biased` or :func:`load_sparse`.
    lonlat : ndarray of shape (n, 2)
        Locations (degrees).

    Returns
    -------
    ndarray of shape (n, C), float64
        Each row sums to 1.
    """
    return _location_model(dataset, lonlat)[1]
