"""The ex-ante best venue: the one a desk that sends everything to one venue would pick before a parent
starts, from data it has then. One rule for the evaluation (`sim/market.py`) and the backtest baselines.

The venue with the lowest average (half spread + taker fee), in bps, over the `lookback_s` before the
start, sampled every 100 ms from each venue's published top of book (no data from the start on). A venue
without a two-sided quote in the lookback is not a candidate; when no venue has one (a bar market, or a
parent at the very start of the data), the lowest taker fee decides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

NS = 1_000_000_000
LOOKBACK_S = 60.0
SAMPLE_NS = NS // 10

# venue -> (ts int64 ns sorted, best bid, best ask) of its published top of book
Quotes = Mapping[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]]


def exante_best_venue(quotes: Quotes, taker_fees: Mapping[str, float], ts: int, lookback_s: float = LOOKBACK_S) -> tuple[str, str]:
    """(venue, why) for a parent starting at `ts`; the venues are `taker_fees`' keys, in their order (the
    first wins a tie)."""
    grid = np.arange(ts - int(lookback_s * NS), ts, SAMPLE_NS, dtype=np.int64)
    best, best_cost = None, math.inf
    for name, fee in taker_fees.items():
        if name not in quotes or not len(grid):
            continue
        q_ts, bid, ask = quotes[name]
        rows = np.searchsorted(q_ts, grid, side="right") - 1
        rows = rows[rows >= 0]
        if not len(rows):
            continue
        b, a = bid[rows], ask[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            half = np.where((b > 0) & (a > 0), (a - b) / (a + b) * 1e4, np.nan)
        if not np.isfinite(half).any():  # no two-sided quote in the lookback
            continue
        cost = float(np.nanmean(half)) + fee * 1e4
        if cost < best_cost:
            best, best_cost = name, cost
    if best is not None:
        return best, f"half spread + taker fee {best_cost:.2f} bps over the {lookback_s:g} s before"
    cheapest = min(taker_fees, key=lambda n: taker_fees[n])
    return cheapest, f"no two-sided quote in the {lookback_s:g} s before: lowest taker fee ({taker_fees[cheapest] * 1e4:.2f} bps)"


__all__ = ["LOOKBACK_S", "Quotes", "exante_best_venue"]
