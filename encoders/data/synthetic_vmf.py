"""``synthetic-vmf``: a Sphere2Vec-style synthetic benchmark of von Mises-Fisher mixtures.

Each class is one mixture component: a von Mises-Fisher (vMF) distribution on the unit
sphere with mean direction μ_c and concentration κ_c (log-uniform in
``[kappa_low, kappa_high]``; the angular spread is about 1/√κ radians). A share
``polar_fraction`` of the centres lies above 70° of latitude (north or south), the rest are
uniform on the sphere; class priors follow a Zipf law with exponent ``imbalance``, so some
classes (and the regions they cover) are data-sparse. Locations are drawn with Wood's (1994)
rejection sampler, vectorised over samples, so millions of points take seconds.

The simulated image model (see :mod:`encoders.data._simulate`) confuses classes whose
centres are far apart, so the location prior clearly helps.

With ``task="regression"`` the target is a smooth field on the sphere, a sum of vMF bumps
``y(x) = Σ_c a_c exp(κ_c (μ_c·x − 1)) + label_noise · N(0, 1)`` (a_c ∈ [0.5, 1.5]), at
locations drawn from the same mixture, and the "image features" are
``f = y · w + feature_noise · N(0, I)`` for a random direction ``w`` (informative but noisy).

``synthetic-vmf-biased`` (:func:`load_biased`) is a classification variant in which the
image model is deliberately poorer inside four named caps (:data:`BIASED_REGIONS`): there
it confuses classes centred in the same cap, which a location prior cannot tell apart, so
location-aware models have clustered errors at the caps while the image model's errors are
not clustered; a share of "vagrant" samples keeps every location-aware model from being
right everywhere in a neighbourhood. Every split, ``train`` included, has image
probabilities.

Everything is generated from ``seed``; the same options give the same arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from encoders.data._base import GeoDataset, Split
from encoders.data._simulate import (
    far_apart_groups,
    lonlat_to_xyz,
    simulate_image_probs,
    xyz_to_lonlat,
)
from pygbs.errors import InputError
from pygbs.geo.scales import EARTH_RADIUS_KM

__all__ = [
    "BIASED_REGIONS",
    "load",
    "load_biased",
    "load_sparse",
    "location_density",
    "location_posterior",
    "region_of",
    "sample_vmf",
]

#: Latitude (degrees) above which a "polar" class centre is placed.
POLAR_LAT = 70.0
#: Rows per chunk when evaluating the regression field (bounds memory for millions of rows).
_CHUNK = 65_536


def _wood_w(kappa: np.ndarray, rng: np.random.Generator, dim: int = 3) -> np.ndarray:
    """Draw w = μ·x for vMF samples on S^(dim-1) (Wood 1994), vectorised rejection."""
    m1 = dim - 1.0
    kappa = np.asarray(kappa, dtype=np.float64)
    # b = (-2κ + sqrt(4κ² + (m-1)²)) / (m-1), in a form without cancellation for large κ
    b = m1 / (2.0 * kappa + np.sqrt(4.0 * kappa**2 + m1**2))
    x0 = (1.0 - b) / (1.0 + b)
    c = kappa * x0 + m1 * np.log1p(-(x0**2))
    w = np.empty_like(kappa)
    todo = np.arange(kappa.shape[0])
    while todo.size:
        z = rng.beta(m1 / 2.0, m1 / 2.0, size=todo.size)
        u = rng.random(todo.size)
        bb = b[todo]
        ww = (1.0 - (1.0 + bb) * z) / (1.0 - (1.0 - bb) * z)
        ok = kappa[todo] * ww + m1 * np.log1p(-x0[todo] * ww) - c[todo] >= np.log(u)
        w[todo[ok]] = ww[ok]
        todo = todo[~ok]
    return w


def sample_vmf(mu: np.ndarray, kappa: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one vMF sample on the unit sphere per row of ``mu``.

    Parameters
    ----------
    mu : ndarray of shape (n, 3)
        Mean directions (unit vectors).
    kappa : ndarray of shape (n,)
        Concentrations (> 0).
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    ndarray of shape (n, 3), float64
        Unit vectors.
    """
    mu = np.asarray(mu, dtype=np.float64)
    w = _wood_w(kappa, rng)
    # orthonormal tangent basis (e1, e2) at mu, then a uniform direction in it
    ref = np.where(np.abs(mu[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    e1 = np.cross(mu, ref)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(mu, e1)
    theta = rng.uniform(0.0, 2.0 * np.pi, size=w.shape[0])
    s = np.sqrt(np.clip(1.0 - w**2, 0.0, None))
    return w[:, None] * mu + s[:, None] * (
        np.cos(theta)[:, None] * e1 + np.sin(theta)[:, None] * e2
    )


def _centres(num_classes: int, polar_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Class centres (C, 2) lon/lat degrees: a polar share above POLAR_LAT, rest uniform."""
    n_polar = round(polar_fraction * num_classes)
    lon = rng.uniform(-180.0, 180.0, num_classes)
    sin_lat = rng.uniform(-1.0, 1.0, num_classes)
    s_polar = np.sin(np.radians(POLAR_LAT))
    sin_lat[:n_polar] = rng.uniform(s_polar, 1.0, n_polar) * rng.choice([-1.0, 1.0], n_polar)
    return np.stack([lon, np.degrees(np.arcsin(sin_lat))], axis=1)


def _check_common(
    n_train: int,
    n_val: int,
    n_test: int,
    num_classes: int,
    kappa_low: float,
    kappa_high: float,
    polar_fraction: float,
    group_size: int,
) -> None:
    """Validate the options shared by both variants (one-line :class:`InputError`)."""
    for opt, val in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if int(val) < 1:
            raise InputError(f"option {opt!r} must be >= 1; got {val!r}")
    if int(num_classes) < 2:
        raise InputError(f"option 'num_classes' must be >= 2; got {num_classes!r}")
    if not 0 < kappa_low <= kappa_high:
        raise InputError(
            f"options 'kappa_low', 'kappa_high' need 0 < low <= high; got {kappa_low}, {kappa_high}"
        )
    if not 0.0 <= polar_fraction <= 1.0:
        raise InputError(f"option 'polar_fraction' must be in [0, 1]; got {polar_fraction!r}")
    if int(group_size) < 1:
        raise InputError(f"option 'group_size' must be >= 1; got {group_size!r}")


def _mixture(
    c: int,
    kappa_low: float,
    kappa_high: float,
    polar_fraction: float,
    imbalance: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class centres (C, 3) as unit vectors, concentrations (C,) and priors (C,)."""
    centres = _centres(c, polar_fraction, rng)
    mu = lonlat_to_xyz(centres)
    kappa = np.exp(rng.uniform(np.log(kappa_low), np.log(kappa_high), c))
    prior = rng.permutation(1.0 / np.arange(1, c + 1) ** float(imbalance))
    prior /= prior.sum()
    return mu, kappa, prior


def _draw(
    mu: np.ndarray,
    kappa: np.ndarray,
    prior: np.ndarray,
    sizes: tuple[int, int, int],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Labels, unit vectors, float32 lon/lat and the row indices of the three splits."""
    n = sum(sizes)
    labels = rng.choice(mu.shape[0], size=n, p=prior).astype(np.int64)
    xyz = sample_vmf(mu[labels], kappa[labels], rng)
    lonlat = xyz_to_lonlat(xyz).astype(np.float32)
    parts = np.split(np.arange(n), np.cumsum(sizes)[:-1])
    return labels, xyz, lonlat, parts


def load(
    *,
    n_train: int = 20_000,
    n_val: int = 2_000,
    n_test: int = 3_000,
    num_classes: int = 50,
    kappa_low: float = 8.0,
    kappa_high: float = 128.0,
    polar_fraction: float = 0.1,
    imbalance: float = 1.0,
    group_size: int = 4,
    image_signal: float = 1.0,
    image_group_signal: float = 3.0,
    image_noise: float = 1.0,
    task: str = "classification",
    feature_dim: int = 8,
    feature_noise: float = 1.0,
    label_noise: float = 0.05,
    seed: int = 0,
) -> GeoDataset:
    """Generate the synthetic vMF-mixture dataset.

    Parameters
    ----------
    n_train, n_val, n_test : int
        Split sizes (each >= 1).
    num_classes : int, default=50
        Mixture components (= classes), >= 2.
    kappa_low, kappa_high : float
        Range of the log-uniform concentrations (0 < low <= high).
    polar_fraction : float, default=0.1
        Share of class centres placed above 70° latitude, in [0, 1].
    imbalance : float, default=1.0
        Zipf exponent of the class priors (0 = balanced).
    group_size : int, default=4
        Size of the image model's confusion groups of far-apart classes.
    image_signal, image_group_signal, image_noise : float
        Simulated image logits (see :func:`encoders.data._simulate.simulate_image_probs`).
    task : {'classification', 'regression'}
        Class labels with image probabilities, or a smooth field with image features.
    feature_dim : int, default=8
        Width of the image features (regression).
    feature_noise, label_noise : float
        Noise of the image features and of the regression target.
    seed : int, default=0
        Seed of everything.

    Returns
    -------
    GeoDataset
    """
    _check_common(
        n_train, n_val, n_test, num_classes, kappa_low, kappa_high, polar_fraction, group_size
    )
    if task not in ("classification", "regression"):
        raise InputError(f"option 'task' must be 'classification' or 'regression'; got {task!r}")
    if int(feature_dim) < 1:
        raise InputError(f"option 'feature_dim' must be >= 1; got {feature_dim!r}")
    rng = np.random.default_rng(seed)
    c = int(num_classes)
    mu, kappa, prior = _mixture(c, kappa_low, kappa_high, polar_fraction, imbalance, rng)
    sizes = (int(n_train), int(n_val), int(n_test))
    labels, xyz, lonlat, parts = _draw(mu, kappa, prior, sizes, rng)
    n = sum(sizes)
    info = {
        "n_train": sizes[0], "n_val": sizes[1], "n_test": sizes[2], "num_classes": c,
        "kappa_low": kappa_low, "kappa_high": kappa_high, "polar_fraction": polar_fraction,
        "imbalance": imbalance, "group_size": group_size, "image_signal": image_signal,
        "image_group_signal": image_group_signal, "image_noise": image_noise, "task": task,
        "feature_dim": feature_dim, "feature_noise": feature_noise,
        "label_noise": label_noise, "seed": seed,
    }  # fmt: skip
    if task == "classification":
        groups = far_apart_groups(mu, int(group_size), rng)
        splits = []
        for name, idx in zip(("train", "val", "test"), parts):
            probs = None
            if name != "train":  # the location model is trained on locations alone
                probs = simulate_image_probs(
                    labels[idx], groups, rng, signal=image_signal,
                    group_signal=image_group_signal, noise=image_noise,
                )  # fmt: skip
            splits.append(Split(lonlat=lonlat[idx], label=labels[idx], image_probs=probs))
        return GeoDataset(
            name="synthetic-vmf",
            task="classification",
            num_classes=c,
            class_names=tuple(f"class_{i}" for i in range(c)),
            train=splits[0],
            val=splits[1],
            test=splits[2],
            info=info,
        )
    amp = rng.uniform(0.5, 1.5, c)
    field = np.concatenate(
        [
            (amp * np.exp(kappa * (xyz[i : i + _CHUNK] @ mu.T - 1.0))).sum(axis=1)
            for i in range(0, n, _CHUNK)
        ]
    )
    y = (field + label_noise * rng.standard_normal(n)).astype(np.float32)
    w = rng.standard_normal(int(feature_dim))
    w /= np.linalg.norm(w)
    feats = y[:, None] * w[None, :] + feature_noise * rng.standard_normal((n, len(w)))
    feats = feats.astype(np.float32)
    splits = [Split(lonlat=lonlat[idx], label=y[idx], image_features=feats[idx]) for idx in parts]
    return GeoDataset(
        name="synthetic-vmf",
        task="regression",
        train=splits[0],
        val=splits[1],
        test=splits[2],
        info=info,
    )


#: The biased regions of ``synthetic-vmf-biased``: name -> (lon, lat, radius_km), spherical
#: caps in which the simulated image model is poorer (docs/training.md, "synthetic-vmf-biased").
BIASED_REGIONS: dict[str, tuple[float, float, float]] = {
    "west-africa": (10.0, 10.0, 1000.0),
    "south-america": (-60.0, -15.0, 1000.0),
    "south-asia": (80.0, 20.0, 1000.0),
    "australia": (135.0, -25.0, 1000.0),
}
#: Angular spread of a region class relative to its cap's angular radius.
_REGION_SPREAD = 0.5
#: Centres of the region classes lie within this share of their cap's radius.
_REGION_PLACE = 0.25


def _parse_regions(regions: Any) -> dict[str, tuple[float, float, float]]:
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
    caps = _parse_regions(BIASED_REGIONS if regions is None else regions)
    xyz = lonlat_to_xyz(np.asarray(lonlat, dtype=np.float64))
    out = np.full(xyz.shape[0], -1, dtype=np.int64)
    for j, (lon, lat, r) in reversed(list(enumerate(caps.values()))):
        centre = lonlat_to_xyz(np.array([[lon, lat]]))[0]
        inside = xyz @ centre >= np.cos(r / EARTH_RADIUS_KM)
        out[inside] = j
    return out


def _region_image_probs(
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


def _region_mixture(
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
    mu, kappa, prior = _mixture(c, kappa_low, kappa_high, polar_fraction, imbalance, rng)
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


def load_biased(
    *,
    n_train: int = 20_000,
    n_val: int = 2_000,
    n_test: int = 10_000,
    num_classes: int = 50,
    kappa_low: float = 8.0,
    kappa_high: float = 128.0,
    polar_fraction: float = 0.1,
    imbalance: float = 1.0,
    group_size: int = 4,
    image_signal: float = 1.0,
    image_group_signal: float = 3.0,
    image_noise: float = 1.0,
    regions: Any = None,
    region_classes: int = 4,
    region_signal: float = 0.0,
    region_group_signal: float = 3.0,
    vagrant_fraction: float = 0.2,
    seed: int = 0,
) -> GeoDataset:
    """Generate ``synthetic-vmf-biased``: synthetic-vmf with a poorer image model in caps.

    A variant of :func:`load` (classification only) built so that location-aware models
    are geo-biased in known places while the image model alone is not:

    * **Regions.** ``regions`` are spherical caps, by default the four of
      :data:`BIASED_REGIONS` (1,000 km radius each): ``west-africa`` (10° E, 10° N),
      ``south-america`` (60° W, 15° S), ``south-asia`` (80° E, 20° N) and ``australia``
      (135° E, 25° S).
    * **Co-located classes.** In each cap, ``region_classes`` classes (the last ones) have
      their centre drawn uniformly within a quarter of the cap's radius, a spread of half
      its radius (κ = 1 / (r/2)², r in radians) and the mean prior 1 / ``num_classes``.
      They overlap so much that a location prior cannot tell them apart.
    * **Poorer image model in the caps.** Outside every cap the image probabilities are
      those of synthetic-vmf (confusion within far-apart groups, which a location prior
      resolves). For a sample located inside a cap, the image model confuses the true class
      with the classes centred in that cap instead (logit bonus ``region_group_signal``)
      and gives the true class only ``region_signal`` more (default 0: no better than its
      co-located rivals). Location-aware models therefore fail inside the caps and
      succeed around them: their errors cluster at the caps.
    * **Vagrants.** A share ``vagrant_fraction`` of all samples has its class redrawn
      uniformly after its location was drawn (a bird far from its range, a mislabelled
      geotag), and the image model sees the new class. Location priors get most of them
      wrong everywhere alike, so no neighbourhood of a location-aware model is right at
      every sample (pygbs's constant-neighbourhood case, docs/method.md).
    * Every split, ``train`` included, has ``image_probs``.

    Parameters
    ----------
    n_train, n_val, n_test : int
        Split sizes (each >= 1). The test split is denser than synthetic-vmf's (10,000)
        so that geo-bias scores at ``nn50`` rest on many blocks of centres.
    num_classes, kappa_low, kappa_high, polar_fraction, imbalance, group_size : optional
        As for :func:`load`.
    image_signal, image_group_signal, image_noise : float
        The image model outside the caps (as for :func:`load`); ``image_noise`` applies
        inside too.
    regions : mapping or list, optional
        ``{name: [lon, lat, radius_km]}`` or a list of ``[lon, lat, radius_km]`` (named
        ``region_1``, ...); lon in [-180, 180], lat in [-90, 90], 0 < radius_km <= 5000.
        Default :data:`BIASED_REGIONS`.
    region_classes : int, default=4
        Classes centred in each cap (>= 1; at most ``num_classes`` / number of caps).
    region_signal, region_group_signal : float
        Logit bonus of the true class and of the cap's classes for samples inside a cap.
    vagrant_fraction : float, default=0.2
        Share of samples whose class is redrawn uniformly after the location, in [0, 1).
    seed : int, default=0
        Seed of everything; the same options give the same arrays.

    Returns
    -------
    GeoDataset
        ``info`` holds every option (``regions`` as ``{name: [lon, lat, radius_km]}``).

    See Also
    --------
    region_of : which cap holds each location.
    """
    _check_common(
        n_train, n_val, n_test, num_classes, kappa_low, kappa_high, polar_fraction, group_size
    )
    caps = _parse_regions(BIASED_REGIONS if regions is None else regions)
    k = int(region_classes)
    c = int(num_classes)
    if k < 1 or k * len(caps) > c:
        raise InputError(
            f"option 'region_classes' must be >= 1 and at most num_classes / regions "
            f"({c} / {len(caps)}); got {region_classes!r}"
        )
    if not 0.0 <= vagrant_fraction < 1.0:
        raise InputError(f"option 'vagrant_fraction' must be in [0, 1); got {vagrant_fraction!r}")
    rng = np.random.default_rng(seed)
    mu, kappa, prior, members = _region_mixture(
        c, k, caps, kappa_low, kappa_high, polar_fraction, imbalance, rng,
        place=_REGION_PLACE, spread=_REGION_SPREAD,
    )  # fmt: skip
    sizes = (int(n_train), int(n_val), int(n_test))
    labels, _, lonlat, parts = _draw(mu, kappa, prior, sizes, rng)
    # vagrants: the class is redrawn uniformly after the location was drawn
    vagrant = rng.random(labels.shape[0]) < vagrant_fraction
    labels[vagrant] = rng.integers(0, c, int(vagrant.sum()))
    region = region_of(lonlat, caps)
    groups = far_apart_groups(mu, int(group_size), rng)
    probs = _region_image_probs(
        labels, region, groups, members, rng, signal=image_signal,
        group_signal=image_group_signal, noise=image_noise, region_signal=region_signal,
        region_group_signal=region_group_signal,
    )  # fmt: skip
    info = {
        "n_train": sizes[0], "n_val": sizes[1], "n_test": sizes[2], "num_classes": c,
        "kappa_low": kappa_low, "kappa_high": kappa_high, "polar_fraction": polar_fraction,
        "imbalance": imbalance, "group_size": group_size, "image_signal": image_signal,
        "image_group_signal": image_group_signal, "image_noise": image_noise,
        "regions": {name: list(cap) for name, cap in caps.items()},
        "region_classes": k, "region_signal": region_signal,
        "region_group_signal": region_group_signal, "vagrant_fraction": vagrant_fraction,
        "seed": seed,
    }  # fmt: skip
    splits = [Split(lonlat=lonlat[idx], label=labels[idx], image_probs=probs[idx]) for idx in parts]
    return GeoDataset(
        name="synthetic-vmf-biased",
        task="classification",
        num_classes=c,
        class_names=tuple(f"class_{i}" for i in range(c)),
        train=splits[0],
        val=splits[1],
        test=splits[2],
        info=info,
    )


#: Pool drawn per kept training / validation sample of ``synthetic-vmf-sparse`` (before
#: the caps are thinned).
_SPARSE_POOL = 3


def load_sparse(
    *,
    n_train: int = 20_000,
    n_val: int = 2_000,
    n_test: int = 10_000,
    num_classes: int = 50,
    kappa_low: float = 8.0,
    kappa_high: float = 128.0,
    polar_fraction: float = 0.1,
    imbalance: float = 1.0,
    group_size: int = 4,
    image_signal: float = 1.0,
    image_group_signal: float = 3.0,
    image_noise: float = 1.0,
    regions: Any = None,
    region_classes: int = 4,
    region_place: float = 0.75,
    region_spread: float = 0.05,
    region_signal: float = 0.0,
    region_group_signal: float = 3.0,
    train_region_rate: float = 1.0 / 15.0,
    vagrant_fraction: float = 0.2,
    seed: int = 0,
) -> GeoDataset:
    """Generate ``synthetic-vmf-sparse``: caps that are under-sampled in training.

    Like :func:`load_biased` (the same caps, co-located classes, image model and vagrants),
    with two differences that give a location prior something to learn in the caps:

    * **The location signal in the caps is learnable.** The ``region_classes`` classes of
      a cap have their centres spread over ``region_place`` of its radius and an angular
      spread of ``region_spread`` of it (defaults 0.75 and 0.05, against 0.25 and 0.5 in
      synthetic-vmf-biased), so the true location posterior tells them apart about as
      well as it tells apart the classes the image model confuses elsewhere.
    * **The caps are under-sampled in training.** A training or validation sample located
      in a cap is kept with probability ``train_region_rate`` (default 1/15: about 15
      times fewer samples there than the test distribution has); samples are drawn until
      each split has its size. The test split is not thinned: it has the natural density,
      so accuracy inside the caps is measured on many samples.

    Where the location prior is under-fitted the image model is left alone, and its
    confusion of the cap's classes decides: the models' errors cluster in the caps. A
    training method that fits the prior better there can raise accuracy in the caps up to
    the ceiling of :func:`encoders.ceiling_table` (docs/debiasing.md).

    Parameters
    ----------
    n_train, n_val, n_test : int
        Split sizes after thinning (each >= 1).
    num_classes, kappa_low, kappa_high, polar_fraction, imbalance, group_size : optional
        As for :func:`load`.
    image_signal, image_group_signal, image_noise, regions, region_classes : optional
        As for :func:`load_biased`.
    region_place, region_spread : float
        Class centres of a cap lie within ``region_place`` of its radius (in (0, 1]), with
        an angular spread of ``region_spread`` of it (> 0).
    region_signal, region_group_signal, vagrant_fraction : float
        As for :func:`load_biased`.
    train_region_rate : float, default=1/15
        Probability that a training or validation sample inside a cap is kept, in (0, 1].
    seed : int, default=0
        Seed of everything; the same options give the same arrays.

    Returns
    -------
    GeoDataset
        ``info`` holds every option (``regions`` as ``{name: [lon, lat, radius_km]}``).
    """
    _check_common(
        n_train, n_val, n_test, num_classes, kappa_low, kappa_high, polar_fraction, group_size
    )
    caps = _parse_regions(BIASED_REGIONS if regions is None else regions)
    k, c = int(region_classes), int(num_classes)
    if k < 1 or k * len(caps) > c:
        raise InputError(
            f"option 'region_classes' must be >= 1 and at most num_classes / regions "
            f"({c} / {len(caps)}); got {region_classes!r}"
        )
    if not 0.0 <= vagrant_fraction < 1.0:
        raise InputError(f"option 'vagrant_fraction' must be in [0, 1); got {vagrant_fraction!r}")
    if not 0.0 < train_region_rate <= 1.0:
        raise InputError(f"option 'train_region_rate' must be in (0, 1]; got {train_region_rate!r}")
    if not 0.0 < region_place <= 1.0:
        raise InputError(f"option 'region_place' must be in (0, 1]; got {region_place!r}")
    if not region_spread > 0.0:
        raise InputError(f"option 'region_spread' must be > 0; got {region_spread!r}")
    rng = np.random.default_rng(seed)
    mu, kappa, prior, members = _region_mixture(
        c, k, caps, kappa_low, kappa_high, polar_fraction, imbalance, rng,
        place=float(region_place), spread=float(region_spread),
    )  # fmt: skip
    sizes = (int(n_train), int(n_val), int(n_test))
    pool = (_SPARSE_POOL * sizes[0], _SPARSE_POOL * sizes[1], sizes[2])
    labels, _, lonlat, parts = _draw(mu, kappa, prior, pool, rng)
    vagrant = rng.random(labels.shape[0]) < vagrant_fraction
    labels[vagrant] = rng.integers(0, c, int(vagrant.sum()))
    region = region_of(lonlat, caps)
    kept = region < 0
    kept |= rng.random(labels.shape[0]) < train_region_rate
    chosen = []
    for name, idx, size in zip(("n_train", "n_val"), parts[:2], sizes[:2]):
        keep = idx[kept[idx]]
        if len(keep) < size:
            raise InputError(
                f"option 'train_region_rate' {train_region_rate!r} thins the caps too much "
                f"for {name} = {size}: raise it or use smaller caps"
            )
        chosen.append(keep[:size])
    chosen.append(parts[2])
    rows = np.concatenate(chosen)
    groups = far_apart_groups(mu, int(group_size), rng)
    probs = _region_image_probs(
        labels[rows], region[rows], groups, members, rng, signal=image_signal,
        group_signal=image_group_signal, noise=image_noise, region_signal=region_signal,
        region_group_signal=region_group_signal,
    )  # fmt: skip
    info = {
        "n_train": sizes[0], "n_val": sizes[1], "n_test": sizes[2], "num_classes": c,
        "kappa_low": kappa_low, "kappa_high": kappa_high, "polar_fraction": polar_fraction,
        "imbalance": imbalance, "group_size": group_size, "image_signal": image_signal,
        "image_group_signal": image_group_signal, "image_noise": image_noise,
        "regions": {name: list(cap) for name, cap in caps.items()},
        "region_classes": k, "region_place": region_place, "region_spread": region_spread,
        "region_signal": region_signal, "region_group_signal": region_group_signal,
        "train_region_rate": train_region_rate, "vagrant_fraction": vagrant_fraction,
        "seed": seed,
    }  # fmt: skip
    bounds = np.cumsum([0, *sizes])
    splits = [
        Split(lonlat=lonlat[rows[a:b]], label=labels[rows[a:b]], image_probs=probs[a:b])
        for a, b in zip(bounds[:-1], bounds[1:])
    ]
    return GeoDataset(
        name="synthetic-vmf-sparse",
        task="classification",
        num_classes=c,
        class_names=tuple(f"class_{i}" for i in range(c)),
        train=splits[0],
        val=splits[1],
        test=splits[2],
        info=info,
    )


def _location_model(dataset: GeoDataset, lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mixture density of the locations (per steradian) and ``P(class | location)``."""
    info = dataset.info
    if dataset.name == "synthetic-vmf-biased":
        place, spread = _REGION_PLACE, _REGION_SPREAD
    elif dataset.name == "synthetic-vmf-sparse":
        place, spread = float(info["region_place"]), float(info["region_spread"])
    else:
        raise InputError(
            f"the true location posterior is known for synthetic-vmf-biased and "
            f"synthetic-vmf-sparse only; got {dataset.name!r}"
        )
    caps = _parse_regions(info["regions"])
    rng = np.random.default_rng(info["seed"])
    c = int(info["num_classes"])
    mu, kappa, prior, _ = _region_mixture(
        c, int(info["region_classes"]), caps, info["kappa_low"], info["kappa_high"],
        info["polar_fraction"], info["imbalance"], rng, place=place, spread=spread,
    )  # fmt: skip
    xyz = lonlat_to_xyz(np.asarray(lonlat, dtype=np.float64))
    # log vMF density on S^2: log κ - log 2π - log(1 - e^{-2κ}) + κ (μ·x - 1)
    log_c = np.log(kappa) - np.log(2.0 * np.pi) - np.log1p(-np.exp(-2.0 * kappa))
    out = np.empty((xyz.shape[0], c))
    density = np.empty(xyz.shape[0])
    for i in range(0, xyz.shape[0], _CHUNK):
        logp = np.log(prior) + log_c + kappa * (xyz[i : i + _CHUNK] @ mu.T - 1.0)
        top = logp.max(axis=1, keepdims=True)
        p = np.exp(logp - top)
        total = p.sum(axis=1, keepdims=True)
        out[i : i + _CHUNK] = p / total
        density[i : i + _CHUNK] = (total * np.exp(top))[:, 0]
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
