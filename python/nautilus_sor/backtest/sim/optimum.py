"""The snapshot optimum, and a true lower bound, for one parent.

Snapshot optimum: each slice of the schedule filled at its scheduled time on all venues' books merged (no
latency: the book it sees is the book it gets), cheapest all-in unit first (price plus taker fee for a
buy, price minus taker fee for a sell; each venue's basis at the slice time removed), with consumed
liquidity respected across slices. Per slice this greedy walk is the exact optimum on the books of that
instant (each venue's marginal cost only rises). It is NOT a lower bound for the parent: an execution that
waits meets other books (a single venue beats it when the books refill or move its way), and a resting
order can fill below the spread.

Lower bound (`lower_bound_bps`): no execution this simulator can make of the parent costs less. See its
docstring for what it bounds and why. The merged walk (`backtest/cleanup.py`) also prices the clean-up of
any quantity a scenario left unfilled at its horizon (`cleanup_fills`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nautilus_sor.backtest.cleanup import merged_walk
from nautilus_sor.backtest.sim.exchange import BUY, Fill, VenueExchange

if TYPE_CHECKING:
    from nautilus_sor.backtest.data.recorded import BookSeries
    from nautilus_sor.backtest.sim.market import SimMarket


def merged_take(sim: SimMarket, exchanges: dict[str, VenueExchange], side: int, qty: float, ts: int) -> tuple[list[Fill], float]:
    """Takes `qty` at `ts` across all venues' books, cheapest all-in first (`cleanup.merged_walk`) with the
    basis at `ts` removed (`SimMarket.aligned_books`), and records the takes in each exchange at the venue's
    own prices. Returns (fills, unfilled)."""
    takes, left = merged_walk(sim.aligned_books(exchanges, side, ts), side, qty)
    return [exchanges[name].consume_at(side, price + sim.basis(name, ts), size, ts) for name, price, size in takes], left


def snapshot_optimum_fills(sim: SimMarket, exchanges: dict[str, VenueExchange], side: int,
                           slices: list[tuple[int, float]]) -> tuple[list[Fill], float]:
    """Fills every (ts, qty) slice with `merged_take`; a slice's shortfall carries to the next one."""
    fills: list[Fill] = []
    carry = 0.0
    for ts, qty in slices:
        got, carry = merged_take(sim, exchanges, side, qty + carry, ts)
        fills.extend(got)
    return fills, carry


def cleanup_fills(sim: SimMarket, exchanges: dict[str, VenueExchange], side: int, qty: float, ts: int) -> list[Fill]:
    """`qty` taken at once at `ts` across the merged books (as `merged_take`, decided at `ts`, without
    recording the takes). Beyond every visible level it is charged the worst visible price (on the venue
    that shows it) at the highest taker fee. No venue showing a price at `ts`: at the first book update that
    shows one; none left: one NaN-priced fill."""
    books = sim.aligned_books(exchanges, side, ts)
    later = int(np.searchsorted(sim.update_ts, ts, side="right"))
    while not any(len(px) for px, _, _ in books.values()) and later < len(sim.update_ts):
        # No venue shows a price now (a minute without quote bars): the first book update that shows one.
        ts = int(sim.update_ts[later])
        later += 1
        books = sim.aligned_books(exchanges, side, ts)
    takes, beyond = merged_walk(books, side, qty)
    fills = [Fill(ts, name, price + sim.basis(name, ts), size, (price + sim.basis(name, ts)) * size * books[name][2], "TAKER", ts)
             for name, price, size in takes]
    if beyond > 1e-12:
        worst = [(float(np.max(px) if side == BUY else np.min(px)), name) for name, (px, _, _) in books.items() if len(px)]
        fee = max(b[2] for b in books.values())
        if worst:
            price, name = max(worst) if side == BUY else min(worst)
            raw = price + sim.basis(name, ts)
            fills.append(Fill(ts, name, raw, beyond, raw * beyond * fee, "TAKER", ts))
        else:
            fills.append(Fill(ts, "CLEANUP", float("nan"), beyond, float("nan"), "TAKER", ts))
    return fills


def lower_bound_bps(sim: SimMarket, side: int, start_ns: int, end_ns: int, arrival_mid: float, convention: str = "decision") -> float:
    """A cost, in bps versus `arrival_mid`, below which no execution of a `side` parent by this simulator
    within [start_ns, end_ns] (its decisions and fills, clean-up included) can fall, under `convention`.

    Proof. Every unit this simulator fills is one of: (1) a taker fill at a level displayed on its venue's
    book at the fill's time (IOC walks, the crossing part of a limit order, the snapshot optimum, the
    clean-up's merged walk), never better than that venue's best opposite price then; (2) the clean-up
    beyond all visible depth, at the worst visible price of some venue then, never better than that
    venue's best opposite price, at the highest taker fee; (3) a maker fill at our resting price, which is
    our own side's best price on that venue at the order's decision time. Consumed liquidity only removes
    levels. A unit's all-in cost (buy) is price x (1 + fee) - basis(venue, t_decision) with the venue's
    maker or taker fee, so it is at least, for its venue v, min over the window of min(best ask x (1 +
    taker fee), best bid x (1 + maker fee)) minus the largest basis of v over the window (its basis at the
    arrival under "arrival"); the parent's cost is a quantity-weighted mean of its units' costs, so it is
    at least the smallest of these over the venues. Sells mirror it. Lots, minimums, queue position and
    consumption are ignored, so the bound is loose (touch prices only); `tests/test_evaluate.py` checks
    every scenario against it."""
    best = None
    for v in sim.venues:
        book: BookSeries = v.book  # type: ignore[assignment]  # SimMarket keeps only venues with a book
        lo = max(0, book.index_at(start_ns))
        hi = book.index_at(end_ns)
        if hi < 0:
            continue
        bid, ask = book.bid_px[lo:hi + 1, 0], book.ask_px[lo:hi + 1, 0]
        if side == BUY:
            unit = np.fmin(ask * (1 + v.taker_fee), bid * (1 + v.maker_fee))
            value = np.nanmin(unit) if np.isfinite(unit).any() else np.nan
        else:
            unit = np.fmax(bid * (1 - v.taker_fee), ask * (1 - v.maker_fee))
            value = np.nanmax(unit) if np.isfinite(unit).any() else np.nan
        if not np.isfinite(value):
            continue
        if convention == "decision":
            ref = sim.basis.reference
            times = [np.array([start_ns, end_ns]), book.ts[lo:hi + 1]]
            if ref is not None:
                rb: BookSeries = next(x.book for x in sim.venues if x.name == ref)  # type: ignore[assignment]  # as above
                times.append(rb.ts[max(0, rb.index_at(start_ns)):rb.index_at(end_ns) + 1])
            b = sim.basis.many(v.name, np.concatenate(times))
            value -= float(b.max() if side == BUY else b.min())
        else:
            value -= sim.basis(v.name, start_ns)
        best = value if best is None else (min(best, value) if side == BUY else max(best, value))
    if best is None:
        return float("nan")
    return float(side * (best - arrival_mid) / arrival_mid * 1e4)


__all__ = ["cleanup_fills", "lower_bound_bps", "merged_take", "snapshot_optimum_fills"]
