"""``synthetic-vmf-sparse``: the caps of synthetic-vmf-biased, under-sampled in training.

Like ``synthetic-vmf-biased`` (:mod:`encoders.data.synthetic_vmf.biased`), with classes
that a location prior can tell apart in the caps and training and validation splits thinned
there (:func:`load_sparse`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from encoders.data._base import GeoDataset, Split
from encoders.data._simulate import far_apart_groups
from encoders.data.synthetic_vmf.regions import (
    BIASED_REGIONS,
    parse_regions,
    region_image_probs,
    region_mixture,
    region_of,
)
from encoders.data.synthetic_vmf.vmf import check_common, draw
from pygbs.errors import InputError

__all__ = ["load_sparse"]

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
    check_common(
        n_train, n_val, n_test, num_classes, kappa_low, kappa_high, polar_fraction, group_size
    )
    caps = parse_regions(BIASED_REGIONS if regions is None else regions)
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
    mu, kappa, prior, members = region_mixture(
        c, k, caps, kappa_low, kappa_high, polar_fraction, imbalance, rng,
        place=float(region_place), spread=float(region_spread),
    )  # fmt: skip
    sizes = (int(n_train), int(n_val), int(n_test))
    pool = (_SPARSE_POOL * sizes[0], _SPARSE_POOL * sizes[1], sizes[2])
    labels, _, lonlat, parts = draw(mu, kappa, prior, pool, rng)
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
    probs = region_image_probs(
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
