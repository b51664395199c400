"""Shared fixtures: the ../shared data folder (skip when absent), matplotlib backend."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GEOBIAS_SHARED", REPO.parent / "shared"))
PREDICTIONS = SHARED / "data" / "predictions"
REFERENCE = SHARED / "data" / "reference"


@pytest.fixture(scope="session")
def predictions_dir() -> Path:
    """``../shared/data/predictions``; skips the test when the folder is absent."""
    if not PREDICTIONS.is_dir():
        pytest.skip(f"shared prediction files not found at {PREDICTIONS} (set GEOBIAS_SHARED)")
    return PREDICTIONS


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``../shared/data/reference``; skips the test when the folder is absent."""
    if not REFERENCE.is_dir():
        pytest.skip(f"shared reference outputs not found at {REFERENCE} (set GEOBIAS_SHARED)")
    return REFERENCE
