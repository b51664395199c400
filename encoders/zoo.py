"""The encoder zoo: train every encoder plus the no-location baseline, score their geo-bias.

:func:`run_zoo` trains each model on one dataset (:func:`encoders.train.train_and_evaluate`),
writes its per-sample test predictions to ``OUT/predictions/<model>.csv`` (TorchSpatial
layout), scores all of them with :func:`pygbs.compare` and writes one row per model to
``OUT/zoo.csv`` and ``OUT/zoo.md``: accuracy metrics (top-1 / top-3 / MRR, or R² / MAE /
RMSE) and the geo-bias columns of the comparison (like TorchSpatial's Tables 1-2). When
:func:`pygbs.plot.write_report` is available it also writes ``OUT/report.html``.

With ``debias_lambdas`` every encoder is trained at each weight of the geo-bias term
(docs/debiasing.md); the runs at weight λ > 0 are named ``<model>@debias<λ>``, and the
trade-off of accuracy against geo-bias (:mod:`encoders.tradeoff`) is written to
``OUT/tradeoff.csv``, ``OUT/tradeoff.png`` and a section of the report.

Layout of ``OUT``::

    zoo.csv, zoo.md, zoo.json       the table, as CSV / Markdown, and the run's settings
    predictions/<model>.csv         per-sample test predictions
    runs/<model>/                   model.pt, metrics.json, checkpoint.ckpt, best.ckpt, logs/
    compare/                        pygbs.compare's own output (per-model summaries)
    report.html                     the pygbs HTML report (if available)
    tradeoff.csv, tradeoff.png      with debias_lambdas: the trade-off table and plot
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from encoders._cluster import ZooJob, train_on_cluster
from encoders.data import GeoDataset, load_dataset
from encoders.registry import canonical_name, list_encoders
from encoders.tradeoff import ZooRun, run_name, write_tradeoff
from encoders.train import (
    DEFAULT_DEBIAS,
    NO_PRIOR,
    Trainer,
    check_resume,
    run_settings,
    train_and_evaluate,
)
from pygbs.cancel import check_cancelled
from pygbs.cli.outputs import files_below, output_dir
from pygbs.errors import InputError
from pygbs.geo.scales import parse_scale
from pygbs.io.atomic import atomic_path, write_text_atomic
from pygbs.io.store import markdown_table

__all__ = [
    "DEMO_SCALES",
    "PRESETS",
    "SCALES",
    "SCORES",
    "Preset",
    "ZooResult",
    "check_scales",
    "output_files",
    "run_zoo",
    "zoo_markdown",
]

log = logging.getLogger(__name__)

#: Geo-bias scales of the zoo table (the default of :attr:`Preset.scales`).
SCALES = ("100km", "1000km", "nn50")
#: Scales of the ``demo`` preset: neighbourhoods of the 100 and 200 nearest test samples,
#: so that every centre is scored.
DEMO_SCALES = ("nn100", "nn200")
#: Geo-bias scores of the zoo table.
SCORES = ("unmarked", "marked", "performance")


@dataclass(frozen=True)
class Preset:
    """Sizes and training settings of a zoo run.

    Attributes
    ----------
    dataset_options : dict
        Per dataset name, default loader options (user options override them).
    trainer : dict
        :class:`encoders.train.Trainer` options.
    hparams : dict
        Encoder hyper-parameters for every encoder.
    per_encoder : dict
        Per encoder name, hyper-parameters / trainer options (``lr``) that override the above.
    scales : tuple of str
        Geo-bias scales of the zoo table (``pygbs`` scale strings such as ``"1000km"`` or
        ``"nn50"``); default :data:`SCALES`.
    """

    dataset_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    trainer: dict[str, Any] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)
    per_encoder: dict[str, dict[str, Any]] = field(default_factory=dict)
    scales: tuple[str, ...] = SCALES


#: TorchSpatial's learning rates on birdsnap_ebird_meta (docs/training.md, "TorchSpatial
#: learning rates"), used by the ``full`` preset; tile_ffn's 6.6e-5 was tuned for its
#: single-cell bug (Q1) and is not used.
_TORCHSPATIAL_LR = {
    "Space2Vec-grid": 0.01, "Space2Vec-theory": 0.01, "xyz": 0.002, "NeRF": 0.01,
    "Sphere2Vec-sphereC": 0.001, "Sphere2Vec-sphereC+": 0.001, "Sphere2Vec-sphereM": 0.001,
    "Sphere2Vec-sphereM+": 0.001, "Sphere2Vec-dfs": 0.01, "rbf": 0.0005, "rff": 0.002,
    "wrap": 0.005, "wrap_ffn": 0.001, "Siren(SH)": 0.005,
}  # fmt: skip

#: Multi-scale frequencies for the two Sphere2Vec encoders whose registry default is
#: TorchSpatial's degenerate max-only list (quirk Q5, docs/encoders/sphere2vec.md): the
#: presets never build the degenerate encoding (and so never warn about it); pass
#: ``--hparam scales=max_only`` for TorchSpatial parity.
_MULTI_SCALE = {"scales": "geometric"}

#: The presets: ``demo`` runs the whole zoo on synthetic-vmf(-biased) in minutes on 2 CPU
#: cores, scored at scales where every centre has enough neighbours; ``full`` uses
#: TorchSpatial's network sizes, learning rates and 30 epochs.
PRESETS: dict[str, Preset] = {
    "demo": Preset(
        dataset_options={
            "synthetic-vmf": {"n_train": 20_000, "n_val": 2_000, "n_test": 3_000},
            "synthetic-vmf-biased": {"n_train": 20_000, "n_val": 2_000, "n_test": 5_000},
            "synthetic-vmf-sparse": {"n_train": 20_000, "n_val": 2_000, "n_test": 5_000},
            "cities": {"n_samples": 25_000},
        },
        trainer={"epochs": 3, "batch_size": 1024, "lr": 0.005, "patience": 2},
        hparams={"hidden_dim": 256, "num_hidden_layer": 1},
        per_encoder={"Sphere2Vec-sphereM+": _MULTI_SCALE, "Sphere2Vec-dfs": _MULTI_SCALE},
        scales=DEMO_SCALES,
    ),
    "full": Preset(
        dataset_options={
            "synthetic-vmf": {"n_train": 200_000, "n_val": 10_000, "n_test": 20_000},
            "synthetic-vmf-biased": {"n_train": 200_000, "n_val": 10_000, "n_test": 20_000},
            "synthetic-vmf-sparse": {"n_train": 200_000, "n_val": 10_000, "n_test": 20_000},
            "cities": {"n_samples": 200_000},
        },
        trainer={"epochs": 30, "batch_size": 1024, "lr": 0.001, "patience": 5},
        hparams={"hidden_dim": 512, "num_hidden_layer": 1},
        per_encoder={
            **{k: {"lr": v} for k, v in _TORCHSPATIAL_LR.items()},
            "Sphere2Vec-sphereM+": {"lr": 0.001, **_MULTI_SCALE},
            "Sphere2Vec-dfs": {"lr": 0.01, "num_hidden_layer": 3, **_MULTI_SCALE},
            "Siren(SH)": {"lr": 0.005, "num_hidden_layer": 3},
        },
    ),
}

#: Trainer option names that may appear in ``Preset.per_encoder`` entries.
_TRAINER_KEYS = {"lr", "epochs", "batch_size", "lr_decay", "patience", "max_per_class"}


@dataclass
class ZooResult:
    """What :func:`run_zoo` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model (as written to ``zoo.csv``).
    out_dir : Path
        The output folder.
    comparison : object or None
        The :class:`pygbs.Comparison` (None when scoring was off or unavailable).
    report : Path or None
        ``report.html`` when written.
    """

    table: pd.DataFrame
    out_dir: Path
    comparison: Any = None
    report: Path | None = None


def check_scales(scales: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The zoo's geo-bias scales, validated with ``pygbs``'s scale parser.

    Parameters
    ----------
    scales : list of str
        ``pygbs`` scale strings (``"nn50"``, ``"100km"``, ...).

    Returns
    -------
    tuple of str
        The scales' canonical names (``"nn"`` -> ``"nn50"``, ``"100 km"`` -> ``"100km"``),
        in the given order.

    Raises
    ------
    InputError
        For no scale, a malformed scale (the parser's one-line message) or one given twice
        (``"100km"`` and ``"100 km"`` are the same scale).
    """
    out = tuple(s.strip() for s in scales)
    if not out:
        raise InputError("give at least one geo-bias scale, e.g. nn50,100km")
    seen: dict[str, str] = {}
    for s in out:
        name = parse_scale(s).name
        if name in seen:
            raise InputError(f"scale {s!r} is given twice (as {seen[name]!r})")
        seen[name] = s
    return tuple(seen)


