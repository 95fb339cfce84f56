"""The hindsight oracle: the cheapest taker execution of a schedule on the recorded books.

Each slice is filled at its scheduled time on all venues' books merged (no latency: the book it sees is
the book it gets), cheapest all-in unit first (price plus taker fee for a buy, price minus taker fee for a
sell), with consumed liquidity respected across slices. Per slice this greedy walk is optimal (each venue's
marginal cost only rises); it is the lower bound the router is measured against for the same schedule.
The same merged walk (`backtest/cleanup.py`) prices the clean-up of any quantity a scenario left unfilled
at its horizon, in the evaluation and the backtest.
"""

from __future__ import annotations

from nautilus_sor.backtest.cleanup import Books, merged_walk
from nautilus_sor.backtest.sim.exchange import Fill, VenueExchange


def merged_take(exchanges: dict[str, VenueExchange], side: int, qty: float, ts: int) -> tuple[list[Fill], float]:
    """Takes `qty` at `ts` across all venues' books, cheapest all-in first (`cleanup.merged_walk`), and
    records the takes in each exchange. Returns (fills, unfilled)."""
    takes, left = merged_walk(_books(exchanges, side, ts), side, qty)
    return [exchanges[name].consume_at(side, price, size, ts) for name, price, size in takes], left


def _books(exchanges: dict[str, VenueExchange], side: int, ts: int) -> Books:
    return {name: (*ex.offered(side, ts), ex.venue.taker_fee) for name, ex in exchanges.items()}


def oracle_fills(exchanges: dict[str, VenueExchange], side: int, slices: list[tuple[int, float]]) -> tuple[list[Fill], float]:
    """Fills every (ts, qty) slice with `merged_take`; a slice's shortfall carries to the next one."""
    fills: list[Fill] = []
    carry = 0.0
    for ts, qty in slices:
        got, carry = merged_take(exchanges, side, qty + carry, ts)
        fills.extend(got)
    return fills, carry


__all__ = ["merged_take", "oracle_fills"]
