"""The networks that turn a position encoding into a location embedding.

* :class:`MultiLayerFeedForwardNN`: TorchSpatial's ``module.MultiLayerFeedForwardNN``
  (docs/encoders/index.md, "The FFN head"), used by 14 of the 15 encoders.
* :class:`FCNet`: Mac Aodha et al.'s residual network (ICCV 2019), used by ``wrap``.
* :class:`SirenNet`: a SIREN (sine-activated MLP), offered as an option for ``Siren(SH)``;
  TorchSpatial itself uses the plain FFN there (Q3).

Their dropout is :class:`FastDropout`: inverted dropout like ``nn.Dropout``, with a faster
mask on the CPU.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = [
    "ACTIVATIONS",
    "FCNet",
    "FastDropout",
    "LEAKY_RELU_SLOPE",
    "MultiLayerFeedForwardNN",
    "SingleFeedForwardNN",
    "SirenNet",
    "make_activation",
]

#: Negative slope of TorchSpatial's ``leakyrelu``.
LEAKY_RELU_SLOPE = 0.2
#: Accepted ``spa_f_act`` values.
ACTIVATIONS = ("relu", "leakyrelu", "sigmoid", "tanh", "gelu")
#: Mac Aodha's FCNet: number of residual blocks and its hard-coded dropout.
FCNET_RES_BLOCKS = 4
FCNET_DROPOUT = 0.5


def make_activation(name: str) -> nn.Module:
    """Activation module for a TorchSpatial ``spa_f_act`` name.

    Parameters
    ----------
    name : {'relu', 'leakyrelu', 'sigmoid', 'tanh', 'gelu'}
        ``leakyrelu`` has negative slope 0.2.

    Returns
    -------
    torch.nn.Module
    """
    key = str(name).lower()
    if key == "relu":
        return nn.ReLU()
    if key == "leakyrelu":
        return nn.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE)
    if key == "sigmoid":
        return nn.Sigmoid()
    if key == "tanh":
        return nn.Tanh()
    if key == "gelu":
        return nn.GELU()
    raise ValueError(f"spa_f_act must be one of {ACTIVATIONS}; got {name!r}")


class FastDropout(nn.Module):
    """Inverted dropout, as ``nn.Dropout``, with a faster mask on the CPU.

    In training each element is kept with probability ``1 - p`` and the kept ones are scaled
    by ``1 / (1 - p)``, so the expected value is unchanged; in evaluation mode, or for
    ``p == 0``, the input is returned as is. On the CPU the mask is
    ``torch.rand_like(x) >= p``, about three times faster than the Bernoulli sampling of
    ``nn.Dropout`` at 4096 x 512; on other devices it calls ``torch.nn.functional.dropout``
    (a fused kernel there). Both draw from the global torch generator, so seeded runs are
    reproducible; the CPU mask comes from a different random stream than ``nn.Dropout``'s.
    Like ``nn.Dropout`` it has no parameters or buffers.

    Parameters
    ----------
    p : float, default=0.5
        Probability of zeroing an element, in ``[0, 1]``.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1]; got {p!r}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        """Apply dropout to ``x`` (any shape)."""
        if not self.training or self.p == 0.0:
            return x
        if x.device.type != "cpu" or self.p == 1.0:
            return nn.functional.dropout(x, self.p, training=True)
        mask = torch.rand_like(x).ge_(self.p).mul_(1.0 / (1.0 - self.p))
        return x * mask

    def extra_repr(self) -> str:
        """``p=...`` as in ``nn.Dropout``'s repr."""
        return f"p={self.p}"


class SingleFeedForwardNN(nn.Module):
    """One block: ``Linear -> act -> Dropout -> (+x if skip and in == out) -> LayerNorm``.

    Post-norm order as in TorchSpatial. Linear weights Xavier-uniform, biases PyTorch default.

    Parameters
    ----------
    input_dim, output_dim : int
        Widths.
    dropout : float
        Dropout probability.
    activation : str
        ``spa_f_act`` name.
    use_layernormalize : bool
        Apply ``nn.LayerNorm(output_dim)`` at the end.
    skip_connection : bool
        Add the input when ``input_dim == output_dim``.
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        dropout: float,
        activation: str,
        use_layernormalize: bool,
        skip_connection: bool,
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {dropout!r}")
        self.linear = nn.Linear(input_dim, output_dim)
        nn.init.xavier_uniform_(self.linear.weight)
        self.act = make_activation(activation)
        self.dropout = FastDropout(dropout)
        self.skip = bool(skip_connection) and input_dim == output_dim
        self.norm = nn.LayerNorm(output_dim) if use_layernormalize else None

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block to ``(..., input_dim)``."""
        y = self.dropout(self.act(self.linear(x)))
        if self.skip:
            y = y + x
        if self.norm is not None:
            y = self.norm(y)
        return y


