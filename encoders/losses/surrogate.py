"""The differentiable statistics of the geo-bias loss, per centre, and the soft performance.

:func:`ssi_per_centre` and :func:`sri_per_centre` compute, for every centre of a
:class:`~encoders.losses.batch.GeoBatch`, the score of docs/method.md (SSI, D3/D4; SRI,
D5) as a torch function of soft labels; :func:`soft_performance` makes those labels from
a model's outputs (docs/debiasing.md).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from encoders.losses.batch import GeoBatch
from pygbs.errors import InputError

__all__ = ["CONSTANT_M2", "soft_performance", "sri_per_centre", "ssi_per_centre"]

#: Labels whose sum of squared deviations ``m2`` is at most this times the number of
#: points are treated as constant: the SSI has no z-score there and the centre
#: contributes 0 (pygbs gives performance SSI 0 and no marked SSI, docs/method.md, D3/D4).
CONSTANT_M2 = 1e-12
_LN2 = math.log(2.0)


def _segment_sum(values: Tensor, seg: Tensor, n: int) -> Tensor:
    """Sums of ``values`` (along dim 0) per segment id ``seg``, ``n`` segments."""
    out = torch.zeros((n, *values.shape[1:]), dtype=values.dtype, device=values.device)
    return out.index_add_(0, seg, values)


def ssi_per_centre(v: Tensor, b: GeoBatch) -> Tensor:
    """SSI (analytic null) of every centre, from the members' labels ``v`` (float64).

    The background points carry label 0, so with ``mu`` the mean label of the ``m``
    points and ``x = v - mu`` at the samples (``-mu`` at background points):
    ``S = sum_ss x_a x_b - mu sum_a x_a d_a + mu^2 E_bb`` (``d_a``: edges between sample
    ``a`` and background points, ``E_bb``: background-background edges),
    ``m2 = sum x^2 + n_bg mu^2``, ``m4 = sum x^4 + n_bg mu^4``.
    """
    seg = b._member_seg
    c = b._const.shape[0]
    m, n_bg, e_bb, ei, va, vb, i_scale = b._const.unbind(1)
    mu = _segment_sum(v, seg, c) / m
    x = v - mu[seg]
    x2 = x * x
    # x_b summed over each sample's sample neighbours b (a missing one reads a zero)
    y = torch.cat([x, x.new_zeros(1)])[b._neighbours].sum(dim=1)
    # one pass for the member sums: x^2, x^4, x d (edges to background points), x y
    stacked = torch.stack([x2, x2 * x2, x * b._member_weight, x * y], dim=1)
    sums = _segment_sum(stacked, seg, c)
    m2 = sums[:, 0] + n_bg * mu**2
    m4 = sums[:, 1] + n_bg * mu**4
    s = sums[:, 3] - mu * sums[:, 2] + mu**2 * e_bb
    flat = m2 <= CONSTANT_M2 * m
    m2s = torch.where(flat, torch.ones_like(m2), m2)
    b2 = m * m4 / m2s**2
    vi = va - b2 * vb - ei**2
    ok = ~flat & (vi > 0)
    sd = torch.sqrt(torch.where(ok, vi, torch.ones_like(vi)))
    z = (i_scale * s / m2s - ei) / sd
    ssi = -_LN2 - torch.special.log_ndtr(-z.abs())
    return torch.where(ok, ssi, torch.zeros_like(ssi))


def sri_per_centre(v: Tensor, b: GeoBatch) -> Tensor:
    """SRI with 2 bins (wrong / right) of every centre, from the members' labels ``v``.

    ``q = (v + 1) / 2`` is the soft share of "right"; ``p_G`` and ``p_P`` are the mean
    of ``q`` over the neighbourhood and over each kept part (docs/method.md, D5).
    """
    from pygbs.stats.sri import DEFAULT_SRI_EPS

    seg = b._member_seg
    c = b._const.shape[0]
    n_parts = b._part_size.shape[0]
    q = (v + 1.0) * 0.5
    pg = _segment_sum(q, seg, c) / b._const[:, 0]
    pp = _segment_sum(q, b._part, n_parts + 1)[:n_parts] / b._part_size
    pg_p = pg[b._part_seg]
    tiny = torch.finfo(torch.float64).tiny

    def term(g: Tensor, p: Tensor) -> Tensor:
        # g ln(g / (p + eps)), 0 where g = 0 (bins that G does not use are skipped)
        return g * (torch.log(g.clamp_min(tiny)) - torch.log(p.clamp_min(0.0) + DEFAULT_SRI_EPS))

    kl = term(pg_p, pp) + term(1.0 - pg_p, 1.0 - pp)
    num = _segment_sum(b._part_size * kl, b._part_seg, c)
    den = _segment_sum(b._part_size, b._part_seg, c)
    return num / den


def soft_performance(
    output: Tensor,
    target: Tensor,
    *,
    task: str,
    image_probs: Tensor | None = None,
    temperature: float = 1.0,
) -> Tensor:
    """A smooth coded performance in ``[-1, 1]`` (+1 = right) of each sample.

    **Classification** (a smooth hit@1). The prediction a model is scored on ranks the
    classes by the fused score ``image_probs * sigmoid(output)`` (by the location prior
    ``sigmoid(output)`` alone without ``image_probs``); hit@1 holds when no class scores
    above the true one. With ``s`` the log fused score (the logits themselves without
    ``image_probs``: same ranking) and the margin ``d = s_y - max_{c != y} s_c``,

        v = 2 sigmoid(d / temperature) - 1 = tanh(d / (2 temperature)).

    ``v > 0`` exactly when the sample is a hit (ties count as hits, as in the metrics), at
    every temperature, and ``v -> +-1`` (the coded hit@1 of docs/method.md, D1) as the
    temperature goes to 0. The softmax probability of the true class would not keep that
    sign: with many classes a correct prediction can have a true-class probability far
    below 1/2. Gradients reach the true class and its strongest competitor.

    **Regression** (a smooth "error below the median"). With ``e = |output - target|``
    and ``t`` the median of ``e`` over the given samples (no gradient),

        v = tanh((t - e) / (2 temperature t)),

    positive exactly when ``e < t``, the threshold coding of D1 with "lower is better";
    the temperature is in units of the median error.

    ``temperature=0`` gives the hard coded values (+-1, no gradient).

    Parameters
    ----------
    output : torch.Tensor
        Classification: ``(B, C)`` location logits. Regression: ``(B,)`` predictions
        (standardised).
    target : torch.Tensor
        ``(B,)`` true class ids, or true values (standardised).
    task : {'classification', 'regression'}
        The task.
    image_probs : torch.Tensor, optional
        ``(B, C)`` image-only class probabilities (classification), fused with the
        location prior as at evaluation.
    temperature : float, default=1.0
        Softness (>= 0).

    Returns
    -------
    torch.Tensor
        ``(B,)`` in ``[-1, 1]``, of ``output``'s floating dtype.

    Raises
    ------
    pygbs.errors.InputError
        For an unknown task, a negative temperature or inconsistent shapes.
    """
    if not (isinstance(temperature, int | float) and math.isfinite(temperature)) or (
        temperature < 0
    ):
        raise InputError(f"temperature must be a finite number >= 0; got {temperature!r}")
    if task == "classification":
        if output.ndim != 2 or output.shape[1] < 2 or target.shape != output.shape[:1]:
            raise InputError(
                "classification needs output (B, C >= 2) and target (B,); got "
                f"{tuple(output.shape)} and {tuple(target.shape)}"
            )
        out = output if output.is_floating_point() else output.float()
        if image_probs is not None:
            if image_probs.shape != output.shape:
                raise InputError(
                    f"image_probs must have the shape of output {tuple(output.shape)}; got "
                    f"{tuple(image_probs.shape)}"
                )
            tiny = torch.finfo(out.dtype).tiny
            log_img = torch.log(image_probs.to(out.dtype).clamp_min(tiny))
            s = log_img + torch.nn.functional.logsigmoid(out)
        else:
            s = out
        y = target.long()[:, None]
        true = s.gather(1, y)[:, 0]
        other = s.scatter(1, y, float("-inf")).amax(dim=1)
        d = true - other
        if temperature == 0:
            return torch.where(d >= 0, 1.0, -1.0).to(out.dtype).detach()
        return torch.tanh(d / (2.0 * temperature))
    if task == "regression":
        if output.ndim != 1 or target.shape != output.shape:
            raise InputError(
                "regression needs output (B,) and target (B,); got "
                f"{tuple(output.shape)} and {tuple(target.shape)}"
            )
        out = output if output.is_floating_point() else output.float()
        e = (out - target.to(out.dtype)).abs()
        t = torch.quantile(e.detach().float(), 0.5).to(e.dtype)  # no half-precision quantile
        if temperature == 0:
            return torch.where(e < t, 1.0, -1.0).to(out.dtype).detach()
        scale = 2.0 * temperature * t.clamp_min(torch.finfo(out.dtype).eps)
        return torch.tanh((t - e) / scale)
    raise InputError(f"task must be 'classification' or 'regression'; got {task!r}")
