"""Training losses: TorchSpatial's presence-only ``full_loss`` and background sampling.

``full_loss`` (Mac Aodha et al., ICCV 2019, eq. 7; TorchSpatial ``losses.full_loss``): for a
batch of B located samples (x_i, y_i) and B random background locations r_i, with
p_i = σ(W e(x_i)) and q_i = σ(W e(r_i)) (C classes), ε = 1e-5:

    L = mean_{i,c} ℓ_ic + w_r · mean_{i,c} [−log(1 − q_ic + ε)]
    ℓ_ic = −log(1 − p_ic + ε) for c ≠ y_i,   ℓ_{i,y_i} = −C · log(p_{i,y_i} + ε)

Background locations are drawn **uniformly on the whole sphere** (:func:`random_lonlat`).
TorchSpatial's default (``neg_rand_type="spherical"``) meant to do the same but returns
points of one quadrant only (lon ∈ [0°, 180°), lat ∈ [0°, 90°); docs/encoders/index.md, quirk Q6);
we do not reproduce that.

:class:`GeoBiasLoss` is a differentiable surrogate of a Geo-Bias Score (marked or
performance SSI, SRI) of the model's soft per-sample performance, averaged over a random
batch of centres; :func:`soft_performance` turns model outputs into that performance
(docs/debiasing.md).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from pygbs.stats.registry import REGISTRY

__all__ = [
    "EPS",
    "GEO_BIAS_KINDS",
    "GeoBatch",
    "GeoBiasKind",
    "GeoBiasLoss",
    "full_loss",
    "random_lonlat",
    "soft_performance",
]

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


# --- Geo-bias loss (docs/debiasing.md) ------------------------------------------------


@dataclass(frozen=True)
class GeoBiasKind:
    """One kind of geo-bias loss: which Geo-Bias Score it stands in for.

    Attributes
    ----------
    name : str
        The name (``GeoBiasLoss(kind=...)``).
    family : {'ssi', 'sri'}
        Spatial self-information (docs/method.md, D3/D4) or relative information (D5).
    background : bool
        SSI with the background grid (marked SSI) or over the samples alone
        (performance SSI).
    partition : str or None
        The SRI partition (``'lag'``, ``'sector'``, ``'grid'``).
    description : str
        One line for users.
    """

    name: str
    family: str
    background: bool = False
    partition: str | None = None
    description: str = ""


GEO_BIAS_KINDS: dict[str, GeoBiasKind] = {
    d.surrogate.kind: GeoBiasKind(
        d.surrogate.kind,
        d.surrogate.family,
        background=d.surrogate.background,
        partition=d.surrogate.partition,
        description=d.surrogate.description,
    )
    for d in REGISTRY.values()
    if d.surrogate is not None
}
"""The loss kinds by name (:class:`GeoBiasKind`): every score of pygbs's registry
(:data:`pygbs.stats.registry.REGISTRY`) that declares a differentiable counterpart
(:class:`pygbs.stats.registry.Surrogate`), in the registry's order."""

#: Labels whose sum of squared deviations ``m2`` is at most this times the number of
#: points are treated as constant: the SSI has no z-score there and the centre
#: contributes 0 (pygbs gives performance SSI 0 and no marked SSI, docs/method.md, D3/D4).
CONSTANT_M2 = 1e-12
#: Centres per call of the pattern kernels while the loss is built (bounds memory).
BUILD_CHUNK = 2048
#: Number of per-centre constants of an SSI batch (see ``GeoBiasLoss._ssi_constants``).
_N_SSI_CONST = 7
_LN2 = math.log(2.0)


