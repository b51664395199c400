"""Spatial relative information (SRI) of many neighbourhoods (docs/method.md, D5).

SRI compares the histogram of the coded performance in parts of a neighbourhood ``G``
with the histogram of the whole of ``G`` by a Kullback-Leibler divergence, and averages
over the parts weighted by their size. This module validates the input and calls the
numba kernel :func:`pygbs._kernels.sri.sri_kernel`.

Choices made here (all stated in docs/method.md, D5):

- **Grid cells on the tangent plane (grid partition).** Each sample is placed on the
  centre's azimuthal equidistant plane, ``x = d sin(bearing)`` (east) and
  ``y = d cos(bearing)`` (north) with ``d`` the great-circle distance
  (:func:`pygbs._kernels.sri.plane_xy`), and the square cells of side ``s`` are laid
  on ``(x, y)``. Cells then have the same size on the ground at every latitude and across
  the antimeridian; the public reference lays them on latitude and longitude differences,
  whose cells shrink to slivers near the poles (see docs/method.md).
- **Samples outside every part.** Grid cells cover ``[-K s, K s)`` with
  ``K = ceil(r / s)`` in both directions, and lag rings cover ``[0, K' lag)`` with
  ``K' = ceil(r / lag)``. A sample of ``G`` on the far edge (``x`` or ``y`` exactly
  ``K s``, or a distance exactly ``K' lag``) belongs to no part; it still counts in the
  histogram of ``G``.
- **Centre bearing (sector partition).** The centre, and any sample at its exact
  location, has no bearing; it is put in sector 0 (the one starting at bearing ``-pi``).
  A bearing of exactly ``+pi`` (due south) is the bearing ``-pi``, also sector 0.
- **Equal values.** When every value of ``G`` is the same, the bin edges are those of
  ``numpy.histogram``: the range is widened to ``[v - 0.5, v + 0.5]``. Every part then
  matches ``G`` and ``SRI = ln(1 / (1 + eps))``, about ``-eps``.
- **Default bins** are decided once for the whole ``values`` array (not per
  neighbourhood): 2 when every value is -1 or +1, otherwise 10.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from pygbs._kernels.sri import (
    PARTITION_GRID,
    PARTITION_LAG,
    PARTITION_SECTOR,
    sri_kernel,
)
from pygbs.errors import InputError
from pygbs.runtime import call_kernel
from pygbs.stats.definition import Batch, ScoreValues, constant_neighbourhoods

if TYPE_CHECKING:
    from pygbs.geo.neighbours import Neighbourhoods

__all__ = [
    "PARTITIONS",
    "DEFAULT_SRI_EPS",
    "DEFAULT_SRI_THRESHOLD",
    "DEFAULT_N_SPLITS",
    "default_bins",
    "sri_scores",
]

#: Partition names and their kernel codes.
PARTITIONS = {"grid": PARTITION_GRID, "lag": PARTITION_LAG, "sector": PARTITION_SECTOR}
#: Smoothing added to a part's bin probabilities inside the logarithm (the reference's).
DEFAULT_SRI_EPS = 1e-8
#: Parts with fewer samples are skipped (the reference's default).
DEFAULT_SRI_THRESHOLD = 20
#: Number of direction sectors.
DEFAULT_N_SPLITS = 8
#: Default grid cell side, as a fraction of the neighbourhood radius (a 4 x 4 grid).
GRID_SCALE_FRACTION = 0.5
#: Default ring width, as a fraction of the neighbourhood radius (4 rings).
LAG_FRACTION = 0.25
#: Default number of bins for +-1 values and for any other values.
BINARY_BINS = 2
CONTINUOUS_BINS = 10


def default_bins(values: np.ndarray) -> int:
    """Default number of histogram bins: 2 when all values are -1 or +1, otherwise 10.

    Parameters
    ----------
    values : ndarray of float64
        Coded values.

    Returns
    -------
    int
    """
    v = np.asarray(values, dtype=np.float64)
    return BINARY_BINS if bool(np.all((v == 1.0) | (v == -1.0))) else CONTINUOUS_BINS


def _float_array(name: str, x: object, n: int | None = None) -> np.ndarray:
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} must have length {n}; got {a.shape[0]}")
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise ValueError(f"{name} must be finite; entry {bad[0]} is {a[bad[0]]!r}")
    return a


def _int_array(name: str, x: object) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must hold integers; got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.int64)


def _per_centre(name: str, x: object, n_centres: int) -> np.ndarray:
    """A positive length per centre, from a scalar or an array (radians)."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n_centres, float(a))
    if a.shape != (n_centres,):
        raise InputError(f"{name} must be a scalar or have length {n_centres}; got {a.shape}")
    bad = np.flatnonzero(~(np.isfinite(a) & (a > 0)))
    if bad.size:
        raise InputError(f"{name} must be positive and finite; centre {bad[0]} has {a[bad[0]]!r}")
    return np.ascontiguousarray(a)


