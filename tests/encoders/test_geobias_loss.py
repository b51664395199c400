"""The geo-bias loss (encoders.losses.GeoBiasLoss) and the soft performance.

What is checked, and against what:

- with hard +-1 inputs, the loss's per-centre value equals pygbs's score through its
  public API (marked SSI: ``ssi_scores(method='analytic', graph='strict')``; performance
  SSI: ``performance_scores``; SRI: ``sri_scores`` with 2 bins), and the centre table holds
  exactly the centres pygbs scores;
- with soft inputs, the vectorised computation equals a naive per-centre computation
  written here (a dense weight matrix and the Cliff & Ord moments as in esda; the SRI
  histograms part by part), built from the public pattern graphs of :mod:`pygbs.stats.graphs`;
- ``torch.autograd.gradcheck`` in float64 on small cases;
- errors, the seeded draw of centres, the soft performance's sign and hard limit.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import norm

from encoders.losses import GEO_BIAS_KINDS, GeoBatch, GeoBiasLoss, soft_performance
from encoders.metrics import per_sample_classification
from pygbs import Neighbourhoods, SphereIndex, parse_scale
from pygbs.errors import InputError
from pygbs.stats.graphs import pattern_graphs, sri_parts
from pygbs.stats.sri import sri_scores
from pygbs.stats.ssi import performance_scores, ssi_scores

SSI_KINDS = ["marked-ssi", "performance-ssi"]
SRI_KINDS = ["sri-lag", "sri-sector", "sri-grid"]


def _clustered(n: int = 240, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[10.0, 45.0], [11.0, 45.5], [-70.0, -20.0]])
    which = rng.integers(0, len(centres), n)
    ll = centres[which] + rng.normal(0.0, 0.3, (n, 2))
    return ll


@pytest.fixture(scope="module")
def lonlat() -> np.ndarray:
    return _clustered()


def _hard_marks(lonlat: np.ndarray, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = 0.25 + 0.5 * (lonlat[:, 0] > 10.2)  # performance that varies in space
    return np.where(rng.random(len(lonlat)) < p, 1.0, -1.0)


def _pygbs_reference(kind: str, lonlat: np.ndarray, marks: np.ndarray, scale: str) -> np.ndarray:
    """pygbs's score of every row as a centre (NaN where pygbs does not score)."""
    index = SphereIndex(lonlat[:, 0], lonlat[:, 1])
    rows = np.arange(len(lonlat))
    sc = parse_scale(scale)
    if kind == "marked-ssi":
        nb = Neighbourhoods.from_scale(index, rows, sc)
        res = ssi_scores(index, nb, marks, unmarked=False, method="analytic", graph="strict")
        return res["marked_ssi"]
    if kind == "performance-ssi":
        nb = Neighbourhoods.from_scale(index, rows, sc)
        return performance_scores(index, nb, marks)["performance_ssi"]
    nb = Neighbourhoods.from_scale(index, rows, sc, cap=False)
    vals, _ = sri_scores(index, nb, marks, partition=GEO_BIAS_KINDS[kind].partition, bins=2)
    return np.where(nb.sizes >= sc.min_points, vals, np.nan)


@pytest.mark.parametrize("scale", ["100km", "nn20"])
@pytest.mark.parametrize("kind", SSI_KINDS + SRI_KINDS)
def test_hard_inputs_give_pygbs_scores(lonlat, kind, scale):
    marks = _hard_marks(lonlat)
    loss = GeoBiasLoss(lonlat, kind=kind, scale=scale, sri_threshold=5)
    if kind in SRI_KINDS:
        ref_all = _pygbs_sri_threshold(kind, lonlat, marks, scale, threshold=5)
    else:
        ref_all = _pygbs_reference(kind, lonlat, marks, scale)
    # the centre table is exactly the centres pygbs scores
    np.testing.assert_array_equal(loss.centre_rows, np.flatnonzero(np.isfinite(ref_all)))
    batch = loss.batch()
    v = torch.from_numpy(marks[batch.rows.numpy()])
    got = loss.per_centre(v, batch).numpy()
    ref = ref_all[loss.centre_rows]
    assert np.ptp(ref) > 0.1  # a case with something to find
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)
    assert float(loss(v, batch)) == pytest.approx(float(np.mean(ref)), rel=1e-6, abs=1e-9)


