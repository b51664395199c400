"""check_encoder: the API contract, run on every registered encoder.

Shapes for (B, 2) and (B, N, 2) input, dtypes, gradients (to parameters and, where the PE is
differentiable, to the input), seeded determinism, state_dict round trip, input validation,
longitude wrapping, and CPU/CUDA agreement (skipped without CUDA).
"""

from __future__ import annotations

import json

import pytest
import torch

import encoders

NAMES = encoders.list()
SMALL = {
    "hidden_dim": 16,
    "spa_embed_dim": 8,
    "frequency_num": 4,
    "num_rbf_anchor_pts": 10,
    "rbf_kernel_size": 40.0,
    "legendre_poly_num": 4,
}
X = torch.tensor([[2.35, 48.86], [151.21, -33.87], [-74.0, 40.7], [0.0, 0.0], [-120.5, 10.25]])

pytestmark = pytest.mark.filterwarnings("ignore:scales='max_only'")


def make(name: str, **kw) -> encoders.LocationEncoder:
    return encoders.build(name, **{**SMALL, **kw})


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_attributes(name):
    enc = make(name)
    assert enc.name == name
    assert isinstance(enc, torch.nn.Module)
    assert enc.embed_dim == 8
    pe = enc.position_encoding(X)
    assert pe.shape == (5, enc.pe_dim)
    assert enc(X).shape == (5, 8)
    x3 = X.reshape(1, 5, 2).expand(3, 5, 2)
    assert enc.position_encoding(x3).shape == (3, 5, enc.pe_dim)
    out3 = enc.eval()(x3)
    assert out3.shape == (3, 5, 8)
    torch.testing.assert_close(out3[1], enc(X))  # batch layout does not mix rows
    assert enc(X[0]).shape == (8,)  # a single (2,) location
    json.dumps(enc.hparams)


@pytest.mark.parametrize("name", NAMES)
def test_dtypes(name):
    enc = make(name).eval()
    assert enc.position_encoding(X).dtype == torch.float32
    x64 = X.double()
    assert enc.position_encoding(x64).dtype == torch.float64
    assert enc.position_encoding(torch.tensor([[10, 20], [-30, 40]])).dtype == torch.float32
    assert enc(x64).dtype == torch.float32  # the network's dtype
    torch.testing.assert_close(enc(x64), enc(X), atol=1e-5, rtol=1e-5)
    enc64 = make(name).double().eval()
    assert enc64(x64).dtype == torch.float64
    torch.testing.assert_close(
        enc64.position_encoding(x64).float(), enc.position_encoding(X), atol=1e-5, rtol=1e-5
    )


@pytest.mark.parametrize("name", NAMES)
def test_gradients_flow(name):
    enc = make(name)
    x = X.clone().requires_grad_(True)
    enc(x).square().sum().backward()
    grads = {n: p.grad for n, p in enc.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    assert sum(float(g.abs().sum()) for g in grads.values()) > 0
    if enc.pe.differentiable:
        assert x.grad is not None and torch.isfinite(x.grad).all()
        assert float(x.grad.abs().sum()) > 0
    else:
        assert x.grad is None or float(x.grad.abs().sum()) == 0


@pytest.mark.parametrize("name", NAMES)
def test_seeded_determinism_and_rng_isolation(name):
    state = torch.get_rng_state()
    a, b = make(name, seed=7), make(name, seed=7)
    assert torch.equal(torch.get_rng_state(), state)  # building leaves the global RNG alone
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    torch.testing.assert_close(a.eval()(X), b.eval()(X), atol=0, rtol=0)
    c = make(name, seed=8)
    assert any(not torch.equal(sa[k], c.state_dict()[k]) for k in sa)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip(name):
    enc = make(name, seed=1).eval()
    other = encoders.build(name, **{**enc.hparams, "seed": 2}).eval()
    other.load_state_dict(enc.state_dict())
    torch.testing.assert_close(other(X), enc(X), atol=0, rtol=0)
    torch.testing.assert_close(other.position_encoding(X), enc.position_encoding(X))


@pytest.mark.parametrize("name", NAMES)
def test_invalid_input(name):
    enc = make(name)
    bad = X.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="index 3"):
        enc(bad)
    with pytest.raises(ValueError, match=r"lat must be in \[-90, 90\].*index 1 has 91"):
        enc(torch.tensor([[0.0, 0.0], [0.0, 91.0]]))
    with pytest.raises(ValueError, match=r"lon must be in \[-180, 360\).*\(0, 2\)"):
        enc(torch.tensor([[[0.0, 0.0], [1.0, 1.0], [360.0, 0.0]]]))
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        enc(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="-180"):
        enc.position_encoding(torch.tensor([[-180.5, 0.0]]))


