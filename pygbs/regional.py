"""Per-region performance and its disparity across regions (``pygbs regions``).

(The module is ``regional``, not ``regions``: ``pygbs.regions`` is the function, and a
submodule of the same name would replace it on the package once imported.)

Each sample is placed in a region (:mod:`pygbs.partitions`); per region the metric is
the mean of the sample's performance (accuracy for hit columns, the value as coded
otherwise). Intervals come from a spatial block bootstrap (:mod:`pygbs.inference.bootstrap`):
samples are grouped into equal-area blocks ``block_km`` wide and whole blocks are
resampled, once for all regions together, so that the intervals of differences between
regions (the gap, a region against the rest) hold the regions' shared blocks.

Disparity across the eligible regions (at least ``min_n`` samples):

* ``gap``: best minus worst region. The largest of several noisy means minus the
  smallest is positive even when every region has the same true metric, so its
  ``p_value`` compares it with the gap of the bootstrap replicates centred on each
  region's own mean (what sampling noise alone gives);
* ``ratio``: lowest over highest region (fairlearn's ``ratio()``);
* ``theil``: the between-region Theil index ``sum_r s_r (x_r / m) ln(x_r / m)`` with
  ``s_r`` the region's share of samples and ``m`` the overall mean (0: equal regions;
  ``ln R`` at most); NaN for a metric with negative values.

:func:`robust_disparity` repeats the gap over randomly rotated HEALPix grids at several
cell sizes (a disparity that holds whichever way the borders are drawn).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pygbs._names import DEFAULT_BOOTSTRAP, DEFAULT_CI
from pygbs.cancel import Cancel, check_cancelled, honours_cancel
from pygbs.coding import code_performance
from pygbs.errors import InputError, NoCoordinatesError
from pygbs.inference.bootstrap import block_bootstrap, make_blocks
from pygbs.inference.disparity import (
    gap_null,
    percentile_interval,
    replicate_means,
    t_interval,
    theil_index,
)
from pygbs.inference.fdr import fdr_q_values
from pygbs.io.predictions import read_predictions
from pygbs.io.sources import expand_sources, unique_names
from pygbs.io.torchspatial import looks_encoded
from pygbs.partitions import (
    NEAREST_KM,
    NONE,
    Partition,
    assign_regions,
    cell_km,
    random_rotations,
    rotated_cells,
)
from pygbs.predictions import Predictions
from pygbs.results.regions import RegionResult

__all__ = [
    "DEFAULT_BLOCK_KM",
    "DEFAULT_MIN_N",
    "DEFAULT_ROBUST_NSIDES",
    "DEFAULT_ROTATIONS",
    "regions",
    "robust_disparity",
    "sample_metric",
]

#: Side of the bootstrap blocks (km).
DEFAULT_BLOCK_KM = 500.0
#: Regions with fewer samples are listed but left out of the disparity.
DEFAULT_MIN_N = 30
#: HEALPix resolutions of the robust disparity (cells about 3,260, 1,630, 815, 407 km).
DEFAULT_ROBUST_NSIDES = (2, 4, 8, 16)
#: Rotations per cell size.
DEFAULT_ROTATIONS = 20
#: Bootstrap replicates per rotation of the robust disparity.
ROBUST_BOOTSTRAP = 200
#: Replicate x block cells drawn at once (bounds memory).
_CHUNK_CELLS = 4_000_000


def sample_metric(pred: Predictions) -> tuple[np.ndarray, str, bool]:
    """Per-sample metric of a prediction table.

    Parameters
    ----------
    pred : Predictions
        The table.

    Returns
    -------
    values : ndarray of float64
        1/0 for hit columns (right/wrong), else the value, or its absolute value for a
        signed error (the coding's ``transform='auto'``, as :func:`pygbs.score` uses).
    name : str
        ``"accuracy"`` for hit columns, else ``"value"``.
    higher_is_better : bool
    """
    if pred.binary:
        return (pred.value > 0).astype(np.float64), "accuracy", True
    coding = code_performance(pred)
    return coding.basis(pred.value), "value", not coding.lower_is_better


# --- the joint block bootstrap ------------------------------------------------------------


class _Joint:
    """Block x region sums and counts; replicate region means of a block bootstrap."""

    def __init__(self, values: np.ndarray, regions: np.ndarray, blocks: np.ndarray, n_regions: int):
        from scipy.sparse import csr_matrix

        _, b = np.unique(blocks, return_inverse=True)
        self.n_blocks = int(b.max()) + 1
        shape = (self.n_blocks, n_regions)
        self.sums = csr_matrix((values, (b, regions)), shape=shape)
        self.counts = csr_matrix((np.ones_like(values), (b, regions)), shape=shape)

    def replicates(self, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Region sums and counts of ``n_boot`` replicates, shape (n_boot, n_regions)."""
        rng = np.random.default_rng(seed)
        nb = self.n_blocks
        sums = np.empty((n_boot, self.sums.shape[1]))
        counts = np.empty_like(sums)
        step = max(1, _CHUNK_CELLS // nb)
        p = np.full(nb, 1.0 / nb)
        for a in range(0, n_boot, step):
            check_cancelled()  # between chunks of replicates
            m = min(step, n_boot - a)
            w = rng.multinomial(nb, p, size=m).astype(np.float64)
            sums[a : a + m] = (self.sums.T @ w.T).T
            counts[a : a + m] = (self.counts.T @ w.T).T
        return sums, counts


def _one_model(
    model: str,
    values: np.ndarray,
    part: Partition,
    blocks: np.ndarray,
    *,
    metric: str,
    higher_is_better: bool,
    n_boot: int,
    ci: float,
    seed: int,
    min_n: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    names, reg = np.unique(part.labels.astype(str), return_inverse=True)
    n_r = np.bincount(reg, minlength=len(names))
    sums = np.bincount(reg, weights=values, minlength=len(names))
    means = sums / np.maximum(n_r, 1)
    eligible = (n_r >= min_n) & (names != NONE)
    joint = _Joint(values, reg, blocks, len(names))
    rs, rc = joint.replicates(n_boot, seed) if n_boot else (np.zeros((0, len(names))),) * 2
    rep_means = replicate_means(rs, rc, means)
    with np.errstate(invalid="ignore", divide="ignore"):
        rest_n = len(values) - n_r
        rest = (sums.sum() - sums) / np.where(rest_n > 0, rest_n, np.nan)
        rep_rest = (rs.sum(axis=1, keepdims=True) - rs) / (rc.sum(axis=1, keepdims=True) - rc)
    # effective numbers of blocks of each region and of its rest, from the sparse
    # (blocks x regions) counts: (sum n_b)^2 / sum n_b^2
    c = joint.counts
    tot_b = np.asarray(c.sum(axis=1)).ravel()
    n_reg = np.asarray(c.sum(axis=0)).ravel()
    sq_reg = np.asarray(c.multiply(c).sum(axis=0)).ravel()
    cross = np.asarray(c.T @ tot_b).ravel()
    sq_rest = float(np.sum(tot_b**2)) - 2.0 * cross + sq_reg
    n_rest = float(tot_b.sum()) - n_reg
    with np.errstate(invalid="ignore", divide="ignore"):
        b_eff_all = np.minimum(n_reg**2 / sq_reg, np.where(sq_rest > 0, n_rest**2 / sq_rest, 0.0))
    rows = []
    for j, name in enumerate(names):
        iv = block_bootstrap(values[reg == j], blocks[reg == j], n_boot=n_boot, ci=ci, seed=seed)
        vs = means[j] - rest[j]
        # the comparison rests on the fewer blocks of the region and of the rest
        lo, hi, p = t_interval(vs, rep_means[:, j] - rep_rest[:, j], ci, float(b_eff_all[j]))
        rows.append(
            {
                "model": model,
                "region": str(name),
                "n": int(n_r[j]),
                metric: float(means[j]),
                f"{metric}_ci_low": iv.ci_low,
                f"{metric}_ci_high": iv.ci_high,
                "vs_rest": float(vs),
                "vs_rest_ci_low": lo,
                "vs_rest_ci_high": hi,
                "p_vs_rest": p,
                "eligible": bool(eligible[j]),
            }
        )
    table = pd.DataFrame(rows)
    q = np.full(len(names), np.nan)
    q[eligible] = fdr_q_values(table["p_vs_rest"].to_numpy()[eligible])
    table.insert(table.columns.get_loc("eligible"), "q_vs_rest", q)

    overall = block_bootstrap(values, blocks, n_boot=n_boot, ci=ci, seed=seed)
    disp = [
        {"statistic": "overall", "value": overall.estimate, "ci_low": overall.ci_low,
         "ci_high": overall.ci_high, "p_value": math.nan, "region": ""},
    ]  # fmt: skip
    e = np.flatnonzero(eligible)
    if len(e) >= 2:
        m = means[e]
        rm = rep_means[:, e]
        gap = float(m.max() - m.min())
        rep_gap = rm.max(axis=1) - rm.min(axis=1)
        null = gap_null(rm, m)
        p_gap = float((1 + np.sum(null >= gap)) / (1 + len(null))) if len(null) else math.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = float(m.min() / m.max()) if m.max() > 0 else math.nan
            rep_ratio = rm.min(axis=1) / rm.max(axis=1)
        theil = float(theil_index(m, n_r[e].astype(float)))
        rep_theil = theil_index(rm, np.maximum(rc[:, e], 1.0))
        worst_j = e[np.argmin(m) if higher_is_better else np.argmax(m)]
        best_j = e[np.argmax(m) if higher_is_better else np.argmin(m)]
        for stat, val, reps, p in (
            ("gap", gap, rep_gap, p_gap),
            ("ratio", ratio, rep_ratio, math.nan),
            ("theil", theil, rep_theil, math.nan),
        ):
            lo, hi = percentile_interval(reps, ci)
            disp.append({"statistic": stat, "value": val, "ci_low": lo, "ci_high": hi,
                         "p_value": p, "region": ""})  # fmt: skip
        for stat, j in (("worst_region", worst_j), ("best_region", best_j)):
            row = table.iloc[j]
            disp.append({"statistic": stat, "value": row[metric],
                         "ci_low": row[f"{metric}_ci_low"], "ci_high": row[f"{metric}_ci_high"],
                         "p_value": row["p_vs_rest"], "region": str(names[j])})  # fmt: skip
    disparity = pd.DataFrame(disp)
    disparity.insert(0, "model", model)
    return table, disparity


# --- reading the inputs ---------------------------------------------------------------------


def _read_all(
    sources: Sequence[Any], value: str | None, names: Sequence[str] | None
) -> dict[str, Predictions]:
    items: list[Any] = []
    for s in sources:
        if isinstance(s, Predictions | pd.DataFrame):
            items.append(s)
        else:
            items.extend(expand_sources([s]))
    if names is not None and len(names) != len(items):
        raise InputError(f"{len(names)} names for {len(items)} prediction tables")
    preds: list[Predictions | None] = []
    quiet = logging.getLogger("pygbs.io.predictions")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # encoded coordinates are replaced below, not warned about
    try:
        for item in items:
            if isinstance(item, Predictions):
                preds.append(item)
                continue
            try:
                p = read_predictions(item, value=value)
            except NoCoordinatesError:
                p = None
            preds.append(None if p is not None and looks_encoded(p.lon, p.lat) else p)
    finally:
        quiet.setLevel(level)
    refs = [p for p in preds if p is not None and p.coords_source == "file"]
    for i, p in enumerate(preds):
        if p is not None:
            continue
        # the coordinates of a file of the same dataset: the first whose rows line up
        errors = []
        for ref in refs:
            source = ref.source if os.path.isfile(ref.source) else ref.table
            try:
                preds[i] = read_predictions(items[i], value=value, coords_from=source)
                break
            except InputError as err:
                errors.append(str(err))
        else:
            why = f" ({errors[0]})" if errors else ""
            raise NoCoordinatesError(
                f"{_label(items[i])}: no degree coordinates, and no file given with it "
                f"has them for the same rows{why}"
            )
    if names is None:
        labels = [
            p.name if p.source != "<DataFrame>" else f"model_{i + 1}" for i, p in enumerate(preds)
        ]
        names = unique_names([str(x) for x in labels]) if len(set(labels)) < len(labels) else labels
    dups = sorted({n for n in names if list(names).count(n) > 1})
    if dups:
        raise InputError(f"model names repeat: {', '.join(dups)}; give each model its own name")
    return dict(zip(names, preds, strict=True))  # type: ignore[arg-type]


def _label(item: Any) -> str:
    return os.fspath(item) if isinstance(item, str | os.PathLike) else "<DataFrame>"


def _check(n_boot: int, ci: float, min_n: int, block_km: float) -> None:
    if n_boot < 0:
        raise InputError(f"bootstrap replicates must be 0 or more; got {n_boot}")
    if not 0.0 < ci < 1.0:
        raise InputError(f"confidence level must be between 0 and 1; got {ci}")
    if min_n < 1:
        raise InputError(f"min_n must be 1 or more; got {min_n}")
    if not (math.isfinite(block_km) and block_km > 0):
        raise InputError(f"block size must be a positive number of km; got {block_km}")


@honours_cancel
def regions(
    predictions: Any,
    by: str = "continent",
    *,
    value: str | None = None,
    names: Sequence[str] | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    ci: float = DEFAULT_CI,
    block_km: float = DEFAULT_BLOCK_KM,
    min_n: int = DEFAULT_MIN_N,
    nearest_km: float = NEAREST_KM,
    robust: bool = False,
    robust_nsides: Sequence[int] = DEFAULT_ROBUST_NSIDES,
    rotations: int = DEFAULT_ROTATIONS,
    seed: int = 0,
    cancel: Cancel | None = None,
) -> RegionResult:
    """Performance per region and its disparity across regions, for one or several models.

    Parameters
    ----------
    predictions : path, folder, DataFrame, Predictions, or a list of them
        One model's predictions, or several models' (side by side in every table). A
        folder stands for its prediction files. Files without degree coordinates (no
        columns, or TorchSpatial's ``wrap`` encoding) take them, row by row, from the
        first file that has them.
    by : str, default='continent'
        The partition: ``continent``, ``country``, ``subregion`` (Natural Earth),
        ``healpix:N`` (equal-area cells of resolution ``N``) or ``PATH:COLUMN`` (polygons
        of a vector file, named by ``COLUMN``); see :mod:`pygbs.partitions`.
    value : str, optional
        Performance column (detected by default, as for :func:`pygbs.score`).
    names : sequence of str, optional
        Model names (default: file stems).
    n_boot : int, default=1000
        Block-bootstrap replicates (0: no intervals).
    ci : float, default=0.95
        Confidence level.
    block_km : float, default=500
        Side of the bootstrap blocks in km.
    min_n : int, default=30
        Fewest samples for a region to enter the disparity statistics.
    nearest_km : float, default=100
        Natural Earth partitions: samples outside every country go to the nearest one
        within this distance, else to ``none``.
    robust : bool, default=False
        Also compute :func:`robust_disparity` (``RegionResult.robust``).
    robust_nsides : sequence of int, default=(2, 4, 8, 16)
        HEALPix resolutions of the robust disparity.
    rotations : int, default=20
        Random rotations per resolution.
    seed : int, default=0
        Seed of the bootstrap and the rotations.
    cancel : callable, optional
        Called between batches of work; once it returns True the run stops and raises
        :class:`~pygbs.errors.Interrupted` (see :mod:`pygbs.cancel`).

    Returns
    -------
    RegionResult
        ``by_region``, ``overall``, ``difference()``, ``ratio()``, ``worst()`` and the
        tables ``table`` (regions.csv), ``disparity`` and ``robust``.

    Raises
    ------
    InputError
        For unreadable inputs, an unknown partition, or bad settings.

    Examples
    --------
    >>> res = pygbs.regions("preds.csv.gz", by="continent")  # doctest: +SKIP
    >>> res.by_region, res.difference(), res.worst()  # doctest: +SKIP
    """
    _check(n_boot, ci, min_n, block_km)
    if isinstance(predictions, str | os.PathLike | pd.DataFrame | Predictions):
        predictions = [predictions]
    preds = _read_all(list(predictions), value, names)
    tables, disps, robusts = [], [], []
    metric, hib = "accuracy", True
    models: dict[str, Any] = {}
    cache: dict[tuple[int, bytes], tuple[Partition, np.ndarray]] = {}
    for name, pred in preds.items():
        vals, metric, hib = sample_metric(pred)
        key = (len(pred), hashlib.sha1(pred.lon.tobytes() + pred.lat.tobytes()).digest())
        if key not in cache:  # models of one dataset share their locations
            part = assign_regions(pred.lon, pred.lat, by, nearest_km=nearest_km)
            blocks = make_blocks(pred.lon, pred.lat, block_km).ids
            cache[key] = (part, blocks)
        part, blocks = cache[key]
        t, d = _one_model(name, vals, part, blocks, metric=metric, higher_is_better=hib,
                          n_boot=n_boot, ci=ci, seed=seed, min_n=min_n)  # fmt: skip
        tables.append(t)
        disps.append(d)
        models[name] = {"source": pred.source, "value": pred.value_name, "n": len(pred),
                        "n_none": part.n_none, "n_nearest": part.n_nearest}  # fmt: skip
        if robust:
            robusts.append(
                robust_disparity(
                    pred.lon,
                    pred.lat,
                    vals,
                    nsides=robust_nsides,
                    rotations=rotations,
                    block_km=block_km,
                    min_n=min_n,
                    seed=seed,
                    model=name,
                )  # fmt: skip
            )
    info = {
        "by": by, "metric": metric, "higher_is_better": hib, "block_km": block_km,
        "n_boot": n_boot, "ci": ci, "seed": seed, "min_n": min_n, "nearest_km": nearest_km,
        "partition_source": part.source, "models": models,
    }  # fmt: skip
    if robust:
        info.update(robust_nsides=[int(x) for x in robust_nsides], rotations=rotations,
                    robust_bootstrap=ROBUST_BOOTSTRAP)  # fmt: skip
    return RegionResult(
        pd.concat(tables, ignore_index=True),
        pd.concat(disps, ignore_index=True),
        pd.concat(robusts, ignore_index=True) if robust else None,
        info,
    )


def robust_disparity(
    lon: np.ndarray,
    lat: np.ndarray,
    values: np.ndarray,
    *,
    nsides: Sequence[int] = DEFAULT_ROBUST_NSIDES,
    rotations: int = DEFAULT_ROTATIONS,
    block_km: float = DEFAULT_BLOCK_KM,
    min_n: int = DEFAULT_MIN_N,
    n_boot: int = ROBUST_BOOTSTRAP,
    seed: int = 0,
    model: str = "model",
) -> pd.DataFrame:
    """The gap between regions over randomly rotated equal-area grids at several sizes.

    For each HEALPix resolution and each of ``rotations`` random rotations of the sphere
    (the same rotations at every resolution), the samples are grouped into the rotated
    grid's cells, and the gap (best minus worst cell with at least ``min_n`` samples) is
    compared with the gap that sampling noise alone gives: ``n_boot`` draws of
    independent normal errors, one per cell, of variance ``deff * s_r^2 / n_r`` (``s_r^2``
    the variance of the cell's samples, ``n_r`` their number), where the design effect
    ``deff >= 1`` is the block-bootstrap variance (blocks ``block_km`` wide) of the mean
    of the samples' differences from their cell's mean over its variance for independent
    samples: samples close together count as fewer. (A block bootstrap within each cell
    would do the same, but cells a few blocks wide make its replicate means heavy-tailed
    and the noise gap too large.)

    Parameters
    ----------
    lon, lat : ndarray
        Sample coordinates in degrees.
    values : ndarray
        Per-sample metric (:func:`sample_metric`).
    nsides : sequence of int
        HEALPix resolutions (cell width about ``6,519 / nside`` km).
    rotations : int
        Rotations per resolution.
    block_km, min_n, n_boot, seed
        As for :func:`regions`.
    model : str
        Name written in the ``model`` column.

    Returns
    -------
    pandas.DataFrame
        ``model, cell_km, rotation, gap, n_regions, null_gap, p_gap`` (one row per
        resolution and rotation); ``null_gap`` is the median gap under noise alone and
        ``p_gap`` the share of noise gaps at least as large (with the usual +1).
    """
    _check(n_boot, 0.95, min_n, block_km)
    values = np.asarray(values, dtype=np.float64)
    blocks = make_blocks(lon, lat, block_km).ids
    rots = random_rotations(rotations, seed)
    rng = np.random.default_rng(seed)
    rows = []
    for nside in nsides:
        if int(nside) < 1:
            raise InputError(f"HEALPix resolutions must be 1 or more; got {nside}")
        for k in range(rotations):
            check_cancelled()
            cells = rotated_cells(lon, lat, int(nside), rots[k])
            _, reg = np.unique(cells, return_inverse=True)
            n_r = np.bincount(reg)
            keep = n_r[reg] >= min_n
            row = {
                "model": model,
                "cell_km": round(cell_km(int(nside)), 1),
                "rotation": k,
                "gap": math.nan,
                "n_regions": 0,
                "null_gap": math.nan,
                "p_gap": math.nan,
            }
            if keep.any():
                _, r2 = np.unique(reg[keep], return_inverse=True)
                v = values[keep]
                n = np.bincount(r2).astype(np.float64)
                row["n_regions"] = len(n)
                if len(n) >= 2:
                    means = np.bincount(r2, weights=v) / n
                    var = np.maximum(np.bincount(r2, weights=v * v) / n - means**2, 0.0)
                    # the design effect of the samples within cells (their differences
                    # from their cell's mean), so that the cells' own differences, the
                    # signal under test, do not count as noise
                    deff = _design_effect(v - means[r2], blocks[keep])
                    se = np.sqrt(deff * var * n / np.maximum(n - 1, 1) / n)
                    z = rng.standard_normal((n_boot, len(n))) * se
                    null = z.max(axis=1) - z.min(axis=1)
                    gap = float(means.max() - means.min())
                    row.update(
                        gap=gap,
                        null_gap=float(np.median(null)),
                        p_gap=float((1 + np.sum(null >= gap)) / (1 + len(null))),
                    )
            rows.append(row)
    return pd.DataFrame(rows)


def _design_effect(values: np.ndarray, blocks: np.ndarray) -> float:
    """Block-bootstrap variance of the mean over its i.i.d. variance (at least 1)."""
    iid = float(np.var(values, ddof=1)) / len(values) if len(values) > 1 else 0.0
    if iid <= 0:
        return 1.0
    joint = _Joint(values, np.zeros(len(values), dtype=np.int64), blocks, 1)
    rs, rc = joint.replicates(ROBUST_BOOTSTRAP, 12345)
    reps = (rs / np.maximum(rc, 1.0))[:, 0]
    return max(1.0, float(np.var(reps, ddof=1)) / iid)
