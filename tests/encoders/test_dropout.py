"""FastDropout: inverted dropout with the semantics of ``nn.Dropout``, used by every network."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

import encoders
from encoders.nets import FastDropout

N = 200_000
#: Allowed deviation of a count or a mean, in standard deviations.
Z = 5.0

pytestmark = pytest.mark.filterwarnings("ignore:scales='max_only'")


def _train_drop(p: float) -> FastDropout:
    return FastDropout(p).train()


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_keeps_one_minus_p_of_the_elements(p):
    torch.manual_seed(0)
    kept = int((_train_drop(p)(torch.ones(N)) != 0).sum())
    assert abs(kept - N * (1 - p)) <= Z * math.sqrt(N * p * (1 - p))


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kept_elements_are_scaled_exactly(p, dtype):
    torch.manual_seed(1)
    x = torch.rand(10_000, dtype=dtype) + 0.5
    y = _train_drop(p)(x)
    kept = y != 0
    assert 0 < int(kept.sum()) < x.numel()
    scale = torch.tensor(1.0 / (1.0 - p), dtype=dtype)
    assert torch.equal(y[kept], x[kept] * scale)
    assert y.dtype == dtype and y.shape == x.shape


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_expected_value_is_preserved(p):
    torch.manual_seed(2)
    y = _train_drop(p)(torch.ones(N, dtype=torch.float64))
    # each element is 1 / (1 - p) with probability 1 - p, else 0: mean 1, variance p / (1 - p)
    assert abs(float(y.mean()) - 1.0) <= Z * math.sqrt(p / (1 - p) / N)


def test_identity_in_eval_mode_and_for_p_zero():
    x = torch.randn(64, 32)
    assert FastDropout(0.5).eval()(x) is x
    assert _train_drop(0.0)(x) is x


def test_p_one_zeroes_everything_and_bad_p_is_rejected():
    assert torch.equal(_train_drop(1.0)(torch.ones(100)), torch.zeros(100))
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            FastDropout(bad)


def test_gradient_is_mask_times_scale():
    p = 0.4
    torch.manual_seed(3)
    x = (torch.rand(512, 64) + 0.5).requires_grad_(True)
    y = _train_drop(p)(x)
    y.backward(torch.ones_like(y))
    expected = (y != 0).to(x.dtype) * torch.tensor(1.0 / (1.0 - p))
    assert torch.equal(x.grad, expected)


def test_seeded_masks_repeat_and_use_the_global_generator():
    drop, x = _train_drop(0.5), torch.ones(1000)
    torch.manual_seed(4)
    a = drop(x)
    torch.manual_seed(4)
    b = drop(x)
    c = drop(x)
    assert torch.equal(a, b) and not torch.equal(b, c)


def test_repr_and_no_state():
    drop = FastDropout(0.25)
    assert repr(drop) == "FastDropout(p=0.25)"
    assert not list(drop.parameters()) and not list(drop.buffers())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
def test_cuda_uses_the_fused_dropout():
    torch.manual_seed(5)
    x = torch.ones(N, device="cuda")
    y = _train_drop(0.5)(x)
    kept = y != 0
    assert abs(int(kept.sum()) - N / 2) <= Z * math.sqrt(N / 4)
    assert torch.equal(y[kept], x[kept] * 2)


NETWORKS = [*((name, {}) for name in encoders.list()), ("Siren(SH)", {"net": "siren"})]


@pytest.mark.parametrize(("name", "extra"), NETWORKS)
def test_networks_use_fast_dropout_only(name, extra):
    enc = encoders.build(name, hidden_dim=16, spa_embed_dim=8, **extra)
    modules = list(enc.modules())
    assert not any(isinstance(m, nn.Dropout) for m in modules), name
    assert any(isinstance(m, FastDropout) for m in modules), name


@pytest.mark.parametrize("name", ["xyz", "wrap"])
def test_checkpoints_of_nn_dropout_networks_still_load(name):
    # a network saved while it used nn.Dropout: same attribute names, same (empty) state
    enc = encoders.build(name, hidden_dim=16, spa_embed_dim=8, seed=1).eval()
    old = copy.deepcopy(enc)
    for parent in old.modules():
        for child_name, child in parent.named_children():
            if isinstance(child, FastDropout):
                setattr(parent, child_name, nn.Dropout(child.p))
    old.eval()
    assert any(isinstance(m, nn.Dropout) for m in old.modules())
    state = old.state_dict()
    fresh = encoders.build(name, hidden_dim=16, spa_embed_dim=8, seed=2).eval()
    assert list(fresh.state_dict()) == list(state)
    fresh.load_state_dict(state, strict=True)
    x = torch.tensor([[2.35, 48.86], [151.21, -33.87]])
    torch.testing.assert_close(fresh(x), old(x), atol=0, rtol=0)