@pytest.mark.parametrize("name", NAMES)
def test_longitudes_above_180_wrap(name):
    enc = make(name).eval()
    east = torch.tensor([[190.0, 10.0], [359.5, -20.0], [180.0, 0.0]])
    west = torch.tensor([[-170.0, 10.0], [-0.5, -20.0], [180.0, 0.0]])
    torch.testing.assert_close(enc.position_encoding(east), enc.position_encoding(west))


@pytest.mark.parametrize("name", NAMES)
def test_eval_mode_is_deterministic_and_train_mode_uses_dropout(name):
    enc = make(name).eval()
    torch.testing.assert_close(enc(X), enc(X), atol=0, rtol=0)
    enc.train()
    torch.manual_seed(0)
    y1 = enc(X)
    torch.manual_seed(1)
    y2 = enc(X)
    assert not torch.equal(y1, y2)


def test_validation_does_not_mutate_input():
    x = torch.tensor([[200.0, 10.0]])
    encoders.build("wrap_ffn", hidden_dim=8).position_encoding(x)
    assert x.tolist() == [[200.0, 10.0]]


def test_check_lonlat_accepts_arrays_and_rejects_bool():
    import numpy as np

    out = encoders.check_lonlat(np.array([[350.0, 0.0]]))
    assert out.tolist() == [[-10.0, 0.0]]
    with pytest.raises(TypeError, match="real"):
        encoders.check_lonlat(torch.zeros(2, 2, dtype=torch.bool))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
@pytest.mark.parametrize("name", NAMES)
def test_cuda_agrees_with_cpu(name):
    enc = make(name).eval()
    pe_cpu, out_cpu = enc.position_encoding(X), enc(X)
    gpu = enc.to("cuda")
    xg = X.to("cuda")
    pe_gpu = gpu.position_encoding(xg)
    assert pe_gpu.device.type == "cuda"
    torch.testing.assert_close(pe_gpu.cpu(), pe_cpu, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(gpu(xg).cpu(), out_cpu, atol=1e-4, rtol=1e-4)


def test_siren_head_option():
    enc = make("Siren(SH)", net="siren", num_hidden_layer=2)
    assert isinstance(enc.net, encoders.SirenNet)
    x = X.clone().requires_grad_(True)
    out = enc(x)
    assert out.shape == (5, 8)
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and float(x.grad.abs().sum()) > 0
    assert enc.hparams["net"] == "siren"


def test_ffn_structure_matches_spec():
    # h = 2: block(in->H, LN, skip), block(H->H, LN, skip), block(H->out, act+dropout only)
    enc = encoders.build("xyz", num_hidden_layer=2, hidden_dim=16, spa_embed_dim=8)
    blocks = list(enc.net.layers)
    assert [b.linear.in_features for b in blocks] == [3, 16, 16]
    assert [b.linear.out_features for b in blocks] == [16, 16, 8]
    assert [b.norm is not None for b in blocks] == [True, True, False]
    assert [b.skip for b in blocks] == [False, True, False]
    assert all(b.dropout.p == 0.5 for b in blocks)
    assert isinstance(blocks[-1].act, torch.nn.LeakyReLU) and blocks[-1].act.negative_slope == 0.2
    # h = 0: a single block in -> out
    single = encoders.build("xyz", num_hidden_layer=0, spa_embed_dim=8).net.layers
    assert len(single) == 1 and single[0].norm is None
    # wrap: FCNet with 4 residual blocks, width = embedding
    fc = encoders.build("wrap", num_filts=32).net
    assert len(fc.blocks) == 4 and fc.inp.in_features == 4 and fc.inp.out_features == 32
