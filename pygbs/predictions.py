"""The :class:`Predictions` container: one model's per-location performance values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Predictions"]


@dataclass(frozen=True, eq=False)
class Predictions:
    """Per-sample predictions of one model, after dropping rows without coordinates.

    Attributes
    ----------
    lon, lat : ndarray of shape (n,)
        Longitude and latitude in degrees (WGS84), float64. Longitudes in [180, 360) are
        kept as given; every distance computation is periodic in longitude.
    value : ndarray of shape (n,)
        The raw performance value of each sample (float64), from column ``value_name``.
    value_name : str
        Name of the performance column (``"hit@1"``, ``"relative_error"``, ...).
    source : str
        Where the table came from (a path, or ``"<DataFrame>"``).
    n_rows : int
        Rows in the input before dropping.
    n_missing_coords : int
        Rows dropped because longitude or latitude was missing.
    table : pandas.DataFrame
        The kept rows with all their original columns, index reset to 0..n-1 (the ``row``
        index used in every output).
    binary : bool
        True when the value is a 0/1 or -1/+1 hit indicator (coded without a threshold).
    lower_is_better : bool
        The metric's natural direction (True for errors), used when coding with a threshold.
    coords_source : str
        Where the coordinates came from: ``"file"`` (the table's own columns),
        ``"geometry"`` (a GeoDataFrame's points) or ``"coords-from:<source>"`` (another
        table's coordinates, row by row).
    coords_check : dict or None
        For ``coords-from``, the check that was done: ``{"kind": "row-count", ...}`` for
        a table without coordinates, ``{"kind": "encoding", "encoding": "wrap", ...}`` with
        the largest differences and tolerances for a table whose coordinate columns hold
        an encoding of the reference coordinates (docs/cli.md, "Coordinates that are not
        degrees").
    """

    lon: np.ndarray
    lat: np.ndarray
    value: np.ndarray
    value_name: str
    source: str
    n_rows: int
    n_missing_coords: int
    table: pd.DataFrame = field(repr=False)
    binary: bool = False
    lower_is_better: bool = False
    coords_source: str = "file"
    coords_check: dict[str, Any] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.lon.shape[0])

    @property
    def name(self) -> str:
        """A short model name: the file stem without ``.csv``/``.gz``/``.parquet``."""
        from pathlib import Path

        name = Path(self.source).name
        for suffix in (".gz", ".csv", ".parquet", ".pq"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        return name
