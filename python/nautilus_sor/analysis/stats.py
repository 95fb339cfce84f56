"""The one confidence interval of the package: the mean of a few repeated or paired measurements with a
two-sided 95% Student-t interval (the backtest's headline, the evaluation's tables, the sweep's ranking),
and the paired difference those comparisons are made of.

The t quantile is computed, not tabulated: the Student-t CDF through the regularized incomplete beta
function (Lentz's continued fraction, as in Numerical Recipes 6.4), inverted by bisection to double
precision, for any number of degrees of freedom (scipy is not a dependency of the package).
"""

from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass
from typing import Any

import numpy as np

from nautilus_sor.exceptions import ValidationError

CONFIDENCE = 0.95


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz), converged to 1e-15."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` > 0 degrees of freedom."""
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))  # P(T > |t|)
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The `p` quantile of Student's t with `df` degrees of freedom (0 < p < 1, df > 0): the t with
    t_cdf(t, df) = p, by bisection to the last bit. NaN for df < 1 or NaN input, as the callers want a
    missing interval, not an error, below two samples."""
    if not 0.0 < p < 1.0:
        raise ValidationError(f"invalid p: {p!r} (a probability strictly between 0 and 1)", field="p", value=p)
    if not df >= 1:
        return math.nan
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


@lru_cache(maxsize=1024)
def t975(df: int) -> float:
    """Student's t 0.975 quantile (the half-width factor of a two-sided 95% interval); NaN below df 1."""
    return t_quantile(0.5 + CONFIDENCE / 2.0, df)


def mean_ci95(values: Any) -> tuple[int, float, float, float, float]:
    """(n, mean, sd, low, high) over the finite values: a two-sided 95% Student-t interval of the mean,
    half-width t(0.975, n-1) * sd / sqrt(n); sd and the interval are NaN below two values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n == 1:
        return 1, mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return n, mean, sd, mean - half, mean + half


def mean_half_width(values: Any) -> tuple[float, float, int]:
    """(mean, 95% half-width, n) of the finite values (`mean_ci95`)."""
    n, mean, _, low, high = mean_ci95(values)
    return mean, (high - low) / 2 if n >= 2 else math.nan, n


@dataclass(frozen=True)
class PairedDifference:
    """`a - b` over the pairs where both are finite: mean, 95% t interval, and how many pairs had a > b."""

    n: int
    mean: float
    sd: float
    low: float
    high: float
    positive: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0 if self.n >= 2 else math.nan


def paired_difference(a: Any, b: Any) -> PairedDifference:
    """`a - b` pair by pair (equal lengths: pair i is the same market, seed or start time), a pair with a
    NaN on either side left out; its mean with a 95% Student-t interval. Pairing cancels the noise both
    share, so the interval is much tighter than comparing two separate intervals."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValidationError(f"invalid pairs: {x.shape} against {y.shape} (a paired difference needs equal lengths)",
                              field="pairs", value=f"{x.shape} vs {y.shape}")
    diff = x - y
    diff = diff[np.isfinite(diff)]
    n, mean, sd, low, high = mean_ci95(diff)
    return PairedDifference(n, mean, sd, low, high, int((diff > 0).sum()))


__all__ = ["CONFIDENCE", "PairedDifference", "mean_ci95", "mean_half_width", "paired_difference", "t975", "t_cdf",
           "t_quantile"]
