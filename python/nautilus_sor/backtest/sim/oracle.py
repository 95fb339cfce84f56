"""The hindsight oracle: the cheapest taker execution of a schedule on the recorded books.

Each slice is filled at its scheduled time on all venues' books merged (no latency: the book it sees is
the book it gets), cheapest all-in unit first (price plus taker fee for a buy, price minus taker fee for a
sell), with consumed liquidity respected across slices. Per slice this greedy walk is optimal (each venue's
marginal cost only rises); it is the lower bound the router is measured against for the same schedule.
The same merged walk also prices the clean-up of any quantity a scenario left unfilled at its horizon.
"""

from __future__ import annotations

from nautilus_sor.backtest.sim.exchange import BUY, Fill, VenueExchange


def merged_take(exchanges: dict[str, VenueExchange], side: int, qty: float, ts: int) -> tuple[list[Fill], float]:
    """Takes `qty` at `ts` across all venues' books, cheapest all-in first. Returns (fills, unfilled)."""
    offers: list[tuple[float, str, float, float]] = []  # (all-in unit cost, venue, price, available)
    for name, ex in exchanges.items():
        prices, sizes = ex.offered(side, ts)
        fee = ex.venue.taker_fee
        for p, s in zip(prices, sizes):
            if s > 1e-12:
                cost = p * (1 + fee) if side == BUY else -p * (1 - fee)
                offers.append((cost, name, float(p), float(s)))
    offers.sort()
    fills: list[Fill] = []
    left = qty
    for _, name, price, available in offers:
        if left <= 1e-12:
            break
        take = min(available, left)
        fills.append(exchanges[name].consume_at(side, price, take, ts))
        left -= take
    return fills, max(0.0, left)


def oracle_fills(exchanges: dict[str, VenueExchange], side: int, slices: list[tuple[int, float]]) -> tuple[list[Fill], float]:
    """Fills every (ts, qty) slice with `merged_take`; a slice's shortfall carries to the next one."""
    fills: list[Fill] = []
    carry = 0.0
    for ts, qty in slices:
        got, carry = merged_take(exchanges, side, qty + carry, ts)
        fills.extend(got)
    return fills, carry


def worst_visible_price(exchanges: dict[str, VenueExchange], side: int, ts: int) -> float:
    """The worst price any venue shows on the side a `side` order takes (prices what no book covers)."""
    worst = []
    for ex in exchanges.values():
        prices, _ = ex.offered(side, ts)
        if len(prices):
            worst.append(prices.max() if side == BUY else prices.min())
    return float(max(worst) if side == BUY else min(worst)) if worst else float("nan")


__all__ = ["merged_take", "oracle_fills", "worst_visible_price"]
