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
    from encoders._validation import check_lonlat
    from encoders.encoder import LocationEncoder
    from encoders.nets import FCNet, MultiLayerFeedForwardNN, SirenNet
    from encoders.pe.base import PositionEncoding
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

    list = list_encoders  # noqa: A001 - ``encoders.list()`` is the public spelling
    """The public spelling of :func:`list_encoders`: ``encoders.list()``."""

    __all__ = [
        "HPARAM_RANGES",
        "REGISTRY",
        "EncoderSpec",
        "FCNet",
        "LocationEncoder",
        "MultiLayerFeedForwardNN",
        "PositionEncoding",
        "SirenNet",
        "build",
        "canonical_name",
        "check_hparams",
        "check_lonlat",
        "get_spec",
        "list",
        "list_encoders",
        "rbf_anchors_from",
        "register",
        "uniform_sphere_anchors",
    ]

    # Training API: datasets, trainer, export, zoo (imported after the registry they use).
    from encoders.ceiling import ceiling_table  # noqa: E402
    from encoders.data import GeoDataset, Split, list_datasets, load_dataset  # noqa: E402
    from encoders.datamodule import GeoDataModule  # noqa: E402
    from encoders.export import export_predictions  # noqa: E402
    from encoders.geobias_metric import GeoBiasCallback, GeoBiasMetric  # noqa: E402
    from encoders.losses import (  # noqa: E402
        GEO_BIAS_KINDS,
        GeoBatch,
        GeoBiasKind,
        GeoBiasLoss,
        soft_performance,
    )
    from encoders.module import LocationTask  # noqa: E402
    from encoders.train import Trainer, load_model, train_and_evaluate  # noqa: E402
    from encoders.zoo import run_zoo  # noqa: E402

    __all__ += [
        "GEO_BIAS_KINDS",
        "GeoBatch",
        "GeoBiasCallback",
        "GeoBiasMetric",
        "GeoBiasKind",
        "GeoBiasLoss",
        "GeoDataModule",
        "GeoDataset",
        "LocationTask",
        "Split",
        "Trainer",
        "ceiling_table",
        "export_predictions",
        "list_datasets",
        "load_dataset",
        "load_model",
        "run_zoo",
        "soft_performance",
        "train_and_evaluate",
    ]
