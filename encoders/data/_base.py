"""The dataset contract shared by every loader: :class:`Split` and :class:`GeoDataset`.

A dataset has three splits (``train``, ``val``, ``test``). Each split holds

* ``lonlat``: ``(n, 2)`` float32, (longitude, latitude) in degrees, in that order;
* ``label``: ``(n,)`` int64 class ids in ``[0, num_classes)`` (classification) or float32
  targets (regression);
* optionally ``image_probs``: ``(n, num_classes)`` float32, the image model's class
  probabilities P(y | I) (classification; fused with the location prior at test time);
* optionally ``image_features``: ``(n, d)`` float32, the image model's features
  (regression: the regressor's non-location input).

Evaluation splits (``val``, ``test``) may hold samples without a location (both coordinates
NaN), as the LocBench test sets do: they keep the image prediction alone. Training splits
never do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pygbs.errors import InputError

__all__ = ["SPLITS", "TASKS", "GeoDataset", "Split", "check_finite"]

#: The split names, in order.
SPLITS = ("train", "val", "test")
#: The supported tasks.
TASKS = ("classification", "regression")


@dataclass(frozen=True, eq=False)
class Split:
    """One split of a dataset (see the module docstring for the arrays' meaning).

    Attributes
    ----------
    lonlat : ndarray of shape (n, 2), float32
        (longitude, latitude) in degrees; NaN rows (no location) only in eval splits.
    label : ndarray of shape (n,)
        int64 class ids or float32 regression targets.
    image_probs : ndarray of shape (n, num_classes) or None
        Image-model class probabilities.
    image_features : ndarray of shape (n, d) or None
        Image-model features.
    """

    lonlat: np.ndarray
    label: np.ndarray
    image_probs: np.ndarray | None = None
    image_features: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.lonlat.shape[0])

    @property
    def has_location(self) -> np.ndarray:
        """Boolean mask ``(n,)``: True where the sample has a location."""
        return np.isfinite(self.lonlat).all(axis=1)

    def drop_unlocated(self) -> Split:
        """The split without its rows that have no location."""
        return self.subset(np.flatnonzero(self.has_location))

    def subset(self, index: np.ndarray) -> Split:
        """Return the rows ``index`` (an integer or boolean index array) as a new split."""
        return Split(
            lonlat=self.lonlat[index],
            label=self.label[index],
            image_probs=None if self.image_probs is None else self.image_probs[index],
            image_features=None if self.image_features is None else self.image_features[index],
        )


@dataclass(frozen=True, eq=False)
class GeoDataset:
    """A dataset of located samples with train / val / test splits.

    Attributes
    ----------
    name : str
        Dataset name (as given to :func:`encoders.data.load_dataset`).
    task : {'classification', 'regression'}
        What ``label`` holds.
    train, val, test : Split
        The three splits.
    num_classes : int or None
        Number of classes (classification), None for regression.
    class_names : tuple of str or None
        Optional class names, indexed by class id.
    info : dict
        JSON-able description: every option used (seed included) and loader notes.
    """

    name: str
    task: str
    train: Split
    val: Split
    test: Split
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate(self)

    def __getitem__(self, split: str) -> Split:
        """Return the split ``"train"``, ``"val"`` or ``"test"``."""
        if split not in SPLITS:
            raise KeyError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
        return getattr(self, split)

    @property
    def splits(self) -> dict[str, Split]:
        """The three splits as a dict ``{name: Split}``."""
        return {s: self[s] for s in SPLITS}

    @property
    def image_feature_dim(self) -> int | None:
        """Width of ``image_features`` (None when the dataset has none)."""
        f = self.train.image_features
        return None if f is None else int(f.shape[1])

    def with_splits(self, **splits: Split) -> GeoDataset:
        """Return a copy with some splits replaced (validated again)."""
        return replace(self, **splits)

    def summary(self) -> dict[str, Any]:
        """JSON-able summary: name, task, classes and split sizes."""
        return {
            "name": self.name,
            "task": self.task,
            "num_classes": self.num_classes,
            "sizes": {s: len(self[s]) for s in SPLITS},
            "image_probs": self.test.image_probs is not None,
            "image_feature_dim": self.image_feature_dim,
            "info": self.info,
        }


def check_finite(
    values: np.ndarray,
    where: str,
    columns: Sequence[str] | None = None,
    rows: np.ndarray | None = None,
) -> None:
    """Refuse NaN or infinite entries of a 2-D feature/probability array.

    A NaN image probability or feature would silently decide the fused prediction (NaN
    compares false, so the arg-max falls on the first class), so it is an input error.

    Parameters
    ----------
    values : ndarray of shape (n, d)
        The array.
    where : str
        The file (or dataset and split) it came from, for the message.
    columns : sequence of str, optional
        Column names (default: ``column <j>``).
    rows : ndarray of int, optional
        Row numbers to report (e.g. rows of the file; default: positions in ``values``).

    Raises
    ------
    InputError
        Naming the first bad entry's column, row and value, and the number of bad entries.
    """
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    i, j = (int(k) for k in np.argwhere(bad)[0])
    col = repr(str(columns[j])) if columns is not None else str(j)
    row = int(rows[i]) if rows is not None else i
    raise InputError(
        f"{where}: column {col}, row {row}: value {float(values[i, j])!r} is not finite "
        f"({int(bad.sum())} such values); fill or drop these rows"
    )


def _validate(ds: GeoDataset) -> None:
    """Check shapes, dtypes, ranges and label values of every split; raise InputError."""
    if ds.task not in TASKS:
        raise InputError(f"task must be one of {', '.join(TASKS)}; got {ds.task!r}")
    if ds.task == "classification" and (ds.num_classes is None or ds.num_classes < 2):
        raise InputError(f"classification needs num_classes >= 2; got {ds.num_classes!r}")
    for name in SPLITS:
        sp = getattr(ds, name)
        if not isinstance(sp, Split):
            raise TypeError(f"split {name!r} must be a Split; got {type(sp).__name__}")
        n = len(sp)
        where = f"dataset {ds.name!r}, split {name!r}"
        if sp.lonlat.ndim != 2 or sp.lonlat.shape[1] != 2 or sp.lonlat.dtype != np.float32:
            raise InputError(
                f"{where}: lonlat must be float32 of shape (n, 2); "
                f"got {sp.lonlat.dtype} {sp.lonlat.shape}"
            )
        if n == 0:
            raise InputError(f"{where}: the split is empty")
        finite = np.isfinite(sp.lonlat)
        partial = finite.any(1) & ~finite.all(1)
        if partial.any():
            i = int(np.flatnonzero(partial)[0])
            raise InputError(f"{where}: row {i} has only one coordinate: {sp.lonlat[i].tolist()}")
        if name == "train" and not finite.all():
            i = int(np.flatnonzero(~finite.all(1))[0])
            raise InputError(f"{where}: row {i} has no location (train rows need one)")
        if not finite.all() and sp.image_probs is None and sp.image_features is None:
            i = int(np.flatnonzero(~finite.all(1))[0])
            raise InputError(
                f"{where}: row {i} has no location and the split has no image prediction "
                "to fall back on; drop such rows (Split.drop_unlocated)"
            )
        lon, lat = sp.lonlat[:, 0], sp.lonlat[:, 1]
        bad = finite[:, 0] & ((lon < -180) | (lon > 180))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{where}: lon must be in [-180, 180]; row {i} has {lon[i]!r}")
        bad = finite[:, 1] & (np.abs(lat) > 90)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{where}: lat must be in [-90, 90]; row {i} has {lat[i]!r}")
        if sp.label.shape != (n,):
            raise InputError(f"{where}: label must have shape ({n},); got {sp.label.shape}")
        if ds.task == "classification":
            if sp.label.dtype != np.int64:
                raise InputError(f"{where}: class labels must be int64; got {sp.label.dtype}")
            bad = (sp.label < 0) | (sp.label >= ds.num_classes)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(
                    f"{where}: label must be in [0, {ds.num_classes}); row {i} has {sp.label[i]}"
                )
        else:
            if sp.label.dtype != np.float32 or not np.isfinite(sp.label).all():
                raise InputError(f"{where}: regression labels must be finite float32")
        if sp.image_probs is not None and sp.image_probs.shape != (n, ds.num_classes):
            raise InputError(
                f"{where}: image_probs must have shape ({n}, {ds.num_classes}); "
                f"got {sp.image_probs.shape}"
            )
        if sp.image_features is not None and (
            sp.image_features.ndim != 2 or sp.image_features.shape[0] != n
        ):
            raise InputError(
                f"{where}: image_features must have shape ({n}, d); got {sp.image_features.shape}"
            )
        for what, arr in (("image_probs", sp.image_probs), ("image_features", sp.image_features)):
            if arr is not None:
                check_finite(arr, f"{where}, {what}")
