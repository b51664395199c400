"""Shared helpers of the built-in datasets: sphere geometry, seeded splits, simulated images.

The "image model" of the built-in datasets is simulated: per sample, class logits are

    z_c = noise · N(0, 1) + group_signal · [group(c) = group(y)] + signal · [c = y]

and P(y | I) = softmax(z). Classes are put into *confusion groups* of classes whose centres
are far apart on the sphere, so the image model mostly finds the right group but confuses
its members, which a location prior can tell apart: the location prior clearly helps.
"""

from __future__ import annotations

import numpy as np

from pygbs.errors import InputError
from pygbs.geo.geometry import unit_vectors

__all__ = [
    "far_apart_groups",
    "lonlat_to_xyz",
    "check_fractions",
    "random_split_indices",
    "simulate_image_probs",
    "xyz_to_lonlat",
]


def lonlat_to_xyz(lonlat: np.ndarray) -> np.ndarray:
    """Unit vectors ``(n, 3)`` (float64) of ``(n, 2)`` (lon, lat) degrees."""
    lonlat = np.asarray(lonlat, dtype=np.float64)
    return unit_vectors(lonlat[:, 0], lonlat[:, 1])


def xyz_to_lonlat(xyz: np.ndarray) -> np.ndarray:
    """(lon, lat) degrees ``(n, 2)`` (float64) of vectors ``(n, 3)`` (normalised first)."""
    xyz = np.asarray(xyz, dtype=np.float64)
    xyz = xyz / np.linalg.norm(xyz, axis=1, keepdims=True)
    lon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
    lat = np.degrees(np.arcsin(np.clip(xyz[:, 2], -1.0, 1.0)))
    return np.stack([lon, lat], axis=1)


def far_apart_groups(centres: np.ndarray, group_size: int, rng: np.random.Generator) -> np.ndarray:
    """Partition classes into groups whose centres are far apart (greedy max-min).

    Parameters
    ----------
    centres : ndarray of shape (C, 3)
        Unit vectors of the class centres.
    group_size : int
        Target group size (the last groups may be smaller). 1 gives singleton groups.
    rng : numpy.random.Generator
        Picks the order in which groups are seeded.

    Returns
    -------
    ndarray of shape (C,), int64
        Group id of each class.
    """
    n = centres.shape[0]
    group = np.full(n, -1, dtype=np.int64)
    cos = centres @ centres.T
    gid = 0
    for seed_class in rng.permutation(n):
        if group[seed_class] >= 0:
            continue
        members = [int(seed_class)]
        group[seed_class] = gid
        while len(members) < group_size:
            free = np.flatnonzero(group < 0)
            if free.size == 0:
                break
            # the free class whose closest member is farthest away (largest min angle)
            closest = cos[np.ix_(free, members)].max(axis=1)
            pick = int(free[np.argmin(closest)])
            members.append(pick)
            group[pick] = gid
        gid += 1
    return group


def simulate_image_probs(
    labels: np.ndarray,
    groups: np.ndarray,
    rng: np.random.Generator,
    *,
    signal: float = 1.0,
    group_signal: float = 3.0,
    noise: float = 1.0,
) -> np.ndarray:
    """Noisy image-model class probabilities that confuse members of a group.

    Parameters
    ----------
    labels : ndarray of shape (n,), int
        True classes.
    groups : ndarray of shape (C,), int
        Confusion group of each class (see :func:`far_apart_groups`).
    rng : numpy.random.Generator
        Source of the noise.
    signal, group_signal, noise : float
        Logit bonus of the true class, of its group, and the standard deviation of the
        Gaussian logit noise.

    Returns
    -------
    ndarray of shape (n, C), float32
        Rows sum to 1.
    """
    n, c = labels.shape[0], groups.shape[0]
    logits = noise * rng.standard_normal((n, c))
    logits += group_signal * (groups[None, :] == groups[labels][:, None])
    logits[np.arange(n), labels] += signal
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return p.astype(np.float32)


def random_split_indices(
    n: int, fractions: tuple[float, float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` and cut it into train / val / test by ``fractions`` (sum 1).

    Every part gets at least one row when ``n >= 3``.
    """
    perm = rng.permutation(n)
    n_val = max(1, round(fractions[1] * n))
    n_test = max(1, round(fractions[2] * n))
    n_train = n - n_val - n_test
    if n_train < 1:
        raise InputError(f"{n} rows are too few to split into train/val/test by {fractions}")
    return (
        np.sort(perm[:n_train]),
        np.sort(perm[n_train : n_train + n_val]),
        np.sort(perm[n_train + n_val :]),
    )


def check_fractions(fractions: tuple[float, ...] | list[float], option: str) -> tuple:
    """Validate (train, val, test) fractions: three positive numbers summing to 1."""
    fr = tuple(float(f) for f in fractions)
    if len(fr) != 3 or min(fr) <= 0 or abs(sum(fr) - 1.0) > 1e-6:
        raise InputError(
            f"option {option!r} must be three positive fractions (train, val, test) "
            f"summing to 1; got {fractions!r}"
        )
    return fr
