"""Geo-aware heads on top of a location encoder (TorchSpatial / LocBench; docs/training.md).

* :class:`GeoClassifier`: the location prior P(y = c | x) = σ(w_cᵀ e(x)), one weight vector
  per class **without bias** (TorchSpatial's ``class_emb``). At test time it is fused with the
  image model by product: score_c = P(y = c | I) · P(y = c | x).
* :class:`GeoRegressor`: ŷ = g([h_img(f) ‖ σ(W e(x))]): the image features ``f`` through a
  small MLP ``h_img``, the location embedding through a bias-free linear map and a sigmoid
  (TorchSpatial reuses its class head this way, quirk Q16), then an MLP ``g``. Without an
  encoder it is the image-features-only (no-location) baseline; without image features it is
  location-only. Targets and features are standardised with statistics stored as buffers,
  so the model maps raw inputs to raw targets.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["GeoClassifier", "GeoRegressor"]


class GeoClassifier(nn.Module):
    """Location prior ``P(y | x) = sigmoid(W e(x))`` with a bias-free class matrix.

    Parameters
    ----------
    encoder : torch.nn.Module
        Location encoder: ``(B, 2)`` (lon, lat) degrees → ``(B, embed_dim)``; must have an
        ``embed_dim`` attribute.
    num_classes : int
        Number of classes C.
    """

    def __init__(self, encoder: nn.Module, num_classes: int) -> None:
        super().__init__()
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be >= 2; got {num_classes!r}")
        self.encoder = encoder
        self.num_classes = int(num_classes)
        self.class_emb = nn.Linear(int(encoder.embed_dim), self.num_classes, bias=False)

    def forward(self, lonlat: Tensor) -> Tensor:
        """Class logits ``(B, C)`` (apply a sigmoid for P(y = c | x))."""
        return self.class_emb(self.encoder(lonlat))

    def location_probs(self, lonlat: Tensor) -> Tensor:
        """Location prior ``P(y = c | x)``, ``(B, C)``, each entry in (0, 1)."""
        return torch.sigmoid(self.forward(lonlat).float())


class GeoRegressor(nn.Module):
    """``y = g([h_img(f) || sigmoid(W e(x))])`` with optional encoder or image features.

    Parameters
    ----------
    encoder : torch.nn.Module or None
        Location encoder (``embed_dim`` attribute), or None for the no-location baseline.
    feature_dim : int or None
        Width of the image features, or None for a location-only regressor.
    loc_dim : int, default=64
        Width of ``sigmoid(W e(x))`` (TorchSpatial's ``embed_dim_before_regress``).
    hidden_dim : int, default=256
        Width of ``h_img`` and of the hidden layer of ``g``.
    dropout : float, default=0.0
        Dropout before the output layer of ``g``.
    """

    def __init__(
        self,
        encoder: nn.Module | None,
        feature_dim: int | None,
        *,
        loc_dim: int = 64,
        hidden_dim: int = 256,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if encoder is None and not feature_dim:
            raise ValueError("GeoRegressor needs an encoder, image features or both")
        self.encoder = encoder
        self.feature_dim = int(feature_dim) if feature_dim else 0
        width = 0
        if encoder is not None:
            self.loc_head = nn.Linear(int(encoder.embed_dim), int(loc_dim), bias=False)
            width += int(loc_dim)
        if self.feature_dim:
            self.img_head = nn.Sequential(nn.Linear(self.feature_dim, hidden_dim), nn.ReLU())
            width += int(hidden_dim)
        self.head = nn.Sequential(
            nn.Linear(width, hidden_dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden_dim, 1)
        )
        self.register_buffer("feat_mean", torch.zeros(max(self.feature_dim, 1)))
        self.register_buffer("feat_std", torch.ones(max(self.feature_dim, 1)))
        self.register_buffer("y_mean", torch.zeros(()))
        self.register_buffer("y_std", torch.ones(()))

    @torch.no_grad()
    def set_normalisation(self, features: Tensor | None, labels: Tensor) -> None:
        """Store the mean / standard deviation of the training features and targets."""
        if self.feature_dim and features is not None:
            self.feat_mean.copy_(features.float().mean(0))
            self.feat_std.copy_(features.float().std(0).clamp_min(1e-6))
        self.y_mean.copy_(labels.float().mean())
        self.y_std.copy_(labels.float().std().clamp_min(1e-6))

    def forward_normalised(self, lonlat: Tensor, features: Tensor | None) -> Tensor:
        """Prediction of the *standardised* target, ``(B,)`` (what the loss sees)."""
        parts = []
        if self.encoder is not None:
            parts.append(torch.sigmoid(self.loc_head(self.encoder(lonlat))))
        if self.feature_dim:
            if features is None:
                raise ValueError("this regressor needs image features")
            f = (features - self.feat_mean) / self.feat_std
            parts.append(self.img_head(f.to(self.head[0].weight.dtype)))
        return self.head(torch.cat(parts, dim=1)).squeeze(1)

    def forward(self, lonlat: Tensor, features: Tensor | None = None) -> Tensor:
        """Prediction in the target's units, ``(B,)``."""
        return self.forward_normalised(lonlat, features).float() * self.y_std + self.y_mean
