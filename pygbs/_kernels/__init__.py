"""Numba kernels of :mod:`pygbs`: arrays in, arrays out; no pandas, objects or ``None``.

The Python entry points (:mod:`pygbs.geo.neighbours`, :mod:`pygbs.stats.ssi`,
:mod:`pygbs.stats.sri`) validate their input and call these functions. Every kernel is compiled with
``cache=True`` so the compile cost is paid once per machine.

Numba checks only the source file of a cached function itself, so a kernel whose file is
unchanged would keep its cached machine code when a function it calls from another file
of this folder changed. The kernels are therefore cached in a folder named after a hash
of all the sources of this folder (:data:`SOURCE_HASH`): ``<NUMBA_CACHE_DIR>/pygbs-kernels-
<hash>`` when ``NUMBA_CACHE_DIR`` is set, ``__pycache__/pygbs-kernels-<hash>`` next to these
files otherwise. Any change to any kernel source starts a fresh cache; a warm cache can
never run old kernel code. All kernel modules are imported here, while numba's cache
folder points there; numba's setting is restored afterwards, so other packages' caches
are unaffected.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["SOURCE_HASH", "cache_dir"]

_HERE = Path(__file__).resolve().parent


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(_HERE.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


#: Hash of the kernel sources (every ``*.py`` file of this folder); names the cache folder.
SOURCE_HASH = _source_hash()


def cache_dir(base: str | os.PathLike[str] | None = None) -> Path:
    """The folder the kernels are cached in.

    Parameters
    ----------
    base : path, optional
        The cache root. Default: numba's ``NUMBA_CACHE_DIR`` setting when set, otherwise
        the ``__pycache__`` folder next to the kernel sources.

    Returns
    -------
    Path
        ``<base>/pygbs-kernels-<SOURCE_HASH>``.
    """
    if base is None:
        from numba.core import config

        base = config.CACHE_DIR or (_HERE / "__pycache__")
    return Path(base) / f"pygbs-kernels-{SOURCE_HASH}"


@contextlib.contextmanager
def _keyed_cache() -> Iterator[None]:
    from numba.core import config

    previous = config.CACHE_DIR
    config.CACHE_DIR = str(cache_dir())
    try:
        yield
    finally:
        config.CACHE_DIR = previous


def _import_all() -> None:
    with _keyed_cache():
        # every kernel module of this folder: their decorators create the cache locators now
        for path in sorted(_HERE.glob("*.py")):
            if path.stem != "__init__":
                importlib.import_module(f"{__name__}.{path.stem}")


_import_all()