def _positive_int(name: str, x: object, minimum: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int | np.integer) or x < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}; got {x!r}")
    return int(x)


def sri_scores(
    index: Any,
    nbhd: Neighbourhoods,
    marks: np.ndarray,
    *,
    partition: str,
    scale: float | np.ndarray | None = None,
    lag: float | np.ndarray | None = None,
    n_splits: int = DEFAULT_N_SPLITS,
    threshold: int = DEFAULT_SRI_THRESHOLD,
    bins: int | None = None,
    eps: float = DEFAULT_SRI_EPS,
) -> tuple[np.ndarray, np.ndarray]:
    """SRI of every centre's neighbourhood.

    Takes the same inputs as :func:`pygbs.stats.ssi.ssi_scores`: the samples' index and the
    neighbourhoods. SRI uses every sample within the radius, so pass neighbourhoods
    made with ``cap=False`` (:meth:`Neighbourhoods.from_scale`).

    Parameters
    ----------
    index : SphereIndex
        All samples (``lat_rad``, ``lon_rad`` in radians are used).
    nbhd : Neighbourhoods
        Neighbourhoods of the centres: ``centres``, ``indptr``, ``indices`` (any order),
        ``dist`` (radians) and ``radius`` (radians).
    marks : ndarray of float64, shape (n_samples,)
        Coded performance values (finite).
    partition : {'grid', 'lag', 'sector'}
        Scale grid, distance lag rings or direction sectors (docs/method.md, D5).
    scale : float or ndarray, optional
        Grid cell side in radians (scalar or one per centre). Default: ``radius / 2`` of
        each centre, a 4 x 4 grid of cells.
    lag : float or ndarray, optional
        Ring width in radians (scalar or one per centre). Default: ``radius / 4``.
    n_splits : int, default=8
        Number of equal direction sectors, the first starting at bearing ``-pi``.
    threshold : int, default=20
        Parts with fewer samples are skipped.
    bins : int, optional
        Number of equal-width histogram bins over the min-max range of the neighbourhood's
        values. Default: 2 when every value is -1 or +1, otherwise 10.
    eps : float, default=1e-8
        Added to the part's bin probabilities: ``KL = sum pG ln(pG / (pP + eps))``.

    Returns
    -------
    sri : ndarray of float64, shape (n_centres,)
        Size-weighted mean over the kept parts of ``KL(p_G || p_P)``; NaN where no part
        has ``threshold`` samples (or the neighbourhood is empty).
    n_parts : ndarray of int64, shape (n_centres,)
        Number of parts kept.

    Raises
    ------
    InputError
        For an unknown ``partition`` or a bad option value.
    ValueError
        For arrays of inconsistent shapes or out-of-range ids.

    Notes
    -----
    See the module docstring for the grid's tangent-plane cells, the centre's sector and
    the equal-values case.

    Examples
    --------
    Four samples on the equator east of the centre (row 0); the near ring holds the two
    +1, the far ring the two -1, so each ring has KL ``0.5 ln(0.5 / eps) + 0.5 ln 0.5``:

    >>> import numpy as np
    >>> from pygbs import Neighbourhoods, SphereIndex, parse_scale
    >>> lon = np.degrees([0.0, 1e-3, 2e-3, 2.5e-3])
    >>> index = SphereIndex(lon, np.zeros(4))
    >>> nb = Neighbourhoods.from_scale(index, np.array([0]), parse_scale("nn4"))
    >>> vals = np.array([1.0, 1.0, -1.0, -1.0])
    >>> sri, k = sri_scores(index, nb, vals, partition="lag", lag=1.5e-3, threshold=2)
    >>> int(k[0]), round(float(sri[0]), 4)
    (2, 8.5172)
    """
    if partition not in PARTITIONS:
        raise InputError(f"partition must be one of {sorted(PARTITIONS)}; got {partition!r}")
    lat = _float_array("lat", index.lat_rad)
    n = lat.shape[0]
    lon = _float_array("lon", index.lon_rad, n)
    values = _float_array("values", marks, n)
    centres = _int_array("centres", nbhd.centres)
    n_c = centres.shape[0]
    indptr = _int_array("indptr", nbhd.indptr)
    indices = _int_array("indices", nbhd.indices)
    dist = _float_array("dist", nbhd.dist, indices.shape[0])
    radius = _float_array("radius", nbhd.radius, n_c)
    if indptr.shape[0] != n_c + 1:
        raise ValueError(
            f"indptr must have length n_centres + 1 = {n_c + 1}; got {indptr.shape[0]}"
        )
    if indptr[0] != 0 or indptr[-1] != indices.shape[0] or np.any(np.diff(indptr) < 0):
        raise ValueError("indptr must start at 0, be non-decreasing and end at len(indices)")
    for name, ids in (("centres", centres), ("indices", indices)):
        if ids.size and (ids.min() < 0 or ids.max() >= n):
            bad = int(np.flatnonzero((ids < 0) | (ids >= n))[0])
            raise ValueError(f"{name}[{bad}] = {ids[bad]} is not a sample id in [0, {n})")
    if np.any(radius < 0):
        raise ValueError(f"radius must be >= 0; centre {int(np.argmax(radius < 0))} is negative")

    n_splits = _positive_int("n_splits", n_splits, 1)
    threshold = _positive_int("threshold", threshold, 1)
    bins = default_bins(values) if bins is None else _positive_int("bins", bins, 1)
    if not (np.isfinite(eps) and eps >= 0):
        raise InputError(f"eps must be a finite number >= 0; got {eps!r}")

    mode = PARTITIONS[partition]
    # A zero radius (every neighbour at the centre) has no grid cell and no ring (NaN);
    # only the default scale / lag must stay positive.
    safe_r = np.where(radius > 0, radius, 1.0)
    scale_a = _per_centre("scale", safe_r * GRID_SCALE_FRACTION if scale is None else scale, n_c)
    lag_a = _per_centre("lag", safe_r * LAG_FRACTION if lag is None else lag, n_c)
    return call_kernel(
        sri_kernel,
        lat,
        lon,
        values,
        centres,
        indptr,
        indices,
        dist,
        radius,
        mode,
        scale_a,
        lag_a,
        n_splits,
        threshold,
        bins,
        float(eps),
    )


