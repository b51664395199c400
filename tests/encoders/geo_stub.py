"""A stand-in for ``encoders.losses.GeoBiasLoss`` with the agreed interface
(docs/debiasing.md), for tests of how the trainer wires the geo-bias term in: cheap,
deterministic and transparent (each centre is one training row; its surrogate is
``((1 - performance) / 2)^2``), recording how it was built and used."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

KINDS = {"marked-ssi": "stub", "performance-ssi": "stub", "sri-lag": "stub"}


@dataclass(frozen=True)
class StubBatch:
    rows: torch.Tensor
    centres: torch.Tensor

    def to(self, device):
        return StubBatch(self.rows.to(device), self.centres.to(device))


class StubGeoBiasLoss(torch.nn.Module):
    built: list[dict] = []

    def __init__(self, lonlat, *, kind="marked-ssi", scale="100km", k=4, k_max=100,
                 min_points=5, centres_per_batch=256, max_centres=None, seed=0,
                 progress=False):  # fmt: skip
        super().__init__()
        if kind not in KINDS:
            raise ValueError(kind)
        self.n_centres = len(np.asarray(lonlat))
        self.centres_per_batch = centres_per_batch
        self.sampled = 0
        StubGeoBiasLoss.built.append(
            {"n": self.n_centres, "kind": kind, "scale": scale,
             "centres_per_batch": centres_per_batch, "seed": seed, "loss": self}
        )  # fmt: skip

    def sample(self, generator):
        self.sampled += 1
        c = torch.randperm(self.n_centres, generator=generator)[
            : min(self.centres_per_batch, self.n_centres)
        ]
        return StubBatch(rows=torch.sort(c).values, centres=c)

    def per_centre(self, performance, batch):
        return ((1 - performance) / 2) ** 2

    def forward(self, performance, batch):
        return self.per_centre(performance, batch).mean()


def stub_soft_performance(output, target, *, task, image_probs=None, temperature=1.0):
    if task == "classification":
        logits = output.float()
        q = torch.sigmoid(logits.gather(1, target[:, None]).squeeze(1) / temperature)
        return 2 * q - 1
    return 1 - 2 * torch.sigmoid((output - target) ** 2 - 0.5)


def install(monkeypatch):
    """Install the stand-in as ``encoders.losses``' geo-bias loss (undone after the test)."""
    import encoders.losses

    StubGeoBiasLoss.built = []
    monkeypatch.setattr(encoders.losses, "GEO_BIAS_KINDS", KINDS)
    monkeypatch.setattr(encoders.losses, "GeoBiasLoss", StubGeoBiasLoss)
    monkeypatch.setattr(encoders.losses, "soft_performance", stub_soft_performance)
    return StubGeoBiasLoss
