"""Fixtures shared by the encoders tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """Commands run in-process with ``--threads N`` set torch's thread count for the whole
    process; put it back so that later tests (e.g. local against Dask runs) see the same
    settings as in a fresh process."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.fixture
def geo_stub(monkeypatch):
    """A stand-in of the geo-bias loss with the agreed interface (tests/encoders/geo_stub.py)."""
    from tests.encoders.geo_stub import install

    return install(monkeypatch)
