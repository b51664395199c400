"""Input validation for location encoders: the one place that states units and ranges.

Every encoder takes locations as a tensor of shape ``(..., 2)`` holding
``(longitude, latitude)`` **in degrees, in that order** (TorchSpatial's convention: raw degrees,
nothing normalised before the encoder). Accepted ranges:

* longitude in ``[-180, 360)``; values in ``(180, 360)`` are wrapped to ``lon - 360`` so that
  every encoder sees ``[-180, 180]`` (``180`` itself is kept, it is not mapped to ``-180``:
  the degree-space encoders of TorchSpatial distinguish the two, and so do we);
* latitude in ``[-90, 90]``;
* no NaN or infinite values.

Radians are never accepted implicitly: a value such as ``(0.1, 0.9)`` is a valid location in
degrees and is treated as such.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["LAT_MAX", "LON_MAX", "LON_MIN", "check_lonlat", "output_dtype"]

#: Smallest accepted longitude (degrees).
LON_MIN = -180.0
#: Longitudes must be strictly below this (degrees); ``(180, 360)`` is wrapped.
LON_MAX = 360.0
#: Latitude bound (degrees): ``[-LAT_MAX, LAT_MAX]``.
LAT_MAX = 90.0


def output_dtype(dtype: torch.dtype) -> torch.dtype:
    """Floating dtype of the position encoding for an input of ``dtype``.

    Parameters
    ----------
    dtype : torch.dtype
        Dtype of the (lon, lat) input.

    Returns
    -------
    torch.dtype
        ``dtype`` itself when it is floating, ``torch.float32`` for integer input.
    """
    return dtype if dtype.is_floating_point else torch.float32


def _first_index(mask: Tensor) -> tuple[int, ...]:
    """Index (over the batch dimensions) of the first True entry of ``mask``."""
    flat = int(torch.nonzero(mask.reshape(-1))[0, 0])
    return tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), mask.shape))


def _fmt(index: tuple[int, ...]) -> str:
    return str(index[0]) if len(index) == 1 else str(index)


def check_lonlat(lonlat: Tensor | object) -> Tensor:
    """Validate a ``(..., 2)`` tensor of (lon, lat) in degrees and wrap longitudes.

    Parameters
    ----------
    lonlat : torch.Tensor or array_like
        Locations, shape ``(..., 2)``: ``[..., 0]`` longitude and ``[..., 1]`` latitude, in
        degrees. Any batch shape, device and real dtype. Array-likes are converted with
        :func:`torch.as_tensor`.

    Returns
    -------
    torch.Tensor
        Same shape and device; floating dtype (the input's, or ``float32`` for integer input);
        longitudes in ``(180, 360)`` replaced by ``lon - 360``. Differentiable with respect to
        the input.

    Raises
    ------
    TypeError
        If the dtype is not real (bool, complex).
    ValueError
        If the last dimension is not 2, a value is NaN or infinite, a longitude is outside
        ``[-180, 360)`` or a latitude outside ``[-90, 90]``; the message names the first bad
        index (over the batch dimensions) and its value.
    """
    x = lonlat if isinstance(lonlat, Tensor) else torch.as_tensor(lonlat)
    if x.dtype == torch.bool or x.dtype.is_complex:
        raise TypeError(f"lonlat must hold real numbers (degrees); got dtype {x.dtype}")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise ValueError(
            f"lonlat must have shape (..., 2) = (lon, lat) in degrees; got shape {tuple(x.shape)}"
        )
    x = x.to(output_dtype(x.dtype))
    with torch.no_grad():
        bad = ~torch.isfinite(x)
        if bool(bad.any()):
            idx = _first_index(bad.any(-1))
            raise ValueError(
                f"lonlat has a non-finite value at index {_fmt(idx)}: {x[idx].tolist()}"
            )
        lon, lat = x[..., 0], x[..., 1]
        bad_lon = (lon < LON_MIN) | (lon >= LON_MAX)
        if bool(bad_lon.any()):
            idx = _first_index(bad_lon)
            raise ValueError(
                f"lon must be in [-180, 360) degrees; index {_fmt(idx)} has {float(lon[idx])!r}"
            )
        bad_lat = lat.abs() > LAT_MAX
        if bool(bad_lat.any()):
            idx = _first_index(bad_lat)
            raise ValueError(
                f"lat must be in [-90, 90] degrees; index {_fmt(idx)} has {float(lat[idx])!r}"
            )
        wrap = bool((lon > 180.0).any())
    if wrap:
        lon = x[..., 0]
        lon = torch.where(lon > 180.0, lon - 360.0, lon)
        x = torch.stack([lon, x[..., 1]], dim=-1)
    return x
