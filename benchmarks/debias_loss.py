"""One training step of the geo-bias loss: ours against the prototype's per-centre approach.

The step is: draw 256 centres, compute the loss of a soft performance of the batch's
samples and back-propagate. Two implementations, in the same process, on the same
generated clustered locations (``benchmarks/clustered_sample.py``) and the same centres:

* ``ours``: :class:`encoders.losses.GeoBiasLoss` (``sample`` + forward + backward): the
  neighbourhoods, background points and k-NN graphs were computed once, in the
  constructor (timed separately); a step gathers them and runs a few segment sums in
  torch, vectorised over all centres, on ``--device``.
* ``prototype``: the approach of the original authors' prototype (GeoBS
  ``baselines/gbsloss.py``), re-implemented: neighbourhoods (and, for marked SSI, the
  background points) are prepared once, as its partitioner does; then per step a Python
  loop over centres builds a ``BallTree(haversine)`` over the pattern, queries ``k + 1``
  neighbours, fills a dense ``m x m`` weight matrix from coordinate lists, computes the
  null moments in NumPy from the distinct values (the reference formula of
  docs/method.md, D3, method ``pygbs``; values are binarised first, as the prototype's
  performance transformers do, with a straight-through gradient), moves the matrix to
  the device and takes ``x^T W x`` and the normal tail in torch. Its skip of centres whose
  majority value share is outside 0.6-0.9 is off by default (both sides then do the same
  work); ``--prototype-skip`` turns it on.

The two compute different null moments (analytic against the reference formula), so
their values are not compared; the point is the cost of the per-centre approach. Median
of ``--repeats`` steps after one warm-up step. On a small machine shared with other
work, each torch operation that runs on several threads can wait for a scheduler tick
(milliseconds) to wake its threads; ``--threads 1`` avoids that for both sides. Example::

    python benchmarks/debias_loss.py --device cpu --threads 1 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.neighbors import BallTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clustered_sample import generate  # noqa: E402

from encoders.losses import GeoBiasLoss  # noqa: E402
from pygbs.geo.background import background_points  # noqa: E402
from pygbs.geo.neighbours import Neighbourhoods, SphereIndex  # noqa: E402

#: The prototype's constant in its null moments (docs/method.md, D3, method ``pygbs``).
PROTOTYPE_K = 4.0


def _prototype_moments(values: np.ndarray) -> tuple[float, float]:
    """Null mean and spread from the distinct values and their counts (Python loops)."""
    cs, ns = np.unique(values, return_counts=True)
    ns = ns.astype(np.float64)
    big_n = ns.sum()
    xbar = float((cs * ns).sum() / big_n)
    r = int(np.argmax(ns))
    cr = cs[r] - xbar
    mu = var = 0.0
    for i in range(len(cs)):
        ci, ni = cs[i] - xbar, ns[i]
        for j in range(len(cs)):
            cj, nj = cs[j] - xbar, ns[j]
            if i != j:
                lo, hi = min(ni, nj), max(ni, nj)
                mu += ci * cj * lo * PROTOTYPE_K * hi / big_n
                if i != r and j != r:
                    b = lo * (PROTOTYPE_K * hi / big_n) * (1 - PROTOTYPE_K * hi / big_n)
                    var += (ci * cj - 2 * ci * cr + cr**2) ** 2 * b
            else:
                mu += ci * cj * ((ni - 1) * PROTOTYPE_K * ni / big_n - 1)
                if i != r:
                    b = 2 * (ni - 1) * PROTOTYPE_K * ni / big_n
                    b *= 1 - PROTOTYPE_K * (2 * ni - 1) / (3 * big_n)
                    var += (cs[i] - cs[r]) ** 4 * b
    return mu, math.sqrt(max(var, 0.0)) + 1.0


def _dense_weights(points: np.ndarray, k: int) -> np.ndarray:
    """Binary k-NN weights of ``points`` ((m, 2) lat/lon radians) as a dense m x m matrix."""
    tree = BallTree(points, leaf_size=30, metric="haversine")
    nbrs = tree.query(points, k=min(k + 1, len(points)), return_distance=False)
    rows, cols = [], []
    for i, ni in enumerate(nbrs):
        for j in ni:
            if i != j:
                rows.append(i)
                cols.append(j)
    w = np.zeros((len(points), len(points)), dtype=np.float32)
    w[rows, cols] = 1.0
    return w


class Prototype:
    """The per-centre approach; patterns prepared once (as the prototype's partitioner)."""

    def __init__(self, lonlat: np.ndarray, rows: np.ndarray, scale, background: bool, k: int):
        index = SphereIndex(lonlat[:, 0], lonlat[:, 1])
        nb = Neighbourhoods.from_scale(index, rows, scale)
        lat, lon = np.radians(lonlat[:, 1]), np.radians(lonlat[:, 0])
        self.k = k
        self.members = [nb.indices[nb.indptr[j] : nb.indptr[j + 1]] for j in range(len(rows))]
        self.points = []
        for j, row in enumerate(rows):
            pts = np.column_stack([lat[self.members[j]], lon[self.members[j]]])
            if background:
                blat, blon = background_points(lat[row], lon[row], nb.radius[j], len(pts))
                pts = np.vstack([pts, np.column_stack([blat, blon])])
            self.points.append(pts)

    def loss(self, theta: torch.Tensor, skip: bool) -> torch.Tensor:
        """Mean over centres of ``-ln p`` for the soft performance ``tanh(theta)``."""
        losses = []
        for j, members in enumerate(self.members):
            v = torch.tanh(theta[torch.from_numpy(members).to(theta.device)])
            hard = v + (torch.sign(v) - v).detach()  # binarised, straight-through
            m = len(self.points[j])
            z = torch.zeros(m, dtype=theta.dtype, device=theta.device)
            z = torch.cat([hard, z[len(members) :]])
            values = z.detach().cpu().numpy()
            if skip:
                share = np.unique(values, return_counts=True)[1].max() / m
                if share > 0.9 or share < 0.6:
                    continue
            w = _dense_weights(self.points[j], self.k)
            mu, sigma = _prototype_moments(values)
            w_t = torch.from_numpy(w).to(device=theta.device, dtype=theta.dtype)
            x = (z - z.mean())[None, :]
            s = (x @ (w_t @ x.T)).flatten()
            low = torch.minimum(s, 2 * mu - s)
            p = 1 + torch.erf((low - mu) / (sigma * math.sqrt(2)))
            losses.append(-torch.log(p + 1e-32)[0])
        return torch.stack(losses).mean()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _time(fn, repeats: int, device: torch.device) -> list[float]:
    fn()  # warm-up
    _sync(device)
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        _sync(device)
        out.append(time.perf_counter() - t)
    return out


def run(args: argparse.Namespace) -> dict:
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    )
    table = generate(args.n, seed=args.seed, n_clusters=args.clusters)
    lonlat = table[["lon", "lat"]].to_numpy()
    theta = torch.from_numpy(np.random.default_rng(args.seed).normal(0.0, 1.0, len(lonlat)))
    theta = theta.to(device).requires_grad_()
    results = {"device": str(device), "n": args.n, "centres": args.centres, "kinds": {}}
    for kind in args.kinds.split(","):
        GeoBiasLoss(lonlat, kind=kind, scale=args.scale, centres_per_batch=args.centres)
        t = time.perf_counter()
        loss = GeoBiasLoss(lonlat, kind=kind, scale=args.scale, centres_per_batch=args.centres)
        build = time.perf_counter() - t
        gen = torch.Generator().manual_seed(args.seed)

        def ours(loss=loss, gen=gen):
            theta.grad = None
            batch = loss.sample(gen).to(device)
            value = loss(torch.tanh(theta[batch.rows]), batch)
            value.backward()
            return value

        centres = loss.sample(torch.Generator().manual_seed(args.seed)).centres.numpy()
        proto = Prototype(
            lonlat,
            loss.centre_rows[centres],
            loss.scale,
            loss.kind.background,
            loss.k,
        )

        def prototype(proto=proto):
            theta.grad = None
            value = proto.loss(theta, args.prototype_skip)
            value.backward()
            return value

        if args.threads:  # numba's kernels (OpenMP) reset the thread count torch shares
            torch.set_num_threads(args.threads)
        t_ours = statistics.median(_time(ours, args.repeats, device))
        t_proto = statistics.median(_time(prototype, args.repeats, device))
        points = sum(len(p) for p in proto.points)
        results["kinds"][kind] = {
            "build_s": build,
            "ours_step_s": t_ours,
            "prototype_step_s": t_proto,
            "speedup": t_proto / t_ours,
            "pattern_points": points,
            "n_centres_table": loss.n_centres,
        }
        print(
            f"{kind:16s} {args.scale}: {len(centres)} centres, {points} pattern points; "
            f"ours {t_ours * 1e3:8.1f} ms/step (table built once in {build:.2f} s), "
            f"prototype {t_proto * 1e3:8.1f} ms/step, ratio {t_proto / t_ours:6.1f}x",
            flush=True,
        )
    return results


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=4096, help="samples (default: 4096)")
    p.add_argument("--centres", type=int, default=256, help="centres per step (default: 256)")
    p.add_argument(
        "--clusters", type=int, default=20, help="clusters of the locations (default: 20)"
    )
    p.add_argument("--scale", default="100km", help="scale (default: 100km)")
    p.add_argument(
        "--kinds",
        default="marked-ssi,performance-ssi",
        help="comma-separated SSI loss kinds (default: marked-ssi,performance-ssi)",
    )
    p.add_argument("--repeats", type=int, default=5, help="timed steps per side (default: 5)")
    p.add_argument(
        "--device", default="auto", help="cpu, cuda or auto (cuda when available; default)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument(
        "--threads",
        type=int,
        help="torch intra-op threads for both sides (default: torch's own choice)",
    )
    p.add_argument(
        "--prototype-skip",
        action="store_true",
        help="skip centres whose majority share is outside 0.6-0.9, as the prototype does",
    )
    p.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}"
    )
    results = run(args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
