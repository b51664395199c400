"""TorchSpatial's presence-only ``full_loss`` and background sampling.

``full_loss`` (Mac Aodha et al., ICCV 2019, eq. 7; TorchSpatial ``losses.full_loss``): for a
batch of B located samples (x_i, y_i) and B random background locations r_i, with
p_i = σ(W e(x_i)) and q_i = σ(W e(r_i)) (C classes), ε = 1e-5:

    L = mean_{i,c} ℓ_ic + w_r · mean_{i,c} [−log(1 − q_ic + ε)]
    ℓ_ic = −log(1 − p_ic + ε) for c ≠ y_i,   ℓ_{i,y_i} = −C · log(p_{i,y_i} + ε)

Background locations are drawn **uniformly on the whole sphere** (:func:`random_lonlat`).
TorchSpatial's default (``neg_rand_type="spherical"``) meant to do the same but returns
points of one quadrant only (lon ∈ [0°, 180°), lat ∈ [0°, 90°); docs/encoders/index.md, quirk Q6);
we do not reproduce that.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["EPS", "full_loss", "random_lonlat"]

#: The ε inside the logarithms of ``full_loss`` (TorchSpatial's value).
EPS = 1e-5


def random_lonlat(
    n: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """``n`` locations uniform on the sphere, as (lon, lat) degrees.

    lon ~ U[-180, 180), sin(lat) ~ U[-1, 1] (equal-area). Drawn on the generator's device
    (CPU by default) and moved to ``device``.

    Parameters
    ----------
    n : int
        Number of locations.
    generator : torch.Generator, optional
        Random source (CPU); the global generator when None.
    device : torch.device or str, default='cpu'
        Device of the result.
    dtype : torch.dtype, default=torch.float32
        Dtype of the result.

    Returns
    -------
    torch.Tensor
        ``(n, 2)``.
    """
    u = torch.rand(n, 2, generator=generator, dtype=torch.float64)
    lon = 360.0 * u[:, 0] - 180.0
    lat = torch.asin(2.0 * u[:, 1] - 1.0) * (180.0 / math.pi)
    return torch.stack([lon, lat], dim=1).to(device=device, dtype=dtype)


def full_loss(
    logits_pos: Tensor,
    labels: Tensor,
    logits_rand: Tensor,
    *,
    rand_weight: float = 1.0,
    eps: float = EPS,
    reduction: str = "mean",
) -> Tensor:
    """TorchSpatial's presence-only loss with random background locations.

    Parameters
    ----------
    logits_pos : torch.Tensor
        ``(B, C)`` class logits ``W e(x_i)`` at the data locations.
    labels : torch.Tensor
        ``(B,)`` int64 true classes.
    logits_rand : torch.Tensor
        ``(B', C)`` class logits at random background locations.
    rand_weight : float, default=1.0
        Weight ``w_r`` of the background term (``--rand_sample_weight``).
    eps : float, default=1e-5
        ε inside the logarithms.
    reduction : {'mean', 'none'}, default='mean'
        ``'none'``: the loss of each sample, ``(B,)``: its class-mean term plus
        ``rand_weight`` times the class-mean term of the background location of the same
        position (needs ``B' = B``); their mean is the ``'mean'`` loss.

    Returns
    -------
    torch.Tensor
        Scalar loss, or ``(B,)`` (computed in float32 or wider).
    """
    if logits_pos.ndim != 2 or labels.shape != logits_pos.shape[:1]:
        raise ValueError(
            f"logits_pos must be (B, C) and labels (B,); got {tuple(logits_pos.shape)} "
            f"and {tuple(labels.shape)}"
        )
    dtype = torch.promote_types(logits_pos.dtype, torch.float32)
    p = torch.sigmoid(logits_pos.to(dtype))
    q = torch.sigmoid(logits_rand.to(dtype))
    num_classes = p.shape[1]
    neg = -torch.log(1.0 - p + eps)
    p_true = p.gather(1, labels[:, None])
    pos = -num_classes * torch.log(p_true + eps)
    loss_pos = neg.scatter(1, labels[:, None], pos)
    loss_bg = -torch.log(1.0 - q + eps)
    if reduction == "none":
        if loss_bg.shape != loss_pos.shape:
            raise ValueError("reduction='none' needs as many background locations as samples")
        return loss_pos.mean(dim=1) + rand_weight * loss_bg.mean(dim=1)
    if reduction != "mean":
        raise ValueError(f"reduction must be 'mean' or 'none'; got {reduction!r}")
    return loss_pos.mean() + rand_weight * loss_bg.mean()
