"""How quantity left unfilled at a schedule's end is priced: taken at once across every venue's book,
cheapest all-in unit first (price plus taker fee for a buy, price minus taker fee for a sell). Beyond
every visible level it is charged the worst visible price plus the highest taker fee.

One rule for the evaluation (`sim/evaluate.py`, `sim/oracle.py`) and the backtest (`runner.py`): a
scenario that leaves quantity undone is charged what finishing it would have cost, so a baseline that
filled 65% is not cheaper than one that filled everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BUY = 1
SELL = -1
_EPS = 1e-12

# venue -> (prices, sizes, taker fee) of the side a `side` order takes (asks for a buy), best first or not.
Books = Mapping[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]]


def merged_walk(books: Books, side: int, qty: float) -> tuple[list[tuple[str, float, float]], float]:
    """Takes `qty` across `books`, cheapest all-in unit first. Returns ([(venue, price, size)], unfilled)."""
    offers: list[tuple[float, str, float, float]] = []  # (all-in unit cost, venue, price, available)
    for name, (prices, sizes, fee) in books.items():
        for p, s in zip(prices, sizes):
            if s > _EPS and np.isfinite(p):
                cost = p * (1 + fee) if side == BUY else -p * (1 - fee)
                offers.append((cost, name, float(p), float(s)))
    offers.sort()
    takes: list[tuple[str, float, float]] = []
    left = qty
    for _, name, price, available in offers:
        if left <= _EPS:
            break
        take = min(available, left)
        takes.append((name, price, take))
        left -= take
    return takes, max(0.0, left)


def worst_visible_price(books: Books, side: int) -> float:
    """The worst price any venue shows on the side a `side` order takes (NaN when no book shows one)."""
    worst = [float(np.nanmax(p) if side == BUY else np.nanmin(p)) for p, s, _ in books.values() if np.isfinite(p).any()]
    if not worst:
        return float("nan")
    return max(worst) if side == BUY else min(worst)


@dataclass(frozen=True)
class Cleanup:
    """The clean-up of `qty`: what it costs in quote currency (`notional` at the prices taken, `fees` on
    top), and `beyond` (the part no visible level covered, priced at the worst visible price)."""

    qty: float
    notional: float
    fees: float
    beyond: float

    @property
    def avg_price(self) -> float:
        return self.notional / self.qty if self.qty > 0 else float("nan")


def price_cleanup(books: Books, side: int, qty: float) -> Cleanup:
    """`qty` taken at once across `books` (see the module docstring); NaN costs when no book shows a price."""
    if qty <= _EPS:
        return Cleanup(0.0, 0.0, 0.0, 0.0)
    takes, beyond = merged_walk(books, side, qty)
    notional = sum(p * q for _, p, q in takes)
    fees = sum(p * q * books[v][2] for v, p, q in takes)
    if beyond > _EPS:
        px = worst_visible_price(books, side)
        fee = max((f for _, _, f in books.values()), default=float("nan"))
        notional += beyond * px
        fees += beyond * px * fee
    return Cleanup(qty, notional, fees, beyond)


__all__ = ["BUY", "SELL", "Books", "Cleanup", "merged_walk", "price_cleanup", "worst_visible_price"]
