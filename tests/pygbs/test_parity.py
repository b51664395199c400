"""Parity of ``method="pygbs"`` with the public reference implementation.

The reference values (``../shared/data/reference/ssi/``) are SSI per centre computed by
the public PyGBS code on real prediction files, for the first 150 valid rows, at 100 km
(k_max 100), 1000 km (k_max 400) and nn50. Its README explains that the reference breaks
exact distance ties through the internal order of scikit-learn's BallTree; a centre is
*stable* when the four orderings it tried agree (``min == max``) and no neighbourhood
boundary was decided by a tie (``boundary_tie == 0``).

What is checked:

* on the stable centres of all files together, at least 99 % agree to 1e-6 relative;
* every stable centre that does not agree is shown, by re-running a faithful BallTree
  replica of the reference with more orderings of the same neighbourhood points, to be
  order-dependent in the reference itself (the four orderings of the README missed it),
  and our value is one that the reference also produces for some ordering;
* on the tied centres, most of our values fall inside the reference's min-max range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pygbs

pytestmark = pytest.mark.shared

FILES = {
    "yfcc__NeRF": "torchspatial/eval_yfcc__test_NeRF.csv.gz",
    "yfcc__Sphere2Vec-sphereC": "torchspatial/eval_yfcc__test_Sphere2Vec-sphereC.csv.gz",
    "yfcc__tile_ffn": "torchspatial/eval_yfcc__test_tile_ffn.csv.gz",
    "birdsnap_ebird_meta__wrap": "torchspatial/eval_birdsnap_ebird_meta_test_wrap.csv.gz",
    "mosaiks_population__rbf": "torchspatial/eval_mosaiks_population__test_rbf.csv.gz",
    "eurosat__croma-finetune": "foundation_models/croma-finetune_eurosat.csv.gz",
}
K_MAX = {"100km": 100, "1000km": 400, "nn50": 100}
SCORES = ("unmarked_ssi", "marked_ssi")


@pytest.fixture(scope="module")
def comparison(predictions_dir, reference_dir) -> pd.DataFrame:
    """One row per (file, scale, centre, score): ours, the reference and its range."""
    rows = []
    for key, path in FILES.items():
        pred = pygbs.read_predictions(predictions_dir / path)
        for scale, k_max in K_MAX.items():
            ref = pd.read_csv(reference_dir / "ssi" / f"{key}__{scale}.csv")
            # the reference coded relative_error as stored (signed): transform="none", and
            # whatever its labels (near zero for mosaiks_population): near_zero_labels="allow"
            res = pygbs.score(
                pred,
                scales=[scale],
                k_max=k_max,
                min_points=1,
                centres=len(ref),
                transform="none",
                near_zero_labels="allow",
            ).centres
            assert (res["n_neighbours"].to_numpy() == ref["n_neighbours"].to_numpy()).all()
            for col in SCORES:
                rows.append(
                    pd.DataFrame(
                        {
                            "file": key,
                            "scale": scale,
                            "score": col,
                            "row": ref["row"],
                            "ours": res[col].to_numpy(),
                            "ref": ref[col],
                            "lo": ref[f"{col}_min"],
                            "hi": ref[f"{col}_max"],
                            "stable": (ref["boundary_tie"] == 0)
                            & (ref[f"{col}_min"] == ref[f"{col}_max"]),
                        }
                    )
                )
    df = pd.concat(rows, ignore_index=True)
    both_nan = df["ours"].isna() & df["ref"].isna()
    df["match"] = both_nan | (np.abs(df["ours"] - df["ref"]) <= 1e-6 * np.abs(df["ref"]))
    tol = 1e-9 * np.abs(df["hi"]) + 1e-12
    df["in_range"] = both_nan | ((df["ours"] >= df["lo"] - tol) & (df["ours"] <= df["hi"] + tol))
    return df


def test_stable_centres_match(comparison):
    stable = comparison[comparison["stable"]]
    share = stable["match"].mean()
    per_file = stable.groupby(["file", "scale"])["match"].mean()
    print(f"\nstable centres matching to 1e-6: {share:.4f} of {len(stable)}")
    print(per_file.to_string())
    assert share >= 0.99


def test_tied_centres_fall_in_the_reference_range(comparison):
    tied = comparison[~comparison["stable"]]
    share = tied["in_range"].mean()
    print(f"\ntied centres inside the reference's min-max range: {share:.3f} of {len(tied)}")
    print(tied.groupby(["file", "scale", "score"])["in_range"].mean().to_string())
    assert share >= 0.7


def _replica_range(pred, row, scale, k_max, score, orderings=25):
    """The reference's algorithm, run with scikit-learn's BallTree on several orderings of
    the same neighbourhood points (the centre's samples first, then the background)."""
    from scipy.stats import norm
    from sklearn.neighbors import BallTree

    from pygbs._kernels.stats import pygbs_moments
    from pygbs.geo.background import background_points

    index = pygbs.SphereIndex(pred.lon, pred.lat)
    nb = pygbs.Neighbourhoods.from_scale(
        index, np.array([row]), pygbs.parse_scale(scale, k_max=k_max)
    )
    ids = nb.indices
    n = len(ids)
    blat, blon = background_points(index.lat_rad[row], index.lon_rad[row], nb.radius[0], n)
    marks = np.asarray(pygbs.code_performance(pred, transform="none").values)
    rng = np.random.default_rng(row)
    values = []
    for t in range(orderings):
        order = np.arange(n) if t == 0 else rng.permutation(n)
        pts = np.column_stack(
            [
                np.concatenate([index.lat_rad[ids[order]], blat]),
                np.concatenate([index.lon_rad[ids[order]], blon]),
            ]
        )
        z = np.zeros(len(pts))
        z[:n] = 1.0 if score == "unmarked_ssi" else marks[ids[order]]
        nn = BallTree(pts, leaf_size=30, metric="haversine").query(pts, k=5, return_distance=False)
        x = z - z.mean()
        s = sum(x[i] * x[[j for j in nn[i] if j != i]].sum() for i in range(len(z)))
        mu, sigma = pygbs_moments(z)
        tail = min(s, 2 * mu - s)
        values.append(-np.log(2 * norm.cdf(tail, loc=mu, scale=sigma) + 1e-256))
    return min(values), max(values)


def test_every_stable_mismatch_is_order_dependent_in_the_reference(comparison, predictions_dir):
    bad = comparison[comparison["stable"] & ~comparison["match"]]
    print(f"\nstable centres that differ: {len(bad)}")
    for _, r in bad.iterrows():
        pred = pygbs.read_predictions(predictions_dir / FILES[r["file"]])
        lo, hi = _replica_range(pred, int(r["row"]), r["scale"], K_MAX[r["scale"]], r["score"])
        print(
            f"  {r['file']} {r['scale']} row {r['row']} {r['score']}: ours {r['ours']:.6g}, "
            f"reference {r['ref']:.6g}, reference over 25 orderings [{lo:.6g}, {hi:.6g}]"
        )
        # the reference itself is order-dependent here, and our value is among its outcomes
        assert hi - lo > 1e-6 * abs(hi)
        assert lo - 1e-9 * abs(lo) <= r["ours"] <= hi + 1e-9 * abs(hi)
