"""The ``map_range`` extent shared by ``rff`` and ``tile_ffn``."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["GLOBAL_EXTENT", "TORCHSPATIAL_TRAINER_EXTENT", "check_map_range"]

#: The whole globe, ``(x_min, x_max, y_min, y_max)`` in degrees; our default.
GLOBAL_EXTENT = (-180.0, 180.0, -90.0, 90.0)
#: TorchSpatial's trainer default ``--map_range`` (a North-America box, Q10/Q14).
TORCHSPATIAL_TRAINER_EXTENT = (-162.0, -59.0, 20.0, 56.0)


def check_map_range(map_range: Sequence[float]) -> tuple[float, float, float, float]:
    """Validate an extent ``(x_min, x_max, y_min, y_max)`` in degrees.

    Parameters
    ----------
    map_range : sequence of 4 floats
        Longitude and latitude bounds.

    Returns
    -------
    tuple of 4 floats
    """
    vals = tuple(float(v) for v in map_range)
    if len(vals) != 4:
        raise ValueError(
            f"map_range must be (x_min, x_max, y_min, y_max) in degrees; got {map_range!r}"
        )
    x_min, x_max, y_min, y_max = vals
    if not (x_min < x_max and y_min < y_max):
        raise ValueError(f"map_range needs x_min < x_max and y_min < y_max; got {vals!r}")
    return vals  # type: ignore[return-value]