def _csr_take(ptr: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions of the CSR rows ``which``, and the pointers of the taken rows."""
    starts = ptr[which]
    lens = ptr[which + 1] - starts
    new_ptr = np.zeros(len(which) + 1, dtype=np.int64)
    np.cumsum(lens, out=new_ptr[1:])
    pos = np.arange(new_ptr[-1], dtype=np.int64) + np.repeat(starts - new_ptr[:-1], lens)
    return pos, new_ptr


def _check_lonlat_array(lonlat: object) -> np.ndarray:
    """``lonlat`` as a contiguous float64 ``(n, 2)`` array, checked.

    The ranges are the encoders' (:mod:`encoders._validation`); an :class:`InputError`
    names the first bad row.
    """
    from encoders._validation import LAT_MAX, LON_MAX, LON_MIN
    from pygbs.errors import InputError

    a = np.asarray(lonlat, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2:
        raise InputError(f"lonlat must have shape (n, 2) (lon, lat degrees); got {a.shape}")
    if a.shape[0] == 0:
        raise InputError("lonlat is empty: the geo-bias loss needs located training samples")
    bad = ~np.isfinite(a).all(axis=1)
    bad |= (a[:, 0] < LON_MIN) | (a[:, 0] >= LON_MAX) | (np.abs(a[:, 1]) > LAT_MAX)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"lonlat row {i} is ({float(a[i, 0])!r}, {float(a[i, 1])!r}); expected finite lon in "
            f"[{LON_MIN:g}, {LON_MAX:g}) and lat in [-{LAT_MAX:g}, {LAT_MAX:g}] degrees"
        )
    return np.ascontiguousarray(a)


def _positive_int(name: str, value: object, *, allow_none: bool = False) -> int | None:
    from pygbs.errors import InputError

    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


@dataclass(frozen=True)
class GeoBatch:
    """The centres drawn for one step and the dataset rows whose performance they need.

    Made by :meth:`GeoBiasLoss.sample` (or :meth:`GeoBiasLoss.batch`); the fields starting
    with ``_`` are the loss's gather structure.

    Attributes
    ----------
    rows : torch.Tensor
        ``(r,)`` int64, sorted unique dataset rows (into the ``lonlat`` the loss was built
        from): the performance passed to the loss is for exactly these rows, in this order.
    centres : torch.Tensor
        ``(c,)`` int64, the centres (indices into the loss's centre table,
        :attr:`GeoBiasLoss.centre_rows`).
    """

    rows: Tensor
    centres: Tensor
    _member_pos: Tensor = dataclasses.field(repr=False)
    _member_seg: Tensor = dataclasses.field(repr=False)
    _member_weight: Tensor = dataclasses.field(repr=False)
    _neighbours: Tensor = dataclasses.field(repr=False)
    _part: Tensor = dataclasses.field(repr=False)
    _part_seg: Tensor = dataclasses.field(repr=False)
    _part_size: Tensor = dataclasses.field(repr=False)
    _const: Tensor = dataclasses.field(repr=False)

    def to(self, device: torch.device | str) -> GeoBatch:
        """The same batch with every tensor (``rows`` and ``centres`` too) on ``device``."""
        return GeoBatch(
            **{f.name: getattr(self, f.name).to(device) for f in dataclasses.fields(self)}
        )

    @property
    def device(self) -> torch.device:
        """Device of the gather structure."""
        return self._member_pos.device


class GeoBiasLoss(torch.nn.Module):
    """A differentiable surrogate of a Geo-Bias Score, averaged over centres.

    For each centre of a batch, the score of docs/method.md (marked SSI, D3; performance
    SSI, D4; SRI, D5) is computed as a torch function of a soft coded performance
    ``v`` in ``[-1, 1]`` of the neighbourhood's samples; with hard ``v = +-1`` it equals
    ``pygbs``'s score (``method='analytic'``, ``graph='strict'`` for SSI; 2 bins for SRI).
    Neighbourhoods, background points, k-NN graphs, graph constants and SRI parts depend
    on the locations only: they are computed here, once, with ``pygbs``'s kernels
    (:mod:`pygbs.stats.graphs`), and gathered per batch. How the formulas read and what they
    cost: docs/debiasing.md.

    Parameters
    ----------
    lonlat : ndarray of shape (n, 2)
        Longitude, latitude (degrees) of the training samples.
    kind : str, default='marked-ssi'
        A key of :data:`GEO_BIAS_KINDS`: ``'marked-ssi'``, ``'performance-ssi'``,
        ``'sri-lag'``, ``'sri-sector'``, ``'sri-grid'``.
    scale : str, default='100km'
        Neighbourhood scale (``'<r>km'`` or ``'nn<K>'``, :func:`pygbs.parse_scale`).
    k : int, default=4
        Neighbours per point of the SSI weight graph.
    k_max : int or None, default=100
        Cap on distance-scale SSI neighbourhoods (SRI neighbourhoods are never capped,
        as in ``pygbs``).
    min_points : int, default=5
        Neighbourhoods with fewer samples are not used as centres.
    centres_per_batch : int, default=256
        Centres drawn by :meth:`sample`.
    max_centres : int or None, default=None
        Build the centre table from this many rows drawn at random (seeded by ``seed``)
        instead of all rows (bounds the time and memory of the constructor).
    seed : int, default=0
        Seed of that draw.
    progress : bool, default=False
        Show a progress bar while the table is built.
    sri_threshold : int, default=20
        SRI: parts with fewer samples are skipped (``pygbs``'s ``--sri-threshold``).
    sri_sectors : int, default=8
        SRI: number of direction sectors (``--sri-sectors``).

    Attributes
    ----------
    n_centres : int
        Scorable centres (the centre table's length).
    centre_rows : ndarray of int64
        Dataset row of each centre.
    scale : pygbs.Scale
        The parsed scale.
    kind : GeoBiasKind
        The kind's definition.

    Raises
    ------
    pygbs.errors.InputError
        For an unknown ``kind``, a bad scale or option, bad locations, or when no centre
        can be scored at that scale.
    """

    def __init__(
        self,
        lonlat: np.ndarray,
        *,
        kind: str = "marked-ssi",
        scale: str = "100km",
        k: int = 4,
        k_max: int | None = 100,
        min_points: int = 5,
        centres_per_batch: int = 256,
        max_centres: int | None = None,
        seed: int = 0,
        progress: bool = False,
        sri_threshold: int = 20,
        sri_sectors: int = 8,
    ) -> None:
        super().__init__()
        from pygbs.errors import InputError
        from pygbs.geo.scales import parse_scale

        if kind not in GEO_BIAS_KINDS:
            raise InputError(
                f"unknown geo-bias loss kind {kind!r}; expected one of "
                f"{', '.join(sorted(GEO_BIAS_KINDS))}"
            )
        self.kind = GEO_BIAS_KINDS[kind]
        self.scale = parse_scale(scale, k_max=k_max, min_points=min_points)
        self.k = _positive_int("k", k)
        self.centres_per_batch = _positive_int("centres_per_batch", centres_per_batch)
        max_centres = _positive_int("max_centres", max_centres, allow_none=True)
        self.sri_threshold = _positive_int("sri_threshold", sri_threshold)
        self.sri_sectors = _positive_int("sri_sectors", sri_sectors)
        lonlat = _check_lonlat_array(lonlat)
        n = lonlat.shape[0]
        self._n_rows = n
        rows = np.arange(n, dtype=np.int64)
        if max_centres is not None and max_centres < n:
            rng = np.random.default_rng(seed)
            rows = np.sort(rng.choice(n, size=max_centres, replace=False)).astype(np.int64)
        # numba's OpenMP threading layer resets the shared runtime's thread count, which
        # is torch's too (at::get_num_threads()): keep the caller's setting
        threads = torch.get_num_threads()
        try:
            if self.kind.family == "ssi":
                self._build_ssi(lonlat, rows, progress)
            else:
                self._build_sri(lonlat, rows, progress)
        finally:
            torch.set_num_threads(threads)
        if self.n_centres == 0:
            why = f"no neighbourhood at {self.scale.name} has >= {self.scale.min_points} samples"
            if self.kind.family == "sri":
                why += f" and a part with >= {self.sri_threshold} samples"
            raise InputError(f"no centre can be scored: {why}; use a larger scale or nn50")

    # -- construction ------------------------------------------------------------------

    def _chunks(self, rows: np.ndarray, progress: bool) -> object:
        starts = range(0, len(rows), BUILD_CHUNK)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="geo-bias loss", unit="chunk", leave=False)
        return starts

    def _build_ssi(self, lonlat: np.ndarray, rows: np.ndarray, progress: bool) -> None:
        from pygbs.geo.neighbours import Neighbourhoods, SphereIndex
        from pygbs.stats.graphs import pattern_graphs

        index = SphereIndex(lonlat[:, 0], lonlat[:, 1])
        parts: dict[str, list[np.ndarray]] = {
            key: [] for key in ("rows", "sizes", "members", "dbg", "nbr", "c")
        }
        for a in self._chunks(rows, progress):
            nb = Neighbourhoods.from_scale(index, rows[a : a + BUILD_CHUNK], self.scale)
            g = pattern_graphs(
                index,
                nb,
                background=self.kind.background,
                k=self.k,
                min_points=self.scale.min_points,
            )
            act = np.flatnonzero(g.active & (g.n_points >= 4))
            sizes = g.sizes
            # Reduce every edge touching a background point (label 0) to counts: the
            # statistic needs only sample-sample edges, each sample's number of edges to
            # background points and the number of background-background edges.
            seg = np.repeat(np.arange(len(sizes)), np.diff(g.edge_ptr))
            n_of = sizes[seg]
            s_in = g.src < n_of
            d_in = g.dst < n_of
            base = g.member_ptr[:-1][seg]
            dbg = np.bincount(
                np.concatenate([(base + g.src)[s_in & ~d_in], (base + g.dst)[~s_in & d_in]]),
                minlength=len(g.members),
            ).astype(np.float64)
            e_bb = np.bincount(seg[~s_in & ~d_in], minlength=len(sizes)).astype(np.float64)
            # the sample-sample edges as a table of each sample's out-neighbours (local
            # ids, -1 padded); edges come ordered by centre, then source
            ss = s_in & d_in
            src = (base + g.src)[ss]
            col = np.arange(len(src)) - np.searchsorted(src, src, side="left")
            nbr = np.full((len(g.members), self.k), -1, dtype=np.int32)
            nbr[src, col] = g.dst[ss]
            mem_pos, _ = _csr_take(g.member_ptr, act)
            parts["rows"].append(g.centres[act])
            parts["sizes"].append(sizes[act])
            parts["members"].append(g.members[mem_pos])
            parts["dbg"].append(dbg[mem_pos])
            parts["nbr"].append(nbr[mem_pos])
            parts["c"].append(
                self._ssi_constants(
                    g.n_points[act].astype(np.float64),
                    g.n_background[act].astype(np.float64),
                    e_bb[act],
                    g.s0[act],
                    g.s1[act],
                    g.s2[act],
                )
            )
        cat = {key: np.concatenate(v) if v else np.zeros(0) for key, v in parts.items()}
        self.centre_rows = cat["rows"].astype(np.int64)
        self._mem_ptr = np.concatenate([[0], np.cumsum(cat["sizes"])]).astype(np.int64)
        self._mem_rows = cat["members"].astype(np.int64)
        self._mem_weight = cat["dbg"].astype(np.float64)
        self._nbr = cat["nbr"].reshape(-1, self.k).astype(np.int32)
        self._const = cat["c"].reshape(-1, _N_SSI_CONST).astype(np.float64)

    @staticmethod
    def _ssi_constants(
        m: np.ndarray,
        n_bg: np.ndarray,
        e_bb: np.ndarray,
        s0: np.ndarray,
        s1: np.ndarray,
        s2: np.ndarray,
    ) -> np.ndarray:
        """Per centre ``(m, n_bg, e_bb, E[I], A, B, m / S0)`` (docs/method.md, D3).

        ``Var[I] = A - b2 B - E[I]^2`` with the kurtosis ``b2`` of the labels, the only
        label-dependent part of the analytic moments.
        """
        den = (m - 1) * (m - 2) * (m - 3) * s0**2
        a = m * ((m * m - 3 * m + 3) * s1 - m * s2 + 3 * s0**2) / den
        b = ((m * m - m) * s1 - 2 * m * s2 + 6 * s0**2) / den
        ei = -1.0 / (m - 1)
        return np.column_stack([m, n_bg, e_bb, ei, a, b, m / s0])

    def _build_sri(self, lonlat: np.ndarray, rows: np.ndarray, progress: bool) -> None:
        from pygbs.geo.neighbours import Neighbourhoods, SphereIndex
        from pygbs.stats.graphs import sri_parts

        index = SphereIndex(lonlat[:, 0], lonlat[:, 1])
        out: dict[str, list[np.ndarray]] = {
            key: [] for key in ("rows", "sizes", "members", "part", "n_kept", "part_size")
        }
        for a in self._chunks(rows, progress):
            nb = Neighbourhoods.from_scale(index, rows[a : a + BUILD_CHUNK], self.scale, cap=False)
            part, n_parts = sri_parts(index, nb, self.kind.partition, n_splits=self.sri_sectors)
            sizes = nb.sizes
            seg = np.repeat(np.arange(len(sizes)), sizes)
            slot_ptr = np.concatenate([[0], np.cumsum(n_parts)]).astype(np.int64)
            slot = np.where(part >= 0, slot_ptr[:-1][seg] + part, -1)
            count = np.bincount(slot[slot >= 0], minlength=slot_ptr[-1])
            kept = count >= self.sri_threshold
            slot_seg = np.repeat(np.arange(len(sizes)), n_parts)
            n_kept = np.bincount(slot_seg[kept], minlength=len(sizes))
            act = np.flatnonzero((sizes >= self.scale.min_points) & (n_kept > 0))
            # local index of each kept part within its centre
            kept_rank = np.cumsum(kept) - 1
            kept_start = np.concatenate([[0], np.cumsum(n_kept)])[:-1]
            local = np.where(kept, kept_rank - kept_start[slot_seg], -1)
            member_part = np.where(slot >= 0, local[np.maximum(slot, 0)], -1)
            mem_pos, _ = _csr_take(nb.indptr, act)
            slot_pos, _ = _csr_take(slot_ptr, act)
            out["rows"].append(nb.centres[act])
            out["sizes"].append(sizes[act])
            out["members"].append(nb.indices[mem_pos])
            out["part"].append(member_part[mem_pos])
            out["n_kept"].append(n_kept[act])
            sel = slot_pos[kept[slot_pos]]
            out["part_size"].append(count[sel].astype(np.float64))
        cat = {key: np.concatenate(v) if v else np.zeros(0) for key, v in out.items()}
        self.centre_rows = cat["rows"].astype(np.int64)
        self._mem_ptr = np.concatenate([[0], np.cumsum(cat["sizes"])]).astype(np.int64)
        self._mem_rows = cat["members"].astype(np.int64)
        self._mem_part = cat["part"].astype(np.int32)
        self._part_ptr = np.concatenate([[0], np.cumsum(cat["n_kept"])]).astype(np.int64)
        self._part_size = cat["part_size"].astype(np.float64)

    # -- batches -----------------------------------------------------------------------

    @property
    def n_centres(self) -> int:
        """Scorable centres."""
        return int(len(self.centre_rows))

    def sample(self, generator: torch.Generator) -> GeoBatch:
        """Draw ``min(centres_per_batch, n_centres)`` centres without replacement.

        Parameters
        ----------
        generator : torch.Generator
            A CPU generator: the only source of randomness (one ``randperm`` per call).

        Returns
        -------
        GeoBatch
            On the CPU; centres in ascending order.
        """
        from pygbs.errors import InputError

        if not isinstance(generator, torch.Generator) or generator.device.type != "cpu":
            raise InputError(f"sample() needs a CPU torch.Generator; got {generator!r}")
        c = min(self.centres_per_batch, self.n_centres)
        idx = torch.randperm(self.n_centres, generator=generator)[:c]
        return self.batch(np.sort(idx.numpy()))

    def batch(self, centres: np.ndarray | Tensor | None = None) -> GeoBatch:
        """The batch of the given centres (indices into :attr:`centre_rows`; None: all).

        Parameters
        ----------
        centres : array-like of int, optional
            Centre indices in ``[0, n_centres)``.

        Returns
        -------
        GeoBatch
            On the CPU.
        """
        from pygbs.errors import InputError

        if centres is None:
            cs = np.arange(self.n_centres, dtype=np.int64)
        else:
            cs = np.asarray(centres.cpu() if isinstance(centres, Tensor) else centres)
            cs = cs.astype(np.int64).ravel()
            bad = (cs < 0) | (cs >= self.n_centres)
            if bad.any():
                raise InputError(
                    f"centre index {int(cs[np.flatnonzero(bad)[0]])} is not in "
                    f"[0, {self.n_centres})"
                )
        mem, mem_ptr = _csr_take(self._mem_ptr, cs)
        member_rows = self._mem_rows[mem]
        if self._n_rows <= 16 * len(member_rows):  # a mask is cheaper than a sort
            mark = np.zeros(self._n_rows, dtype=bool)
            mark[member_rows] = True
            rows = np.flatnonzero(mark)
            member_pos = (np.cumsum(mark) - 1)[member_rows]
        else:
            rows, member_pos = np.unique(member_rows, return_inverse=True)
        member_seg = np.repeat(np.arange(len(cs), dtype=np.int64), np.diff(mem_ptr))
        empty_f = np.zeros(0, dtype=np.float64)
        empty_i = np.zeros(0, dtype=np.int64)
        if self.kind.family == "ssi":
            nbr = self._nbr[mem]
            offset = mem_ptr[:-1][member_seg]
            fields = {
                "_member_weight": self._mem_weight[mem],
                # batch member ids; a missing neighbour points at an extra zero (id L)
                "_neighbours": np.where(nbr >= 0, nbr + offset[:, None], len(mem)),
                "_part": empty_i,
                "_part_seg": empty_i,
                "_part_size": empty_f,
                "_const": self._const[cs],
            }
        else:
            slots, part_ptr = _csr_take(self._part_ptr, cs)
            n_parts = len(slots)
            local = self._mem_part[mem].astype(np.int64)
            part = np.where(local >= 0, part_ptr[:-1][member_seg] + local, n_parts)
            fields = {
                "_member_weight": empty_f,
                "_neighbours": empty_i[:, None],
                "_part": part,
                "_part_seg": np.repeat(np.arange(len(cs), dtype=np.int64), np.diff(part_ptr)),
                "_part_size": self._part_size[slots],
                "_const": np.diff(mem_ptr).astype(np.float64)[:, None],
            }
        return GeoBatch(
            rows=torch.from_numpy(rows.astype(np.int64)),
            centres=torch.from_numpy(cs.copy()),
            _member_pos=torch.from_numpy(member_pos.astype(np.int64).ravel()),
            _member_seg=torch.from_numpy(member_seg),
            **{key: torch.from_numpy(np.ascontiguousarray(v)) for key, v in fields.items()},
        )

    # -- the loss ----------------------------------------------------------------------

    def forward(self, performance: Tensor, batch: GeoBatch) -> Tensor:
        """The mean over the batch's centres of the surrogate score (a scalar).

        Parameters
        ----------
        performance : torch.Tensor
            ``(len(batch.rows),)`` soft coded performance in ``[-1, 1]`` (+1 = right) of
            the rows ``batch.rows``, on any device, float32 or float64.
        batch : GeoBatch
            From :meth:`sample`.

        Returns
        -------
        torch.Tensor
            Scalar, of ``performance``'s dtype and device.
        """
        return self.per_centre(performance, batch).mean()

    def per_centre(self, performance: Tensor, batch: GeoBatch) -> Tensor:
        """The surrogate score of each centre of the batch.

        SSI kinds: ``-ln p`` of the analytic null (docs/method.md, D3), 0 where the labels
        are constant or the null variance vanishes; SRI kinds: the size-weighted mean KL
        divergence of D5 with 2 bins.

        Parameters
        ----------
        performance : torch.Tensor
            As :meth:`forward`.
        batch : GeoBatch
            From :meth:`sample`.

        Returns
        -------
        torch.Tensor
            ``(len(batch.centres),)``.
        """
        from pygbs.errors import InputError

        if not isinstance(performance, Tensor) or not performance.is_floating_point():
            raise InputError("performance must be a floating-point torch.Tensor")
        if performance.shape != batch.rows.shape:
            raise InputError(
                f"performance must have one value per batch row, shape "
                f"{tuple(batch.rows.shape)}; got {tuple(performance.shape)}"
            )
        if batch.device != performance.device:
            batch = batch.to(performance.device)
        v = performance.to(torch.float64)[batch._member_pos]
        if self.kind.family == "ssi":
            out = _ssi_per_centre(v, batch)
        else:
            out = _sri_per_centre(v, batch)
        return out.to(performance.dtype)


def _segment_sum(values: Tensor, seg: Tensor, n: int) -> Tensor:
    """Sums of ``values`` (along dim 0) per segment id ``seg``, ``n`` segments."""
    out = torch.zeros((n, *values.shape[1:]), dtype=values.dtype, device=values.device)
    return out.index_add_(0, seg, values)


def _ssi_per_centre(v: Tensor, b: GeoBatch) -> Tensor:
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


def _sri_per_centre(v: Tensor, b: GeoBatch) -> Tensor:
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
    from pygbs.errors import InputError

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
