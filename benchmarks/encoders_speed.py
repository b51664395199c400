"""Forward+backward throughput of every encoder against TorchSpatial-style baselines.

For each encoder (TorchSpatial trainer defaults: 1 hidden layer x 512, leakyrelu, dropout 0.5,
LN, skip, embedding 256; ``frequency_num=32``, ``num_rbf_anchor_pts=200``; train mode) we time
one forward + backward pass over a batch of random locations:

* ``ours``: ``encoders`` (vectorised torch PE on the input's device, float64 angles, the
  networks of ``encoders.nets`` with their ``FastDropout``);
* ``loop``: per-sample reference style: a Python loop over samples computing
  the PE in NumPy (float64), then ``torch.FloatTensor`` (and a copy to the device), then the
  same network;
* ``numpy``: the PE in NumPy vectorised over the batch (what TorchSpatial's PE classes do),
  then the same network;
* ``reference``: the same NumPy PE, then TorchSpatial's layers at the same widths built from
  plain ``torch.nn`` modules (``nn.Linear``, the activation, ``nn.Dropout``, ``nn.LayerNorm``
  in the order of its ``SingleFeedForwardNN`` / ``MultiLayerFeedForwardNN``; Mac Aodha's
  residual network with ``nn.Dropout`` for ``wrap``): what a TorchSpatial training step
  costs.

Ratios (above 1: ours is faster): ``x loop`` = loop / ours, ``x numpy`` = numpy / ours (the
PE alone differs), ``x reference`` = reference / ours (PE and layers differ; its geometric
mean and minimum over the encoders are printed under the table), ``x PE`` = PE loop / PE ours.
The table also gives the PE alone (``PE ours``: ``position_encoding`` without autograd;
``PE loop``: the per-sample NumPy loop plus ``torch.FloatTensor``), where the two differ most;
at TorchSpatial sizes the network (two dropouts on 4096 x 512) dominates fwd+bwd on a CPU.
Median (or ``--stat min``) of ``--repeats`` timings after ``--warmup`` runs, measured in the
same process. Example::

    python benchmarks/encoders_speed.py --batch 4096 --repeats 3 --device cpu
    python benchmarks/encoders_speed.py --encoders xyz,Sphere2Vec-sphereC --json out/speed.json
    python benchmarks/encoders_speed.py --zoo      # also time `encoders zoo ... --preset demo`
    python benchmarks/encoders_speed.py --trainer  # training: Lightning trainer vs the previous

``--trainer`` times whole training runs instead (``--trainer-epochs`` epochs on
``--trainer-rows`` rows of synthetic-vmf, batch 1024, validation after every epoch, best
epoch kept) of ``encoders.Trainer`` (Lightning, the networks as they are) and of the
hand-written loop it replaced (``benchmarks/previous_trainer.py``) on the same networks with
``nn.Dropout`` in place of ``FastDropout`` (the networks before the faster CPU dropout), so
that the ratio measures today's training against the earlier one. The two alternate in each
repeat; printed are the ratio ``previous time / Lightning time`` per encoder (above 1:
today's training is faster), the same ratio of the process's CPU time (less sensitive to
other jobs on a shared machine) and their geometric means.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

import encoders
from encoders.nets import FastDropout, FCNet
from pygbs.io.atomic import write_text_atomic

log = logging.getLogger("encoders_speed")

BENCH_HPARAMS = {"frequency_num": 32, "num_rbf_anchor_pts": 200}
#: Minimum number of repeats of the (cheap) vectorised PE-only timing.
PE_REPEATS = 20


# ------------------------------------------------------------------ NumPy PEs (the baseline)
def _np_pe(enc: encoders.LocationEncoder) -> Callable[[np.ndarray], np.ndarray]:
    """A NumPy float64 PE for ``enc`` that works on ``(..., 2)`` arrays (one sample: ``(2,)``)."""
    name, pe = enc.name, enc.pe
    freqs = np.array(getattr(getattr(pe, "freqs", None), "values", []), dtype=np.float64)

    def grid(x):
        ang = x[..., :, None] * freqs
        return np.stack([np.sin(ang), np.cos(ang)], -1).reshape(*x.shape[:-1], -1)

    def theory(x):
        lon, lat = x[..., 0], x[..., 1]
        h = math.sqrt(3) / 2
        a = np.stack([lon, -lon / 2 + h * lat, -lon / 2 - h * lat], -1)
        ang = freqs[:, None] * a[..., None, :]
        return np.stack([np.sin(ang), np.cos(ang)], -1).reshape(*x.shape[:-1], -1)

    def xyz(x):
        lam, phi = np.radians(x[..., 0]), np.radians(x[..., 1])
        return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], -1)

    def nerf(x):
        ang = xyz(x)[..., :, None] * freqs
        flat = (*x.shape[:-1], -1)
        return np.concatenate([np.sin(ang).reshape(flat), np.cos(ang).reshape(flat)], -1)

    def sphere(x):
        lam, phi = np.radians(x[..., :1]), np.radians(x[..., 1:])
        Lm, Ph = lam * freqs, phi * freqs
        sP, cP, sL, cL = np.sin(Ph), np.cos(Ph), np.sin(Lm), np.cos(Lm)
        one = np.ones_like(Lm)
        cp, cl, sl = np.cos(phi) * one, np.cos(lam) * one, np.sin(lam) * one
        if name.endswith("dfs"):
            A, B = np.concatenate([sL, cL], -1), np.concatenate([sP, cP], -1)
            outer = (A[..., :, None] * B[..., None, :]).reshape(*x.shape[:-1], -1)
            single = np.stack([sP, cP, sL, cL], -1).reshape(*x.shape[:-1], -1)
            return np.concatenate([outer, single], -1)
        terms = {
            "sphereC": [sP, cP * cL, cP * sL],
            "sphereC+": [sP, cP, sL, cL, cP * cL, cP * sL],
            "sphereM": [sP, cP * cl, cp * cL, cP * sl, cp * sL],
            "sphereM+": [sP, cP, sL, cL, cP * cl, cp * cL, cP * sl, cp * sL],
        }[name.split("-")[1]]
        return np.stack(terms, -1).reshape(*x.shape[:-1], -1)

    def wrap(x):
        a = x * np.array([math.pi / 180, math.pi / 90])
        return np.concatenate([np.sin(a), np.cos(a)], -1)

    if name == "rbf":
        anchors = pe.anchors.cpu().numpy()
        k = -0.5 / pe.kernel_size**2

        def rbf(x):
            return np.exp(((x[..., None, :] - anchors) ** 2).sum(-1) * k)

        return rbf
    if name == "rff":
        W, b = pe.dirvec.cpu().numpy(), pe.shift.cpu().numpy()
        x0, x1, y0, y1 = pe.map_range
        lo, span = np.array([x0, y0]), np.array([x1 - x0, y1 - y0])

        def rff(x):
            return math.sqrt(2 / pe.pe_dim) * np.cos((2 * (x - lo) / span - 1) @ W + b)

        return rff
    if name == "tile_ffn":
        x0, _, y0, _ = pe.map_range

        def tile(x):  # the cell index; the lookup happens in torch
            col = np.clip(np.floor((x[..., 0] - x0) / pe.cell_size), 0, pe.n_col - 1)
            row = np.clip(np.floor((x[..., 1] - y0) / pe.cell_size), 0, pe.n_row - 1)
            return (row * pe.n_col + col)[..., None]

        return tile
    if name == "Siren(SH)":
        L, pi_m0 = pe.degree, pe.sh_basis == "anchor"

        def sh(x):
            phi, az = np.radians(x[..., 1]), np.radians(x[..., 0]) + math.pi
            t, s = -np.sin(phi), np.cos(phi)
            out = [None] * (L * L)
            nmm = np.full_like(t, 1 / math.sqrt(4 * math.pi))
            for m in range(L):
                if m:
                    nmm = math.sqrt((2 * m + 1) / (2 * m)) * s * nmm
                p2, p1 = None, nmm
                for l in range(m, L):
                    if l == m:
                        cur = nmm
                    elif l == m + 1:
                        cur = math.sqrt(2 * m + 3) * t * nmm
                    else:
                        a = math.sqrt((4 * l * l - 1) / (l * l - m * m))
                        b = math.sqrt(((l - 1) ** 2 - m * m) / (4 * (l - 1) ** 2 - 1))
                        cur = a * (t * p1 - b * p2)
                    if l > m:
                        p2, p1 = p1, cur
                    if m == 0:
                        out[l * l + l] = cur * (math.pi if pi_m0 else 1.0)
                    else:
                        out[l * l + l + m] = math.sqrt(2) * cur * np.cos(m * az)
                        out[l * l + l - m] = math.sqrt(2) * cur * np.sin(m * az)
            return np.stack(out, -1)

        return sh
    table = {
        "Space2Vec-grid": grid,
        "Space2Vec-theory": theory,
        "xyz": xyz,
        "NeRF": nerf,
        "wrap": wrap,
        "wrap_ffn": wrap,
    }
    return table.get(name, sphere)


# ------------------------------------------------------------------ TorchSpatial's layers
#: TorchSpatial's ``get_activation_function`` names as plain ``torch.nn`` modules.
_REF_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "leakyrelu": lambda: nn.LeakyReLU(negative_slope=0.2),
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
}


class _RefSingleFeedForwardNN(nn.Module):
    """TorchSpatial's ``SingleFeedForwardNN``: Linear, act, ``nn.Dropout``, (+x), LayerNorm."""

    def __init__(self, d_in: int, d_out: int, p: float, act: str, layn: bool, skip: bool):
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        nn.init.xavier_uniform_(self.linear.weight)
        self.act = _REF_ACTIVATIONS[act.lower()]()
        self.dropout = nn.Dropout(p=p)
        self.skip_connection = skip and d_in == d_out
        self.layernorm = nn.LayerNorm(d_out) if layn else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dropout(self.act(self.linear(x)))
        if self.skip_connection:
            out = out + x
        return out if self.layernorm is None else self.layernorm(out)


