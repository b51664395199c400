"""How the trainer sets Lightning up: atomic checkpoint files, their folder, quiet start-up.

:class:`AtomicCheckpointIO` writes Lightning's checkpoints atomically (a resumed run never
reads a half-written file), :func:`checkpoint_dir` gives the run's folder (or a temporary
one) and :func:`quiet_lightning` turns off Lightning's start-up notes and the hints that
do not apply to :class:`encoders.train.Trainer` (:data:`LIGHTNING_HINTS`).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lightning.pytorch.plugins.io import TorchCheckpointIO

from encoders.torch_files import save_atomic

__all__ = ["LIGHTNING_HINTS", "AtomicCheckpointIO", "checkpoint_dir", "quiet_lightning"]


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, writing each file atomically (never half-written)."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None
    ) -> None:
        """Write ``checkpoint`` to ``path`` through a temporary file."""
        save_atomic(checkpoint, Path(path))


@contextlib.contextmanager
def checkpoint_dir(out_dir: str | Path | None) -> Iterator[Path]:
    """``out_dir`` (created), or a temporary folder removed afterwards."""
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        yield Path(out_dir)
        return
    with tempfile.TemporaryDirectory(prefix="encoders_fit_") as tmp:
        yield Path(tmp)


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Lightning's start-up notes and hints off (our log says what runs); warnings kept."""
    names = ("lightning.pytorch", "lightning.fabric", "lightning_utilities")
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for pattern in LIGHTNING_HINTS:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)


#: Lightning hints that do not apply here (the data are in memory; loading takes no worker).
LIGHTNING_HINTS = (
    r".*does not have many workers.*",
    r".*Checkpoint directory .* exists and is not empty.*",
    r".*The number of training batches .* is smaller than the logging interval.*",
    r".*It is recommended to use `self.log\(.*sync_dist=True.*",  # already equal in all
    r".*Experiment logs directory .* exists and is not empty.*",
    r".*isinstance\(treespec, LeafSpec\)",
)
