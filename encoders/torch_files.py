"""PyTorch files of a training run: written atomically with plain file I/O, read with checks.

:func:`torch.save` writes through its own C++ writer, which reports a full disk as a bare
``RuntimeError`` ("enforce fail ... file write failed") without the path.
:func:`save_atomic` serialises in memory and writes the bytes with Python's file I/O, so
that a full or read-only disk is an ``OSError`` naming the file (exit code 2 on the
command line, docs/cli.md) and nothing half-written is left. :func:`read_checkpoint`
loads a checkpoint to resume from and turns a damaged one (truncated, empty, not a
checkpoint) into one :class:`~pygbs.errors.InputError` naming the path.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from pygbs.errors import InputError
from pygbs.io.atomic import atomic_path

__all__ = ["read_checkpoint", "save_atomic"]


def save_atomic(obj: Any, path: str | os.PathLike[str]) -> None:
    """:func:`torch.save` ``obj`` to ``path`` through a temporary file.

    Raises
    ------
    OSError
        Naming ``path`` when it cannot be written (a full disk: ``ENOSPC``).
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(buffer.getbuffer())


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load the training checkpoint ``path`` (on the CPU) to resume from it.

    Raises
    ------
    InputError
        When the file cannot be read as a checkpoint (empty, truncated, another file).
    """
    p = Path(path)
    advice = "delete it to train from the start, or train into another folder"
    try:
        # the checkpoint holds random states (numpy's): not a weights-only file
        blob = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises RuntimeError, UnpicklingError, EOFError, ...
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        detail = "the file is empty" if p.stat().st_size == 0 else f"{type(err).__name__}: {first}"
        raise InputError(
            f"{p}: cannot resume: the checkpoint is damaged or not a checkpoint ({detail}); "
            f"{advice}"
        ) from None
    if not isinstance(blob, dict) or "state_dict" not in blob:
        raise InputError(f"{p}: cannot resume: the file is not a training checkpoint; {advice}")
    return blob