def _metric_columns(task: str) -> tuple[str, ...]:
    return ("top1", "top3", "mrr") if task == "classification" else ("r2", "mae", "rmse")


def _resolve_encoders(names: list[str] | None) -> list[str]:
    if not names:
        return list_encoders()
    out = []
    for n in names:
        if n == NO_PRIOR:
            continue
        try:
            out.append(canonical_name(n))
        except ValueError as err:
            raise InputError(str(err)) from err
    return list(dict.fromkeys(out))


def _reusable(run_dir: Path, pred_path: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The saved ``metrics.json`` of a finished run trained with ``settings``, else None.

    Raises :class:`InputError` (via :func:`encoders.train.check_resume`) when the run was
    trained with other settings; a finished run asked for more epochs is not reused (it
    trains on from its checkpoint).
    """
    doc = check_resume(run_dir, settings)
    if doc is None or doc.get("status") != "finished" or not pred_path.is_file():
        return None
    if (doc.get("trainer") or {}).get("epochs") != settings["trainer"].get("epochs"):
        return None
    return doc


def _score(
    files: list[Path], names: list[str], out: Path, scales: tuple[str, ...]
) -> tuple[Any, pd.DataFrame | None]:
    from pygbs import compare

    comp = compare([str(f) for f in files], names=names, scales=scales, scores=SCORES)
    # inside the zoo's own (claimed) output folder: replaced as a whole, like `pygbs compare`
    with output_dir(out / "compare", "pygbs compare", force=True) as stage:
        comp.write(stage)
    return comp, comp.table


def _report(out: Path, comparison: Any, sections: list | None = None, caps: Any = None) -> Path:
    """Write ``report.html``, outlining ``caps`` on its maps.

    ``caps`` are the planted regions of synthetic-vmf-biased (``{name: [lon, lat,
    radius_km]}``), so the reader sees whether the scores find them.
    """
    from pygbs.plot import write_report

    highlight = None
    if isinstance(caps, dict) and caps:
        from pygbs.partitions import cap_polygon

        highlight = ([cap_polygon(*map(float, v)) for v in caps.values()], list(caps))
    path = out / "report.html"
    write_report(comparison, path, extra_sections=sections or (), highlight=highlight)
    return path


def _runs(
    names: list[str],
    debias_lambdas: list[float] | None,
    methods: list[str] | None = None,
    seeds: int = 1,
    seed: int = 0,
) -> list[ZooRun]:
    """The baseline, then every encoder and seed untreated and at each method and weight."""
    weights = sorted({float(w) for w in debias_lambdas or ()} - {0.0})
    methods = list(methods or ["geobias-loss"])
    out = [ZooRun(NO_PRIOR, NO_PRIOR, seed=seed)]
    for k in range(int(seeds)):
        for n in names:
            out.append(ZooRun(run_name(n, 0.0, replicate=k), n, 0.0, seed=seed + k,
                              replicate=k))  # fmt: skip
            out.extend(
                ZooRun(run_name(n, w, m, k), n, w, m, seed=seed + k, replicate=k)
                for m in methods
                for w in weights
            )
    return out


def _bias_column(table: pd.DataFrame, trainer: Trainer) -> str | None:
    """The marked-SSI column of the trade-off plot and Pareto front.

    At the geo-bias term's scale when it was scored, else at the first scale; a scale at
    which the runs cannot be told apart (no centre scored, or the same value for every
    run, e.g. when a single centre could be scored) is passed over when another is not.
    """
    cols = [c for c in table.columns if isinstance(c, str) and c.startswith("marked_ssi@")]
    want = f"marked_ssi@{parse_scale(trainer.debias_scale).name}"
    if want in cols:
        cols.remove(want)
        cols.insert(0, want)
    finite = {c: table[c].to_numpy(np.float64) for c in cols}
    finite = {c: v[np.isfinite(v)] for c, v in finite.items()}
    varied = [c for c in cols if len(np.unique(finite[c])) > 1]
    scored = [c for c in cols if len(finite[c])]
    return (varied or scored or [None])[0]


#: Headings of the zoo table's metric columns in ``zoo.md``.
_ZOO_HEADERS = {"top1": "top-1 (%)", "top3": "top-3 (%)", "mrr": "MRR", "r2": "R²",
                "mae": "MAE", "rmse": "RMSE"}  # fmt: skip


def _zoo_cell(c: str, v: Any) -> str:
    """One cell of ``zoo.md``: accuracies in %, geo-bias with 3 decimals, ..."""
    if c == "model" or isinstance(v, str):
        return str(v)
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if c in ("top1", "top3"):
        return f"{100 * v:.2f}"
    if c in ("mrr", "r2"):
        return f"{v:.4f}"
    if c in ("mae", "rmse"):
        return f"{v:.4g}"
    if c in ("n_test", "epochs", "best_epoch"):
        return f"{int(v)}"
    if c == "train_s":
        return f"{v:.1f}"
    return f"{v:.3f}"


def zoo_markdown(table: pd.DataFrame, task: str, title: str = "") -> str:
    """Markdown rendering of a zoo table (accuracies in %, geo-bias with 3 decimals)."""
    align = {str(c): "---:" for c in table.columns if c != "model"}
    text = markdown_table(table, header=_ZOO_HEADERS, align=align, cell=_zoo_cell)
    return f"# {title}\n\n{text}" if title else text


def run_zoo(
    dataset: str | GeoDataset,
    out_dir: str | Path,
    *,
    encoders: list[str] | None = None,
    preset: str = "demo",
    dataset_options: dict[str, Any] | None = None,
    trainer_options: dict[str, Any] | None = None,
    hparams: dict[str, Any] | None = None,
    device: str = "auto",
    seed: int = 0,
    score: bool = True,
    report: bool = True,
    resume: bool = False,
    progress: bool | str = "auto",
    scheduler: Any = None,
    debias_lambdas: list[float] | None = None,
    scales: list[str] | tuple[str, ...] | None = None,
    debias_methods: list[str] | None = None,
    seeds: int = 1,
) -> ZooResult:
    """Train and evaluate the zoo on one dataset, then score every model's geo-bias.

    Parameters
    ----------
    dataset : str or GeoDataset
        Dataset name (see :func:`encoders.data.list_datasets`) or a loaded dataset.
    out_dir : path-like
        Output folder (layout in the module docstring).
    encoders : list of str, optional
        Encoders to train (default: all registered); the no-location baseline
        ``no_prior`` is always added.
    preset : {'demo', 'full'}, default='demo'
        Sizes and training settings (:data:`PRESETS`).
    dataset_options : dict, optional
        Loader options overriding the preset's.
    trainer_options : dict, optional
        :class:`encoders.train.Trainer` options overriding the preset's (``epochs``, ``lr``,
        ``batch_size``, ...). An ``lr`` given here also overrides per-encoder rates.
    hparams : dict, optional
        Encoder hyper-parameters for every encoder, overriding the preset's.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Training device.
    seed : int, default=0
        Seed of the dataset (unless in ``dataset_options``), the models and the training.
    score : bool, default=True
        Score the predictions with :func:`pygbs.compare`.
    report : bool, default=True
        Write ``report.html`` with :func:`pygbs.plot.write_report` when it exists.
    resume : bool, default=False
        Reuse finished runs in ``out_dir`` and continue interrupted ones from their checkpoint.
        Each run's saved settings (dataset, hyper-parameters, trainer options) must equal
        the requested ones; more epochs than saved continue the run from its checkpoint.
    progress : bool or 'auto', default='auto'
        Progress bars (only on a terminal with 'auto').
    scheduler : str or distributed.Client, optional
        Train the models as independent tasks on a Dask cluster (``'tcp://HOST:PORT'`` or
        ``'local:N'``; needs ``pip install 'geobias[dask]'``), one model per task; the
        files are collected here and scored as in a local run (docs/scale.md).
    debias_lambdas : list of float, optional
        Train every encoder at each of these weights of the geo-bias term (0 is always
        added; the kind, scale and centres are the ``debias*`` entries of
        ``trainer_options``, the kind ``'marked-ssi'`` by default) and write the trade-off
        table ``tradeoff.csv``, its plot ``tradeoff.png`` and a report section
        (docs/debiasing.md). ``no_prior`` is trained at weight 0 only.
    scales : list of str, optional
        Geo-bias scales of the scoring (``pygbs`` scale strings such as ``"nn50"`` or
        ``"100km"``), instead of the preset's; the trade-off table's paired differences are
        computed at these scales.
    debias_methods : list of str, optional
        With ``debias_lambdas``: train every encoder with each of these methods
        (:data:`encoders.debias.DEBIAS_METHODS`) at each weight; default the geo-bias
        loss alone. Runs are named as in :func:`encoders.tradeoff.run_name`.
    seeds : int, default=1
        Train every encoder setting with the training seeds ``seed``, ``seed + 1``, ...
        (the data stay those of ``seed``); paired differences compare runs of the same
        seed.

    Returns
    -------
    ZooResult

    Raises
    ------
    InputError
        With ``resume``, when a run in ``out_dir`` was trained with other settings (one
        line naming the run folder and the setting); for a malformed or repeated scale.
    """
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    pre = PRESETS[preset]
    if scales is not None:
        pre = replace(pre, scales=check_scales(scales))
    out = Path(out_dir)
    t_start = time.perf_counter()
    if isinstance(dataset, GeoDataset):
        ds = dataset
    else:
        opts = {"seed": seed, **pre.dataset_options.get(dataset, {}), **(dataset_options or {})}
        ds = load_dataset(dataset, **opts)
    names = _resolve_encoders(encoders)
    if int(seeds) < 1:
        raise InputError(f"seeds must be >= 1; got {seeds!r}")
    if debias_methods and not debias_lambdas:
        raise InputError("debias_methods needs debias_lambdas (the weights of the methods)")
    runs = _runs(names, debias_lambdas, debias_methods, seeds, seed)
    models = [r.name for r in runs]
    base_trainer = {**pre.trainer, **(trainer_options or {})}
    if debias_lambdas:
        base_trainer.setdefault("debias", DEFAULT_DEBIAS)
    user_trainer = set(trainer_options or {})
    pred_dir = out / "predictions"
    rows, files, settings = [], [], {}
    jobs: list[ZooJob] = []
    docs: dict[str, dict[str, Any]] = {}
    for run in runs:
        name = run.name
        run_dir = out / "runs" / name
        pred_path = pred_dir / f"{name}.csv"
        per = dict(pre.per_encoder.get(run.model, {}))
        tr_over = {k: per.pop(k) for k in list(per) if k in _TRAINER_KEYS and k not in user_trainer}
        for k in list(per):
            if k in _TRAINER_KEYS:
                per.pop(k)
        hp = {**pre.hparams, **per, **(hparams or {})}
        trainer = replace(
            Trainer(**{**base_trainer, **tr_over}),
            device=device, seed=run.seed, resume=resume, progress=progress,
        )  # fmt: skip
        if debias_lambdas:
            trainer = replace(trainer, debias_lambda=run.debias_lambda, debias_method=run.method)
        check_cancelled()
        settings[name] = {"trainer": None, "hparams": hp if name != NO_PRIOR else None}
        hp_run = None if name == NO_PRIOR else hp
        wanted = run_settings(run.model, ds, trainer, hp_run)
        doc = _reusable(run_dir, pred_path, wanted) if resume else None
        if doc is not None:
            log.info("reusing finished run %s", run_dir)
            docs[name] = doc
            continue
        encoder = None if run.model == NO_PRIOR else run.model
        job = ZooJob(name, encoder, run_dir, pred_path, trainer, hp_run)
        if scheduler is None:
            log.info("training %s on %s", name, ds.name)
            docs[name] = train_and_evaluate(
                job.encoder, ds, run_dir, trainer=trainer, hparams=job.hparams,
                predictions_path=pred_path.resolve(),
            )  # fmt: skip
        else:
            jobs.append(job)
    if any(d.get("status") == "worker" for d in docs.values()):
        # a further process of multi-device runs: the first one scores and writes
        return ZooResult(table=pd.DataFrame(), out_dir=out, comparison=None, report=None)
    if jobs:
        log.info("training %d models on the Dask cluster %s", len(jobs), scheduler)
        for job, doc in zip(jobs, train_on_cluster(scheduler, ds, jobs), strict=True):
            docs[job.name] = doc
    for name in models:
        doc = docs[name]
        settings[name]["trainer"] = doc.get("trainer")
        row = {"model": name, **{m: doc["test"][m] for m in _metric_columns(ds.task)}}
        if debias_lambdas:
            tr = doc.get("trainer") or {}
            row = {"model": name, "debias_lambda": tr.get("debias_lambda"),
                   **{k: v for k, v in row.items() if k != "model"}}  # fmt: skip
            if debias_methods or int(seeds) > 1:
                row["method"] = tr.get("debias_method", "geobias-loss") if tr.get(
                    "debias_lambda") else "none"  # fmt: skip
                row["seed"] = tr.get("seed")
        row.update(
            {
                "n_test": doc["test"]["n"],
                "best_epoch": doc.get("best_epoch"),
                "train_s": doc.get("train_time_s"),
            }
        )
        rows.append(row)
        files.append(pred_dir / f"{name}.csv")
    table = pd.DataFrame(rows)
    comparison = None
    if score:
        comparison, comp_table = _score(files, models, out, tuple(pre.scales))
        if comp_table is not None:
            # the headline means; their intervals and the paired tests are in OUT/compare/
            # the headline means and the excess over the accuracy-matched null
            # (unmarked SSI depends on the locations alone: its excess is always 0)
            drop = [c for c in comp_table.columns if c in ("accuracy", "n") or "_ci_" in c
                    or c.endswith(("_null", "_p_excess"))
                    or (c.startswith("unmarked_ssi@") and c.endswith("_excess"))]  # fmt: skip
            geo = comp_table.drop(columns=drop)
            table = table.merge(geo, on="model", how="left", sort=False)
    with atomic_path(out / "zoo.csv") as tmp:
        table.to_csv(tmp, index=False)
    title = f"Encoder zoo on {ds.name} ({preset} preset)"
    write_text_atomic(out / "zoo.md", zoo_markdown(table, ds.task, title))
    meta = {
        "dataset": ds.summary(),
        "preset": preset,
        "seed": seed,
        "device": device,
        "scales": list(pre.scales),
        "scores": list(SCORES),
        "scored": comparison is not None,
        **(
            {
                "debias_lambdas": sorted({r.debias_lambda for r in runs}),
                "debias_methods": list(debias_methods or ["geobias-loss"]),
                "seeds": int(seeds),
                "debias": {k: v for k, v in base_trainer.items() if k.startswith("debias")},
            }
            if debias_lambdas
            else {}
        ),  # fmt: skip
        "models": settings,
        "wall_time_s": round(time.perf_counter() - t_start, 2),
    }
    write_text_atomic(out / "zoo.json", json.dumps(meta, indent=2, default=str) + "\n")
    sections = []
    if debias_lambdas and comparison is not None:
        bias = _bias_column(table, Trainer(**base_trainer))
        accuracy = _metric_columns(ds.task)[0]  # top1, or r2 for regression
        sections.append(write_tradeoff(out, runs, table, comparison, ds, bias, accuracy))
        meta["tradeoff"] = {"accuracy": _metric_columns(ds.task)[0], "geo_bias": bias}
        write_text_atomic(out / "zoo.json", json.dumps(meta, indent=2, default=str) + "\n")
    # the report last: the tables are already written if it fails
    sections = [x for x in sections if x is not None]
    caps = (getattr(ds, "info", None) or {}).get("regions")
    report_path = _report(out, comparison, sections, caps) if (score and report) else None
    return ZooResult(table=table, out_dir=out, comparison=comparison, report=report_path)


def output_files(out_dir: str | Path, models: Any) -> set[str]:
    """The files of a zoo run in ``out_dir`` (relative paths), in the layout above.

    ``models`` are the table's model names; the run folders and predictions of other
    models (an earlier run's) are not included.
    """
    out = Path(out_dir)
    names = ("zoo.csv", "zoo.md", "zoo.json", "report.html", "tradeoff.csv", "tradeoff.png")
    files = {n for n in names if (out / n).is_file()}
    files |= files_below(out / "compare", out)
    for name in models:
        files |= files_below(out / "runs" / str(name), out)
        if (out / "predictions" / f"{name}.csv").is_file():
            files.add(f"predictions/{name}.csv")
    return files
