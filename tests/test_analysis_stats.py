"""The one interval of the package (`nautilus_sor.analysis.stats`) against independent references: the
closed forms of Student's t for 1 and 2 degrees of freedom, the published table, the normal limit, and a
brute-force check of the paired difference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nautilus_sor.analysis.stats import mean_ci95, mean_half_width, paired_difference, t975, t_cdf, t_quantile
from nautilus_sor.exceptions import ValidationError


@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.995, 0.9999])
def test_closed_forms_for_one_and_two_degrees_of_freedom(p):
    # df 1 is the Cauchy distribution: tan(pi (p - 1/2)); df 2: (2p - 1) / sqrt(2 p (1 - p)).
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-12)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)


@pytest.mark.parametrize("df, table", [(1, 12.706), (2, 4.303), (5, 2.571), (10, 2.228), (20, 2.086), (30, 2.042),
                                       (60, 2.000), (120, 1.980)])
def test_the_published_table(df, table):
    assert round(t975(df), 3) == table


def test_large_samples_tend_to_the_normal_quantile():
    assert t975(10**7) == pytest.approx(1.959963984540054, abs=1e-6)
    assert t975(30) > t975(31) > t975(1000) > 1.96  # decreasing towards it


def test_cdf_and_quantile_are_inverse_and_symmetric():
    for df in (1, 3, 7.5, 40):
        for t in (-3.0, -0.4, 0.0, 1.1, 6.0):
            assert t_quantile(t_cdf(t, df), df) == pytest.approx(t, abs=1e-9)
    assert t_quantile(0.025, 9) == -t975(9)


def test_bad_arguments():
    with pytest.raises(ValidationError) as err:
        t_quantile(1.0, 5)
    assert err.value.field == "p"
    assert math.isnan(t975(0))
    with pytest.raises(ValidationError):
        paired_difference([1.0, 2.0], [1.0])


def test_mean_ci95_by_hand():
    # 1, 2, 3, 4: mean 2.5, sd sqrt(5/3), half-width t(0.975, 3) sd / 2 with t = 3.182446305284263.
    n, mean, sd, low, high = mean_ci95([1.0, 2.0, float("nan"), 3.0, 4.0])
    half = 3.182446305284263 * math.sqrt(5 / 3) / 2
    assert (n, mean) == (4, 2.5) and sd == pytest.approx(math.sqrt(5 / 3))
    assert (low, high) == (pytest.approx(2.5 - half, rel=1e-12), pytest.approx(2.5 + half, rel=1e-12))
    assert mean_half_width([7.0])[1] != mean_half_width([7.0])[1]  # one value: no interval (NaN)


def test_paired_difference_drops_incomplete_pairs_and_counts_wins():
    a = np.array([5.0, 3.0, float("nan"), 4.0, 1.0])
    b = np.array([4.0, 3.5, 2.0, 1.0, float("nan")])
    paired = paired_difference(a, b)
    diffs = [1.0, -0.5, 3.0]  # the pairs with both sides
    assert paired.n == 3 and paired.positive == 2
    assert paired.mean == pytest.approx(sum(diffs) / 3)
    sd = math.sqrt(sum((d - paired.mean) ** 2 for d in diffs) / 2)
    assert paired.half_width == pytest.approx(4.302652729749464 * sd / math.sqrt(3), rel=1e-12)
    # Pairing: a shared noise term cancels, so the interval is far tighter than the unpaired ones.
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 10, 20)
    x, y = noise + 1.0 + rng.normal(0, 0.1, 20), noise
    assert paired_difference(x, y).half_width < 0.1 * mean_half_width(x)[1]