class MultiLayerFeedForwardNN(nn.Module):
    """TorchSpatial's FFN head (docs/encoders/index.md, "The FFN head").

    ``num_hidden_layer <= 0``: one block ``in -> out`` (act + dropout, no LN, no skip).
    Otherwise ``block(in -> H, LN, skip)``, ``(h - 1) x block(H -> H, LN, skip)`` and a last
    ``block(H -> out)`` that still applies activation and dropout (Q7), without LN or skip.

    Parameters
    ----------
    input_dim, output_dim : int
        PE dimension and embedding dimension.
    num_hidden_layer : int
        ``h``.
    hidden_dim : int
        ``H``.
    activation : str
        ``spa_f_act``.
    dropout : float
        Dropout probability of every block.
    use_layernormalize : bool
        LayerNorm in the hidden blocks.
    skip_connection : bool
        Residual connection in the hidden blocks (active where widths match).
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        num_hidden_layer: int,
        hidden_dim: int,
        activation: str,
        dropout: float,
        use_layernormalize: bool,
        skip_connection: bool,
    ) -> None:
        super().__init__()
        if num_hidden_layer > 0 and hidden_dim < 1:
            raise ValueError(f"hidden_dim must be >= 1; got {hidden_dim!r}")
        blocks: list[nn.Module] = []
        if num_hidden_layer <= 0:
            blocks.append(
                SingleFeedForwardNN(input_dim, output_dim, dropout, activation, False, False)
            )
        else:
            blocks.append(
                SingleFeedForwardNN(
                    input_dim, hidden_dim, dropout, activation, use_layernormalize, skip_connection
                )
            )
            for _ in range(num_hidden_layer - 1):
                blocks.append(
                    SingleFeedForwardNN(
                        hidden_dim,
                        hidden_dim,
                        dropout,
                        activation,
                        use_layernormalize,
                        skip_connection,
                    )
                )
            blocks.append(
                SingleFeedForwardNN(hidden_dim, output_dim, dropout, activation, False, False)
            )
        self.layers = nn.Sequential(*blocks)

    def forward(self, x: Tensor) -> Tensor:
        """Map ``(..., input_dim)`` to ``(..., output_dim)``."""
        return self.layers(x)


class _ResLayer(nn.Module):
    """``h + ReLU(W2 Drop(ReLU(W1 h + b1)) + b2)`` (ReLU before the residual add)."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.w1 = nn.Linear(width, width)
        self.w2 = nn.Linear(width, width)
        self.dropout = FastDropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        y = self.dropout(torch.relu(self.w1(x)))
        return x + torch.relu(self.w2(y))


class FCNet(nn.Module):
    """Mac Aodha et al. (2019) location network: ``ReLU(W0 f + b0)`` then 4 residual blocks.

    PyTorch default Linear initialisation; dropout fixed at 0.5 as in the reference.

    Parameters
    ----------
    num_inputs : int
        Feature dimension (4 for ``wrap``).
    num_filts : int
        Width ``F``; also the embedding dimension.
    """

    def __init__(self, num_inputs: int, num_filts: int) -> None:
        super().__init__()
        self.inp = nn.Linear(num_inputs, num_filts)
        self.blocks = nn.Sequential(
            *[_ResLayer(num_filts, FCNET_DROPOUT) for _ in range(FCNET_RES_BLOCKS)]
        )

    def forward(self, x: Tensor) -> Tensor:
        """Map ``(..., num_inputs)`` to ``(..., num_filts)``."""
        return self.blocks(torch.relu(self.inp(x)))


class _SineLayer(nn.Module):
    def __init__(
        self, dim_in: int, dim_out: int, w0: float, is_first: bool, activate: bool
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(dim_in, dim_out)
        self.w0 = w0
        self.activate = activate
        bound = 1.0 / dim_in if is_first else math.sqrt(6.0 / dim_in) / w0
        nn.init.uniform_(self.linear.weight, -bound, bound)
        nn.init.uniform_(self.linear.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        y = self.linear(x)
        return torch.sin(self.w0 * y) if self.activate else y


class SirenNet(nn.Module):
    """SIREN (Sitzmann et al. 2020) as used by Russwurm et al. (2024); an option, not a default.

    ``num_hidden_layer`` sine layers of width ``hidden_dim`` (``w0_initial`` on the first,
    ``w0`` after), SIREN uniform initialisation, dropout after each hidden layer, then a
    linear output layer.

    Parameters
    ----------
    input_dim, output_dim : int
        Widths.
    num_hidden_layer : int
        Number of sine layers (>= 1).
    hidden_dim : int
        Width of the sine layers.
    dropout : float
        Dropout after each sine layer.
    w0_initial : float, default=30.0
        Frequency factor of the first layer.
    w0 : float, default=1.0
        Frequency factor of the later layers.
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        num_hidden_layer: int,
        hidden_dim: int,
        dropout: float,
        w0_initial: float = 30.0,
        w0: float = 1.0,
    ) -> None:
        super().__init__()
        n = max(1, int(num_hidden_layer))
        layers: list[nn.Module] = []
        dim = input_dim
        for i in range(n):
            layers.append(_SineLayer(dim, hidden_dim, w0_initial if i == 0 else w0, i == 0, True))
            layers.append(FastDropout(dropout))
            dim = hidden_dim
        layers.append(_SineLayer(dim, output_dim, w0, False, False))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Map ``(..., input_dim)`` to ``(..., output_dim)``."""
        return self.layers(x)
