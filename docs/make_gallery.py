"""Build the map gallery of ``docs/gallery.md`` from the example files that ship with pygbs.

Usage (from the repository root)::

    .venv/bin/python docs/make_gallery.py --out out/gallery
    # or: make docs-gallery (make docs runs it when the gallery is missing or older
    # than this script)

Every image is generated here and written under ``--out`` (an ignored folder); nothing
binary is committed. Each gallery entry scores one of the shipped TorchSpatial Birdsnap
files (:mod:`pygbs.datasets`) with :func:`pygbs.score` and writes its maps with
:func:`pygbs.plot.write_maps`; ``birdsnap_report.html`` compares the seven shipped models
with :func:`pygbs.plot.write_report`. ``--shared DIR`` adds the entries drawn from the
full published prediction files under ``DIR/data/predictions`` (YFCC, MOSAIKS and the
EuroSAT report of five foundation models). A ``gallery.json`` next to the images records
the headline numbers and the parameters.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pygbs.api import compare, score
from pygbs.datasets import EXAMPLE_MODELS, example_path
from pygbs.io.predictions import read_predictions
from pygbs.plot import write_maps, write_report

REPO = Path(__file__).resolve().parents[1]

logger = logging.getLogger("make_gallery")


@dataclass(frozen=True)
class Entry:
    """One gallery entry: a prediction file, how to score it and how to map it."""

    name: str
    path: str
    scales: tuple[str, ...]
    world: bool = False
    value: str | None = None
    absolute: bool = False  # score |value| (signed relative errors)
    hotspot: dict[str, Any] = field(default_factory=dict)


#: Entries drawn from the shipped example files (``path`` is the model of the file).
SHIPPED = (
    Entry("birdsnap-nerf", "NeRF", scales=("100km", "nn50")),
    Entry("birdsnap-sphere2vec-sphereM", "Sphere2Vec-sphereM", scales=("100km", "nn50")),
)
#: Entries drawn from the full published files with ``--shared`` (paths under
#: ``data/predictions``).
ENTRIES = (
    Entry(
        "eurosat-croma-linear",
        "foundation_models/croma-linear_eurosat.csv.gz",
        scales=("100km", "nn50"),
    ),
    Entry(
        "yfcc-nerf",
        "torchspatial/eval_yfcc__test_NeRF.csv.gz",
        scales=("1000km", "nn50"),
    ),
    Entry(
        "mosaiks-population-rbf",
        "torchspatial/eval_mosaiks_population__test_rbf.csv.gz",
        scales=("1000km", "nn50"),
        world=True,
        value="relative_error",
        absolute=True,
        hotspot={"graph": "distance", "distance_km": 300.0},
    ),
)
EUROSAT_MODELS = ("croma-finetune", "croma-linear", "satmae-finetune", "satmae-linear", "gpt4o")


def _source(entry: Entry, shared: Path | None) -> Any:
    if shared is None:
        return example_path(entry.path)
    path = shared / "data" / "predictions" / entry.path
    if not entry.absolute:
        return path
    pred = read_predictions(path, value=entry.value)
    table = pred.table.copy()
    table["abs_relative_error"] = np.abs(pred.value)
    return table


def _entry(
    entry: Entry, shared: Path | None, out: Path, permutations: int, formats: tuple[str, ...]
) -> dict[str, Any]:
    """Score one entry and write its maps; return its record."""
    start = time.perf_counter()
    value = "abs_relative_error" if entry.absolute else entry.value
    # the gallery keeps the published coding of mosaiks_population's relative error,
    # although 7 % of its labels are near zero (docs/cli.md, "Regression files")
    result = score(
        _source(entry, shared), value=value, scales=entry.scales, near_zero_labels="allow"
    )
    folder = out / entry.name
    result.write(folder)
    options = {"permutations": permutations, **entry.hotspot}
    paths = write_maps(result, folder, formats=formats, world=entry.world, hotspot_options=options)
    headline = {
        f"{col}@{scale}": result.headline(col, scale)
        for col in result.score_columns
        for scale in result.scales
    }
    logger.info("%s: %d images in %.1f s", entry.name, len(paths), time.perf_counter() - start)
    return {
        "file": example_path(entry.path).name if shared is None else entry.path,
        "value": result.summary["input"]["value_name"],
        "n_valid": result.summary["input"]["n_valid"],
        "coding": result.summary["input"]["coding"],
        "headline": headline,
        "hotspots": options,
        "images": [str(p.relative_to(out)) for p in paths],
        "seconds": round(time.perf_counter() - start, 1),
    }


def build(out: Path, shared: Path | None, permutations: int, formats: tuple[str, ...]) -> dict:
    """Score every entry, write its maps and the reports; return the record."""
    record: dict[str, Any] = {"permutations": permutations, "entries": {}}
    for entry in SHIPPED:
        record["entries"][entry.name] = _entry(entry, None, out, permutations, formats)
    start = time.perf_counter()
    cmp = compare(
        [example_path(m) for m in EXAMPLE_MODELS],
        names=list(EXAMPLE_MODELS),
        coords_from=example_path("NeRF"),
        scales=("100km", "nn50"),
    )
    write_report(
        cmp, out / "birdsnap_report.html", title="Birdsnap: geo-bias of seven TorchSpatial models"
    )
    record["birdsnap_report"] = {
        "table": cmp.table.to_dict(orient="records"),
        "seconds": round(time.perf_counter() - start, 1),
    }
    if shared is None:
        return record
    record["shared"] = str(shared)
    for entry in ENTRIES:
        record["entries"][entry.name] = _entry(entry, shared, out, permutations, formats)
    start = time.perf_counter()
    files = [
        shared / "data" / "predictions" / "foundation_models" / f"{m}_eurosat.csv.gz"
        for m in EUROSAT_MODELS
    ]
    cmp = compare(files, names=list(EUROSAT_MODELS), scales=("100km", "nn50"))
    write_report(cmp, out / "eurosat_report.html", title="EuroSAT: geo-bias of five models")
    record["eurosat_report"] = {
        "table": cmp.table.to_dict(orient="records"),
        "seconds": round(time.perf_counter() - start, 1),
    }
    return record


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "out" / "gallery",
        help="output folder (default: out/gallery)",
    )
    parser.add_argument(
        "--shared",
        type=Path,
        default=None,
        help="also draw the entries of the full published files under DIR/data/predictions",
    )
    parser.add_argument(
        "--permutations",
        type=int,
        default=999,
        help="permutations of the hotspot maps (default: 999)",
    )
    parser.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=["png", "svg", "pdf"],
        help="image format; repeat for several (default: png)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.shared is not None and not (args.shared / "data" / "predictions").is_dir():
        parser.error(f"no prediction files under {args.shared / 'data' / 'predictions'}")
    args.out.mkdir(parents=True, exist_ok=True)
    record = build(args.out, args.shared, args.permutations, tuple(args.formats or ("png",)))
    (args.out / "gallery.json").write_text(json.dumps(record, indent=2, default=float) + "\n")
    logger.info("gallery written to %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
