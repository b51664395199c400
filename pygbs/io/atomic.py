"""Plain atomic files: written to a temporary sibling, renamed into place when complete.

A file is written to ``.<name>.<pid>.<random>.tmp`` next to its final path and renamed
onto it (:func:`atomic_path`), so that a reader never sees half a file and an interrupted
write leaves the earlier file as it was. The library writes every output file this way;
what may be written where (output directories, ``--force``, the manifest) is the command
line's policy (:mod:`pygbs.cli.outputs`).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_path",
    "is_temp_name",
    "named_error",
    "temp_pid",
    "temp_prefix",
    "umask",
    "write_text_atomic",
]

#: Temporaries are ``.<name>.<pid>.<random>.tmp`` (``...<random>.old.tmp`` for a directory
#: being replaced).
_RANDOM = re.compile(r"^[A-Za-z0-9_]+$")


def temp_prefix(name: str) -> str:
    """Prefix of this process's temporaries for ``name``: ``.<name>.<pid>.``."""
    return f".{name}.{os.getpid()}."


def umask() -> int:
    """The process's file mode creation mask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    Parameters
    ----------
    path : path-like
        Final location of the file (its folder is created if missing).

    Yields
    ------
    Path
        Where to write. Removed if the block raises (also on an interrupt).
    """
    final = Path(path)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(final.name), suffix=".tmp", dir=final.parent)
    except OSError as err:
        raise named_error(err, final) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~umask())  # mkstemp creates 0600; use the usual mode
        os.replace(tmp_path, final)
    except OSError as err:
        tmp_path.unlink(missing_ok=True)
        raise named_error(err, final, tmp_path) from err
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def named_error(err: OSError, final: Path, temp: Path | None = None) -> OSError:
    """``err`` naming the output path the user gave rather than one of our temporaries."""
    name = os.fsdecode(err.filename) if err.filename is not None else None
    if name is not None and temp is not None and name.startswith(str(temp)):
        name = str(final) + name[len(str(temp)) :]
    elif name is None or is_temp_name(Path(name).name) or temp is None:
        name = str(final)
    return OSError(err.errno, err.strerror or str(err), name)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def temp_pid(name: str) -> int | None:
    """The process id in one of our temporary names, else None."""
    if not (name.startswith(".") and name.endswith(".tmp")):
        return None
    stem = name[: -len(".tmp")]
    stem = stem.removesuffix(".old")
    parts = stem.rsplit(".", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not _RANDOM.match(parts[2]):
        return None
    return int(parts[1])


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of our temporaries (``.<name>.<pid>.<random>.tmp``)."""
    return temp_pid(name) is not None
