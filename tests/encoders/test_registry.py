"""The registry: names, aliases, unknown names and hyper-parameter handling."""

from __future__ import annotations

import json

import pytest
import torch

import encoders

EXPECTED = {
    "tile_ffn",
    "wrap",
    "wrap_ffn",
    "rbf",
    "rff",
    "Space2Vec-grid",
    "Space2Vec-theory",
    "xyz",
    "NeRF",
    "Sphere2Vec-sphereC",
    "Sphere2Vec-sphereC+",
    "Sphere2Vec-sphereM",
    "Sphere2Vec-sphereM+",
    "Sphere2Vec-dfs",
    "Siren(SH)",
}


def test_list_is_exactly_the_15_names():
    assert set(encoders.list()) == EXPECTED
    assert len(encoders.list()) == 15
    assert encoders.list() == encoders.list_encoders()
    assert set(encoders.REGISTRY) == EXPECTED


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("sphere2vec-spherec-plus", "Sphere2Vec-sphereC+"),
        ("spherec+", "Sphere2Vec-sphereC+"),
        ("SPHERE2VEC_SPHEREC", "Sphere2Vec-sphereC"),
        ("sphereM+", "Sphere2Vec-sphereM+"),
        ("spherem", "Sphere2Vec-sphereM"),
        ("dfs", "Sphere2Vec-dfs"),
        ("siren-sh", "Siren(SH)"),
        ("spherical_harmonics", "Siren(SH)"),
        ("space2vec-grid", "Space2Vec-grid"),
        ("theory", "Space2Vec-theory"),
        ("nerf", "NeRF"),
        ("XYZ", "xyz"),
        ("tile", "tile_ffn"),
        ("wrap-ffn", "wrap_ffn"),
        ("WRAP", "wrap"),
    ],
)
def test_aliases(alias, canonical):
    assert encoders.canonical_name(alias) == canonical


def test_sphere_c_and_c_plus_are_distinct():
    assert encoders.canonical_name("spherec") != encoders.canonical_name("spherec+")


def test_build_by_alias_sets_canonical_name():
    assert encoders.build("sphere2vec-spherec-plus", hidden_dim=8).name == "Sphere2Vec-sphereC+"


def test_unknown_name_lists_names():
    with pytest.raises(ValueError, match="unknown encoder 'foo'") as err:
        encoders.build("foo")
    for name in EXPECTED:
        assert name in str(err.value)


def test_unknown_hparam_is_rejected():
    with pytest.raises(TypeError, match="frequncy_num"):
        encoders.build("xyz", frequncy_num=3)


def test_irrelevant_known_hparam_is_ignored_and_not_recorded():
    enc = encoders.build("xyz", frequency_num=3, hidden_dim=8)
    assert "frequency_num" not in enc.hparams
    assert enc.pe_dim == 3


def test_embed_dim_synonyms():
    for key in ("spa_embed_dim", "embed_dim", "num_filts"):
        enc = encoders.build("wrap", **{key: 16})
        assert enc.embed_dim == 16
        assert enc(torch.zeros(2, 2)).shape == (2, 16)
    with pytest.raises(ValueError, match="conflicting"):
        encoders.build("wrap", embed_dim=8, num_filts=16)


def test_defaults_recorded_and_json():
    enc = encoders.build("Sphere2Vec-sphereC")
    hp = enc.hparams
    assert hp["frequency_num"] == 32 and hp["min_radius"] == 1e-3 and hp["max_radius"] == 1.0
    assert hp["num_hidden_layer"] == 1 and hp["hidden_dim"] == 512
    assert hp["spa_f_act"] == "leakyrelu" and hp["dropout"] == 0.5
    assert hp["use_layn"] is True and hp["skip_connection"] is True
    assert hp["spa_embed_dim"] == 256 and enc.embed_dim == 256
    assert enc.pe_dim == 96
    json.dumps(hp)
    # wrap's FCNet takes no FFN hyper-parameters
    assert "hidden_dim" not in encoders.build("wrap").hparams


def test_rbf_hparams_do_not_hold_anchors():
    anchors = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    enc = encoders.build("rbf", rbf_anchors=anchors, hidden_dim=8)
    assert enc.hparams["num_rbf_anchor_pts"] == 3
    assert "rbf_anchors" not in enc.hparams
    json.dumps(enc.hparams)


def test_bad_values_raise_value_error():
    with pytest.raises(ValueError, match="spa_f_act"):
        encoders.build("xyz", spa_f_act="swish")
    with pytest.raises(ValueError, match="scales"):
        encoders.build("Sphere2Vec-sphereM+", scales="log")
    with pytest.raises(ValueError, match="min_radius"):
        encoders.build("Space2Vec-grid", min_radius=500.0)
    with pytest.raises(ValueError, match="sh_basis"):
        encoders.build("Siren(SH)", sh_basis="complex")
    with pytest.raises(ValueError, match="net"):
        encoders.build("xyz", net="transformer")


def test_register_rejects_clashing_alias():
    spec = encoders.EncoderSpec("xyz2", lambda hp, d: None, aliases=("xyz",))
    with pytest.raises(ValueError, match="clash"):
        encoders.register(spec)
    assert "xyz2" not in encoders.list()
