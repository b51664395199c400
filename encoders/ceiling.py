"""The accuracy ceiling of synthetic-vmf-biased and -sparse, inside and outside the caps.

Two reference predictors, judged like the trained models (top-1 of the fused prediction on
the test split, docs/debiasing.md):

* ``location_posterior``: the *true* location posterior of the generator
  (:func:`encoders.data.synthetic_vmf.location_posterior`) fused the TorchSpatial way,
  ``image_probs * P(y | x)``: what a perfectly fitted location prior would reach, the
  positive control of a debiasing method;
* ``image_only``: the image model alone (what a model whose location prior says nothing
  is left with).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from encoders.data import GeoDataset
from encoders.data.synthetic_vmf import location_posterior, region_of

__all__ = ["ceiling_table"]


def ceiling_table(dataset: GeoDataset, split: str = "test") -> pd.DataFrame:
    """Top-1 accuracy of the reference predictors inside, outside and over all the caps.

    Parameters
    ----------
    dataset : GeoDataset
        A synthetic-vmf-biased or synthetic-vmf-sparse dataset.
    split : {'test', 'val', 'train'}, default='test'
        The split judged.

    Returns
    -------
    pandas.DataFrame
        One row per predictor (``location_posterior``, ``image_only``) with ``top1_inside``,
        ``top1_outside``, ``top1`` (fractions), ``n_inside`` and ``n_outside``.
    """
    part = getattr(dataset, split)
    inside = region_of(part.lonlat, dataset.info["regions"]) >= 0
    image = part.image_probs.astype(np.float64)
    preds = {
        "location_posterior": image * location_posterior(dataset, part.lonlat),
        "image_only": image,
    }
    rows = []
    for name, p in preds.items():
        hit = p.argmax(axis=1) == part.label
        rows.append(
            {
                "predictor": name,
                "top1_inside": float(hit[inside].mean()) if inside.any() else np.nan,
                "top1_outside": float(hit[~inside].mean()) if (~inside).any() else np.nan,
                "top1": float(hit.mean()),
                "n_inside": int(inside.sum()),
                "n_outside": int((~inside).sum()),
            }
        )
    return pd.DataFrame(rows)
