"""The one confidence interval of the project: the mean of a few paired or repeated measurements with a
two-sided 95% Student-t interval (the backtest's headline, the evaluation's tables, the sweep's ranking)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Student's t 97.5% quantile for 1..30 degrees of freedom (two-sided 95% interval).
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788,
         2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639,
         2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t975(df: int) -> float:
    """Student's t 0.975 quantile: tabulated up to 30 degrees of freedom, beyond the Cornish-Fisher
    expansion around the normal quantile (error < 1e-4 there); NaN below 1."""
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959963984540054
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


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


__all__ = ["mean_ci95", "mean_half_width", "t975"]
