"""The batch of a geo-bias loss step (:class:`GeoBatch`) and the checks of its inputs.

:class:`encoders.losses.geobias.GeoBiasLoss` stores each centre's neighbourhood as CSR
rows (:func:`csr_take` gathers some of them) and hands a step's centres to the loss as a
:class:`GeoBatch`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from pygbs.errors import InputError

__all__ = ["GeoBatch", "check_lonlat_array", "csr_take", "positive_int"]


def csr_take(ptr: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions of the CSR rows ``which``, and the pointers of the taken rows."""
    starts = ptr[which]
    lens = ptr[which + 1] - starts
    new_ptr = np.zeros(len(which) + 1, dtype=np.int64)
    np.cumsum(lens, out=new_ptr[1:])
    pos = np.arange(new_ptr[-1], dtype=np.int64) + np.repeat(starts - new_ptr[:-1], lens)
    return pos, new_ptr


def check_lonlat_array(lonlat: object) -> np.ndarray:
    """``lonlat`` as a contiguous float64 ``(n, 2)`` array, checked.

    The ranges are the encoders' (:mod:`encoders._validation`); an :class:`InputError`
    names the first bad row.
    """
    from encoders._validation import LAT_MAX, LON_MAX, LON_MIN

    a = np.asarray(lonlat, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2:
        raise InputError(f"lonlat must have shape (n, 2) (lon, lat degrees); got {a.shape}")
    if a.shape[0] == 0:
        raise InputError("lonlat is empty: the geo-bias loss needs located training samples")
    bad = ~np.isfinite(a).all(axis=1)
    bad |= (a[:, 0] < LON_MIN) | (a[:, 0] >= LON_MAX) | (np.abs(a[:, 1]) > LAT_MAX)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"lonlat row {i} is ({float(a[i, 0])!r}, {float(a[i, 1])!r}); expected finite lon in "
            f"[{LON_MIN:g}, {LON_MAX:g}) and lat in [-{LAT_MAX:g}, {LAT_MAX:g}] degrees"
        )
    return np.ascontiguousarray(a)


def positive_int(name: str, value: object, *, allow_none: bool = False) -> int | None:
    """``value`` as an int >= 1 (None passes with ``allow_none``); else an :class:`InputError`."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


@dataclass(frozen=True)
class GeoBatch:
    """The centres drawn for one step and the dataset rows whose performance they need.

    Made by :meth:`GeoBiasLoss.sample` (or :meth:`GeoBiasLoss.batch`); the fields starting
    with ``_`` are the loss's gather structure.

    Attributes
    ----------
    rows : torch.Tensor
        ``(r,)`` int64, sorted unique dataset rows (into the ``lonlat`` the loss was built
        from): the performance passed to the loss is for exactly these rows, in this order.
    centres : torch.Tensor
        ``(c,)`` int64, the centres (indices into the loss's centre table,
        :attr:`GeoBiasLoss.centre_rows`).
    """

    rows: Tensor
    centres: Tensor
    _member_pos: Tensor = dataclasses.field(repr=False)
    _member_seg: Tensor = dataclasses.field(repr=False)
    _member_weight: Tensor = dataclasses.field(repr=False)
    _neighbours: Tensor = dataclasses.field(repr=False)
    _part: Tensor = dataclasses.field(repr=False)
    _part_seg: Tensor = dataclasses.field(repr=False)
    _part_size: Tensor = dataclasses.field(repr=False)
    _const: Tensor = dataclasses.field(repr=False)

    def to(self, device: torch.device | str) -> GeoBatch:
        """The same batch with every tensor (``rows`` and ``centres`` too) on ``device``."""
        return GeoBatch(
            **{f.name: getattr(self, f.name).to(device) for f in dataclasses.fields(self)}
        )

    @property
    def device(self) -> torch.device:
        """Device of the gather structure."""
        return self._member_pos.device
