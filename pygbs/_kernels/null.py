"""Performance SSI and Moran's I of many labellings of the same neighbourhoods.

Each null draw is a permutation of the coded values over all samples (docs/method.md,
D7). The k-NN graph among a neighbourhood's samples and its constants are built once per
centre and every draw is scored on them. (Marked SSI's null is scored inside
:func:`pygbs._kernels.ssi.ssi_batch`, on the graph of the observed score.)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from pygbs._kernels.performance import constant_labels
from pygbs._kernels.relabel import deviation_sums
from pygbs._kernels.ssi import gather_samples, knn_graph
from pygbs._kernels.stats import (
    analytic_moments_sums,
    centred_statistic,
    graph_sums,
    log_norm_sf,
)


@njit(cache=True, parallel=True, nogil=True)
def performance_null_batch(lat, lon, coslat, xyz, draws, centres, indptr, indices, active, k):
    """Performance SSI and Moran's I of every active centre under each labelling.

    Returns ``(ssi, moran)``, each (c, R): analytic performance SSI (0 for a constant
    labelling) and Moran's I (NaN for a constant labelling) among the samples.
    """
    nc = centres.shape[0]
    n_draws = draws.shape[0]
    ssi = np.full((nc, n_draws), np.nan)
    moran = np.full((nc, n_draws), np.nan)
    for c in prange(nc):
        if not active[c]:
            continue
        ids = indices[indptr[c] : indptr[c + 1]]
        n = ids.shape[0]
        plat, plon, pcos, pxyz = gather_samples(lat, lon, coslat, xyz, ids, n)
        nbr = knn_graph(plat, plon, pcos, pxyz, lat[centres[c]], lon[centres[c]], k, False)
        s0, s1, s2 = graph_sums(nbr)
        z = np.empty(n)
        for r in range(n_draws):
            for t in range(n):
                z[t] = draws[r, ids[t]]
            if constant_labels(z):
                ssi[c, r] = 0.0
                continue
            s = centred_statistic(z, nbr)
            m2, m4 = deviation_sums(z, 0)
            mu, sigma = analytic_moments_sums(n, m2, m4, s0, s1, s2)
            moran[c, r] = s * n / (s0 * m2)
            if sigma > 0.0:
                zscore = abs(s - mu) / sigma
                ssi[c, r] = -(math.log(2.0) + log_norm_sf(zscore))
    return ssi, moran
