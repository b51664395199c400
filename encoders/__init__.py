"""encoders: the TorchSpatial location-encoder zoo in PyTorch."""

from __future__ import annotations

__all__: list[str] = []