class _RefMultiLayerFeedForwardNN(nn.Module):
    """TorchSpatial's ``MultiLayerFeedForwardNN``: hidden blocks, then a last act+dropout one."""

    def __init__(self, d_in: int, d_out: int, hp: dict):
        super().__init__()
        h, width, p, act = hp["num_hidden_layer"], hp["hidden_dim"], hp["dropout"], hp["spa_f_act"]
        layn, skip = bool(hp["use_layn"]), bool(hp["skip_connection"])
        layers = []
        if h <= 0:
            layers.append(_RefSingleFeedForwardNN(d_in, d_out, p, act, False, False))
        else:
            layers.append(_RefSingleFeedForwardNN(d_in, width, p, act, layn, skip))
            for _ in range(h - 1):
                layers.append(_RefSingleFeedForwardNN(width, width, p, act, layn, skip))
            layers.append(_RefSingleFeedForwardNN(width, d_out, p, act, False, False))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class _RefResLayer(nn.Module):
    """Mac Aodha et al.'s ``ResLayer``: two Linear + ReLU with ``nn.Dropout`` between."""

    def __init__(self, width: int):
        super().__init__()
        self.w1, self.w2 = nn.Linear(width, width), nn.Linear(width, width)
        self.nonlin1, self.nonlin2 = nn.ReLU(inplace=True), nn.ReLU(inplace=True)
        self.dropout1 = nn.Dropout(p=0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dropout1(self.nonlin1(self.w1(x)))
        return x + self.nonlin2(self.w2(y))


def reference_net(enc: encoders.LocationEncoder, d_in: int) -> nn.Module:
    """TorchSpatial's network for ``enc`` at ``enc``'s widths, from plain ``torch.nn`` modules.

    ``wrap`` gets Mac Aodha et al.'s FCNet (input layer, ReLU, four residual layers), every
    other encoder ``MultiLayerFeedForwardNN`` with ``enc``'s FFN hyper-parameters.
    """
    if isinstance(enc.net, FCNet):
        width = enc.embed_dim
        return nn.Sequential(
            nn.Linear(d_in, width), nn.ReLU(inplace=True), *[_RefResLayer(width) for _ in range(4)]
        )
    return _RefMultiLayerFeedForwardNN(d_in, enc.embed_dim, enc.hparams)


def _swap_in_nn_dropout(model: nn.Module) -> nn.Module:
    """Replace every ``FastDropout`` of ``model`` by ``nn.Dropout`` (same p, same mode)."""
    for parent in list(model.modules()):
        for child_name, child in parent.named_children():
            if isinstance(child, FastDropout):
                setattr(parent, child_name, nn.Dropout(child.p).train(child.training))
    return model


# ------------------------------------------------------------------ timing
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


STAT = {"median": statistics.median, "min": min}
_stat = statistics.median


def _median_ms(fn: Callable[[], None], device: torch.device, warmup: int, repeats: int) -> float:
    """Run ``fn`` ``warmup`` times, then return the ``--stat`` (median/min) of ``repeats`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append((time.perf_counter() - t0) * 1e3)
    return _stat(times)


def bench_one(name: str, device: torch.device, batch: int, warmup: int, repeats: int) -> dict:
    """Time ours and the loop / batched-NumPy / reference-layers baselines for one encoder."""
    enc = encoders.build(name, **BENCH_HPARAMS).to(device).train()
    ref = reference_net(enc, enc.pe_dim).to(device).train()
    gen = torch.Generator().manual_seed(0)
    u = torch.rand(batch, 2, generator=gen, dtype=torch.float64)
    lonlat64 = torch.stack([360 * u[:, 0] - 180, torch.rad2deg(torch.asin(2 * u[:, 1] - 1))], -1)
    x = lonlat64.float().to(device)
    x_np = lonlat64.numpy()
    pe_np = _np_pe(enc)

    def net_on(pe_array: np.ndarray, net: nn.Module = enc.net) -> torch.Tensor:
        feats = torch.FloatTensor(pe_array).to(device)
        if name == "tile_ffn":
            feats = enc.pe.table(feats[:, 0].long())
        return net(feats)

    def ours() -> None:
        enc.zero_grad(set_to_none=True)
        enc(x).sum().backward()

    def loop() -> None:
        enc.zero_grad(set_to_none=True)
        pe = np.stack([pe_np(x_np[i]) for i in range(batch)])
        net_on(pe).sum().backward()

    def batched() -> None:
        enc.zero_grad(set_to_none=True)
        net_on(pe_np(x_np)).sum().backward()

    def reference() -> None:
        enc.zero_grad(set_to_none=True)
        ref.zero_grad(set_to_none=True)
        net_on(pe_np(x_np), ref).sum().backward()

    # the NumPy PE must be the same encoding
    check = pe_np(x_np[:64])
    if name == "tile_ffn":
        check = enc.pe.table.weight[torch.as_tensor(check[:, 0]).long().to(device)].detach()
        check = check.cpu().double().numpy()
    ours_pe = enc.position_encoding(lonlat64[:64].to(device)).detach().cpu().numpy()
    max_diff = float(np.abs(check - ours_pe).max())
    if max_diff > 1e-5:
        raise RuntimeError(f"{name}: NumPy baseline PE differs from ours by {max_diff:.2e}")

    def ours_pe() -> None:
        with torch.no_grad():
            enc.position_encoding(x)

    def loop_pe() -> None:
        torch.FloatTensor(np.stack([pe_np(x_np[i]) for i in range(batch)])).to(device)

    torch.manual_seed(0)
    # the vectorised PE takes ~1 ms: more repeats cost nothing and steady the statistic
    t_ours_pe = _median_ms(ours_pe, device, warmup, max(repeats, PE_REPEATS))
    t_loop_pe = _median_ms(loop_pe, device, min(warmup, 1), repeats)
    t_ours = _median_ms(ours, device, warmup, repeats)
    t_loop = _median_ms(loop, device, min(warmup, 1), repeats)
    t_np = _median_ms(batched, device, warmup, repeats)
    t_ref = _median_ms(reference, device, warmup, repeats)
    return {
        "encoder": name,
        "device": str(device),
        "batch": batch,
        "pe_dim": enc.pe_dim,
        "params": sum(p.numel() for p in enc.parameters()),
        "ours_ms": t_ours,
        "loop_ms": t_loop,
        "numpy_ms": t_np,
        "reference_ms": t_ref,
        "ours_samples_per_s": batch / t_ours * 1e3,
        "loop_samples_per_s": batch / t_loop * 1e3,
        "numpy_samples_per_s": batch / t_np * 1e3,
        "ours_pe_ms": t_ours_pe,
        "loop_pe_ms": t_loop_pe,
        "speedup_vs_loop": t_loop / t_ours,
        "pe_speedup_vs_loop": t_loop_pe / t_ours_pe,
        "speedup_vs_numpy": t_np / t_ours,
        "speedup_vs_reference": t_ref / t_ours,
        "pe_max_abs_diff": max_diff,
    }


def format_table(rows: list[dict]) -> str:
    """Plain-text table of the results."""
    head = (
        f"{'encoder':<20} {'dev':<5} {'PE':>5} {'params':>9} {'ours ms':>9} {'ours s/s':>10} "
        f"{'loop ms':>9} {'loop s/s':>9} {'x loop':>7} {'numpy ms':>9} {'x numpy':>8} "
        f"{'ref ms':>8} {'x reference':>11} {'PE ours':>8} {'PE loop':>8} {'x PE':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['encoder']:<20} {r['device']:<5} {r['pe_dim']:>5} {r['params']:>9,} "
            f"{r['ours_ms']:>9.1f} {r['ours_samples_per_s']:>10,.0f} {r['loop_ms']:>9.1f} "
            f"{r['loop_samples_per_s']:>9,.0f} {r['speedup_vs_loop']:>7.1f} "
            f"{r['numpy_ms']:>9.1f} {r['speedup_vs_numpy']:>8.2f} "
            f"{r['reference_ms']:>8.1f} {r['speedup_vs_reference']:>11.2f} "
            f"{r['ours_pe_ms']:>8.2f} {r['loop_pe_ms']:>8.1f} {r['pe_speedup_vs_loop']:>7.0f}"
        )
    if rows:
        slowest = min(rows, key=lambda r: r["speedup_vs_reference"])
        geo = _geomean([r["speedup_vs_reference"] for r in rows])
        lines.append(
            f"x reference (reference layers / ours): geometric mean {geo:.2f}, "
            f"minimum {slowest['speedup_vs_reference']:.2f} ({slowest['encoder']})"
        )
    return "\n".join(lines)


def _geomean(values: list[float]) -> float:
    """Geometric mean of positive numbers."""
    return math.exp(statistics.mean(math.log(v) for v in values))


def time_zoo(extra: list[str]) -> dict:
    """Wall time of ``encoders zoo --dataset synthetic-vmf-biased --preset demo`` (= make demo)."""
    from encoders import cli

    if "zoo" not in getattr(cli.main, "commands", {}):
        return {"zoo": "skipped: `encoders zoo` is not available in encoders.cli"}
    exe = shutil.which("encoders") or str(Path(sys.executable).with_name("encoders"))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [exe, "zoo", "--dataset", "synthetic-vmf-biased", "--preset", "demo"]
        cmd += ["--out", str(Path(tmp) / "zoo"), *extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
    res = {"zoo_cmd": " ".join(cmd), "zoo_rc": proc.returncode, "zoo_wall_s": wall}
    if proc.returncode != 0:
        res["zoo_stderr_tail"] = proc.stderr[-2000:]
    return res


def bench_trainer(
    names: list[str], rows: int, epochs: int, repeats: int, batch: int = 1024
) -> list[dict]:
    """Whole-run training time of the Lightning trainer and of the previous loop.

    The previous loop trains the networks with ``nn.Dropout`` (as before ``FastDropout``).
    """
    from previous_trainer import previous_fit

    from encoders.data import load_dataset
    from encoders.train import Trainer, build_model

    ds = load_dataset("synthetic-vmf", n_train=rows, n_val=max(rows // 10, 100), n_test=100,
                      num_classes=50, seed=0)  # fmt: skip
    # first fits of a process pay one-off costs (imports, first calls): not timed
    small = load_dataset("synthetic-vmf", n_train=200, n_val=50, n_test=10, num_classes=5)
    previous_fit(build_model("xyz", small), small, epochs=1, batch_size=64, lr=1e-3)
    Trainer(epochs=1, batch_size=64, device="cpu", progress=False).fit(
        build_model("xyz", small), small
    )
    out = []
    for name in names:
        hp = dict(BENCH_HPARAMS)
        wall: dict[str, list[float]] = {"previous": [], "lightning": []}
        cpu: dict[str, list[float]] = {"previous": [], "lightning": []}
        for _ in range(repeats):
            for kind in ("previous", "lightning"):
                model = build_model(name, ds, hparams=hp)
                if kind == "previous":  # the networks as they were before FastDropout
                    _swap_in_nn_dropout(model)
                t0, c0 = time.perf_counter(), time.process_time()
                if kind == "previous":
                    previous_fit(model, ds, epochs=epochs, batch_size=batch, lr=1e-3)
                else:
                    Trainer(epochs=epochs, batch_size=batch, lr=1e-3, device="cpu",
                            progress=False).fit(model, ds)  # fmt: skip
                wall[kind].append(time.perf_counter() - t0)
                cpu[kind].append(time.process_time() - c0)
        prev, new = _stat(wall["previous"]), _stat(wall["lightning"])
        prev_cpu, new_cpu = _stat(cpu["previous"]), _stat(cpu["lightning"])
        out.append({
            "encoder": name, "previous_s": prev, "lightning_s": new,
            "lightning_samples_per_s": rows * epochs / new, "ratio": prev / new,
            "previous_cpu_s": prev_cpu, "lightning_cpu_s": new_cpu, "cpu_ratio": prev_cpu / new_cpu,
        })  # fmt: skip
        log.info("%s: previous %.2f s, lightning %.2f s, ratio %.2fx (CPU time %.2fx)", name,
                 prev, new, prev / new, prev_cpu / new_cpu)  # fmt: skip
    return out


def format_trainer_table(rows: list[dict]) -> str:
    """Markdown table of :func:`bench_trainer` with the geometric mean of the ratios."""
    lines = [
        "| encoder | previous loop (nn.Dropout) s | Lightning s | Lightning samples/s | ratio "
        "| CPU ratio |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['encoder']} | {r['previous_s']:.2f} | {r['lightning_s']:.2f} | "
                     f"{r['lightning_samples_per_s']:,.0f} | {r['ratio']:.2f}x | "
                     f"{r['cpu_ratio']:.2f}x |")  # fmt: skip
    geo = _geomean([r["ratio"] for r in rows])
    geo_cpu = _geomean([r["cpu_ratio"] for r in rows])
    lines.append(f"| geometric mean | | | | **{geo:.2f}x** | **{geo_cpu:.2f}x** |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (see module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--encoders", default="all", help="comma-separated names/aliases or 'all'")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument(
        "--stat",
        default="median",
        choices=sorted(STAT),
        help="statistic of the repeats (min is robust on a loaded machine)",
    )
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    ap.add_argument("--json", type=Path, default=None, help="write results as JSON to this path")
    ap.add_argument("--zoo", action="store_true", help="also time `encoders zoo ... --preset demo`")
    ap.add_argument("--zoo-args", default="", help="extra arguments for the zoo command")
    ap.add_argument(
        "--trainer",
        action="store_true",
        help="time training runs: Lightning trainer vs the previous loop",
    )
    ap.add_argument("--trainer-rows", type=int, default=10_000)
    ap.add_argument("--trainer-epochs", type=int, default=2)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    global _stat
    _stat = STAT[args.stat]
    if args.threads:
        torch.set_num_threads(args.threads)

    names = (
        encoders.list()
        if args.encoders == "all"
        else [encoders.canonical_name(n) for n in args.encoders.split(",") if n.strip()]
    )
    if args.trainer:
        rows = bench_trainer(names, args.trainer_rows, args.trainer_epochs, args.repeats)
        sys.stdout.write(
            f"training, {args.trainer_rows} rows x {args.trainer_epochs} epochs, batch 1024, "
            f"{args.stat} of {args.repeats}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, CPU\n{format_trainer_table(rows)}\n"
        )
        if args.json:
            write_text_atomic(args.json, json.dumps({"trainer": rows}, indent=2))
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda but torch.cuda.is_available() is False")
    devices = (
        ["cpu"]
        if args.device == "cpu"
        else ["cuda"]
        if args.device == "cuda"
        else (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    )
    rows = []
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # max_only scale warning (parity defaults)
        for dev in devices:
            for name in names:
                log.info("timing %s on %s", name, dev)
                rows.append(
                    bench_one(name, torch.device(dev), args.batch, args.warmup, args.repeats)
                )
    meta = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "repeats": args.repeats,
        "stat": args.stat,
        "warmup": args.warmup,
        "hparams": {**BENCH_HPARAMS, "defaults": "trainer (1x512 leakyrelu, dropout .5, LN, skip)"},
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    result = {"meta": meta, "rows": rows}
    if args.zoo:
        result["zoo"] = time_zoo(args.zoo_args.split())
    text = format_table(rows)
    sys.stdout.write(
        f"encoders speed: batch {args.batch}, {args.stat} of {args.repeats}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; fwd+bwd, train mode\n"
        f"{text}\n"
    )
    if args.zoo:
        sys.stdout.write(f"zoo: {json.dumps(result['zoo'])}\n")
    if args.json:
        write_text_atomic(args.json, json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
