"""Re-weighting, group DRO and the sparse-region data with its ceiling (docs/debiasing.md)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from encoders.ceiling import ceiling_table
from encoders.data import load_dataset
from encoders.data.synthetic_vmf import location_posterior, region_of
from encoders.debias import GroupDRO, equal_area_cells, inverse_density_weights
from encoders.losses import full_loss
from pygbs.errors import InputError


def test_inverse_density_weights_by_hand() -> None:
    # cells: a holds 3 samples, b 1: K = 2, n = 4 -> w = 4 / (2 * 3) and 4 / (2 * 1)
    w = inverse_density_weights(np.array([7, 7, 7, 2]))
    np.testing.assert_allclose(w, [2 / 3, 2 / 3, 2 / 3, 2.0])
    assert w.sum() == pytest.approx(4.0)  # mean 1
    # each cell carries the same total weight
    assert w[:3].sum() == pytest.approx(w[3:].sum())


def test_equal_area_cells_group_near_points() -> None:
    lonlat = np.array([[0.0, 0.0], [0.1, 0.1], [90.0, 0.0], [-120.0, 45.0]])
    cells = equal_area_cells(lonlat, 1000.0)
    assert cells[0] == cells[1]
    assert len(np.unique(cells)) == 3
    assert cells.min() == 0 and cells.max() == 2


def test_group_dro_update_by_hand() -> None:
    dro = GroupDRO(3, step=0.5)
    losses = torch.tensor([1.0, 3.0, 2.0, 2.0], dtype=torch.float64)
    groups = torch.tensor([0, 0, 1, 1])  # group 0: mean 2, group 1: mean 2, group 2 absent
    out = dro(losses, groups)
    q = np.array([1 / 3 * np.exp(1.0), 1 / 3 * np.exp(1.0), 1 / 3])
    q /= q.sum()
    np.testing.assert_allclose(dro.q.numpy(), q)
    assert dro.q.sum().item() == pytest.approx(1.0)
    # the robust loss weighs the present groups' means by their (normalised) weights
    assert out.item() == pytest.approx(2.0)


def test_group_dro_moves_to_the_worst_group() -> None:
    dro = GroupDRO(2, step=0.1)
    groups = torch.tensor([0, 0, 1, 1])
    losses = torch.tensor([1.0, 1.0, 3.0, 3.0], dtype=torch.float64)
    previous = 0.5
    for _ in range(20):
        out = dro(losses, groups)
        assert dro.q[1].item() > previous  # each step moves weight to the worse group
        previous = dro.q[1].item()
    assert dro.q[1].item() > 0.95
    # the robust loss approaches the worst group's loss
    assert 2.9 < out.item() <= 3.0


def test_group_dro_gradient_weights_the_groups() -> None:
    dro = GroupDRO(2, step=1.0)
    dro.q = torch.tensor([0.25, 0.75], dtype=torch.float64)
    losses = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    dro(losses, torch.tensor([0, 1])).backward()
    # equal losses leave the weights as they were; the gradient of each loss is its weight
    np.testing.assert_allclose(losses.grad.numpy(), [0.25, 0.75])


def test_per_sample_full_loss_means_to_full_loss() -> None:
    g = torch.Generator().manual_seed(0)
    pos, rand = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    each = full_loss(pos, y, rand, rand_weight=0.7, reduction="none")
    assert each.shape == (6,)
    assert each.mean().item() == pytest.approx(full_loss(pos, y, rand, rand_weight=0.7).item())


def test_sparse_data_thins_the_caps_in_training_only() -> None:
    ds = load_dataset("synthetic-vmf-sparse", n_train=3000, n_val=300, n_test=3000, seed=3)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (3000, 300, 3000)
    inside_train = (region_of(ds.train.lonlat) >= 0).mean()
    inside_test = (region_of(ds.test.lonlat) >= 0).mean()
    # kept with probability 1/15: about 15 times fewer (sampling noise allowed)
    assert 8 < inside_test / inside_train < 30
    again = load_dataset("synthetic-vmf-sparse", n_train=3000, n_val=300, n_test=3000, seed=3)
    np.testing.assert_array_equal(ds.train.lonlat, again.train.lonlat)
    with pytest.raises(InputError, match="train_region_rate"):
        load_dataset("synthetic-vmf-sparse", n_train=10, n_val=5, n_test=5, train_region_rate=0)


def test_location_posterior_matches_the_labels() -> None:
    """The posterior is calibrated: its mean probability of the true class, and its top-1,
    agree with what the labels show (no vagrants, so locations alone decide)."""
    ds = load_dataset("synthetic-vmf-biased", n_train=100, n_val=10, n_test=20_000,
                      vagrant_fraction=0.0, seed=1)  # fmt: skip
    post = location_posterior(ds, ds.test.lonlat)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    top = post.argmax(axis=1)
    conf = post.max(axis=1)
    # calibration: predicted confidence of the top class equals its hit rate
    assert abs(conf.mean() - (top == ds.test.label).mean()) < 0.01


def test_ceiling_of_the_biased_data_has_no_headroom_in_the_caps() -> None:
    ds = load_dataset("synthetic-vmf-biased", n_train=100, n_val=10, n_test=10_000, seed=0)
    t = ceiling_table(ds).set_index("predictor")
    assert t.loc["location_posterior", "top1_inside"] < 0.3
    assert t.loc["location_posterior", "top1_outside"] > t.loc["image_only", "top1_outside"] + 0.2
    sparse = load_dataset("synthetic-vmf-sparse", n_train=100, n_val=10, n_test=10_000, seed=0)
    s = ceiling_table(sparse).set_index("predictor")
    # the sparse data's caps have headroom: the true posterior beats the image there
    assert s.loc["location_posterior", "top1_inside"] > s.loc["image_only", "top1_inside"] + 0.2
