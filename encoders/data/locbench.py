"""``locbench``: TorchSpatial's LocBench files, for users who downloaded them.

``root`` is the folder TorchSpatial calls ``geo_prior_data/data/`` (one sub-folder per
benchmark). The files read, per ``benchmark``, follow TorchSpatial's ``main/datasets.py``:

=====================  ====================================================================
benchmark              files under ``root``
=====================  ====================================================================
yfcc                   ``yfcc/train_test_split.csv`` (lon, lat, class, split);
                       ``yfcc/features_inception/YFCC_<split>_preds.npy`` (dense P(y|I));
                       optional ``yfcc/class_names.csv`` (id, name)
birdsnap_<meta>,       ``birdsnap/birdsnap_with_loc_2019.json`` (``nabirds/nabirds_with_loc_2019
nabirds_<meta>         .json``): keys ``train``/``valid``/``test`` (lists of images with
                       ``valid_image``, ``class_id`` and ``<meta>`` = ``{lon, lat, user_id,
                       date}``; meta is ``ebird_meta`` or ``orig_meta``) and ``classes``;
                       ``<dir>/features_inception/<dir>_<split>_preds_sparse.npz`` (scipy sparse)
inat_2017, inat_2018   ``inat_<year>/<split><year>_locations.json`` (``[{id, lon, lat, user_id,
                       date_c}]``), ``<split><year>.json`` (COCO-style ``images`` and
                       ``annotations``); ``features_inception/inat<year>_val_preds_sparse.npz``
fmow                   ``fmow/<split>_location.json``, ``fmow/<split>.json`` (as iNat);
                       ``fmow/feature_moco/fmow_val_preds.npy``
mosaiks_<target>       ``mosaiks/Y_<target>.csv`` (lon, lat, split, <target>) and
                       ``mosaiks/X_<target>.npy`` (features, one row per CSV row); regression
=====================  ====================================================================

Splits: ``val`` is the file split ``val``/``valid`` and ``test`` the split ``test``. Where
the layout has no public test labels (iNat, fMoW), its ``val`` split becomes our ``test``;
a missing ``val`` is carved from ``train`` (``val_fraction``, seeded). As in TorchSpatial,
training rows without a valid location are dropped and evaluation rows are kept (no location:
NaN, the image prediction alone is used). Unlike TorchSpatial, MOSAIKS rows are not
subsampled at random (its loader keeps an unseeded 1/20 of the rows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from encoders.data._base import GeoDataset, Split, check_finite
from pygbs.errors import InputError

__all__ = ["BENCHMARKS", "load"]

#: Benchmarks read by this loader -> (folder, number of classes or None for regression).
BENCHMARKS: dict[str, tuple[str, int | None]] = {
    "yfcc": ("yfcc", 100),
    "birdsnap_ebird_meta": ("birdsnap", 500),
    "birdsnap_orig_meta": ("birdsnap", 500),
    "nabirds_ebird_meta": ("nabirds", 555),
    "nabirds_orig_meta": ("nabirds", 555),
    "inat_2017": ("inat_2017", 5089),
    "inat_2018": ("inat_2018", 8142),
    "fmow": ("fmow", 62),
    "mosaiks_population": ("mosaiks", None),
    "mosaiks_elevation": ("mosaiks", None),
    "mosaiks_forest_cover": ("mosaiks", None),
    "mosaiks_nightlights": ("mosaiks", None),
}


def _need(path: Path, benchmark: str) -> Path:
    if not path.is_file():
        raise InputError(
            f"option 'root': LocBench file for {benchmark!r} not found: {path} "
            "(root must be TorchSpatial's geo_prior_data/data folder)"
        )
    return path


def _load_preds(path: Path) -> np.ndarray | None:
    """Image predictions: ``.npy`` (dense) or ``.npz`` (scipy sparse); None if absent."""
    if not path.is_file():
        return None
    if path.suffix == ".npz":
        from scipy import sparse

        out = np.asarray(sparse.load_npz(path).todense(), dtype=np.float32)
    else:
        out = np.load(path).astype(np.float32)
    if out.ndim == 2:
        check_finite(out, str(path))
    return out


def _yfcc(d: Path, bm: str) -> dict[str, dict[str, Any]]:
    df = pd.read_csv(_need(d / "train_test_split.csv", bm))
    out = {}
    for s in ("train", "val", "test"):
        part = df[df["split"] == s]
        if part.empty:
            continue
        out[s] = {
            "lonlat": part[["lon", "lat"]].to_numpy(np.float32),
            "label": part["class"].to_numpy(np.int64),
            "probs": None if s == "train" else _load_preds(
                d / "features_inception" / f"YFCC_{s}_preds.npy"
            ),
        }  # fmt: skip
    return out


def _num(v: Any) -> float:
    return np.nan if v is None else float(v)


def _birds(d: Path, bm: str) -> dict[str, dict[str, Any]]:
    folder = d.name
    meta = "ebird_meta" if bm.endswith("ebird_meta") else "orig_meta"
    with _need(d / f"{folder}_with_loc_2019.json", bm).open() as fh:
        data = json.load(fh)
    out = {}
    for s, key in (("train", "train"), ("val", "valid"), ("test", "test")):
        rows = [r for r in data.get(key, []) if r.get("valid_image", True)]
        if not rows:
            continue
        lonlat = np.array([[_num(r[meta]["lon"]), _num(r[meta]["lat"])] for r in rows])
        users = np.array([-1 if r[meta].get("user_id") is None else r[meta]["user_id"]
                          for r in rows])  # fmt: skip
        dates = np.array([_num(r[meta].get("date")) for r in rows])
        valid = np.isfinite(lonlat).all(1) & (users >= 0) & np.isfinite(dates)
        item = {
            "lonlat": lonlat.astype(np.float32),
            "label": np.array([r["class_id"] for r in rows], dtype=np.int64),
            "probs": None,
        }
        if s == "train":  # TorchSpatial: train_remove_invalid
            item = {"lonlat": item["lonlat"][valid], "label": item["label"][valid], "probs": None}
        else:
            item["probs"] = _load_preds(
                d / "features_inception" / f"{folder}_{key}_preds_sparse.npz"
            )
        out[s] = item
    return out


def _inat_like(d: Path, bm: str) -> dict[str, dict[str, Any]]:
    if bm == "fmow":
        names = {s: (f"{s}_location.json", f"{s}.json") for s in ("train", "val")}
        preds = {"val": d / "feature_moco" / "fmow_val_preds.npy"}
    else:
        year = bm[-4:]
        names = {s: (f"{s}{year}_locations.json", f"{s}{year}.json") for s in ("train", "val")}
        preds = {"val": d / "features_inception" / f"inat{year}_val_preds_sparse.npz"}
    out = {}
    for s, (loc_name, ann_name) in names.items():
        with _need(d / loc_name, bm).open() as fh:
            locs = {r["id"]: r for r in json.load(fh)}
        with _need(d / ann_name, bm).open() as fh:
            ann = json.load(fh)
        cls = {a["image_id"]: a["category_id"] for a in ann["annotations"]}
        ids = [im["id"] for im in ann["images"]]
        lonlat = np.array([[_num(locs[i]["lon"]), _num(locs[i]["lat"])] for i in ids])
        users = np.array([-1 if locs[i].get("user_id") is None else 0 for i in ids])
        label = np.array([cls[i] for i in ids], dtype=np.int64)
        item = {"lonlat": lonlat.astype(np.float32), "label": label, "probs": None}
        if s == "train":
            keep = np.isfinite(lonlat).all(1) & (users >= 0)
            item = {"lonlat": item["lonlat"][keep], "label": label[keep], "probs": None}
        else:
            item["probs"] = _load_preds(preds[s])
        out[s] = item
    # no public test labels: the val split is the test split
    out["test"] = out.pop("val")
    return out


def _mosaiks(d: Path, bm: str) -> dict[str, dict[str, Any]]:
    target = bm[len("mosaiks_") :]
    df = pd.read_csv(_need(d / f"Y_{target}.csv", bm))
    feats = np.load(_need(d / f"X_{target}.npy", bm)).astype(np.float32)
    if feats.ndim == 2:
        check_finite(feats, str(d / f"X_{target}.npy"))
    if feats.shape[0] != len(df):
        raise InputError(
            f"X_{target}.npy has {feats.shape[0]} rows but Y_{target}.csv has {len(df)}"
        )
    if target not in df.columns:
        raise InputError(f"Y_{target}.csv has no column {target!r}")
    out = {}
    for s in ("train", "val", "test"):
        mask = (df["split"] == s).to_numpy() & df[target].notna().to_numpy()
        if not mask.any():
            continue
        out[s] = {
            "lonlat": df.loc[mask, ["lon", "lat"]].to_numpy(np.float32),
            "label": df.loc[mask, target].to_numpy(np.float32),
            "features": feats[mask],
        }
    return out


def load(
    *,
    root: str | Path,
    benchmark: str = "yfcc",
    num_classes: int | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
) -> GeoDataset:
    """Load one LocBench benchmark from TorchSpatial's file layout.

    Parameters
    ----------
    root : path-like
        TorchSpatial's ``geo_prior_data/data`` folder.
    benchmark : str, default='yfcc'
        One of :data:`BENCHMARKS`.
    num_classes : int, optional
        Override the benchmark's number of classes (default: TorchSpatial's value, or the
        width of the image predictions when they are present).
    val_fraction : float, default=0.1
        Share of ``train`` used as ``val`` when the layout has no separate val split.
    seed : int, default=0
        Seed of that carve-out.

    Returns
    -------
    GeoDataset
    """
    if benchmark not in BENCHMARKS:
        raise InputError(
            f"option 'benchmark': unknown {benchmark!r}; valid: {', '.join(BENCHMARKS)}"
        )
    if not 0.0 < val_fraction < 1.0:
        raise InputError(f"option 'val_fraction' must be in (0, 1); got {val_fraction!r}")
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"option 'root': not a directory: {root}")
    folder, c = BENCHMARKS[benchmark]
    d = root / folder
    reader = {
        "yfcc": _yfcc,
        "birdsnap": _birds,
        "nabirds": _birds,
        "fmow": _inat_like,
        "inat_2017": _inat_like,
        "inat_2018": _inat_like,
        "mosaiks": _mosaiks,
    }[folder]
    parts = reader(d, benchmark)
    if "train" not in parts or "test" not in parts:
        raise InputError(f"{benchmark}: the files under {d} have no train or no test split")
    if "val" not in parts:
        tr = parts["train"]
        rng = np.random.default_rng(seed)
        n = len(tr["label"])
        perm = rng.permutation(n)
        n_val = max(1, round(val_fraction * n))
        val_idx, tr_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        parts["val"] = {k: (None if v is None else v[val_idx]) for k, v in tr.items()}
        parts["train"] = {k: (None if v is None else v[tr_idx]) for k, v in tr.items()}
    task = "classification" if c is not None else "regression"
    if task == "classification":
        widths = [p["probs"].shape[1] for p in parts.values() if p.get("probs") is not None]
        if num_classes is not None:
            c = int(num_classes)
        elif widths:
            c = widths[0]
    splits = {
        s: Split(
            lonlat=p["lonlat"],
            label=p["label"],
            image_probs=p.get("probs"),
            image_features=p.get("features"),
        )
        for s, p in parts.items()
    }
    for s, sp in splits.items():  # no image prediction to fall back on: drop unlocated rows
        if sp.image_probs is None and sp.image_features is None:
            splits[s] = sp.drop_unlocated()
    return GeoDataset(
        name=benchmark,
        task=task,
        num_classes=c if task == "classification" else None,
        train=splits["train"],
        val=splits["val"],
        test=splits["test"],
        info={
            "root": str(root),
            "benchmark": benchmark,
            "val_fraction": val_fraction,
            "seed": seed,
        },  # fmt: skip
    )