def sri_for_batch(batch: Batch, partitions: list[str], options: Any) -> dict[str, Any]:
    """Every requested SRI partition of a batch of centres (for :mod:`pygbs.stats.registry`).

    SRI uses every sample within the radius (no ``k_max`` cap), so the neighbourhoods are
    searched again uncapped, in chunks of centres so that large radii on dense data do
    not hold every neighbourhood in memory at once; all partitions share each chunk.

    Parameters
    ----------
    batch : pygbs.stats.definition.Batch
        The centres (``batch.nb.centres``), the scale and the options.
    partitions : list of str
        Partitions to compute (``'grid'``, ``'lag'``, ``'sector'``).
    options : pygbs.stats.scores.sri.SRIOptions
        SRI's options.

    Returns
    -------
    dict of str to pygbs.stats.definition.ScoreValues
        By partition: the values (NaN where not scored), the skip reasons (1: fewer than
        ``min_points`` samples, 3: no part reached the threshold) and the constant flags.
    """
    from pygbs.geo.neighbours import Neighbourhoods
    from pygbs.runtime import check_interrupt

    o = options
    min_points = batch.opts.common.min_points
    rows = batch.nb.centres
    nc = len(rows)
    out = {
        p: ScoreValues(np.full(nc, np.nan), None, np.zeros(nc, np.int8), np.zeros(nc, bool))
        for p in partitions
    }
    for a in range(0, nc, batch.chunk):
        check_interrupt()
        part = rows[a : a + batch.chunk]
        full = Neighbourhoods.from_scale(batch.index, part, batch.scale, cap=False)
        big = full.sizes >= min_points
        flat = constant_neighbourhoods(batch.marks, full.indptr, full.indices)
        for p in partitions:
            vals, _ = sri_scores(
                batch.index,
                full,
                batch.marks,
                partition=p,
                scale=o.sri_scale,
                lag=o.sri_lag,
                n_splits=o.sri_sectors,
                threshold=o.sri_threshold,
                bins=o.sri_bins,
            )
            vals = np.where(big, vals, np.nan)
            res = out[p]
            res.values[a : a + len(part)] = vals
            res.reason[a : a + len(part)] = np.where(~big, 1, np.where(np.isnan(vals), 3, 0))
            res.constant[a : a + len(part)] = flat & np.isfinite(vals)
    return out


