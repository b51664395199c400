"""Training the zoo's models as independent tasks on a Dask cluster (``encoders zoo --scheduler``).

One task per model. The dataset is scattered to the workers once; each task trains its
model in a temporary folder on its worker (on a GPU when the trainer's device is
``'auto'`` or ``'cuda'`` and the worker's machine has GPUs: the workers of one machine take
its GPUs in turn, one each while there are enough, see :func:`gpu_slots`) and sends back
the files it wrote (``metrics.json``, ``model.pt``, the predictions), which are written
under the zoo's output folder here, as a local run would have written them. Tasks run on
CPU with the calling process's number of torch threads, so a CPU run gives the same
models, predictions and table as the local run for the same seeds. See docs/scale.md.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pygbs.io.atomic import atomic_path

__all__ = ["ZooJob", "gpu_slots", "train_on_cluster"]

_PREDICTIONS = "predictions.csv"


@dataclass
class ZooJob:
    """One model to train: where its outputs go and how to train it."""

    name: str
    encoder: str | None
    run_dir: Path
    pred_path: Path
    trainer: Any
    hparams: dict[str, Any] | None


def gpu_slots(addresses: list[str]) -> dict[str, int]:
    """The GPU number of each worker: the workers of one host numbered 0, 1, ... in order.

    Parameters
    ----------
    addresses : list of str
        Worker addresses (``'tcp://HOST:PORT'``).

    Returns
    -------
    dict of str to int
        Address -> slot; a worker uses GPU ``slot % (GPUs of its machine)``.
    """
    by_host: dict[str, list[str]] = {}
    for addr in addresses:
        host = addr.split("://", 1)[-1].rsplit(":", 1)[0]
        by_host.setdefault(host, []).append(addr)
    return {a: i for addrs in by_host.values() for i, a in enumerate(sorted(addrs))}


def _worker_device(trainer: Any, slots: dict[str, int]) -> Any:
    """``trainer`` with this worker's GPU as its device (unchanged without GPUs or on 'cpu')."""
    import torch

    if str(trainer.device) not in ("auto", "cuda") or not torch.cuda.is_available():
        return trainer
    from distributed import get_worker

    slot = slots.get(get_worker().address, 0) % torch.cuda.device_count()
    return replace(trainer, device=f"cuda:{slot}")


def _train_task(
    encoder: str | None,
    dataset: Any,
    trainer: Any,
    hparams: dict[str, Any] | None,
    torch_threads: int,
    slots: dict[str, int] | None = None,
) -> tuple[dict[str, Any], dict[str, bytes], bytes]:
    """On a worker: train one model; (metrics.json's content, run files, predictions)."""
    import torch

    from encoders.train import train_and_evaluate

    torch.set_num_threads(torch_threads)
    trainer = _worker_device(trainer, slots or {})
    with tempfile.TemporaryDirectory(prefix="encoders_zoo_") as tmp:
        run_dir = Path(tmp) / "run"
        pred = Path(tmp) / _PREDICTIONS
        doc = train_and_evaluate(
            encoder,
            dataset,
            run_dir,
            trainer=replace(trainer, progress=False),
            hparams=hparams,
            predictions_path=pred,
        )
        files = {p.name: p.read_bytes() for p in sorted(run_dir.iterdir()) if p.is_file()}
        return doc, files, pred.read_bytes()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def train_on_cluster(scheduler: Any, dataset: Any, jobs: list[ZooJob]) -> list[dict[str, Any]]:
    """Train ``jobs`` as tasks on the cluster; write their files; their metrics, in order.

    Parameters
    ----------
    scheduler : str or distributed.Client
        ``'tcp://HOST:PORT'``, ``'local:N'`` or a connected client.
    dataset : GeoDataset
        The data (scattered once).
    jobs : list of ZooJob
        The models to train.

    Returns
    -------
    list of dict
        The ``metrics.json`` content of each job.

    Raises
    ------
    pygbs.engine.dask.ClusterError
        When the cluster fails; files of the models finished before stay written.
    """
    import torch

    from pygbs.engine.dask import (
        ClusterError,
        connect,
        disconnect,
        distributed_module,
        result_or_interrupt,
    )

    distributed = distributed_module()
    client, cluster, _ = connect(scheduler)
    own = not isinstance(scheduler, distributed.Client)
    interrupted = False
    try:
        data = client.scatter(dataset, broadcast=True, hash=False)
        threads = torch.get_num_threads()
        slots = gpu_slots(list(client.scheduler_info().get("workers", {})))
        futures = [
            client.submit(
                _train_task,
                job.encoder,
                data,
                job.trainer,
                job.hparams,
                threads,
                slots,
                key=f"encoders-zoo-{job.name}-{id(jobs):x}",
                pure=False,
            )
            for job in jobs
        ]
        docs = []
        for job, fut in zip(jobs, futures):
            try:
                doc, files, pred = result_or_interrupt(fut)
            except (distributed.KilledWorker, distributed.CancelledError, OSError) as err:
                client.cancel(futures)
                raise ClusterError(
                    f"training {job.name} on the Dask cluster failed ({type(err).__name__}: {err})"
                ) from err
            # as written by a local run: the run folder here, not the worker's temporary one
            doc["trainer"] = {
                **doc["trainer"],
                "out_dir": str(job.run_dir),
                "progress": job.trainer.progress,
            }
            files["metrics.json"] = (json.dumps(doc, indent=2, default=str) + "\n").encode()
            for fname, blob in files.items():
                _write(job.run_dir / fname, blob)
            _write(job.pred_path, pred)
            docs.append(doc)
        return docs
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        disconnect(client, cluster, own, interrupted)