def _pygbs_sri_threshold(kind, lonlat, marks, scale, threshold):
    index = SphereIndex(lonlat[:, 0], lonlat[:, 1])
    sc = parse_scale(scale)
    nb = Neighbourhoods.from_scale(index, np.arange(len(lonlat)), sc, cap=False)
    vals, _ = sri_scores(
        index,
        nb,
        marks,
        partition=GEO_BIAS_KINDS[kind].partition,
        bins=2,
        threshold=threshold,
    )
    return np.where(nb.sizes >= sc.min_points, vals, np.nan)


def test_sri_default_threshold_matches_pygbs(lonlat):
    marks = _hard_marks(lonlat, seed=3)
    loss = GeoBiasLoss(lonlat, kind="sri-lag", scale="100km")
    ref_all = _pygbs_reference("sri-lag", lonlat, marks, "100km")
    np.testing.assert_array_equal(loss.centre_rows, np.flatnonzero(np.isfinite(ref_all)))
    batch = loss.batch()
    got = loss.per_centre(torch.from_numpy(marks[batch.rows.numpy()]), batch).numpy()
    np.testing.assert_allclose(got, ref_all[loss.centre_rows], rtol=1e-6, atol=1e-9)


# --- a naive per-centre reference --------------------------------------------------


def _naive_ssi(index, rows, values, scale, background, k=4, min_points=5):
    """Per centre: dense W from the pattern's edges, labels, S and esda's moments."""
    nb = Neighbourhoods.from_scale(index, rows, parse_scale(scale))
    g = pattern_graphs(index, nb, background=background, k=k, min_points=min_points)
    out = {}
    for j, row in enumerate(rows):
        if not g.active[j]:
            continue
        n = g.sizes[j]
        m = n + g.n_background[j]
        w = np.zeros((m, m))
        e = slice(g.edge_ptr[j], g.edge_ptr[j + 1])
        w[g.src[e], g.dst[e]] = 1.0
        z = np.zeros(m)
        z[:n] = values[g.members[g.member_ptr[j] : g.member_ptr[j + 1]]]
        x = z - z.mean()
        s = x @ w @ x
        s0 = w.sum()
        s1 = 0.5 * ((w + w.T) ** 2).sum()
        s2 = ((w.sum(axis=0) + w.sum(axis=1)) ** 2).sum()
        m2 = (x**2).sum()
        b2 = m * (x**4).sum() / m2**2
        ei = -1.0 / (m - 1)
        vi = (
            m * ((m * m - 3 * m + 3) * s1 - m * s2 + 3 * s0**2)
            - b2 * ((m * m - m) * s1 - 2 * m * s2 + 6 * s0**2)
        ) / ((m - 1) * (m - 2) * (m - 3) * s0**2) - ei**2
        moran = m / s0 * s / m2
        zscore = abs(moran - ei) / np.sqrt(vi)
        out[int(row)] = -np.log(2.0) - norm.logsf(zscore)
    return out


def _naive_sri(index, rows, values, scale, partition, threshold, min_points=5):
    nb = Neighbourhoods.from_scale(index, rows, parse_scale(scale), cap=False)
    part, _ = sri_parts(index, nb, partition)
    out = {}
    for j, row in enumerate(rows):
        sl = slice(nb.indptr[j], nb.indptr[j + 1])
        vals, parts = values[nb.indices[sl]], part[sl]
        if len(vals) < min_points:
            continue
        q_g = np.mean((vals + 1) / 2)
        num = den = 0.0
        for p in np.unique(parts[parts >= 0]):
            sel = parts == p
            if sel.sum() < threshold:
                continue
            q_p = np.mean((vals[sel] + 1) / 2)
            kl = sum(
                g * np.log(g / (pp + 1e-8)) for g, pp in ((q_g, q_p), (1 - q_g, 1 - q_p)) if g > 0
            )
            num += sel.sum() * kl
            den += sel.sum()
        if den:
            out[int(row)] = num / den
    return out


@pytest.mark.parametrize("scale", ["100km", "nn20"])
@pytest.mark.parametrize("kind", SSI_KINDS + ["sri-lag", "sri-sector"])
def test_vectorised_equals_naive_per_centre_reference(lonlat, kind, scale):
    rng = np.random.default_rng(7)
    soft = rng.uniform(-0.95, 0.95, len(lonlat))
    index = SphereIndex(lonlat[:, 0], lonlat[:, 1])
    rows = np.arange(0, len(lonlat), 3)
    if kind in SSI_KINDS:
        ref = _naive_ssi(index, rows, soft, scale, GEO_BIAS_KINDS[kind].background)
    else:
        ref = _naive_sri(index, rows, soft, scale, GEO_BIAS_KINDS[kind].partition, 8)
    loss = GeoBiasLoss(lonlat, kind=kind, scale=scale, sri_threshold=8)
    pick = np.flatnonzero(np.isin(loss.centre_rows, rows))
    assert sorted(ref) == loss.centre_rows[pick].tolist()
    batch = loss.batch(pick)
    got = loss.per_centre(torch.from_numpy(soft[batch.rows.numpy()]), batch).numpy()
    np.testing.assert_allclose(got, [ref[r] for r in loss.centre_rows[pick]], rtol=1e-9)


