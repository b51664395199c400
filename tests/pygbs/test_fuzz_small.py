"""A few cases of the fuzz campaign (tests/fuzz_campaign.py) in the default suite.

Each case runs a command (``pygbs score`` unless named) in a child process; the outcome
must be a complete output that adds up or a clean refusal (exit 2, one line, nothing
written): never silently wrong, a hang, a traceback or an internal error.
"""

from __future__ import annotations

import pytest

from tests.fuzz_campaign import Case, run_case

ACCEPTABLE = ("ok", "input-error", "usage-error")


@pytest.mark.parametrize(
    ("file_fault", "option_fault"),
    [
        ("none", "none"),
        ("binary-garbage", "none"),
        ("text-in-lon", "none"),
        ("all-one-location", "none"),
        ("none", "nn-too-large"),  # a warning, then scores over all samples
        ("none", "seed-huge"),
        ("none", "performance-min-points-2"),
        ("all-one-location", "km-100-marked"),  # order-dependent scores skipped, counted
        ("none", "unknown-option"),
    ],
)
def test_fuzz_cases(tmp_path, file_fault, option_fault):
    outcome = run_case(Case(file_fault, option_fault, seed=0), tmp_path)
    assert outcome.kind in ACCEPTABLE, outcome
    if option_fault == "unknown-option":
        assert outcome.kind == "usage-error", outcome


@pytest.mark.parametrize(
    ("command", "file_fault", "option_fault", "expected"),
    [
        ("compare", "none", "null-accuracy", "ok"),
        ("profile", "none", "scales-exponent", "ok"),
        ("regions", "none", "healpix-0", "input-error"),
        ("map", "binary-garbage", "none", "input-error"),
        ("train", "none", "diverging", "input-error"),  # stops; never reported as perfect
    ],
)
def test_fuzz_cases_of_other_commands(tmp_path, command, file_fault, option_fault, expected):
    outcome = run_case(Case(file_fault, option_fault, seed=0, command=command), tmp_path)
    assert outcome.kind == expected, outcome
