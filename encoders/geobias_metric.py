"""Geo-bias as a metric inside any training loop (torchmetrics, Lightning).

:class:`GeoBiasMetric` is a ``torchmetrics.Metric``: ``update(lonlat, performance)`` once per
batch keeps the locations and the per-sample performance (on every device; they are
concatenated over devices when the metric is computed), ``compute()`` scores them with
:func:`pygbs.score` and returns the headline Geo-Bias Scores, one scalar tensor per score
and scale (``'marked_ssi@nn50'``, ...). It works in a plain loop, in any LightningModule
(a torchgeo trainer's ``configure_metrics``) and across processes.

:class:`GeoBiasCallback` logs them after every validation epoch of a
:class:`~encoders.module.LocationTask` (or of any LightningModule whose validation batches
are dicts with ``lonlat`` and that has a ``sample_performance(outputs, batch)`` method, or
given a ``performance`` function). docs/training.md, "Geo-bias as a metric".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
import torch
import torchmetrics
from torch import Tensor

__all__ = ["GeoBiasCallback", "GeoBiasMetric"]


class GeoBiasMetric(torchmetrics.Metric):
    """Headline Geo-Bias Scores of per-sample performance, over batches and devices.

    Parameters
    ----------
    value : str, default='hit@1'
        Name of the performance (as a column of :func:`pygbs.score`): ``'hit@1'``,
        ``'reciprocal_rank'``, ``'relative_error'`` (lower is better, coded by its absolute
        value), ...; decides how pygbs codes it.
    scales : sequence of str, default=('nn50',)
        Scales of the scores (``'<r>km'``, ``'nn<K>'``).
    scores : sequence of str, default=('unmarked', 'marked')
        Scores of :func:`pygbs.score`.
    **score_options
        Further options of :func:`pygbs.score` (``min_points``, ``k``, ``threshold``,
        ``lower_is_better``, ...). The block bootstrap is off unless ``bootstrap`` is given.

    Examples
    --------
    >>> metric = GeoBiasMetric(scales=["nn20"])  # doctest: +SKIP
    >>> metric.update(lonlat, hit_at_1)  # each batch  # doctest: +SKIP
    >>> metric.compute()  # {'unmarked_ssi@nn20': tensor(..), ...}  # doctest: +SKIP
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = False

    def __init__(
        self,
        value: str = "hit@1",
        scales: Sequence[str] = ("nn50",),
        scores: Sequence[str] = ("unmarked", "marked"),
        **score_options: Any,
    ) -> None:
        super().__init__()
        from pygbs.geo.scales import parse_scale

        if isinstance(scales, str) or isinstance(scores, str):
            raise ValueError("scales and scores are sequences of names, e.g. ['nn50']")
        for s in scales:
            parse_scale(s)
        if value in ("lon", "lat"):
            raise ValueError(f"value {value!r} names a coordinate, not a performance")
        self.value = str(value)
        self.scales = [str(s) for s in scales]
        self.scores = [str(s) for s in scores]
        self.score_options = {"bootstrap": 0, **score_options}
        self.add_state("lonlat", default=[], dist_reduce_fx="cat")
        self.add_state("performance", default=[], dist_reduce_fx="cat")

    def update(self, lonlat: Tensor, performance: Tensor) -> None:
        """Add one batch: ``lonlat`` ``(b, 2)`` in degrees and ``performance`` ``(b,)``.

        Raises
        ------
        ValueError
            When the shapes do not match (one line naming both).
        """
        lonlat = torch.as_tensor(lonlat)
        performance = torch.as_tensor(performance)
        if lonlat.ndim != 2 or lonlat.shape[1] != 2 or performance.shape != lonlat.shape[:1]:
            raise ValueError(
                f"GeoBiasMetric.update: lonlat must be (b, 2) and performance (b,); got "
                f"{tuple(lonlat.shape)} and {tuple(performance.shape)}"
            )
        self.lonlat.append(lonlat.detach().to(self.device, torch.float64))
        self.performance.append(performance.detach().to(self.device, torch.float64))

    def compute(self) -> dict[str, Tensor]:
        """The headline scores, ``'<score column>@<scale>'`` -> scalar tensor (NaN: no centre).

        Raises
        ------
        pygbs.InputError
            From :func:`pygbs.score`, e.g. when too few samples were accumulated.
        """
        import pandas as pd

        import pygbs

        lonlat = torchmetrics.utilities.dim_zero_cat(self.lonlat).cpu().numpy()
        perf = torchmetrics.utilities.dim_zero_cat(self.performance).cpu().numpy()
        frame = pd.DataFrame({"lon": lonlat[:, 0], "lat": lonlat[:, 1], self.value: perf})
        res = pygbs.score(frame, value=self.value, scales=self.scales, scores=self.scores,
                          **self.score_options)  # fmt: skip
        return {
            f"{col}@{scale}": torch.tensor(res.headline(col, scale), dtype=torch.float64)
            for col in res.score_columns
            for scale in res.scales
        }