@pytest.mark.parametrize("kind", SSI_KINDS + SRI_KINDS)
def test_gradcheck_float64(lonlat, kind):
    loss = GeoBiasLoss(lonlat, kind=kind, scale="nn12", sri_threshold=3)
    batch = loss.batch(np.arange(0, loss.n_centres, max(1, loss.n_centres // 3))[:3])
    rng = np.random.default_rng(2)
    v = torch.tensor(rng.uniform(-0.8, 0.8, len(batch.rows)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda p: loss.per_centre(p, batch), (v,))


def test_gradient_of_the_mean_reaches_every_member_and_lowers_the_loss(lonlat):
    loss = GeoBiasLoss(lonlat, kind="performance-ssi", scale="nn20", centres_per_batch=16)
    batch = loss.sample(torch.Generator().manual_seed(0))
    v = torch.from_numpy(_hard_marks(lonlat)[batch.rows.numpy()] * 0.5).requires_grad_()
    value = loss(v, batch)
    value.backward()
    assert v.grad is not None and torch.isfinite(v.grad).all()
    assert (v.grad != 0).float().mean() > 0.9
    with torch.no_grad():
        lower = loss(v - 1e-3 * v.grad / v.grad.norm(), batch)
    assert lower < value


def test_float32_and_batch_helpers(lonlat):
    loss = GeoBiasLoss(lonlat, kind="marked-ssi", scale="nn20", centres_per_batch=10)
    batch = loss.sample(torch.Generator().manual_seed(1))
    assert isinstance(batch, GeoBatch) and len(batch.centres) == 10
    assert torch.equal(batch.rows, torch.unique(batch.rows))
    v64 = torch.from_numpy(_hard_marks(lonlat)[batch.rows.numpy()])
    out32 = loss.per_centre(v64.float(), batch)
    assert out32.dtype == torch.float32
    torch.testing.assert_close(out32.double(), loss.per_centre(v64, batch), rtol=1e-6, atol=1e-6)
    with pytest.raises(InputError, match="one value per batch row"):
        loss(v64[:-1], batch)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(lonlat):
    for kind in ("marked-ssi", "sri-lag"):
        loss = GeoBiasLoss(lonlat, kind=kind, scale="100km", sri_threshold=5)
        batch = loss.batch()
        v = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, len(batch.rows)))
        cpu = loss.per_centre(v, batch)
        vc = v.cuda().requires_grad_()
        gpu = loss.per_centre(vc, batch.to("cuda"))
        gpu.sum().backward()
        assert gpu.device.type == "cuda" and torch.isfinite(vc.grad).all()
        torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-9, atol=1e-9)


# --- errors and the draw -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "moran"}, "unknown geo-bias loss kind 'moran'"),
        ({"scale": "100 miles"}, "unknown scale '100 miles'"),
        ({"scale": "-5km"}, "unknown scale"),
        ({"scale": "1km"}, "no centre can be scored: no neighbourhood at 1km"),
        ({"kind": "sri-lag", "scale": "nn5"}, "a part with >= 20 samples"),
        ({"k": 0}, "k must be a positive integer"),
    ],
)
def test_clear_one_line_errors(lonlat, kwargs, message):
    with pytest.raises(InputError, match=message) as err:
        GeoBiasLoss(lonlat, **kwargs)
    assert "\n" not in str(err.value)


def test_bad_locations_name_the_row():
    ll = _clustered(30)
    ll[7, 1] = 95.0
    with pytest.raises(InputError, match="lonlat row 7 is"):
        GeoBiasLoss(ll)
    ll[7, 1] = np.nan
    with pytest.raises(InputError, match=r"lonlat row 7 is \(.*, nan\)"):
        GeoBiasLoss(ll)
    with pytest.raises(InputError, match="lonlat is empty"):
        GeoBiasLoss(np.zeros((0, 2)))
    with pytest.raises(InputError, match="shape"):
        GeoBiasLoss(np.zeros((4, 3)))


