"""The splits of a :class:`~encoders.data.GeoDataset` as a ``LightningDataModule``.

:class:`GeoDataModule` gives the training loader (seeded batches drawn anew each epoch,
optionally balanced per class, split across the processes of a multi-device run) and the
validation and test loaders (fixed order, split across processes). A batch is a dict of
tensors: ``rows`` (row numbers in the split), ``lonlat`` ``(b, 2)``, ``label`` ``(b,)`` and,
when the split has them, ``features`` ``(b, d)`` (image features) and ``image_probs``
``(b, C)`` (image-model probabilities); evaluation batches also have ``located`` ``(b,)``
(False where the row has no location: its ``lonlat`` is then (0, 0)).

The batch order comes from one seeded :class:`torch.Generator` (:attr:`GeoDataModule.generator`).
In a run on ``N`` processes each process holds only its shard of the training split
(:func:`shard_rows`: a seeded deal of the rows, about ``1/N`` of them), draws its own order
of those rows from a generator of its own, and takes ``ceil(batch_size / N)`` of them per
step; all processes make the same number of steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from encoders.data import GeoDataset, Split

__all__ = [
    "EVAL_BATCH",
    "EpochBatches",
    "GeoDataModule",
    "SplitRows",
    "epoch_order",
    "seeded_generator",
    "shard_rows",
]


#: Rows per batch of the validation and test loaders (and of test-time predictions).
EVAL_BATCH = 8192
#: Stream numbers of the generators derived from the seed.
_SHARD_STREAM = 3
_BATCH_STREAM = 4


def seeded_generator(seed: int, *key: int) -> torch.Generator:
    """A CPU generator seeded from ``(seed, *key)`` (one independent stream per key)."""
    seq = np.random.SeedSequence([int(seed) % 2**63, *key])
    return torch.Generator().manual_seed(int(seq.generate_state(1, np.uint64)[0]))


def shard_rows(n: int, world: int, seed: int) -> list[np.ndarray]:
    """The training rows of each of ``world`` processes: a seeded deal of ``0..n-1``.

    The rows are dealt in a seeded random order, one to each process in turn: the shards
    are disjoint, hold every row between them, differ in size by at most one row and do
    not follow the order of the file. Each shard is sorted.

    Raises
    ------
    ValueError
        When there are fewer rows than processes.
    """
    if world == 1:
        return [np.arange(n)]
    if n < world:
        raise ValueError(f"{n} training rows cannot be shared among {world} processes")
    perm = torch.randperm(n, generator=seeded_generator(seed, _SHARD_STREAM)).numpy()
    return [np.sort(perm[r::world]) for r in range(world)]


def rows_per_epoch(labels: np.ndarray, max_per_class: int | None) -> int:
    """Rows of one epoch: all of them, or at most ``max_per_class`` of each class."""
    if max_per_class is None:
        return len(labels)
    return int(np.minimum(np.unique(labels, return_counts=True)[1], int(max_per_class)).sum())


def epoch_order(
    n: int,
    generator: torch.Generator,
    labels: np.ndarray | None = None,
    max_per_class: int | None = None,
) -> np.ndarray:
    """One epoch's order of the rows ``0..n-1``: a seeded permutation, optionally balanced.

    Parameters
    ----------
    n : int
        Number of rows.
    generator : torch.Generator
        Source of the permutation (advanced by one draw of ``n`` numbers).
    labels : ndarray of shape (n,), optional
        Class labels; with ``max_per_class`` at most that many rows of each class are kept
        (the first ones in the permutation).
    max_per_class : int, optional
        Cap per class (None: every row).

    Returns
    -------
    ndarray of int64
    """
    perm = torch.randperm(n, generator=generator).numpy()
    if max_per_class is None or labels is None:
        return perm
    lab = labels[perm]
    order = np.argsort(lab, kind="stable")
    sorted_lab = lab[order]
    starts = np.searchsorted(sorted_lab, sorted_lab, side="left")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts
    return perm[rank < int(max_per_class)]


class SplitRows(Dataset):
    """A :class:`~encoders.data.Split` whose items are batches of rows (see the module doc).

    Parameters
    ----------
    split : Split
        The rows.
    fill_unlocated : bool, default=False
        Give rows without a location the location (0, 0) (evaluation: the model sees a
        finite input; their prediction is the image model's alone).
    """

    def __init__(self, split: Split, fill_unlocated: bool = False) -> None:
        self.split = split
        lonlat = split.lonlat
        self.located = None
        if fill_unlocated:
            self.located = split.has_location
            lonlat = np.where(self.located[:, None], lonlat, 0.0).astype(np.float32)
        self.lonlat = lonlat

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.__getitems__([index])

    def __getitems__(self, rows: Any) -> dict[str, torch.Tensor]:
        """The batch of the rows ``rows`` (a sequence of row numbers)."""
        idx = np.asarray(rows, dtype=np.int64)
        s = self.split
        out = {
            "rows": torch.from_numpy(idx),
            "lonlat": torch.from_numpy(self.lonlat[idx]),
            "label": torch.from_numpy(s.label[idx]),
        }
        if s.image_features is not None:
            out["features"] = torch.from_numpy(s.image_features[idx])
        if s.image_probs is not None:
            out["image_probs"] = torch.from_numpy(s.image_probs[idx])
        if self.located is not None:
            out["located"] = torch.from_numpy(self.located[idx])
        return out


def _whole_batch(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The collate function: batches come whole from :meth:`SplitRows.__getitems__`."""
    return batch


def _share(rows: np.ndarray, rank: int, world: int) -> np.ndarray:
    """The share of process ``rank`` of one evaluation batch (never empty: short ones wrap)."""
    if world == 1:
        return rows
    if len(rows) < world:
        rows = np.resize(rows, world)
    return np.array_split(rows, world)[rank]


class EpochBatches(Sampler):
    """Training batches: a new seeded order every epoch, cut into ``batch_size`` rows.

    The whole epoch's order is drawn when the epoch starts.

    Parameters
    ----------
    n : int
        Rows in the split.
    batch_size : int
        Rows per batch.
    generator : torch.Generator
        Source of the order.
    labels : ndarray, optional
        Class labels (balanced sampling with ``max_per_class``).
    max_per_class : int, optional
        Cap per class and epoch.
    steps : int, optional
        Batches per epoch (default: as many as the epoch's rows fill); with more, the
        first batches of the epoch come again (the processes of a run make equal steps).
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        generator: torch.Generator,
        labels: np.ndarray | None = None,
        max_per_class: int | None = None,
        steps: int | None = None,
    ) -> None:
        self.n, self.batch_size = int(n), int(batch_size)
        self.generator = generator
        self.labels = labels
        self.max_per_class = None if labels is None else max_per_class
        rows = self.n if labels is None else rows_per_epoch(labels, self.max_per_class)
        self.steps = -(-rows // self.batch_size) if steps is None else int(steps)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[np.ndarray]:
        order = epoch_order(self.n, self.generator, self.labels, self.max_per_class)
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        for k in range(self.steps):
            yield batches[k % len(batches)]


class _EvalBatches(Sampler):
    """Fixed batches of ``batch_size`` rows, each shared among the processes.

    Every process gets the same number of batches; a batch with fewer rows than processes
    repeats rows (whoever gathers the outputs keeps one per row number).
    """

    def __init__(self, n: int, batch_size: int, rank: int = 0, world: int = 1) -> None:
        starts = range(0, int(n), int(batch_size))
        self.batches = [_share(np.arange(s, min(s + batch_size, n)), rank, world) for s in starts]

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.batches)


class GeoDataModule(L.LightningDataModule):
    """Training, validation and test loaders of a :class:`~encoders.data.GeoDataset`.

    Parameters
    ----------
    dataset : GeoDataset
        The data.
    batch_size : int, default=1024
        Training rows per step (over all processes together).
    max_per_class : int or None, default=None
        Balanced sampling (classification): at most this many rows of each class per epoch.
    seed : int, default=0
        Seed of :attr:`generator`, the batch order.
    eval_batch_size : int, default=EVAL_BATCH
        Rows per validation / test batch.

    Attributes
    ----------
    generator : torch.Generator
        The batch order's random source (saved in checkpoints by
        :class:`encoders.callbacks.RandomState`); with several processes, one per process.
    train : Split
        The training rows this process holds (:meth:`setup`; the whole split with one
        process).
    """

    def __init__(
        self,
        dataset: GeoDataset,
        *,
        batch_size: int = 1024,
        max_per_class: int | None = None,
        seed: int = 0,
        eval_batch_size: int = EVAL_BATCH,
    ) -> None:
        super().__init__()
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.max_per_class = None if max_per_class is None else int(max_per_class)
        self.eval_batch_size = int(eval_batch_size)
        self.seed = int(seed)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.train = dataset.train
        # this process's rows per step, cap per class and steps per epoch (see setup)
        self._batch, self._cap = self.batch_size, self.max_per_class
        self._steps: int | None = None

    def _ranks(self) -> tuple[int, int]:
        trainer = self.trainer
        return (0, 1) if trainer is None else (trainer.global_rank, trainer.world_size)

    @staticmethod
    def _loader(data: SplitRows, sampler: Sampler) -> DataLoader:
        # a generator of its own: the loader's seed draw leaves torch's global stream alone
        return DataLoader(data, batch_sampler=sampler, collate_fn=_whole_batch,
                          generator=torch.Generator())  # fmt: skip

    def rng_generators(self) -> dict[str, torch.Generator]:
        """The generators whose state a checkpoint keeps (name -> generator)."""
        return {"batches": self.generator}

    def setup(self, stage: str) -> None:
        """With several processes: keep this process's shard of the training split.

        Each process keeps the rows :func:`shard_rows` deals it, draws its batches from a
        generator of its own, ``ceil(batch_size / N)`` rows per step (and at most
        ``ceil(max_per_class / N)`` rows of each class per epoch); the number of steps per
        epoch is that of the largest shard, for every process.
        """
        rank, world = self._ranks()
        if world == 1 or stage != "fit":
            return
        train = self.dataset.train
        shards = shard_rows(len(train), world, self.seed)
        labels = train.label if self.dataset.task == "classification" else None
        self._batch = -(-self.batch_size // world)
        cap = self._cap = None if self.max_per_class is None else -(-self.max_per_class // world)
        self._steps = max(
            -(-(len(s) if labels is None else rows_per_epoch(labels[s], cap)) // self._batch)
            for s in shards
        )
        self.train = train.subset(shards[rank])
        self.generator = seeded_generator(self.seed, _BATCH_STREAM, rank)

    def train_dataloader(self) -> DataLoader:
        """The training rows of this process, seeded and reshuffled each epoch."""
        train = self.train
        labels = train.label if self.dataset.task == "classification" else None
        sampler = EpochBatches(len(train), self._batch, self.generator, labels, self._cap,
                               self._steps)  # fmt: skip
        return self._loader(SplitRows(train), sampler)

    def _eval_loader(self, split: Split) -> DataLoader:
        rank, world = self._ranks()
        sampler = _EvalBatches(len(split), self.eval_batch_size, rank, world)
        return self._loader(SplitRows(split, fill_unlocated=True), sampler)

    def val_dataloader(self) -> DataLoader:
        """The validation split in fixed batches (rows without a location included)."""
        return self._eval_loader(self.dataset.val)

    def test_dataloader(self) -> DataLoader:
        """The test split in fixed batches (rows without a location included)."""
        return self._eval_loader(self.dataset.test)
