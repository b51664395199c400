"""The synthetic von Mises-Fisher mixture datasets, importable from this package.

* :mod:`~encoders.data.synthetic_vmf.vmf`: the vMF sampler (:func:`sample_vmf`) and
  ``synthetic-vmf``, a Sphere2Vec-style benchmark of vMF mixtures (:func:`load`);
* :mod:`~encoders.data.synthetic_vmf.regions`: the caps of the two variants below
  (:data:`BIASED_REGIONS`, :func:`region_of`) and their true location model
  (:func:`location_density`, :func:`location_posterior`);
* :mod:`~encoders.data.synthetic_vmf.biased`: ``synthetic-vmf-biased``, an image model
  poorer inside the caps (:func:`load_biased`);
* :mod:`~encoders.data.synthetic_vmf.sparse`: ``synthetic-vmf-sparse``, the caps
  under-sampled in training (:func:`load_sparse`).

Everything is generated from ``seed``; the same options give the same arrays.
"""

from __future__ import annotations

from encoders.data.synthetic_vmf.biased import load_biased
from encoders.data.synthetic_vmf.regions import (
    BIASED_REGIONS,
    location_density,
    location_posterior,
    region_of,
)
from encoders.data.synthetic_vmf.sparse import load_sparse
from encoders.data.synthetic_vmf.vmf import load, sample_vmf

__all__ = [
    "BIASED_REGIONS",
    "load",
    "load_biased",
    "load_sparse",
    "location_density",
    "location_posterior",
    "region_of",
    "sample_vmf",
]