def test_sample_is_determined_by_its_generator_alone(lonlat):
    loss = GeoBiasLoss(lonlat, kind="performance-ssi", scale="nn20", centres_per_batch=7)
    state = torch.get_rng_state()
    a = loss.sample(torch.Generator().manual_seed(5))
    torch.manual_seed(123)  # the global generator plays no part
    b = loss.sample(torch.Generator().manual_seed(5))
    c = loss.sample(torch.Generator().manual_seed(6))
    torch.set_rng_state(state)
    for name in ("rows", "centres", "_member_pos", "_neighbours", "_const"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.centres, c.centres)
    assert len(a.centres) == len(torch.unique(a.centres)) == 7
    # one randperm per draw: the generator advances as it would for it
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    loss.sample(g1)
    torch.randperm(loss.n_centres, generator=g2)
    assert torch.equal(g1.get_state(), g2.get_state())
    # all centres when the batch is larger than the table
    big = GeoBiasLoss(lonlat, kind="performance-ssi", scale="nn20", centres_per_batch=10_000)
    assert len(big.sample(torch.Generator().manual_seed(0)).centres) == big.n_centres


def test_max_centres_draws_a_seeded_subset(lonlat):
    a = GeoBiasLoss(lonlat, scale="nn20", max_centres=50, seed=3)
    b = GeoBiasLoss(lonlat, scale="nn20", max_centres=50, seed=3)
    c = GeoBiasLoss(lonlat, scale="nn20", max_centres=50, seed=4)
    assert a.n_centres == 50
    np.testing.assert_array_equal(a.centre_rows, b.centre_rows)
    assert not np.array_equal(a.centre_rows, c.centre_rows)


# --- soft performance -----------------------------------------------------------------


def test_soft_performance_classification_sign_and_hard_limit():
    rng = np.random.default_rng(0)
    logits = torch.from_numpy(rng.normal(0, 2, (200, 6)))
    img = torch.from_numpy(rng.dirichlet(np.ones(6), 200))
    y = torch.from_numpy(rng.integers(0, 6, 200))
    for probs in (None, img):
        fused = torch.sigmoid(logits) * (1.0 if probs is None else probs)
        hit = per_sample_classification(fused.numpy(), y.numpy())["hit@1"]
        hard = soft_performance(logits, y, task="classification", image_probs=probs, temperature=0)
        np.testing.assert_array_equal(hard.numpy(), 2.0 * hit - 1.0)
        soft = soft_performance(logits, y, task="classification", image_probs=probs)
        np.testing.assert_array_equal(np.sign(soft.numpy()), 2.0 * hit - 1.0)
        cold = soft_performance(
            logits, y, task="classification", image_probs=probs, temperature=1e-4
        )
        np.testing.assert_allclose(cold.numpy(), hard.numpy(), atol=1e-6)
        assert soft.abs().max() < 1


def test_soft_performance_gradient_reaches_true_class_and_runner_up():
    logits = torch.tensor([[2.0, 1.0, -1.0, 0.5]], requires_grad=True)
    v = soft_performance(logits, torch.tensor([1]), task="classification")
    assert float(v.detach()) == pytest.approx(np.tanh(-0.5))
    v.sum().backward()
    g = logits.grad[0]
    assert g[1] > 0 and g[0] < 0 and g[2] == 0 and g[3] == 0


def test_soft_performance_regression_codes_error_below_the_median():
    pred = torch.tensor([0.0, 0.1, 0.5, -2.0, 1.0])
    target = torch.zeros(5)
    hard = soft_performance(pred, target, task="regression", temperature=0)
    # |errors| 0, 0.1, 0.5, 2, 1 -> median 0.5; "lower is better": +1 where error < 0.5
    np.testing.assert_array_equal(hard.numpy(), [1, 1, -1, -1, -1])
    soft = soft_performance(pred, target, task="regression")
    assert soft[2] == 0 and (np.sign(soft.numpy())[[0, 1, 3, 4]] == [1, 1, -1, -1]).all()


def test_soft_performance_errors():
    with pytest.raises(InputError, match="task must be"):
        soft_performance(torch.zeros(3), torch.zeros(3), task="ranking")
    with pytest.raises(InputError, match="temperature"):
        soft_performance(torch.zeros(3), torch.zeros(3), task="regression", temperature=-1)
    with pytest.raises(InputError, match="classification needs"):
        soft_performance(torch.zeros(3), torch.zeros(3), task="classification")


def test_building_the_loss_keeps_torch_thread_count(lonlat):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        GeoBiasLoss(lonlat, kind="marked-ssi", scale="nn20")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