def sri_null_for_batch(
    batch: Batch, partitions: list[str], draws: np.ndarray, options: Any
) -> dict[str, np.ndarray]:
    """Every requested SRI partition of a batch under each labelling ``draws[r]``.

    The uncapped neighbourhoods are searched once per chunk of centres and every
    labelling is scored on them (docs/method.md, D7). SRI's
    histogram edges are computed per neighbourhood from its own values, as for the score.

    Parameters
    ----------
    batch : pygbs.stats.definition.Batch
        The centres, the scale and the options.
    partitions : list of str
        Partitions to compute (``'grid'``, ``'lag'``, ``'sector'``).
    draws : ndarray of shape (R, n)
        Coded values of every sample, one row per labelling.
    options : pygbs.stats.scores.sri.SRIOptions
        SRI's options.

    Returns
    -------
    dict of str to ndarray of shape (c, R)
        By partition: SRI per centre and labelling, NaN where not scored.
    """
    from pygbs.geo.neighbours import Neighbourhoods
    from pygbs.runtime import check_interrupt

    o = options
    min_points = batch.opts.common.min_points
    rows = batch.nb.centres
    nc = len(rows)
    n_draws = draws.shape[0]
    out = {p: np.full((nc, n_draws), np.nan) for p in partitions}
    for a in range(0, nc, batch.chunk):
        part = rows[a : a + batch.chunk]
        full = Neighbourhoods.from_scale(batch.index, part, batch.scale, cap=False)
        big = full.sizes >= min_points
        for r in range(n_draws):
            check_interrupt()
            marks = np.ascontiguousarray(draws[r])
            for p in partitions:
                vals, _ = sri_scores(
                    batch.index,
                    full,
                    marks,
                    partition=p,
                    scale=o.sri_scale,
                    lag=o.sri_lag,
                    n_splits=o.sri_sectors,
                    threshold=o.sri_threshold,
                    bins=o.sri_bins,
                )
                out[p][a : a + len(part), r] = np.where(big, vals, np.nan)
    return out
