"""``synthetic-vmf-biased``: synthetic-vmf with a poorer image model in named caps.

``synthetic-vmf-biased`` (:func:`load_biased`) is a classification variant in which the
image model is deliberately poorer inside four named caps (:data:`BIASED_REGIONS`): there
it confuses classes centred in the same cap, which a location prior cannot tell apart, so
location-aware models have clustered errors at the caps while the image model's errors are
not clustered; a share of "vagrant" samples keeps every location-aware model from being
right everywhere in a neighbourhood. Every split, ``train`` included, has image
probabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from encoders.data._base import GeoDataset, Split
from encoders.data._simulate import far_apart_groups
from encoders.data.synthetic_vmf.regions import (
    BIASED_REGIONS,
    REGION_PLACE,
    REGION_SPREAD,
    parse_regions,
    region_image_probs,
    region_mixture,
    region_of,
)
from encoders.data.synthetic_vmf.vmf import check_common, draw
from pygbs.errors import InputError

__all__ = ["load_biased"]


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
    check_common(
        n_train, n_val, n_test, num_classes, kappa_low, kappa_high, polar_fraction, group_size
    )
    caps = parse_regions(BIASED_REGIONS if regions is None else regions)
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
    mu, kappa, prior, members = region_mixture(
        c, k, caps, kappa_low, kappa_high, polar_fraction, imbalance, rng,
        place=REGION_PLACE, spread=REGION_SPREAD,
    )  # fmt: skip
    sizes = (int(n_train), int(n_val), int(n_test))
    labels, _, lonlat, parts = draw(mu, kappa, prior, sizes, rng)
    # vagrants: the class is redrawn uniformly after the location was drawn
    vagrant = rng.random(labels.shape[0]) < vagrant_fraction
    labels[vagrant] = rng.integers(0, c, int(vagrant.sum()))
    region = region_of(lonlat, caps)
    groups = far_apart_groups(mu, int(group_size), rng)
    probs = region_image_probs(
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
