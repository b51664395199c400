"""What the ``encoders`` package needs beyond the base install: PyTorch.

``pip install geobias`` installs :mod:`pygbs` alone; the encoders need the ``encoders``
extra, ``pip install 'geobias[encoders]'``, which adds PyTorch. Without it ``import
encoders`` still works, but every name of the package raises one
:class:`ModuleNotFoundError` that says what to install, and the ``encoders`` command prints
that line and exits with code 2.
"""

from __future__ import annotations

from importlib.util import find_spec

__all__ = ["INSTALL_HINT", "has_torch", "missing_torch"]

#: The one line shown when PyTorch is missing.
INSTALL_HINT = (
    "the encoders need PyTorch, which is not installed: "
    "pip install 'geobias[encoders]' (or pip install torch)"
)


def has_torch() -> bool:
    """Whether PyTorch can be imported (checked without importing it).

    Returns
    -------
    bool
        True when the ``torch`` package is installed.
    """
    return find_spec("torch") is not None


def missing_torch() -> ModuleNotFoundError:
    """The error raised for a name of :mod:`encoders` when PyTorch is missing.

    Returns
    -------
    ModuleNotFoundError
        An error whose message is :data:`INSTALL_HINT`.
    """
    return ModuleNotFoundError(INSTALL_HINT, name="torch")
