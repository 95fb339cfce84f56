"""The benchmark harness refuses too few rounds before a run starts, not after it (a min / median of
fewer than `MIN_ROUNDS` rounds says little on a shared machine)."""

from __future__ import annotations

import argparse
import sys

import pytest

from shared_data import ROOT

sys.path.insert(0, str(ROOT / "benches"))
import harness  # noqa: E402


@pytest.mark.parametrize("text", ["0", "1", str(harness.MIN_ROUNDS - 1), "-3"])
def test_too_few_rounds_are_refused_as_an_argument_error(text):
    with pytest.raises(argparse.ArgumentTypeError, match=f"invalid rounds: {int(text)}"):
        harness.rounds_arg(text)


def test_enough_rounds_pass_and_min_median_summarises_them():
    assert harness.rounds_arg(str(harness.MIN_ROUNDS)) == harness.MIN_ROUNDS
    assert harness.min_median([3.0, 1.0, 2.0]) == {"min": 1.0, "median": 2.0, "rounds": 3}
    with pytest.raises(ValueError, match="invalid rounds: 2"):
        harness.min_median([1.0, 2.0])
