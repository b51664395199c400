"""Exact values of the regression soft performance (encoders.losses.soft_performance)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from encoders.losses import soft_performance


@pytest.mark.parametrize("temperature", [1.0, 0.25])
def test_regression_soft_performance_exact_values(temperature):
    pred = torch.tensor([0.0, 0.1, 0.5, -2.0, 1.0], dtype=torch.float64)
    target = torch.zeros(5, dtype=torch.float64)
    # |errors| 0, 0.1, 0.5, 2, 1; median t = 0.5; v = tanh((t - e) / (2 T t))
    errors = np.array([0.0, 0.1, 0.5, 2.0, 1.0])
    want = np.tanh((0.5 - errors) / (2.0 * temperature * 0.5))
    got = soft_performance(pred, target, task="regression", temperature=temperature)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-15)
    assert float(got[0]) == pytest.approx(np.tanh(0.5 / temperature), rel=1e-12)
