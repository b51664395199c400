"""Example prediction files that ship with pygbs.

Seven real TorchSpatial evaluation tables of one dataset, Birdsnap with eBird meta data
(test split, 2,262 bird photographs; MIT licence, source and commit in ``SOURCE.txt``
beside the files): six location encoders and the image-only model without a location
prior. They are small enough to score in seconds and show every case the readers handle:
45 rows without coordinates, a file without lon/lat columns (``no_prior``) and one whose
coordinates are encoded (``wrap``).

``pygbs example-data DIR`` copies them into a folder; in Python, :func:`example_path`
gives the installed path of one file and :func:`copy_examples` copies them all.

Examples
--------
>>> from pygbs.datasets import example_path
>>> example_path("NeRF").name
'eval_birdsnap_ebird_meta_test_NeRF.csv.gz'
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path

from pygbs.errors import InputError

__all__ = [
    "EXAMPLE_DATASET",
    "EXAMPLE_MODELS",
    "copy_examples",
    "example_files",
    "example_path",
]

#: The TorchSpatial dataset the example files come from.
EXAMPLE_DATASET = "birdsnap_ebird_meta"
#: The models of the example files, as they appear in the file names.
EXAMPLE_MODELS = (
    "NeRF",
    "xyz",
    "Sphere2Vec-sphereM",
    "rbf",
    "spherical_harmonics",
    "wrap",
    "no_prior",
)
_FOLDER = "torchspatial"
_NOTICES = ("LICENSE.txt", "SOURCE.txt")


def _root() -> Path:
    return Path(str(files("pygbs.datasets") / _FOLDER))


def _file_name(model: str) -> str:
    return f"eval_{EXAMPLE_DATASET}_test_{model}.csv.gz"


def example_path(model: str = "NeRF") -> Path:
    """The installed path of one example prediction file.

    Parameters
    ----------
    model
        One of :data:`EXAMPLE_MODELS` (default ``"NeRF"``).

    Returns
    -------
    pathlib.Path
        The file, e.g. ``.../eval_birdsnap_ebird_meta_test_NeRF.csv.gz``.

    Raises
    ------
    InputError
        For a model that has no example file.
    """
    if model not in EXAMPLE_MODELS:
        raise InputError(
            f"no example file for model {model!r}; choose one of {', '.join(EXAMPLE_MODELS)}"
        )
    return _root() / _file_name(model)


def example_files() -> list[Path]:
    """The installed paths of all example prediction files, in :data:`EXAMPLE_MODELS` order.

    Returns
    -------
    list of pathlib.Path
        One path per model.
    """
    return [example_path(model) for model in EXAMPLE_MODELS]


def copy_examples(dest: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
    """Copy the example prediction files, their licence and their source note into a folder.

    The folder is created when missing. Files already there with the same content are kept;
    a different file of the same name is an error unless ``overwrite``. Each file is
    written to a temporary name first and renamed, so no half-written file is left.

    Parameters
    ----------
    dest
        The folder to copy into.
    overwrite
        Replace files of the same name whose content differs.

    Returns
    -------
    list of pathlib.Path
        The prediction files in ``dest``, in :data:`EXAMPLE_MODELS` order.

    Raises
    ------
    InputError
        When ``dest`` is a file, or holds a different file of the same name (without
        ``overwrite``).
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise InputError(f"{dest}: exists and is not a folder")
    sources = example_files() + [_root() / name for name in _NOTICES]
    if not overwrite:
        for src in sources:
            target = dest / src.name
            if target.exists() and not (
                target.is_file() and filecmp.cmp(src, target, shallow=False)
            ):
                raise InputError(
                    f"{target}: exists with other content (use --overwrite to replace it)"
                )
    dest.mkdir(parents=True, exist_ok=True)
    for src in sources:
        target = dest / src.name
        if target.is_file() and filecmp.cmp(src, target, shallow=False):
            continue
        fd, tmp = tempfile.mkstemp(prefix=f".{src.name}.", dir=dest)
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return [dest / path.name for path in example_files()]
