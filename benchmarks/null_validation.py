"""Validation of the excess statistics on generated outcomes with a known answer.

On fixed real (or generated) locations, outcomes are drawn with a known spatial
structure and scored with the accuracy-matched null; for each candidate headline (the
excess of marked SSI, performance SSI, Moran's I and the spread of local performance)
the table reports, per scenario, the mean excess over seeds, the share of seeds whose
interval covers 0 and the share whose interval lies above 0:

* ``random``: outcomes independent of location at accuracy 0.5, 0.7, 0.85, 0.95
  (truth: no excess; intervals should cover 0 in about 95 % of seeds);
* ``broad``: log-odds of a hit follow a smooth field with a wavelength of 30 degrees
  (about 3,300 km: regions much larger than a 100 km neighbourhood) and strength 0.5, 1, 2
  (truth: excess grows with the strength);
* ``small``: the same with a wavelength of 1 degree (patches about 55 km across, inside
  a 100 km neighbourhood);
* ``density``: the hit probability rises with the local sample density (dense places
  are easier), accuracy 0.7 (truth: a real spatial variation that follows the data);
* ``random-uniform``: random outcomes at accuracy 0.7 on as many locations spread
  uniformly over a box of 40 x 25 degrees (is the excess moved by where samples are
  dense? it should stay about 0).

Examples::

    python benchmarks/null_validation.py --out out/null_validation
    python benchmarks/null_validation.py --seeds 5 --draws 19 --centres 1000

Writes ``validation.csv`` (one row per run and candidate) and ``validation.md`` (the
summary table of docs/method.md) into ``--out``.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GEOBIAS_SHARED", REPO.parent / "shared"))
LOCATIONS = SHARED / "data" / "predictions" / "torchspatial" / "eval_yfcc__test_NeRF.csv.gz"
CANDIDATES = {
    "marked_ssi": "excess marked SSI",
    "performance_ssi": "excess performance SSI",
    "moran_i": "excess Moran's I",
    "spread": "excess spread of local accuracy",
}


def _locations(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    if LOCATIONS.exists():
        df = pd.read_csv(LOCATIONS, usecols=["lon", "lat"])
        return df["lon"].to_numpy(), df["lat"].to_numpy(), "yfcc test locations (17,798)"
    centres = rng.uniform([-120, -40], [140, 60], size=(60, 2))
    xy = centres[rng.integers(0, 60, 17_798)] + rng.normal(0, 3, (17_798, 2))
    return xy[:, 0], np.clip(xy[:, 1], -89, 89), "clustered generated locations (17,798)"


def _field(lon: np.ndarray, lat: np.ndarray, wavelength_deg: float) -> np.ndarray:
    f = 2 * math.pi / wavelength_deg
    return np.sin(np.radians(lon) * f * 180 / math.pi) * np.cos(np.radians(lat) * f * 180 / math.pi)


def _hits(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(len(p)) < p).astype(int)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def scenarios(lon: np.ndarray, lat: np.ndarray, density: np.ndarray) -> list[tuple]:
    """``(scenario, parameter, probability of a hit per sample)`` of every scenario."""
    out = []
    for acc in (0.5, 0.7, 0.85, 0.95):
        out.append(("random", acc, np.full(len(lon), acc)))
    base = math.log(0.7 / 0.3)
    for strength in (0.5, 1.0, 2.0):
        out.append(("broad", strength, _logistic(base + strength * _field(lon, lat, 30.0))))
        out.append(("small", strength, _logistic(base + strength * _field(lon, lat, 1.0))))
    z = (np.log(density) - np.log(density).mean()) / np.log(density).std()
    out.append(("density", 1.0, _logistic(base + z)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run every scenario and seed; write the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="out/null_validation")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--draws", type=int, default=19)
    ap.add_argument("--centres", type=int, default=1000)
    ap.add_argument("--scale", default="100km")
    ap.add_argument("--only", help="comma-separated scenarios to run (default: all)")
    args = ap.parse_args(argv)

    import pygbs
    from pygbs import Neighbourhoods, SphereIndex, parse_scale

    rng = np.random.default_rng(0)
    lon, lat, where = _locations(rng)
    index = SphereIndex(lon, lat)
    nb = Neighbourhoods.from_scale(index, np.arange(len(lon)), parse_scale("nn20"))
    density = 1.0 / np.maximum(nb.radius, 1e-6) ** 2
    centres = np.sort(rng.choice(len(lon), size=min(args.centres, len(lon)), replace=False))
    runs = scenarios(lon, lat, density)
    ulon, ulat = rng.uniform(-10, 30, len(lon)), rng.uniform(35, 60, len(lon))
    runs.append(("random-uniform", 0.7, np.full(len(lon), 0.7)))
    if args.only:
        runs = [r for r in runs if r[0] in args.only.split(",")]
    rows = []
    t0 = time.perf_counter()
    for scenario, param, p in runs:
        x, y = (ulon, ulat) if scenario == "random-uniform" else (lon, lat)
        for seed in range(args.seeds):
            hits = _hits(p, np.random.default_rng([seed, int(param * 100), len(scenario)]))
            res = pygbs.score(
                pd.DataFrame({"lon": x, "lat": y, "hit@1": hits}),
                scales=[args.scale], scores=["marked", "performance", "moran"],
                centres=centres, null="accuracy", null_draws=args.draws, seed=seed,
                bootstrap=500,
            )  # fmt: skip
            for col in CANDIDATES:
                agg = res.summary["aggregates"][col][args.scale]
                rows.append(
                    {"scenario": scenario, "parameter": param, "seed": seed,
                     "accuracy": hits.mean(), "candidate": col, "mean": agg["mean"],
                     "excess": agg["excess"], "ci_low": agg["excess_ci_low"],
                     "ci_high": agg["excess_ci_high"], "p_excess": agg["p_excess"]}
                )  # fmt: skip
        print(f"{scenario} {param}: done ({time.perf_counter() - t0:.0f} s)", flush=True)
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "validation.csv", index=False)
    table["covers_0"] = (table["ci_low"] <= 0) & (table["ci_high"] >= 0)
    table["above_0"] = table["ci_low"] > 0
    summary = (
        table.groupby(["scenario", "parameter", "candidate"], sort=False)
        .agg(
            accuracy=("accuracy", "mean"),
            excess=("excess", "mean"),
            covers_0=("covers_0", "mean"),
            above_0=("above_0", "mean"),
        )  # fmt: skip
        .reset_index()
    )
    lines = [
        f"Locations: {where}; {len(centres)} centres at {args.scale}; {args.seeds} seeds per "
        f"row; {args.draws} null draws; 95 % intervals.",
        "",
        "| scenario | parameter | accuracy | " + " | ".join(CANDIDATES.values()) + " |",
        "|---|---|---|" + "---|" * len(CANDIDATES),
    ]
    for (scenario, param), part in summary.groupby(["scenario", "parameter"], sort=False):
        cells = []
        for col in CANDIDATES:
            r = part[part["candidate"] == col].iloc[0]
            cells.append(f"{r.excess:+.3g} (covers 0: {r.covers_0:.0%}, above: {r.above_0:.0%})")
        acc = part["accuracy"].iloc[0]
        lines.append(f"| {scenario} | {param:g} | {acc:.2f} | " + " | ".join(cells) + " |")
    (out / "validation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
