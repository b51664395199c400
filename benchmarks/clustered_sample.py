"""A seeded, clustered, world-wide prediction table of any size (for scale benchmarks).

Real geotagged samples crowd into cities and parks; a uniform sample would make every
neighbourhood small. This generator draws:

* ``n_clusters`` cluster centres (default 200) uniformly on the sphere between 60 S and
  72 N, with sizes from a Zipf-like law (weights ``1 / rank ** 0.5``: the largest cluster
  is 14 times the smallest) and widths from a log-normal law (median 30 km, most between
  11 and 80 km);
* 98 % of the samples around the clusters (Gaussian offsets in km in the local tangent
  plane), 2 % uniformly over the same band;
* a ``hit@1`` column (0/1) whose probability varies smoothly with location and by cluster,
  so that geo-bias scores have something to find.

The cluster layout does not depend on ``n``, so larger tables are denser versions of the
same world: from 100,000 samples on, nearly every clustered sample's 100 km neighbourhood
reaches the ``k_max = 100`` cap, so a centre costs about the same work at every size.
Rows come in random order (as in a real prediction file). Example::

    python benchmarks/clustered_sample.py --n 1000000 --out out/clustered_1M.parquet
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

KM_PER_DEG = 111.195
LAT_BAND = (-60.0, 72.0)
BACKGROUND_SHARE = 0.02


def _uniform_band(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform on the sphere with latitudes in :data:`LAT_BAND`."""
    s0, s1 = np.sin(np.radians(LAT_BAND))
    lat = np.degrees(np.arcsin(rng.uniform(s0, s1, n)))
    lon = rng.uniform(-180.0, 180.0, n)
    return lon, lat


def generate(n: int, seed: int = 0, n_clusters: int = 200) -> pd.DataFrame:
    """The table: ``lon``, ``lat`` (degrees) and ``hit@1`` (0/1), ``n`` rows.

    Parameters
    ----------
    n : int
        Number of samples.
    seed : int, default=0
        Seed (the same seed gives the same clusters at every ``n``).
    n_clusters : int, default=200
        Number of clusters.

    Returns
    -------
    pandas.DataFrame
    """
    if n < 1:
        raise ValueError(f"n must be positive; got {n}")
    layout = np.random.default_rng(seed)
    c_lon, c_lat = _uniform_band(layout, n_clusters)
    weight = 1.0 / np.arange(1, n_clusters + 1) ** 0.5
    weight /= weight.sum()
    width_km = np.exp(layout.normal(np.log(30.0), 0.5, n_clusters))
    c_skill = layout.normal(0.0, 0.8, n_clusters)

    rng = np.random.default_rng([seed, n])
    n_bg = int(round(n * BACKGROUND_SHARE))
    n_cl = n - n_bg
    which = rng.choice(n_clusters, size=n_cl, p=weight)
    dx = rng.standard_normal(n_cl) * width_km[which]
    dy = rng.standard_normal(n_cl) * width_km[which]
    lat = c_lat[which] + dy / KM_PER_DEG
    lat = np.clip(lat, -89.9, 89.9)
    lon = c_lon[which] + dx / (KM_PER_DEG * np.cos(np.radians(lat)))
    lon = (lon + 180.0) % 360.0 - 180.0
    skill = c_skill[which]
    b_lon, b_lat = _uniform_band(rng, n_bg)
    lon = np.concatenate([lon, b_lon])
    lat = np.concatenate([lat, b_lat])
    skill = np.concatenate([skill, np.zeros(n_bg)])
    order = rng.permutation(n)
    lon, lat, skill = lon[order], lat[order], skill[order]
    logit = skill + 0.8 * np.sin(np.radians(lon)) * np.cos(np.radians(lat)) - 0.01 * np.abs(lat)
    hit = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)
    return pd.DataFrame({"lon": lon, "lat": lat, "hit@1": hit})


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: write the table as Parquet or CSV (by the suffix)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=float, required=True, help="number of samples (1e6 is fine)")
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--clusters", type=int, default=200, help="number of clusters (default: 200)")
    p.add_argument("--out", type=Path, required=True, help="output .parquet or .csv file")
    args = p.parse_args(argv)
    table = generate(int(args.n), seed=args.seed, n_clusters=args.clusters)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix in (".parquet", ".pq"):
        table.to_parquet(args.out, index=False)
    else:
        table.to_csv(args.out, index=False)
    print(f"{len(table)} samples -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
