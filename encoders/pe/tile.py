"""Tile (grid-cell lookup) encoding ``tile_ffn``: a learned vector per cell of a regular grid."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from encoders.pe.base import PositionEncoding
from encoders.pe.extent import check_map_range

__all__ = ["ANCHOR_TILE_SIZE", "MAX_TILE_CELLS", "TilePE"]

#: The cell size TorchSpatial actually uses (its PE default; the CLI value is dropped, Q1).
ANCHOR_TILE_SIZE = 1.0e6
#: Refuse grids with more cells than this (the TorchSpatial CLI values would give ~1e10).
MAX_TILE_CELLS = 2_000_000


class TilePE(PositionEncoding):
    """Learned lookup table over a grid of square cells of size ``cell_size`` degrees.

    ``n_col = ceil((x_max - x_min)/cell)``, ``n_row = ceil((y_max - y_min)/cell)``;
    ``col = clip(floor((lon - x_min)/cell), 0, n_col - 1)``, ``row`` likewise with lat;
    ``PE = T[row * n_col + col]`` with ``T`` initialised ``N(0, std=1/d)``.

    Parameters
    ----------
    embed_dim : int
        Table width ``d`` (TorchSpatial: ``spa_embed_dim``).
    cell_size : float
        Cell size in degrees (TorchSpatial passes ``--min_radius``).
    map_range : sequence of 4 floats
        Grid extent ``(x_min, x_max, y_min, y_max)`` in degrees.
    anchor_compat : bool, default=False
        Reproduce TorchSpatial as run: cell size ``1e6``, i.e. a single cell shared by every
        location (a location-independent encoder, Q1).
    """

    differentiable = False

    def __init__(
        self,
        embed_dim: int,
        cell_size: float,
        map_range: Sequence[float],
        anchor_compat: bool = False,
    ) -> None:
        super().__init__()
        self.map_range = check_map_range(map_range)
        self.anchor_compat = bool(anchor_compat)
        cell = ANCHOR_TILE_SIZE if self.anchor_compat else float(cell_size)
        if not cell > 0:
            raise ValueError(f"min_radius (tile cell size, degrees) must be > 0; got {cell_size!r}")
        x_min, x_max, y_min, y_max = self.map_range
        self.cell_size = cell
        self.n_col = max(1, math.ceil((x_max - x_min) / cell))
        self.n_row = max(1, math.ceil((y_max - y_min) / cell))
        n_cells = self.n_col * self.n_row
        if n_cells > MAX_TILE_CELLS:
            raise ValueError(
                f"min_radius={cell_size!r} gives {n_cells} tiles over map_range "
                f"{self.map_range}; max is {MAX_TILE_CELLS}: use a larger min_radius"
            )
        self.table = nn.Embedding(n_cells, int(embed_dim))
        nn.init.normal_(self.table.weight, mean=0.0, std=1.0 / int(embed_dim))
        self.pe_dim = int(embed_dim)

    def cell_index(self, x: Tensor) -> Tensor:
        """Cell index ``row * n_col + col`` (int64) of validated (lon, lat) degrees ``x``."""
        x_min, _, y_min, _ = self.map_range
        col = torch.floor((x[..., 0] - x_min) / self.cell_size).clamp(0, self.n_col - 1)
        row = torch.floor((x[..., 1] - y_min) / self.cell_size).clamp(0, self.n_row - 1)
        return (row * self.n_col + col).long()

    def encode(self, x: Tensor) -> Tensor:
        """See class docstring (no gradient flows to ``x``)."""
        return self.table(self.cell_index(x.detach()))

    def extra_repr(self) -> str:
        """Summary shown by ``repr``."""
        return (
            f"pe_dim={self.pe_dim}, cell_size={self.cell_size}, grid={self.n_row}x{self.n_col}, "
            f"anchor_compat={self.anchor_compat}"
        )
