"""How sure is a Geo-Bias Score: spatial block bootstrap over centres.

The per-centre scores of neighbouring centres are strongly dependent (their
neighbourhoods overlap), so resampling centres one by one (an i.i.d. bootstrap) gives
intervals that are far too narrow. Here centres are grouped into equal-area blocks on the
sphere, each at least as wide as a neighbourhood, and whole blocks are resampled
(docs/method.md, "Uncertainty of a Geo-Bias Score").

The blocks are HEALPix cells (the ``healpix`` package, RING scheme, which allows any
resolution ``nside``): equal-area by construction, defined on the whole sphere without
special cases at the poles or the antimeridian, and cheap to assign.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pygbs._names import DEFAULT_BOOTSTRAP, DEFAULT_CI
from pygbs.errors import InputError
from pygbs.geo.scales import EARTH_RADIUS_KM
from pygbs.runtime import check_interrupt

__all__ = [
    "BLOCKS_PER_DIAMETER",
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_CI",
    "Blocks",
    "BootstrapInterval",
    "block_bootstrap",
    "block_size_km",
    "effective_blocks",
    "expanded_percentile",
    "make_blocks",
    "paired_bootstrap",
    "resampled_sums",
]

#: Replicates drawn at once (bounds the memory of the index matrix).
_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class Blocks:
    """Equal-area blocks of centres.

    Attributes
    ----------
    ids : ndarray of int64, shape (c,)
        Block of each centre, numbered ``0 .. n_blocks - 1`` in order of first use.
    block_km : float
        Side of a block (square root of its area) in km.
    nside : int
        HEALPix resolution of the blocks (``12 nside^2`` cells cover the sphere).
    """

    ids: np.ndarray
    block_km: float
    nside: int

    @property
    def n_blocks(self) -> int:
        """Number of distinct blocks that hold at least one centre."""
        return int(self.ids.max()) + 1 if len(self.ids) else 0


def make_blocks(lon: np.ndarray, lat: np.ndarray, min_km: float) -> Blocks:
    """Group centres into equal-area HEALPix cells whose side is at least ``min_km``.

    Parameters
    ----------
    lon, lat : ndarray
        Centre coordinates in degrees.
    min_km : float
        Smallest allowed block side (km), e.g. the neighbourhood diameter of the scale.

    Returns
    -------
    Blocks
        The finest HEALPix resolution whose cells are at least ``min_km`` wide.
    """
    import healpix

    if not (math.isfinite(min_km) and min_km > 0):
        raise InputError(f"block size must be a positive number of km; got {min_km}")
    # a cell of nside n has area 4 pi R^2 / (12 n^2): side R sqrt(pi / 3) / n
    full = EARTH_RADIUS_KM * math.sqrt(math.pi / 3.0)
    nside = max(1, int(full // min_km))
    pix = healpix.ang2pix(
        nside, np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64), lonlat=True
    )
    _, ids = np.unique(np.asarray(pix, dtype=np.int64), return_inverse=True)
    return Blocks(ids.astype(np.int64).ravel(), full / nside, nside)


#: Block side in neighbourhood diameters (see :func:`block_size_km`).
BLOCKS_PER_DIAMETER = 2.0


def block_size_km(radius_km: np.ndarray) -> float:
    """Smallest block side for one scale: twice the neighbourhood diameter.

    Two centres less than a diameter apart share samples, so their scores are dependent.
    With blocks one diameter wide, many such pairs straddle a block edge and the
    bootstrap misses their covariance (on generated data without geo-bias it recovered
    only 83 % of the standard error of a paired difference); blocks two diameters wide
    recover about 94 % (docs/method.md, "Uncertainty of a Geo-Bias Score"). For a
    distance scale every radius is the same; for an ``nn`` scale the median diameter over
    centres is used.

    Parameters
    ----------
    radius_km : ndarray
        Neighbourhood radius of each centre in km.

    Returns
    -------
    float
        ``2 * 2 * median(radius)`` over the positive radii (1 m when every neighbourhood is
        a single point).
    """
    r = np.asarray(radius_km, dtype=np.float64)
    r = r[np.isfinite(r) & (r > 0)]
    diameter = 2.0 * float(np.median(r)) if len(r) else 0.0
    return max(BLOCKS_PER_DIAMETER * diameter, 1e-3)


@dataclass(frozen=True)
class BootstrapInterval:
    """A bootstrap estimate of a mean over centres.

    Attributes
    ----------
    estimate : float
        The mean over all (scored) centres.
    ci_low, ci_high : float
        Percentile interval at the requested level (NaN with fewer than two blocks).
    p_value : float
        Two-sided bootstrap p-value of ``mean == 0`` (meaningful for differences).
    n_centres, n_blocks : int
        Centres and blocks that entered.
    effective_blocks : float
        ``(sum n_b)^2 / sum n_b^2`` over the blocks' centre counts ``n_b``.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n_centres: int
    n_blocks: int
    effective_blocks: float = math.nan


