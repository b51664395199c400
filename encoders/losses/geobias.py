"""The geo-bias loss: :class:`GeoBiasLoss`, its kinds and its precomputed neighbourhoods.

:class:`GeoBiasLoss` is a differentiable surrogate of a Geo-Bias Score (marked or
performance SSI, SRI) of the model's soft per-sample performance, averaged over a random
batch of centres; :func:`~encoders.losses.surrogate.soft_performance` turns model outputs
into that performance (docs/debiasing.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from encoders.losses.batch import GeoBatch, check_lonlat_array, csr_take, positive_int
from encoders.losses.surrogate import sri_per_centre, ssi_per_centre
from pygbs.errors import InputError
from pygbs.geo.scales import parse_scale
from pygbs.stats.registry import REGISTRY

__all__ = ["GEO_BIAS_KINDS", "GeoBiasKind", "GeoBiasLoss"]


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
#: Centres per call of the pattern kernels while the loss is built (bounds memory).
BUILD_CHUNK = 2048
#: Number of per-centre constants of an SSI batch (see ``GeoBiasLoss._ssi_constants``).
_N_SSI_CONST = 7


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

        if kind not in GEO_BIAS_KINDS:
            raise InputError(
                f"unknown geo-bias loss kind {kind!r}; expected one of "
                f"{', '.join(sorted(GEO_BIAS_KINDS))}"
            )
        self.kind = GEO_BIAS_KINDS[kind]
        self.scale = parse_scale(scale, k_max=k_max, min_points=min_points)
        self.k = positive_int("k", k)
        self.centres_per_batch = positive_int("centres_per_batch", centres_per_batch)
        max_centres = positive_int("max_centres", max_centres, allow_none=True)
        self.sri_threshold = positive_int("sri_threshold", sri_threshold)
        self.sri_sectors = positive_int("sri_sectors", sri_sectors)
        lonlat = check_lonlat_array(lonlat)
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
            mem_pos, _ = csr_take(g.member_ptr, act)
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
            mem_pos, _ = csr_take(nb.indptr, act)
            slot_pos, _ = csr_take(slot_ptr, act)
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
        mem, mem_ptr = csr_take(self._mem_ptr, cs)
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
            slots, part_ptr = csr_take(self._part_ptr, cs)
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
            out = ssi_per_centre(v, batch)
        else:
            out = sri_per_centre(v, batch)
        return out.to(performance.dtype)
