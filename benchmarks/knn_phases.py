"""Where one centre's SSI time goes: pattern, cell grid, k-NN graph, statistic and moments.

Runs the per-centre steps of :func:`pygbs._kernels.ssi.ssi_batch` on one thread over a
seeded sample of centres, cumulatively (pattern; + cell grid; + k-NN graph; + unmarked and
marked scores), and prints microseconds per centre (the fastest of ``--repeats`` runs) and
the mean pattern size. The last two steps replace the full k-NN graph with the graph of
the ``pygbs`` method (:func:`pygbs._kernels.ssi.statistic_graph`: background points whose
neighbours are provably all background points are not searched), which ``pygbs score``
uses by default; the share of background points so decided is printed too.
Times are the process's CPU time (one thread), so other jobs on a shared machine change
them far less than wall time. Example::

    python benchmarks/knn_phases.py --scale 100km --centres 3000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from pygbs._kernels import background as bg
from pygbs._kernels import cells
from pygbs._kernels import ssi as K
from pygbs.coding import code_performance
from pygbs.geo.background import rotations
from pygbs.geo.neighbours import Neighbourhoods, SphereIndex
from pygbs.geo.scales import parse_scale
from pygbs.io.predictions import read_predictions

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FILE = "../shared/data/predictions/torchspatial/eval_yfcc__test_NeRF.csv.gz"
STEPS = (
    "pattern",
    "+ cell grid",
    "+ k-NN graph",
    "+ 2 scores",
    "+ statistic graph",
    "+ 2 scores",
)


@njit
def _run(step, lat, lon, coslat, xyz, marks, centres, indptr, indices, radius, rot, table):
    """Steps ``0..step`` for every centre with at least 5 samples.

    Returns ``(checksum, background points, background points decided without a
    search)``; the counts only for ``step == -1``, which counts and times nothing else.
    """
    acc = 0.0
    background = 0
    decided = 0
    for c in range(centres.shape[0]):
        ids = indices[indptr[c] : indptr[c + 1]]
        n = ids.shape[0]
        if n < 5:
            continue
        plat, plon, pcos, pxyz = K.build_pattern(
            lat, lon, coslat, xyz, ids, radius[c], rot[c], table
        )
        m = pxyz.shape[0]
        clat, clon = lat[centres[c]], lon[centres[c]]
        if step == -1:
            grid = cells.build_cells(pxyz, clat, clon)
            rings = bg.grid_shape(radius[c], n)[1]
            decided += cells.background_only(pxyz, n, rings, table[2], grid, 4).sum()
            background += m - n
        elif step == 0:
            acc += pxyz[0, 0]
        elif step == 1:
            acc += cells.build_cells(pxyz, clat, clon)[0][0]
        else:
            if step < 4:
                nbr = K.knn_graph(plat, plon, pcos, pxyz, clat, clon, 4, True)
            else:
                nbr = K.statistic_graph(
                    plat, plon, pcos, pxyz, clat, clon, 4, True, n, radius[c], table[2]
                )
            if step == 2 or step == 4:
                acc += nbr[0, 0]
                continue
            out = np.empty(K.N_OUT)
            z = np.zeros(m)
            for t in range(n):
                z[t] = marks[ids[t]]
            K.score_pattern(z, nbr, K.METHOD_PYGBS, 0, 0, out)
            z = np.zeros(m)
            z[:n] = 1.0
            K.score_pattern(z, nbr, K.METHOD_PYGBS, 0, 0, out)
            acc += out[0]
    return acc, background, decided


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--file", default=DEFAULT_FILE, help="prediction file (default: %(default)s)")
    p.add_argument("--scale", default="100km", help="scale (default: %(default)s)")
    p.add_argument("--centres", type=int, default=3000, help="centres (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=5, help="runs per step; the fastest counts")
    p.add_argument("--seed", type=int, default=0, help="seed of the centre sample")
    args = p.parse_args(argv)
    path = Path(args.file)
    path = path if path.is_absolute() else REPO / path
    pred = read_predictions(path)
    marks = np.asarray(code_performance(pred).values, dtype=np.float64)
    index = SphereIndex(pred.lon, pred.lat)
    rng = np.random.default_rng(args.seed)
    centres = np.sort(rng.permutation(len(pred))[: args.centres])
    nbhd = Neighbourhoods.from_scale(index, centres, parse_scale(args.scale))
    sizes = nbhd.sizes
    radius = np.ascontiguousarray(nbhd.radius, dtype=np.float64)
    scored = sizes >= 5
    rings = max(bg.grid_shape(radius[c], sizes[c])[1] for c in np.flatnonzero(scored))
    rot = rotations(index.lat_rad[centres], index.lon_rad[centres])
    data = (index.lat_rad, index.lon_rad, index.coslat, index.xyz, marks, centres)
    data += (nbhd.indptr, nbhd.indices, radius, rot, bg.bearings(rings))
    n_scored = int(scored.sum())
    m_mean = np.mean(
        [sizes[c] + bg.grid_shape(radius[c], sizes[c])[2] for c in np.flatnonzero(scored)]
    )
    print(
        f"{path.name}, {args.scale}: {n_scored} centres scored, mean pattern "
        f"{m_mean:.0f} points ({sizes[scored].mean():.0f} samples); one thread"
    )
    _, total, decided = _run(-1, *data)
    print(
        f"  background points decided without a search (statistic graph): "
        f"{decided / max(total, 1):.1%} of {total / n_scored:.0f} per centre"
    )
    for step, name in enumerate(STEPS):
        _run(step, *data)  # compile
        best = min(_timed(_run, step, *data) for _ in range(max(args.repeats, 1)))
        print(f"  {name:<18} {1e6 * best / n_scored:8.1f} us/centre (cumulative)")
    return 0


def _timed(fn: Any, *args: Any) -> float:
    t = time.process_time()
    fn(*args)
    return time.process_time() - t


if __name__ == "__main__":
    sys.exit(main())
