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

Everything is generated from ``seed``; the same options give the same arrays.
"""

from __future__ import annotations

import numpy as np

from encoders.data._base import GeoDataset, Split
from encoders.data._simulate import (
    far_apart_groups,
    lonlat_to_xyz,
    simulate_image_probs,
    xyz_to_lonlat,
)
from pygbs.errors import InputError

__all__ = ["CHUNK", "POLAR_LAT", "check_common", "draw", "load", "mixture", "sample_vmf"]

#: Latitude (degrees) above which a "polar" class centre is placed.
POLAR_LAT = 70.0
#: Rows per chunk when evaluating the regression field (bounds memory for millions of rows).
CHUNK = 65_536


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


def check_common(
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


def mixture(
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


def draw(
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
    check_common(
        n_train, n_val, n_test, num_classes, kappa_low, kappa_high, polar_fraction, group_size
    )
    if task not in ("classification", "regression"):
        raise InputError(f"option 'task' must be 'classification' or 'regression'; got {task!r}")
    if int(feature_dim) < 1:
        raise InputError(f"option 'feature_dim' must be >= 1; got {feature_dim!r}")
    rng = np.random.default_rng(seed)
    c = int(num_classes)
    mu, kappa, prior = mixture(c, kappa_low, kappa_high, polar_fraction, imbalance, rng)
    sizes = (int(n_train), int(n_val), int(n_test))
    labels, xyz, lonlat, parts = draw(mu, kappa, prior, sizes, rng)
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
            (amp * np.exp(kappa * (xyz[i : i + CHUNK] @ mu.T - 1.0))).sum(axis=1)
            for i in range(0, n, CHUNK)
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
