"""How much the scores depend on the order of the rows, on the shipped Birdsnap example.

Where several rows share a location with different outcomes, the k-NN graph of the
samples breaks ties among them by row, so the scores built on it (marked SSI,
performance SSI, Moran's I, Geary's C) can change when the rows are shuffled
(docs/method.md, "Row order"). This scores the example file as it is and with its rows
shuffled ``--shuffles`` times (seeded), with ``--duplicates keep`` and ``collapse``, and
prints per score and scale: the centres whose value changed in any shuffle (matched by
their original row; by location after collapsing), the median among them of the largest change
and the median value, and the range of the headline (the mean over centres) across
the shuffles. Example::

    python benchmarks/row_order.py
    python benchmarks/row_order.py --file preds.csv --scales 100km,nn50 --shuffles 8
"""

from __future__ import annotations

import argparse
import logging
import sys

import numpy as np
import pandas as pd

import pygbs

KEY = {"keep": ["row"], "collapse": ["lon", "lat"]}


def one_setting(
    df: pd.DataFrame, scores: list[str], scales: list[str], duplicates: str, shuffles: int
) -> list[dict]:
    """Changed centres and headline ranges of ``scores`` for one ``duplicates`` policy."""
    kw = {"scales": scales, "scores": scores, "bootstrap": 0, "duplicates": duplicates}
    runs = []
    for i in range(shuffles + 1):
        perm = np.arange(len(df)) if i == 0 else np.random.default_rng(i).permutation(len(df))
        res = pygbs.score(df.iloc[perm].reset_index(drop=True), **kw)
        c = res.centres.copy()
        c["row"] = perm[c["row"].to_numpy()]
        runs.append((res, c.sort_values(["scale", *KEY[duplicates]]).reset_index(drop=True)))
    out = []
    base = runs[0][1]
    for score in scores:
        col = pygbs.SCORE_COLUMNS[score]
        for scale in scales:
            sel = (base["scale"] == scale).to_numpy()
            ref = base.loc[sel, col].to_numpy(float)
            changed = np.zeros(ref.size, dtype=bool)
            delta = np.zeros(ref.size)
            for _, c in runs[1:]:
                other = c.loc[(c["scale"] == scale).to_numpy(), col].to_numpy(float)
                d = np.abs(other - ref)
                moved = ~np.isclose(other, ref, rtol=1e-9, atol=1e-12, equal_nan=True)
                changed |= moved
                delta = np.maximum(delta, np.where(moved, np.nan_to_num(d), 0.0))
            heads = [r.headline(score, scale) for r, _ in runs]
            scored = int(np.isfinite(ref).sum())
            out.append({
                "duplicates": duplicates, "score": score, "scale": scale, "scored": scored,
                "changed": int(changed.sum()), "share": changed.sum() / max(scored, 1),
                "median_change": float(np.median(delta[changed])) if changed.any() else 0.0,
                "median_value": float(np.nanmedian(ref)),
                "headline_min": min(heads), "headline_max": max(heads),
            })  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default=None, help="predictions (default: the Birdsnap NeRF example)")
    ap.add_argument("--scales", default="100km,nn50")
    ap.add_argument("--scores", default="unmarked,marked,performance")
    ap.add_argument("--shuffles", type=int, default=4)
    args = ap.parse_args(argv)
    logging.getLogger("pygbs").setLevel(logging.ERROR)  # the warnings this measures
    path = args.file or next(p for p in pygbs.example_files() if "NeRF" in p.name)
    df = pygbs.read_predictions(path).table
    scales, scores = args.scales.split(","), args.scores.split(",")
    rows = []
    for duplicates in ("keep", "collapse"):
        rows += one_setting(df, scores, scales, duplicates, args.shuffles)
    sys.stdout.write(
        f"row order: {getattr(path, 'name', path)}, {len(df)} rows, {args.shuffles} shuffles\n"
        "| duplicates | score | scale | centres changed | median change | median value "
        "| headline across shuffles |\n|---|---|---|---|---|---|---|\n"
    )
    for r in rows:
        sys.stdout.write(
            f"| {r['duplicates']} | {r['score']} | {r['scale']} | {r['changed']:,} of "
            f"{r['scored']:,} ({100 * r['share']:.1f} %) | {r['median_change']:.3g} | "
            f"{r['median_value']:.3g} | {r['headline_min']:.4g} – {r['headline_max']:.4g} |\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