def _batch_lonlat(batch: Any) -> Tensor:
    return batch["lonlat"]


def _default_performance(pl_module: L.LightningModule, outputs: Any, batch: Any) -> Tensor:
    fn = getattr(pl_module, "sample_performance", None)
    if fn is None:
        raise TypeError(
            f"{type(pl_module).__name__} has no sample_performance(outputs, batch); give "
            "GeoBiasCallback a performance function"
        )
    return fn(outputs, batch)


class GeoBiasCallback(L.Callback):
    """Log the Geo-Bias Scores of the validation predictions after every validation epoch.

    Parameters
    ----------
    performance : callable, optional
        ``performance(pl_module, outputs, batch)`` -> per-sample performance ``(b,)`` of one
        validation batch (``outputs``: what ``validation_step`` returned). Default: the
        module's ``sample_performance(outputs, batch)`` (:class:`~encoders.module.LocationTask`
        has one: hit@1 of the fused prediction, or the relative error).
    lonlat : callable, optional
        ``lonlat(batch)`` -> ``(b, 2)`` locations; default ``batch['lonlat']``. Rows where
        ``batch['located']`` is False are left out.
    value : str, optional
        The performance's name for pygbs; default the module's ``performance_name`` or
        ``'hit@1'``.
    prefix : str, default='val_geobias/'
        Prefix of the logged names (``val_geobias/marked_ssi@nn50``, ...).
    **metric_options
        :class:`GeoBiasMetric` options (``scales``, ``scores``, ``min_points``, ...).

    Attributes
    ----------
    history : list of dict
        The scores of each validation epoch (floats), in order.
    """

    def __init__(
        self,
        performance: Callable[[L.LightningModule, Any, Any], Tensor] | None = None,
        lonlat: Callable[[Any], Tensor] | None = None,
        value: str | None = None,
        prefix: str = "val_geobias/",
        **metric_options: Any,
    ) -> None:
        self.performance = performance or _default_performance
        self.lonlat = lonlat or _batch_lonlat
        self.value = value
        self.prefix = prefix
        self.metric_options = metric_options
        self.metric: GeoBiasMetric | None = None
        self.history: list[dict[str, float]] = []

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        """Build the metric (its name of performance from the module when not given)."""
        value = self.value or getattr(pl_module, "performance_name", None) or "hit@1"
        self.metric = GeoBiasMetric(value=value, **self.metric_options)

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Start the epoch's accumulation (on the module's device)."""
        self.metric.reset()
        self.metric.to(pl_module.device)

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        """Add the batch's locations and performance."""
        perf = self.performance(pl_module, outputs, batch)
        lonlat = self.lonlat(batch)
        located = batch.get("located") if isinstance(batch, dict) else None
        if located is not None:
            lonlat, perf = lonlat[located], perf[located]
        self.metric.update(lonlat, perf)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Score the epoch's predictions with pygbs; log the headline scores."""
        if trainer.sanity_checking:
            return
        values = self.metric.compute()
        self.metric.reset()
        logged = {f"{self.prefix}{k}": v.float() for k, v in values.items()}
        pl_module.log_dict(logged, sync_dist=trainer.world_size > 1)
        self.history.append({k: float(v) for k, v in values.items()})
