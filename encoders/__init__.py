"""encoders: the TorchSpatial location-encoder zoo in PyTorch.

Locations are ``(..., 2)`` tensors of (longitude, latitude) in **degrees**. Quick start::

    import torch, encoders
    enc = encoders.build("Sphere2Vec-sphereC", frequency_num=32)
    emb = enc(torch.tensor([[2.35, 48.86]]))      # (1, 256)
    encoders.list()                                # the 15 canonical names
"""

from __future__ import annotations

from encoders.dependencies import has_torch, missing_torch

if not has_torch():
    # The base install (pip install geobias) has no PyTorch: ``import encoders`` works (the
    # ``encoders`` command prints what to install), every name raises that message.
    def __getattr__(name: str) -> object:
        """Raise the one-line install hint for any name of the package."""
        if name.startswith("__"):
            raise AttributeError(name)
        raise missing_torch()

else:
    import importlib
    from typing import TYPE_CHECKING, Any

    if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
        from encoders._validation import check_lonlat
        from encoders.ceiling import ceiling_table
        from encoders.data import GeoDataset, Split, list_datasets, load_dataset
        from encoders.datamodule import GeoDataModule
        from encoders.encoder import LocationEncoder
        from encoders.export import export_predictions
        from encoders.geobias_metric import GeoBiasCallback, GeoBiasMetric
        from encoders.losses import (
            GEO_BIAS_KINDS,
            GeoBatch,
            GeoBiasKind,
            GeoBiasLoss,
            soft_performance,
        )
        from encoders.module import LocationTask
        from encoders.nets import FCNet, MultiLayerFeedForwardNN, SirenNet
        from encoders.pe._base import PositionEncoding
        from encoders.pe.rbf import rbf_anchors_from, uniform_sphere_anchors
        from encoders.registry import (
            HPARAM_RANGES,
            REGISTRY,
            EncoderSpec,
            build,
            canonical_name,
            check_hparams,
            get_spec,
            list_encoders,
            register,
        )
        from encoders.train import Trainer, load_model, train_and_evaluate
        from encoders.zoo import run_zoo

    # Public name -> the module that defines it, imported when the name is first used: the
    # ``encoders`` command starts without importing PyTorch, so that Ctrl-C right after
    # it starts stops it cleanly (docs/cli.md).
    _EXPORTS = {
        "check_lonlat": "encoders._validation",
        "LocationEncoder": "encoders.encoder",
        "FCNet": "encoders.nets",
        "MultiLayerFeedForwardNN": "encoders.nets",
        "SirenNet": "encoders.nets",
        "PositionEncoding": "encoders.pe._base",
        "rbf_anchors_from": "encoders.pe.rbf",
        "uniform_sphere_anchors": "encoders.pe.rbf",
        "HPARAM_RANGES": "encoders.registry",
        "REGISTRY": "encoders.registry",
        "EncoderSpec": "encoders.registry",
        "build": "encoders.registry",
        "canonical_name": "encoders.registry",
        "check_hparams": "encoders.registry",
        "get_spec": "encoders.registry",
        "list_encoders": "encoders.registry",
        "register": "encoders.registry",
        "ceiling_table": "encoders.ceiling",
        "GeoDataset": "encoders.data",
        "Split": "encoders.data",
        "list_datasets": "encoders.data",
        "load_dataset": "encoders.data",
        "GeoDataModule": "encoders.datamodule",
        "export_predictions": "encoders.export",
        "GeoBiasCallback": "encoders.geobias_metric",
        "GeoBiasMetric": "encoders.geobias_metric",
        "GEO_BIAS_KINDS": "encoders.losses",
        "GeoBatch": "encoders.losses",
        "GeoBiasKind": "encoders.losses",
        "GeoBiasLoss": "encoders.losses",
        "soft_performance": "encoders.losses",
        "LocationTask": "encoders.module",
        "Trainer": "encoders.train",
        "load_model": "encoders.train",
        "train_and_evaluate": "encoders.train",
        "run_zoo": "encoders.zoo",
    }

    __all__ = [
        "EncoderSpec",
        "FCNet",
        "GEO_BIAS_KINDS",
        "GeoBatch",
        "GeoBiasCallback",
        "GeoBiasKind",
        "GeoBiasLoss",
        "GeoBiasMetric",
        "GeoDataModule",
        "GeoDataset",
        "HPARAM_RANGES",
        "LocationEncoder",
        "LocationTask",
        "MultiLayerFeedForwardNN",
        "PositionEncoding",
        "REGISTRY",
        "SirenNet",
        "Split",
        "Trainer",
        "build",
        "canonical_name",
        "ceiling_table",
        "check_hparams",
        "check_lonlat",
        "export_predictions",
        "get_spec",
        "list",
        "list_datasets",
        "list_encoders",
        "load_dataset",
        "load_model",
        "rbf_anchors_from",
        "register",
        "run_zoo",
        "soft_performance",
        "train_and_evaluate",
        "uniform_sphere_anchors",
    ]

    def list() -> list[str]:  # noqa: A001 - ``encoders.list()`` is the public spelling
        """The canonical names of the registered encoders (:func:`list_encoders`)."""
        from encoders.registry import list_encoders

        return list_encoders()

    def __getattr__(name: str) -> Any:
        """Import a public name on first access (PEP 562) and keep it in the module."""
        if name in _EXPORTS:
            value = getattr(importlib.import_module(_EXPORTS[name]), name)
        elif not name.startswith("__"):
            # a submodule (``encoders.pe``, ``encoders.train``...), as when everything was
            # imported up front
            try:
                value = importlib.import_module(f"{__name__}.{name}")
            except ModuleNotFoundError as err:
                if err.name != f"{__name__}.{name}":
                    raise
                raise AttributeError(f"module 'encoders' has no attribute {name!r}") from None
        else:
            raise AttributeError(f"module 'encoders' has no attribute {name!r}")
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
