"""The encoder registry: one dict from canonical name to :class:`EncoderSpec`.

``REGISTRY`` is the single source of truth: :func:`list_encoders`, :func:`build`, the CLI and
the tests all read it. Names are matched case-insensitively and without punctuation
(``"+"`` reads as ``"plus"``), so ``"sphere2vec-spherec-plus"``, ``"SPHERE2VEC_SPHEREC+"`` and
the alias ``"spherec+"`` all select ``Sphere2Vec-sphereC+``.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from encoders.encoder import LocationEncoder
from encoders.nets import FCNet, MultiLayerFeedForwardNN, SirenNet
from encoders.pe.base import PositionEncoding
from encoders.pe.extent import GLOBAL_EXTENT
from encoders.pe.grid import GridCellPE, TheoryGridCellPE
from encoders.pe.nerf import NeRFPE
from encoders.pe.rbf import RBFPE, rbf_anchors_from, uniform_sphere_anchors
from encoders.pe.rff import RFFPE
from encoders.pe.sh import SphericalHarmonicsPE
from encoders.pe.sphere import DFSPE, SpherePE
from encoders.pe.tile import TilePE
from encoders.pe.wrap import WrapPE
from encoders.pe.xyz import XYZPE

__all__ = [
    "DEFAULT_EMBED_DIM",
    "DEFAULT_SEED",
    "NET_DEFAULTS",
    "NETS",
    "REGISTRY",
    "EncoderSpec",
    "BOOL_HPARAMS",
    "HPARAM_RANGES",
    "build",
    "canonical_name",
    "check_hparams",
    "get_spec",
    "list_encoders",
    "register",
]

logger = logging.getLogger(__name__)

#: Embedding dimension (TorchSpatial ``--num_filts`` / ``spa_embed_dim``).
DEFAULT_EMBED_DIM = 256
#: Seed used when none is given (parameter init, rbf anchors, rff draws).
DEFAULT_SEED = 0
#: TorchSpatial trainer CLI defaults of the FFN head (docs/encoders/index.md, "The FFN head").
NET_DEFAULTS: dict[str, Any] = {
    "num_hidden_layer": 1,
    "hidden_dim": 512,
    "spa_f_act": "leakyrelu",
    "dropout": 0.5,
    "use_layn": True,
    "skip_connection": True,
    "net": "ffn",
}
#: Accepted values of the ``net`` hyper-parameter of FFN-based encoders.
NETS = ("ffn", "siren")
#: Synonyms of the embedding dimension (all TorchSpatial spellings).
_EMBED_KEYS = ("spa_embed_dim", "embed_dim", "num_filts")

HPARAM_RANGES: dict[str, tuple[str, float, float | None]] = {
    "spa_embed_dim": ("int", 1, 8192),
    "embed_dim": ("int", 1, 8192),
    "num_filts": ("int", 1, 8192),
    "num_hidden_layer": ("int", 0, 64),
    "hidden_dim": ("int", 1, 16384),
    "dropout": ("float", 0.0, 0.99),
    "frequency_num": ("int", 1, 65536),
    "min_radius": ("float", 1e-12, None),
    "max_radius": ("float", 1e-12, None),
    "num_rbf_anchor_pts": ("int", 1, 100_000),
    "rbf_kernel_size": ("float", 1e-12, None),
    "legendre_poly_num": ("int", 1, 64),
    "seed": ("int", 0, 2**63 - 1),
}
"""Declared ranges of the numeric hyper-parameters: name -> ``(kind, low, high)``.