def _nan_interval(n: int, b: int, estimate: float = math.nan) -> BootstrapInterval:
    return BootstrapInterval(estimate, math.nan, math.nan, math.nan, n, b)


def resampled_sums(block_sums: np.ndarray, n_boot: int, seed: int = 0) -> np.ndarray:
    """Sums over resampled blocks: the raw material of every block-bootstrap replicate.

    Each replicate draws as many blocks as there are, uniformly with replacement, and
    adds up their rows of ``block_sums``.

    Parameters
    ----------
    block_sums : ndarray of shape (b, q)
        Per block, ``q`` additive quantities (e.g. the sum of the values and the count).
    n_boot : int
        Replicates.
    seed : int, default=0
        Seed of the replicates.

    Returns
    -------
    ndarray of shape (n_boot, q)
    """
    block_sums = np.asarray(block_sums, dtype=np.float64)
    n_blocks = block_sums.shape[0]
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, block_sums.shape[1]))
    step = max(1, _CHUNK_CELLS // max(n_blocks, 1))
    for a in range(0, n_boot, step):
        check_interrupt()  # Ctrl-C / SIGTERM between chunks of replicates
        m = min(step, n_boot - a)
        draw = rng.integers(0, n_blocks, size=(m, n_blocks))
        for j in range(block_sums.shape[1]):
            out[a : a + m, j] = block_sums[draw, j].sum(axis=1)
    return out


def effective_blocks(counts: np.ndarray) -> float:
    """``(sum n_b)^2 / sum n_b^2`` over the blocks' centre counts ``n_b``."""
    counts = np.asarray(counts, dtype=np.float64)
    return float(counts.sum() ** 2 / np.sum(counts**2)) if counts.sum() > 0 else 0.0


def expanded_percentile(replicates: np.ndarray, b_eff: float, ci: float) -> tuple[float, float]:
    """Expanded percentile interval of bootstrap replicates (Hesterberg 2015).

    The bounds are quantiles of the replicates, so they never leave the range the
    statistic can take; the quantile levels are widened for few (effective) blocks: the
    level ``a`` solves ``Phi^-1(a) = -sqrt(b / (b - 1)) * t_(b-1)((1 + ci) / 2)``, so that
    with many blocks it is the plain percentile interval and with few it is as wide as a
    Student interval with ``b - 1`` degrees of freedom.

    Parameters
    ----------
    replicates : ndarray
        Bootstrap replicates of the statistic (non-finite ones are left out).
    b_eff : float
        Effective number of blocks (:func:`effective_blocks`), above 1.
    ci : float
        Confidence level, in (0, 1).

    Returns
    -------
    tuple of float
        ``(low, high)``; NaN when no replicate is finite.
    """
    from scipy.special import ndtr, stdtrit

    rep = np.asarray(replicates, dtype=np.float64)
    rep = rep[np.isfinite(rep)]
    if len(rep) == 0:
        return math.nan, math.nan
    dof = b_eff - 1.0
    z = math.sqrt(b_eff / dof) * float(stdtrit(dof, 0.5 + ci / 2.0))
    level = float(ndtr(-z))
    lo, hi = np.quantile(rep, [level, 1.0 - level])
    return float(lo), float(hi)


def block_bootstrap(
    values: np.ndarray,
    blocks: np.ndarray,
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    ci: float = DEFAULT_CI,
    seed: int = 0,
) -> BootstrapInterval:
    """Interval of the mean of ``values`` from a bootstrap that resamples whole blocks.

    Each replicate draws as many blocks as there are, with replacement, and takes the
    mean over all centres of the drawn blocks (a ratio of block sums to block counts).
    The interval is the expanded percentile interval of the replicates
    (:func:`expanded_percentile`): never outside the range of the values, and widened
    when there are few effective blocks (blocks of very unequal size count as fewer).
    The p-value tests a zero mean with Student's t on ``b_eff - 1`` degrees of freedom and
    the replicates' spread corrected by ``sqrt(b_eff / (b_eff - 1))``. Non-finite values
    are left out first. ``blocks = arange(n)`` gives the naive i.i.d. bootstrap over
    centres.

    Parameters
    ----------
    values : ndarray of shape (c,)
        Per-centre values (NaN = not scored).
    blocks : ndarray of int, shape (c,)
        Block of each centre.
    n_boot : int, default=1000
        Replicates; 0 returns the estimate without an interval.
    ci : float, default=0.95
        Confidence level, in (0, 1).
    seed : int, default=0
        Seed of the replicates.

    Returns
    -------
    BootstrapInterval
    """
    if not 0.0 < ci < 1.0:
        raise InputError(f"confidence level must be between 0 and 1; got {ci}")
    if n_boot < 0 or n_boot == 1:
        raise InputError(
            f"bootstrap replicates (--bootstrap) must be 0 (no interval) or at least 2; "
            f"got {n_boot}"
        )
    values = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(values)
    if not ok.any():
        return _nan_interval(0, 0)
    v = values[ok]
    _, b = np.unique(np.asarray(blocks)[ok], return_inverse=True)
    n_blocks = int(b.max()) + 1
    sums = np.bincount(b, weights=v, minlength=n_blocks)
    counts = np.bincount(b, minlength=n_blocks).astype(np.float64)
    estimate = float(v.mean())
    if n_boot == 0 or n_blocks < 2:
        return _nan_interval(len(v), n_blocks, estimate)
    rep = resampled_sums(np.column_stack([sums, counts]), n_boot, seed)
    means = rep[:, 0] / rep[:, 1]
    b_eff = effective_blocks(counts)
    if b_eff < 1.5:
        return _nan_interval(len(v), n_blocks, estimate)
    # Student's t from scipy.special: the values of scipy.stats.t.ppf / t.sf, without
    # importing scipy.stats (about 0.5 s of a command's start-up)
    from scipy.special import stdtr

    dof = b_eff - 1.0
    se = float(np.std(means, ddof=1)) * math.sqrt(b_eff / dof)
    if se > 0:
        p = float(2.0 * stdtr(dof, -(abs(estimate) / se)))
    else:
        p = 1.0 if estimate == 0 else 0.0
    lo, hi = expanded_percentile(means, b_eff, ci)
    return BootstrapInterval(estimate, lo, hi, p, len(v), n_blocks, b_eff)


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    blocks: np.ndarray,
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    ci: float = DEFAULT_CI,
    seed: int = 0,
) -> BootstrapInterval:
    """Interval and p-value of the mean difference ``a - b`` over centres scored in both.

    The two models are scored on the same locations, so the differences are taken centre
    by centre and their blocks are resampled together (a paired block bootstrap).

    Parameters
    ----------
    a, b : ndarray of shape (c,)
        Per-centre scores of the two models, same centres in the same order.
    blocks : ndarray of int, shape (c,)
        Block of each centre.
    n_boot, ci, seed
        See :func:`block_bootstrap`.

    Returns
    -------
    BootstrapInterval
        ``estimate`` is the mean difference; ``p_value`` tests a zero mean difference.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise InputError(f"paired scores differ in length: {a.shape[0]} vs {b.shape[0]}")
    return block_bootstrap(a - b, blocks, n_boot=n_boot, ci=ci, seed=seed)
