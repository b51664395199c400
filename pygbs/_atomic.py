"""Atomic outputs: nothing half-written is ever left behind.

Files are written to a temporary sibling and renamed into place; output directories are
assembled in a temporary sibling directory and renamed as a whole when complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_dir", "atomic_path", "write_text_atomic"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    Parameters
    ----------
    path : path-like
        Final location of the file.

    Yields
    ------
    Path
        Where to write. Removed if the block raises.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp creates 0600; use the usual mode
        os.replace(tmp_path, final)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], overwrite: bool = True) -> Iterator[Path]:
    """Build an output directory in a temporary sibling and rename it into place.

    Files already in ``path`` that the block does not rewrite are kept (they are copied
    into the temporary directory first), so re-running a command into the same ``--out``
    updates it. On failure the temporary directory is removed and ``path`` is untouched.

    Parameters
    ----------
    path : path-like
        Final directory.
    overwrite : bool, default=True
        If False, refuse an existing non-empty ``path`` with :class:`FileExistsError`.

    Yields
    ------
    Path
        The temporary directory to write into.
    """
    final = Path(path)
    if final.exists() and not final.is_dir():
        raise FileExistsError(f"output path {final} exists and is not a directory")
    if final.exists() and any(final.iterdir()) and not overwrite:
        raise FileExistsError(f"output directory {final} is not empty")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        if final.is_dir():
            shutil.copytree(final, tmp, dirs_exist_ok=True)
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