Inclusive bounds; ``kind`` is ``"int"`` or ``"float"``; ``high`` None means no upper
bound. :func:`build` refuses a value outside its range (or of the wrong kind) before
building anything, whether or not the encoder uses the hyper-parameter; the upper bounds
keep a model build finite.
"""
#: Hyper-parameters that take true or false.
BOOL_HPARAMS = ("use_layn", "skip_connection", "anchor_compat")


def check_hparams(hparams: Mapping[str, Any]) -> None:
    """Refuse a hyper-parameter value outside :data:`HPARAM_RANGES` or of the wrong kind.

    Parameters
    ----------
    hparams : mapping
        Hyper-parameter names and values (names without a declared range are not checked).

    Raises
    ------
    ValueError
        For the first bad value, naming the hyper-parameter, the value and the range.
    """
    for name, value in hparams.items():
        if name in BOOL_HPARAMS and not isinstance(value, bool):
            raise ValueError(f"hyper-parameter {name} must be true or false; got {value!r}")
        if name not in HPARAM_RANGES:
            continue
        kind, low, high = HPARAM_RANGES[name]
        span = f"in [{low}, {high}]" if high is not None else f">= {low}"
        what = "an integer" if kind == "int" else "a number"
        ok_type = isinstance(value, int | float) and not isinstance(value, bool)
        if ok_type and kind == "int" and isinstance(value, float):
            ok_type = math.isfinite(value) and value.is_integer()
        if not ok_type or not math.isfinite(float(value)):
            raise ValueError(f"hyper-parameter {name} must be {what} {span}; got {value!r}")
        if value < low or (high is not None and value > high):
            raise ValueError(f"hyper-parameter {name}={value!r} is out of range {span}")


PEBuilder = Callable[[dict[str, Any], int], PositionEncoding]
#: ``hook(hparams, lonlat) -> hparams``: hyper-parameters drawn from the training locations.
DataHook = Callable[[dict[str, Any], np.ndarray], dict[str, Any]]


@dataclass(frozen=True)
class EncoderSpec:
    """How to build one registered encoder.

    Parameters
    ----------
    name : str
        Canonical name (as in TorchSpatial / GeoBS).
    make_pe : callable
        ``make_pe(hparams, embed_dim) -> PositionEncoding``; ``hparams`` holds the resolved
        values of :attr:`defaults` plus ``seed``.
    defaults : mapping
        PE hyper-parameters of this encoder and their defaults.
    net : {'ffn', 'fcnet'}, default='ffn'
        ``'ffn'``: TorchSpatial's FFN head (its hyper-parameters :data:`NET_DEFAULTS` apply);
        ``'fcnet'``: Mac Aodha's FCNet (only the embedding dimension applies).
    aliases : tuple of str
        Extra accepted names.
    summary : str
        One line for listings.
    doc : str
        Documentation page under ``docs/encoders/``.
    from_data : callable, optional
        ``from_data(hparams, lonlat) -> hparams``: the hyper-parameters the trainer uses
        for training locations ``lonlat`` (``(n, 2)`` degrees); ``hparams`` holds the
        requested values plus ``seed``. None when the encoder takes nothing from the data.
    """

    name: str
    make_pe: PEBuilder
    defaults: Mapping[str, Any] = field(default_factory=dict)
    net: str = "ffn"
    aliases: tuple[str, ...] = ()
    summary: str = ""
    doc: str = ""
    from_data: DataHook | None = None

    def hparams_for_data(self, hparams: dict[str, Any], lonlat: np.ndarray) -> dict[str, Any]:
        """The hyper-parameters to train on ``lonlat`` with (``hparams`` when nothing changes).

        Parameters
        ----------
        hparams : dict
            The requested hyper-parameters, with ``seed``.
        lonlat : numpy.ndarray
            ``(n, 2)`` training locations, (lon, lat) degrees.

        Returns
        -------
        dict
            A new dict (``hparams`` itself is not modified).
        """
        hp = dict(hparams)
        return hp if self.from_data is None else self.from_data(hp, lonlat)

    def hparam_defaults(self) -> dict[str, Any]:
        """All hyper-parameters that apply to this encoder, with their defaults."""
        out: dict[str, Any] = {"spa_embed_dim": DEFAULT_EMBED_DIM, "seed": DEFAULT_SEED}
        if self.net == "ffn":
            out.update(NET_DEFAULTS)
        out.update(self.defaults)
        return out


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower().replace("+", "plus"))


REGISTRY: dict[str, EncoderSpec] = {}
"""Canonical encoder name -> its :class:`EncoderSpec`; filled by :func:`register`."""
_LOOKUP: dict[str, str] = {}


def register(spec: EncoderSpec) -> EncoderSpec:
    """Add an encoder to :data:`REGISTRY`.

    Parameters
    ----------
    spec : EncoderSpec
        The encoder; its name and aliases must not clash with registered ones.

    Returns
    -------
    EncoderSpec
        ``spec``.
    """
    if spec.net not in ("ffn", "fcnet"):
        raise ValueError(f"EncoderSpec.net must be 'ffn' or 'fcnet'; got {spec.net!r}")
    keys = {_key(spec.name), *(_key(a) for a in spec.aliases)}
    clash = sorted(k for k in keys if k in _LOOKUP and _LOOKUP[k] != spec.name)
    if spec.name in REGISTRY or clash:
        raise ValueError(f"encoder name {spec.name!r} or its aliases clash with registered ones")
    REGISTRY[spec.name] = spec
    for k in keys:
        _LOOKUP[k] = spec.name
    return spec


def list_encoders() -> list[str]:
    """Canonical names of all registered encoders, in registration order.

    Returns
    -------
    list of str
    """
    return list(REGISTRY)


def canonical_name(name: str) -> str:
    """Canonical encoder name for ``name`` or an alias (case and punctuation ignored).

    Parameters
    ----------
    name : str
        Encoder name or alias.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If the name is unknown; the message lists :func:`list_encoders`.
    """
    found = _LOOKUP.get(_key(name))
    if found is None:
        raise ValueError(f"unknown encoder {name!r}; choose one of {list_encoders()}")
    return found


def get_spec(name: str) -> EncoderSpec:
    """The :class:`EncoderSpec` registered under ``name`` (or an alias)."""
    return REGISTRY[canonical_name(name)]


def _known_hparams() -> set[str]:
    names = {"seed", "rbf_anchors", *_EMBED_KEYS, *NET_DEFAULTS}
    for spec in REGISTRY.values():
        names.update(spec.defaults)
    return names


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


def _make_net(spec: EncoderSpec, hp: dict[str, Any], pe_dim: int, embed_dim: int) -> nn.Module:
    if spec.net == "fcnet":
        return FCNet(pe_dim, embed_dim)
    if hp["net"] == "ffn":
        return MultiLayerFeedForwardNN(
            input_dim=pe_dim,
            output_dim=embed_dim,
            num_hidden_layer=int(hp["num_hidden_layer"]),
            hidden_dim=int(hp["hidden_dim"]),
            activation=hp["spa_f_act"],
            dropout=float(hp["dropout"]),
            use_layernormalize=bool(hp["use_layn"]),
            skip_connection=bool(hp["skip_connection"]),
        )
    if hp["net"] == "siren":
        return SirenNet(
            pe_dim,
            embed_dim,
            int(hp["num_hidden_layer"]),
            int(hp["hidden_dim"]),
            float(hp["dropout"]),
        )
    raise ValueError(f"net must be one of {NETS}; got {hp['net']!r}")


def build(name: str, **hparams: Any) -> LocationEncoder:
    """Build a registered location encoder.

    Parameters
    ----------
    name : str
        Encoder name or alias, see :func:`list_encoders` (case and punctuation ignored).
    **hparams
        TorchSpatial-named hyper-parameters: ``spa_embed_dim`` (also ``embed_dim`` or
        ``num_filts``), ``num_hidden_layer``, ``hidden_dim``, ``spa_f_act``, ``dropout``,
        ``use_layn``, ``skip_connection``, ``net``, ``frequency_num``, ``min_radius``,
        ``max_radius``, ``scales``, ``num_rbf_anchor_pts``, ``rbf_kernel_size``,
        ``rbf_anchors``, ``map_range``, ``anchor_compat``, ``legendre_poly_num``,
        ``sh_basis``, ``seed``. Known names that do not apply to this encoder are ignored (as
        TorchSpatial does, e.g. ``frequency_num`` for NeRF); unknown names raise.
        Defaults: ``docs/encoders/``.

    Returns
    -------
    LocationEncoder
        In train mode, float32 network, on the CPU. Construction is deterministic given
        ``seed`` (default 0) and leaves the global RNG state untouched.

    Raises
    ------
    ValueError
        Unknown name (the message lists the names) or a bad hyper-parameter value.
    TypeError
        Unknown hyper-parameter name.
    """
    spec = get_spec(name)
    check_hparams(hparams)
    kw = dict(hparams)
    embed_given = {k: kw.pop(k) for k in _EMBED_KEYS if k in kw}
    if len({int(v) for v in embed_given.values()}) > 1:
        raise ValueError(f"conflicting embedding dimensions: {embed_given}")
    unknown = sorted(set(kw) - _known_hparams())
    if unknown:
        raise TypeError(
            f"unknown hyper-parameter(s) {unknown} for encoder {spec.name!r}; "
            f"known: {sorted(_known_hparams() - set(_EMBED_KEYS[1:]))}"
        )
    hp = spec.hparam_defaults()
    relevant = set(hp) | ({"rbf_anchors"} if "num_rbf_anchor_pts" in hp else set())
    ignored = sorted(set(kw) - relevant)
    if ignored:
        logger.debug("encoder %s ignores hyper-parameter(s) %s", spec.name, ignored)
    hp.update({k: v for k, v in kw.items() if k in relevant})
    if embed_given:
        hp["spa_embed_dim"] = next(iter(embed_given.values()))
    embed_dim = int(hp["spa_embed_dim"])
    if embed_dim < 1:
        raise ValueError(f"spa_embed_dim must be >= 1; got {embed_dim!r}")
    seed = int(hp["seed"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        pe = spec.make_pe(hp, embed_dim)
        net = _make_net(spec, hp, pe.pe_dim, embed_dim)
    if "rbf_anchors" in hp:
        hp.pop("rbf_anchors")
        hp["num_rbf_anchor_pts"] = pe.pe_dim
    record = {k: _jsonable(v) for k, v in hp.items()}
    return LocationEncoder(pe, net, name=spec.name, embed_dim=embed_dim, hparams=record)


# ---------------------------------------------------------------------------------------------
# The 15 TorchSpatial encoders. PE builders receive the resolved hyper-parameters.

_SPACE2VEC_GRID = {"frequency_num": 32, "min_radius": 0.005, "max_radius": 360.0}
_SPACE2VEC_THEORY = {"frequency_num": 32, "min_radius": 0.05, "max_radius": 360.0}
_SPHERE = {"frequency_num": 32, "min_radius": 1e-3, "max_radius": 1.0}
_RBF = {"num_rbf_anchor_pts": 200, "rbf_kernel_size": 2.0}


def _sphere_builder(variant: str) -> PEBuilder:
    def make(hp: dict[str, Any], embed_dim: int) -> PositionEncoding:
        return SpherePE(
            variant, hp["frequency_num"], hp["min_radius"], hp["max_radius"], hp["scales"]
        )

    return make


def _rbf_pe(hp: dict[str, Any], embed_dim: int) -> PositionEncoding:
    anchors = hp.get("rbf_anchors")
    if anchors is None:
        anchors = uniform_sphere_anchors(int(hp["num_rbf_anchor_pts"]), seed=int(hp["seed"]))
    return RBFPE(torch.as_tensor(anchors, dtype=torch.float64), hp["rbf_kernel_size"])


def _rbf_from_data(hp: dict[str, Any], lonlat: np.ndarray) -> dict[str, Any]:
    """Anchors drawn from the training locations (seeded), unless ``rbf_anchors`` is given."""
    if "rbf_anchors" in hp:
        return hp
    m = min(int(hp.get("num_rbf_anchor_pts", _RBF["num_rbf_anchor_pts"])), len(lonlat))
    return {
        **hp,
        "num_rbf_anchor_pts": m,
        "rbf_anchors": rbf_anchors_from(lonlat, m, seed=int(hp.get("seed", DEFAULT_SEED))),
    }


for _spec in (
    EncoderSpec(
        "tile_ffn",
        lambda hp, d: TilePE(d, hp["min_radius"], hp["map_range"], hp["anchor_compat"]),
        {"min_radius": 5.0, "map_range": GLOBAL_EXTENT, "anchor_compat": False},
        aliases=("tile", "tile-ffn"),
        summary="learned vector per grid cell (cell size min_radius degrees) + FFN",
        doc="tile.md",
    ),
    EncoderSpec(
        "wrap",
        lambda hp, d: WrapPE(),
        {},
        net="fcnet",
        aliases=("aodha", "wrap-fcnet"),
        summary="[sin lon, sin 2lat, cos lon, cos 2lat] + Mac Aodha FCNet",
        doc="wrap.md",
    ),
    EncoderSpec(
        "wrap_ffn",
        lambda hp, d: WrapPE(),
        {},
        aliases=("aodha-ffn",),
        summary="wrap features + FFN",
        doc="wrap.md",
    ),
    EncoderSpec(
        "rbf",
        _rbf_pe,
        _RBF,
        summary="Gaussian kernels (sigma degrees) around M anchors + FFN",
        doc="rbf.md",
        from_data=_rbf_from_data,
    ),
    EncoderSpec(
        "rff",
        lambda hp, d: RFFPE(
            hp["frequency_num"], hp["rbf_kernel_size"], hp["map_range"], hp["seed"]
        ),
        {"frequency_num": 64, "rbf_kernel_size": 1.0, "map_range": GLOBAL_EXTENT},
        aliases=("random-fourier-features",),
        summary="random Fourier features on the normalised extent + FFN",
        doc="rff.md",
    ),
    EncoderSpec(
        "Space2Vec-grid",
        lambda hp, d: GridCellPE(hp["frequency_num"], hp["min_radius"], hp["max_radius"]),
        _SPACE2VEC_GRID,
        aliases=("grid",),
        summary="multi-scale sin/cos of lon and lat degrees + FFN",
        doc="space2vec.md",
    ),
    EncoderSpec(
        "Space2Vec-theory",
        lambda hp, d: TheoryGridCellPE(hp["frequency_num"], hp["min_radius"], hp["max_radius"]),
        _SPACE2VEC_THEORY,
        aliases=("theory",),
        summary="multi-scale sin/cos of three 120-degree projections + FFN",
        doc="space2vec.md",
    ),
    EncoderSpec(
        "xyz",
        lambda hp, d: XYZPE(),
        {},
        summary="unit-sphere 3-D point + FFN",
        doc="xyz-nerf.md",
    ),
    EncoderSpec(
        "NeRF",
        lambda hp, d: NeRFPE(),
        {},
        summary="NeRF sin/cos (16 frequencies) of the unit-sphere point + FFN",
        doc="xyz-nerf.md",
    ),
    EncoderSpec(
        "Sphere2Vec-sphereC",
        _sphere_builder("sphereC"),
        {**_SPHERE, "scales": "geometric"},
        aliases=("sphereC",),
        summary="multi-scale spherical coordinates (3S) + FFN",
        doc="sphere2vec.md",
    ),
    EncoderSpec(
        "Sphere2Vec-sphereC+",
        _sphere_builder("sphereC+"),
        {**_SPHERE, "scales": "geometric"},
        aliases=("sphereC+",),
        summary="sphereC plus per-axis sin/cos (6S) + FFN",
        doc="sphere2vec.md",
    ),
    EncoderSpec(
        "Sphere2Vec-sphereM",
        _sphere_builder("sphereM"),
        {**_SPHERE, "scales": "geometric"},
        aliases=("sphereM",),
        summary="multi-scale mixed with single-scale angles (5S) + FFN",
        doc="sphere2vec.md",
    ),
    EncoderSpec(
        "Sphere2Vec-sphereM+",
        _sphere_builder("sphereM+"),
        {**_SPHERE, "scales": "max_only"},
        aliases=("sphereM+",),
        summary="sphereM plus per-axis sin/cos (8S); TorchSpatial's max-only scales + FFN",
        doc="sphere2vec.md",
    ),
    EncoderSpec(
        "Sphere2Vec-dfs",
        lambda hp, d: DFSPE(hp["frequency_num"], hp["min_radius"], hp["max_radius"], hp["scales"]),
        {"frequency_num": 8, "min_radius": 1e-3, "max_radius": 1.0, "scales": "max_only"},
        aliases=("dfs", "double-fourier-sphere"),
        summary="double Fourier sphere outer product (4S^2 + 4S) + FFN",
        doc="sphere2vec.md",
    ),
    EncoderSpec(
        "Siren(SH)",
        lambda hp, d: SphericalHarmonicsPE(hp["legendre_poly_num"], hp["sh_basis"]),
        {"legendre_poly_num": 8, "sh_basis": "anchor"},
        aliases=("spherical_harmonics", "sh", "siren"),
        summary="real spherical harmonics (L^2) + FFN (net='siren' for a SIREN)",
        doc="sh.md",
    ),
):
    register(_spec)
del _spec
