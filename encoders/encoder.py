"""``LocationEncoder``: a fixed (or tabulated) position encoding followed by a network."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from encoders._validation import check_lonlat
from encoders.pe.base import PositionEncoding

__all__ = ["LocationEncoder"]


class LocationEncoder(nn.Module):
    """Location encoder ``e(x) = NN(PE(x))`` for (lon, lat) in degrees.

    Build instances with :func:`encoders.build`; the constructor only assembles the parts.

    Parameters
    ----------
    pe : PositionEncoding
        The position encoding.
    net : torch.nn.Module
        Maps ``(n, pe.pe_dim)`` to ``(n, embed_dim)``.
    name : str
        Canonical registry name.
    embed_dim : int
        Output dimension of ``net``.
    hparams : dict, optional
        Hyper-parameters used (JSON-able); ``encoders.build(name, **hparams)`` rebuilds the
        same architecture.

    Attributes
    ----------
    name : str
    embed_dim : int
    pe_dim : int
    hparams : dict
    """

    def __init__(
        self,
        pe: PositionEncoding,
        net: nn.Module,
        *,
        name: str,
        embed_dim: int,
        hparams: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.pe = pe
        self.net = net
        self.name = name
        self.embed_dim = int(embed_dim)
        self.hparams = dict(hparams or {})

    @property
    def pe_dim(self) -> int:
        """Dimension of the position encoding."""
        return int(self.pe.pe_dim)

    def position_encoding(self, lonlat: Tensor) -> Tensor:
        """Position encoding of locations.

        Parameters
        ----------
        lonlat : torch.Tensor
            ``(..., 2)`` (longitude, latitude) in **degrees**, any batch shape, device and real
            dtype; see :func:`encoders._validation.check_lonlat` for the accepted ranges.

        Returns
        -------
        torch.Tensor
            ``(..., pe_dim)`` in the input's floating dtype (``float32`` for integer input),
            on the input's device. Angles are computed in float64.
        """
        x = check_lonlat(lonlat)
        return self.pe(x)

    def forward(self, lonlat: Tensor) -> Tensor:
        """Location embedding.

        Parameters
        ----------
        lonlat : torch.Tensor
            ``(..., 2)`` (longitude, latitude) in degrees.

        Returns
        -------
        torch.Tensor
            ``(..., embed_dim)`` in the dtype of the network's parameters (the PE is cast to
            it; call ``.double()`` on the encoder for a float64 network).
        """
        pe = self.position_encoding(lonlat)
        param = next(self.net.parameters())
        flat = pe.reshape(-1, pe.shape[-1]).to(param.dtype)
        out = self.net(flat)
        return out.reshape(*pe.shape[:-1], out.shape[-1])

    def extra_repr(self) -> str:
        """Summary shown by ``repr``."""
        return f"name={self.name!r}, pe_dim={self.pe_dim}, embed_dim={self.embed_dim}"
