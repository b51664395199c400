"""Datasets for training and evaluating location encoders (all offline).

>>> from encoders.data import load_dataset, list_datasets
>>> list_datasets()
['synthetic-vmf', 'synthetic-vmf-biased', 'synthetic-vmf-sparse', 'cities', 'locbench', 'table']
>>> ds = load_dataset("synthetic-vmf", n_train=200, n_val=50, n_test=50, seed=1)
>>> ds.task, ds.num_classes, len(ds.train), ds.test.image_probs.shape
('classification', 50, 200, (50, 50))

Every loader returns a :class:`GeoDataset` (train / val / test :class:`Split` objects holding
``lonlat``, ``label`` and optional ``image_probs`` / ``image_features``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from encoders.data import cities, locbench, synthetic_vmf, table
from encoders.data._base import SPLITS, TASKS, GeoDataset, Split
from pygbs.errors import InputError

__all__ = ["SPLITS", "TASKS", "GeoDataset", "Split", "dataset_options", "list_datasets",
           "load_dataset"]  # fmt: skip

_LOADERS: dict[str, Callable[..., GeoDataset]] = {
    "synthetic-vmf": synthetic_vmf.load,
    "synthetic-vmf-biased": synthetic_vmf.load_biased,
    "synthetic-vmf-sparse": synthetic_vmf.load_sparse,
    "cities": cities.load,
    "locbench": locbench.load,
    "table": table.load,
}


def list_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset`."""
    return list(_LOADERS)


def dataset_options(name: str) -> dict[str, Any]:
    """Options of dataset ``name`` with their defaults (``inspect.Parameter.empty``: required)."""
    loader = _get(name)
    return {p.name: p.default for p in inspect.signature(loader).parameters.values()}


def _get(name: str) -> Callable[..., GeoDataset]:
    if name not in _LOADERS:
        raise InputError(f"unknown dataset {name!r}; valid: {', '.join(_LOADERS)}")
    return _LOADERS[name]


def load_dataset(name: str, **options: Any) -> GeoDataset:
    """Load (or generate) the dataset ``name`` with loader ``options``.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`: ``synthetic-vmf``, ``synthetic-vmf-biased``,
        ``synthetic-vmf-sparse``,
        ``cities``, ``locbench``, ``table``.
    **options
        Loader options (see each loader: :func:`encoders.data.synthetic_vmf.load`,
        :func:`encoders.data.synthetic_vmf.load_biased`, :func:`encoders.data.cities.load`,
        :func:`encoders.data.locbench.load`, :func:`encoders.data.table.load`).

    Returns
    -------
    GeoDataset

    Raises
    ------
    pygbs.errors.InputError
        For an unknown dataset, an unknown or missing option, or bad option values.
    """
    loader = _get(name)
    valid = dataset_options(name)
    for key in options:
        if key not in valid:
            raise InputError(
                f"unknown option {key!r} for dataset {name!r}; valid options: {', '.join(valid)}"
            )
    missing = [k for k, v in valid.items() if v is inspect.Parameter.empty and k not in options]
    if missing:
        raise InputError(f"dataset {name!r} needs option {missing[0]!r}")
    options = {k: _typed(name, k, v, valid[k]) for k, v in options.items()}
    return loader(**options)


def _typed(dataset: str, key: str, value: Any, default: Any) -> Any:
    """``value`` of option ``key``, checked against the type of its default.

    A whole-number float is accepted for an integer option (``1e3``); options without a
    default, or with a default of None, are passed on as given.
    """
    if default is inspect.Parameter.empty or default is None:
        return value
    kind = type(default)
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind is str:
        ok = isinstance(value, str)
    else:
        return value
    if not ok:
        expected = {bool: "true or false", int: "an integer", float: "a number", str: "text"}[kind]
        raise InputError(f"dataset {dataset!r}: option {key}={value!r} must be {expected}")
    return value
